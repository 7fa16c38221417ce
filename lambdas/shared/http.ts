/**
 * The HTTP edge shared by every API function: body parsing with the limits and media type the
 * API promises, the caller's node identity from the authorizer, and one mapping from typed
 * errors to `{ code, message }` responses.
 */
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import type { Context } from 'aws-lambda';
import { assertIJson } from './i-json';
import { duplicateMemberName } from './json-names';
import { AppError, ForbiddenError, MethodNotAllowedError, PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from './errors';
import { OPERATOR_ROLE } from './node-token';
import { instrumented, logger, logUnhandled } from './observability';

/** What the authorizer puts in the request context of an authenticated route. */
export interface NodeIdentity {
  /** The node's name, or an operator's name when `role` is `operator`. */
  nodeId: string;
  /** A node's role from the cluster configuration (master, slave, both), or `operator`. */
  role: string;
}

export type HttpEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<NodeIdentity> | APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/** DynamoDB items top out at 400 KB; a status body is a few KB, so this leaves ample room. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

export function header(event: HttpEvent, name: string): string | undefined {
  // API Gateway HTTP APIs lower-case header names in payload format 2.0.
  return event.headers?.[name.toLowerCase()];
}

/**
 * The request body as text. A body API Gateway passes base64-encoded (bytes it did not take for
 * text) must be UTF-8: decoding it with replacement characters would store something other
 * than what the client sent, with nothing said, so it is a 400.
 */
export function readBody(event: HttpEvent, maxBytes = DEFAULT_MAX_BODY_BYTES): string {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? utf8Text(Buffer.from(raw, 'base64')) : raw;
  if (Buffer.byteLength(text, 'utf8') > maxBytes) throw new PayloadTooLargeError(maxBytes);
  return text;
}

function utf8Text(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AppError(400, 'INVALID_ENCODING', 'Request body is not UTF-8 text: it holds bytes that are no UTF-8 character', 'body');
  }
}

/** Past this many characters (as sent, or base64), what a no-body route was sent is no `{}` with white space around. */
const NO_BODY_MAX_CHARS = 1024;

/**
 * For a route that takes no body: none, or `{}` (what a client sends for "no options"), is
 * accepted; anything else is a 400, so a caller never believes an option it sent was taken. A
 * long body is the same mistake: a 400 too, not a 413 these routes would otherwise have to
 * declare. It is refused on its length before anything is decoded.
 */
export function assertNoBody(event: HttpEvent): void {
  const refused = new ValidationError('body', 'this route takes no body: send none (or {})');
  if ((event.body ?? '').length > NO_BODY_MAX_CHARS) throw refused;
  // Each of those characters is at most 3 bytes of UTF-8: the byte bound never refuses first.
  const text = readBody(event, NO_BODY_MAX_CHARS * 3).trim();
  if (text !== '' && text !== '{}') throw refused;
}

/** Parses a JSON request body: 415 unless it is JSON, 413 when too large, 400 when malformed. */
export function parseJsonBody(event: HttpEvent, maxBytes = DEFAULT_MAX_BODY_BYTES): unknown {
  const contentType = header(event, 'content-type');
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json' && !mediaType?.endsWith('+json')) {
    throw new UnsupportedMediaTypeError(contentType);
  }
  const text = readBody(event, maxBytes);
  if (text.trim() === '') throw new ValidationError('body', 'a JSON object is required');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AppError(400, 'INVALID_JSON', `Request body is not valid JSON: ${(error as Error).message}`, 'body');
  }
  assertIJson(text, value);
  const duplicate = duplicateMemberName(text, value);
  if (duplicate !== undefined) {
    throw new AppError(
      400,
      'INVALID_JSON',
      `Request body names the member "${duplicate.toWellFormed()}" twice in one object: which one counts is for each reader to guess (RFC 7493 requires unique names); send it once`,
      'body',
    );
  }
  return value;
}


/** Whoever the authorizer let in, node or operator; a route without it is misconfigured. */
export function callerIdentity(event: HttpEvent): NodeIdentity {
  const context = (event.requestContext as { authorizer?: { lambda?: Partial<NodeIdentity> } }).authorizer?.lambda;
  if (!context?.nodeId || !context.role) {
    throw new AppError(401, 'UNAUTHENTICATED', 'This route needs a node token: send Authorization: Bearer <token>');
  }
  return { nodeId: context.nodeId, role: context.role };
}

/**
 * The node making a write. An operator token passes the authorizer (its verdict is cached per
 * token for every route), so every write route refuses it here: operators list and read only.
 */
export function callerNode(event: HttpEvent): NodeIdentity {
  const caller = callerIdentity(event);
  if (caller.role === OPERATOR_ROLE) {
    throw new ForbiddenError(`${caller.nodeId} is a read-only operator: it may list and read, not write`);
  }
  return caller;
}

