/**
 * Where a progress write's time goes (PUT /executions/{id}, RUNNING progress), layer by layer,
 * in the local cluster the status bench runs (DynamoDB Local, the API emulation, the functions'
 * worker threads), with the IAM gate off as there.
 *
 * 1. Latency, one request at a time, medians: each layer alone, from the DynamoDB call up to the
 *    whole HTTP request, so the difference between two lines is what the layer between them adds:
 *      raw conditional PutItem (the bench's baseline) | the store's conditional UpdateItem |
 *      writeStatus (domain + store) | the put-status bundle invoked in this process (zod, the
 *      HTTP edge, logging, metrics) | the authorizer bundle invoked in this process (its
 *      uncached path: a credentials GetItem and a hash) | the API edge alone (a local admin route,
 *      no function) | the whole request through the API.
 * 2. CPU per request under the bench's load (16 in flight): on 2 shared cores the throughput
 *    ratio is decided by CPU, not by latency. For the raw PutItem and for the API write, the CPU
 *    milliseconds each process spent per request: this benchmark's client, the cluster process
 *    (API emulation and the functions' threads), DynamoDB Local.
 *
 *   npm run bench -- --only status-profile [--profile-requests 300]
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/account';
import type { LocalTopology } from '../local/template';
import { spawnLocalCluster } from '../local/spawn';
import { DynamoStatusStore } from '../lambdas/status/adapters/dynamo-status-store';
import { activeWrite } from '../lambdas/status/execution';
import type { StatusStore } from '../lambdas/status/ports';
import { writeStatus } from '../lambdas/status/service';
import { rawConditionalPut } from './raw-write';

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** Median latency, and this process's mean CPU per operation (the in-process layers' own cost). */
async function sequential(count: number, operation: (i: number) => Promise<void>): Promise<{ ms: number; cpuMs: number }> {
  for (let i = 0; i < Math.min(20, count); i++) await operation(-1 - i); // warm-up
  const times: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await operation(i);
    times.push(performance.now() - started);
  }
  const used = process.cpuUsage(cpu);
  return { ms: median(times), cpuMs: (used.user + used.system) / 1000 / count };
}

/** CPU seconds (user + system) used so far by a process and its threads (or by one thread: `pid/task/tid`), from /proc. */
function cpuSeconds(pid: number | string): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state(0) ppid(1) ... utime(11) stime(12), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0; // exited meanwhile
  }
}

