/**
 * `npx geocluster` (bin/geocluster.cjs) with its output piped (`| jq`, `| less`, `> file` through
 * a pipe): everything it wrote reaches the reader before the process exits, however long the
 * output. A pipe takes 64 KiB at a time; what the process had not handed it yet when it exited
 * would be lost, with exit 0.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { startCannedServer, type CannedServer } from '../../support/canned-server';

jest.setTimeout(60_000);

const HEAD = 3000;
let server: CannedServer;

beforeAll(async () => {
  // The event log of HEAD events, paged as GET /config/events pages it (100 after `since`).
  server = await startCannedServer((request) => {
    const since = Number(new URL(request.path, 'http://stand-in').searchParams.get('since') ?? 0);
    const last = Math.min(HEAD, since + 100);
    const events = Array.from({ length: last - since }, (_, index) => ({
      sequence: since + index + 1, origin: 'master-1', publishedAt: '2026-12-06T08:00:00.000Z', kind: 'add', object: { type: 'workspace', id: `ws-${since + index + 1}` }, offloaded: false,
    }));
    return { status: 200, body: JSON.stringify({ head: HEAD, events, next: last < HEAD ? last : null }) };
  });
});

afterAll(() => server.close());

function geocluster(argv: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [path.join(__dirname, '../../../bin/geocluster.cjs'), ...argv], {
    env: { ...process.env, GEOCLUSTER_URL: server.url, GEOCLUSTER_TOKEN: 'master-1.abcdefghijklmnopqrstuvwxyz' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out: Buffer.concat(chunks).toString('utf8') })));
}

test('a --json answer of several hundred KB reaches the pipe whole', async () => {
  const { code, out } = await geocluster(['config', 'log', '--since', '0', '--json']);
  expect(code).toBe(0);
  expect(out.length).toBeGreaterThan(128 * 1024);
  const answer = JSON.parse(out) as { events: { sequence: number }[] };
  expect(answer.events).toHaveLength(HEAD);
});

test('a table past 64 KiB reaches the pipe to its last row', async () => {
  const { code, out } = await geocluster(['config', 'log', '--since', '0']);
  expect(code).toBe(0);
  expect(out.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^${HEAD} +add +workspace/ws-${HEAD} `));
});
