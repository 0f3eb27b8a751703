// Payment authorisation (API Gateway HTTP API) instrumented the way the Powertools for AWS Lambda
// documentation shows: Logger, Metrics (CloudWatch EMF) and Tracer created at module scope, wired
// with Middy middlewares.
//
// Tracing is ON, as in production. Without an X-Ray daemon the tracer still runs: segments are UDP
// datagrams sent to AWS_XRAY_DAEMON_ADDRESS (127.0.0.1:2000 by default) whether or not anything
// listens, and AWS_XRAY_CONTEXT_MISSING=IGNORE_ERROR keeps a missing trace header from throwing.
// We chose that over POWERTOOLS_TRACE_ENABLED=false because a disabled tracer skips exactly what a
// traced function does to its runtime (aws-xray-sdk's http/https patching and fetch instrumentation
// at INIT, per-invocation subsegments) and the integrity baseline must accept all of it.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';

const logger = new Logger({ serviceName: 'payments', logLevel: 'INFO' });
const metrics = new Metrics({ namespace: 'Ephemera/Benign', serviceName: 'payments' });
const tracer = new Tracer({ serviceName: 'payments' });

const SIGNING_KEY = process.env.PAYMENTS_SIGNING_KEY ?? 'benign-dev-key';
const LIMIT_CENTS = 500_00;

function signatureOk(body, signature) {
  if (typeof signature !== 'string') return false;
  const expected = createHmac('sha256', SIGNING_KEY).update(body).digest();
  const given = Buffer.from(signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const respond = (statusCode, body) => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

async function authorise(event) {
  const raw = event.isBase64Encoded
    ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
    : (event.body ?? '');
  if (!signatureOk(raw, event.headers?.['x-signature'])) {
    metrics.addMetric('SignatureRejected', MetricUnit.Count, 1);
    logger.warn('rejected: bad signature');
    return respond(401, { error: 'bad signature' });
  }
  const payment = JSON.parse(raw);
  logger.appendKeys({ merchant: payment.merchant });
  tracer.putAnnotation('merchant', payment.merchant);
  metrics.addDimension('currency', payment.currency ?? 'EUR');
  // A manual subsegment, as the Tracer documentation shows.
  const parent = tracer.getSegment();
  const subsegment = parent?.addNewSubsegment('### riskCheck');
  if (subsegment) tracer.setSegment(subsegment);
  let decision;
  try {
    // A stand-in for the risk model: deterministic and cheap.
    const score = [...String(payment.card ?? '')].reduce((s, c) => (s * 31 + c.charCodeAt(0)) % 997, 7) / 997;
    subsegment?.addMetadata('score', score);
    decision = payment.amountCents > LIMIT_CENTS || score > 0.95 ? 'declined' : 'approved';
  } finally {
    subsegment?.close();
    if (parent) tracer.setSegment(parent);
  }
  metrics.addMetric(decision === 'approved' ? 'PaymentApproved' : 'PaymentDeclined', MetricUnit.Count, 1);
  metrics.addMetric('PaymentAmount', MetricUnit.Count, payment.amountCents);
  logger.info('payment decided', { decision, amountCents: payment.amountCents });
  return respond(200, { decision, reference: event.requestContext?.requestId });
}

export const handler = middy(authorise)
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .use(injectLambdaContext(logger, { resetKeys: true }));
