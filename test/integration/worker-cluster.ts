/**
 * Points a test file at its Jest worker's cluster (started by global-setup.ts, one per worker):
 * CLUSTER_URL, CLUSTER_TOKENS and the emulators' endpoints, read by test/support/cluster-client.ts
 * and the tests. A file that starts a cluster of its own sets them for itself.
 */
export const INTEGRATION_CLUSTERS_ENV = 'INTEGRATION_CLUSTERS';

export interface IntegrationCluster {
  readonly url: string;
  readonly tokens: Record<string, string>;
  readonly dynamo: string;
  readonly aws: string;
}

const listed = process.env[INTEGRATION_CLUSTERS_ENV];
if (listed !== undefined) {
  const clusters = JSON.parse(listed) as IntegrationCluster[];
  // Workers are numbered from 1; in band, the one process is worker 1.
  const worker = Number(process.env.JEST_WORKER_ID ?? '1');
  const cluster = clusters[(worker - 1) % clusters.length];
  if (cluster) {
    process.env.CLUSTER_URL = cluster.url;
    process.env.CLUSTER_TOKENS = JSON.stringify(cluster.tokens);
    process.env.CLUSTER_DYNAMO_ENDPOINT = cluster.dynamo;
    process.env.CLUSTER_AWS_ENDPOINT = cluster.aws;
  }
}
