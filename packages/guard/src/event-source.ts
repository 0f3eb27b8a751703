/**
 * Where an invocation came from, as far as its event says: the source IP that API Gateway (REST
 * or HTTP API), a Lambda function URL or an ALB recorded. Detection events carry it so the
 * correlator can tie an implant to the request that planted it.
 */
export function sourceIpOf(event: unknown): string | null {
  if (event === null || typeof event !== 'object') return null;
  const requestContext = (event as { requestContext?: unknown }).requestContext;
  if (requestContext !== null && typeof requestContext === 'object') {
    const http = (requestContext as { http?: { sourceIp?: unknown } }).http;
    if (http && typeof http.sourceIp === 'string') return http.sourceIp;
    const identity = (requestContext as { identity?: { sourceIp?: unknown } }).identity;
    if (identity && typeof identity.sourceIp === 'string') return identity.sourceIp;
    // ALB: the first address of X-Forwarded-For is the client.
    if ((requestContext as { elb?: unknown }).elb !== undefined) {
      const headers = (event as { headers?: Record<string, unknown> }).headers;
      const forwarded = headers?.['x-forwarded-for'];
      if (typeof forwarded === 'string') return forwarded.split(',')[0]?.trim() || null;
    }
  }
  return null;
}
