// Webhook dispatcher: an SQS consumer that validates outgoing notifications with zod and delivers
// them, HMAC-signed, to subscribers' endpoints with axios. The axios instance and its keep-alive
// agents live at module scope, so connections to subscribers are reused across warm invocations.
//
// WEBHOOK_BASE_URL: the subscribers' base URL (the test serves it locally).
const { createHmac } = require('node:crypto');
const http = require('node:http');
const https = require('node:https');
const axios = require('axios');
const { z } = require('zod');

const SECRET = process.env.WEBHOOK_SECRET ?? 'benign-webhook-secret';
const client = axios.create({
  baseURL: process.env.WEBHOOK_BASE_URL ?? 'http://127.0.0.1:8080/',
  timeout: 2_000,
  httpAgent: new http.Agent({ keepAlive: true, maxSockets: 4 }),
  httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 4 }),
  headers: { 'user-agent': 'benign-webhooks/1.0' },
  // A subscriber's 4xx is its problem, not a reason to retry the whole batch.
  validateStatus: (status) => status < 500,
});

const Notification = z.object({
  subscriber: z.string().regex(/^[a-z0-9-]{3,40}$/),
  event: z.enum(['order.created', 'order.shipped', 'invoice.paid', 'user.deleted']),
  occurredAt: z.iso.datetime(),
  data: z.record(z.string(), z.unknown()),
});

const deliveries = { ok: 0, rejected: 0, failed: 0 };

async function deliver(notification, messageId) {
  const body = JSON.stringify({
    id: messageId,
    type: notification.event,
    at: notification.occurredAt,
    data: notification.data,
  });
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex');
  const response = await client.post(`hooks/${notification.subscriber}`, body, {
    headers: {
      'content-type': 'application/json',
      'webhook-id': messageId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': `v1=${signature}`,
    },
  });
  return response.status;
}

exports.handler = async (event) => {
  const batchItemFailures = [];
  const outcomes = await Promise.all(
    (event.Records ?? []).map(async (record) => {
      const parsed = Notification.safeParse(JSON.parse(record.body));
      if (!parsed.success) {
        // A malformed notification will never become valid: drop it (and say so) instead of retrying.
        console.warn(
          JSON.stringify({ level: 'warn', messageId: record.messageId, issues: parsed.error.issues.length }),
        );
        deliveries.rejected += 1;
        return 'invalid';
      }
      try {
        const status = await deliver(parsed.data, record.messageId);
        deliveries.ok += 1;
        return status;
      } catch (error) {
        deliveries.failed += 1;
        console.error(JSON.stringify({ level: 'error', messageId: record.messageId, error: error.message }));
        batchItemFailures.push({ itemIdentifier: record.messageId });
        return 'failed';
      }
    }),
  );
  return { batchItemFailures, outcomes, deliveries: { ...deliveries } };
};
