/**
 * Serves the template's HTTP API routes the way API Gateway (HTTP API, payload 2.0) does:
 * route matching with path parameters, Lambda REQUEST authorizers with simple responses
 * (401 when the identity source is missing, 403 when denied, verdicts cached per identity),
 * v2 events in and v2 results out.
 */
import { randomUUID } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './account';
import { LocalStartError, errorCode } from './errors';
import { jsonBytesOver } from './json-size';
import type { LocalFunctionHost } from './lambda-runner';
import { foreignHostMessage, hostName, isLoopbackHost } from './loopback-host.cjs';
import type { LocalAuthorizer, LocalRoute } from './template';

/** API Gateway's payload limit for HTTP APIs. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
/**
 * Lambda's limit on a synchronous invocation's event, and on the function's answer, as JSON
 * (6 MB = 6,291,456 bytes): a body API Gateway takes can make an event over it once base64-encoded
 * or JSON-escaped. Lambda then refuses to invoke (or to return the answer) and API Gateway answers
 * its bare 500.
 */
const LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;

export type AdminHandler = (request: { method: string; path: string; body: string }) => Promise<{ status: number; body: unknown }>;

interface CompiledRoute extends LocalRoute {
  regex: RegExp;
  paramNames: string[];
  /** Higher wins: literal segments beat parameters, which beat greedy parameters. */
  specificity: number;
}

