/**
 * `geocluster token issue` against the running `npm start`'s credentials table mints tokens only
 * for the names that cluster declares (README, "The CLI"): the authorizer refuses any other
 * name's token, so minting one would print a token that never works and leave it in the table.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli, type CliIo } from '../../../cli/main';

async function withLocalCluster(run: (io: CliIo, errors: string[], requests: IncomingMessage[]) => Promise<void>): Promise<void> {
  // Stands in for DynamoDB Local: records what reaches it and answers as a table that is not there.
  const requests: IncomingMessage[] = [];
  const server = createServer((request, response) => {
    requests.push(request);
    request.resume();
    response
      .writeHead(400, { 'content-type': 'application/x-amz-json-1.0' })
      .end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', message: 'no table' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const cwd = mkdtempSync(path.join(tmpdir(), 'geocluster-token-names-'));
    mkdirSync(path.join(cwd, '.local'));
    const dynamoEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    writeFileSync(
      path.join(cwd, '.local', 'cluster.json'),
      JSON.stringify({ url: 'http://127.0.0.1:1', credentialsTable: 'Credentials', dynamoEndpoint, masters: ['master-1'], names: ['master-1', 'slave-1', 'ops'] }),
    );
    const errors: string[] = [];
    const io: CliIo = { out: () => undefined, err: (text) => errors.push(text), tty: false, env: {}, cwd };
    await run(io, errors, requests);
  } finally {
    server.close();
  }
}

test('a name the local cluster does not declare is refused before the table is written', async () => {
  await withLocalCluster(async (io, errors, requests) => {
    expect(await runCli(['token', 'issue', 'slave-9'], io)).toBe(2);
    expect(errors.join('\n')).toContain("'slave-9' is not a node or operator of the running local cluster (master-1, slave-1, ops)");
    expect(requests).toHaveLength(0);
  });
});

test('a declared name goes on to the credentials table', async () => {
  await withLocalCluster(async (io, errors, requests) => {
    // The stand-in table is missing: exit 1 naming it, after the request reached it.
    expect(await runCli(['token', 'issue', 'slave-1'], io)).toBe(1);
    expect(requests.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toContain("no credentials table 'Credentials'");
  });
});
