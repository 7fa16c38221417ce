/**
 * The status store's listings against DynamoDB Local with the stack's own indexes: every
 * combination of phases, owner, process, node and completion range, paged with small limits
 * across shards, must return exactly what a plain model of the stored statuses selects, each
 * item once, newest first; also with a read budget so tight that pages come out short. And the
 * cursors: only signed ones, for the same filters, are accepted.
 */
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { DynamoStatusStore } from '../../../lambdas/status/adapters/dynamo-status-store';
import { planListing } from '../../../lambdas/status/adapters/listing-plan';
import { BY_ATTRIBUTE, BY_USER_PROCESS, STATUS_INDEXES, indexAttributes } from '../../../lambdas/status/adapters/status-table';
import { PHASES, isCompleted, type ExecutionStatus, type Phase } from '../../../lambdas/status/execution';
import type { ListQuery } from '../../../lambdas/status/ports';
import { CursorSigner } from '../../../lambdas/shared/signed-cursor';
import { ValidationError } from '../../../lambdas/shared/errors';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startEmulators, type RunningEmulators } from '../../../local/emulators';
import { pick, seededRandom } from '../../support/random';

jest.setTimeout(300_000);

const TABLE = 'listing-model';
const SHARDS = 3;
const KEY = 'listing-test-key-'.padEnd(48, 'x');

let emulators: RunningEmulators;
let client: DynamoDBClient;
let store: DynamoStatusStore;
const statuses: ExecutionStatus[] = [];

const USERS = ['alice', 'bob', undefined] as const;
const PROCESSES = ['gs:Buffer', 'gs:Clip#2'] as const; // a `#` in a value must not confuse the keys
const NODES = ['slave-1', 'master-1'] as const;
const BASE = Date.parse('2026-11-01T00:00:00.000Z');
const at = (seconds: number) => new Date(BASE + seconds * 1000).toISOString();

async function createTable(): Promise<void> {
  const attributes = new Set(['executionId', ...STATUS_INDEXES.flatMap((index) => [index.partitionAttribute, index.sortAttribute])]);
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'executionId', KeyType: 'HASH' }],
      AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
      GlobalSecondaryIndexes: STATUS_INDEXES.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionAttribute, KeyType: 'HASH' },
          { AttributeName: index.sortAttribute, KeyType: 'RANGE' },
        ],
        Projection:
          index.projection === 'ALL' ? { ProjectionType: 'ALL' } : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projection] },
      })),
    }),
  );
}

beforeAll(async () => {
  emulators = await startEmulators({ dynamoPort: 0, fauxqsPort: 0 });
  client = new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: emulators.dynamoEndpoint });
  await createTable();
  store = new DynamoStatusStore({ tableName: TABLE, shards: SHARDS, ttlBackstopSeconds: 86_400, client, cursors: new CursorSigner(KEY) });

  const random = seededRandom(14_2026);
  for (let i = 0; i < 42; i++) {
    const phase = pick(random, PHASES);
    // Two executions share a creation time: order then falls to the id.
    const created = i === 7 ? 6 * 60 : i * 60;
    const updated = created + 1 + Math.floor(random() * 600);
    const userName = pick(random, USERS);
    const status: ExecutionStatus = {
      executionId: `exec-${String(i).padStart(2, '0')}-${Math.floor(random() * 1e6)}`,
      processName: pick(random, PROCESSES),
      phase,
      progress: Math.floor(random() * 100),
      nodeId: pick(random, NODES),
      ...(userName === undefined ? {} : { userName }),
      creationTime: at(created),
      lastUpdated: at(updated),
      ...(isCompleted(phase) ? { completionTime: at(updated) } : {}),
      ...(phase === 'DISMISSING' ? { dismissed: true } : {}),
      version: 1 + Math.floor(random() * 5),
    };
    expect(await store.put(status, 0)).toBe(true);
    statuses.push(status);
  }
  // Every shape below has something to find.
  expect(new Set(statuses.map((s) => s.phase))).toEqual(new Set(PHASES));
});

afterAll(async () => {
  client?.destroy();
  await emulators?.stop();
});

function expected(query: ListQuery): ExecutionStatus[] {
  return statuses.filter(
    (s) =>
      (query.phases === undefined || query.phases.includes(s.phase)) &&
      (query.userName === undefined || s.userName === query.userName) &&
      (query.processName === undefined || [query.processName].flat().includes(s.processName)) &&
      (query.nodeId === undefined || s.nodeId === query.nodeId) &&
      (query.completedBefore === undefined || (s.completionTime !== undefined && s.completionTime < query.completedBefore)) &&
      (query.completedAfter === undefined || (s.completionTime !== undefined && s.completionTime > query.completedAfter)),
  );
}

