// The workstation tools the deploy steps name (`npm run node-token`, `npm run reindex-statuses`)
// as separate processes against the local cluster's DynamoDB Local: their --help, and what a
// mistyped --table answers (the stack output to take), with nothing written.
import * as path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { runProcess, type ProcessRun } from '../../support/run-process';

// Each run starts a Node process that compiles the tool with tsx: seconds on a busy machine.
jest.setTimeout(60_000);
const ROOT = path.resolve(__dirname, '..', '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');


function tool(name: 'node-token' | 'reindex-statuses', args: string[], env: Record<string, string> = {}): Promise<ProcessRun> {
  return runProcess(TSX, [path.join(ROOT, 'tools', `${name}.ts`), ...args], { cwd: ROOT, env: { PATH: process.env.PATH, ...env } });
}

async function tableNames(): Promise<string[]> {
  const dynamo = new DynamoDBClient({ endpoint: process.env.CLUSTER_DYNAMO_ENDPOINT, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    return (await dynamo.send(new ListTablesCommand({}))).TableNames ?? [];
  } finally {
    dynamo.destroy();
  }
}

describe.each([
  ['node-token', ['ops'], 'CredentialsTableName'],
  ['reindex-statuses', [], 'StatusTableName'],
] as const)('npm run %s', (name, positionals, output) => {
  it('--help prints the usage on stdout, exit 0', async () => {
    const run = await tool(name, ['--help']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(new RegExp(`^Usage: npm run ${name} -- .*--table <${output}>`));
  });

  it(`a --table that does not exist is named, with the stack output to take (exit 1, no table made)`, async () => {
    const before = await tableNames();
    const run = await tool(name, [...positionals, '--table', 'no-such-table', '--endpoint', process.env.CLUSTER_DYNAMO_ENDPOINT!]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("'no-such-table'");
    expect(run.stderr).toContain(output);
    expect(await tableNames()).toEqual(before);
  });

  it('without a region (none given, none in the environment) says how to give one (exit 1)', async () => {
    const run = await tool(name, [...positionals, '--table', 'T'], { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--region|AWS_REGION/);
  });
});
