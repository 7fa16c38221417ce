import {
  assertNoBody,
  DEFAULT_MAX_BODY_BYTES,
  answersHead,
  callerIdentity,
  callerNode,
  errorResponse,
  parseJsonBody,
  requestBaseUrl,
  type HttpEvent,
} from '../../../lambdas/shared/http';
import { logger } from '../../../lambdas/shared/observability';
import { AppError, ConflictError, MethodNotAllowedError, NotFoundError, ValidationError } from '../../../lambdas/shared/errors';
import { IdempotentRequestInProgressError, SequenceRangeAbandonedError } from '../../../lambdas/config-sync/errors';
import { GatewayBusyError } from '../../../lambdas/config-sync/gateway/write-lease';
import { nestedListsJson } from '../../support/hostile-json';

function event(overrides: { headers?: Record<string, string>; body?: string; isBase64Encoded?: boolean } = {}): HttpEvent {
  return {
    version: '2.0',
    routeKey: 'PUT /executions/{executionId}',
    rawPath: '/executions/e1',
    rawQueryString: '',
    headers: {},
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method: 'PUT', path: '/executions/e1', protocol: 'HTTP/1.1', sourceIp: '10.0.0.1', userAgent: 'test' },
      requestId: 'r1',
      routeKey: 'PUT /executions/{executionId}',
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: 0,
    },
    ...overrides,
  } as HttpEvent;
}

const jsonEvent = (body: string | undefined, contentType = 'application/json', extra: { isBase64Encoded?: boolean } = {}) =>
  event({ headers: { 'content-type': contentType }, ...(body === undefined ? {} : { body }), ...extra });

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected an AppError to be thrown');
}

