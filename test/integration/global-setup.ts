/**
 * Starts the local cluster once for the integration suite, through the same entry point as
 * `npm start` (in memory, on free ports, schedules fired by the tests with their own clock).
 */
import * as path from 'node:path';
import { spawnLocalCluster } from '../../local/spawn';

export default async function globalSetup(): Promise<void> {
  const cluster = await spawnLocalCluster({ logFile: path.resolve(__dirname, '..', '..', '.local', 'integration-cluster.log') });
  (globalThis as { __clusterProcess?: unknown }).__clusterProcess = cluster.process;
  process.env.CLUSTER_URL = cluster.url;
  process.env.CLUSTER_TOKENS = JSON.stringify(cluster.tokens);
  process.env.CLUSTER_DYNAMO_ENDPOINT = cluster.emulators.dynamo;
  process.env.CLUSTER_AWS_ENDPOINT = cluster.emulators.aws;
}
