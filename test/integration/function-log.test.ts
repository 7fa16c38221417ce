/**
 * The functions' log file failing while the cluster runs (a full disk; /dev/full answers every
 * write with ENOSPC) costs their log lines, said once on stderr, not the cluster: npm start goes
 * on serving.
 */
import * as path from 'node:path';
import { spawnLocalCluster, type SpawnedCluster } from '../../local/spawn';

jest.setTimeout(240_000);

let cluster: SpawnedCluster | undefined;
afterAll(async () => {
  await cluster?.stop();
});

it('keeps serving when the functions’ log cannot be written', async () => {
  let stderr = '';
  cluster = await spawnLocalCluster({
    logFile: path.resolve(__dirname, '..', '..', '.local', 'integration-function-log-cluster.log'),
    extraArgs: ['--function-log', '/dev/full'],
  });
  cluster.process.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const schedules = (await (await fetch(`${cluster.url}/__local/schedules`)).json()) as { name: string }[];
  expect(schedules.length).toBeGreaterThan(0);
  // Every scheduled function runs, and writes its log lines (and metrics) to the failing file.
  for (const schedule of schedules) await fetch(`${cluster.url}/__local/schedules/${encodeURIComponent(schedule.name)}`, { method: 'POST' });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(cluster.process.exitCode).toBeNull();
  expect((await fetch(`${cluster.url}/__local/health`)).status).toBe(200);
  expect(stderr).toContain("The functions' log /dev/full cannot be written (ENOSPC)");
});