describe('parseJsonBody', () => {
  it('parses a JSON body', () => {
    expect(parseJsonBody(jsonEvent('{"phase":"QUEUED","progress":0}'))).toEqual({ phase: 'QUEUED', progress: 0 });
  });

  it.each(['application/json; charset=utf-8', 'Application/JSON', 'application/merge-patch+json', 'application/vnd.geo+json;v=1'])(
    'accepts content type %s',
    (contentType) => {
      expect(parseJsonBody(jsonEvent('{"a":1}', contentType))).toEqual({ a: 1 });
    },
  );

  it('answers 415 without a content type', () => {
    const error = thrown(() => parseJsonBody(event({ body: '{"a":1}' })));
    expect(error.status).toBe(415);
    expect(error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(error.message).toContain('got none');
  });

  it.each(['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'application/jsonp', 'multipart/form-data'])(
    'answers 415 for %s, naming it',
    (contentType) => {
      const error = thrown(() => parseJsonBody(jsonEvent('{"a":1}', contentType)));
      expect(error.status).toBe(415);
      expect(error.message).toContain(`'${contentType}'`);
    },
  );

  it('checks the media type before the body', () => {
    expect(thrown(() => parseJsonBody(jsonEvent('not json', 'text/plain'))).status).toBe(415);
  });

  it('accepts a body of exactly the limit and answers 413 one byte over it', () => {
    const body = (size: number) => JSON.stringify({ pad: 'x'.repeat(size - '{"pad":""}'.length) });
    expect(body(100)).toHaveLength(100);
    expect(parseJsonBody(jsonEvent(body(100)), 100)).toEqual({ pad: expect.any(String) });
    const error = thrown(() => parseJsonBody(jsonEvent(body(101)), 100));
    expect(error.status).toBe(413);
    expect(error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('has a 64 KiB default limit', () => {
    const over = JSON.stringify({ pad: 'x'.repeat(DEFAULT_MAX_BODY_BYTES) });
    expect(thrown(() => parseJsonBody(jsonEvent(over))).status).toBe(413);
  });

  it('counts the UTF-8 bytes, not the characters', () => {
    const text = JSON.stringify({ s: 'é'.repeat(50) }); // 58 characters, 108 bytes
    expect(text.length).toBeLessThan(100);
    expect(thrown(() => parseJsonBody(jsonEvent(text), 100)).status).toBe(413);
  });

  it('decodes a base64 body and counts its decoded size against the limit', () => {
    const text = JSON.stringify({ pad: 'x'.repeat(80 - '{"pad":""}'.length) }); // 80 bytes, 108 in base64
    const encoded = Buffer.from(text).toString('base64');
    expect(encoded.length).toBeGreaterThan(100);
    expect(parseJsonBody(jsonEvent(encoded, 'application/json', { isBase64Encoded: true }), 100)).toEqual(JSON.parse(text));

    const tooBig = Buffer.from(JSON.stringify({ pad: 'x'.repeat(100) })).toString('base64');
    expect(thrown(() => parseJsonBody(jsonEvent(tooBig, 'application/json', { isBase64Encoded: true }), 100)).status).toBe(413);
  });

  it('answers 400 INVALID_ENCODING for a base64 body that is not UTF-8, and decodes one that is', () => {
    const latin1 = Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
    const error = thrown(() => parseJsonBody(jsonEvent(latin1.toString('base64'), 'application/json', { isBase64Encoded: true })));
    expect(error.status).toBe(400);
    expect(error.code).toBe('INVALID_ENCODING');
    expect(error.field).toBe('body');
    const utf8 = Buffer.from('{"name":"café \uFFFD"}');
    expect(parseJsonBody(jsonEvent(utf8.toString('base64'), 'application/json', { isBase64Encoded: true }))).toEqual({ name: 'café \uFFFD' });
  });

  it.each([
    ['a lone high surrogate in a value', String.raw`{"name":"a\uD800b"}`, /lone surrogate \(at "name"\)/],
    ['a lone low surrogate in an array', String.raw`{"list":["\uDC00"]}`, /lone surrogate \(at "0"\)/],
    ['a lone surrogate in a member name', String.raw`{"\udbff":1}`, /lone surrogate/],
    ['an integer a double rounds', '{"n":12345678901234567890}', /the number 12345678901234567890 \(at "n"\).*stored as 12345678901234567000.*send it as a string/],
    ['a negative one', '{"deep":{"n":-9007199254740993}}', /the number -9007199254740993 \(at "n"\)/],
    ['the same with a fraction', '{"n":12345678901234567890.0}', /the number 12345678901234567890\.0 /],
    ['the same with an exponent', '{"n":12345678901234567890e0}', /the number 12345678901234567890e0 /],
    ['more decimals than a double carries', '{"pi":3.141592653589793238}', /the number 3\.141592653589793238 .*stored as 3\.141592653589793/],
    ['a number that underflows to 0', '{"tiny":1e-400}', /the number 1e-400 .*stored as 0/],
    ['a member named twice', '{"phase":"RUNNING","phase":"FAILED"}', /names the member "phase" twice in one object/],
    ['a member named twice deep in an array', '{"changes":[{"kind":"add"},{"kind":"add","object":{"id":"a","type":"x","id":"b"}}]}', /member "id" twice/],
    ['a name written twice with different escapes', String.raw`{"name":1,"n\u0061me":2}`, /member "name" twice/],
    ['an escaped quote and colon inside the repeated name', String.raw`{"a\":":1, "a\":" : 2}`, /member "a":" twice/],
  ])('answers 400 INVALID_JSON for %s (I-JSON, RFC 7493)', (_, body, message) => {
    const error = thrown(() => parseJsonBody(jsonEvent(body)));
    expect(error.status).toBe(400);
    expect(error.code).toBe('INVALID_JSON');
    expect(error.field).toBe('body');
    expect(error.message).toMatch(message);
  });

  it.each([
    ['a surrogate pair', String.raw`{"name":"\uD83D\uDE00"}`, { name: '\u{1F600}' }],
    ['the largest exact integers', '{"a":9007199254740991,"b":-9007199254740991}', { a: 9007199254740991, b: -9007199254740991 }],
    ['digits in a string', '{"id":"12345678901234567890"}', { id: '12345678901234567890' }],
    ['a long decimal or exponent', '{"x":1234567890123456.5,"y":1e300,"z":5e-324}', { x: 1234567890123456.5, y: 1e300, z: 5e-324 }],
    ['2^53 and other integers a double carries exactly', '[9007199254740992, 1E2, 2.50, -0.0]', [9007199254740992, 100, 2.5, -0]],
    // Left to the request schemas, which name the member's path (config sync's walk, zod's number checks).
    ['a number out of range', '{"n":1e999}', { n: Infinity }],
    ['one name in several objects', '[{"id":1},{"id":2,"o":{"id":3}}]', [{ id: 1 }, { id: 2, o: { id: 3 } }]],
    ['strings that look like members', String.raw`{"a":"\"b\":1","c":[":", "\\", "\":"], "d":"x" , "e": ":"}`, { a: '"b":1', c: [':', '\\', '":'], d: 'x', e: ':' }],
    ['__proto__ as a member once', '{"__proto__":{"x":1},"y":2}', JSON.parse('{"__proto__":{"x":1},"y":2}')],
  ])('takes %s', (_, body, expected) => {
    expect(parseJsonBody(jsonEvent(body))).toEqual(expected);
  });

  it.each(['{"a":', "{'a':1}", '{"a":1}}', 'undefined'])('answers 400 INVALID_JSON for %s', (body) => {
    const error = thrown(() => parseJsonBody(jsonEvent(body)));
    expect(error.status).toBe(400);
    expect(error.code).toBe('INVALID_JSON');
    expect(error.field).toBe('body');
    expect(error.message).toMatch(/^Request body is not valid JSON: /);
  });

  it.each([
    ['no body', undefined],
    ['an empty body', ''],
    ['a blank body', '  \n\t '],
  ])('answers 400 for %s', (_, body) => {
    const error = thrown(() => parseJsonBody(jsonEvent(body)));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.status).toBe(400);
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.field).toBe('body');
  });

  it.each([
    ['an exponent', '1e1', { ok: true }],
    ['a surrogate escape', String.raw`"\uD83D\uDE00"`, { ok: true }],
    ['a lone surrogate', String.raw`"\uD800"`, { message: /lone surrogate \(at "0"\)/ }],
    ['a number a double rounds', '12345678901234567890', { message: /the number 12345678901234567890 \(at "0"\)/ }],
  ])('checks a body nested 30,000 levels deep around %s without overflowing the stack', (_, inner, outcome) => {
    // Within the 64 KiB limit. The checks walk the value and scan the text without recursion.
    const deep = `{"phase":"QUEUED","x":${'['.repeat(30_000)}${inner}${']'.repeat(30_000)}}`;
    expect(Buffer.byteLength(deep)).toBeLessThan(DEFAULT_MAX_BODY_BYTES);
    if ('ok' in outcome) {
      expect((parseJsonBody(jsonEvent(deep)) as { phase: string }).phase).toBe('QUEUED');
      return;
    }
    const error = thrown(() => parseJsonBody(jsonEvent(deep)));
    expect([error.status, error.code, error.field]).toEqual([400, 'INVALID_JSON', 'body']);
    expect(error.message).toMatch(outcome.message);
  });

  it.each([
    ['out of range, which the request schemas refuse', '1e999', undefined],
    ['a double rounds', '12345678901234567890', /the number 12345678901234567890 \(at "1"\)/],
    ['underflowing to 0', '-1e-400', /the number -1e-400 \(at "1"\).*stored as 0/],
  ])('checks a 3 MiB body of nested lists holding one number %s, naming where it stands', (_, number, message) => {
    const text = nestedListsJson(3 * 1024 * 1024, number);
    if (message === undefined) {
      const value = parseJsonBody(jsonEvent(text), 3 * 1024 * 1024) as { changes: unknown[][] };
      expect(value.changes.length).toBeGreaterThan(10_000);
      return;
    }
    const error = thrown(() => parseJsonBody(jsonEvent(text), 3 * 1024 * 1024));
    expect([error.status, error.code, error.field]).toEqual([400, 'INVALID_JSON', 'body']);
    expect(error.message).toMatch(message);
  });

  it.each([
    ['a member after a nested object', '{"a":{"b":[1,2]},"c":12345678901234567890}', /\(at "c"\)/],
    ['an item after nested lists', '{"a":[[1,[2]],{"x":3},12345678901234567890]}', /\(at "2"\)/],
    ['an escaped member name with a colon in a string before it', String.raw`{"s":"a\":1","n\u0061me" : 12345678901234567890}`, /\(at "name"\)/],
    ['the whole body', '12345678901234567890', /the number 12345678901234567890, which/],
  ])('names where an inexact number stands: %s', (_, body, message) => {
    expect(thrown(() => parseJsonBody(jsonEvent(body))).message).toMatch(message);
  });
});

describe('assertNoBody', () => {
  it.each([
    ['none', undefined],
    ['an empty object', ' {} '],
    ['an empty object, base64-encoded', Buffer.from('{}').toString('base64')],
  ])('accepts %s', (_label, body) => {
    expect(() => assertNoBody(event(body === undefined ? {} : { body, isBase64Encoded: body === 'e30=' }))).not.toThrow();
  });

  // A 413 the no-body routes do not declare: a long body is the same mistake as a short one.
  it.each([
    ['an option', '{"reason":"maintenance"}'],
    ['a long body', JSON.stringify({ reason: 'x'.repeat(5000) })],
    ['fewer characters than the bound but more bytes', JSON.stringify({ reason: 'é'.repeat(1000) })],
  ])('refuses %s with a 400 naming body', (_label, body) => {
    const error = (() => {
      try {
        assertNoBody(event({ body }));
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ status: 400, field: 'body' });
  });
});

describe('callerNode', () => {
  it('reads the node identity the authorizer attached', () => {
    const authorized = event();
    (authorized.requestContext as unknown as Record<string, unknown>).authorizer = { lambda: { nodeId: 'master-1', role: 'master' } };
    expect(callerNode(authorized)).toEqual({ nodeId: 'master-1', role: 'master' });
  });

  it.each([
    ['no authorizer context', undefined],
    ['no lambda context', {}],
    ['an empty lambda context', { lambda: {} }],
    ['no role', { lambda: { nodeId: 'master-1' } }],
    ['no node', { lambda: { role: 'master' } }],
  ])('answers 401 with %s', (_, authorizer) => {
    const unauthorized = event();
    if (authorizer !== undefined) (unauthorized.requestContext as unknown as Record<string, unknown>).authorizer = authorizer;
    const error = thrown(() => callerNode(unauthorized));
    expect(error.status).toBe(401);
    expect(error.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a read-only operator with 403 on a write, while callerIdentity lets it read', () => {
    const operator = event();
    (operator.requestContext as unknown as Record<string, unknown>).authorizer = { lambda: { nodeId: 'ops', role: 'operator' } };
    const error = thrown(() => callerNode(operator));
    expect(error).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(callerIdentity(operator)).toEqual({ nodeId: 'ops', role: 'operator' });
  });
});

describe('errorResponse', () => {
  afterEach(() => jest.restoreAllMocks());

  it('maps an AppError to its status and a { code, message } JSON body', () => {
    const result = errorResponse(new NotFoundError('Execution', 'e1'));
    expect(result.statusCode).toBe(404);
    expect(result.headers).toEqual({ 'content-type': 'application/json' });
    expect(JSON.parse(result.body!)).toEqual({ code: 'NOT_FOUND', message: 'Execution e1 does not exist' });
  });

  it('names the field of a validation error', () => {
    const result = errorResponse(new ValidationError('progress', 'must be at most 100'));
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body!)).toEqual({ code: 'INVALID_REQUEST', message: 'progress: must be at most 100', field: 'progress' });
  });

  it('spreads the details a client can act on into the body', () => {
    const result = errorResponse(new ConflictError('INVALID_TRANSITION', 'no', { from: 'SUCCEEDED', to: 'RUNNING' }));
    expect(result.statusCode).toBe(409);
    expect(JSON.parse(result.body!)).toEqual({ code: 'INVALID_TRANSITION', message: 'no', from: 'SUCCEEDED', to: 'RUNNING' });
  });

  it('answers Retry-After when the error says when to send the request again', () => {
    const inProgress = errorResponse(new IdempotentRequestInProgressError('k1', 7));
    expect(inProgress.statusCode).toBe(409);
    expect(inProgress.headers).toEqual({ 'content-type': 'application/json', 'retry-after': '1' });
    expect(JSON.parse(inProgress.body!)).toMatchObject({ code: 'IDEMPOTENT_REQUEST_IN_PROGRESS', sequence: 7, field: 'Idempotency-Key' });
    const abandoned = errorResponse(new SequenceRangeAbandonedError(3, 5));
    expect(abandoned.statusCode).toBe(503);
    expect(abandoned.headers?.['retry-after']).toBe('1');
    const busy = errorResponse(new GatewayBusyError(5000, 3, Date.now() + 3000));
    expect(busy.headers?.['retry-after']).toBe('3');
    expect(JSON.parse(busy.body!)).toMatchObject({ code: 'GATEWAY_BUSY', retryAfterSeconds: 3 });
  });

  it('answers Allow with a 405, naming the methods the resource takes', () => {
    const result = errorResponse(new MethodNotAllowedError(['GET', 'PUT'], 'PATCH is not taken here'));
    expect(result.statusCode).toBe(405);
    expect(result.headers).toEqual({ 'content-type': 'application/json', allow: 'GET, PUT' });
    expect(JSON.parse(result.body!)).toEqual({ code: 'METHOD_NOT_ALLOWED', message: 'PATCH is not taken here' });
  });

  it('answers an unknown error with a 500 that does not leak its message, and logs it', () => {
    const log = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    const secret = new Error('connect ECONNREFUSED 10.1.2.3:5432 password=hunter2');
    const result = errorResponse(secret);
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('hunter2');
    expect(result.body).not.toContain('ECONNREFUSED');
    expect(JSON.parse(result.body!)).toEqual({ code: 'INTERNAL_ERROR', message: expect.any(String) });
    expect(log).toHaveBeenCalledWith('Unhandled error', secret);
  });

  it('answers a thrown non-Error with a 500 too', () => {
    jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    expect(errorResponse('boom').statusCode).toBe(500);
    expect(errorResponse(undefined).statusCode).toBe(500);
  });
});

describe('requestBaseUrl', () => {
  const withHeaders = (headers: Record<string, string>, domainName = 'api.example.com') => {
    const e = event({ headers });
    e.requestContext.domainName = domainName;
    return e;
  };

  it('uses the configured public base URL over the request, without trailing slashes', () => {
    const e = withHeaders({ host: 'other.example.org' });
    expect(requestBaseUrl(e, 'https://maps.example.com/wps/')).toBe('https://maps.example.com/wps');
    expect(requestBaseUrl(e, 'https://maps.example.com//')).toBe('https://maps.example.com');
  });

  it('ignores an empty configured URL', () => {
    expect(requestBaseUrl(withHeaders({ host: 'h.example.com' }), '')).toBe('https://h.example.com');
  });

  it('builds the URL from the host header, over the request context domain', () => {
    expect(requestBaseUrl(withHeaders({ host: 'custom.example.com' }, 'abc.execute-api.us-east-1.amazonaws.com'))).toBe(
      'https://custom.example.com',
    );
  });

  it('falls back to the request context domain without a host header', () => {
    expect(requestBaseUrl(withHeaders({}, 'abc.execute-api.us-east-1.amazonaws.com'))).toBe(
      'https://abc.execute-api.us-east-1.amazonaws.com',
    );
  });

  it('falls back to the request context domain when the host header is malformed', () => {
    expect(requestBaseUrl(withHeaders({ host: 'evil.example.com/path' }, 'api.example.com'))).toBe('https://api.example.com');
  });

  it('keeps a port', () => {
    expect(requestBaseUrl(withHeaders({ host: 'api.example.com:8443' }))).toBe('https://api.example.com:8443');
  });

  it.each([
    ['http', 'http'],
    ['HTTPS', 'https'],
    ['http, https', 'http'],
  ])('takes the scheme from x-forwarded-proto %s', (proto, scheme) => {
    expect(requestBaseUrl(withHeaders({ host: 'api.example.com', 'x-forwarded-proto': proto }))).toBe(`${scheme}://api.example.com`);
  });

  it('ignores an x-forwarded-proto that is not http or https', () => {
    expect(requestBaseUrl(withHeaders({ host: 'api.example.com', 'x-forwarded-proto': 'javascript' }))).toBe('https://api.example.com');
    expect(requestBaseUrl(withHeaders({ host: 'localhost:3000', 'x-forwarded-proto': 'ftp' }))).toBe('http://localhost:3000');
  });

  it.each(['localhost', 'localhost:3000', 'LOCALHOST:3000', '127.0.0.1:4000', '127.1.2.3', '[::1]:3000'])(
    'defaults to http for the loopback host %s',
    (host) => {
      expect(requestBaseUrl(withHeaders({ host }))).toBe(`http://${host}`);
    },
  );

  it.each(['api.example.com', '10.0.0.1:3000', '[2001:db8::1]', 'localhost.example.com', '127.0.0.1.nip.io'])(
    'defaults to https for the non-loopback host %s',
    (host) => {
      expect(requestBaseUrl(withHeaders({ host }))).toBe(`https://${host}`);
    },
  );

  it('lets x-forwarded-proto override the loopback default', () => {
    expect(requestBaseUrl(withHeaders({ host: 'localhost:3000', 'x-forwarded-proto': 'https' }))).toBe('https://localhost:3000');
  });

  it.each(['evil.com/x', 'user@evil.com', 'a b', 'evil.com:port', 'evil.com:123456', '-bad.com', '"><script>', ''])(
    'refuses the malformed host %j when there is nothing else to build from',
    (host) => {
      const error = thrown(() => requestBaseUrl(withHeaders({ host }, '')));
      expect(error.status).toBe(400);
      expect(error.code).toBe('INVALID_HOST');
      expect(error.field).toBe('host');
    },
  );

  it('trims whitespace around the host', () => {
    expect(requestBaseUrl(withHeaders({ host: ' api.example.com ' }))).toBe('https://api.example.com');
  });
});

describe('answersHead', () => {
  const withMethod = (method: string): HttpEvent => {
    const base = event();
    return { ...base, requestContext: { ...base.requestContext, http: { ...base.requestContext.http, method } } };
  };
  const route = answersHead(async (request: HttpEvent) => ({
    statusCode: 200,
    headers: { 'content-type': 'application/json', etag: 'W/"a"', seen: request.requestContext.http.method },
    body: '{"a":1}',
  }));

  it("answers HEAD with GET's status and headers, no body, and lets the route see the method", async () => {
    expect(await route(withMethod('HEAD'))).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json', etag: 'W/"a"', seen: 'HEAD', 'content-length': '7' } });
  });

  it('passes any other method through untouched', async () => {
    expect(await route(withMethod('GET'))).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json', etag: 'W/"a"', seen: 'GET' }, body: '{"a":1}' });
  });
});