function compile(route: LocalRoute): CompiledRoute {
  if (route.path === '$default') return { ...route, regex: /^.*$/, paramNames: [], specificity: -1 };
  const paramNames: string[] = [];
  let specificity = 0;
  const pattern = route.path
    .split('/')
    .map((segment) => {
      const greedy = /^\{(.+)\+\}$/.exec(segment);
      if (greedy) {
        paramNames.push(greedy[1] as string);
        return '(.+)';
      }
      const param = /^\{(.+)\}$/.exec(segment);
      if (param) {
        paramNames.push(param[1] as string);
        specificity += 1;
        return '([^/]+)';
      }
      specificity += 2;
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { ...route, regex: new RegExp(`^${pattern}$`), paramNames, specificity };
}

const TEXT_TYPES = /^(application\/(json|xml|x-www-form-urlencoded|[\w.+-]+\+(json|xml))|text\/)/i;

export interface ApiServerOptions {
  routes: LocalRoute[];
  hosts: Map<string, LocalFunctionHost>;
  admin?: AdminHandler;
  /** Path prefix of the local-only admin endpoints. */
  adminPrefix?: string;
  /** The most authorizer verdicts cached at once (the oldest go first). @default 10000 */
  authCacheMaxEntries?: number;
  /**
   * Host names besides loopback's (127.0.0.1, localhost, [::1], *.localhost) whose requests the
   * routes serve (`npm start -- --allow-host`): a proxy or container that calls the API by another
   * name. The admin endpoints serve loopback names only, whatever this says.
   */
  allowedHosts?: readonly string[];
}

export class LocalApiServer {
  private readonly routes: CompiledRoute[];
  private readonly server: http.Server;
  private readonly authCache = new Map<string, { expires: number; context: Record<string, unknown> | undefined }>();

  constructor(private readonly options: ApiServerOptions) {
    this.routes = options.routes.map(compile).sort((a, b) => b.specificity - a.specificity);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        console.error('local API error', error);
        if (!res.headersSent) send(res, 500, { message: 'Internal Server Error' });
      });
    });
    this.server.keepAliveTimeout = 5000;
  }

  /**
   * Resolves to the port bound (the one picked for port 0). A port given that another process
   * took after `npm start` checked it is refused as the check would have refused it.
   */
  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', (error) => {
        reject(errorCode(error) === 'EADDRINUSE' ? new LocalStartError(`Port ${port} (API) is in use: stop the other process or pass --port N`) : error);
      });
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = (req.method ?? 'GET').toUpperCase();
    const adminPrefix = this.options.adminPrefix ?? '/__local';
    const isAdmin = this.options.admin !== undefined && url.pathname.startsWith(`${adminPrefix}/`);
    // DNS rebinding: a page the developer visits can rebind its own name to 127.0.0.1 and call
    // this server same-origin, reading the answers; its name is in Host. The routes also serve
    // the names the developer allowed; the admin controls only loopback's.
    if (!isLoopbackHost(req.headers.host, isAdmin ? [] : (this.options.allowedHosts ?? []))) {
      req.resume();
      const hint = isAdmin ? '' : `; to call the API by this name, start it with npm start -- --allow-host ${hostOnly(req.headers.host)}`;
      return send(res, 403, { message: `${foreignHostMessage(req.headers.host, isAdmin ? `the local ${adminPrefix} controls` : 'the local API')}${hint}` }, true);
    }
    const body = await readBody(req);
    if (body === undefined) return send(res, 413, { message: 'Request Entity Too Large' });

    if (isAdmin && this.options.admin) {
      // The local runtime's controls (schedules with any clock, pollers, faults) are for the
      // developer's own tools, which send no Origin: a browser does, so a page on any site the
      // developer visits cannot drive them (a simple cross-site POST needs no preflight).
      if (req.headers.origin !== undefined) return send(res, 403, { message: `${adminPrefix} takes no browser requests (Origin: ${req.headers.origin})` });
      const answer = await this.options.admin({ method, path: url.pathname.slice(adminPrefix.length), body: body.toString('utf8') });
      return send(res, answer.status, answer.body);
    }

    const paths = httpApiPaths(url.pathname);
    // A malformed %-escape in the path, as sent or once decoded.
    if (paths === undefined) return send(res, 400, { message: 'Bad Request' });
    let match: ReturnType<LocalApiServer['match']>;
    try {
      match = this.match(method, paths.routed);
    } catch {
      return send(res, 400, { message: 'Bad Request' });
    }
    if (!match) return send(res, 404, { message: 'Not Found' });
    const { route, pathParameters } = match;

    const headers = headerMap(req);
    const event = buildEvent(req, url, paths.delivered, route, pathParameters, headers, body);

    if (route.authorizer) {
      const verdict = await this.authorize(route.authorizer, event);
      if (verdict.status !== 200) return send(res, verdict.status, { message: verdict.status === 401 ? 'Unauthorized' : 'Forbidden' });
      event.requestContext.authorizer = { lambda: verdict.context ?? {} };
    }

    const host = this.options.hosts.get(route.functionId);
    if (!host) return send(res, 500, { message: 'Internal Server Error' });
    // Measured from a bound of its size; serialized only when that bound is over (local/json-size).
    const eventBytes = jsonBytesOver(event, LAMBDA_SYNC_PAYLOAD_BYTES);
    if (eventBytes !== undefined) {
      // Lambda's RequestEntityTooLargeException, which API Gateway does not pass on.
      console.error(
        `${event.routeKey}: ${eventBytes} byte payload is too large for the RequestResponse invocation type (limit ${LAMBDA_SYNC_PAYLOAD_BYTES} bytes): ` +
          'Lambda refuses the invocation and API Gateway answers 500',
      );
      return send(res, 500, { message: 'Internal Server Error' });
    }
    let result: unknown;
    try {
      result = await host.invoke(event);
    } catch (error) {
      console.error(String(error));
      return send(res, 500, { message: 'Internal Server Error' });
    }
    const resultBytes = jsonBytesOver(result ?? null, LAMBDA_SYNC_PAYLOAD_BYTES);
    if (resultBytes !== undefined) {
      // Lambda's Function.ResponseSizeTooLarge: the invocation fails, and API Gateway answers 500.
      console.error(
        `${event.routeKey}: Response payload size exceeded maximum allowed payload size (${LAMBDA_SYNC_PAYLOAD_BYTES} bytes): the function answered ${resultBytes} bytes, ` +
          'which Lambda does not return and API Gateway answers with 500',
      );
      return send(res, 500, { message: 'Internal Server Error' });
    }
    writeResult(res, result);
  }

  /**
   * Caches a verdict, keeping the cache bounded as API Gateway's is: every request with a token
   * never seen (any stranger can send them, each up to the header limit) adds one, so the expired
   * ones go as new ones come, and past the size the oldest go. Map order is insertion order.
   */
  private cacheVerdict(key: string, verdict: { expires: number; context: Record<string, unknown> | undefined }): void {
    const now = Date.now();
    this.authCache.delete(key);
    for (const [cachedKey, cached] of this.authCache) {
      if (cached.expires > now && this.authCache.size < (this.options.authCacheMaxEntries ?? 10_000)) break;
      this.authCache.delete(cachedKey);
    }
    this.authCache.set(key, verdict);
  }

  private match(method: string, pathname: string): { route: CompiledRoute; pathParameters: Record<string, string> } | undefined {
    for (const route of this.routes) {
      if (route.method !== 'ANY' && route.method !== method) continue;
      const found = route.regex.exec(pathname);
      if (!found) continue;
      const pathParameters = Object.fromEntries(
        route.paramNames.map((name, i) => [name, decodeURIComponent(found[i + 1] as string)]),
      );
      return { route, pathParameters };
    }
    return undefined;
  }

  private async authorize(
    authorizer: LocalAuthorizer,
    event: V2Event,
  ): Promise<{ status: number; context?: Record<string, unknown> }> {
    const identity = authorizer.identitySource.map((source) => identityValue(source, event));
    if (identity.some((value) => value === undefined || value === '')) return { status: 401 };
    const cacheKey = `${authorizer.functionId}\n${identity.join('\n')}`;
    const cached = this.authCache.get(cacheKey);
    if (cached && cached.expires > Date.now()) return cached.context ? { status: 200, context: cached.context } : { status: 403 };

    const host = this.options.hosts.get(authorizer.functionId);
    if (!host) return { status: 500 };
    let verdict: { isAuthorized?: boolean; context?: Record<string, unknown> };
    try {
      verdict = await host.invoke({
        version: '2.0',
        type: 'REQUEST',
        routeArn: `arn:aws:execute-api:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:local/$default/${event.requestContext.http.method}${event.rawPath}`,
        identitySource: identity,
        routeKey: event.routeKey,
        rawPath: event.rawPath,
        rawQueryString: event.rawQueryString,
        cookies: event.cookies,
        headers: event.headers,
        queryStringParameters: event.queryStringParameters,
        requestContext: event.requestContext,
        pathParameters: event.pathParameters,
        stageVariables: undefined,
      });
    } catch (error) {
      console.error(String(error));
      return { status: 500 };
    }
    const context = verdict.isAuthorized === true ? (verdict.context ?? {}) : undefined;
    if (authorizer.cacheTtlSeconds > 0) this.cacheVerdict(cacheKey, { expires: Date.now() + authorizer.cacheTtlSeconds * 1000, context });
    return context ? { status: 200, context } : { status: 403 };
  }
}

