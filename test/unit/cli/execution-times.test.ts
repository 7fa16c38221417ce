/**
 * `geocluster executions get <id>` prints an execution's times as the API holds them: created and
 * updated always, started once it ran (the API leaves startTime out while it is queued) and
 * finished once it ended, each on its own line beside the node and the task; and how `watch` says
 * an execution ended.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startCannedServer, type CannedServer } from '../../support/canned-server';
import { runCliCollected } from '../../support/run-cli';

let server: CannedServer;
let scratch: string;
let status: Record<string, unknown>;

beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'geocluster-execution-times-'));
  server = await startCannedServer(() => ({ status: 200, body: JSON.stringify(status) }));
});

afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

const get = () =>
  runCliCollected(['executions', 'get', 'e-1'], { tty: false, env: { GEOCLUSTER_URL: server.url, GEOCLUSTER_TOKEN: 'master-1.abcdefghijklmnopqrstuvwxyz' }, cwd: scratch });

const base = { executionId: 'e-1', processName: 'gs:Buffer', nodeId: 'slave-1', version: 1 };

it('a queued execution: created and updated, no started and no finished', async () => {
  status = { ...base, phase: 'QUEUED', progress: 0, creationTime: '2026-12-04T03:00:00.000Z', lastUpdated: '2026-12-04T03:00:01.000Z' };
  const got = await get();
  expect(got.code).toBe(0);
  expect(got.out.trimEnd().split('\n')).toEqual(['e-1  gs:Buffer  QUEUED  0%', '  node: slave-1', '  created: 2026-12-04T03:00:00.000Z', '  updated: 2026-12-04T03:00:01.000Z']);
});

it('a finished execution: created, started, updated and finished, each as the API gave it', async () => {
  status = {
    ...base,
    phase: 'SUCCEEDED',
    progress: 100,
    creationTime: '2026-12-04T03:00:00.000Z',
    startTime: '2026-12-04T03:00:07.000Z',
    lastUpdated: '2026-12-04T03:01:30.000Z',
    completionTime: '2026-12-04T03:01:29.000Z',
    resultLocation: 'https://example.org/result',
  };
  const got = await get();
  expect(got.code).toBe(0);
  expect(got.out.trimEnd().split('\n')).toEqual([
    'e-1  gs:Buffer  SUCCEEDED  100%',
    '  node: slave-1',
    '  created: 2026-12-04T03:00:00.000Z',
    '  started: 2026-12-04T03:00:07.000Z',
    '  updated: 2026-12-04T03:01:30.000Z',
    '  finished: 2026-12-04T03:01:29.000Z',
    '  result: https://example.org/result',
  ]);
});

// A node may write FAILED (or a dismissed execution end) without an exception: watch's closing
// line then says how it ended, not "failed:" with nothing after the colon.
it.each([
  ['FAILED', {}, 'failed (no error recorded)'],
  ['FAILED', { exception: { code: 'NoApplicableCode', message: 'bad geometry' } }, 'failed: NoApplicableCode bad geometry'],
  ['DISMISSING', { dismissed: true }, 'dismissed (no error recorded)'],
])('watch of an execution ended %s %j closes with %p', async (phase, extra, closing) => {
  status = { ...base, phase, progress: 10, creationTime: '2026-12-04T03:00:00.000Z', lastUpdated: '2026-12-04T03:00:01.000Z', ...extra };
  const got = await runCliCollected(['watch', 'e-1'], { tty: false, env: { GEOCLUSTER_URL: server.url, GEOCLUSTER_TOKEN: 'master-1.abcdefghijklmnopqrstuvwxyz' }, cwd: scratch });
  expect(got.code).toBe(4);
  expect(got.out.trimEnd().split('\n').at(-1)).toBe(closing);
});
