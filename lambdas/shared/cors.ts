/**
 * CORS for the polling routes, so browser-based WPS and OGC API clients on other origins can
 * poll; write routes send no CORS headers and have no preflight route, so browsers keep them
 * closed. API Gateway's own CORS (`corsPreflight`) is one setting for the whole API and would
 * open the write routes too, so the polling functions add the headers themselves and one
 * preflight function answers `OPTIONS` on exactly the polling paths: the routes whose manifest
 * entry sets `cors` (`CORS_POLLING_PATHS` in lambdas/status/manifest.ts; DELETE /jobs/{jobId}
 * shares its path with a poll but does not set it: writes stay closed to browsers).
 *
 * The allowed origins come from `cluster.status.corsAllowedOrigins` (environment variable
 * CORS_ALLOWED_ORIGINS, a JSON array): `["*"]` (the default: a poll needs no credentials, the
 * id is the capability) answers `*`; a list of origins echoes the request's origin when it is
 * listed (with `Vary: Origin`); an empty list turns CORS off.
 */
import type { Context } from 'aws-lambda';
import { optionalEnv } from './env';
import type { HttpEvent, HttpResult } from './http';

/** Response headers a browser script may read besides the safelisted ones: the poll hints. */
const EXPOSED_HEADERS = 'ETag, Retry-After, Location';
/**
 * Request headers a poll may send: revalidation, the media type of a POSTed XML request, and a
 * token where `requireAuthForReads` is set (write paths have no preflight, so no token reaches them).
 */
const ALLOWED_HEADERS = 'If-None-Match, Content-Type, Authorization';
/** How long a browser may cache a preflight answer (seconds). */
const PREFLIGHT_MAX_AGE = '3600';

export type CorsOrigins = readonly string[];

/** Environment variable names, shared by the stack (lambdas/status/manifest.ts) and the functions. */
export const CORS_ENV = {
  /** JSON array of the origins browsers may poll from. */
  allowedOrigins: 'CORS_ALLOWED_ORIGINS',
  /** JSON object path -> methods a browser may use there (the preflight function). */
  preflightMethods: 'CORS_PREFLIGHT_METHODS',
} as const;

/** Reads CORS_ALLOWED_ORIGINS once; absent means `["*"]`. */
export function corsOriginsFromEnv(raw = optionalEnv(CORS_ENV.allowedOrigins)): CorsOrigins {
  if (raw === undefined || raw === '') return ['*'];
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (Array.isArray(parsed) && parsed.every((origin) => typeof origin === 'string')) return parsed;
  } catch {
    // reported below
  }
  throw new Error(`Environment variable ${CORS_ENV.allowedOrigins} must be a JSON array of origins, got '${raw}'`);
}

/** The `Access-Control-Allow-Origin` (and `Vary`) for this request, or none. */
export function corsHeaders(event: HttpEvent, origins: CorsOrigins): Record<string, string> {
  if (origins.includes('*')) return { 'access-control-allow-origin': '*', 'access-control-expose-headers': EXPOSED_HEADERS };
  const origin = event.headers?.origin;
  // Vary even when not allowed: a shared cache must not hand this answer to another origin.
  if (origin === undefined || !origins.includes(origin)) return origins.length > 0 ? { vary: 'Origin' } : {};
  return { 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSED_HEADERS, vary: 'Origin' };
}

/** Adds the CORS headers to whatever `route` answers, errors included (a browser must read a 404 too). */
export function withCors<E extends HttpEvent>(
  origins: CorsOrigins,
  route: (event: E, context?: Context) => Promise<HttpResult>,
): (event: E, context?: Context) => Promise<HttpResult> {
  // The Lambda context is passed on: the route's log lines carry the invocation's request id.
  return async (event, context) => {
    const result = await route(event, context);
    const cors = corsHeaders(event, origins);
    if (Object.keys(cors).length === 0) return result;
    const headers = { ...(result.headers ?? {}) } as Record<string, string | number | boolean>;
    for (const [name, value] of Object.entries(cors)) {
      headers[name] = name === 'vary' && headers.vary !== undefined ? `${String(headers.vary)}, ${value}` : value;
    }
    return { ...result, headers };
  };
}

/**
 * The answer to a preflight `OPTIONS` on a polling path: 204 allowing `methods`, or 403 when the
 * origin is not allowed or the browser asks for a method the path does not serve to browsers.
 */
export function preflightResponse(event: HttpEvent, origins: CorsOrigins, methods: readonly string[]): HttpResult {
  const cors = corsHeaders(event, origins);
  const requested = event.headers?.['access-control-request-method']?.trim().toUpperCase();
  if (cors['access-control-allow-origin'] === undefined || (requested !== undefined && !methods.includes(requested))) {
    return { statusCode: 403, headers: { ...cors, 'content-type': 'application/json' }, body: JSON.stringify({ code: 'CORS_REFUSED', message: 'This origin or method may not call this route from a browser' }) };
  }
  return {
    statusCode: 204,
    headers: {
      ...cors,
      'access-control-allow-methods': methods.join(', '),
      'access-control-allow-headers': ALLOWED_HEADERS,
      'access-control-max-age': PREFLIGHT_MAX_AGE,
    },
  };
}
