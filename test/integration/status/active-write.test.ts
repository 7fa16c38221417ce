/**
 * A progress write goes to DynamoDB as one conditional update instead of a read and a
 * compare-and-swap put. It must be indistinguishable from that path: here the same mixed,
 * seeded sequence of writes and dismisses runs against two tables on DynamoDB Local, one store
 * taking the single-update path whenever it can, the other always reading first, and after
 * every step the answers (or refusals) and the stored items, index attributes included, match.
 */
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { DynamoStatusStore } from '../../../lambdas/status/adapters/dynamo-status-store';
import { activeWrite, type ActiveWrite, type ExecutionStatus, type Phase, type StatusWrite } from '../../../lambdas/status/execution';
import { dismissExecution, writeStatus } from '../../../lambdas/status/service';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startEmulators, type RunningEmulators } from '../../../local/emulators';
import { pick, seededRandom } from '../../support/random';

jest.setTimeout(120_000);

let emulators: RunningEmulators;
let client: DynamoDBClient;

/** Counts the writes the single update applied. */
class CountingStore extends DynamoStatusStore {
  applied = 0;
  override async applyActiveWrite(executionId: string, write: ActiveWrite): Promise<ExecutionStatus | undefined> {
    const status = await super.applyActiveWrite(executionId, write);
    if (status !== undefined) this.applied += 1;
    return status;
  }
}

/** Always reads first: the path every write took before. */
class ReadFirstStore extends DynamoStatusStore {
  override async applyActiveWrite(): Promise<ExecutionStatus | undefined> {
    return undefined;
  }
}

async function createTable(name: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [{ AttributeName: 'executionId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'executionId', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}

async function rawItem(table: string, executionId: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { executionId: { S: executionId } }, ConsistentRead: true }));
  return Item === undefined ? undefined : unmarshall(Item);
}

/** The outcome of a call, or what refused it, in comparable form. */
async function settle(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return { ok: await call() };
  } catch (error) {
    const { name, status, code, message, field, details } = error as Record<string, unknown>;
    if (status === undefined) throw error;
    return { refused: { name, status, code, message, field, details } };
  }
}

beforeAll(async () => {
  emulators = await startEmulators({ dynamoPort: 0, fauxqsPort: 0 });
  client = new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: emulators.dynamoEndpoint });
  await Promise.all([createTable('single-update'), createTable('read-first')]);
});

afterAll(async () => {
  client?.destroy();
  await emulators?.stop();
});

test('the single-update path stores and answers exactly what the read-and-compare-and-swap path does', async () => {
  const options = { shards: 4, ttlBackstopSeconds: 7 * 24 * 3600, client };
  const single = new CountingStore({ tableName: 'single-update', ...options });
  const readFirst = new ReadFirstStore({ tableName: 'read-first', ...options });

  const random = seededRandom(7_2026);
  // Four executions at a time, each replaced by a new one every 40 steps: about ten writes each.
  const idsAt = (step: number) => [0, 1, 2, 3].map((k) => `exec-${k}-${Math.floor((step + k * 10) / 40)}`);
  // Mostly progress reports, as in a real cluster, with every other phase in the mix.
  const phases: Phase[] = ['QUEUED', ...Array<Phase>(12).fill('RUNNING'), 'SUCCEEDED', 'FAILED', 'DISMISSING'];
  const seen = new Set<string>();
  const start = Date.parse('2026-11-23T10:00:00.000Z');
  const maybe = <T>(value: T, probability: number): T | undefined => (random() < probability ? value : undefined);
  const kinds = new Map<string, number>();
  let refusals = 0;

  for (let step = 0; step < 400; step += 1) {
    const executionId = pick(random, idsAt(step));
    const now = new Date(start + step * 1500);
    const roll = random();
    let kind: string;
    let run: (store: DynamoStatusStore) => Promise<unknown>;
    if (roll < 0.05) {
      kind = 'dismiss';
      run = (store) => dismissExecution(store, executionId);
    } else {
      const write: StatusWrite = {
        // An execution's first write usually creates it (now and then it is refused instead).
        phase: !seen.has(executionId) && random() < 0.9 ? 'QUEUED' : pick(random, phases),
        processName: maybe(pick(random, ['gs:Buffer', 'gs:Buffer', 'gs:Clip']), 0.3),
        progress: maybe(Math.floor(random() * 101), 0.7),
        task: maybe(`step ${step}`, 0.5),
        userName: maybe(pick(random, ['alice', 'alice', 'bob']), 0.2),
        nextPoll: maybe(new Date(now.getTime() + 5000).toISOString(), 0.3),
        estimatedCompletion: maybe(new Date(now.getTime() + 60_000).toISOString(), 0.2),
        expirationDate: maybe(new Date(now.getTime() + 3_600_000).toISOString(), 0.1),
        resultLocation: maybe(`https://results.example/${executionId}/${step}`, 0.1),
        exception: maybe({ code: 'ProcessError', message: `failure at ${step}` }, 0.1),
      };
      for (const key of Object.keys(write) as (keyof StatusWrite)[]) if (write[key] === undefined) delete write[key];
      if (write.phase === 'QUEUED' && random() < 0.5) write.processName = 'gs:Buffer';
      kind = write.phase;
      const ctx = { executionId, nodeId: pick(random, ['node-1', 'node-2']), now };
      run = (store) => writeStatus(store, write, ctx);
    }
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    seen.add(executionId);

    const [fromSingle, fromReadFirst] = [await settle(() => run(single)), await settle(() => run(readFirst))];
    expect({ step, kind, answer: fromSingle }).toEqual({ step, kind, answer: fromReadFirst });
    if ('refused' in (fromSingle as object)) refusals += 1;
    expect({ step, item: await rawItem('single-update', executionId) }).toEqual({ step, item: await rawItem('read-first', executionId) });
  }

  // The sequence really went through both paths, with answers and refusals (the seed makes the
  // counts the same on every run: 85 single updates of 400 steps).
  expect(single.applied).toBeGreaterThan(60);
  expect(refusals).toBeGreaterThan(60);
  expect([...kinds.keys()].sort()).toEqual(['DISMISSING', 'FAILED', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'dismiss']);
});

