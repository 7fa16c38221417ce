import * as net from 'node:net';
import { LocalApiServer, type ApiServerOptions } from '../../../local/api-server';
import { LocalStartError } from '../../../local/errors';
import type { LocalFunctionHost } from '../../../local/lambda-runner';
import type { LocalAuthorizer, LocalRoute } from '../../../local/template';
import { requestWithHost } from '../../support/host-header';

/** A stand-in for a function host: answers with `respond` and records every event. */
interface FakeHost {
  events: any[];
  invoke(event: unknown): Promise<unknown>;
}

function fakeHost(respond: (event: any) => unknown = () => ({ statusCode: 200, body: 'ok' })): FakeHost {
  const events: any[] = [];
  return {
    events,
    async invoke(event: unknown) {
      // Copy as a real host would (the event crosses a process boundary as JSON).
      events.push(JSON.parse(JSON.stringify(event)));
      return respond(event);
    },
  };
}

const servers: LocalApiServer[] = [];
async function start(routes: LocalRoute[], hosts: Record<string, FakeHost>, options: Partial<ApiServerOptions> = {}): Promise<string> {
  const server = new LocalApiServer({
    routes,
    hosts: new Map(Object.entries(hosts)) as unknown as Map<string, LocalFunctionHost>,
    ...options,
  });
  servers.push(server);
  const port = await server.listen(0);
  return `http://127.0.0.1:${port}`;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  jest.restoreAllMocks();
});

const route = (method: string, path: string, functionId: string, authorizer?: LocalAuthorizer): LocalRoute => ({
  method,
  path,
  functionId,
  authorizer,
});

describe('route matching', () => {
  const hosts = {
    job: fakeHost(() => ({ route: 'job' })),
    conformance: fakeHost(() => ({ route: 'conformance' })),
    results: fakeHost(() => ({ route: 'results' })),
    proxy: fakeHost(() => ({ route: 'proxy' })),
    fallback: fakeHost(() => ({ route: 'fallback' })),
    postJob: fakeHost(() => ({ route: 'postJob' })),
  };
  // Listed with the parameter and greedy routes first: the order must not decide.
  const routes = [
    route('ANY', '$default', 'fallback'),
    route('GET', '/files/{path+}', 'proxy'),
    route('GET', '/jobs/{jobId}', 'job'),
    route('GET', '/jobs/{jobId}/results', 'results'),
    route('GET', '/jobs/conformance', 'conformance'),
    route('POST', '/jobs/{jobId}', 'postJob'),
  ];
  let base: string;
  beforeEach(async () => {
    for (const host of Object.values(hosts)) host.events.length = 0;
    base = await start(routes, hosts);
  });

  const routeOf = async (path: string, method = 'GET') => ((await (await fetch(`${base}${path}`, { method })).json()) as { route: string }).route;

  it('answers 400 to a path with a malformed escape, without invoking anything', async () => {
    const response = await fetch(`${base}/jobs/%E0%A4%A`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ message: 'Bad Request' });
    expect(hosts.job.events).toHaveLength(0);
  });

  it('prefers a literal segment over a path parameter', async () => {
    expect(await routeOf('/jobs/conformance')).toBe('conformance');
    expect(await routeOf('/jobs/conformance2')).toBe('job');
    expect(await routeOf('/jobs/e1')).toBe('job');
  });

  it('matches the method and the whole path', async () => {
    expect(await routeOf('/jobs/e1', 'POST')).toBe('postJob');
    expect(await routeOf('/jobs/e1/results')).toBe('results');
  });

  it('prefers a parameter route over a greedy one, and any route over $default', async () => {
    expect(await routeOf('/files/a/b/c.txt')).toBe('proxy');
    expect(await routeOf('/elsewhere')).toBe('fallback');
    expect(await routeOf('/jobs/e1', 'DELETE')).toBe('fallback');
  });

  it('passes path parameters decoded, and the greedy parameter with its slashes', async () => {
    await fetch(`${base}/jobs/a%20b%3A1`);
    expect(hosts.job.events[0].pathParameters).toEqual({ jobId: 'a b:1' });
    await fetch(`${base}/files/dir/sub/file.txt`);
    expect(hosts.proxy.events[0].pathParameters).toEqual({ path: 'dir/sub/file.txt' });
  });

  // An HTTP API routes the path decoded: an encoded "/" separates segments like any other, and
  // a parameter's value is decoded once more (what it routed on still held `%2F` for a `%252F`).
  it('routes on the decoded path, as an HTTP API does: %2F is a segment break, %252F a "/" in a parameter', async () => {
    expect(await routeOf('/jobs/a%2Fresults')).toBe('results');
    expect(await routeOf('/jobs/a%252Fb')).toBe('job');
    expect(hosts.job.events[0].pathParameters).toEqual({ jobId: 'a/b' });
  });

  it('answers 404 Not Found when no route matches', async () => {
    const only = await start([route('GET', '/jobs/{jobId}', 'job')], hosts);
    for (const [method, path] of [
      ['GET', '/nothing'],
      ['GET', '/jobs'],
      ['GET', '/jobs/e1/extra'],
      ['PUT', '/jobs/e1'],
    ] as const) {
      const response = await fetch(`${only}${path}`, { method });
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.text()).toBe('{"message":"Not Found"}');
    }
  });
});

