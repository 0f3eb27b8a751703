// Audit trail: receives security events from EventBridge (sign-ins, password changes, API key use),
// logs each one as structured JSON with pino and keeps per-environment counters. pino writes
// synchronously to stdout (fd 1), so every line is out before the invocation ends and Lambda
// freezes the environment; each invocation gets a child logger bound to its ids.
const { createHash } = require('node:crypto');
const pino = require('pino');

const logger = pino(
  {
    level: process.env.LOG_LEVEL ?? 'info',
    base: { service: 'audit', region: process.env.AWS_REGION },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Credentials that clients sometimes put in events never reach the logs.
    redact: { paths: ['detail.password', 'detail.apiKey', 'detail.session.token'], censor: '[redacted]' },
  },
  pino.destination({ dest: 1, sync: true }),
);

const counts = new Map();
const failuresByUser = new Map();
const SUSPICIOUS_FAILURES = 5;

const pseudonym = (userId) => createHash('sha256').update(`audit:${userId}`).digest('hex').slice(0, 16);

exports.handler = async (event, context) => {
  const log = logger.child({
    requestId: context.awsRequestId,
    eventId: event.id,
    type: event['detail-type'],
  });
  const type = event['detail-type'] ?? 'unknown';
  counts.set(type, (counts.get(type) ?? 0) + 1);
  const user = pseudonym(event.detail?.userId ?? 'anonymous');
  const userLog = log.child({ user });

  let alert = false;
  switch (type) {
    case 'SignInFailed': {
      const failures = (failuresByUser.get(user) ?? 0) + 1;
      failuresByUser.set(user, failures);
      alert = failures >= SUSPICIOUS_FAILURES;
      userLog[alert ? 'warn' : 'info']({ failures, ip: event.detail?.sourceIp }, 'sign-in failed');
      break;
    }
    case 'SignInSucceeded':
      failuresByUser.delete(user);
      userLog.info({ ip: event.detail?.sourceIp, mfa: Boolean(event.detail?.mfa) }, 'signed in');
      break;
    case 'PasswordChanged':
      userLog.info({ detail: event.detail }, 'password changed');
      break;
    case 'ApiKeyUsed':
      userLog.debug({ detail: event.detail }, 'api key used');
      break;
    default:
      log.warn({ source: event.source }, 'unrecognised audit event');
  }
  log.info({ seen: counts.get(type) }, 'audit event recorded');
  return { recorded: true, type, alert };
};