/**
 * Newest first: what an item is ordered by. The attribute indexes order active executions by
 * creation, the heartbeat index by last heartbeat; completed ones go by completion everywhere.
 */
function orderOf(status: ExecutionStatus, query: ListQuery): string {
  const byAttribute = query.userName !== undefined || query.processName !== undefined || query.nodeId !== undefined;
  const time = status.completionTime ?? (byAttribute ? status.creationTime : status.lastUpdated);
  return `${time}#${status.executionId}`;
}

/** Whether every partition a listing reads holds only what it lists (no filter as read): its pages then come out full. */
function unfiltered(query: ListQuery): boolean {
  const plan = planListing(query, SHARDS);
  return plan.kind === 'scan' || (plan.kind === 'index' && Object.keys(plan.attributes).length === 0 && plan.sources.every((s) => s.phases === undefined));
}

async function listAll(target: DynamoStatusStore, query: ListQuery): Promise<{ items: ExecutionStatus[]; pages: number }> {
  const items: ExecutionStatus[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await target.list({ ...query, cursor });
    expect(page.items.length).toBeLessThanOrEqual(query.limit);
    // Partitions are read a share of the page at first, then again where the page needs more:
    // an unfiltered listing's page is still full whenever more follows.
    if (page.cursor !== undefined && unfiltered(query)) expect({ query, cursor, length: page.items.length }).toEqual({ query, cursor, length: query.limit });
    items.push(...page.items);
    cursor = page.cursor;
    pages += 1;
    if (pages > 500) throw new Error(`listing ${JSON.stringify(query)} did not end`);
  } while (cursor !== undefined);
  return { items, pages };
}

const PHASE_SETS: Array<Phase[] | undefined> = [
  undefined,
  ['QUEUED'],
  ['RUNNING'],
  ['DISMISSING'],
  ['SUCCEEDED'],
  ['FAILED'],
  ['RUNNING', 'SUCCEEDED'],
  ['QUEUED', 'RUNNING', 'DISMISSING'],
  [...PHASES],
];
const ATTRIBUTE_SETS: Array<Partial<Pick<ListQuery, 'userName' | 'processName' | 'nodeId'>>> = [];
// The process: none, one, or several (each read from its own partitions and merged).
const PROCESS_CHOICES: Array<ListQuery['processName']> = [undefined, 'gs:Clip#2', ['gs:Clip#2', 'gs:Buffer']];
for (const processName of PROCESS_CHOICES) {
  for (let mask = 0; mask < 4; mask++) {
    ATTRIBUTE_SETS.push({
      ...(mask & 1 ? { userName: 'alice' } : {}),
      ...(processName !== undefined ? { processName } : {}),
      ...(mask & 2 ? { nodeId: 'slave-1' } : {}),
    });
  }
}
const RANGES: Array<Pick<ListQuery, 'completedBefore' | 'completedAfter'>> = [
  {},
  { completedAfter: at(600) },
  { completedBefore: at(1800) },
  { completedAfter: at(300), completedBefore: at(2000) },
];
const SHAPES: ListQuery[] = PHASE_SETS.flatMap((phases) =>
  ATTRIBUTE_SETS.flatMap((attributes) =>
    RANGES.map((range): ListQuery => ({ ...(phases ? { phases } : {}), ...attributes, ...range, limit: 4 })),
  ),
);

function expectListing(query: ListQuery, items: ExecutionStatus[]): void {
  const ids = items.map((item) => item.executionId);
  const label = JSON.stringify({ ...query, cursor: undefined });
  // Each matching status exactly once, as stored (no index attributes leak out).
  expect({ label, ids: [...ids].sort() }).toEqual({ label, ids: expected(query).map((s) => s.executionId).sort() });
  for (const item of items) expect(item).toEqual(statuses.find((s) => s.executionId === item.executionId));
  if (planListing(query, SHARDS).kind === 'index') {
    const order = items.map((item) => orderOf(item, query));
    expect({ label, order }).toEqual({ label, order: [...order].sort().reverse() });
  }
}

test(`every filter combination (${SHAPES.length} shapes), 4 per page across ${SHARDS} shards, lists exactly the model's statuses, newest first`, async () => {
  let nonEmpty = 0;
  for (const query of SHAPES) {
    const { items } = await listAll(store, query);
    expectListing(query, items);
    if (items.length > 0) nonEmpty += 1;
  }
  // The seed gives most shapes something to page through.
  expect(nonEmpty).toBeGreaterThan(SHAPES.length / 2);
});

test('one page of 1000 holds a whole listing and says nothing more follows', async () => {
  for (const query of [{}, { userName: 'alice' }, { phases: ['SUCCEEDED', 'FAILED'] as Phase[] }, { nodeId: 'master-1', phases: ['RUNNING'] as Phase[] }]) {
    const page = await store.list({ ...query, limit: 1000 });
    expectListing({ ...query, limit: 1000 }, page.items);
    expect(page.cursor).toBeUndefined();
  }
});