describe('the Lambda REQUEST authorizer', () => {
  const authorizer = (cacheTtlSeconds = 60): LocalAuthorizer => ({
    functionId: 'auth',
    identitySource: ['$request.header.Authorization'],
    cacheTtlSeconds,
  });
  const allowOnly = (token: string) =>
    fakeHost((event: any) =>
      event.headers.authorization === `Bearer ${token}`
        ? { isAuthorized: true, context: { nodeId: 'master-1', role: 'master' } }
        : { isAuthorized: false, context: {} },
    );

  it('answers 401 without the identity source and does not invoke the authorizer or the route', async () => {
    const auth = allowOnly('good');
    const target = fakeHost();
    const base = await start([route('PUT', '/executions/{id}', 'target', authorizer())], { auth, target });
    for (const headers of [{}, { authorization: '' }] as Record<string, string>[]) {
      const response = await fetch(`${base}/executions/e1`, { method: 'PUT', headers });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ message: 'Unauthorized' });
    }
    expect(auth.events).toHaveLength(0);
    expect(target.events).toHaveLength(0);
  });

  it('answers 403 when the authorizer denies, without invoking the route', async () => {
    const auth = allowOnly('good');
    const target = fakeHost();
    const base = await start([route('PUT', '/executions/{id}', 'target', authorizer())], { auth, target });
    const response = await fetch(`${base}/executions/e1`, { method: 'PUT', headers: { authorization: 'Bearer bad' } });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ message: 'Forbidden' });
    expect(auth.events).toHaveLength(1);
    expect(target.events).toHaveLength(0);
  });

  it('gives the authorizer a v2 REQUEST event with the identity', async () => {
    const auth = allowOnly('good');
    const base = await start([route('PUT', '/executions/{id}', 'target', authorizer())], { auth, target: fakeHost() });
    await fetch(`${base}/executions/e1?x=1`, { method: 'PUT', headers: { authorization: 'Bearer good' } });
    expect(auth.events[0]).toMatchObject({
      version: '2.0',
      type: 'REQUEST',
      identitySource: ['Bearer good'],
      routeKey: 'PUT /executions/{id}',
      rawPath: '/executions/e1',
      rawQueryString: 'x=1',
      pathParameters: { id: 'e1' },
    });
    expect(auth.events[0].routeArn).toMatch(/\/PUT\/executions\/e1$/);
  });

  it("passes an allowed request on with the authorizer's context in requestContext.authorizer.lambda", async () => {
    const auth = allowOnly('good');
    const target = fakeHost();
    const base = await start([route('PUT', '/executions/{id}', 'target', authorizer())], { auth, target });
    const response = await fetch(`${base}/executions/e1`, { method: 'PUT', headers: { authorization: 'Bearer good' } });
    expect(response.status).toBe(200);
    expect(target.events[0].requestContext.authorizer).toEqual({ lambda: { nodeId: 'master-1', role: 'master' } });
  });

  it('does not run the authorizer for a route without one', async () => {
    const auth = allowOnly('good');
    const target = fakeHost();
    const base = await start([route('GET', '/open', 'target')], { auth, target });
    expect((await fetch(`${base}/open`)).status).toBe(200);
    expect(auth.events).toHaveLength(0);
    expect(target.events[0].requestContext.authorizer).toBeUndefined();
  });

  it('caches a verdict per identity for the TTL', async () => {
    const auth = allowOnly('good');
    const target = fakeHost();
    const base = await start([route('PUT', '/executions/{id}', 'target', authorizer(60))], { auth, target });
    const put = (token: string) => fetch(`${base}/executions/e1`, { method: 'PUT', headers: { authorization: `Bearer ${token}` } });

    expect((await put('good')).status).toBe(200);
    expect((await put('good')).status).toBe(200);
    expect(auth.events).toHaveLength(1);
    expect(target.events).toHaveLength(2);
    expect(target.events[1].requestContext.authorizer).toEqual({ lambda: { nodeId: 'master-1', role: 'master' } });

    // A denial is cached too, separately from the allowed identity.
    expect((await put('bad')).status).toBe(403);
    expect((await put('bad')).status).toBe(403);
    expect(auth.events).toHaveLength(2);

    // Past the TTL the authorizer is asked again.
    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    expect((await put('good')).status).toBe(200);
    expect(auth.events).toHaveLength(3);
  });

  it('keeps its cache of verdicts bounded: expired ones go, and past its size the oldest, however many tokens strangers send', async () => {
    const auth = allowOnly('good');
    const server = new LocalApiServer({
      routes: [route('GET', '/x', 'target', authorizer(60))],
      hosts: new Map(Object.entries({ auth, target: fakeHost() })) as unknown as Map<string, LocalFunctionHost>,
      authCacheMaxEntries: 50,
    });
    servers.push(server);
    const base = `http://127.0.0.1:${await server.listen(0)}`;
    const cached = () => (server as unknown as { authCache: Map<string, unknown> }).authCache.size;
    const get = (token: string) => fetch(`${base}/x`, { headers: { authorization: `Bearer ${token}` } }).then((response) => response.status);

    expect(await get('good')).toBe(200);
    for (let i = 0; i < 120; i += 1) expect(await get(`stranger-${i}-${'x'.repeat(4096)}`)).toBe(403);
    expect(cached()).toBeLessThanOrEqual(50);

    // Past the TTL, the next verdict cached sweeps the expired ones.
    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    expect(await get('good')).toBe(200);
    expect(cached()).toBe(1);
  });

  it('asks the authorizer every time when the TTL is 0', async () => {
    const auth = allowOnly('good');
    const base = await start([route('GET', '/x', 'target', authorizer(0))], { auth, target: fakeHost() });
    await fetch(`${base}/x`, { headers: { authorization: 'Bearer good' } });
    await fetch(`${base}/x`, { headers: { authorization: 'Bearer good' } });
    expect(auth.events).toHaveLength(2);
  });

  it('answers 500 when the authorizer fails', async () => {
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const auth = fakeHost(() => {
      throw new Error('authorizer crashed');
    });
    const target = fakeHost();
    const base = await start([route('GET', '/x', 'target', authorizer())], { auth, target });
    const response = await fetch(`${base}/x`, { headers: { authorization: 'Bearer good' } });
    expect(response.status).toBe(500);
    expect(target.events).toHaveLength(0);
  });
});

