// Orders service: an SQS consumer that stores orders in DynamoDB, plus a direct "get order" call
// (Step Functions / another service invokes it). AWS SDK v3, DocumentClient, one client per
// execution environment: the client, its credentials and its keep-alive sockets are created at INIT
// or on first use and reused by every later invocation — the warm-environment drift the guard's
// integrity control must accept.
//
// DYNAMODB_ENDPOINT: unset on AWS (the regional endpoint); the test points it at a local server.
import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';

const TABLE = process.env.ORDERS_TABLE ?? 'orders';

const client = new DynamoDBClient({
  ...(process.env.DYNAMODB_ENDPOINT ? { endpoint: process.env.DYNAMODB_ENDPOINT } : {}),
  maxAttempts: 3,
  requestHandler: {
    // One pool per environment, kept alive across invocations (and across Lambda's freeze).
    httpAgent: new Agent({ keepAlive: true, maxSockets: 8 }),
    connectionTimeout: 1_000,
    requestTimeout: 3_000,
  },
});
const documents = DynamoDBDocumentClient.from(client, {
  marshallOptions: { removeUndefinedValues: true },
});

const VALID_STATUSES = new Set(['placed', 'paid', 'shipped', 'cancelled']);

/** Turn an order message into the item we store; throws on a malformed order. */
function toItem(order, receivedAt) {
  if (typeof order?.customerId !== 'string' || !Array.isArray(order.lines) || order.lines.length === 0) {
    throw new TypeError('order needs a customerId and at least one line');
  }
  const lines = order.lines.map((line) => ({
    sku: String(line.sku),
    quantity: Number.parseInt(line.quantity, 10),
    unitPriceCents: Math.round(Number(line.unitPrice) * 100),
  }));
  const totalCents = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
  return {
    orderId: order.orderId ?? randomUUID(),
    customerId: order.customerId,
    status: VALID_STATUSES.has(order.status) ? order.status : 'placed',
    lines,
    totalCents,
    currency: order.currency ?? 'EUR',
    giftWrap: Boolean(order.giftWrap),
    note: order.note,
    receivedAt,
  };
}

async function consume(records) {
  const batchItemFailures = [];
  // Records of one batch are written in parallel; a bad record fails alone (partial batch response).
  await Promise.all(
    records.map(async (record) => {
      try {
        const item = toItem(JSON.parse(record.body), new Date().toISOString());
        await documents.send(new PutCommand({ TableName: TABLE, Item: item }));
        // Read-after-write: what the SQS consumer hands to the next step.
        const { Item } = await documents.send(
          new GetCommand({ TableName: TABLE, Key: { orderId: item.orderId }, ConsistentRead: true }),
        );
        if (Item?.totalCents !== item.totalCents) throw new Error(`order ${item.orderId} did not round-trip`);
      } catch (error) {
        console.error(JSON.stringify({ level: 'error', messageId: record.messageId, error: error.message }));
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }),
  );
  return { batchItemFailures };
}

export const handler = async (event) => {
  if (Array.isArray(event?.Records)) return consume(event.Records);
  if (event?.action === 'getOrder') {
    const { Item } = await documents.send(
      new GetCommand({ TableName: TABLE, Key: { orderId: event.orderId } }),
    );
    return Item === undefined ? { found: false } : { found: true, order: Item };
  }
  throw new Error(`unsupported event: ${JSON.stringify(Object.keys(event ?? {}))}`);
};
