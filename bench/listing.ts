/**
 * Listing cost against table size: the status table of a local cluster is seeded directly
 * (BatchWriteItem, items in the stored form the store writes, index keys included) with 1,000
 * executions, every listing shape is timed through the API, then the table is grown to 100,000
 * and the same shapes are timed again. Printed: each shape's median at both sizes and the ratio
 * (goal: at most 1.5).
 *
 * The seeded cluster looks like a busy one in its retention period: almost every execution is
 * completed (SUCCEEDED or FAILED) over the last day, a fixed set is queued or running (what the
 * nodes run right now does not grow with the retention), twenty users share the work, and one
 * rare user has five executions, all in the first thousand.
 *
 * Beside each shape's time, what explains it: the DynamoDB calls one listing makes at each size
 * and the items they read (counted by running the shape through the same store code in this
 * process, on a client that counts), and how much DynamoDB Local's own time for exactly those
 * calls grew (the recorded calls sent again raw, without the API, the function or the merge).
 * A last line times one raw Query that reads the same 11 items of one partition at both sizes:
 * what the table's size alone does to DynamoDB Local.
 */
import { BatchGetItemCommand, BatchWriteItemCommand, DynamoDBClient, QueryCommand, ScanCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/account';
import { CursorSigner } from '../lambdas/shared/signed-cursor';
import { DynamoStatusStore } from '../lambdas/status/adapters/dynamo-status-store';
import { BY_ATTRIBUTE, attributePartition, indexAttributes } from '../lambdas/status/adapters/status-table';
import type { ExecutionStatus, Phase } from '../lambdas/status/execution';
import { listQueryOf } from '../lambdas/status/list-query';
import { listJobs } from '../lambdas/status/protocols/job-list';
import { parseJobListQuery } from '../lambdas/status/protocols/job-list-query';
import { seededRandom } from '../test/support/random';

export interface ListingShape {
  label: string;
  query: string;
}

export interface ListingFigures {
  seedSeconds: { small: number; large: number };
  sizes: { small: number; large: number };
  rows: Array<{
    label: string;
    small: number;
    large: number;
    ratio: number;
    itemsSmall: number;
    itemsLarge: number;
    /** What one listing read at each size. */
    readsSmall: Reads;
    readsLarge: Reads;
    /** The same DynamoDB calls sent raw: median ms at each size. */
    rawSmall: number;
    rawLarge: number;
  }>;
  /** A single-item poll at both sizes: how much the machine itself drifted between the two. */
  reference: { small: number; large: number };
  /** One raw Query reading the same 11 items of one partition at both sizes: median ms. */
  fixedQuery: { small: number; large: number };
}

/** The DynamoDB work of one listing call. */
export interface Reads {
  /** Query calls (each one partition of an index) and Scan calls (the unfiltered listing's page). */
  queries: number;
  /** Items the queries and scans evaluated (ScannedCount): what a listing pays for. */
  scanned: number;
  /** Statuses read by key (BatchGetItem) for the page. */
  byKey: number;
  /** Read capacity DynamoDB Local reported. */
  capacity: number;
}

const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const DAY_MS = 86_400_000;
const USERS = Array.from({ length: 20 }, (_, i) => `user-${i}`);
const PROCESSES = ['gs:Buffer', 'gs:Clip', 'gs:Reproject', 'ras:Contour', 'vec:Heatmap', 'gs:Aggregate'];
const NODES = ['master-1', 'slave-1', 'slave-2'];
const RARE_USER = 'rare-user';
/** Queued and running executions at any moment: what the cluster runs, not what it retains. */
const ACTIVE = 60;

export const SHAPES: ListingShape[] = [
  { label: 'no filter (one scan page)', query: 'limit=10' },
  { label: 'userName (rare user, 5 items)', query: `userName=${RARE_USER}&limit=10` },
  { label: 'userName (a user with 5% of all)', query: 'userName=user-3&limit=10' },
  { label: 'userName + phase=SUCCEEDED', query: 'userName=user-3&phase=SUCCEEDED&limit=10' },
  { label: 'userName + phase=RUNNING', query: 'userName=user-3&phase=RUNNING&limit=10' },
  { label: 'userName + completion range', query: `userName=user-3&completedAfter=${iso(NOW - 6 * 3600_000)}&completedBefore=${iso(NOW - 3600_000)}&limit=10` },
  { label: 'userName + processName', query: 'userName=user-3&processName=gs:Clip&limit=10' },
  { label: 'processName', query: 'processName=gs:Buffer&limit=10' },
  { label: 'processName + phase=FAILED', query: 'processName=gs:Buffer&phase=FAILED&limit=10' },
  { label: 'nodeId', query: 'nodeId=slave-1&limit=10' },
  { label: 'nodeId + phase=QUEUED,RUNNING', query: 'nodeId=slave-1&phase=QUEUED,RUNNING&limit=10' },
  { label: 'phase=FAILED', query: 'phase=FAILED&limit=10' },
  { label: 'phase=RUNNING', query: 'phase=RUNNING&limit=10' },
  { label: 'completedAfter (last hour)', query: `completedAfter=${iso(NOW - 3600_000)}&limit=10` },
  { label: 'GET /jobs?processID&status=successful', query: '/jobs?processID=gs:Buffer&status=successful&limit=10' },
  // Several processes: each one's byProcess partitions read and merged newest first, not a phase listing filtered.
  { label: 'GET /jobs?processID=a,b,c (three processes)', query: '/jobs?processID=gs:Clip,ras:Contour,vec:Heatmap&limit=10' },
];

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The i-th seeded execution: the same on every run. */
function execution(i: number, shards: number): Record<string, unknown> {
  const random = seededRandom(1_000_003 * (i + 1));
  const executionId = `bench-${String(i).padStart(7, '0')}`;
  const rare = i % 200 === 7 && i < 1000; // five of the first thousand
  const active = i < ACTIVE;
  const phase: Phase = active ? (random() < 0.3 ? 'QUEUED' : 'RUNNING') : random() < 0.92 ? 'SUCCEEDED' : 'FAILED';
  const completedAt = NOW - Math.floor(random() * DAY_MS);
  const created = active ? NOW - Math.floor(random() * 600_000) : completedAt - 1000 - Math.floor(random() * 600_000);
  const lastUpdated = active ? NOW - Math.floor(random() * 30_000) : completedAt;
  const status: ExecutionStatus = {
    executionId,
    processName: PROCESSES[Math.floor(random() * PROCESSES.length)] as string,
    phase,
    progress: active ? Math.floor(random() * 100) : 100,
    nodeId: NODES[Math.floor(random() * NODES.length)] as string,
    userName: rare ? RARE_USER : (USERS[Math.floor(random() * USERS.length)] as string),
    creationTime: iso(created),
    lastUpdated: iso(lastUpdated),
    ...(active ? {} : { completionTime: iso(completedAt) }),
    ...(phase === 'SUCCEEDED' ? { resultLocation: `https://results.example/${executionId}` } : {}),
    ...(phase === 'FAILED' ? { exception: { code: 'ProcessError', message: 'The process failed' } } : {}),
    version: 3,
  };
  return { ...status, ...indexAttributes(status, shards), expiresAt: Math.floor((NOW + 7 * DAY_MS) / 1000) };
}

/** Writes executions [from, to) with BatchWriteItem, `concurrency` batches in flight. */
export async function seed(dynamo: DynamoDBClient, table: string, shards: number, from: number, to: number, concurrency = 8): Promise<number> {
  const started = performance.now();
  let next = from;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < to) {
        const start = next;
        next = Math.min(to, next + 25);
        let requests: WriteRequest[] = [];
        for (let i = start; i < Math.min(to, start + 25); i++) {
          requests.push({ PutRequest: { Item: marshall(execution(i, shards), { removeUndefinedValues: true }) } });
        }
        for (let attempt = 0; requests.length > 0; attempt++) {
          if (attempt === 10) throw new Error(`BatchWriteItem left ${requests.length} items unprocessed`);
          if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
          const result = await dynamo.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
          requests = result.UnprocessedItems?.[table] ?? [];
        }
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** Median latency of `runs` sequential requests (after a warm-up), and the page's item count. */
async function time(url: string, headers: Record<string, string>, runs: number): Promise<{ ms: number; items: number }> {
  let items = 0;
  const once = async () => {
    const t = performance.now();
    const response = await fetch(url, { headers });
    const body = (await response.json()) as { executions?: unknown[]; jobs?: unknown[] };
    if (response.status !== 200) throw new Error(`${url} answered ${response.status} ${JSON.stringify(body)}`);
    items = (body.executions ?? body.jobs ?? []).length;
    return performance.now() - t;
  };
  for (let i = 0; i < 3; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await once());
  return { ms: median(samples), items };
}

/** A DynamoDB call a listing made, to send again raw. */
type RecordedCall = QueryCommand | ScanCommand | BatchGetItemCommand;

/**
 * A client that records the calls the store makes and counts what they read. The store then
 * runs in this process with the function's own code (the same planning, reads and merge).
 */
function countingClient(endpoint: string): { client: DynamoDBClient; take: () => { reads: Reads; calls: RecordedCall[] } } {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  let reads: Reads = { queries: 0, scanned: 0, byKey: 0, capacity: 0 };
  let calls: RecordedCall[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      if (context.commandName === 'QueryCommand') calls.push(new QueryCommand({ ...(input as unknown as QueryCommand['input']) }));
      if (context.commandName === 'ScanCommand') calls.push(new ScanCommand({ ...(input as unknown as ScanCommand['input']) }));
      if (context.commandName === 'BatchGetItemCommand') calls.push(new BatchGetItemCommand({ ...(input as unknown as BatchGetItemCommand['input']) }));
      input.ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      const output = result.output as { ScannedCount?: number; Responses?: Record<string, unknown[]>; ConsumedCapacity?: { CapacityUnits?: number } | Array<{ CapacityUnits?: number }> };
      if (context.commandName === 'QueryCommand' || context.commandName === 'ScanCommand') {
        reads.queries += 1;
        reads.scanned += output.ScannedCount ?? 0;
      }
      if (context.commandName === 'BatchGetItemCommand') reads.byKey += Object.values(output.Responses ?? {}).reduce((sum, items) => sum + items.length, 0);
      const capacity = output.ConsumedCapacity;
      reads.capacity += Array.isArray(capacity) ? capacity.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0) : (capacity?.CapacityUnits ?? 0);
      return result;
    },
    { step: 'initialize', name: 'benchListingReads' },
  );
  return {
    client,
    take: () => {
      const taken = { reads, calls };
      reads = { queries: 0, scanned: 0, byKey: 0, capacity: 0 };
      calls = [];
      return taken;
    },
  };
}

