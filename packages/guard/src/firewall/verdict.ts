/**
 * What a block looks like to the caller. Small and dependency-free on purpose: the adapters
 * (protect(), the Middy middleware) import it whether or not the firewall is on.
 *
 * - An HTTP event (API Gateway REST v1, HTTP API v2, a function URL, ALB) gets a 403 in its own
 *   response shape, with no internal detail (no detector, no location, no value).
 * - Any other event gets the thrown GuardError EPHEMERA_ERR_BLOCKED (Lambda reports its name as the
 *   errorType, so an SQS batch is retried or dead-lettered as for any failure).
 */
import { GuardError } from '../errors.js';
import { eventKind } from './extract.js';

const { freeze } = Object;
const weakSetHas = WeakSet.prototype.has;
const weakSetAdd = WeakSet.prototype.add;
const { apply } = Reflect;

/** A control's answer from `beforeInvoke`: refuse this invocation before the handler runs. */
export interface InvokeVerdict {
  readonly block: true;
  /** The response to return instead of running the handler (HTTP events). */
  readonly response?: unknown;
  /** The error to throw instead of running the handler (other events). */
  readonly error?: Error;
}

/** Errors the firewall created to refuse a sink call; only these are turned into a 403. */
const blockErrors = new WeakSet<object>();

export function markBlockError(error: Error): Error {
  apply(weakSetAdd, blockErrors, [error]);
  return error;
}

/** Whether `error` is the very error the firewall raised to refuse a sink call. */
export function isBlockError(error: unknown): boolean {
  return error !== null && typeof error === 'object' && (apply(weakSetHas, blockErrors, [error]) as boolean);
}

const FORBIDDEN_BODY = '{"message":"Forbidden"}';

/** The 403 for an HTTP event in its own shape, or undefined for a non-HTTP event. */
export function forbiddenResponse(event: unknown): unknown {
  const kind = eventKind(event);
  if (kind === 'apigateway-v1' || kind === 'apigateway-v2') {
    return freeze({
      statusCode: 403,
      headers: freeze({ 'content-type': 'application/json' }),
      body: FORBIDDEN_BODY,
      isBase64Encoded: false,
    });
  }
  if (kind === 'alb') {
    return freeze({
      statusCode: 403,
      statusDescription: '403 Forbidden',
      headers: freeze({ 'content-type': 'application/json' }),
      body: FORBIDDEN_BODY,
      isBase64Encoded: false,
    });
  }
  return undefined;
}

/** The verdict for a refused event: a 403 for HTTP events, EPHEMERA_ERR_BLOCKED otherwise. */
export function blockVerdict(event: unknown, detector: string, location: string): InvokeVerdict {
  const response = forbiddenResponse(event);
  if (response !== undefined) return freeze({ block: true as const, response });
  return freeze({ block: true as const, error: blockedError(detector, location) });
}

/** EPHEMERA_ERR_BLOCKED naming the detector and the input location, never a value. */
export function blockedError(detector: string, location: string, sink?: string): GuardError {
  const where = sink === undefined ? '' : ` at ${sink}`;
  return new GuardError(
    'EPHEMERA_ERR_BLOCKED',
    `the event firewall refused this invocation: ${detector} in ${location || 'event'}${where}`,
  );
}
