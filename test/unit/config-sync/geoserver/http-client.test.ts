/**
 * The HTTP adapter of a GeoServer's REST API, against a local HTTP server on 127.0.0.1: Basic
 * authentication, bodies and content types as sent, no answer told from an answer, cached
 * credentials dropped on a 401, credentials never in an error, and one bound for a call with its
 * credentials' read.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CachedCredentials, GeoServerAnswerTooLargeError, HttpGeoServer, MAX_READ_ANSWER_BYTES, parseCredentials } from '../../../../lambdas/config-sync/adapters/geoserver-http';
import { GeoServerUnreachableError } from '../../../../lambdas/config-sync/geoserver/errors';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
let answer: { status: number; text: string; hang?: boolean } = { status: 200, text: '' };

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') });
      if (answer.hang) return;
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/geoserver`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
  answer = { status: 200, text: '' };
});

const credentials = (username = 'admin', password = 's3cr:et') => {
  let loads = 0;
  const provider = new CachedCredentials(async () => {
    loads += 1;
    return { username, password };
  });
  return { provider, loads: () => loads };
};

test('sends JSON and documents with Basic authentication under <url>/rest', async () => {
  const { provider } = credentials();
  const geoserver = new HttpGeoServer({ url: `${base}/`, credentials: provider });
  answer = { status: 201, text: 'topp' };
  expect(await geoserver.send({ method: 'POST', path: '/workspaces', body: { json: { workspace: { name: 'topp' } } } })).toEqual({ status: 201, text: 'topp' });
  const sld = '<StyledLayerDescriptor>é</StyledLayerDescriptor>';
  await geoserver.send({ method: 'PUT', path: '/styles/roads', query: { raw: 'true' }, body: { text: sld, contentType: 'application/vnd.ogc.sld+xml' } });
  expect(seen).toEqual([
    {
      method: 'POST',
      url: '/geoserver/rest/workspaces',
      authorization: `Basic ${Buffer.from('admin:s3cr:et').toString('base64')}`,
      contentType: 'application/json',
      body: '{"workspace":{"name":"topp"}}',
    },
    expect.objectContaining({ method: 'PUT', url: '/geoserver/rest/styles/roads?raw=true', contentType: 'application/vnd.ogc.sld+xml', body: sld }),
  ]);
});

test('hands back 4xx and 5xx answers as they are', async () => {
  const geoserver = new HttpGeoServer({ url: base, credentials: credentials().provider });
  answer = { status: 500, text: 'java.lang.NullPointerException' };
  expect(await geoserver.send({ method: 'GET', path: '/about/version' })).toEqual({ status: 500, text: 'java.lang.NullPointerException' });
});

test("reads a large catalog listing whole, cuts a write's long answer, and refuses a read it would have to cut", async () => {
  const geoserver = new HttpGeoServer({ url: base, credentials: credentials().provider });
  // About what /layers.json answers for a catalog of 20,000 layers.
  const listing = JSON.stringify({ layers: { layer: Array.from({ length: 20_000 }, (_, i) => ({ name: `ws${i % 200}:t${i}`, href: `http://127.0.0.1/geoserver/rest/layers/ws${i % 200}:t${i}.json` })) } });
  expect(listing.length).toBeGreaterThan(1024 * 1024);
  answer = { status: 200, text: listing };
  expect((await geoserver.send({ method: 'GET', path: '/layers.json' })).text).toBe(listing);
  answer = { status: 500, text: 'x'.repeat(200 * 1024) };
  expect((await geoserver.send({ method: 'PUT', path: '/workspaces/topp', body: { json: { workspace: { name: 'topp' } } } })).text).toHaveLength(64 * 1024);
  answer = { status: 200, text: 'y'.repeat(MAX_READ_ANSWER_BYTES + 1) };
  await expect(geoserver.send({ method: 'GET', path: '/layers.json' })).rejects.toBeInstanceOf(GeoServerAnswerTooLargeError);
});

test('tells no answer (refused, timeout) apart, without the credentials in the message', async () => {
  const refused = new HttpGeoServer({ url: 'http://127.0.0.1:9/geoserver', credentials: credentials('admin', 'topsecret').provider });
  const error = await refused.send({ method: 'GET', path: '/about/version' }).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(GeoServerUnreachableError);
  expect(String((error as Error).message)).not.toContain('topsecret');
  expect((error as GeoServerUnreachableError).timedOut).toBe(false);
  answer = { status: 200, text: '', hang: true };
  const slow = new HttpGeoServer({ url: base, credentials: credentials().provider, timeoutMs: 200 });
  await expect(slow.send({ method: 'GET', path: '/about/version' })).rejects.toMatchObject({ message: 'no answer before the timeout', timedOut: true });
  const unreadable = new HttpGeoServer({
    url: base,
    credentials: new CachedCredentials(async () => {
      throw new Error('AccessDeniedException: not allowed');
    }),
  });
  await expect(unreadable.send({ method: 'GET', path: '/about/version' })).rejects.toThrow('could not read the GeoServer credentials');
});

test('an answer dripped slowly times out within the same bound as one never begun', async () => {
  const drip = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const timer = setInterval(() => res.write(' '), 20);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => drip.listen(0, '127.0.0.1', resolve));
  try {
    const geoserver = new HttpGeoServer({ url: `http://127.0.0.1:${(drip.address() as AddressInfo).port}/geoserver`, credentials: credentials().provider, timeoutMs: 200 });
    const started = Date.now();
    for (const method of ['GET', 'PUT'] as const) {
      await expect(geoserver.send({ method, path: '/workspaces/topp', ...(method === 'PUT' ? { body: { json: {} } } : {}) })).rejects.toMatchObject({
        constructor: GeoServerUnreachableError,
        timedOut: true,
      });
    }
    expect(Date.now() - started).toBeLessThan(2_000);
  } finally {
    drip.closeAllConnections();
    await new Promise((resolve) => drip.close(resolve));
  }
});

test("a GeoServer's redirect is not followed: the credentials never reach the other address, and the 3xx comes back as it is", async () => {
  const elsewhere: (string | undefined)[] = [];
  const other = createServer((req, res) => {
    elsewhere.push(req.headers.authorization);
    res.end('taken');
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  try {
    const redirecting = createServer((_req, res) => res.writeHead(307, { location: `http://127.0.0.1:${(other.address() as AddressInfo).port}/steal` }).end());
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    const geoserver = new HttpGeoServer({ url: `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/geoserver`, credentials: credentials().provider });
    expect(await geoserver.send({ method: 'PUT', path: '/workspaces/topp', body: { json: {} } })).toEqual({ status: 307, text: '' });
    expect(await geoserver.send({ method: 'GET', path: '/about/version' })).toEqual({ status: 307, text: '' });
    redirecting.closeAllConnections();
    await new Promise((resolve) => redirecting.close(resolve));
    expect(elsewhere).toEqual([]);
  } finally {
    other.closeAllConnections();
    await new Promise((resolve) => other.close(resolve));
  }
});

test("a credentials read that never answers (Secrets Manager on a cold start) ends within the call's one bound, sending nothing", async () => {
  const stuck = new HttpGeoServer({ url: base, credentials: { get: () => new Promise(() => undefined), invalidate: () => undefined }, timeoutMs: 200 });
  const error = await stuck.send({ method: 'PUT', path: '/workspaces/topp', body: { json: { workspace: { name: 'topp' } } } }).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(GeoServerUnreachableError);
  expect((error as Error).message).toBe('could not read the GeoServer credentials: no answer before the timeout');
  expect(seen).toEqual([]);
});

test("a credentials read that outlasts the call's bound is cancelled (its signal aborted), not left running", async () => {
  let cancelled = false;
  const load = (signal?: AbortSignal) => new Promise<never>((_, reject) => signal?.addEventListener('abort', () => ((cancelled = true), reject(signal.reason))));
  const stuck = new HttpGeoServer({ url: base, credentials: new CachedCredentials(load), timeoutMs: 50 });
  await expect(stuck.send({ method: 'GET', path: '/about/version' })).rejects.toThrow('could not read the GeoServer credentials: no answer before the timeout');
  expect(cancelled).toBe(true);
  expect(seen).toEqual([]);
});

test('caches the credentials, and reads them again after a 401', async () => {
  const { provider, loads } = credentials();
  const geoserver = new HttpGeoServer({ url: base, credentials: provider });
  await geoserver.send({ method: 'GET', path: '/about/version' });
  await geoserver.send({ method: 'GET', path: '/about/version' });
  expect(loads()).toBe(1);
  answer = { status: 401, text: 'Unauthorized' };
  await geoserver.send({ method: 'GET', path: '/about/version' });
  await geoserver.send({ method: 'GET', path: '/about/version' });
  expect(loads()).toBe(2);
});

test('reads a secret as JSON or user:password, and never quotes it when it is malformed', () => {
  expect(parseCredentials('{"username":"admin","password":"p:w"}', 'Secret x')).toEqual({ username: 'admin', password: 'p:w' });
  expect(parseCredentials('admin:p:w', 'Secret x')).toEqual({ username: 'admin', password: 'p:w' });
  expect(() => parseCredentials('{"user":"admin","pass":"hunter2"}', 'Secret x')).toThrow('Secret x must be JSON');
  expect(() => parseCredentials('hunter2', 'Secret x')).toThrow(/^Secret x must be/);
  try {
    parseCredentials('{"password":"hunter2"}', 'Secret x');
  } catch (error) {
    expect(String(error)).not.toContain('hunter2');
  }
});