export function pathParam(event: HttpEvent, name: string): string {
  const value = event.pathParameters?.[name];
  if (value === undefined || value === '') throw new ValidationError(name, 'path parameter is required');
  return value;
}

export function errorResponse(error: unknown): HttpResult {
  if (error instanceof AppError) {
    // Details first: they may never overwrite the code and message a client keys on.
    return json(
      error.status,
      {
        ...error.details,
        code: error.code,
        message: error.message,
        ...(error.field ? { field: error.field } : {}),
      },
      {
        ...(error.retryAfterSeconds === undefined ? {} : { 'retry-after': String(error.retryAfterSeconds) }),
        ...(error instanceof MethodNotAllowedError ? { allow: error.allow.join(', ') } : {}),
      },
    );
  }
  // Unknown failures are logged with their stack and answered without internals.
  logUnhandled(error);
  return json(500, { code: 'INTERNAL_ERROR', message: 'The request failed unexpectedly; it was logged' });
}

/**
 * Wraps a route implementation so every thrown error is mapped the same way, and every log line
 * of the request carries API Gateway's request id (the `requestId` of the access log) and the
 * calling node.
 */
export function httpHandler<E extends HttpEvent>(
  route: (event: E, context?: Context) => Promise<HttpResult>,
): (event: E, context?: Context) => Promise<HttpResult> {
  return instrumented(async (event: E, context?: Context) => {
    appendRequestKeys(event);
    try {
      return await route(event, context);
    } catch (error) {
      return errorResponse(error);
    }
  });
}

/**
 * Serves HEAD with a GET route's function (a route that declares `head`, lambdas/shared/manifest.ts):
 * the answer GET would get, status and headers, without its body (RFC 9110 9.3.2), and the
 * `Content-Length` that body has (8.6: a HEAD answer's is the GET's, or none). The route sees
 * the request's own method, so a HEAD never does what only GET may (a KVP Dismiss on /ows
 * refuses it).
 */
export function answersHead<E extends HttpEvent>(
  route: (event: E, context?: Context) => Promise<HttpResult>,
): (event: E, context?: Context) => Promise<HttpResult> {
  return async (event, context) => {
    const result = await route(event, context);
    if (event.requestContext?.http?.method !== 'HEAD' || result.body === undefined) return result;
    const { body, isBase64Encoded, ...rest } = result;
    const length = Buffer.byteLength(body, isBase64Encoded ? 'base64' : 'utf8');
    return { ...rest, headers: { ...rest.headers, 'content-length': String(length) } };
  };
}

/** Correlation keys every API function logs: the API request id, the route and the calling node. */
export function appendRequestKeys(event: HttpEvent): void {
  const authorizer = (event.requestContext as { authorizer?: { lambda?: Partial<NodeIdentity> } } | undefined)?.authorizer?.lambda;
  logger.appendKeys({
    apiRequestId: event.requestContext?.requestId,
    route: event.routeKey,
    ...(authorizer?.nodeId ? { caller: authorizer.nodeId } : {}),
  });
}

/** A response whose body is already serialised (XML documents, for instance). */
export function textResult(statusCode: number, contentType: string, body: string, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { 'content-type': contentType, ...headers }, body };
}

// A host as RFC 3986 allows it in a URL authority: a DNS name or IPv4, or a bracketed IPv6,
// with an optional port. Anything else is not put into documents other clients will follow.
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

/**
 * The absolute base URL (no trailing slash) clients reach this API at, for the links and URLs
 * written into documents: the configured public base URL when there is one (a custom domain
 * with a base path, a CDN in front), else built from the request. The host comes from the
 * `host` header (API Gateway routes on it, so it names a domain of this API), else from the
 * request context's domain name; the scheme from `x-forwarded-proto`, which API Gateway sets.
 * Without that header the scheme is `http` for a loopback host (the local runtime) and `https`
 * otherwise, the only scheme API Gateway serves.
 */
export function requestBaseUrl(event: HttpEvent, configured?: string): string {
  if (configured !== undefined && configured !== '') return configured.replace(/\/+$/, '');
  const candidates = [header(event, 'host'), event.requestContext?.domainName];
  const host = candidates.map((value) => value?.trim()).find((value): value is string => value !== undefined && HOST.test(value));
  if (host === undefined) throw new AppError(400, 'INVALID_HOST', 'The request names no valid host to build URLs from', 'host');
  const forwarded = header(event, 'x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  const scheme = forwarded === 'http' || forwarded === 'https' ? forwarded : LOOPBACK.test(host) ? 'http' : 'https';
  return `${scheme}://${host}`;
}