/** Every live process below `root`, with what it runs. */
function descendants(root: number): { pid: number; command: string }[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  const found: { pid: number; command: string }[] = [];
  const walk = (pid: number) => {
    for (const child of parents.get(pid) ?? []) {
      let command = '';
      try {
        command = readFileSync(`/proc/${child}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        continue;
      }
      found.push({ pid: child, command });
      walk(child);
    }
  };
  walk(root);
  return found;
}

/**
 * Where the CPU goes: this benchmark's client; the cluster process's main thread (the API
 * emulation: HTTP server, event building, handing events to the functions) and its other threads
 * (the functions' worker threads, the SDK's and V8's helpers); DynamoDB Local; anything else.
 */
type Side = 'client' | 'api' | 'functions' | 'dynamodb' | 'other';

/** CPU milliseconds per operation of each process, under `concurrency` operations in flight. */
async function cpuPerRequest(
  processes: { pid: number | string; side: Side }[],
  count: number,
  concurrency: number,
  operation: (i: number, worker: number) => Promise<void>,
): Promise<{ perSecond: number; cpu: Record<Side, number> }> {
  const before = processes.map((p) => cpuSeconds(p.pid));
  const ownBefore = process.cpuUsage();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < count) await operation(next++, worker);
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const own = process.cpuUsage(ownBefore);
  const cpu: Record<Side, number> = { client: (own.user + own.system) / 1000 / count, api: 0, functions: 0, dynamodb: 0, other: 0 };
  processes.forEach((p, i) => (cpu[p.side] += ((cpuSeconds(p.pid) - (before[i] as number)) * 1000) / count));
  return { perSecond: count / elapsed, cpu };
}

export async function benchStatusProfile(options: { requests: number; topology: LocalTopology; logFile: string }): Promise<void> {
  const { requests, topology } = options;
  const cluster = await spawnLocalCluster({ logFile: options.logFile, extraArgs: ['--no-iam'] });
  try {
    const client = new DynamoDBClient({ endpoint: cluster.emulators.dynamo, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const putStatus = [...topology.functions.values()].find((fn) => fn.name.endsWith('/PutStatus'));
    const authorizer = [...topology.functions.values()].find((fn) => fn.name.endsWith('AuthorizeNode') || /NodeAuth.*Authorizer/.test(fn.name));
    if (!putStatus || !authorizer) throw new Error('PutStatus or the node authorizer not found in the template');
    const table = putStatus.environment.STATUS_TABLE_NAME;
    if (!table) throw new Error('PutStatus has no STATUS_TABLE_NAME');
    const [nodeId, token] = Object.entries(cluster.tokens)[0] as [string, string];
    const store = new DynamoStatusStore({ tableName: table, shards: Number(putStatus.environment.STATUS_INDEX_SHARDS), ttlBackstopSeconds: 86_400, client });

    const created = async (label: string) => {
      const id = `profile-${label}-${randomUUID()}`;
      const response = await fetch(`${cluster.url}/executions/${id}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ processName: 'bench:profile', phase: 'QUEUED' }),
      });
      if (response.status !== 201) throw new Error(`seed failed: ${response.status} ${await response.text()}`);
      return id;
    };

    // The functions' bundles run in this process with their own environment, as the cluster
    // runs them in a worker thread (the authorizer and put-status read disjoint variables).
    Object.assign(process.env, {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: cluster.emulators.dynamo,
      POWERTOOLS_LOG_LEVEL: 'WARN', // this process's output is the report; the level the cluster uses is measured in the API line
      ...authorizer.environment,
      ...putStatus.environment,
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const putHandler = (require(putStatus.bundleFile) as Record<string, (event: unknown, context?: unknown) => Promise<{ statusCode: number }>>)[putStatus.handlerExport];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const authHandler = (require(authorizer.bundleFile) as Record<string, (event: unknown) => Promise<{ isAuthorized: boolean }>>)[authorizer.handlerExport];
    if (!putHandler || !authHandler) throw new Error('bundles export no handler');

    const event = (id: string, progress: number) => ({
      version: '2.0',
      routeKey: 'PUT /executions/{executionId}',
      rawPath: `/executions/${id}`,
      rawQueryString: '',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      pathParameters: { executionId: id },
      body: JSON.stringify({ phase: 'RUNNING', progress }),
      isBase64Encoded: false,
      requestContext: {
        requestId: randomUUID(),
        routeKey: 'PUT /executions/{executionId}',
        http: { method: 'PUT', path: `/executions/${id}` },
        authorizer: { lambda: { nodeId, role: 'master' } },
      },
    });

    const rawPut = rawConditionalPut(client, table);
    const storeId = await created('store');
    const serviceId = await created('service');
    const handlerId = await created('handler');
    const apiId = await created('api');
    const rawId = `raw-profile-${randomUUID()}`;
    const progressWrite = (i: number) => ({ phase: 'RUNNING' as const, progress: Math.abs(i) % 100 });
    const authEvent = {
      version: '2.0',
      type: 'REQUEST',
      routeArn: 'arn:aws:execute-api:us-east-1:000000000000:local/$default/PUT/executions/x',
      identitySource: [`Bearer ${token}`],
      routeKey: 'PUT /executions/{executionId}',
      rawPath: '/executions/x',
      rawQueryString: '',
      headers: { authorization: `Bearer ${token}` },
      requestContext: { requestId: 'profile', routeKey: 'PUT /executions/{executionId}', http: { method: 'PUT', path: '/executions/x' } },
    };

    const api = (id: string, progress: number) => async () => {
      const response = await fetch(`${cluster.url}/executions/${id}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ phase: 'RUNNING', progress }),
      });
      await response.text();
      if (response.status !== 200) throw new Error(`write answered ${response.status}`);
    };

    const lines: [string, { ms: number; cpuMs: number }][] = [];
    lines.push(['raw conditional PutItem (baseline)', await sequential(requests, (i) => rawPut(rawId, i))]);
    lines.push([
      "store: the conditional UpdateItem",
      await sequential(requests, async (i) => {
        const write = activeWrite(progressWrite(i), { executionId: storeId, nodeId, now: new Date() });
        if (!write || !(await store.applyActiveWrite(storeId, write))) throw new Error('the update did not apply');
      }),
    ]);
    lines.push([
      'writeStatus (domain + store)',
      await sequential(requests, async (i) => void (await writeStatus(store as StatusStore, progressWrite(i), { executionId: serviceId, nodeId }))),
    ]);
    lines.push([
      'put-status bundle, in process',
      await sequential(requests, async (i) => {
        const result = await putHandler(event(handlerId, Math.abs(i) % 100));
        if (result.statusCode !== 200) throw new Error(`handler answered ${result.statusCode}`);
      }),
    ]);
    lines.push([
      'authorizer bundle, in process (uncached)',
      await sequential(requests, async () => {
        if (!(await authHandler(authEvent)).isAuthorized) throw new Error('the authorizer refused the token');
      }),
    ]);
    lines.push([
      'API edge alone (GET /__local/health)',
      await sequential(requests, async () => void (await (await fetch(`${cluster.url}/__local/health`)).text())),
    ]);
    lines.push(['whole request through the API', await sequential(requests, (i) => api(apiId, Math.abs(i) % 100)())]);

    console.log(`Profile of a progress write (PUT /executions/{id}, RUNNING progress) in the local cluster, IAM gate off`);
    console.log(`  one at a time, ${requests} each: median latency, and this process's CPU per call (each line includes the ones it builds on)`);
    for (const [label, { ms, cpuMs }] of lines) console.log(`    ${label.padEnd(44)} ${ms.toFixed(2).padStart(7)} ms   CPU here ${cpuMs.toFixed(2).padStart(5)} ms`);

    // CPU per request under the bench's load.
    const processes = descendants(cluster.process.pid as number).flatMap(({ pid, command }): { pid: number | string; side: Side }[] => {
      if (/java/.test(command)) return [{ pid, side: 'dynamodb' }];
      if (!/local\/start\.ts/.test(command)) return [{ pid, side: 'other' }];
      // The cluster process: its main thread (thread id = process id) serves the API; its other
      // threads run the functions. Threads started later (none during the load) are not counted.
      return readdirSync(`/proc/${pid}/task`).map((tid) => ({ pid: `${pid}/task/${tid}`, side: Number(tid) === pid ? 'api' : 'functions' }));
    });
    const concurrency = 16;
    const loadCount = Math.max(requests * 4, 400);
    const apiIds = await Promise.all(Array.from({ length: concurrency }, () => created('load')));
    let progress = 0;
    const raw = await cpuPerRequest(processes, loadCount, concurrency, (i, worker) => rawPut(`raw-load-${worker}-${rawId}`, i));
    const viaApi = await cpuPerRequest(processes, loadCount, concurrency, (_, worker) => api(apiIds[worker] as string, progress++ % 100)());
    const fmt = (r: typeof raw) =>
      `${r.perSecond.toFixed(0).padStart(6)}/s   client ${r.cpu.client.toFixed(2)}  API emulation ${r.cpu.api.toFixed(2)}  functions ${r.cpu.functions.toFixed(2)}  DynamoDB Local ${r.cpu.dynamodb.toFixed(2)}  other ${r.cpu.other.toFixed(2)}  total ${Object.values(r.cpu).reduce((a, b) => a + b, 0).toFixed(2)} ms`;
    console.log(`  CPU per request, ${loadCount} requests, ${concurrency} in flight (CPU ms per request by process and thread; on 2 shared cores the throughput follows the total)`);
    console.log(`    raw PutItem   ${fmt(raw)}`);
    console.log(`    API write     ${fmt(viaApi)}`);
    console.log('');
  } finally {
    await cluster.stop();
  }
}