/** Runs a shape through the store in this process, as its function would: the GET /executions or GET /jobs mapping, then the store. */
async function listInProcess(shape: ListingShape, store: DynamoStatusStore): Promise<void> {
  const [path, search = ''] = shape.query.startsWith('/') ? (shape.query.split('?') as [string, string?]) : ['/executions', shape.query];
  const params = Object.fromEntries(new URLSearchParams(search));
  if (path === '/jobs') {
    const { cursor, ...query } = parseJobListQuery(params, path);
    await listJobs(store, query, cursor);
  } else {
    await store.list(listQueryOf(params));
  }
}

/** Median of `runs` raw replays of a listing's calls: its queries (or scan) in parallel, then its reads by key. */
async function timeRaw(dynamo: DynamoDBClient, calls: RecordedCall[], runs: number): Promise<number> {
  const queries = calls.filter((call): call is QueryCommand | ScanCommand => call instanceof QueryCommand || call instanceof ScanCommand);
  const byKey = calls.filter((call): call is BatchGetItemCommand => call instanceof BatchGetItemCommand);
  const once = async () => {
    const t = performance.now();
    await Promise.all(queries.map((call) => dynamo.send(call)));
    for (const call of byKey) await dynamo.send(call);
    return performance.now() - t;
  };
  for (let i = 0; i < 3; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await once());
  return median(samples);
}

