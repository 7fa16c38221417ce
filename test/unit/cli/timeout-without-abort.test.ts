/**
 * The CLI's request bound holds even when the fetch never honours its abort signal. Node's fetch
 * (undici) loses the signal of a Request copied from another once the signal's holder is garbage
 * collected (nodejs/undici#4068), and the client copies every request to add its bound: under
 * memory pressure a server that sent its headers and no body then kept `--timeout` from ending the
 * wait, and the CLI hung (seen as a flaky unit test, unreachable-url.test.ts, when run beside others).
 */
import { createClusterClient, RequestTimedOut } from '../../../cli/client';

afterEach(() => jest.restoreAllMocks());

test('a request whose fetch never settles and ignores its signal ends after the bound, timed out', async () => {
  const seen: (AbortSignal | undefined)[] = [];
  jest.spyOn(globalThis, 'fetch').mockImplementation((input) => {
    seen.push(input instanceof Request ? input.signal : undefined);
    return new Promise<Response>(() => undefined);
  });
  const client = createClusterClient('http://127.0.0.1:9', 'master-1.secretAsecretAsecretA', 1);
  const started = Date.now();
  await expect(client.GET('/nodes')).rejects.toBeInstanceOf(RequestTimedOut);
  expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  expect(Date.now() - started).toBeLessThan(4000);
  // The fetch was still asked to stop: a fetch that honours its signal frees its connection.
  expect(seen).toHaveLength(1);
  expect(seen[0]?.aborted).toBe(true);
});

test('a body that never ends is bounded the same way', async () => {
  jest.spyOn(globalThis, 'fetch').mockImplementation(async () => new Response(new ReadableStream({ start: (controller) => controller.enqueue(new TextEncoder().encode('{"nodes": [')) }), { status: 200, headers: { 'content-type': 'application/json' } }));
  const client = createClusterClient('http://127.0.0.1:9', 'master-1.secretAsecretAsecretA', 1);
  await expect(client.GET('/nodes')).rejects.toBeInstanceOf(RequestTimedOut);
});

test('an answer within the bound is passed on, and nothing is left waiting', async () => {
  jest.spyOn(globalThis, 'fetch').mockImplementation(async () => new Response(JSON.stringify({ message: 'no' }), { status: 404, headers: { 'content-type': 'application/json' } }));
  const client = createClusterClient('http://127.0.0.1:9', 'master-1.secretAsecretAsecretA', 1);
  const answer = await client.GET('/nodes');
  expect(answer.response.status).toBe(404);
  expect(answer.error).toEqual({ message: 'no' });
});