interface V2Event {
  version: '2.0';
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  pathParameters?: Record<string, string>;
  body?: string;
  isBase64Encoded: boolean;
  requestContext: {
    accountId: string;
    apiId: string;
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: string;
    stage: string;
    time: string;
    timeEpoch: number;
    authorizer?: { lambda: Record<string, unknown> };
  };
}

/**
 * The path as an API Gateway HTTP API routes it and hands it to the function, from live AWS
 * captures (the ingress probe of hotsock/voker, vokerhttp/testdata/ingress-paths.json; REST APIs,
 * function URLs and load balancers pass the path as sent instead): decoded once and cut at a `?`
 * that decoding made (`routed`: `%2F` is a segment break there, and a parameter's value is decoded
 * once more), then decoded again (`delivered`: `rawPath` and `requestContext.http.path`;
 * `%2525` arrives as `%`). `undefined` where either decoding fails, which API Gateway answers
 * with 400 before any function runs.
 */
export function httpApiPaths(sent: string): { routed: string; delivered: string } | undefined {
  try {
    const decoded = decodeURIComponent(sent);
    const routed = decoded.includes('?') ? decoded.slice(0, decoded.indexOf('?')) : decoded;
    return { routed, delivered: decodeURIComponent(routed) };
  } catch {
    return undefined;
  }
}

