/**
 * Issues (or rotates) a node's or an operator's API token. Prints the token once; only its hash
 * is stored. The role comes from the cluster configuration: a name under `nodes` gets its node
 * role, a name under `operators` the read-only operator role; any other name is refused by the
 * authorizer whatever the table holds.
 *
 *   npm run node-token -- master-1 --table <CredentialsTableName output of cdk deploy>
 *   npm run node-token -- master-1 --table NodeAuthCredentials... --endpoint http://127.0.0.1:8000   (local)
 *
 * A rotated token replaces the old one; API Gateway may accept the old one until its cached
 * verdict expires (one minute by default).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseArgs } from 'node:util';
import { CredentialsStore } from '../lambdas/shared/adapters/credentials-store';
import { isNodeName, NODE_NAME_RULE } from '../lambdas/shared/cluster-model';
import { tableErrorText } from './table-errors';

const USAGE = 'Usage: npm run node-token -- <node-name> --table <CredentialsTableName> [--endpoint URL] [--region R]';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { table: { type: 'string' }, endpoint: { type: 'string' }, region: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const [nodeId] = positionals;
  if (!nodeId || !values.table) {
    console.error(USAGE);
    process.exit(2);
  }
  if (!isNodeName(nodeId)) {
    console.error(`node-token: node name '${nodeId}' ${NODE_NAME_RULE}`);
    process.exit(2);
  }
  const client = new DynamoDBClient({
    region: values.region,
    ...(values.endpoint ? { endpoint: values.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, region: values.region ?? 'us-east-1' } : {}),
  });
  try {
    console.log(await new CredentialsStore(client, values.table).issue(nodeId));
  } catch (error) {
    throw new Error(tableErrorText(error, values.table, 'CredentialsTableName'));
  }
}

main().catch((error: unknown) => {
  console.error(`node-token: ${(error as Error).message}`);
  process.exit(1);
});
