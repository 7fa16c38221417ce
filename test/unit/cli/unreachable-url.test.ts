/**
 * When the API does not answer at all, the CLI names the URL it tried and what to check, by
 * where that URL came from: --url, GEOCLUSTER_URL, the running npm start's .local/cluster.json,
 * or the local default (no cluster of this checkout running).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