test('with a read budget too small for a page, filtered listings come out short, still each item exactly once', async () => {
  const tight = new DynamoStatusStore({
    tableName: TABLE,
    shards: SHARDS,
    ttlBackstopSeconds: 86_400,
    client,
    cursors: new CursorSigner(KEY),
    filteredReadItems: 1,
  });
  let shortPages = 0;
  const filtered = SHAPES.filter((query) => {
    const plan = planListing(query, SHARDS);
    return plan.kind === 'index' && (Object.keys(plan.attributes).length > 0 || plan.sources.some((s) => s.phases !== undefined));
  });
  expect(filtered.length).toBeGreaterThan(50);
  for (const query of filtered) {
    const small = { ...query, limit: 1 };
    const items: ExecutionStatus[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await tight.list({ ...small, cursor });
      items.push(...page.items);
      if (page.items.length === 0 && page.cursor !== undefined) shortPages += 1;
      cursor = page.cursor;
      if (++pages > 500) throw new Error('did not end');
    } while (cursor !== undefined);
    expectListing(small, items);
  }
  expect(shortPages).toBeGreaterThan(0);
});

describe('cursors', () => {
  const refusal = async (call: () => Promise<unknown>) => {
    try {
      await call();
    } catch (error) {
      if (error instanceof ValidationError) return { status: error.status, field: error.field };
      throw error;
    }
    return 'accepted';
  };

  it.each([
    ['the reproduction of issue 9', {}],
    ['the reproduction with phase=SUCCEEDED', { phases: ['SUCCEEDED'] as Phase[] }],
    ['the reproduction with phase=RUNNING', { phases: ['RUNNING'] as Phase[] }],
    ['the reproduction by owner', { userName: 'alice' }],
  ])('%s: an unsigned cursor is a 400 naming cursor', async (_label, query) => {
    expect(await refusal(() => store.list({ ...query, limit: 5, cursor: 'eyJrIjoicyIsInAiOiIifQ' }))).toEqual({ status: 400, field: 'cursor' });
  });

  it('a cursor is accepted only with the filters of the listing that issued it', async () => {
    const first = await store.list({ userName: 'alice', limit: 1 });
    expect(first.cursor).toBeDefined();
    await expect(store.list({ userName: 'alice', limit: 3, cursor: first.cursor })).resolves.toBeDefined();
    expect(await refusal(() => store.list({ userName: 'bob', limit: 1, cursor: first.cursor }))).toEqual({ status: 400, field: 'cursor' });
    expect(await refusal(() => store.list({ limit: 1, cursor: first.cursor }))).toEqual({ status: 400, field: 'cursor' });
    expect(await refusal(() => store.completedBefore(at(999_999), 1, first.cursor))).toEqual({ status: 400, field: 'cursor' });
  });

  it('a cursor signed with another key, or re-signed with an empty position, is refused', async () => {
    const other = new DynamoStatusStore({ tableName: TABLE, shards: SHARDS, ttlBackstopSeconds: 1, client, cursors: new CursorSigner('z'.repeat(48)) });
    const foreign = (await other.list({ limit: 1 })).cursor;
    expect(foreign).toBeDefined();
    expect(await refusal(() => store.list({ limit: 1, cursor: foreign }))).toEqual({ status: 400, field: 'cursor' });
    // Even with the key, an empty position never reaches DynamoDB.
    const page = await store.list({ limit: 1 });
    const { l } = new CursorSigner(KEY).verify(page.cursor as string) as { l: string };
    const empty = new CursorSigner(KEY).sign({ l, p: '' });
    expect(await refusal(() => store.list({ limit: 1, cursor: empty }))).toEqual({ status: 400, field: 'cursor' });
  });
});