describe('the v2 event', () => {
  const target = fakeHost();
  let base: string;
  beforeEach(async () => {
    target.events.length = 0;
    base = await start([route('ANY', '/jobs/{jobId}', 'target'), route('GET', '/jobs', 'target')], { target });
  });

  it('carries the route key, raw path and raw query string', async () => {
    await fetch(`${base}/jobs/e1?status=running&limit=5`);
    const [event] = target.events;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'ANY /jobs/{jobId}',
      rawPath: '/jobs/e1',
      rawQueryString: 'status=running&limit=5',
      requestContext: { routeKey: 'ANY /jobs/{jobId}', stage: '$default', http: { method: 'GET', path: '/jobs/e1' } },
    });
  });

  // What an HTTP API puts in rawPath and requestContext.http.path, from live AWS captures (the
  // ingress probe of hotsock/voker, vokerhttp/testdata/ingress-paths.json): the path decoded, cut
  // at a "?" the decoding made, and decoded again; where that fails, 400 before any function.
  it.each([
    ['/jobs/plain', '/jobs/plain'],
    ['/jobs/space%20value', '/jobs/space value'],
    ['/jobs/question%3Fvalue', '/jobs/question'],
    ['/jobs/hash%23value', '/jobs/hash#value'],
    ['/jobs/unicode-%CE%BB-%E4%B8%96%E7%95%8C', '/jobs/unicode-λ-世界'],
    ['/jobs/literal%253Fvalue', '/jobs/literal?value'],
    ['/jobs/literal%2525value', '/jobs/literal%value'],
  ])('delivers %s as rawPath %s, as an HTTP API does', async (sent, delivered) => {
    await fetch(`${base}${sent}?marker=path-probe&value=a%3Fb%25c%23d`);
    expect(target.events).toHaveLength(1);
    expect([target.events[0].rawPath, target.events[0].requestContext.http.path]).toEqual([delivered, delivered]);
    expect(target.events[0].rawQueryString).toBe('marker=path-probe&value=a%3Fb%25c%23d');
  });

  it('answers 400 where the second decoding fails (%25 before what is no escape), as an HTTP API does', async () => {
    const response = await fetch(`${base}/jobs/percent%25done`);
    expect([response.status, await response.json()]).toEqual([400, { message: 'Bad Request' }]);
    expect(target.events).toHaveLength(0);
  });

  it('joins repeated query parameters with commas', async () => {
    await fetch(`${base}/jobs?status=running&status=accepted&limit=5&processID=a%2Cb`);
    expect(target.events[0].queryStringParameters).toEqual({ status: 'running,accepted', limit: '5', processID: 'a,b' });
  });

  it('has no query parameters or path parameters when there are none', async () => {
    await fetch(`${base}/jobs`);
    expect(target.events[0].queryStringParameters).toBeUndefined();
    expect(target.events[0].pathParameters).toBeUndefined();
    expect(target.events[0].rawQueryString).toBe('');
  });

  it("sets x-forwarded-proto, -for and -port itself, as API Gateway does, whatever the client sent", async () => {
    const port = new URL(base).port;
    await fetch(`${base}/jobs/e1`, { headers: { 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': '203.0.113.9', 'X-Forwarded-Port': '443' } });
    await fetch(`${base}/jobs/e1`);
    for (const { headers, requestContext } of target.events) {
      expect(headers['x-forwarded-proto']).toBe('http');
      expect(headers['x-forwarded-port']).toBe(port);
      expect(headers['x-forwarded-for']).toBe('127.0.0.1');
      expect(requestContext.http.sourceIp).toBe('127.0.0.1');
    }
  });

  it('moves cookies out of headers into the cookies array, one entry per cookie, from every Cookie header', async () => {
    await fetch(`${base}/jobs/e1`, { headers: { Cookie: 'a=1; b=two words' } });
    await requestWithHost(`${base}/jobs/e1`, `127.0.0.1:${new URL(base).port}`, { headers: { cookie: ['c=3', 'd=4;e=5'] } });
    await fetch(`${base}/jobs/e1`);
    const [single, several, none] = target.events;
    expect(single.cookies).toEqual(['a=1', 'b=two words']);
    expect(several.cookies).toEqual(['c=3', 'd=4', 'e=5']);
    expect(none.cookies).toBeUndefined();
    for (const event of target.events) expect(event.headers.cookie).toBeUndefined();
  });

  it('lower-cases header names', async () => {
    await fetch(`${base}/jobs/e1`, { headers: { 'X-Custom-Header': 'Value', 'If-None-Match': 'W/"1"' } });
    const { headers } = target.events[0];
    expect(headers['x-custom-header']).toBe('Value');
    expect(headers['if-none-match']).toBe('W/"1"');
    expect(Object.keys(headers).filter((name) => name !== name.toLowerCase())).toEqual([]);
    expect(target.events[0].requestContext.domainName).toBe(headers.host);
  });

  it('passes a JSON body as text', async () => {
    await fetch(`${base}/jobs/e1`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"phase":"RUNNING"}' });
    expect(target.events[0]).toMatchObject({ body: '{"phase":"RUNNING"}', isBase64Encoded: false });
  });

  it('passes a binary body base64-encoded', async () => {
    const bytes = Buffer.from([0, 1, 2, 254, 255]);
    await fetch(`${base}/jobs/e1`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    expect(target.events[0].isBase64Encoded).toBe(true);
    expect(Buffer.from(target.events[0].body, 'base64')).toEqual(bytes);
  });

  it('has no body for a request without one', async () => {
    await fetch(`${base}/jobs/e1`);
    expect(target.events[0].body).toBeUndefined();
    expect(target.events[0].isBase64Encoded).toBe(false);
  });
});

describe('the response mapping', () => {
  async function answer(result: unknown, init?: RequestInit): Promise<Response> {
    const base = await start([route('ANY', '/r', 'target')], { target: fakeHost(() => result) });
    return fetch(`${base}/r`, init);
  }

  it('maps a structured result: status, headers and body', async () => {
    const response = await answer({
      statusCode: 201,
      headers: { 'Content-Type': 'text/xml', ETag: '"v1"', 'Retry-After': 5 },
      body: '<ok/>',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('text/xml');
    expect(response.headers.get('etag')).toBe('"v1"');
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.text()).toBe('<ok/>');
  });

  it('decodes a base64 body', async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 255]);
    const response = await answer({
      statusCode: 200,
      headers: { 'content-type': 'image/png' },
      body: bytes.toString('base64'),
      isBase64Encoded: true,
    });
    expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes);
    expect(response.headers.get('content-length')).toBe(String(bytes.length));
  });

  it('sends no body with a 304', async () => {
    const response = await answer({ statusCode: 304, headers: { etag: '"v1"' }, body: 'should not be sent' });
    expect(response.status).toBe(304);
    expect(response.headers.get('etag')).toBe('"v1"');
    expect(await response.text()).toBe('');
  });

  it('sends cookies as Set-Cookie', async () => {
    const response = await answer({ statusCode: 200, cookies: ['a=1', 'b=2'], body: '' });
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
  });

  it('turns a bare object into a 200 JSON response', async () => {
    const response = await answer({ jobs: [], links: [{ rel: 'self' }] });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ jobs: [], links: [{ rel: 'self' }] });
  });

  it('turns a bare string into a 200 with that string', async () => {
    const response = await answer('hello');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('hello');
  });

  it('answers 500 Internal Server Error when the function throws', async () => {
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const base = await start([route('GET', '/r', 'target')], {
      target: fakeHost(() => {
        throw new Error('handler crashed: secret detail');
      }),
    });
    const response = await fetch(`${base}/r`);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('{"message":"Internal Server Error"}');
  });

  it('answers 500 when the route names a function that is not hosted', async () => {
    const base = await start([route('GET', '/r', 'missing')], {});
    expect((await fetch(`${base}/r`)).status).toBe(500);
  });
});

