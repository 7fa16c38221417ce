/**
 * `npm run bench`: figures as ratios against baselines measured in the same run, on the same
 * emulator, so a busy machine shifts both sides alike.
 *
 * 1. Poll: GET /executions/{id} through the local API vs raw GetItem on the same DynamoDB Local.
 * 2. Write: PUT /executions/{id} (RUNNING progress) through the API vs raw conditional PutItem.
 * 3. Each function's cold import time in fresh Node processes as a ratio to a bare GetItem
 *    handler bundled the same way (goal: at most 1.5x); bundle sizes for information. Then
 *    what the extra is made of: the same handler plus one part each (zod and the schemas
 *    config sync builds at cold start, Powertools, a second SDK client).
 * 4. Configuration propagation for 3, 10 and 30 nodes against the emulator's raw fan-out
 *    (bench/propagation.ts).
 * 5. Every listing shape at 1,000 and at 100,000 stored executions (bench/listing.ts).
 * 6. Hostile XML: POST /ows with the namespace-declaration bomb (64 KB, 2,500 declarations,
 *    6,500 children) against a normal GetStatus document, over HTTP and as parse CPU alone;
 *    the goal is a hostile document costing at most 10x a normal one. Then hostile JSON, as parse
 *    CPU alone: a change set's largest body (3 MiB) of nested lists holding one number a double
 *    cannot carry, through the API's body parsing and its I-JSON checks, against `JSON.parse` of
 *    the same text (for information; the checks once parsed such a body twice, at about 7x), and
 *    the event checks of a publish on a valid change of 1 MiB of such lists (once about 10x).
 * 7. GeoServer nodes (bench/geoserver.ts): events applied per second to two stand-in GeoServers
 *    against the same REST calls sent directly to fresh stand-ins; a reconcile of 20,000 objects
 *    into an empty stand-in, as a job, against the same objects POSTed directly.
 * 8. The AWS SDK's logger middleware: CPU per DynamoDB call of the apply path with the SDK's
 *    default stack against the stack our functions use, without it (bench/sdk-logging.ts).
 *
 *   npm run bench                                   everything
 *   npm run bench -- --only status|bundles|import-parts|propagation|calls|sdk|profile|publish-profile|publish-timeline|status-profile|listing|xml|geoserver|geoserver-profile --nodes 3,10
 *   (import-parts: the cold-import parts of the bundles figures alone;
 *   profile: config sync's publish and apply paths, then the status profile; status-profile: only that;
 *   publish-profile: a lone publish's AWS calls on its timeline, as PublishEvent runs it;
 *   publish-timeline: a sequential change's function invocations on its timeline, in the local cluster;
 *   calls: DynamoDB calls per event on the propagation path, counted; not in the default run)
 *   npm run bench -- --only geoserver --geoserver-events 300 --reconcile-objects 20000
 *   npm run bench -- --only listing --listing-sizes 1000,100000 --listing-runs 15
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { synthesizeTopology } from '../local/cluster';
import { spawnLocalCluster, type SpawnedCluster } from '../local/spawn';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/emulators';
import { DEFERRED_MODULES, UNUSED_CREDENTIAL_PROVIDERS } from '../cdk/constructs/cluster-function';
import { benchListing, type Reads } from './listing';
import { benchProfile } from './profile';
import { benchPublishProfile } from './publish-profile';
import { benchPublishTimeline } from './publish-timeline';
import { benchStatusProfile } from './status-profile';
import { rawConditionalPut } from './raw-write';
import { benchPropagation, benchPropagationCalls, clusterCallsPerEvent, type CallCount } from './propagation';
import { benchGeoServer } from './geoserver';
import { benchGeoServerProfile } from './geoserver-profile';
import { benchSdkLogging } from './sdk-logging';
import { describeCpuSplit } from './cpu-split';
import { withoutSdkLogging } from '../lambdas/shared/sdk-client';
import { readXmlDocument } from '../lambdas/shared/xml-reader';
import { getStatusXml, namespaceBombXml } from '../test/support/hostile-xml';
import { nestedListsJson } from '../test/support/hostile-json';
import { parseJsonBody, type HttpEvent } from '../lambdas/shared/http';
import { MAX_CHANGE_SET_BYTES } from '../lambdas/config-sync/change-set-limits';
import { parseConfigChange } from '../lambdas/config-sync/events';

/** What `--only` takes; the default run is DEFAULT_PARTS. */
const PARTS = ['status', 'bundles', 'import-parts', 'propagation', 'calls', 'sdk', 'profile', 'publish-profile', 'publish-timeline', 'status-profile', 'listing', 'xml', 'geoserver', 'geoserver-profile'];
const DEFAULT_PARTS = ['status', 'bundles', 'propagation', 'sdk', 'profile', 'listing', 'xml', 'geoserver'];

const USAGE = `Usage: npm run bench -- [--only PART[,PART...]] [--nodes 3,10,30] [--requests N] [--concurrency N] [--rounds N] [--import-runs N]
         [--propagation-events N] [--propagation-burst N] [--change-set N] [--profile-requests N]
         [--listing-sizes 1000,100000] [--listing-runs N] [--geoserver-events N] [--reconcile-objects N]
  Without --only: ${DEFAULT_PARTS.join(', ')} (8-20 minutes). Parts: ${PARTS.join(', ')}.
  What each measures: the opening comment of bench/run.ts, and README "Performance".`;

/** A usage mistake: said on stderr with where the usage is, exit 2, before anything runs. */
function refuse(message: string): never {
  console.error(`bench: ${message} (npm run bench -- --help)`);
  process.exit(2);
}

