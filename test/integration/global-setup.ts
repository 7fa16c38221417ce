/**
 * Starts the local clusters of the integration suite, through the same entry point as
 * `npm start` (in memory, on free ports, schedules fired by the tests with their own clock):
 * one per Jest worker, so each worker runs its files one at a time against a cluster of its
 * own, as `--runInBand` runs them all against one (the cleanup and reaper tests fire scheduled
 * functions that act on the whole status table); one when Jest runs in band (clustersNeeded).
 * worker-cluster.ts gives each test file its worker's cluster.
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { spawnLocalCluster } from '../../local/spawn';
import { INTEGRATION_CLUSTERS_ENV, type IntegrationCluster } from './worker-cluster';

/** What the setup reads of Jest's global config. */
interface RunConfig {
  readonly maxWorkers: number;
  readonly rootDir: string;
  readonly runInBand?: boolean;
  readonly watch?: boolean;
  readonly watchAll?: boolean;
  readonly onlyChanged?: boolean;
  readonly onlyFailures?: boolean;
  readonly lastCommit?: boolean;
  readonly changedSince?: string;
  readonly findRelatedTests?: boolean;
  /** Jest's own matcher of the run's path patterns (`npm run test:integration -- <pattern>`). */
  readonly testPathPatterns?: { isSet(): boolean; toExecutor(options: { rootDir: string }): { isMatch(absolutePath: string): boolean } };
}

export default async function globalSetup(globalConfig: RunConfig): Promise<void> {
  const count = clustersNeeded(globalConfig);
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

/**
 * One cluster per worker, except when Jest runs the files in band (in its own process, as
 * worker 1): when told to, or when the run's path patterns match a single file (Jest runs one
 * file in band), so that `npm run test:integration -- <file>` does not start a cluster no file
 * uses. The files are the project's `testMatch` (every `*.test.ts` under test/integration),
 * matched with Jest's own matcher of the patterns. A run that picks files some other way (changed
 * files, related tests, failures, watch mode) gets one per worker.
 */
function clustersNeeded(config: RunConfig): number {
  const workers = Math.max(1, config.maxWorkers);
  if (workers === 1 || config.runInBand) return 1;
  const patterns = config.testPathPatterns;
  const filesPickedOtherwise =
    config.watch || config.watchAll || config.onlyChanged || config.onlyFailures || config.lastCommit || config.findRelatedTests || config.changedSince !== undefined;
  if (!patterns?.isSet() || filesPickedOtherwise) return workers;
  const matcher = patterns.toExecutor({ rootDir: config.rootDir });
  const matched = readdirSync(__dirname, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .filter((file) => matcher.isMatch(path.join(__dirname, file)));
  return matched.length <= 1 ? 1 : workers;
}
