/**
 * Rewrites the index keys of stored execution statuses that this version would key differently,
 * so every one is listed again: run it once after an upgrade that adds a listing index (statuses
 * stored before it carry none of its keys, and a completed status is never written again), or
 * after changing `cluster.status.indexShards` (items are re-homed only as they are next written).
 * Safe while the cluster runs: each rewrite is conditional on the version it read, and a run
 * can be stopped and started again at any time.
 *
 *   npm run reindex-statuses -- --table <StatusTableName output of cdk deploy>
 *   npm run reindex-statuses -- --table StatusExecutions... --cluster-file cluster.json
 *   npm run reindex-statuses -- --table Executions --endpoint http://127.0.0.1:8000   (local)
 *
 * The shard count is the cluster configuration's (cdk.json's `cluster` context, or the file given
 * with --cluster-file as `cdk deploy -c clusterFile=` takes it): it must be the deployed one.
 */
import { DynamoDBClient, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { clusterConfigFromContext } from '../cdk/cluster-config';
import { DynamoStatusStore } from '../lambdas/status/adapters/dynamo-status-store';
import { tableErrorText } from './table-errors';

const USAGE =
  'Usage: npm run reindex-statuses -- --table <StatusTableName> [--cluster-file F] [--endpoint URL] [--region R] [--page N]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      table: { type: 'string' },
      'cluster-file': { type: 'string' },
      endpoint: { type: 'string' },
      region: { type: 'string' },
      page: { type: 'string', default: '100' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (!values.table) {
    console.error(USAGE);
    process.exit(2);
  }
  const page = Number(values.page);
  if (!Number.isInteger(page) || page < 1 || page > 1000) {
    console.error(`reindex-statuses: --page must be a whole number from 1 to 1000, not '${values.page}'`);
    process.exit(2);
  }
  const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const cluster = clusterConfigFromContext((key) => (key === 'clusterFile' ? values['cluster-file'] : cdkJson.context?.[key]));
  const client = new DynamoDBClient({
    region: values.region,
    ...(values.endpoint ? { endpoint: values.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, region: values.region ?? 'us-east-1' } : {}),
  });
  const table = values.table;
  const store = new DynamoStatusStore({ tableName: table, shards: cluster.status.indexShards, ttlBackstopSeconds: 0, client });
  const totals = { scanned: 0, rewritten: 0, skipped: 0 };
  let next: Record<string, AttributeValue> | undefined;
  do {
    const result = await store.reindexPage(page, next).catch((error: unknown) => {
      throw new Error(tableErrorText(error, table, 'StatusTableName'));
    });
    totals.scanned += result.scanned;
    totals.rewritten += result.rewritten;
    totals.skipped += result.skipped;
    next = result.next;
    if (next !== undefined) console.error(`reindex-statuses: ${totals.scanned} read, ${totals.rewritten} rewritten so far`);
  } while (next !== undefined);
  console.log(
    `reindex-statuses: ${totals.scanned} statuses read, ${totals.rewritten} rewritten, ${totals.skipped} written by the cluster meanwhile (already current); shards ${cluster.status.indexShards}`,
  );
}

main().catch((error: unknown) => {
  console.error(`reindex-statuses: ${(error as Error).message}`);
  process.exit(1);
});