const { values: args } = (() => {
  try {
    return parseArgs({
      options: {
        requests: { type: 'string', default: '2000' },
        concurrency: { type: 'string', default: '16' },
        rounds: { type: 'string', default: '3' },
        'import-runs': { type: 'string', default: '7' },
        only: { type: 'string' },
        nodes: { type: 'string', default: '3,10,30' },
        'propagation-events': { type: 'string', default: '30' },
        'propagation-burst': { type: 'string', default: '100' },
        'change-set': { type: 'string', default: '1000' },
        'profile-requests': { type: 'string', default: '30' },
        'listing-sizes': { type: 'string', default: '1000,100000' },
        'listing-runs': { type: 'string', default: '15' },
        'geoserver-events': { type: 'string', default: '300' },
        'reconcile-objects': { type: 'string', default: '20000' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    return refuse((error as Error).message.split('. To specify')[0] as string);
  }
})();
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
// A part it does not have would be skipped without a word, and the run end at once, exit 0.
const unknownPart = args.only?.split(',').find((part) => !PARTS.includes(part));
if (unknownPart !== undefined) refuse(`--only: '${unknownPart}' is not a part of the bench (parts: ${PARTS.join(', ')})`);
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
const ROUNDS = Number(args.rounds);
const IMPORT_RUNS = Number(args['import-runs']);

interface RunResult {
  perSecond: number;
  p50: number;
  p99: number;
}

/** Runs `count` operations with `concurrency` in flight; latency per operation in ms. */
async function load(count: number, concurrency: number, operation: (i: number, worker: number) => Promise<void>): Promise<RunResult> {
  const latencies: number[] = new Array(count);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        await operation(i, worker);
        latencies[i] = performance.now() - t;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(count - 1, Math.floor(q * count))] as number;
  return { perSecond: count / elapsed, p50: at(0.5), p99: at(0.99) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Alternates baseline and subject rounds and keeps the median round of each. */
async function compare(baseline: () => Promise<RunResult>, subject: () => Promise<RunResult>) {
  const b: RunResult[] = [];
  const s: RunResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    b.push(await baseline());
    s.push(await subject());
  }
  const pick = (rs: RunResult[]) => ({
    perSecond: median(rs.map((r) => r.perSecond)),
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
  });
  return { baseline: pick(b), subject: pick(s) };
}

function fmt(r: RunResult): string {
  return `${r.perSecond.toFixed(0).padStart(6)}/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(7)} ms`;
}

async function benchPolls(cluster: SpawnedCluster, dynamo: DynamoDBClient, table: string, token: string) {
  const ids = Array.from({ length: 200 }, () => `bench-${randomUUID()}`);
  for (const id of ids) {
    const response = await fetch(`${cluster.url}/executions/${id}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ processName: 'bench:poll', phase: 'QUEUED' }),
    });
    if (response.status !== 201) throw new Error(`seed failed: ${response.status} ${await response.text()}`);
  }
  const warm = () => load(200, CONCURRENCY, async (i) => void (await (await fetch(`${cluster.url}/executions/${ids[i % ids.length]}`)).text()));
  await warm();
  return compare(
    () =>
      load(REQUESTS, CONCURRENCY, async (i) => {
        const result = await dynamo.send(
          new GetItemCommand({ TableName: table, Key: { executionId: { S: ids[i % ids.length] as string } }, ConsistentRead: true }),
        );
        if (!result.Item) throw new Error('raw GetItem found nothing');
      }),
    () =>
      load(REQUESTS, CONCURRENCY, async (i) => {
        const response = await fetch(`${cluster.url}/executions/${ids[i % ids.length]}`);
        await response.text();
        if (response.status !== 200) throw new Error(`poll answered ${response.status}`);
      }),
  );
}

async function benchWrites(cluster: SpawnedCluster, dynamo: DynamoDBClient, table: string, token: string) {
  // One execution per concurrent writer, so both sides measure uncontended compare-and-swap.
  const apiIds = Array.from({ length: CONCURRENCY }, () => `bench-${randomUUID()}`);
  for (const id of apiIds) {
    await fetch(`${cluster.url}/executions/${id}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ processName: 'bench:write', phase: 'QUEUED' }),
    });
  }
  const rawPut = rawConditionalPut(dynamo, table);
  const writes = Math.max(CONCURRENCY, Math.floor(REQUESTS / 2));
  let progress = 0;
  return compare(
    () => load(writes, CONCURRENCY, (i, worker) => rawPut(`raw-${worker}`, i)),
    () =>
      load(writes, CONCURRENCY, async (_, worker) => {
        const response = await fetch(`${cluster.url}/executions/${apiIds[worker]}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ phase: 'RUNNING', progress: progress++ % 100 }),
        });
        await response.text();
        if (response.status !== 200) throw new Error(`write answered ${response.status}`);
      }),
  );
}

interface ColdImport {
  wallMs: number;
  cpuMs: number;
  /** Files beside the bundle that its cold start required (deferred modules it loads at once). */
  loaded: string[];
}

/**
 * Wall time of `require(bundle)` in a fresh Node process, module init included (and so any
 * deferred module the function requires at cold start), and the CPU time the process spent on
 * it (user + system): on a machine busy with other work the wall time also counts waiting for
 * a core, the CPU time hardly does.
 */
function coldImportOnce(bundleFile: string, env: Record<string, string>): ColdImport {
  const script = `const t=performance.now();const c=process.cpuUsage();require(${JSON.stringify(bundleFile)});const u=process.cpuUsage(c);process.stdout.write(JSON.stringify({wallMs:performance.now()-t,cpuMs:(u.user+u.system)/1000,loaded:Object.keys(require.cache)}));`;
  const run = JSON.parse(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, ...env, AWS_REGION: 'us-east-1' } }).toString()) as ColdImport;
  return { ...run, loaded: run.loaded.filter((file) => file !== bundleFile).map((file) => path.basename(file)) };
}

/**
 * Median cold import of a bundle and of the baseline, in alternating fresh processes, so a
 * machine that gets busier or quieter during the run shifts both sides alike.
 */
function coldImportVsBaseline(bundle: { file: string; env: Record<string, string> }, baseline: { file: string; env: Record<string, string> }) {
  const subjectRuns: ColdImport[] = [];
  const baselineRuns: ColdImport[] = [];
  for (let run = 0; run < IMPORT_RUNS; run++) {
    baselineRuns.push(coldImportOnce(baseline.file, baseline.env));
    subjectRuns.push(coldImportOnce(bundle.file, bundle.env));
  }
  const subjectMs = median(subjectRuns.map((run) => run.wallMs));
  const baselineMs = median(baselineRuns.map((run) => run.wallMs));
  const cpuRatio = median(subjectRuns.map((run) => run.cpuMs)) / median(baselineRuns.map((run) => run.cpuMs));
  const baselineWaiting = baselineMs / median(baselineRuns.map((run) => run.cpuMs));
  return { subjectMs, baselineMs, ratio: subjectMs / baselineMs, cpuRatio, baselineWaiting, loaded: subjectRuns[0]?.loaded ?? [] };
}

const BARE_GET_ITEM = `import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
const client = new DynamoDBClient({});
export const handler = async (event: { id: string }) =>
  client.send(new GetItemCommand({ TableName: process.env.TABLE_NAME, Key: { executionId: { S: event.id } } }));
`;

/** A handler written here, bundled as the functions are (same settings and externals). */
async function bundleSource(dir: string, name: string, source: string, external: string[]): Promise<string> {
  const entry = path.join(dir, `${name}.ts`);
  writeFileSync(entry, source);
  const outfile = path.join(dir, `${name}.js`);
  await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    mainFields: ['module', 'main'],
    nodePaths: [path.join(__dirname, '..', 'node_modules')],
    outfile,
    external,
    logLevel: 'error',
  });
  return outfile;
}

async function main(): Promise<void> {
  const parts = new Set(args.only !== undefined ? args.only.split(',') : DEFAULT_PARTS);
  console.log(`Node ${process.version}; ${REQUESTS} requests per round, ${CONCURRENCY} in flight, median of ${ROUNDS} rounds; local IAM gate off (npm start -- --no-iam)\n`);
  const scratch = mkdtempSync(path.join(tmpdir(), 'sgc-bench-'));
  try {
    // The same synthesized template the cluster runs: its table names and bundles.
    // Synthesized only for the parts that read it (it bundles every function: minutes on a busy machine).
    let synthesized: ReturnType<typeof synthesizeTopology> | undefined;
    const topologyOf = () => (synthesized ??= synthesizeTopology(path.join(scratch, 'cdk.out')));
    if (parts.has('status')) await statusFigures(topologyOf());
    if (parts.has('bundles')) await bundleFigures(topologyOf(), scratch);
    else if (parts.has('import-parts')) await importPartFigures(topologyOf(), scratch);
    if (parts.has('propagation')) await propagationFigures();
    if (parts.has('calls')) await callFigures();
    if (parts.has('sdk')) await sdkLoggingFigures();
    if (parts.has('profile') || parts.has('publish-profile')) await benchPublishProfile({ requests: Number(args['profile-requests']) });
    if (parts.has('profile') || parts.has('publish-timeline')) await benchPublishTimeline({ requests: Math.max(50, Number(args['profile-requests'])) });
    if (parts.has('profile')) await benchProfile({ requests: Number(args['profile-requests']) });
    if (parts.has('profile') || parts.has('status-profile')) {
      await benchStatusProfile({ requests: Math.max(100, Number(args['profile-requests'])), topology: topologyOf(), logFile: path.join(__dirname, '..', '.local', 'bench-status-profile.log') });
    }
    if (parts.has('listing')) await listingFigures(topologyOf());
    if (parts.has('xml')) {
      await hostileXmlFigures();
      hostileJsonFigures();
    }
    if (parts.has('geoserver')) await geoServerFigures();
    if (parts.has('geoserver-profile')) await benchGeoServerProfile({ events: Number(args['geoserver-events']) });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function sdkLoggingFigures(): Promise<void> {
  const f = await benchSdkLogging();
  console.log(`\nAWS SDK logger middleware (DynamoDB calls of the apply path against a stub server; CPU per call, median of ${f.rounds} rounds of ${f.callsPerRound})`);
  console.log(`  the SDK's default stack            ${f.withMiddleware.toFixed(3).padStart(7)} ms`);
  console.log(`  without it (withoutSdkLogging)     ${f.withoutMiddleware.toFixed(3).padStart(7)} ms`);
  console.log(`  ratio (ours / default)             ${(f.withoutMiddleware / f.withMiddleware).toFixed(2).padStart(7)}: the CPU a function's SDK calls keep\n`);
}

async function geoServerFigures(): Promise<void> {
  const figures = await benchGeoServer({ events: Number(args['geoserver-events']), reconcileObjects: Number(args['reconcile-objects']) });
  console.log('\nGeoServer nodes (2 slaves with stand-in GeoServers)');
  console.log(`  apply: ${figures.events} events, applied on both GeoServers  ${figures.appliedPerSecond.toFixed(1).padStart(8)} events/s`);
  console.log(`         same REST calls sent directly         ${figures.directPerSecond.toFixed(1).padStart(8)} events/s`);
  console.log(`         ratio (cluster / direct)              ${(figures.appliedPerSecond / figures.directPerSecond).toFixed(3).padStart(8)}`);
  console.log(`         the publish requests alone (one at a time) ${figures.publishPerSecond.toFixed(1).padStart(8)} events/s: the ceiling of the figure above`);
  console.log(`  backlog: ${figures.events} events queued while the nodes were paused  ${figures.backlogPerSecond.toFixed(1).padStart(8)} events/s (${figures.backlogInvocations} apply invocations)`);
  console.log(`         ratio (backlog / direct)              ${(figures.backlogPerSecond / figures.directPerSecond).toFixed(3).padStart(8)}`);
  console.log(`  reconcile job: ${figures.reconcileObjects} objects into an empty GeoServer  ${figures.reconciledPerSecond.toFixed(1).padStart(8)} objects/s (${figures.reconcileSlices} slices)`);
  console.log(`         same objects POSTed directly          ${figures.directPostsPerSecond.toFixed(1).padStart(8)} objects/s`);
  console.log(`         ratio (job / direct)                  ${(figures.reconciledPerSecond / figures.directPostsPerSecond).toFixed(3).padStart(8)}`);
}

async function statusFigures(topology: ReturnType<typeof synthesizeTopology>): Promise<void> {
  // IAM is enforced by AWS at no cost to the functions; the local gate that emulates it is left out.
  const cluster = await spawnLocalCluster({ logFile: path.join(__dirname, '..', '.local', 'bench-cluster.log'), extraArgs: ['--no-iam'] });
  try {
    // Set up as the functions' clients are (without the SDK's logger middleware), for the raw side.
    const dynamo = withoutSdkLogging(new DynamoDBClient({ endpoint: cluster.emulators.dynamo, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
    const statusTable = topology.tables.find((t) => t.logicalId.startsWith('StatusExecutions'))?.tableName;
    if (!statusTable) throw new Error('status table not found in the template');
    const token = Object.values(cluster.tokens)[0] as string;

    const polls = await benchPolls(cluster, dynamo, statusTable, token);
    console.log('Poll (GET /executions/{id})');
    console.log(`  raw GetItem      ${fmt(polls.baseline)}`);
    console.log(`  API              ${fmt(polls.subject)}`);
    console.log(`  ratio API/raw    ${(polls.subject.perSecond / polls.baseline.perSecond).toFixed(2)} (goal >= 0.60)\n`);

    const writes = await benchWrites(cluster, dynamo, statusTable, token);
    console.log('Write (PUT /executions/{id}, RUNNING progress)');
    console.log(`  raw PutItem+cond ${fmt(writes.baseline)}`);
    console.log(`  API              ${fmt(writes.subject)}`);
    console.log(`  ratio API/raw    ${(writes.subject.perSecond / writes.baseline.perSecond).toFixed(2)} (goal >= 0.60)\n`);
  } finally {
    await cluster.stop();
  }
}

/** Mean CPU milliseconds of `operation`, run `runs` times after a warm-up. */
function cpuMs(runs: number, operation: () => void): number {
  for (let i = 0; i < Math.min(50, runs); i++) operation();
  const started = process.cpuUsage();
  for (let i = 0; i < runs; i++) operation();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000 / runs;
}

/** The API's JSON body parsing and checks on the costliest body for its size, against JSON.parse alone. */
function hostileJsonFigures(): void {
  const bytes = MAX_CHANGE_SET_BYTES;
  const bodyOf = (number: string) => nestedListsJson(bytes, number);
  const parse = (text: string) => () => {
    try {
      parseJsonBody({ headers: { 'content-type': 'application/json' }, body: text, isBase64Encoded: false } as unknown as HttpEvent, bytes);
    } catch {
      // refused (an inexact number) or not (one out of range): the cost either way is what is measured
    }
  };
  console.log(`Hostile JSON (parse CPU alone, ${(bytes / 1024 / 1024).toFixed(0)} MiB of lists nested 60 deep, the largest body POST /config/events takes)`);
  for (const [label, number] of [
    ['one number out of range (1e999)', '1e999'],
    ['one number a double rounds', '12345678901234567890'],
  ] as const) {
    const text = bodyOf(number);
    const plain = cpuMs(5, () => JSON.parse(text));
    const checked = cpuMs(5, parse(text));
    console.log(`  ${label.padEnd(34)} JSON.parse ${plain.toFixed(1)} ms, the API's parse and checks ${checked.toFixed(1)} ms, ratio ${(checked / plain).toFixed(2)}`);
  }
  // A valid change of about 1 MiB of such lists, through the event checks a publish runs on the parsed body.
  let nested: unknown = 0;
  for (let level = 0; level < 60; level += 1) nested = [nested];
  const change = JSON.stringify({ kind: 'add', object: { type: 'workspace', id: 'deep' }, properties: { name: 'deep', lists: Array(7500).fill(nested) } });
  const value = JSON.parse(change) as unknown;
  const plain = cpuMs(5, () => JSON.parse(change));
  const checked = cpuMs(5, () => parseConfigChange(value));
  console.log(`  ${`a valid change of ${(change.length / 1024 / 1024).toFixed(1)} MiB`.padEnd(34)} JSON.parse ${plain.toFixed(1)} ms, the event checks on its value ${checked.toFixed(1)} ms, ratio ${(checked / plain).toFixed(2)}`);
  console.log('');
}

async function hostileXmlFigures(): Promise<void> {
  const cluster = await spawnLocalCluster({ logFile: path.join(__dirname, '..', '.local', 'bench-cluster.log'), extraArgs: ['--no-iam'] });
  try {
    const token = Object.values(cluster.tokens)[0] as string;
    const id = `bench-${randomUUID()}`;
    const created = await fetch(`${cluster.url}/executions/${id}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ processName: 'bench:xml', phase: 'QUEUED' }),
    });
    if (created.status !== 201) throw new Error(`seed failed: ${created.status} ${await created.text()}`);
    const normal = getStatusXml(id);
    const bomb = namespaceBombXml(id);
    const post = (body: string, expected: number) => async () => {
      const response = await fetch(`${cluster.url}/ows`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
      await response.text();
      if (response.status !== expected) throw new Error(`POST /ows answered ${response.status}, expected ${expected}`);
    };
    const count = Math.max(50, Math.floor(REQUESTS / 10));
    const http = await compare(
      () => load(count, 1, post(normal, 200)),
      () => load(count, 1, post(bomb, 400)),
    );
    console.log(`Hostile XML (POST /ows, one at a time, ${count} per round; the bomb is ${(bomb.length / 1024).toFixed(0)} KB)`);
    console.log(`  normal GetStatus ${fmt(http.baseline)}`);
    console.log(`  namespace bomb   ${fmt(http.subject)}`);
    console.log(`  ratio bomb/normal p50 ${(http.subject.p50 / http.baseline.p50).toFixed(2)} (goal <= 10)`);
    const parseNormal = cpuMs(2000, () => readXmlDocument(normal));
    const parseBomb = cpuMs(200, () => {
      try {
        readXmlDocument(bomb);
      } catch {
        // refused, as it must be: the cost of refusing is what is measured
      }
    });
    console.log(`  parse CPU: normal ${(parseNormal * 1000).toFixed(1)} us, bomb ${(parseBomb * 1000).toFixed(1)} us, ratio ${(parseBomb / parseNormal).toFixed(1)}\n`);
  } finally {
    await cluster.stop();
  }
}

interface CpuTimes {
  busy: number;
  idle: number;
  steal: number;
}

/**
 * The machine's CPU time so far from /proc/stat (Linux; undefined elsewhere), to print how busy
 * the cores were during a measurement and how much time the hypervisor gave other guests:
 * figures taken while steal is high are not comparable with quiet ones.
 */
function cpuTimes(): CpuTimes | undefined {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
    return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal };
  } catch {
    return undefined;
  }
}

/** Every function's cold import may take at most this many times a bare GetItem handler's. */
const COLD_IMPORT_GOAL = 1.5;

async function bundleFigures(topology: ReturnType<typeof synthesizeTopology>, scratch: string): Promise<void> {
  const baseline = await coldImportBaseline(topology, scratch);
  const baselineSize = statSync(baseline.file).size;
  console.log(
    `Cold import in a fresh process, median of ${IMPORT_RUNS} runs alternating with the baseline (goal <= ${COLD_IMPORT_GOAL}x, wall time; the CPU-time ratio beside it for information); bundle size for information, with the deferred modules the function requires at cold start (with:, measured) and those it loads on first use (later:)`,
  );
  console.log(`  ${'bare GetItem handler (baseline)'.padEnd(38)} ${(baselineSize / 1024).toFixed(1).padStart(6)} KB`);
  // Apply functions of every node share one bundle; measure one of them.
  const measured = [...topology.functions.values()].filter(
    (fn, i, all) => all.findIndex((other) => other.bundleFile === fn.bundleFile) === i && !/^ConfigSync\/(?!slave-1\/).+\/Apply$/.test(fn.name),
  );
  const over: string[] = [];
  const waiting: number[] = [];
  let worst = 0;
  for (const fn of measured) {
    const size = statSync(fn.bundleFile).size;
    const { subjectMs, baselineMs, ratio, cpuRatio, baselineWaiting, loaded } = coldImportVsBaseline({ file: fn.bundleFile, env: fn.environment }, baseline);
    waiting.push(baselineWaiting);
    worst = Math.max(worst, ratio);
    if (ratio > COLD_IMPORT_GOAL) over.push(fn.name);
    // A deferred module the function requires at cold start is part of what was measured.
    const deferred = DEFERRED_MODULES.map((module) => path.join(path.dirname(fn.bundleFile), `${path.posix.basename(module.specifier)}.js`)).filter((file) =>
      existsSync(file),
    );
    const describe = (files: string[]) => files.map((file) => `${path.basename(file)} ${(statSync(file).size / 1024).toFixed(0)} KB`).join(', ');
    const atColdStart = deferred.filter((file) => loaded.includes(path.basename(file)));
    const later = deferred.filter((file) => !loaded.includes(path.basename(file)));
    console.log(
      `  ${fn.name.padEnd(38)} ${(size / 1024).toFixed(1).padStart(6)} KB  ${subjectMs.toFixed(1).padStart(5)} ms vs ${baselineMs.toFixed(1).padStart(5)} ms  x${ratio.toFixed(2)}${ratio > COLD_IMPORT_GOAL ? '  OVER GOAL' : '           '}  (CPU x${cpuRatio.toFixed(2)})${atColdStart.length ? `  with: ${describe(atColdStart)}` : ''}${later.length ? `  later: ${describe(later)}` : ''}`,
    );
  }
  console.log(`  worst cold-import ratio x${worst.toFixed(2)} (goal <= ${COLD_IMPORT_GOAL}x)${over.length ? `; over: ${over.join(', ')}` : ''}`);
  // A require is one thread's work: on an idle machine its wall time is about its CPU time. A
  // process waiting for a core adds the same stretch to both sides, which pulls every wall
  // ratio toward 1 and can print a goal as met that is not.
  const stretch = median(waiting);
  console.log(
    `  the baseline's wall time was x${stretch.toFixed(2)} its CPU time (median over the functions; near 1 when a process never waits for a core)${stretch > 1.3 ? ': BUSY MACHINE, the wall ratios above are noisy and pulled toward 1, the CPU ratios are the better guide' : ''}`,
  );
  await coldImportParts(scratch, baseline, configSyncEnvironment(topology));
}

/**
 * The bare GetItem handler every cold import is compared with, on the cluster's status table.
 * It is bundled exactly like our functions (same externals), so the ratios show what our code
 * and its SDK clients add.
 */
async function coldImportBaseline(topology: ReturnType<typeof synthesizeTopology>, scratch: string): Promise<{ file: string; env: Record<string, string> }> {
  const statusTable = topology.tables.find((t) => t.logicalId.startsWith('StatusExecutions'))?.tableName ?? 'table';
  return { file: await bundleSource(scratch, 'get-item', BARE_GET_ITEM, UNUSED_CREDENTIAL_PROVIDERS), env: { TABLE_NAME: statusTable } };
}

/** The parts of the bundles figures alone (`--only import-parts`), without every function's. */
async function importPartFigures(topology: ReturnType<typeof synthesizeTopology>, scratch: string): Promise<void> {
  const baseline = await coldImportBaseline(topology, scratch);
  console.log(`Cold import in a fresh process, median of ${IMPORT_RUNS} runs alternating with the baseline (a bare GetItem handler)`);
  await coldImportParts(scratch, baseline, configSyncEnvironment(topology));
}

/** A config-sync function's environment (the cluster's name and nodes), for parts that read it. */
function configSyncEnvironment(topology: ReturnType<typeof synthesizeTopology>): Record<string, string> {
  const fn = [...topology.functions.values()].find((candidate) => candidate.name === 'ConfigSync/ListEvents');
  if (!fn) throw new Error('The synthesized cluster has no ConfigSync/ListEvents function');
  return fn.environment;
}

/**
 * What a function's cold import adds to the baseline, part by part: the bare GetItem handler
 * plus one thing each, measured like the functions. It shows which parts of a function the
 * 1.5x goal leaves room for (half of the baseline's time, in all).
 */
async function coldImportParts(scratch: string, baseline: { file: string; env: Record<string, string> }, configSyncEnv: Record<string, string>): Promise<void> {
  const lambdas = (module: string) => JSON.stringify(path.join(__dirname, '..', 'lambdas', module));
  const eventSchemas = `import { buildChangeSchemas, buildEventSchemas } from ${lambdas('config-sync/events')};\nbuildChangeSchemas();\nbuildEventSchemas();`;
  const membership = `import { membershipFromEnv } from ${lambdas('config-sync/adapters/from-env')};\nexport const membership = membershipFromEnv();`;
  const parts: { label: string; source: string }[] = [
    { label: '+ zod: one object schema', source: `import * as z from 'zod/mini';\nexport const schema = z.object({ id: z.string() });` },
    { label: "+ config sync's event schemas", source: eventSchemas },
    { label: '+ cluster membership from the environment', source: membership },
    { label: '+ both (an event-parsing function)', source: `${eventSchemas}\n${membership}` },
    { label: '+ Powertools logger', source: `export { logger, metrics } from ${lambdas('shared/observability')};` },
    { label: '+ an SNS client (PublishEvent)', source: `import { SNSClient } from '@aws-sdk/client-sns';\nexport const sns = new SNSClient({});` },
    { label: '+ a Lambda client (SwitchConsumption)', source: `import { LambdaClient } from '@aws-sdk/client-lambda';\nexport const lambda = new LambdaClient({});` },
    // What is left of the 1.5x for a publishing function's own code: every library PublishEvent
    // loads at cold start, and none of its code.
    {
      label: "+ PublishEvent's libraries, none of its code",
      source: [
        `import { SNSClient } from '@aws-sdk/client-sns';`,
        `import { Logger } from '@aws-lambda-powertools/logger';`,
        `import { Metrics } from '@aws-lambda-powertools/metrics';`,
        `import * as z from 'zod/mini';`,
        `export const sns = new SNSClient({});`,
        `export const logger = new Logger();`,
        `export const metrics = new Metrics({ namespace: 'bench' });`,
        `export const parsed = z.parse(z.strictObject({ kind: z.enum(['add', 'remove']), id: z.string().check(z.regex(/^[a-z]+$/)), properties: z.record(z.string(), z.unknown()) }), { kind: 'add', id: 'a', properties: {} });`,
      ].join('\n'),
    },
  ];
  console.log('  what the extra is made of: the bare GetItem handler plus one part, each measured the same way');
  for (const [index, part] of parts.entries()) {
    const file = await bundleSource(scratch, `part-${index}`, `${BARE_GET_ITEM}${part.source}\n`, UNUSED_CREDENTIAL_PROVIDERS);
    const { subjectMs, baselineMs, ratio } = coldImportVsBaseline({ file, env: { ...baseline.env, ...configSyncEnv } }, baseline);
    console.log(
      `    ${part.label.padEnd(46)} ${(statSync(file).size / 1024).toFixed(1).padStart(6)} KB  ${subjectMs.toFixed(1).padStart(5)} ms vs ${baselineMs.toFixed(1).padStart(5)} ms  ${(subjectMs - baselineMs >= 0 ? '+' : '') + (subjectMs - baselineMs).toFixed(1)} ms  x${ratio.toFixed(2)}`,
    );
  }
  console.log('');
}

/** Diagnostic: DynamoDB calls per event on the propagation path, counted (bench/propagation.ts, `benchPropagationCalls`). */
async function callFigures(): Promise<void> {
  const events = Number(args['propagation-events']);
  const burst = Number(args['propagation-burst']);
  console.log(
    `DynamoDB calls per event on the propagation path (diagnostic, counted by the local IAM gate; ${events} sequential events, then a burst of ${burst} from 4 publishers; a slave's apply function averaged over the slaves)`,
  );
  const sum = (list: CallCount[]) => list.reduce((total, count) => total + count.perEvent, 0);
  for (const nodes of (args.nodes ?? '3').split(',').map(Number)) {
    for (const phase of await benchPropagationCalls(nodes, { events, burst })) {
      console.log(
        `  ${nodes} nodes, ${phase.name}: ${clusterCallsPerEvent(phase.untilApplied).toFixed(2)} calls per event in the cluster until applied everywhere, ${clusterCallsPerEvent(phase.withDrain).toFixed(2)} with the queues drained; ${phase.eventsPerSecond.toFixed(1)} events/s applied everywhere while DynamoDB Local took ${phase.callsPerSecond.toFixed(0)} calls/s (through the gate)`,
      );
      const byFunction = new Map<string, CallCount[]>();
      for (const count of phase.withDrain) byFunction.set(count.function, [...(byFunction.get(count.function) ?? []), count]);
      for (const [fn, list] of byFunction) {
        console.log(`      ${fn.padEnd(30)} ${sum(list).toFixed(2).padStart(5)}${(list[0]?.functions ?? 1) > 1 ? ` (x${list[0]?.functions})` : '     '}: ${list.map((count) => `${count.operation} ${count.perEvent.toFixed(2)}`).join(', ')}`);
      }
    }
  }
}

async function propagationFigures(): Promise<void> {
  const events = Number(args['propagation-events']);
  const burst = Number(args['propagation-burst']);
  const changeSet = Number(args['change-set']);
  console.log(`Config propagation: publish on the master -> applied on every node (${events} sequential events, burst of ${burst}; at 3 nodes also a change set of ${changeSet} in one request)`);
  console.log('  nodes | publish p50  p99 | applied everywhere p50   p99 | raw fan-out p50   p99 | ratio p50 | applied/s  raw recv/s  ratio');
  const goals: string[] = [];
  for (const nodes of (args.nodes ?? '3,10,30').split(',').map(Number)) {
    const cpuBefore = cpuTimes();
    const f = await benchPropagation(nodes, { events, burst, ...(nodes === 3 && changeSet > 0 ? { changeSet } : {}) });
    const cpuAfter = cpuTimes();
    const ms = (x: number, width: number) => x.toFixed(1).padStart(width);
    const latencyRatio = f.latency.p50 / f.rawLatency.p50;
    const burstRatio = f.appliedPerSecond / f.rawReceivedPerSecond;
    console.log(
      `  ${String(nodes).padStart(5)} | ${ms(f.publishLatency.p50, 11)} ${ms(f.publishLatency.p99, 4)} | ${ms(f.latency.p50, 22)} ${ms(f.latency.p99, 5)} | ${ms(f.rawLatency.p50, 15)} ${ms(f.rawLatency.p99, 5)} | ${latencyRatio.toFixed(2).padStart(9)} | ${ms(f.appliedPerSecond, 9)} ${ms(f.rawReceivedPerSecond, 11)} ${burstRatio.toFixed(2).padStart(6)}`,
    );
    console.log(
      `        | applied instants from the nodes' own log lines${f.observerFallbacks ? ` (${f.observerFallbacks} waits fell back to reading the cursors)` : ''}; diagnostic, the same sequential publishes observed by reading the cursors every 2 ms after the answer, as this bench did before: p50 ${ms(f.polledLatency.p50, 0)} ms, ratio ${(f.polledLatency.p50 / f.rawLatency.p50).toFixed(2)}`,
    );
    console.log(
      `        | raw fan-out before the cluster's work p50 ${ms(f.rawRuns.before.p50, 0)} ms, ${ms(f.rawRuns.before.perSecond, 0)}/s${f.rawRuns.before.changeSetMs === undefined ? '' : `, change set ${ms(f.rawRuns.before.changeSetMs, 0)} ms`}; after it p50 ${ms(f.rawRuns.after.p50, 0)} ms, ${ms(f.rawRuns.after.perSecond, 0)}/s${f.rawRuns.after.changeSetMs === undefined ? '' : `, change set ${ms(f.rawRuns.after.changeSetMs, 0)} ms`}; the ratios use the faster of each`,
    );
    console.log(
      `        | diagnostic, cursors polled from each request's start: every node applied at p50 ${ms(f.inFlight.nodesApplied.p50, 0)} ms, the answer at p50 ${ms(f.inFlight.answered.p50, 0)} ms (nodes first in ${f.inFlight.appliedBeforeAnswer} of ${f.inFlight.events})`,
    );
    if (cpuBefore && cpuAfter) {
      const spent = (key: keyof CpuTimes) => cpuAfter[key] - cpuBefore[key];
      const total = spent('busy') + spent('idle') + spent('steal');
      console.log(
        `        | machine during this row: ${((100 * spent('busy')) / total).toFixed(0)}% of the cores busy, ${((100 * spent('steal')) / total).toFixed(1)}% of their time taken by other guests (steal)`,
      );
    }
    const floorMs = f.rawLatency.p50 + f.floor.transactP50 + f.floor.everyNodeTransactP50;
    console.log(
      `        | diagnostic, the floor of a log-first design here: raw fan-out + one raw conditional transaction (p50 ${ms(f.floor.transactP50, 0)} ms: the append) + ${nodes} at once on ${nodes} partitions (p50 ${ms(f.floor.everyNodeTransactP50, 0)} ms to the last: every node's apply) = ${ms(floorMs, 0)} ms, ratio ${(floorMs / f.rawLatency.p50).toFixed(2)}; one cursor read, which the polled figure also holds, raw p50 ${ms(f.floor.cursorReadP50, 0)} ms`,
    );
    if (f.burstCpu) {
      console.log(`        | diagnostic, the burst's ${describeCpuSplit(f.burstCpu.ours, burst)}`);
      // By function, as each execution environment reported its CPU with its latest answer.
      const byFunction = f.burstCpu.byFunction.map((entry) => `${entry.function.replace(/^ConfigSync\//, '')} ${(entry.cpuMs / burst).toFixed(1)} (${entry.invocations} calls)`);
      console.log(`        | the functions' CPU per event, by function: ${byFunction.join(', ')}`);
      console.log(`        | the raw burst's ${describeCpuSplit(f.burstCpu.raw, burst)}`);
    }
    goals.push(`p50 applied everywhere / raw at ${nodes} nodes: ${latencyRatio.toFixed(2)} (goal <= 3)`);
    if (nodes === 3) goals.push(`burst applied/s / raw received/s at 3 nodes: ${burstRatio.toFixed(2)} (goal >= 0.5)`);
    if (nodes === 30) goals.push(`burst applied/s / raw received/s at 30 nodes: ${burstRatio.toFixed(2)} (goal >= 0.3)`);
    if (f.changeSet) {
      goals.push(
        `change set of ${f.changeSet.size} in one request, applied on 3 nodes: ${f.changeSet.appliedMs.toFixed(0)} ms vs raw fan-out of ${f.changeSet.size} messages ${f.changeSet.rawMs.toFixed(0)} ms: ${(f.changeSet.appliedMs / f.changeSet.rawMs).toFixed(2)} (goal <= 3)`,
      );
    }
  }
  console.log('  Goals, ratios from this run:');
  for (const line of goals) console.log(`    ${line}`);
  console.log('');
}

async function listingFigures(topology: ReturnType<typeof synthesizeTopology>): Promise<void> {
  const [small, large] = (args['listing-sizes'] ?? '1000,100000').split(',').map(Number) as [number, number];
  const runs = Number(args['listing-runs']);
  const cluster = await spawnLocalCluster({ logFile: path.join(__dirname, '..', '.local', 'bench-listing.log'), extraArgs: ['--no-iam'] });
  try {
    // Set up as the functions' clients are (without the SDK's logger middleware), for the raw side.
    const dynamo = withoutSdkLogging(new DynamoDBClient({ endpoint: cluster.emulators.dynamo, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
    const statusTable = topology.tables.find((t) => t.logicalId.startsWith('StatusExecutions'))?.tableName;
    const shards = Number([...topology.functions.values()].find((fn) => fn.name.endsWith('ListStatuses'))?.environment.STATUS_INDEX_SHARDS);
    if (!statusTable || !Number.isInteger(shards)) throw new Error('status table or its shard count not found in the template');
    console.log(`Listing: each shape's median of ${runs} sequential requests (limit 10) at ${small.toLocaleString('en')} and ${large.toLocaleString('en')} stored executions, ${shards} index shards`);
    const figures = await benchListing({
      apiUrl: cluster.url,
      dynamo,
      dynamoEndpoint: cluster.emulators.dynamo,
      table: statusTable,
      shards,
      token: Object.values(cluster.tokens)[0] as string,
      small,
      large,
      runs,
      log: (line) => console.log(line),
    });
    console.log(
      `  ${'shape'.padEnd(44)} ${`at ${small}`.padStart(10)} ${`at ${large}`.padStart(10)}  ratio (goal <= 1.50)  page | queries or scans, items read, by key | same calls raw: ms, ratio`,
    );
    const reads = (r: Reads) => `${r.queries}q ${String(r.scanned).padStart(3)} read ${String(r.byKey).padStart(2)} key`;
    for (const row of figures.rows) {
      const over = row.ratio <= 1.5 ? '' : ' (over)';
      console.log(
        `  ${row.label.padEnd(44)} ${`${row.small.toFixed(1)} ms`.padStart(10)} ${`${row.large.toFixed(1)} ms`.padStart(10)}  ${row.ratio.toFixed(2).padStart(5)}${over.padEnd(16)} ${`${row.itemsSmall}/${row.itemsLarge}`.padStart(5)} | ${reads(row.readsSmall)} -> ${reads(row.readsLarge)} | ${row.rawSmall.toFixed(1)} -> ${row.rawLarge.toFixed(1)} ms, ${(row.rawLarge / row.rawSmall).toFixed(2)}`,
      );
    }
    const worst = Math.max(...figures.rows.map((row) => row.ratio));
    console.log(`  reference: a single poll GET /executions/{id}: ${figures.reference.small.toFixed(1)} ms, then ${figures.reference.large.toFixed(1)} ms (x${(figures.reference.large / figures.reference.small).toFixed(2)})`);
    console.log(
      `  reference: one raw Query reading the same 11 items of one partition: ${figures.fixedQuery.small.toFixed(2)} ms, then ${figures.fixedQuery.large.toFixed(2)} ms (x${(figures.fixedQuery.large / figures.fixedQuery.small).toFixed(2)}): DynamoDB Local's own growth with the table`,
    );
    console.log(`  worst ratio ${worst.toFixed(2)} (goal <= 1.50)\n`);
  } finally {
    await cluster.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