test('a write the single update cannot apply changes nothing and leaves the answer to the read path', async () => {
  const store = new CountingStore({ tableName: 'single-update', shards: 4, ttlBackstopSeconds: 3600, client });
  const now = new Date('2026-11-23T12:00:00.000Z');
  const running: ActiveWrite = { from: ['QUEUED', 'RUNNING'], set: { phase: 'RUNNING', nodeId: 'node-1', lastUpdated: now.toISOString(), progress: 10 } };

  // Absent: nothing is created.
  expect(await store.applyActiveWrite('never-created', running)).toBeUndefined();
  expect(await rawItem('single-update', 'never-created')).toBeUndefined();

  // Completed, dismissed, or a conflicting immutable field: refused, the item untouched.
  const ctx = (executionId: string) => ({ executionId, nodeId: 'node-1', now });
  await writeStatus(store, { phase: 'QUEUED', processName: 'gs:Buffer', userName: 'alice' }, ctx('done'));
  await writeStatus(store, { phase: 'RUNNING' }, ctx('done'));
  await writeStatus(store, { phase: 'SUCCEEDED' }, ctx('done'));
  await writeStatus(store, { phase: 'QUEUED', processName: 'gs:Buffer', userName: 'alice' }, ctx('dismissed'));
  await dismissExecution(store, 'dismissed');
  await writeStatus(store, { phase: 'QUEUED', processName: 'gs:Buffer', userName: 'alice' }, ctx('owned'));
  for (const [executionId, write] of [
    ['done', running],
    ['dismissed', running],
    ['owned', { ...running, processName: 'gs:Clip' }],
    ['owned', { ...running, userName: 'bob' }],
  ] as const) {
    const before = await rawItem('single-update', executionId);
    expect(await store.applyActiveWrite(executionId, write)).toBeUndefined();
    expect(await rawItem('single-update', executionId)).toEqual(before);
  }

  // Through the service, each gets the read path's precise answer.
  await expect(writeStatus(store, { phase: 'RUNNING' }, ctx('done'))).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
  await expect(writeStatus(store, { phase: 'RUNNING' }, ctx('dismissed'))).rejects.toMatchObject({ code: 'EXECUTION_DISMISSED' });
  await expect(writeStatus(store, { phase: 'RUNNING', userName: 'bob' }, ctx('owned'))).rejects.toMatchObject({ code: 'IMMUTABLE_FIELD' });
  // And the same write without the conflict goes through in one update.
  const applied = store.applied;
  const written = await writeStatus(store, { phase: 'RUNNING', userName: 'alice', progress: 30 }, ctx('owned'));
  expect(store.applied).toBe(applied + 1);
  expect(written).toMatchObject({ created: false, dismissed: false, status: { phase: 'RUNNING', progress: 30, userName: 'alice', version: 2 } });
});

test('a RUNNING status stored before start times were recorded keeps its start unknown on either path', async () => {
  const store = new CountingStore({ tableName: 'single-update', shards: 4, ttlBackstopSeconds: 3600, client });
  const now = new Date('2026-11-23T12:00:00.000Z');
  const ctx = (executionId: string, seconds: number) => ({ executionId, nodeId: 'node-1', now: new Date(now.getTime() + seconds * 1000) });

  // As an earlier version stored it: running, no startTime.
  await writeStatus(store, { phase: 'QUEUED', processName: 'gs:Buffer' }, ctx('legacy', 0));
  const started = await writeStatus(store, { phase: 'RUNNING' }, ctx('legacy', 1));
  const { startTime: _dropped, ...legacy } = started.status;
  expect(await store.put({ ...legacy, version: legacy.version + 1 }, legacy.version)).toBe(true);

  // The single update does not match it (if_not_exists would date the start to this heartbeat)...
  const heartbeat = activeWrite({ phase: 'RUNNING', progress: 40 }, ctx('legacy', 2))!;
  expect(await store.applyActiveWrite('legacy', heartbeat)).toBeUndefined();
  // ...and the read path writes the heartbeat without making a start up, to the end.
  expect((await writeStatus(store, { phase: 'RUNNING', progress: 40 }, ctx('legacy', 2))).status).toMatchObject({ progress: 40 });
  expect((await writeStatus(store, { phase: 'SUCCEEDED' }, ctx('legacy', 3))).status.phase).toBe('SUCCEEDED');
  expect(await rawItem('single-update', 'legacy')).not.toHaveProperty('startTime');

  // A new execution's first RUNNING write, by the single update, records its start once.
  await writeStatus(store, { phase: 'QUEUED', processName: 'gs:Buffer' }, ctx('fresh', 0));
  const applied = store.applied;
  await writeStatus(store, { phase: 'RUNNING', progress: 5 }, ctx('fresh', 10));
  await writeStatus(store, { phase: 'RUNNING', progress: 50 }, ctx('fresh', 20));
  expect(store.applied).toBe(applied + 2);
  expect(await rawItem('single-update', 'fresh')).toMatchObject({ startTime: ctx('fresh', 10).now.toISOString() });
});