describe('the payload limit', () => {
  const LIMIT = 10 * 1024 * 1024;
  /** Lambda's synchronous invocation limit, on the event and on the function's answer (6,291,456 bytes). */
  const LAMBDA_LIMIT = 6 * 1024 * 1024;
  const bareInternalError = async (response: Response) => {
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'Internal Server Error' });
  };

  // Under API Gateway's 10 MB, over Lambda's 6 MB once in the event: Lambda refuses the invocation
  // (RequestEntityTooLargeException) and API Gateway answers its bare 500; the function never runs.
  it.each([
    ['a text body', 'text/plain', () => 'x'.repeat(LAMBDA_LIMIT)],
    ['a binary body of 4.5 MiB, 6 MiB once base64-encoded', 'application/octet-stream', () => Buffer.alloc(4.5 * 1024 * 1024, 0xff)],
    ['a JSON body of 3.5 MiB of quotes, which JSON escaping doubles', 'application/json', () => JSON.stringify('"'.repeat(3.5 * 1024 * 1024))],
  ])('answers 500 to %s whose event is over 6 MB, without invoking the function, and says why on stderr', async (_what, contentType, body) => {
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const target = fakeHost();
    const base = await start([route('POST', '/upload', 'target')], { target });
    await bareInternalError(await fetch(`${base}/upload`, { method: 'POST', headers: { 'content-type': contentType }, body: body() }));
    expect(target.events).toHaveLength(0);
    expect(logged.mock.calls.map((call) => String(call[0])).join('\n')).toMatch(/byte payload is too large for the RequestResponse invocation type \(limit 6291456 bytes\)/);
  });

  it("answers 500 when the function's answer is over Lambda's 6 MB, and says why on stderr", async () => {
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const target = fakeHost(() => ({ statusCode: 200, body: 'x'.repeat(LAMBDA_LIMIT) }));
    const base = await start([route('GET', '/big', 'target')], { target });
    await bareInternalError(await fetch(`${base}/big`));
    expect(logged.mock.calls.map((call) => String(call[0])).join('\n')).toMatch(/Response payload size exceeded maximum allowed payload size \(6291456 bytes\)/);
  });

  it("passes on an answer within Lambda's 6 MB", async () => {
    const target = fakeHost(() => ({ statusCode: 200, body: 'x'.repeat(LAMBDA_LIMIT - 4096) }));
    const base = await start([route('GET', '/big', 'target')], { target });
    const response = await fetch(`${base}/big`);
    expect(response.status).toBe(200);
    expect((await response.text()).length).toBe(LAMBDA_LIMIT - 4096);
  });

  it('measures a small event and answer without serializing them (the 6 MB check stays off the hot path)', async () => {
    const answer = { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"status":"running"}' };
    let event: unknown;
    const target = {
      events: [],
      async invoke(received: unknown) {
        event = received;
        return answer;
      },
    };
    const base = await start([route('POST', '/jobs/{jobId}', 'target')], { target });
    const stringify = jest.spyOn(JSON, 'stringify');
    const response = await fetch(`${base}/jobs/j-1?wait=0`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"poll":true}' });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('{"status":"running"}');
    expect(event).toBeDefined();
    const serialized = stringify.mock.calls.map(([value]) => value);
    expect(serialized).not.toContain(event);
    expect(serialized).not.toContain(answer);
  });

  it('answers 413 to a body over 10 MiB without invoking the function', async () => {
    const target = fakeHost();
    const base = await start([route('POST', '/upload', 'target')], { target });
    const response = await fetch(`${base}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(LIMIT + 1, 1),
    });
    expect(response.status).toBe(413);
    expect(target.events).toHaveLength(0);
  });

  it('passes on a body whose event is within Lambda\'s 6 MB', async () => {
    const target = fakeHost(() => ({ statusCode: 204 }));
    const base = await start([route('POST', '/upload', 'target')], { target });
    const body = 'x'.repeat(LAMBDA_LIMIT - 4096);
    const response = await fetch(`${base}/upload`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
    expect(response.status).toBe(204);
    expect(target.events[0].body).toBe(body);
  });
});

describe('the Host a request is addressed to (DNS rebinding)', () => {
  const adminCalls: string[] = [];
  const admin = async (request: { path: string }) => {
    adminCalls.push(request.path);
    return { status: 200, body: { ok: true } };
  };
  beforeEach(() => (adminCalls.length = 0));

  it('refuses 403 a route or /__local request addressed to a name that is not loopback, invoking nothing', async () => {
    const target = fakeHost();
    const base = await start([route('ANY', '$default', 'target')], { target }, { admin });
    const port = new URL(base).port;
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`]) {
      for (const path of ['/jobs', '/__local/health']) {
        const refused = await requestWithHost(`${base}${path}`, host);
        expect({ host, path, status: refused.status }).toEqual({ host, path, status: 403 });
        expect(JSON.parse(refused.body).message).toContain(`Host '${host}' is not a loopback name`);
      }
    }
    expect(JSON.parse((await requestWithHost(`${base}/jobs`, 'evil.example')).body).message).toContain('--allow-host');
    expect(target.events).toHaveLength(0);
    expect(adminCalls).toHaveLength(0);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'localhost']) {
      expect((await requestWithHost(`${base}/jobs`, host)).status).toBe(200);
      expect((await requestWithHost(`${base}/__local/health`, host)).status).toBe(200);
    }
    expect(target.events).toHaveLength(4);
    expect(adminCalls).toHaveLength(4);
  });

  it('serves the routes, never /__local, to a name given in allowedHosts (npm start --allow-host)', async () => {
    const target = fakeHost();
    const base = await start([route('ANY', '$default', 'target')], { target }, { admin, allowedHosts: ['geoserver-host'] });
    const port = new URL(base).port;
    const answered = await requestWithHost(`${base}/jobs`, `GeoServer-Host:${port}`);
    expect(answered.status).toBe(200);
    expect(target.events[0].headers.host).toBe(`GeoServer-Host:${port}`);
    expect((await requestWithHost(`${base}/__local/health`, `geoserver-host:${port}`)).status).toBe(403);
    expect((await requestWithHost(`${base}/jobs`, 'other-host')).status).toBe(403);
    expect(adminCalls).toHaveLength(0);
    expect(target.events).toHaveLength(1);
  });
});

test('a port another process took since npm start checked it is refused with the check\'s message', async () => {
  const busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen({ port: 0, host: '127.0.0.1' }, resolve));
  const port = (busy.address() as net.AddressInfo).port;
  try {
    const server = new LocalApiServer({ routes: [], hosts: new Map() });
    const listening = server.listen(port);
    await expect(listening).rejects.toBeInstanceOf(LocalStartError);
    await expect(listening).rejects.toThrow(`Port ${port} (API) is in use: stop the other process or pass --port N`);
  } finally {
    await new Promise<void>((resolve) => busy.close(() => resolve()));
  }
});