export async function benchListing(options: {
  apiUrl: string;
  dynamo: DynamoDBClient;
  /** The same DynamoDB Local, for the client that counts what the store reads. */
  dynamoEndpoint: string;
  table: string;
  shards: number;
  token: string;
  small: number;
  large: number;
  runs: number;
  log: (line: string) => void;
}): Promise<ListingFigures> {
  const headers = { authorization: `Bearer ${options.token}` };
  const urlOf = (shape: ListingShape) => (shape.query.startsWith('/') ? `${options.apiUrl}${shape.query}` : `${options.apiUrl}/executions?${shape.query}`);
  const pollUrl = `${options.apiUrl}/executions/bench-0000100`;

  const counting = countingClient(options.dynamoEndpoint);
  const store = new DynamoStatusStore({
    tableName: options.table,
    shards: options.shards,
    ttlBackstopSeconds: 86_400,
    client: counting.client,
    cursors: new CursorSigner('bench-listing-'.padEnd(48, 'x')),
  });
  // Newest first, a page and one: a SUCCEEDED partition of a common process, which holds more than 11 items at both sizes.
  const fixedQuery = new QueryCommand({
    TableName: options.table,
    IndexName: BY_ATTRIBUTE.processName.name,
    KeyConditionExpression: '#p = :p',
    ExpressionAttributeNames: { '#p': BY_ATTRIBUTE.processName.partitionAttribute },
    ExpressionAttributeValues: { ':p': { S: attributePartition('gs:Buffer', 'SUCCEEDED', 0) } },
    ScanIndexForward: false,
    Limit: 11,
  });

  const measure = async () => {
    const figures = new Map<string, { ms: number; items: number; reads: Reads; raw: number }>();
    for (const shape of SHAPES) {
      const timed = await time(urlOf(shape), headers, options.runs);
      counting.take();
      await listInProcess(shape, store);
      const { reads, calls } = counting.take();
      figures.set(shape.label, { ...timed, reads, raw: await timeRaw(options.dynamo, calls, options.runs) });
    }
    const fixed = await timeRaw(options.dynamo, [fixedQuery], options.runs);
    const scanned = (await options.dynamo.send(fixedQuery)).ScannedCount;
    if (scanned !== 11) throw new Error(`the fixed raw query read ${scanned} items, not 11: the seed no longer fills its partition`);
    return { figures, reference: (await time(pollUrl, headers, options.runs)).ms, fixed };
  };

  const seedSmall = await seed(options.dynamo, options.table, options.shards, 0, options.small);
  options.log(`  seeded ${options.small.toLocaleString('en')} executions in ${seedSmall.toFixed(1)} s`);
  const small = await measure();
  const seedLarge = await seed(options.dynamo, options.table, options.shards, options.small, options.large);
  options.log(`  grew the table to ${options.large.toLocaleString('en')} executions in ${seedLarge.toFixed(1)} s (${((options.large - options.small) / seedLarge).toFixed(0)} items/s)`);
  const large = await measure();
  counting.client.destroy();

  return {
    seedSeconds: { small: seedSmall, large: seedLarge },
    sizes: { small: options.small, large: options.large },
    rows: SHAPES.map((shape) => {
      const a = small.figures.get(shape.label)!;
      const b = large.figures.get(shape.label)!;
      return {
        label: shape.label,
        small: a.ms,
        large: b.ms,
        ratio: b.ms / a.ms,
        itemsSmall: a.items,
        itemsLarge: b.items,
        readsSmall: a.reads,
        readsLarge: b.reads,
        rawSmall: a.raw,
        rawLarge: b.raw,
      };
    }),
    reference: { small: small.reference, large: large.reference },
    fixedQuery: { small: small.fixed, large: large.fixed },
  };
}
