/**
 * Without --token, --as or GEOCLUSTER_TOKEN, the CLI takes the running `npm start`'s token of
 * the first master (README, "The CLI"): a node whose role publishes, whatever its name.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli, type CliIo } from '../../../cli/main';

test('the default token is the first master, not the first node whose name holds "master"', async () => {
  let authorization: string | undefined;
  const server = createServer((request, response) => {
    authorization = request.headers.authorization;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ head: 0, nodes: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const cwd = mkdtempSync(path.join(tmpdir(), 'geocluster-default-token-'));
    mkdirSync(path.join(cwd, '.local'));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // A cluster whose slave is listed first and whose master is called "hq".
    writeFileSync(path.join(cwd, '.local', 'cluster.json'), JSON.stringify({ url, masters: ['hq'] }));
    writeFileSync(path.join(cwd, '.local', 'node-tokens.json'), JSON.stringify({ 'edge-1': 'edge-1.secretAsecretAsecretA', hq: 'hq.secretBsecretBsecretB', ops: 'ops.secretCsecretCsecretC' }));
    const io: CliIo = { out: () => undefined, err: () => undefined, tty: false, env: {}, cwd };
    expect(await runCli(['nodes'], io)).toBe(0);
    expect(authorization).toBe('Bearer hq.secretBsecretBsecretB');
  } finally {
    server.close();
  }
});

test('with no master token in node-tokens.json (minted or revoked since npm start wrote it), the default is refused, not another name taken', async () => {
  let requests = 0;
  const server = createServer((_request, response) => {
    requests += 1;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ head: 0, nodes: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const cwd = mkdtempSync(path.join(tmpdir(), 'geocluster-default-token-'));
    mkdirSync(path.join(cwd, '.local'));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // A persisted restart left hq out of the file: its token was revoked or minted anew since.
    writeFileSync(path.join(cwd, '.local', 'cluster.json'), JSON.stringify({ url, masters: ['hq'] }));
    writeFileSync(path.join(cwd, '.local', 'node-tokens.json'), JSON.stringify({ 'edge-1': 'edge-1.secretAsecretAsecretA', ops: 'ops.secretCsecretCsecretC' }));
    const errors: string[] = [];
    const io: CliIo = { out: () => undefined, err: (text) => errors.push(text), tty: false, env: {}, cwd };
    expect(await runCli(['nodes'], io)).toBe(2);
    expect(requests).toBe(0);
    const message = errors.join('\n');
    expect(message).toMatch(/no token of a master \(hq\)/);
    expect(message).toMatch(/--token/);
    expect(message).toMatch(/--as/);
  } finally {
    server.close();
  }
});
