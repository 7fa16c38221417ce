/**
 * Starts the local clusters of the integration suite, through the same entry point as
 * `npm start` (in memory, on free ports, schedules fired by the tests with their own clock):
 * one per Jest worker, so each worker runs its files one at a time against a cluster of its
 * own, as `--runInBand` runs them all against one (the cleanup and reaper tests fire scheduled
 * functions that act on the whole status table). worker-cluster.ts gives each test file its
 * worker's cluster.
 */
import * as path from 'node:path';
import { spawnLocalCluster } from '../../local/spawn';
import { INTEGRATION_CLUSTERS_ENV, type IntegrationCluster } from './worker-cluster';

export default async function globalSetup(globalConfig: { maxWorkers: number }): Promise<void> {
  const count = Math.max(1, globalConfig.maxWorkers);
  const started = await Promise.allSettled(
    Array.from({ length: count }, (_, index) =>
      spawnLocalCluster({ logFile: path.resolve(__dirname, '..', '..', '.local', `integration-cluster-${index + 1}.log`) }),
    ),
  );
  const clusters = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  (globalThis as { __clusterProcesses?: unknown }).__clusterProcesses = clusters.map((cluster) => cluster.process);
  const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await Promise.all(clusters.map((cluster) => cluster.stop()));
    throw failed.reason;
  }
  const described: IntegrationCluster[] = clusters.map(({ url, tokens, emulators }) => ({ url, tokens, emulators }));
  process.env[INTEGRATION_CLUSTERS_ENV] = JSON.stringify(described);
}
