/**
 * When the API does not answer at all, the CLI names the URL it tried and what to check, by
 * where that URL came from: --url, GEOCLUSTER_URL, the running npm start's .local/cluster.json,
 * or the local default (no cluster of this checkout running).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCliCollected } from '../../support/run-cli';

let cwd: string;
/** A loopback URL nothing listens on: a port taken and let go again. */
let closedUrl: string;
beforeAll(async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closedUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  cwd = mkdtempSync(path.join(tmpdir(), 'geocluster-unreachable-'));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

const token = 'master-1.secretAsecretAsecretA';

test('--url: the URL and the flag to check', async () => {
  const got = await runCliCollected(['nodes', '--url', closedUrl, '--token', token], { tty: false, env: {}, cwd });
  expect(got.code).toBe(3);
  expect(got.err.trim()).toBe(`geocluster: cannot reach the API at ${closedUrl} (ECONNREFUSED): is the cluster running there? Check --url`);
});

test('GEOCLUSTER_URL: the URL and the variable, which the shell sets', async () => {
  const got = await runCliCollected(['executions', 'list'], { tty: false, env: { GEOCLUSTER_URL: closedUrl, GEOCLUSTER_TOKEN: token }, cwd });
  expect(got.code).toBe(3);
  expect(got.err.trim()).toBe(`geocluster: cannot reach the API at ${closedUrl} (ECONNREFUSED): is the cluster running there? Check GEOCLUSTER_URL, which this shell sets`);
});

test("the running npm start's file: its URL, and that the cluster it names does not answer", async () => {
  mkdirSync(path.join(cwd, '.local'));
  writeFileSync(path.join(cwd, '.local', 'cluster.json'), JSON.stringify({ url: closedUrl, masters: ['master-1'], pid: process.pid }));
  const got = await runCliCollected(['nodes', '--token', token], { tty: false, env: {}, cwd });
  expect(got.code).toBe(3);
  expect(got.err).toContain(`cannot reach the API at ${closedUrl} (ECONNREFUSED): the npm start of this checkout (.local/cluster.json) runs, but its API does not answer`);
});

describe('an API that takes the connection and never answers', () => {
  /** A loopback server that reads requests and answers none (or, with `headersOnly`, sends its headers and no body). */
  async function silentServer(headersOnly: boolean): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
    let count = 0;
    const server = createHttpServer((request, response) => {
      count += 1;
      if (headersOnly) {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        response.write('{"nodes": [');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      requests: () => count,
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    };
  }

  test.each([
    ['no answer at all', false],
    ['headers, then no body', true],
  ])('%s: after --timeout the CLI stops waiting, says the request may have been acted on, and exits 3', async (_case, headersOnly) => {
    const server = await silentServer(headersOnly);
    try {
      const started = Date.now();
      const got = await runCliCollected(['pause', 'slave-1', '--url', server.url, '--token', token, '--timeout', '1'], { tty: false, env: {}, cwd });
      expect(got.code).toBe(3);
      expect(got.err.trim()).toBe(
        `geocluster: the API at ${server.url} did not answer (timed out after 1 s): what was asked may or may not have been done; check, or try again (--timeout sets the wait)`,
      );
      expect(server.requests()).toBe(1);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await server.close();
    }
  });

  test.each(['0', '3601', 'soon'])('--timeout %s is a usage error naming the option', async (value) => {
    const got = await runCliCollected(['nodes', '--url', closedUrl, '--token', token, '--timeout', value], { tty: false, env: {}, cwd });
    expect(got.code).toBe(2);
    expect(got.err.trim()).toBe(`geocluster: --timeout (seconds) must be a whole number from 1 to 3600, got '${value}'`);
  });
});