function buildEvent(
  req: http.IncomingMessage,
  url: URL,
  deliveredPath: string,
  route: CompiledRoute,
  pathParameters: Record<string, string>,
  headers: Record<string, string>,
  body: Buffer,
): V2Event {
  const query = ownRecord();
  for (const [key, value] of url.searchParams) query[key] = Object.hasOwn(query, key) ? `${query[key]},${value}` : value;
  const now = new Date();
  const contentType = headers['content-type'] ?? '';
  // A text body that is not UTF-8 goes base64-encoded, bytes as sent, so the function can refuse it.
  const isText = body.length === 0 || (TEXT_TYPES.test(contentType) && isUtf8(body));
  const host = headers.host ?? 'localhost';
  const sourceIp = req.socket.remoteAddress ?? '127.0.0.1';
  // As API Gateway (payload 2.0): every Cookie header's cookies go to `cookies`, one entry each,
  // and not in `headers`; the x-forwarded-* headers are the gateway's own, never the client's
  // (here: plain HTTP, this server's port, the connection's address).
  const cookies = (req.headersDistinct.cookie ?? []).flatMap((line) => line.split(';')).map((cookie) => cookie.trim()).filter((cookie) => cookie !== '');
  delete headers.cookie;
  headers['x-forwarded-for'] = sourceIp;
  headers['x-forwarded-port'] = String(req.socket.localPort ?? '');
  headers['x-forwarded-proto'] = 'http';
  return {
    version: '2.0',
    routeKey: route.path === '$default' ? '$default' : `${route.method} ${route.path}`,
    rawPath: deliveredPath,
    rawQueryString: url.search.replace(/^\?/, ''),
    cookies: cookies.length ? cookies : undefined,
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: Object.keys(pathParameters).length ? pathParameters : undefined,
    body: body.length === 0 ? undefined : isText ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !isText,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: 'local',
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      http: {
        method: (req.method ?? 'GET').toUpperCase(),
        path: deliveredPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: route.path === '$default' ? '$default' : `${route.method} ${route.path}`,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
  };
}

function identityValue(source: string, event: V2Event): string | undefined {
  const header = /^\$request\.header\.(.+)$/.exec(source);
  if (header) return event.headers[(header[1] as string).toLowerCase()];
  const query = /^\$request\.querystring\.(.+)$/.exec(source);
  if (query) return event.queryStringParameters?.[query[1] as string];
  return undefined;
}

/**
 * A record without a prototype, so that a key such as `__proto__` (from a query string or a
 * header a stranger chose) is an ordinary own key, as it is in the JSON event API Gateway sends,
 * instead of silently vanishing into the object's prototype.
 */
function ownRecord(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

/** Payload 2.0 headers: lower-case names, repeated headers joined with commas. */
function headerMap(req: http.IncomingMessage): Record<string, string> {
  const headers = ownRecord();
  for (const [name, value] of Object.entries(req.headersDistinct)) {
    if (value) headers[name.toLowerCase()] = value.join(',');
  }
  return headers;
}

function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_PAYLOAD_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** `close`: end the connection after the answer (its request's body is not read). */
function send(res: http.ServerResponse, status: number, body: unknown, close = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(close ? { connection: 'close' } : {}) });
  res.end(text);
}

/** The name of a Host header, without its port (what --allow-host takes). */
function hostOnly(header: string | undefined): string {
  return hostName(header) ?? '<name>';
}

/** API Gateway's payload 2.0 response mapping, including its inference for bare values. */
function writeResult(res: http.ServerResponse, result: unknown): void {
  const structured =
    typeof result === 'object' && result !== null && 'statusCode' in result
      ? (result as { statusCode: number; headers?: Record<string, string | number | boolean>; body?: string; isBase64Encoded?: boolean; cookies?: string[] })
      : undefined;
  if (!structured) {
    const text = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }
  const body = structured.body === undefined ? Buffer.alloc(0) : Buffer.from(structured.body, structured.isBase64Encoded ? 'base64' : 'utf8');
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(structured.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (structured.cookies?.length) headers['set-cookie'] = structured.cookies;
  // An answer without a body that states its length (a HEAD answer: the GET's) keeps it.
  if (structured.statusCode !== 304 && structured.statusCode !== 204 && (body.length > 0 || headers['content-length'] === undefined)) headers['content-length'] = body.length;
  res.writeHead(structured.statusCode, headers);
  res.end(structured.statusCode === 304 ? undefined : body);
}
