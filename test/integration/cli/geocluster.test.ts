// The operator CLI (bin/geocluster.cjs, what `npx geocluster` runs) as a separate process
// against the local cluster: its tables, --json output, exit codes and the live watch.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DynamoDBClient, GetItemCommand, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { api, clusterUrl, tokenOf, type JsonBody } from '../../support/cluster-client';

// Each run starts a Node process that compiles the CLI with tsx: seconds on a busy machine.
jest.setTimeout(60_000);
const BIN = path.resolve(__dirname, '..', '..', '..', 'bin', 'geocluster.cjs');
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'geocluster-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in an empty directory (no .local/), with the URL and token from the environment unless given. */
function geocluster(args: string[], env: Record<string, string | undefined> = {}, onLine?: (line: string) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: scratch,
      env: { PATH: process.env.PATH, GEOCLUSTER_URL: clusterUrl(), GEOCLUSTER_TOKEN: tokenOf('master-1'), ...env } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stdout += text;
      if (onLine) for (const line of text.split('\n').filter(Boolean)) onLine(line);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const put = (id: string, body: JsonBody<'PUT', `/executions/${string}`>) => api('PUT', `/executions/${id}`, { node: 'master-1', json: body });

describe('geocluster', () => {
  it('nodes: a table of every node, and the same data with --json', async () => {
    const table = await geocluster(['nodes']);
    expect(table.code).toBe(0);
    const [headLine, header, ...rows] = table.stdout.trim().split('\n');
    expect(headLine).toMatch(/^log head \d+ \(the newest sequence in the configuration event log; CURSOR: the last one a node applied\)$/);
    expect(header!.split(/\s+/)).toEqual(['NODE', 'ROLE', 'CURSOR', 'LAG', 'QUEUE', 'DLQ', 'PAUSED']);
    expect(rows.map((row) => row.split(/\s+/).slice(0, 2))).toEqual([
      ['master-1', 'master'],
      ['slave-1', 'slave'],
      ['slave-2', 'slave'],
    ]);
    const json = await geocluster(['nodes', '--json']);
    expect(JSON.parse(json.stdout).nodes.map((node: { name: string }) => node.name)).toEqual(['master-1', 'slave-1', 'slave-2']);
  });

  it('watch: draws the progress as the node writes it and ends with the result (exit 0)', async () => {
    const id = randomUUID();
    await put(id, { processName: 'gs:Buffer', phase: 'QUEUED' });
    const seen: string[] = [];
    const watching = geocluster(['watch', id, '--interval', '100'], {}, (line) => seen.push(line));
    const until = async (text: string) => {
      const deadline = Date.now() + 15_000;
      while (!seen.some((line) => line.includes(text))) {
        if (Date.now() > deadline) throw new Error(`watch never printed '${text}': ${JSON.stringify(seen)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    await until('QUEUED');
    await put(id, { phase: 'RUNNING', progress: 30, task: 'buffering' });
    await until(' 30%');
    await put(id, { phase: 'RUNNING', progress: 70 });
    await until(' 70%');
    await put(id, { phase: 'SUCCEEDED', progress: 100, resultLocation: 'https://example.com/results/1' });
    const run = await watching;
    expect(run.code).toBe(0);
    expect(seen.find((line) => line.includes(' 30%'))).toMatch(/^\[#{9}-{21}\]  30% RUNNING  buffering$/);
    expect(run.stdout.trim().split('\n').at(-1)).toBe('succeeded: https://example.com/results/1');
  });

  it('watch: exits 4 with the error when the execution fails', async () => {
    const id = randomUUID();
    await put(id, { processName: 'gs:Buffer', phase: 'QUEUED' });
    await put(id, { phase: 'RUNNING', progress: 10 });
    await put(id, { phase: 'FAILED', exception: { code: 'NoApplicableCode', message: 'the geometry was invalid' } });
    const run = await geocluster(['watch', id, '--interval', '100']);
    expect(run.code).toBe(4);
    expect(run.stdout).toContain('failed: NoApplicableCode the geometry was invalid');
  });

  it('executions get and list', async () => {
    const id = randomUUID();
    await put(id, { processName: 'gs:Clip', phase: 'QUEUED', userName: 'alice' });
    await put(id, { phase: 'RUNNING', progress: 55, task: 'clipping' });
    const got = await geocluster(['executions', 'get', id]);
    expect(got.code).toBe(0);
    expect(got.stdout).toContain(`${id}  gs:Clip  RUNNING  55%`);
    expect(got.stdout).toContain('task: clipping');
    const listed = await geocluster(['executions', 'list', '--phase', 'RUNNING', '--process', 'gs:Clip', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).executions.map((status: { executionId: string }) => status.executionId)).toContain(id);
    const missing = await geocluster(['executions', 'get', randomUUID()]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('404 NOT_FOUND');
  });

  it('executions reindex: one pass over the status table, request after request until done', async () => {
    const run = await geocluster(['executions', 'reindex', '--json']);
    expect(run.code).toBe(0);
    const totals = JSON.parse(run.stdout);
    expect(totals).toMatchObject({ done: true, skipped: 0 });
    // The statuses the tests before this one wrote through the API are keyed already.
    expect(totals.scanned).toBeGreaterThan(0);
    expect(totals.rewritten).toBe(0);
  });

  it('config publish: a list of changes as one change set, in order; a refused set publishes none of it and names the change (exit 1)', async () => {
    const file = path.join(scratch, 'changes.json');
    const style = (id: string) => ({ kind: 'add', object: { type: 'style', id }, properties: { format: 'sld', body: '<StyledLayerDescriptor version="1.0.0"/>' } });
    writeFileSync(file, JSON.stringify([style(`cli-${randomUUID()}`), style(`cli-${randomUUID()}`)]));
    const run = await geocluster(['config', 'publish', file]);
    expect(run.code).toBe(0);
    const [, first, last] = /^changes #1-2: sequences (\d+)-(\d+)$/m.exec(run.stdout) ?? [];
    expect(Number(last)).toBe(Number(first) + 1);
    expect(run.stdout.trim().split('\n').at(-1)).toBe('2 changes published');

    const kept = `cli-${randomUUID()}`;
    writeFileSync(file, JSON.stringify([style(kept), { kind: 'add', object: { type: 'nonsense', id: 'x' } }]));
    const refused = await geocluster(['config', 'publish', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/changes #1-2 of 2 refused, none of them published \(0 published before them\): 400 INVALID_REQUEST: change #2 object\.type/);
    // All or nothing: the valid first change was not published either.
    expect((await api('GET', `/nodes/master-1/catalog/style/${kept}`, { node: 'master-1' })).status).toBe(404);

    // The API's own change-set body: the list it holds (it used to be committed, then called refused).
    writeFileSync(file, JSON.stringify({ changes: [style(`cli-${randomUUID()}`)] }));
    const body = await geocluster(['config', 'publish', file]);
    expect([body.code, body.stdout.trim().split('\n').at(-1)]).toEqual([0, '1 change published']);

    writeFileSync(file, JSON.stringify(style(`cli-${randomUUID()}`)));
    const one = await geocluster(['config', 'publish', file, '--json']);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual({ published: [{ sequence: expect.any(Number), published: true }] });
  });

  it('config publish: a set whose answer was lost is sent again under the same Idempotency-Key, and published once', async () => {
    // Between the CLI and the cluster, a proxy that loses the answer to the first publish after
    // the cluster committed it (the connection drops), as a network failure would.
    const keys: string[] = [];
    const proxy = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', async () => {
        const headers: Record<string, string> = {};
        for (const name of ['authorization', 'content-type', 'idempotency-key']) {
          const value = request.headers[name];
          if (typeof value === 'string') headers[name] = value;
        }
        const answer = await fetch(`${clusterUrl()}${request.url}`, {
          method: request.method,
          headers,
          body: request.method === 'GET' || request.method === 'HEAD' ? undefined : Buffer.concat(chunks),
        });
        const body = Buffer.from(await answer.arrayBuffer());
        if (request.method === 'POST' && request.url === '/config/events') {
          keys.push(headers['idempotency-key'] ?? '');
          if (keys.length === 1) {
            request.socket.destroy();
            return;
          }
        }
        const passed: Record<string, string> = {};
        for (const name of ['content-type', 'idempotent-replayed', 'retry-after']) {
          const value = answer.headers.get(name);
          if (value !== null) passed[name] = value;
        }
        response.writeHead(answer.status, passed).end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const { head } = (await api('GET', '/nodes', { node: 'ops' })).body as { head: number };
      const file = path.join(scratch, 'lost-answer.json');
      const ids = [`cli-${randomUUID()}`, `cli-${randomUUID()}`];
      writeFileSync(file, JSON.stringify(ids.map((id) => ({ kind: 'add', object: { type: 'workspace', id }, properties: { name: id } }))));
      const run = await geocluster(['config', 'publish', file], { GEOCLUSTER_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.stringMatching(/^changes #1-2: no answer \(.+\); sending it again with the same Idempotency-Key \(attempt 2 of 5\)/) });
      expect(run.stdout).toMatch(/^changes #1-2: sequences \d+-\d+ \(an earlier attempt had published it: answered again, nothing published twice\)$/m);
      expect(keys).toHaveLength(2);
      expect(keys[1]).toBe(keys[0]);
      // Published once: the log holds the two changes after the head it had, not four.
      const log = await api('GET', `/config/events?since=${head}&limit=100`, { node: 'master-1' });
      expect(log.body.events.map((event: { object: { id: string } | null }) => event.object?.id)).toEqual(ids);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('config publish: a set that never got an answer is not called refused, since it may be committed (exit 3)', async () => {
    const file = path.join(scratch, 'no-answer.json');
    writeFileSync(file, JSON.stringify([{ kind: 'add', object: { type: 'workspace', id: `cli-${randomUUID()}` }, properties: {} }]));
    // A port nothing listens on (taken, then let go): every attempt is refused, five in all, a pause between each.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const run = await geocluster(['config', 'publish', file], { GEOCLUSTER_URL: `http://127.0.0.1:${port}` });
    expect(run.code).toBe(3);
    expect(run.stderr.match(/sending it again with the same Idempotency-Key/g)).toHaveLength(4);
    expect(run.stderr).toMatch(/change #1: no answer after 5 attempts \(ECONNREFUSED\); it may or may not be published: see geocluster config log \(0 published before it\)/);
    expect(run.stderr).not.toContain('refused, none of them published');
  });

  it('pause and resume, refused for a slave acting on another node (exit 1, 403)', async () => {
    const refused = await geocluster(['pause', 'slave-1'], { GEOCLUSTER_TOKEN: tokenOf('slave-2') });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('403 FORBIDDEN');
    const paused = await geocluster(['pause', 'slave-1', '--json']);
    expect(paused.code).toBe(0);
    expect(JSON.parse(paused.stdout)).toMatchObject({ node: 'slave-1', paused: true });
    const table = await geocluster(['nodes']);
    expect(table.stdout).toMatch(/slave-1\s+slave\s+\d+\s+\d+\s+\d+\s+\d+\s+yes \(by master-1\)/);
    const resumed = await geocluster(['resume', 'slave-1']);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('slave-1 resumed');
  });

  it('clear exit codes: no token 1, unreachable API 3, bad usage 2, --help 0', async () => {
    const noToken = await geocluster(['redrive', 'slave-1'], { GEOCLUSTER_TOKEN: undefined });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('401');
    const unreachable = await geocluster(['nodes'], { GEOCLUSTER_URL: 'http://127.0.0.1:9' });
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain('cannot reach the API');
    expect((await geocluster(['pause'])).code).toBe(2);
    expect((await geocluster(['nodes', '--bogus-flag'])).code).toBe(2);
    const help = await geocluster(['watch', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: geocluster watch <executionId>');
  });

  it('config log: the latest events, and with --since every event after it, paged, in order (an operator token reads it)', async () => {
    const ids = [0, 1, 2].map(() => `log-${randomUUID().slice(0, 8)}`);
    const sequences: number[] = [];
    for (const id of ids) {
      const published = await api('POST', '/config/events', { node: 'master-1', json: { kind: 'add', object: { type: 'workspace', id }, properties: { workspace: { name: id } } } });
      sequences.push(published.body.sequence);
    }
    const latest = await geocluster(['config', 'log', '--limit', '3'], { GEOCLUSTER_TOKEN: tokenOf('ops') });
    expect(latest.code).toBe(0);
    const [headLine, header, ...rows] = latest.stdout.trim().split('\n');
    expect(headLine).toBe(`log head ${sequences[2]} (the newest sequence in the configuration event log)`);
    expect(header!.split(/\s+/)).toEqual(['SEQ', 'KIND', 'OBJECT', 'ORIGIN', 'PUBLISHED', 'NOTE']);
    expect(rows.map((row) => row.split(/\s+/).slice(0, 4))).toEqual(ids.map((id, i) => [String(sequences[i]), 'add', `workspace/${id}`, 'master-1']));

    // From before the first: every later event, across pages of at most 2, oldest first.
    const since = await geocluster(['config', 'log', '--since', String(sequences[0]! - 1), '--json']);
    expect(since.code).toBe(0);
    const events = JSON.parse(since.stdout).events as { sequence: number; object: { id: string } }[];
    expect(events.map((event) => event.sequence)).toEqual(sequences);
    expect(events.map((event) => event.object.id)).toEqual(ids);
    const paged = await geocluster(['config', 'log', '--since', String(sequences[0]! - 1), '--limit', '2', '--json']);
    expect(JSON.parse(paged.stdout).events.map((event: { sequence: number }) => event.sequence)).toEqual(sequences.slice(0, 2));

    expect((await geocluster(['config', 'log'], { GEOCLUSTER_TOKEN: undefined })).code).toBe(1);
    const bad = await geocluster(['config', 'log', '--since', '-3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since');
  });

  it('token issue and revoke: a new operator token works and replaces the old one; a revoked token is refused', async () => {
    const dynamo = new DynamoDBClient({ endpoint: process.env.CLUSTER_DYNAMO_ENDPOINT, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const table = (await dynamo.send(new ListTablesCommand({}))).TableNames!.find((name) => /Credentials/.test(name))!;
    const key = { nodeId: { S: 'ops' } };
    // The other suites keep using the operator's token: its item is put back afterwards.
    const saved = (await dynamo.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item!;
    const flags = ['--table', table, '--endpoint', process.env.CLUSTER_DYNAMO_ENDPOINT!];
    const list = (token: string | undefined) => api('GET', '/executions?limit=1', { token });
    const issue = async () => {
      const run = await geocluster(['token', 'issue', 'ops', ...flags]);
      expect(run.code).toBe(0);
      return run.stdout.trim();
    };
    // The authorizer's verdict on a token is cached for a minute (as API Gateway does), so each
    // token is checked here before it was ever used, where only the table decides.
    try {
      const replaced = await issue();
      const token = await issue();
      expect(token).toMatch(/^ops\.\S+$/);
      expect((await list(replaced)).status).toBe(403);
      expect((await list(token)).status).toBe(200);
      // Operators stay read-only whatever their token.
      expect((await api('POST', '/nodes/slave-1/pause', { token })).status).toBe(403);

      const unused = await issue();
      const revoked = await geocluster(['token', 'revoke', 'ops', ...flags, '--json']);
      expect(revoked.code).toBe(0);
      expect(JSON.parse(revoked.stdout)).toEqual({ name: 'ops', revoked: true });
      expect((await list(unused)).status).toBe(403);
      expect((await dynamo.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item).toBeUndefined();
      expect((await geocluster(['token', 'revoke', 'ops', ...flags])).stdout).toContain('ops had no token');

      expect((await geocluster(['token', 'issue', 'Not A Name', ...flags])).code).toBe(2);
      expect((await geocluster(['token', 'issue', 'ops', '--table', 'no-such-table', '--endpoint', process.env.CLUSTER_DYNAMO_ENDPOINT!])).code).toBe(1);
      expect((await geocluster(['token', 'issue', 'ops'], { GEOCLUSTER_TOKEN: undefined })).code).toBe(2);
    } finally {
      await dynamo.send(new PutItemCommand({ TableName: table, Item: saved }));
      dynamo.destroy();
    }
  });

  it('redrive and resync through the CLI', async () => {
    const redrive = await geocluster(['redrive', 'slave-2']);
    expect(redrive.code).toBe(0);
    expect(redrive.stdout).toMatch(/^slave-2: (1 event|\d+ events) moved back to the queue/);
    const resync = await geocluster(['resync', 'slave-2', '--json']);
    expect(resync.code).toBe(0);
    // A consuming node's resync is a background job: the CLI waits until it has ended.
    expect(JSON.parse(resync.stdout)).toMatchObject({ node: 'slave-2', source: 'master-1', job: { kind: 'resync', state: 'succeeded' } });
    // --source takes any other node, a slave too, as `geocluster resync --help` says.
    const fromSlave = await geocluster(['resync', 'slave-2', '--source', 'slave-1', '--json']);
    expect(fromSlave.code).toBe(0);
    expect(JSON.parse(fromSlave.stdout)).toMatchObject({ node: 'slave-2', source: 'slave-1', job: { kind: 'resync', state: 'succeeded' } });
  });
});