test('cleanup walks every completed status oldest first, those stored before the index was split by phase too', async () => {
  const legacy = {
    executionId: 'legacy-completed',
    processName: 'gs:Buffer',
    phase: 'SUCCEEDED',
    progress: 100,
    nodeId: 'slave-1',
    creationTime: at(-100),
    lastUpdated: at(-50),
    completionTime: at(-50),
    version: 3,
    // The key format before this change: one partition set for every completed status.
    completedShard: 's1',
    completedSort: `${at(-50)}#legacy-completed`,
  };
  await client.send(new PutItemCommand({ TableName: TABLE, Item: marshall(legacy) }));
  const seen: ExecutionStatus[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.completedBefore(at(999_999), 2, cursor);
    seen.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  const completed = statuses.filter((s) => s.completionTime !== undefined);
  expect(seen.map((s) => s.executionId).sort()).toEqual([...completed.map((s) => s.executionId), 'legacy-completed'].sort());
  const order = seen.map((s) => `${s.completionTime}#${s.executionId}`);
  expect(order).toEqual([...order].sort());
});

test('reindexing keys the statuses an older version stored, so a newer index lists them, and changes nothing else', async () => {
  const older: ExecutionStatus[] = [0, 1, 2].map((i) => ({
    executionId: `older-${i}`,
    processName: 'gs:Clip#2',
    phase: i === 2 ? 'RUNNING' : 'SUCCEEDED',
    progress: 50,
    nodeId: 'slave-1',
    userName: 'carol',
    creationTime: at(1000 + i),
    lastUpdated: at(2000 + i),
    ...(i === 2 ? {} : { completionTime: at(2000 + i) }),
    version: 2,
  }));
  for (const status of older) {
    // What a version without the owner-and-process index stored: every other key, and a TTL.
    const keys = indexAttributes(status, SHARDS);
    delete keys[BY_USER_PROCESS.partitionAttribute];
    await client.send(new PutItemCommand({ TableName: TABLE, Item: marshall({ ...status, ...keys, expiresAt: 4_000_000_000 }, { removeUndefinedValues: true }) }));
  }
  const query: ListQuery = { userName: 'carol', processName: 'gs:Clip#2', limit: 2 };
  expect((await listAll(store, query)).items).toEqual([]);

  const reindexAll = async () => {
    const totals = { scanned: 0, rewritten: 0, skipped: 0 };
    let next: Record<string, AttributeValue> | undefined;
    do {
      const page = await store.reindexPage(10, next);
      totals.scanned += page.scanned;
      totals.rewritten += page.rewritten;
      totals.skipped += page.skipped;
      next = page.next;
    } while (next !== undefined);
    return totals;
  };
  // The three, and the status stored under the completion index's older partition format.
  expect(await reindexAll()).toEqual({ scanned: statuses.length + 1 + older.length, rewritten: older.length + 1, skipped: 0 });
  const listed = (await listAll(store, query)).items;
  expect(listed.map((s) => s.executionId)).toEqual(['older-1', 'older-0', 'older-2']);
  for (const status of older) expect(await store.get(status.executionId)).toEqual(status);
  const raw = await client.send(new GetItemCommand({ TableName: TABLE, Key: marshall({ executionId: 'older-0' }) }));
  expect(unmarshall(raw.Item ?? {}).expiresAt).toBe(4_000_000_000);
  // Nothing left to do.
  expect(await reindexAll()).toMatchObject({ rewritten: 0, skipped: 0 });
});

test('a reindex never overwrites a status a node wrote after the scan read it: that write keyed it, and the rewrite is skipped', async () => {
  const status: ExecutionStatus = {
    executionId: 'raced-0',
    processName: 'gs:Buffer',
    phase: 'RUNNING',
    progress: 10,
    nodeId: 'slave-1',
    userName: 'dave',
    creationTime: at(5000),
    lastUpdated: at(5001),
    version: 2,
  };
  const keys = indexAttributes(status, SHARDS);
  for (const index of [...Object.values(BY_ATTRIBUTE), BY_USER_PROCESS]) delete keys[index.partitionAttribute];
  await client.send(new PutItemCommand({ TableName: TABLE, Item: marshall({ ...status, ...keys }, { removeUndefinedValues: true }) }));
  const newer: ExecutionStatus = { ...status, progress: 60, task: 'written meanwhile', lastUpdated: at(5002), version: 3 };

  // The node's write lands between the reindex's scan and its conditional put of this status.
  const racing = new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: emulators.dynamoEndpoint });
  let raced = 0;
  racing.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { Item?: Record<string, AttributeValue> };
      if (input.Item?.executionId?.S === status.executionId && raced === 0) {
        raced += 1;
        expect(await store.put(newer, status.version)).toBe(true);
      }
      return next(args);
    },
    { step: 'initialize', name: 'nodeWritesMeanwhile' },
  );
  const reindexing = new DynamoStatusStore({ tableName: TABLE, shards: SHARDS, ttlBackstopSeconds: 86_400, client: racing, cursors: new CursorSigner(KEY) });
  const totals = { rewritten: 0, skipped: 0 };
  let next: Record<string, AttributeValue> | undefined;
  do {
    const page = await reindexing.reindexPage(1000, next);
    totals.rewritten += page.rewritten;
    totals.skipped += page.skipped;
    next = page.next;
  } while (next !== undefined);
  racing.destroy();

  expect(raced).toBe(1);
  expect(totals).toEqual({ rewritten: 0, skipped: 1 });
  // The node's write stands, and keyed the status: the owner's listing finds it.
  expect(await store.get(status.executionId)).toEqual(newer);
  expect((await listAll(store, { userName: 'dave', limit: 2 })).items).toEqual([newer]);
});
