/**
 * Whose token the CLI sends and which node's executions it lists are two choices, made by two
 * options: `--as NAME` picks the token from .local/node-tokens.json (every command), `--node N`
 * filters `executions list` by the node that runs the executions (sent as `nodeId`). Listing a
 * node's executions never needs, nor switches to, that node's token; `--node` anywhere else,
 * where it once picked the token, is refused naming `--as`.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli, type CliIo } from '../../../cli/main';

const TOKENS = { 'master-1': 'master-1.secretAsecretAsecretA', ops: 'ops.secretBsecretBsecretB' };

let server: Server;
let cwd: string;
let requests: { url: string; authorization?: string }[];

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push({ url: request.url ?? '', authorization: request.headers.authorization });
    const body = request.url?.startsWith('/executions') ? { executions: [] } : { head: 0, nodes: [] };
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cwd = mkdtempSync(path.join(tmpdir(), 'geocluster-node-options-'));
  mkdirSync(path.join(cwd, '.local'));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  writeFileSync(path.join(cwd, '.local', 'cluster.json'), JSON.stringify({ url, masters: ['master-1'] }));
  // No token for gs-7: the node whose executions are listed need not be one the caller holds.
  writeFileSync(path.join(cwd, '.local', 'node-tokens.json'), JSON.stringify(TOKENS));
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  requests = [];
});

async function run(...argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const io: CliIo = { out: () => undefined, err: (text) => (err += text), tty: false, env: {}, cwd };
  return { code: await runCli(argv, io), err };
}

test('executions list --node filters by the node that runs them, with the default token', async () => {
  expect(await run('executions', 'list', '--node', 'gs-7')).toEqual({ code: 0, err: '' });
  expect(requests).toEqual([{ url: '/executions?nodeId=gs-7', authorization: `Bearer ${TOKENS['master-1']}` }]);
});

test('executions list --node with --as: the filter and the token are chosen apart', async () => {
  expect(await run('executions', 'list', '--node', 'gs-7', '--as', 'ops')).toEqual({ code: 0, err: '' });
  expect(requests).toEqual([{ url: '/executions?nodeId=gs-7', authorization: `Bearer ${TOKENS.ops}` }]);
});

test('--as picks whose token a command sends, and sends no filter', async () => {
  expect(await run('nodes', '--as', 'ops')).toEqual({ code: 0, err: '' });
  expect(await run('executions', 'list', '--as', 'ops')).toEqual({ code: 0, err: '' });
  expect(requests).toEqual([
    { url: '/nodes', authorization: `Bearer ${TOKENS.ops}` },
    { url: '/executions', authorization: `Bearer ${TOKENS.ops}` },
  ]);
});

test('--as a name node-tokens.json has no token for is a usage error naming it and the names the file holds', async () => {
  const { code, err } = await run('nodes', '--as', 'gs-7');
  expect(code).toBe(2);
  expect(err).toBe(`geocluster: .local/node-tokens.json has no token for 'gs-7' (--as): it holds those of ${Object.keys(TOKENS).join(', ')}`);
  // The names only: no token is printed.
  for (const token of Object.values(TOKENS)) expect(err).not.toContain(token.split('.')[1]);
  expect(requests).toEqual([]);
});

// A persisted restart leaves out of the file a name the running cluster declares whose token was
// minted or revoked since (the banner says `kept` or `revoked`): --as that name says so, and
// where its token is to be had, rather than only that the file lacks it.
test('--as a name the running cluster declares, left out of node-tokens.json, says why and how to pass its token', async () => {
  const declared = mkdtempSync(path.join(tmpdir(), 'geocluster-node-options-'));
  mkdirSync(path.join(declared, '.local'));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  writeFileSync(path.join(declared, '.local', 'cluster.json'), JSON.stringify({ url, masters: ['master-1'], names: ['master-1', 'slave-1', 'ops'] }));
  writeFileSync(path.join(declared, '.local', 'node-tokens.json'), JSON.stringify({ 'master-1': TOKENS['master-1'] }));
  let err = '';
  const io: CliIo = { out: () => undefined, err: (text) => (err += text), tty: false, env: {}, cwd: declared };
  expect(await runCli(['nodes', '--as', 'ops'], io)).toBe(2);
  expect(err).toMatch(/^geocluster: \.local\/node-tokens\.json has no token for 'ops' \(--as\)/);
  expect(err).toMatch(/minted or revoked since npm start wrote it \(geocluster token issue\|revoke\)/);
  expect(err).toMatch(/pass the token geocluster token issue printed with --token, or mint a new one: geocluster token issue ops/);
  expect(requests).toEqual([]);
});

// `--node ops` picked the token on every command before: refused there, rather than ignored
// (the command would run under another token than the one asked for).
test.each([
  [['nodes', '--node', 'ops']],
  [['pause', 'slave-1', '--node', 'slave-1']],
  [['executions', 'get', 'e-1', '--node', 'ops']],
  [['executions', 'reindex', '--node', 'ops']],
  [['config', 'log', '--node', 'ops']],
])('geocluster %j is refused, naming --as, before any request', async (argv) => {
  const { code, err } = await run(...argv);
  expect(code).toBe(2);
  expect(err).toMatch(/^geocluster: --node filters executions list by the node that runs them; to pick whose token is sent, use --as NAME \(here: --as (ops|slave-1)\)/);
  expect(requests).toEqual([]);
});

// `npm start` prints GEOCLUSTER_TOKEN for the shell: --as, a flag, is the caller's later word.
test('--as picks the token even with GEOCLUSTER_TOKEN set', async () => {
  let err = '';
  const io: CliIo = { out: () => undefined, err: (text) => (err += text), tty: false, env: { GEOCLUSTER_TOKEN: TOKENS['master-1'] }, cwd };
  expect(await runCli(['nodes', '--as', 'ops'], io)).toBe(0);
  expect(err).toBe('');
  expect(requests).toEqual([{ url: '/nodes', authorization: `Bearer ${TOKENS.ops}` }]);
});

test('--as with --token is a usage error: two tokens asked for', async () => {
  const { code, err } = await run('nodes', '--as', 'ops', '--token', TOKENS['master-1']);
  expect(code).toBe(2);
  expect(err).toMatch(/--as and --token/);
  expect(requests).toEqual([]);
});

test('--as without .local/node-tokens.json is a usage error, not a call without a token', async () => {
  const bare = mkdtempSync(path.join(tmpdir(), 'geocluster-node-options-bare-'));
  let err = '';
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const io: CliIo = { out: () => undefined, err: (text) => (err += text), tty: false, env: { GEOCLUSTER_URL: url }, cwd: bare };
  expect(await runCli(['nodes', '--as', 'ops'], io)).toBe(2);
  expect(err).toMatch(/--as/);
  expect(requests).toEqual([]);
});
