/**
 * Points a test file at its Jest worker's cluster (started by global-setup.ts, one per worker):
 * CLUSTER_URL, CLUSTER_TOKENS and the emulators' endpoints, read by test/support/cluster-client.ts
 * and the tests. A file that starts a cluster of its own sets them for itself.
 */
import type { SpawnedCluster } from '../../local/spawn';

export const INTEGRATION_CLUSTERS_ENV = 'INTEGRATION_CLUSTERS';

/** What a test file needs of a cluster global-setup.ts started. */
export type IntegrationCluster = Pick<SpawnedCluster, 'url' | 'tokens' | 'emulators'>;

const listed = process.env[INTEGRATION_CLUSTERS_ENV];
if (listed !== undefined) {
  const clusters = JSON.parse(listed) as IntegrationCluster[];
  // Workers are numbered from 1; in band, the one process is worker 1. Two workers never
  // share a cluster (the cleanup and reaper tests act on the whole status table): a worker the
  // setup started none for is an error, not a silent share.
  const worker = Number(process.env.JEST_WORKER_ID ?? '1');
  const cluster = clusters[worker - 1];
  if (!cluster) {
    throw new Error(`Jest worker ${worker} has no cluster of its own: the integration setup started ${clusters.length} (global-setup.ts, clustersNeeded)`);
  }
  process.env.CLUSTER_URL = cluster.url;
  process.env.CLUSTER_TOKENS = JSON.stringify(cluster.tokens);
  process.env.CLUSTER_DYNAMO_ENDPOINT = cluster.emulators.dynamo;
  process.env.CLUSTER_AWS_ENDPOINT = cluster.emulators.aws;
}
