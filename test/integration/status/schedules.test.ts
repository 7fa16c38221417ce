/**
 * The cleanup and reaper schedules, fired with a controllable clock.
 *
 * A schedule fired with a clock in the future acts on the whole table: it would expire or reap the
 * statuses other test files (running in parallel workers) are still using. So this file starts its
 * own local cluster, through the same entry point as the suite's, and points the cluster client at
 * it (Jest gives every test file its own copy of process.env).
 */
import * as path from 'node:path';
import { spawnLocalCluster, type SpawnedCluster } from '../../../local/spawn';
import { api, clusterUrl, runSchedule } from '../../support/cluster-client';
import {
  HEARTBEAT_TIMEOUT_MS,
  RETENTION_MS,
  executionIn,
  expectUnchanged,
  ids,
  listAll,
  put,
  read,
  sleep,
  stored,
  uniqueProcess,
  write,
} from './support';

jest.setTimeout(30_000);

let cluster: SpawnedCluster | undefined;

beforeAll(async () => {
  // Under the hook's 180 s: a start that times out is stopped, not left running for the rest of the suite.
  cluster = await spawnLocalCluster({ logFile: path.resolve(__dirname, '..', '..', '..', '.local', 'integration-schedules-cluster.log'), timeoutMs: 170_000 });
  process.env.CLUSTER_URL = cluster.url;
  process.env.CLUSTER_TOKENS = JSON.stringify(cluster.tokens);
  // Every request of this file goes to the private cluster.
  expect(clusterUrl()).toBe(cluster.url);
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('firing a schedule (local admin endpoint)', () => {
  test.each([
    ['a body that is not JSON', 'time=2030-01-01', 'body'],
    ['a JSON array', '[]', 'body'],
    ['a time that is not an instant', '{"time":"soon"}', 'time'],
    ['a time that is a number', '{"time":12}', 'time'],
  ])('400 for %s, naming %s', async (_label, body, field) => {
    const response = await api('POST', '/__local/schedules/CleanupExpiredSchedule', { body, headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(400);
    expect(response.body.field).toBe(field);
  });
});

test('a browser request (one carrying an Origin) is refused: no page on another site drives the local runtime', async () => {
  const running = await executionIn('RUNNING', { processName: uniqueProcess('csrf') });
  const response = await api('POST', '/__local/schedules/ReapLostExecutionsSchedule', {
    body: '{"time":"2030-01-01T00:00:00Z"}',
    headers: { 'content-type': 'text/plain', origin: 'https://evil.example' },
  });
  expect(response.status).toBe(403);
  // The reaper did not run with that clock: the execution is as it was.
  await expectUnchanged(running.id, running.status);
});

describe('cleanup schedule (controllable clock)', () => {
  test('removes completed statuses past the retention, never active ones', async () => {
    const processName = uniqueProcess('cleanup');
    const succeeded = await executionIn('SUCCEEDED', { processName });
    const failed = await executionIn('FAILED', { processName });
    const running = await executionIn('RUNNING', { processName }, 'slave-1');
    const queued = await executionIn('QUEUED', { processName }, 'slave-2');
    const dismissing = await executionIn('DISMISSING', { processName });
    const mine = [succeeded, failed, running, queued, dismissing];

    // Now: nothing of this test has expired.
    const [notYet] = await runSchedule('CleanupExpiredSchedule', new Date());
    expect(notYet).toEqual({ removed: expect.any(Number) });
    for (const { id, status } of mine) await expectUnchanged(id, status);

    // One minute past the retention.
    const [result] = await runSchedule('CleanupExpiredSchedule', new Date(Date.now() + RETENTION_MS + 60_000));
    expect(result.removed).toBeGreaterThanOrEqual(2);
    for (const { id } of [succeeded, failed]) expect((await read(id)).status).toBe(404);
    for (const { id, status } of [running, queued, dismissing]) await expectUnchanged(id, status);
    expect(ids((await listAll({ processName })).items).sort()).toEqual([running.id, queued.id, dismissing.id].sort());
  });

  test('keeps a completed status rewritten after completion until its last update is past the retention too', async () => {
    const { id, status: done } = await executionIn('SUCCEEDED');
    await sleep(1200);
    const touched = await write(id, { phase: 'SUCCEEDED', task: 'outputs archived' });
    expect(touched.completionTime).toBe(done.completionTime);
    const completion = Date.parse(done.completionTime!);
    const lastUpdate = Date.parse(touched.lastUpdated);
    expect(lastUpdate - completion).toBeGreaterThanOrEqual(1000);

    // Completion is past the retention, the last update is not: kept.
    await runSchedule('CleanupExpiredSchedule', new Date(completion + RETENTION_MS + 500));
    await expectUnchanged(id, touched);

    // Both are past it: removed.
    await runSchedule('CleanupExpiredSchedule', new Date(lastUpdate + RETENTION_MS + 500));
    expect((await read(id)).status).toBe(404);
  });
});

describe('reaper schedule (controllable clock)', () => {
  test('fails active statuses silent past the heartbeat timeout, naming the node; never completed ones', async () => {
    const running = await executionIn('RUNNING', {}, 'slave-1');
    const queued = await executionIn('QUEUED', {}, 'slave-2');
    const dismissing = await executionIn('DISMISSING', {}, 'slave-2');
    const succeeded = await executionIn('SUCCEEDED', {}, 'slave-1');
    const failed = await executionIn('FAILED', {}, 'slave-1');
    const all = [running, queued, dismissing, succeeded, failed];
    const now = Date.now();

    // 100 s of silence is within the 300 s timeout: untouched.
    await runSchedule('ReapLostExecutionsSchedule', new Date(now + 100_000));
    for (const { id, status } of all) await expectUnchanged(id, status);

    const [result] = await runSchedule('ReapLostExecutionsSchedule', new Date(now + HEARTBEAT_TIMEOUT_MS + 1000));
    expect(result.reaped).toBeGreaterThanOrEqual(3);
    for (const { id, status } of [running, queued, dismissing]) {
      const reaped = await stored(id);
      expect(reaped).toMatchObject({ phase: 'FAILED', version: status.version + 1, exception: { code: 'NodeLost' } });
      expect(reaped.exception?.message).toContain(status.nodeId);
      expect(reaped.completionTime).toEqual(expect.any(String));
      // Clients stop polling: no Retry-After on a completed status.
      expect((await read(id)).headers.get('retry-after')).toBeNull();
    }
    for (const { id, status } of [succeeded, failed]) await expectUnchanged(id, status);

    // The lost node comes back: its progress write is refused.
    const late = await put(running.id, { phase: 'RUNNING', progress: 90 }, 'slave-1');
    expect(late.status).toBe(409);
    expect(late.body.message).toBe('Cannot switch process status from FAILED to RUNNING');

    // A reaped execution is listed among the failed ones of its node.
    const listed = await listAll({ phase: 'FAILED', nodeId: 'slave-2', completedAfter: new Date(now - 60_000).toISOString() });
    expect(ids(listed.items)).toEqual(expect.arrayContaining([queued.id, dismissing.id]));
  });

  test('a heartbeat keeps an execution alive', async () => {
    const { id } = await executionIn('RUNNING', {}, 'slave-1');
    await sleep(1200);
    const heartbeat = await write(id, { phase: 'RUNNING', progress: 50 }, 'slave-1');
    const lastUpdate = Date.parse(heartbeat.lastUpdated);
    // Silent for just under the timeout as of the heartbeat: untouched, though the first write is older.
    await runSchedule('ReapLostExecutionsSchedule', new Date(lastUpdate + HEARTBEAT_TIMEOUT_MS - 500));
    await expectUnchanged(id, heartbeat);
  });
});
