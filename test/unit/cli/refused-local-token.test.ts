/**
 * A token taken from .local/node-tokens.json that the authorizer refuses (403 without an API
 * `code`): `token issue|revoke` leave that file as it is, so after either the CLI's default or
 * `--as` token is the replaced one. The refusal says whose token it sent, from where, and what to
 * pass instead; a token the operator gave, or a refusal of the API's own (a coded 403), is told as before.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startCannedServer, type CannedServer } from '../../support/canned-server';
import { runCliCollected } from '../../support/run-cli';

let server: CannedServer;
let cwd: string;
/** The authorizer's own refusal (API Gateway's body), or the API's coded one. */
let answer: { status: number; body: unknown };

beforeAll(async () => {
  server = await startCannedServer(() => ({ status: answer.status, body: JSON.stringify(answer.body) }));
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  answer = { status: 403, body: { message: 'Forbidden' } };
  cwd = mkdtempSync(path.join(tmpdir(), 'geocluster-refused-token-'));
  mkdirSync(path.join(cwd, '.local'));
  writeFileSync(path.join(cwd, '.local', 'cluster.json'), JSON.stringify({ url: server.url, masters: ['master-1'], names: ['master-1', 'ops'], pid: process.pid }));
  writeFileSync(path.join(cwd, '.local', 'node-tokens.json'), JSON.stringify({ 'master-1': 'master-1.secretAsecretAsecretA', ops: 'ops.secretBsecretBsecretB' }));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

const run = (...argv: string[]) => runCliCollected(argv, { tty: false, env: {}, cwd });

test('a refused --as token names its owner, the file it came from, and --token', async () => {
  const got = await run('nodes', '--as', 'ops');
  expect(got.code).toBe(1);
  expect(got.err).toContain("403 Forbidden (the token was refused): it is the token of 'ops' in .local/node-tokens.json");
  expect(got.err).toContain('(geocluster token issue|revoke ops), pass the current one with --token');
  expect(server.requests).toHaveLength(1);
});

test('so does the refused default token, the first master', async () => {
  const got = await run('executions', 'list');
  expect(got.code).toBe(1);
  expect(got.err).toContain("it is the token of 'master-1' in .local/node-tokens.json");
});

test('a refused token the operator gave is not blamed on the file', async () => {
  const got = await run('nodes', '--token', 'ops.secretCsecretCsecretC');
  expect(got.code).toBe(1);
  expect(got.err.trim()).toBe('geocluster: 403 Forbidden (the token was refused)');
});

test("the API's own refusal of a token it took (a coded 403) is printed as the API says it", async () => {
  answer = { status: 403, body: { code: 'FORBIDDEN', message: 'ops is a read-only operator: it may list and read, not write' } };
  const got = await run('pause', 'master-1', '--as', 'ops');
  expect(got.code).toBe(1);
  expect(got.err.trim()).toBe('geocluster: 403 FORBIDDEN: ops is a read-only operator: it may list and read, not write');
});

test('sent to another cluster (--url, GEOCLUSTER_URL), the refusal says the file holds the local cluster\'s tokens, not that one\'s', async () => {
  const other = server.url.replace('127.0.0.1', 'localhost');
  for (const got of [await run('nodes', '--url', other), await runCliCollected(['nodes', '--as', 'ops'], { tty: false, env: { GEOCLUSTER_URL: other }, cwd })]) {
    expect(got.code).toBe(1);
    expect(got.err).toContain(`in .local/node-tokens.json, this checkout's npm start's, sent to ${other}, another cluster: pass that cluster's own token with --token or GEOCLUSTER_TOKEN`);
  }
  // The running cluster's own URL given again is no other cluster.
  expect((await run('nodes', '--url', `${server.url}/`)).err).toContain('if it was replaced or revoked since');
});
