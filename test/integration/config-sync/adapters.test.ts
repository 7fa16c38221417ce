// The config-sync adapters against the real emulators (DynamoDB Local, fauxqs for SNS, SQS and
// S3), started by this file on free ports with the tables, topic, queues and bucket created
// through the SDK.
import { DeleteItemCommand, GetItemCommand, TransactWriteItemsCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoEventLog } from '../../../lambdas/config-sync/adapters/dynamo-event-log';
import { MemoryEventBodyStore, MemoryEventLog } from '../../../lambdas/config-sync/adapters/memory';
import { DynamoJobStore, JOB_LOCK_KEY } from '../../../lambdas/config-sync/adapters/dynamo-jobs';
import { DynamoGatewayLease, gatewayLeasePartition } from '../../../lambdas/config-sync/adapters/dynamo-gateway-lease';
import { leaseSerializer } from '../../../lambdas/config-sync/gateway/write-lease';
import { sweepGatewayIntents } from '../../../lambdas/config-sync/gateway/sweep';
import { RECOVERY_WANTED_MS } from '../../../lambdas/config-sync/gateway/limits';
import { CURSOR_KEY, DynamoNodeStore } from '../../../lambdas/config-sync/adapters/dynamo-node-store';
import { DynamoNodePauses } from '../../../lambdas/config-sync/adapters/dynamo-node-pauses';
import { S3Bucket, S3EventBodyStore, S3ObjectBodies } from '../../../lambdas/config-sync/adapters/s3-body-store';
import { SnsEventTopic } from '../../../lambdas/config-sync/adapters/sns-event-topic';
import { sqsFromEnv } from '../../../lambdas/config-sync/adapters/from-env';
import { loadSqsSdk, snsWith, sqsWith } from '../../../lambdas/config-sync/adapters/deferred-sdk';
import { SqsQueueDepths, SqsRedrive } from '../../../lambdas/config-sync/adapters/sqs-queues';
import { applyDeliveredBatch, applyDeliveredEvent, retryParked } from '../../../lambdas/config-sync/apply';
import { resyncFrom } from '../../../lambdas/config-sync/bootstrap';
import { deduplicationId, eventDigest, objectStorageKey, parkingKey, type ConfigChange, type ObjectType, type PublishedEvent } from '../../../lambdas/config-sync/events';
import type { ApplyDeps } from '../../../lambdas/config-sync/apply';
import { PARKED_LIST_MAX, type StoredObject } from '../../../lambdas/config-sync/ports';
import { publishChange } from '../../../lambdas/config-sync/publish';
import { newJob, STALE_AFTER_MS, type Job } from '../../../lambdas/config-sync/jobs';
import type { DriftEntry } from '../../../lambdas/config-sync/geoserver/drift';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/emulators';
import { countedDynamoClient, receiveAll, startEmulatedAws, type EmulatedAws } from './emulated-aws';

jest.setTimeout(120_000);

const CLUSTER = 'adapters';
const KIB = 1024;

let aws: EmulatedAws;
let log: DynamoEventLog;
let store: DynamoNodeStore;
let bucket: S3Bucket;
let bodies: S3EventBodyStore;
let topic: SnsEventTopic;

beforeAll(async () => {
  aws = await startEmulatedAws({ cluster: CLUSTER, consumers: ['slave-1', 'both-1'] });
  log = new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo });
  bucket = new S3Bucket(aws.s3, aws.bucket);
  store = new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo, bodies: new S3ObjectBodies(bucket) });
  bodies = new S3EventBodyStore(bucket);
  topic = new SnsEventTopic(snsWith(aws.sns), aws.topicArn);
});

afterAll(async () => {
  await aws?.stop();
});

function stored(type: ObjectType, id: string, lastSequence: number, properties: StoredObject['properties'] = {}): StoredObject {
  return {
    type,
    id,
    properties,
    lastSequence,
    lastOrigin: 'master-1',
    updatedAt: '2025-01-01T00:00:00.000Z',
    deleted: false,
    incomplete: false,
  };
}

/** A style whose SLD is `bytes` long. */
function largeStyle(id: string, bytes: number): ConfigChange {
  const rule = '<Rule><PolygonSymbolizer><Fill><CssParameter name="fill">#AAAAAA</CssParameter></Fill></PolygonSymbolizer></Rule>';
  const body = `<StyledLayerDescriptor>${rule.repeat(Math.ceil(bytes / rule.length))}</StyledLayerDescriptor>`.slice(0, bytes);
  return { kind: 'add', object: { type: 'style', id }, properties: { format: 'sld', body } };
}

describe('DynamoEventLog', () => {
  const cluster = 'log-test';
  const draft = (id: string) => ({
    cluster,
    origin: 'master-1',
    publishedAt: '2025-01-01T00:00:00.000Z',
    kind: 'add' as const,
    object: { type: 'workspace' as const, id },
    properties: { name: id },
  });

  test('50 parallel appends from separate writers get exactly the sequences 1..50', async () => {
    // Separate instances: none may learn the head from another's memory.
    const writers = Array.from({ length: 5 }, () => new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo }));
    const appended = await Promise.all(
      Array.from({ length: 50 }, (_, index) => (writers[index % writers.length] as DynamoEventLog).append(draft(`ws${index}`))),
    );
    expect(appended.map((event) => event.sequence).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await log.head(cluster)).toBe(50);

    const read = await log.readRange(cluster, 1, 50);
    expect(read.map((event) => event.sequence)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    // Each sequence holds the event its appender was told it got.
    const bySequence = new Map(appended.map((event) => [event.sequence, event]));
    for (const event of read) expect(event).toEqual(bySequence.get(event.sequence));
    expect((await log.readRange(cluster, 48, 200)).map((event) => event.sequence)).toEqual([48, 49, 50]);
    expect(await log.readRange(cluster, 0, 0)).toEqual([]);
    expect(await log.head('no-such-cluster')).toBe(0);
  });

  test('unpublished events are listed oldest first until marked, and the watermark follows', async () => {
    expect((await log.listUnpublished(cluster, 100)).map((event) => event.sequence)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    for (let sequence = 1; sequence <= 10; sequence += 1) await log.markPublished(cluster, sequence);
    // Out of order: 12 before 11.
    await log.markPublished(cluster, 12);
    const pending = await log.listUnpublished(cluster, 3);
    expect(pending.map((event) => event.sequence)).toEqual([11, 13, 14]);

    const watermark = async () => {
      const { Item } = await aws.dynamo.send(
        new GetItemCommand({ TableName: aws.eventLogTable, Key: { cluster: { S: cluster }, sequence: { N: '0' } }, ConsistentRead: true }),
      );
      return Number(Item?.publishedThrough?.N ?? 0);
    };
    expect(await watermark()).toBe(10);
    // Marked in order, only the watermark moved: the items below it keep a flag nothing reads.
    const { Item: fifth } = await aws.dynamo.send(
      new GetItemCommand({ TableName: aws.eventLogTable, Key: { cluster: { S: cluster }, sequence: { N: '5' } }, ConsistentRead: true }),
    );
    expect(fifth?.unpublished?.BOOL).toBe(true);
    // Another instance marks 11: it does not know that 12 is marked, so the watermark stops at
    // 11, and the next listing moves it over 12.
    await new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo }).markPublished(cluster, 11);
    expect(await watermark()).toBe(11);
    expect((await log.listUnpublished(cluster, 1)).map((event) => event.sequence)).toEqual([13]);
    expect(await watermark()).toBe(12);
    // One instance marks 15 and 14 before 13 (concurrent publishers commit and publish out of
    // order): its mark of 13 moves the watermark over both, in one write.
    const { client: counted, calls } = countedDynamoClient(aws);
    const marker = new DynamoEventLog({ tableName: aws.eventLogTable, client: counted });
    await marker.markPublished(cluster, 15);
    await marker.markPublished(cluster, 14);
    expect(await watermark()).toBe(12);
    expect(calls.splice(0)).toEqual(['UpdateItem', 'UpdateItem', 'UpdateItem', 'UpdateItem']); // each: the watermark refused, the item's flag
    await marker.markPublished(cluster, 13);
    expect(calls.splice(0)).toEqual(['UpdateItem']);
    expect(await watermark()).toBe(15);
    expect((await log.listUnpublished(cluster, 1)).map((event) => event.sequence)).toEqual([16]);
    // A mark the watermark already covers (a delivery repeated) changes nothing and writes nothing more.
    await marker.markPublished(cluster, 14);
    expect(calls.splice(0)).toEqual(['UpdateItem']); // the refused move, which answers where the watermark is
    expect(await watermark()).toBe(15);
    // A mark whose range the watermark already reaches into moves it on from there.
    await marker.markPublished(cluster, 15, 17);
    expect(calls.splice(0)).toEqual(['UpdateItem', 'UpdateItem']);
    expect(await watermark()).toBe(17);
    // Marking an event the log does not hold creates nothing.
    await log.markPublished(cluster, 999);
    expect(await log.head(cluster)).toBe(50);
    expect(await log.readRange(cluster, 999, 999)).toEqual([]);
    // Nor is it remembered: appended later, that sequence is not passed over by the watermark
    // before it is marked itself.
    await marker.markPublished(cluster, 18, 50);
    expect(await watermark()).toBe(50);
    await marker.markPublished(cluster, 52);
    expect((await log.append(draft('ws-51'))).sequence).toBe(51);
    expect((await log.append(draft('ws-52'))).sequence).toBe(52);
    await marker.markPublished(cluster, 51);
    expect(await watermark()).toBe(51);
    expect((await log.listUnpublished(cluster, 5)).map((event) => event.sequence)).toEqual([52]);
  });
});

describe('a consuming node keeping up, on DynamoDB', () => {
  const cluster = 'keeping-up';
  const node = 'keeper-1';
  const draft = (id: string, properties: Record<string, string>) => ({
    cluster,
    origin: 'master-1',
    publishedAt: '2025-01-01T00:00:00.000Z',
    kind: 'add' as const,
    object: { type: 'workspace' as const, id },
    properties,
  });

  it("commits a delivery that is the log's event in one transaction, checking the log's item there; reads the item only when that check fails", async () => {
    const events = [await log.append(draft('k1', { name: 'k1' })), await log.append(draft('k2', { name: 'k2' })), await log.append(draft('k3', { name: 'k3' }))];
    const { client, calls } = countedDynamoClient(aws);
    const deps: ApplyDeps = {
      store: new DynamoNodeStore({ tableName: aws.nodeStoreTable, client, bodies: new S3ObjectBodies(bucket), logTableName: aws.eventLogTable }),
      log: new DynamoEventLog({ tableName: aws.eventLogTable, client }),
      bodies,
    };
    const context = { cluster, node };
    const outcome = (batch: Awaited<ReturnType<typeof applyDeliveredBatch>>) => ({
      failure: batch.failure,
      setAside: batch.setAside?.map((message) => message.reason),
      results: batch.results.map((result) => result.disposition),
    });

    // The log's event: one call, no read of the log.
    const first = await applyDeliveredBatch(deps, context, [JSON.stringify(events[0])], { knownCursor: 0, readAhead: false });
    expect(outcome(first)).toEqual({ failure: undefined, setAside: undefined, results: ['applied'] });
    expect(calls.splice(0)).toEqual(['TransactWriteItems']);

    // A forged copy: the commit's check fails, the log's item is read, the copy set aside, the log's event applied.
    const forged = JSON.stringify({ ...events[1], properties: { name: 'forged' } });
    const second = await applyDeliveredBatch(deps, context, [forged], { knownCursor: 1, readAhead: false });
    expect(outcome(second)).toEqual({ failure: undefined, setAside: [expect.stringContaining("differs from the log's event 2")], results: [] });
    expect(calls.splice(0)).toEqual(['TransactWriteItems', 'Query', 'TransactWriteItems']);
    expect((await store.readObjects(node, [{ type: 'workspace', id: 'k2' }]))[0]?.properties).toEqual({ name: 'k2' });

    // An item written before items carried a digest: read, found equal, applied.
    await aws.dynamo.send(new UpdateItemCommand({ TableName: aws.eventLogTable, Key: { cluster: { S: cluster }, sequence: { N: '3' } }, UpdateExpression: 'REMOVE digest' }));
    const third = await applyDeliveredBatch(deps, context, [JSON.stringify(events[2])], { knownCursor: 2, readAhead: false });
    expect(outcome(third)).toEqual({ failure: undefined, setAside: undefined, results: ['applied'] });
    expect(calls.splice(0)).toEqual(['TransactWriteItems', 'Query', 'TransactWriteItems']);
    expect(await store.readCursor(node)).toBe(3);
  });
});

describe("a node store's commit that checks the node's pause (unlessPaused), on DynamoDB", () => {
  it("is refused while the node's pause item is there, writing nothing; a failed check of the log's item is answered first", async () => {
    const cluster = 'pause-checked';
    const node = 'pure-master-1';
    const event = await log.append({ cluster, origin: node, publishedAt: '2025-01-01T00:00:00.000Z', kind: 'add', object: { type: 'workspace', id: 'p1' }, properties: {} });
    const checking = new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo, bodies: new S3ObjectBodies(bucket), logTableName: aws.eventLogTable });
    expect(checking.checksPauses).toBe(true);
    const pauses = new DynamoNodePauses(aws.nodeStoreTable, aws.dynamo);
    const commit = (digest: string) =>
      checking.commit(node, { expectedCursor: 0, sequence: 1, object: stored('workspace', 'p1', 1), unread: true, unlessPaused: true, logCheck: { cluster, sequence: 1, digest } });
    await pauses.write(node, { since: '2025-01-01T00:00:00.000Z', by: node });
    expect(await commit(eventDigest(event))).toBe('paused');
    expect(await commit('another digest')).toBe('log-differs');
    expect(await checking.readCursor(node)).toBe(0);
    expect(await checking.readObjects(node, [{ type: 'workspace', id: 'p1' }])).toEqual([]);
    await pauses.write(node, undefined);
    expect(await commit(eventDigest(event))).toBe('committed');
    expect(await checking.readCursor(node)).toBe(1);
  });
});

describe('DynamoGatewayLease', () => {
  test('one holder at a time; an expired lease is taken over; only its owner releases it', async () => {
    const lease = (cluster = 'lease-test') => new DynamoGatewayLease(aws.dynamo, aws.eventLogTable, cluster);
    const now = Date.now();
    expect(await lease().tryAcquire('a', now, now + 30_000)).toEqual({ acquired: true });
    expect(await lease().tryAcquire('b', now + 10, now + 30_010)).toEqual({ acquired: false, heldUntil: now + 30_000 });
    // another cluster's lease is its own
    expect(await lease('lease-other').tryAcquire('c', now, now + 30_000)).toEqual({ acquired: true });
    // after a's expiry, b takes it over; a (which outlived its lease) cannot free b's
    expect(await lease().tryAcquire('b', now + 30_001, now + 60_001)).toEqual({ acquired: true });
    await lease().release('a');
    expect(await lease().tryAcquire('d', now + 30_002, now + 60_002)).toEqual({ acquired: false, heldUntil: now + 60_001 });
    await lease().release('b');
    expect(await lease().tryAcquire('d', now + 30_003, now + 60_003)).toEqual({ acquired: true });
    // the lease item is not an event: the log of the cluster is untouched
    const item = await aws.dynamo.send(new GetItemCommand({ TableName: aws.eventLogTable, Key: { cluster: { S: gatewayLeasePartition('lease-test') }, sequence: { N: '0' } } }));
    expect(item.Item?.owner?.S).toBe('d');
    expect(await new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo }).head('lease-test')).toBe(0);
  });

  test("a renewal moves the holder's expiry on; it fails once another owner took the lease over, and changes nothing then", async () => {
    const lease = new DynamoGatewayLease(aws.dynamo, aws.eventLogTable, 'lease-renew');
    const now = Date.now();
    expect(await lease.tryAcquire('a', now, now + 30_000)).toEqual({ acquired: true });
    expect(await lease.renew('a', now + 60_000)).toBe(true);
    // Held past a's first expiry, as renewed.
    expect(await lease.tryAcquire('b', now + 30_001, now + 60_001)).toEqual({ acquired: false, heldUntil: now + 60_000 });
    // Taken over once the renewed expiry has passed: a's renewal is refused, b keeps it.
    expect(await lease.tryAcquire('b', now + 60_001, now + 90_001)).toEqual({ acquired: true });
    expect(await lease.renew('a', now + 120_000)).toBe(false);
    expect(await lease.tryAcquire('c', now + 60_002, now + 90_002)).toEqual({ acquired: false, heldUntil: now + 90_001 });
    await lease.release('b');
    expect(await lease.renew('b', now + 120_000)).toBe(false);
  });

  test('20 writers from separate instances never overlap', async () => {
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        leaseSerializer(new DynamoGatewayLease(aws.dynamo, aws.eventLogTable, 'lease-race'), { waitMs: 20_000, ttlMs: 30_000 }).run(async () => {
          inside += 1;
          most = Math.max(most, inside);
          await new Promise((resolve) => setTimeout(resolve, 5));
          inside -= 1;
        }),
      ),
    );
    expect(most).toBe(1);
  });
});

describe("DynamoGatewayLease: the sweep's mark", () => {
  const leaseKey = (cluster: string) => ({ cluster: { S: gatewayLeasePartition(cluster) }, sequence: { N: '0' } });
  const leaseItem = async (cluster: string) =>
    (await aws.dynamo.send(new GetItemCommand({ TableName: aws.eventLogTable, Key: leaseKey(cluster), ConsistentRead: true }))).Item ?? {};

  test("a job's take is refused while it stands, answering its end; a plain take is not; a take that recovers removes it", async () => {
    const lease = new DynamoGatewayLease(aws.dynamo, aws.eventLogTable, 'lease-mark');
    const now = Date.now();
    await lease.wantRecovery(now + 90_000);
    expect(await lease.tryAcquire('job-1', now, now + 35_000, undefined, { yields: true })).toEqual({ acquired: false, heldUntil: now + 90_000 });
    // Held by a write and marked: the later of the two ends.
    expect(await lease.tryAcquire('write-1', now, now + 35_000)).toEqual({ acquired: true });
    expect(await lease.pending()).toEqual({ heldUntil: now + 35_000, holder: 'write-1', intents: [] });
    expect(await lease.tryAcquire('job-1', now + 1, now + 35_001, undefined, { yields: true })).toEqual({ acquired: false, heldUntil: now + 90_000 });
    await lease.release('write-1');
    expect((await leaseItem('lease-mark')).recoveryWantedUntil?.N).toBe(String(now + 90_000));
    expect(await lease.tryAcquire('sweep-1', now + 2, now + 35_002, undefined, { recovers: true })).toEqual({ acquired: true });
    expect((await leaseItem('lease-mark')).recoveryWantedUntil).toBeUndefined();
    await lease.release('sweep-1');
    expect(await lease.tryAcquire('job-1', now + 3, now + 35_003, undefined, { yields: true })).toEqual({ acquired: true });
    await lease.release('job-1');
    // One left standing lapses by itself.
    await lease.wantRecovery(now + 10);
    expect(await lease.tryAcquire('job-2', now + 11, now + 35_011, undefined, { yields: true })).toEqual({ acquired: true });
  });

  test('a sweep run recovers while a job takes the lease difference after difference, and the job goes on', async () => {
    const cluster = 'lease-sweep';
    const lease = new DynamoGatewayLease(aws.dynamo, aws.eventLogTable, cluster);
    const left = { owner: 'gateway-that-died', at: new Date(Date.now() - 120_000).toISOString(), method: 'DELETE', path: '/styles/old', objects: [{ type: 'style' as const, id: 'old', path: '/styles/old' }] };
    await aws.dynamo.send(
      new UpdateItemCommand({
        TableName: aws.eventLogTable,
        Key: leaseKey(cluster),
        UpdateExpression: 'SET #intent = :intent',
        ExpressionAttributeNames: { '#intent': `intent_${left.owner}` },
        ExpressionAttributeValues: { ':intent': { S: JSON.stringify(left) } },
      }),
    );
    // A job of the master's instance: differences of 300 ms each, the next taken as soon as the last is given back.
    const job = leaseSerializer(new DynamoGatewayLease(aws.dynamo, aws.eventLogTable, cluster), { waitMs: 10_000, ttlMs: 35_000, yieldsToRecovery: true });
    const spans: { from: number; to: number }[] = [];
    let stop = false;
    const running = (async () => {
      while (!stop) {
        await job.run(async () => {
          const from = Date.now();
          await new Promise((resolve) => setTimeout(resolve, 300));
          spans.push({ from, to: Date.now() });
        });
      }
    })();
    try {
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect((await lease.pending()).holder).toBeDefined();
      const recoveredAt: number[] = [];
      let markedAt: number | undefined;
      const outcome = await sweepGatewayIntents({
        pending: () => lease.pending(),
        lease,
        wantRecovery: async (until) => {
          await lease.wantRecovery(until);
          markedAt = Date.now();
        },
        wantedMs: RECOVERY_WANTED_MS,
        recover: async (pending) => {
          recoveredAt.push(Date.now());
          return { owners: pending.map((one) => one.owner), sequences: [7], refused: [], captures: [] };
        },
        refusal: async () => undefined,
        waitMs: 5_000,
        ttlMs: 35_000,
      });
      expect(outcome.result).toEqual({ pending: 1, recovered: 1, sequences: [7] });
      expect(recoveredAt).toHaveLength(1);
      // Found held, marked; the job began no difference after the mark: the run recovered once the one in hand was done.
      expect(markedAt).toBeDefined();
      expect(spans.filter(({ from }) => from > markedAt! && from < recoveredAt[0]!)).toEqual([]);
      expect(spans.filter(({ from, to }) => from < recoveredAt[0]! && recoveredAt[0]! < to)).toEqual([]);
      const item = await leaseItem(cluster);
      expect(Object.keys(item).filter((name) => name.startsWith('intent_') || name === 'recoveryWantedUntil')).toEqual([]);
      // The job goes on after the run.
      const after = spans.length;
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(spans.length).toBeGreaterThan(after);
    } finally {
      stop = true;
      await running;
    }
  });
});

describe('DynamoNodeStore', () => {
  test('commit is a compare-and-swap on the cursor: a stale expectedCursor writes nothing', async () => {
    const node = 'cas-node';
    expect(await store.readCursor(node)).toBe(0);
    const workspace = stored('workspace', 'topp', 1, { name: 'topp' });
    expect(await store.commit(node, { expectedCursor: 0, sequence: 1, object: workspace })).toBe('committed');
    expect(await store.readCursor(node)).toBe(1);

    const stale = stored('workspace', 'topp', 1, { name: 'overwritten' });
    expect(await store.commit(node, { expectedCursor: 0, sequence: 1, object: stale })).toBe('cursor-moved');
    expect(await store.commit(node, { expectedCursor: 0, sequence: 1 })).toBe('cursor-moved');
    expect(await store.readObjects(node, [{ type: 'workspace', id: 'topp' }])).toEqual([workspace]);

    // A cursor-only commit (the event was stale for its object).
    expect(await store.commit(node, { expectedCursor: 1, sequence: 2 })).toBe('committed');
    expect(await store.readCursor(node)).toBe(2);
    await expect(store.commit(node, { expectedCursor: 2, sequence: 4 })).rejects.toThrow(/advance the cursor by one/);

    // Concurrent commits of the same sequence: exactly one wins.
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        store.commit(node, { expectedCursor: 2, sequence: 3, object: stored('namespace', `ns${index}`, 3) }),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === 'committed')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'cursor-moved')).toHaveLength(7);
    const page = await store.listObjects(node, { type: 'namespace', limit: 10 });
    expect(page.objects).toHaveLength(1);
  });

  test("keeps an object's sentThrough through a commit, a batch commit and the apply state's read", async () => {
    const node = 'sent-through-node';
    const marked = { ...stored('workspace', 'topp', 1, { name: 'topp' }), sentThrough: 7 };
    expect(await store.commit(node, { expectedCursor: 0, sequence: 1, object: marked })).toBe('committed');
    expect(await store.readObjects(node, [{ type: 'workspace', id: 'topp' }])).toEqual([marked]);
    const next = { ...stored('workspace', 'topp', 2, { name: 'topp', isolated: true }), sentThrough: 9 };
    expect(await store.commitBatch(node, { expectedCursor: 1, sequence: 3, objects: [{ object: next, since: 2 }] })).toBe('committed');
    const state = await store.readApplyState(node, [{ type: 'workspace', id: 'topp' }], [], true);
    expect(state.objects).toEqual([next]);
    // Unmarked objects stay without it.
    expect(await store.commit(node, { expectedCursor: 3, sequence: 4, object: stored('namespace', 'topp', 4) })).toBe('committed');
    expect((await store.readObjects(node, [{ type: 'namespace', id: 'topp' }]))[0]).not.toHaveProperty('sentThrough');
  });

  test("keeps an object's cascadedAt, and refuses to write over it unread (a read carries it over)", async () => {
    const node = 'cascaded-node';
    const removed = { ...stored('workspace', 'topp', 1), deleted: true, properties: {}, cascadedAt: 1 };
    expect(await store.commit(node, { expectedCursor: 0, sequence: 1, object: removed })).toBe('committed');
    expect(await store.readObjects(node, [{ type: 'workspace', id: 'topp' }])).toEqual([removed]);
    // The add that creates it again, written without reading: refused, nothing written.
    const again = stored('workspace', 'topp', 2, { name: 'topp' });
    expect(await store.commit(node, { expectedCursor: 1, sequence: 2, object: again, unread: true })).toBe('object-moved');
    expect(await store.commitBatch(node, { expectedCursor: 1, sequence: 2, objects: [{ object: again, since: 2, unread: true }] })).toBe('object-moved');
    expect(await store.readObjects(node, [{ type: 'workspace', id: 'topp' }])).toEqual([removed]);
    // Read first, it keeps it.
    const kept = { ...again, cascadedAt: 1 };
    expect(await store.commit(node, { expectedCursor: 1, sequence: 2, object: kept })).toBe('committed');
    expect((await store.readApplyState(node, [{ type: 'workspace', id: 'topp' }], [], true)).objects).toEqual([kept]);
    // Objects without it take unread writes as before.
    expect(await store.commit(node, { expectedCursor: 2, sequence: 3, object: stored('namespace', 'topp', 3), unread: true })).toBe('committed');
    expect((await store.readObjects(node, [{ type: 'namespace', id: 'topp' }]))[0]).not.toHaveProperty('cascadedAt');
  });

  test('readApplyState never answers an object older than the cursor it answers, while another writer commits', async () => {
    // An applier trusts the pair: it applies event cursor + 1 on top of the objects read. Every
    // commit below writes all 40 objects at the new cursor's sequence, so an object read older
    // than the cursor read with it is a state that never existed in the store.
    const node = 'read-state-node';
    const refs = Array.from({ length: 40 }, (_, index) => ({ type: 'layer' as const, id: `topp:layer${index}` }));
    const commits = 120;
    let done = false;
    const writer = (async () => {
      try {
        for (let sequence = 1; sequence <= commits; sequence += 1) {
          const objects = refs.map((ref) => ({ object: stored(ref.type, ref.id, sequence), since: sequence }));
          expect(await store.commitBatch(node, { expectedCursor: sequence - 1, sequence, objects })).toBe('committed');
        }
      } finally {
        done = true;
      }
    })();
    const torn: string[] = [];
    let reads = 0;
    while (!done) {
      const { cursor, objects } = await store.readApplyState(node, refs, [], true);
      reads += 1;
      if (cursor === undefined) throw new Error('readApplyState answered no cursor although asked for it');
      if (cursor > 0 && objects.length < refs.length) torn.push(`cursor ${cursor} with ${objects.length} objects`);
      for (const object of objects) {
        if (object.lastSequence < cursor) torn.push(`cursor ${cursor}, ${object.id} at ${object.lastSequence}`);
      }
    }
    await writer;
    expect(reads).toBeGreaterThan(10);
    expect(torn.slice(0, 5)).toEqual([]);
    // An applier that knows the cursor reads the objects alone.
    const withoutCursor = await store.readApplyState(node, refs, [], false);
    expect(withoutCursor.cursor).toBeUndefined();
    expect(withoutCursor.objects).toHaveLength(refs.length);
  });

  test('an object is never replaced by an older version: object-moved', async () => {
    const node = 'version-node';
    // A snapshot taken while its source kept applying: the object is ahead of the cursor.
    await store.replaceWithSnapshot(node, {
      cluster: CLUSTER,
      sourceNode: 'master-1',
      sequence: 3,
      objects: [stored('layer', 'topp:states', 7, { enabled: true })],
    });
    expect(await store.readCursor(node)).toBe(3);
    const older = stored('layer', 'topp:states', 4, { enabled: false });
    expect(await store.commit(node, { expectedCursor: 3, sequence: 4, object: older })).toBe('object-moved');
    expect(await store.readCursor(node)).toBe(3);
    const [current] = await store.readObjects(node, [{ type: 'layer', id: 'topp:states' }]);
    expect(current?.properties).toEqual({ enabled: true });
    const newer = stored('layer', 'topp:states', 8, { enabled: false });
    expect(await store.commit(node, { expectedCursor: 3, sequence: 4 })).toBe('committed');
    expect(await store.replaceWithSnapshot(node, { cluster: CLUSTER, sourceNode: 'x', sequence: 4, objects: [newer] })).toBeUndefined();
    expect((await store.readObjects(node, [{ type: 'layer', id: 'topp:states' }]))[0]?.lastSequence).toBe(8);
  });

  test('an object written unread is refused (object-moved, nothing written) over a parking record, a newer version or properties in S3', async () => {
    const node = 'unread-node';
    // Parked: an earlier event of the object waits on this node.
    expect(await store.park(node, { expectedCursor: 0, sequence: 1, key: '#parked/layer/topp:parked', object: { type: 'layer', id: 'topp:parked' }, cause: { reason: 'refused', attempts: 3, parkedAt: '2025-01-01T00:00:00Z' } })).toBe('committed');
    const parked = stored('layer', 'topp:parked', 2, { enabled: true });
    expect(await store.commit(node, { expectedCursor: 1, sequence: 2, object: parked, unread: true })).toBe('object-moved');
    expect(await store.commitBatch(node, { expectedCursor: 1, sequence: 2, objects: [{ object: parked, since: 2, unread: true }] })).toBe('object-moved');
    expect(await store.readObjects(node, [parked])).toEqual([]);
    expect(await store.readCursor(node)).toBe(1);
    // Its properties in S3: their body must be deleted once superseded, which needs the read.
    const large = stored('style', 'topp:large', 2, { body: 'x'.repeat(310 * KIB) });
    expect(await store.commit(node, { expectedCursor: 1, sequence: 2, object: large })).toBe('committed');
    const replacing = stored('style', 'topp:large', 3, { body: 'small now' });
    expect(await store.commit(node, { expectedCursor: 2, sequence: 3, object: replacing, unread: true })).toBe('object-moved');
    expect((await store.readObjects(node, [large]))[0]?.lastSequence).toBe(2);
    // Newer: only ever replaced by a later version.
    expect(await store.commit(node, { expectedCursor: 2, sequence: 3, object: stored('layer', 'topp:plain', 3) })).toBe('committed');
    expect(await store.commit(node, { expectedCursor: 3, sequence: 4, object: stored('layer', 'topp:plain', 3, { older: true }), unread: true })).toBe('object-moved');
    // Otherwise it is written like any commit, a moved cursor refused first.
    const fresh = stored('layer', 'topp:fresh', 4, { enabled: true });
    expect(await store.commit(node, { expectedCursor: 2, sequence: 3, object: fresh, unread: true })).toBe('cursor-moved');
    expect(await store.commit(node, { expectedCursor: 3, sequence: 4, object: fresh, unread: true })).toBe('committed');
    expect(await store.readObjects(node, [fresh])).toEqual([fresh]);
    expect(await store.readCursor(node)).toBe(4);
  });

  test('lists by type with paging, hides tombstones unless asked, and never lists the cursor', async () => {
    const node = 'list-node';
    const objects: StoredObject[] = [];
    for (let index = 0; index < 12; index += 1) objects.push(stored('layer', `topp:l${String(index).padStart(2, '0')}`, index + 1));
    for (let index = 0; index < 5; index += 1) objects.push(stored('layerGroup', `g${index}`, 20 + index));
    objects.push(stored('style', 'point', 30), { ...stored('style', 'removed', 31), deleted: true });
    objects.push(stored('workspace', 'topp', 32));
    await store.replaceWithSnapshot(node, { cluster: CLUSTER, sourceNode: 'master-1', sequence: 40, objects });

    const collect = async (query: { type?: ObjectType; limit: number; includeDeleted?: boolean }) => {
      const pages: string[][] = [];
      let after: string | undefined;
      do {
        const page = await store.listObjects(node, { ...query, after });
        pages.push(page.objects.map(objectStorageKey));
        after = page.next;
      } while (after !== undefined);
      return pages;
    };
    const all = await collect({ limit: 5 });
    expect(all.map((page) => page.length)).toEqual([5, 5, 5, 4]);
    const keys = all.flat();
    expect(keys).toEqual([...keys].sort());
    expect(keys).toHaveLength(19);
    expect(keys).not.toContain('style/removed');
    expect(keys).not.toContain(CURSOR_KEY);

    // `layer/` must not match `layerGroup/`.
    const layers = await collect({ type: 'layer', limit: 5 });
    expect(layers.map((page) => page.length)).toEqual([5, 5, 2]);
    expect(layers.flat().every((key) => key.startsWith('layer/'))).toBe(true);
    expect((await collect({ type: 'layerGroup', limit: 100 })).flat()).toHaveLength(5);
    expect((await collect({ type: 'style', limit: 1, includeDeleted: true })).flat()).toEqual(['style/point', 'style/removed']);
    expect((await collect({ type: 'coverage', limit: 10 })).flat()).toEqual([]);
    // A position outside the listed range never widens it.
    expect((await store.listObjects(node, { limit: 1, after: '!/x' })).objects.map(objectStorageKey)).toEqual(['layer/topp:l00']);
    expect((await store.listObjects(node, { type: 'style', limit: 5, after: 'layer/x' })).objects.map(objectStorageKey)).toEqual([
      'style/point',
    ]);
    expect((await store.listObjects(node, { type: 'layer', limit: 5, after: 'style/a' })).objects).toEqual([]);
    // An exact page has no `next`.
    expect((await store.listObjects(node, { type: 'layerGroup', limit: 5 })).next).toBeUndefined();
  });

  test('a snapshot replaces a store: its objects written, others removed, cursor last', async () => {
    const source = 'snapshot-source';
    const target = 'snapshot-target';
    await store.replaceWithSnapshot(source, {
      cluster: CLUSTER,
      sourceNode: 'seed',
      sequence: 10,
      objects: [stored('workspace', 'a', 1), stored('workspace', 'b', 2), { ...stored('workspace', 'c', 3), deleted: true }],
    });
    await store.replaceWithSnapshot(target, {
      cluster: CLUSTER,
      sourceNode: 'seed',
      sequence: 5,
      objects: [stored('workspace', 'a', 1, { doubtful: true }), stored('workspace', 'junk', 4)],
    });
    const snapshot = await store.readSnapshot(source, CLUSTER);
    expect(snapshot.sequence).toBe(10);
    await store.replaceWithSnapshot(target, snapshot);
    // Same versions are overwritten (a store in doubt is repaired), unknown ones removed.
    expect(await store.readSnapshot(target, CLUSTER)).toEqual({ ...snapshot, sourceNode: target });

    // A version newer than the snapshot (the node's queue applied it meanwhile) is kept, also
    // when the snapshot does not know the object yet.
    const applied = [stored('workspace', 'b', 12, { newer: true }), stored('workspace', 'd', 11)];
    expect(await store.commit(target, { expectedCursor: 10, sequence: 11, object: applied[1] })).toBe('committed');
    expect(await store.commit(target, { expectedCursor: 11, sequence: 12, object: applied[0] })).toBe('committed');
    await store.replaceWithSnapshot(target, snapshot);
    const objects = (await store.readSnapshot(target, CLUSTER)).objects;
    expect(objects.map((object) => [object.id, object.lastSequence])).toEqual([
      ['a', 1],
      ['b', 12],
      ['c', 3],
      ['d', 11],
    ]);
  });
});

describe('DynamoNodeStore parking records', () => {
  const layer = { type: 'layer' as const, id: 'topp:roads' };
  const key = parkingKey(layer, 0);
  const cause = { reason: 'refused', attempts: 3, parkedAt: '2026-12-05T00:00:00.000Z' };

  /** Writes attributes of a node's item as earlier operations would have left them (one write instead of hundreds). */
  async function seed(node: string, itemKey: string, sets: Record<string, AttributeValue>): Promise<void> {
    const names = Object.fromEntries(Object.keys(sets).map((name, index) => [`#a${index}`, name]));
    const values = Object.fromEntries(Object.values(sets).map((value, index) => [`:v${index}`, value]));
    await aws.dynamo.send(
      new UpdateItemCommand({
        TableName: aws.nodeStoreTable,
        Key: { node: { S: node }, key: { S: itemKey } },
        UpdateExpression: `SET ${Object.keys(names).map((name, index) => `${name} = :v${index}`).join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }
  const numbers = (from: number, to: number): AttributeValue => ({ L: Array.from({ length: to - from + 1 }, (_, index) => ({ N: String(from + index) })) });

  test(`a record lists at most ${PARKED_LIST_MAX} sequences; later ones join its overflow, which a refill moves back under conditions`, async () => {
    const node = 'parking-overflow';
    expect(await store.park(node, { expectedCursor: 0, sequence: 1, key, object: layer, cause })).toBe('committed');
    // The list as its first PARKED_LIST_MAX - 1 followers left it.
    await seed(node, key, { sequences: numbers(1, PARKED_LIST_MAX) });
    await seed(node, CURSOR_KEY, { cursor: { N: String(PARKED_LIST_MAX) } });

    const follow = (sequence: number) => store.park(node, { expectedCursor: sequence - 1, sequence, key, object: layer });
    expect(await follow(PARKED_LIST_MAX + 1)).toBe('committed');
    expect(await follow(PARKED_LIST_MAX + 2)).toBe('committed');
    let record = await store.readParked(node, key);
    expect(record?.sequences).toHaveLength(PARKED_LIST_MAX);
    expect(record?.overflow).toEqual({ from: PARKED_LIST_MAX + 1, through: PARKED_LIST_MAX + 2 });
    expect(await store.removeParked(node, key)).toBe(false);
    expect(await store.park(node, { expectedCursor: 5, sequence: 6, key, object: layer })).toBe('cursor-moved');

    // A refill needs the list emptied (as the redrive leaves it), and the overflow as it read it.
    const first = PARKED_LIST_MAX + 1;
    expect(await store.refillParked(node, { key, from: first, through: first + 1, sequences: [first, first + 1], next: first + 2 })).toBe('moved');
    await seed(node, key, { sequences: { L: [] } });
    // A refill that failed is noted on the emptied list only.
    await store.noteParkedFailure(node, key, first, 'not the head');
    await store.noteParkedFailure(node, key, undefined, 'EventsMissingFromLogError: trimmed');
    expect(await store.readParked(node, key)).toMatchObject({ reason: 'EventsMissingFromLogError: trimmed', attempts: cause.attempts + 1 });
    expect(await store.refillParked(node, { key, from: first - 1, through: first + 1, sequences: [first], next: first + 1 })).toBe('moved');
    // Ending the overflow where a follower has extended it meanwhile.
    expect(await store.refillParked(node, { key, from: first, through: first, sequences: [first], next: first + 1 })).toBe('moved');
    expect(await store.refillParked(node, { key, from: first, through: first + 1, sequences: [first], next: first + 1 })).toBe('committed');
    record = await store.readParked(node, key);
    expect([record?.sequences, record?.overflow]).toEqual([[first], { from: first + 1, through: first + 1 }]);

    // While an overflow is held, a follower joins it, though the list has room.
    expect(await follow(first + 2)).toBe('committed');
    expect((await store.readParked(node, key))?.overflow).toEqual({ from: first + 1, through: first + 2 });
    expect(await store.applyParked(node, { key, sequence: first })).toBe('committed');
    expect(await store.refillParked(node, { key, from: first + 1, through: first + 2, sequences: [first + 1, first + 2], next: first + 3 })).toBe('committed');
    await store.noteParkedFailure(node, key, undefined, 'not emptied');
    record = await store.readParked(node, key);
    expect(record).toMatchObject({ sequences: [first + 1, first + 2], reason: 'EventsMissingFromLogError: trimmed', object: layer });
    expect(record).not.toHaveProperty('overflow');
    // Then the list again.
    expect(await follow(first + 3)).toBe('committed');
    expect((await store.readParked(node, key))?.sequences).toEqual([first + 1, first + 2, first + 3]);
    for (const sequence of [first + 1, first + 2, first + 3]) expect(await store.applyParked(node, { key, sequence })).toBe('committed');
    expect(await store.removeParked(node, key)).toBe(true);
    // A follower of a record a redrive removed applies instead.
    expect(await follow(first + 4)).toBe('unparked');
    expect(await store.readParked(node, key)).toBeUndefined();
  });

  test('the applier parks followers past the list\'s limit in the overflow, and every other object keeps applying', async () => {
    const cluster = 'parking-applier';
    const node = 'parking-applier';
    const memoryLog = new MemoryEventLog();
    const meta = { cluster, origin: 'master-1', publishedAt: '2026-12-05T00:00:00.000Z' };
    const modifyLayer = (title: string) => memoryLog.append({ ...meta, kind: 'modify', object: layer, patch: { title } });
    // The layer's first event is parked, and PARKED_LIST_MAX - 1 followers joined it (seeded).
    const first = await memoryLog.append({ ...meta, kind: 'add', object: layer, properties: { title: 'v1' } });
    expect(await store.park(node, { expectedCursor: 0, sequence: first.sequence, key, object: layer, cause })).toBe('committed');
    for (let i = 1; i < PARKED_LIST_MAX; i += 1) await modifyLayer(`seeded ${i}`);
    await seed(node, key, { sequences: numbers(1, PARKED_LIST_MAX) });
    await seed(node, CURSOR_KEY, { cursor: { N: String(PARKED_LIST_MAX) } });

    const deps: ApplyDeps = { store, log: memoryLog, bodies: new MemoryEventBodyStore(), warn: () => undefined };
    const effects: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const result = await applyDeliveredEvent(deps, { cluster, node }, await modifyLayer(`v${i}`));
      effects.push('applied' in result ? result.applied.map((step) => step.effect).join() : 'nothing applied');
    }
    expect(effects).toEqual(Array(20).fill('parked'));
    const other = await memoryLog.append({ ...meta, kind: 'add', object: { type: 'workspace', id: 'other' }, properties: { name: 'other' } });
    expect(await applyDeliveredEvent(deps, { cluster, node }, other)).toMatchObject({ disposition: 'applied', cursor: other.sequence });
    const record = await store.readParked(node, key);
    expect(record?.sequences).toEqual(Array.from({ length: PARKED_LIST_MAX }, (_, index) => index + 1));
    expect(record?.overflow).toEqual({ from: PARKED_LIST_MAX + 1, through: PARKED_LIST_MAX + 20 });
  });

  test('the redrive applies an overflow from the log in order, past other objects\' events', async () => {
    const cluster = 'parking-redrive';
    const node = 'parking-redrive';
    const meta = { cluster, origin: 'master-1', publishedAt: '2026-12-05T00:00:00.000Z' };
    const other = { type: 'layer' as const, id: 'topp:other' };
    const changes: ConfigChange[] = [{ kind: 'add', object: layer, properties: { title: 'v1' } }];
    for (let i = 0; i < 60; i += 1) changes.push({ kind: 'modify', object: i % 3 === 2 ? other : layer, patch: { [`k${i}`]: i } });
    const events: PublishedEvent[] = [];
    for (const change of changes) events.push(await log.append({ ...meta, ...change }));
    const ofLayer = events.filter((event) => event.object?.id === layer.id).map((event) => event.sequence);
    // The record as the redrive leaves it once its listed sequences are applied: the layer
    // as of event 1, the list empty, the rest of its events in the overflow.
    expect(await store.park(node, { expectedCursor: 0, sequence: 1, key, object: layer, cause })).toBe('committed');
    expect(await store.applyParked(node, { key, sequence: 1, object: { ...stored('layer', layer.id, 1, { title: 'v1' }), lastOrigin: 'master-1', updatedAt: meta.publishedAt } })).toBe('committed');
    await seed(node, key, { overflowFrom: { N: String(ofLayer[1]) }, overflowThrough: { N: String(ofLayer[ofLayer.length - 1]) } });
    await seed(node, CURSOR_KEY, { cursor: { N: String(events.length) } });

    const deps: ApplyDeps = { store, log, bodies, warn: () => undefined };
    const redriven = await retryParked(deps, { cluster, node });
    expect(redriven).toEqual({ cleared: ofLayer.slice(1), stillParked: [] });
    expect(await store.readParked(node, key)).toBeUndefined();
    const [applied] = await store.readObjects(node, [layer]);
    expect(applied).toMatchObject({ lastSequence: ofLayer[ofLayer.length - 1] });
    expect(Object.keys(applied?.properties ?? {})).toEqual(['title', ...changes.flatMap((change, index) => (index > 0 && change.object.id === layer.id ? [`k${index - 1}`] : []))]);
  });
});

describe('large bodies through S3', () => {
  // Keys as the stores make them: node names, object ids with a workspace prefix, and characters
  // that URL encoding treats differently (space, +, =, !, ', parentheses, *, non-ASCII).
  test.each([
    'events/geo/000000000042.json',
    'objects/slave 1/style/topp:roads+rivers=v2.json',
    "objects/slave-1/layerGroup/tiger:ny (old)!'*.json",
    'objects/slave-1/style/sf:straße_€.json',
  ])('put, get and delete of %s', async (key) => {
    const body = `<StyledLayerDescriptor><Name>${key} äöü €</Name></StyledLayerDescriptor>`;
    await bucket.putText(key, body, 'application/vnd.ogc.sld+xml');
    const object = await aws.s3.send(new GetObjectCommand({ Bucket: aws.bucket, Key: key }));
    expect(await object.Body?.transformToString('utf-8')).toBe(body);
    expect(await bucket.getText(key)).toBe(body);
    await bucket.delete(key);
    expect(await bucket.getText(key)).toBeUndefined();
  });

  test('a missing bucket is an error, not an absent object', async () => {
    const missing = new S3Bucket(aws.s3, 'no-such-bucket');
    await expect(missing.putText('events/x.json', '{}')).rejects.toThrow();
  });

  test('a 300 KiB style is offloaded as an event body and as object properties, and read back whole', async () => {
    const change = largeStyle('big', 300 * KIB);
    const ref = await bodies.put(CLUSTER, change);
    expect(ref).toMatch(new RegExp(`^s3://${aws.bucket}/events/${CLUSTER}/[0-9a-f-]{36}\\.json$`));
    expect(await bodies.get(ref)).toEqual(change);
    await expect(bodies.get(`s3://other-bucket/events/${CLUSTER}/x.json`)).rejects.toThrow(/bodyRef/);
    await expect(bodies.get(`s3://${aws.bucket}/events/${CLUSTER}/missing.json`)).rejects.toThrow(/does not exist/);

    const node = 'offload-node';
    const properties = change.kind === 'add' ? change.properties : {};
    const style = stored('style', 'topp:big', 1, properties);
    expect(await store.commit(node, { expectedCursor: 0, sequence: 1, object: style })).toBe('committed');
    const { Item } = await aws.dynamo.send(
      new GetItemCommand({ TableName: aws.nodeStoreTable, Key: { node: { S: node }, key: { S: 'style/topp:big' } } }),
    );
    expect(Item?.properties).toBeUndefined();
    const firstKey = Item?.propertiesRef?.S;
    expect(firstKey).toBe(`objects/${node}/style/topp%3Abig/1.json`);
    const object = await aws.s3.send(new GetObjectCommand({ Bucket: aws.bucket, Key: firstKey }));
    expect(JSON.parse((await object.Body?.transformToString()) ?? '')).toEqual(properties);

    expect(await store.readObjects(node, [{ type: 'style', id: 'topp:big' }])).toEqual([style]);
    expect((await store.listObjects(node, { limit: 10 })).objects).toEqual([style]);
    expect((await store.readSnapshot(node, CLUSTER)).objects).toEqual([style]);

    // A new version gets a new body; the one it replaced is deleted.
    const modified = stored('style', 'topp:big', 2, { ...properties, title: 'Big' });
    expect(await store.commit(node, { expectedCursor: 1, sequence: 2, object: modified })).toBe('committed');
    const listed = await aws.s3.send(new ListObjectsV2Command({ Bucket: aws.bucket, Prefix: `objects/${node}/` }));
    expect((listed.Contents ?? []).map((entry) => entry.Key)).toEqual([`objects/${node}/style/topp%3Abig/2.json`]);
    // Another store instance (another function) still reads it.
    const other = new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo, bodies: new S3ObjectBodies(bucket) });
    expect(await other.readObjects(node, [{ type: 'style', id: 'topp:big' }])).toEqual([modified]);
    // Removing it leaves a small tombstone.
    const removed = { ...stored('style', 'topp:big', 3), deleted: true };
    expect(await store.commit(node, { expectedCursor: 2, sequence: 3, object: removed })).toBe('committed');
    const after = await aws.s3.send(new ListObjectsV2Command({ Bucket: aws.bucket, Prefix: `objects/${node}/` }));
    expect(after.Contents ?? []).toEqual([]);
  });

  test('a reader whose body was replaced meanwhile follows the new version, also where S3 answers 403 for a deleted key (no s3:ListBucket)', async () => {
    // The functions are granted s3:GetObject on object keys and no s3:ListBucket on the bucket,
    // so in AWS a key that no longer exists answers 403 AccessDenied, never 404 NoSuchKey.
    const node = 'offload-race';
    const properties = (version: number) => ({ format: 'sld', body: `${'x'.repeat(300 * KIB)}${version}` });
    const first = stored('style', 'topp:race', 1, properties(1));
    expect(await store.commit(node, { expectedCursor: 0, sequence: 1, object: first })).toBe('committed');
    const newer = stored('style', 'topp:race', 2, properties(2));
    const objects = new S3ObjectBodies(bucket);
    let replaced = false;
    const asInAws = {
      put: (owner: string, objectKey: string, sequence: number, json: string) => objects.put(owner, objectKey, sequence, json),
      delete: (key: string) => objects.delete(key),
      async get(key: string): Promise<string | undefined> {
        if (!replaced) {
          // Another function commits a newer version between this reader's item and its body.
          replaced = true;
          expect(await store.commit(node, { expectedCursor: 1, sequence: 2, object: newer })).toBe('committed');
        }
        const text = await objects.get(key);
        if (text === undefined) throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
        return text;
      },
    };
    const reader = new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo, bodies: asInAws });
    expect(await reader.readObjects(node, [{ type: 'style', id: 'topp:race' }])).toEqual([newer]);
    // A body that is refused while the item still names it is an error, not an absent object.
    const refusing = new DynamoNodeStore({
      tableName: aws.nodeStoreTable,
      client: aws.dynamo,
      bodies: { ...asInAws, get: () => Promise.reject(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' })) },
    });
    await expect(refusing.readObjects(node, [{ type: 'style', id: 'topp:race' }])).rejects.toThrow('Access Denied');
  });

  test("the longest id whose characters all encode offloads under a hashed key, within S3's 1,024 bytes and DynamoDB's key limits", async () => {
    // 511 bytes of UTF-8: the URI-encoded id alone would be 1,525 characters.
    const id = `topp:${'é'.repeat(253)}`;
    expect(Buffer.byteLength(id)).toBeLessThanOrEqual(512);
    const change = largeStyle(id, 300 * KIB);
    const node = 'offload-long-id';
    const style = stored('style', id, 1, change.kind === 'add' ? change.properties : {});
    expect(await store.commit(node, { expectedCursor: 0, sequence: 1, object: style })).toBe('committed');
    const listed = await aws.s3.send(new ListObjectsV2Command({ Bucket: aws.bucket, Prefix: `objects/${node}/` }));
    const keys = (listed.Contents ?? []).map((entry) => entry.Key ?? '');
    expect(keys).toEqual([expect.stringMatching(new RegExp(`^objects/${node}/style/sha256-[0-9a-f]{64}/1\\.json$`))]);
    expect(await store.readObjects(node, [{ type: 'style', id }])).toEqual([style]);
    // Its parking record's key fits too.
    expect(await store.park(node, { expectedCursor: 1, sequence: 2, key: parkingKey({ type: 'style', id }, 0), object: { type: 'style', id }, cause: { reason: 'x', attempts: 1, parkedAt: '2026-12-04T00:00:00.000Z' } })).toBe('committed');
    expect((await store.listParked(node)).map((record) => record.sequences)).toEqual([[2]]);
  });

  test('publish -> SNS FIFO -> raw SQS delivery -> apply: a 300 KiB style reaches a slave whole', async () => {
    const cluster = CLUSTER;
    const deps = { store, log, bodies, topic, now: () => new Date('2025-02-01T00:00:00.000Z') };
    const workspace: ConfigChange = { kind: 'add', object: { type: 'workspace', id: 'topp' }, properties: { name: 'topp' } };
    const style = largeStyle('topp:roads', 300 * KIB);
    const first = await publishChange(deps, { cluster, node: { name: 'master-1', role: 'master' } }, workspace);
    const second = await publishChange(deps, { cluster, node: { name: 'master-1', role: 'master' } }, style);
    for (const result of [first, second]) {
      expect(result).toMatchObject({ published: true, appliedLocally: true, deferredFailures: [] });
    }
    expect(second.event).toHaveProperty('bodyRef');
    expect(second.event).not.toHaveProperty('properties');
    expect(await log.listUnpublished(cluster, 10)).toEqual([]);

    // The consuming node's queue got both, in order, raw, with the origin attribute.
    const queue = aws.queues['slave-1']?.queueUrl as string;
    const messages = await receiveAll(aws.sqs, queue, 2);
    expect(messages).toHaveLength(2);
    const events = messages.map((message) => JSON.parse(message.Body ?? '') as PublishedEvent);
    expect(events.map((event) => event.sequence)).toEqual([first.event.sequence, second.event.sequence]);
    for (const message of messages) {
      expect(message.MessageAttributes?.origin?.StringValue).toBe('master-1');
      expect(message.Attributes?.MessageGroupId).toBe(cluster);
    }
    expect(messages[1]?.Attributes?.MessageDeduplicationId).toBe(deduplicationId(events[1] as PublishedEvent));
    expect(messages[1]?.Attributes?.MessageDeduplicationId).toMatch(new RegExp(`^${cluster}-${second.event.sequence}-`));

    const applyDeps: ApplyDeps = { store, log, bodies };
    const batch = await applyDeliveredBatch(applyDeps, { cluster, node: 'slave-1' }, messages.map((message) => message.Body ?? ''));
    expect(batch.failure).toBeUndefined();
    const [onSlave] = await store.readObjects('slave-1', [{ type: 'style', id: 'topp:roads' }]);
    expect(onSlave?.properties).toEqual(style.kind === 'add' ? style.properties : undefined);
    // The master's own store holds the same.
    const [onMaster] = await store.readObjects('master-1', [{ type: 'style', id: 'topp:roads' }]);
    expect(onMaster).toEqual(onSlave);

    // A node bootstrapped from the slave's store converges too.
    const result = await resyncFrom(applyDeps, { cluster, node: 'new-node' }, 'slave-1');
    expect(result.cursor).toBe(await log.head(cluster));
    expect((await store.readSnapshot('new-node', cluster)).objects).toEqual((await store.readSnapshot('slave-1', cluster)).objects);
  });
});

describe('DynamoJobStore', () => {
  const job = (id: string, node: string) => newJob({ id, node, kind: 'drift', requestedBy: 'master-1', hasGeoServer: true, now: new Date() });
  const ended = (running: Job): Job => ({ ...running, state: 'succeeded', finishedAt: new Date().toISOString(), updatedAt: new Date().toISOString() });

  test('one job at a time per node: a second start answers the running job, and starts once it has ended', async () => {
    const jobs = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
    const first = job('job-one', 'jobs-1');
    expect(await jobs.start(first, new Date())).toEqual({ started: true });
    const refused = await jobs.start(job('job-two', 'jobs-1'), new Date());
    expect(refused).toMatchObject({ started: false, active: { id: 'job-one', state: 'queued' } });
    expect(await jobs.save(ended(first))).toBe('saved');
    expect(await jobs.start(job('job-three', 'jobs-1'), new Date())).toEqual({ started: true });
    expect((await jobs.latest('jobs-1'))?.id).toBe('job-three');
  });

  test('a start refused by a job that ends before the refusal is looked at starts (it used to fail: "a running job that cannot be read")', async () => {
    const plain = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
    const running = job('job-ending', 'jobs-2');
    expect(await plain.start(running, new Date())).toEqual({ started: true });
    // The running job's final save lands right after the second start's transaction is refused.
    let refusals = 0;
    const racing = Object.create(aws.dynamo) as typeof aws.dynamo;
    racing.send = (async (command: Parameters<typeof aws.dynamo.send>[0]) => {
      try {
        return await aws.dynamo.send(command);
      } catch (error) {
        if (command instanceof TransactWriteItemsCommand && refusals++ === 0) expect(await plain.save(ended(running))).toBe('saved');
        throw error;
      }
    }) as typeof aws.dynamo.send;
    const next = job('job-next', 'jobs-2');
    expect(await new DynamoJobStore(aws.nodeStoreTable, racing).start(next, new Date())).toEqual({ started: true });
    expect(refusals).toBe(1);
    expect(await plain.read('jobs-2', 'job-next')).toMatchObject({ id: 'job-next', state: 'queued' });
    expect(await plain.start(job('job-after', 'jobs-2'), new Date())).toMatchObject({ started: false, active: { id: 'job-next' } });
  });
  test("a capture following the node's jobs: queued behind a running one, covering later uploads, started by its final save", async () => {
    const jobs = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
    const capture = (id: string) => ({ ...job(id, 'jobs-3'), kind: 'capture' as const });
    const running = job('job-running', 'jobs-3');
    expect(await jobs.follow(capture('job-first'), new Date())).toEqual({ outcome: 'started' });
    // A capture still queued has read nothing: it covers.
    expect(await jobs.follow(capture('job-covered'), new Date())).toMatchObject({ outcome: 'covered', by: { id: 'job-first' } });
    expect(await jobs.save(ended(await jobs.read('jobs-3', 'job-first') as Job))).toBe('saved');
    expect(await jobs.start(running, new Date())).toEqual({ started: true });
    expect(await jobs.follow(capture('job-follower'), new Date())).toMatchObject({ outcome: 'queued', after: { id: 'job-running' } });
    expect(await jobs.follow(capture('job-later'), new Date())).toMatchObject({ outcome: 'covered', by: { id: 'job-follower' } });
    expect(await jobs.read('jobs-3', 'job-later')).toBeUndefined();
    expect(await jobs.successor('jobs-3', 'job-running')).toBeUndefined();
    // The running job finds the capture waiting to follow it (a reconcile leaves extras for it); no other job does.
    expect(await jobs.follower('jobs-3', 'job-running')).toMatchObject({ id: 'job-follower', kind: 'capture', state: 'queued' });
    expect(await jobs.follower('jobs-3', 'job-first')).toBeUndefined();
    expect(await jobs.save(ended(running))).toBe('saved');
    expect(await jobs.follower('jobs-3', 'job-running')).toBeUndefined();
    expect(await jobs.successor('jobs-3', 'job-running')).toMatchObject({ id: 'job-follower', kind: 'capture', state: 'queued' });
    expect((await jobs.latest('jobs-3'))?.id).toBe('job-follower');
    expect(await jobs.start(job('job-refused', 'jobs-3'), new Date())).toMatchObject({ started: false, active: { id: 'job-follower' } });
    // Its end releases the node: nothing follows it.
    const follower = (await jobs.read('jobs-3', 'job-follower'))!;
    expect(await jobs.save(ended(follower))).toBe('saved');
    expect(await jobs.successor('jobs-3', 'job-follower')).toBeUndefined();
    expect(await jobs.start(job('job-free', 'jobs-3'), new Date())).toEqual({ started: true });
  });

  test('a drift check replacing a stale job keeps the capture waiting to follow it, which its final save starts', async () => {
    const jobs = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
    const start = new Date();
    const later = new Date(start.getTime() + STALE_AFTER_MS + 1000);
    expect(await jobs.start(job('job-stale', 'jobs-4'), start)).toEqual({ started: true });
    expect(await jobs.follow({ ...job('job-waiting', 'jobs-4'), kind: 'capture' }, start)).toMatchObject({ outcome: 'queued', after: { id: 'job-stale' } });
    const replacing = job('job-replacing', 'jobs-4');
    expect(await jobs.start(replacing, later)).toEqual({ started: true });
    expect(await jobs.read('jobs-4', 'job-waiting')).toMatchObject({ state: 'queued', error: null, finishedAt: null });
    // An upload now is covered by it (it has not begun); the replacing job's end starts it.
    expect(await jobs.follow({ ...job('job-upload', 'jobs-4'), kind: 'capture' }, later)).toMatchObject({ outcome: 'covered', by: { id: 'job-waiting' } });
    expect(await jobs.save({ ...ended(replacing), updatedAt: later.toISOString() })).toBe('saved');
    expect(await jobs.successor('jobs-4', 'job-replacing')).toMatchObject({ id: 'job-waiting', state: 'queued' });
    expect((await jobs.latest('jobs-4'))?.id).toBe('job-waiting');
  });

  test('a resync replacing a stale job fails the capture waiting to follow it, which would otherwise follow a store it replaces', async () => {
    const jobs = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
    const start = new Date();
    const later = new Date(start.getTime() + STALE_AFTER_MS + 1000);
    expect(await jobs.start(job('job-stale', 'jobs-6'), start)).toEqual({ started: true });
    expect(await jobs.follow({ ...job('job-waiting', 'jobs-6'), kind: 'capture' }, start)).toMatchObject({ outcome: 'queued', after: { id: 'job-stale' } });
    const replacing = { ...job('job-replacing', 'jobs-6'), kind: 'resync' as const };
    expect(await jobs.start(replacing, later)).toEqual({ started: true });
    const waiting = await jobs.read('jobs-6', 'job-waiting');
    expect(waiting).toMatchObject({ state: 'failed', finishedAt: later.toISOString() });
    expect(waiting?.error).toMatch(/job job-stale, which it was waiting to follow, saved nothing .* replaced by job job-replacing \(resync\); once that job has finished, capture node jobs-6/);
    // An upload now is not answered as covered by it: its capture follows the replacing job, whose end starts it.
    expect(await jobs.follow({ ...job('job-upload', 'jobs-6'), kind: 'capture' }, later)).toMatchObject({ outcome: 'queued', after: { id: 'job-replacing' } });
    expect(await jobs.save({ ...ended(replacing), updatedAt: later.toISOString() })).toBe('saved');
    expect(await jobs.successor('jobs-6', 'job-replacing')).toMatchObject({ id: 'job-upload' });
  });

  test("a capture follows in place of a next job whose record is gone (it used to fail after 5 attempts)", async () => {
    const jobs = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
    const running = job('job-running', 'jobs-5');
    expect(await jobs.start(running, new Date())).toEqual({ started: true });
    await aws.dynamo.send(
      new UpdateItemCommand({
        TableName: aws.nodeStoreTable,
        Key: { node: { S: 'jobs-5' }, key: { S: JOB_LOCK_KEY } },
        UpdateExpression: 'SET #next = :gone',
        ExpressionAttributeNames: { '#next': 'next' },
        ExpressionAttributeValues: { ':gone': { S: 'job-gone' } },
      }),
    );
    expect(await jobs.follow({ ...job('job-follower', 'jobs-5'), kind: 'capture' }, new Date())).toMatchObject({ outcome: 'queued', after: { id: 'job-running' } });
    expect(await jobs.save(ended(running))).toBe('saved');
    expect(await jobs.successor('jobs-5', 'job-running')).toMatchObject({ id: 'job-follower', state: 'queued' });
  });

  test.each(['gone', 'failed'] as const)("a final save releases the node rather than hand it to a next job whose record is %s (it used to hold the node for a job nothing runs)", async (fate) => {
    const node = `jobs-7-${fate}`;
    const jobs = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
    const running = job('job-running', node);
    expect(await jobs.start(running, new Date())).toEqual({ started: true });
    expect(await jobs.follow({ ...job('job-waiting', node), kind: 'capture' }, new Date())).toMatchObject({ outcome: 'queued' });
    const key = { node: { S: node }, key: { S: '#jobs/job-waiting' } };
    if (fate === 'gone') {
      // Its record expired (TTL) while it waited.
      await aws.dynamo.send(new DeleteItemCommand({ TableName: aws.nodeStoreTable, Key: key }));
    } else {
      const waiting = (await jobs.read(node, 'job-waiting'))!;
      await aws.dynamo.send(
        new UpdateItemCommand({
          TableName: aws.nodeStoreTable,
          Key: key,
          UpdateExpression: 'SET #job = :job',
          ExpressionAttributeNames: { '#job': 'job' },
          ExpressionAttributeValues: { ':job': { S: JSON.stringify({ ...ended(waiting), state: 'failed', error: 'ended elsewhere' }) } },
        }),
      );
    }
    expect(await jobs.save(ended(running))).toBe('saved');
    expect(await jobs.successor(node, 'job-running')).toBeUndefined();
    expect((await jobs.latest(node))?.id).toBe('job-running');
    const lock = await aws.dynamo.send(new GetItemCommand({ TableName: aws.nodeStoreTable, Key: { node: { S: node }, key: { S: JOB_LOCK_KEY } }, ConsistentRead: true }));
    expect(lock.Item?.active).toBeUndefined();
    expect(lock.Item?.next).toBeUndefined();
    expect(await jobs.start(job('job-free', node), new Date())).toEqual({ started: true });
  });

  test("replacing a stale job marks it failed, naming its replacement, and its runner's late saves change nothing (it used to read 'running' for ever)", async () => {
    const jobs = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
    const start = new Date();
    const later = new Date(start.getTime() + STALE_AFTER_MS + 1000);
    const stale = job('job-stale', 'jobs-8');
    expect(await jobs.start(stale, start)).toEqual({ started: true });
    const running: Job = { ...stale, state: 'running', slices: 1, updatedAt: start.toISOString() };
    expect(await jobs.save(running)).toBe('saved');
    expect(await jobs.start(job('job-replacing', 'jobs-8'), later)).toEqual({ started: true });
    const replaced = await jobs.read('jobs-8', 'job-stale');
    expect(replaced).toMatchObject({ state: 'failed', finishedAt: later.toISOString(), slices: 1 });
    expect(replaced?.error).toMatch(/saved nothing for 15 minutes .* replaced by job job-replacing \(drift\)/);
    // Its runner wakes up: neither a progress save nor a final one writes over that.
    expect(await jobs.save({ ...running, slices: 2, updatedAt: later.toISOString() })).toBe('superseded');
    expect(await jobs.save({ ...ended(running), updatedAt: later.toISOString() })).toBe('superseded');
    expect(await jobs.read('jobs-8', 'job-stale')).toEqual(replaced);
    expect((await jobs.latest('jobs-8'))?.id).toBe('job-replacing');
  });

  test('a start replacing a stale job whose record expires before its write starts (it used to fail with the transaction\'s cancellation)', async () => {
    const plain = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
    const start = new Date();
    const later = new Date(start.getTime() + STALE_AFTER_MS + 1000);
    expect(await plain.start(job('job-stale', 'jobs-9'), start)).toEqual({ started: true });
    // The stale job's record is read, then expires (TTL) before the replacing start's transaction.
    let writes = 0;
    const racing = Object.create(aws.dynamo) as typeof aws.dynamo;
    racing.send = (async (command: Parameters<typeof aws.dynamo.send>[0]) => {
      if (command instanceof TransactWriteItemsCommand && writes++ === 0) {
        await aws.dynamo.send(new DeleteItemCommand({ TableName: aws.nodeStoreTable, Key: { node: { S: 'jobs-9' }, key: { S: '#jobs/job-stale' } } }));
      }
      return aws.dynamo.send(command);
    }) as typeof aws.dynamo.send;
    expect(await new DynamoJobStore(aws.nodeStoreTable, racing).start(job('job-replacing', 'jobs-9'), later)).toEqual({ started: true });
    expect(writes).toBe(2);
    expect(await plain.read('jobs-9', 'job-stale')).toBeUndefined();
    expect((await plain.latest('jobs-9'))?.id).toBe('job-replacing');
  });

  test("a start whose job id the node already has is refused with an error naming it, and writes nothing", async () => {
    const jobs = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
    const first = job('job-reused', 'jobs-10');
    expect(await jobs.start(first, new Date())).toEqual({ started: true });
    expect(await jobs.save(ended(first))).toBe('saved');
    const before = await jobs.read('jobs-10', 'job-reused');
    await expect(jobs.start(job('job-reused', 'jobs-10'), new Date())).rejects.toThrow('node jobs-10 already has a job job-reused: a job id is never reused');
    await expect(jobs.follow({ ...job('job-reused', 'jobs-10'), kind: 'capture' }, new Date())).rejects.toThrow('node jobs-10 already has a job job-reused');
    expect(await jobs.read('jobs-10', 'job-reused')).toEqual(before);
    const lock = await aws.dynamo.send(new GetItemCommand({ TableName: aws.nodeStoreTable, Key: { node: { S: 'jobs-10' }, key: { S: JOB_LOCK_KEY } }, ConsistentRead: true }));
    expect(lock.Item?.active).toBeUndefined();
  });

  test('a start that read a stale job another start replaced (and ended) meanwhile leaves that job as the other failed it', async () => {
    const plain = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
    const start = new Date();
    const later = new Date(start.getTime() + STALE_AFTER_MS + 1000);
    expect(await plain.start(job('job-stale', 'jobs-11'), start)).toEqual({ started: true });
    // Between this start's reads and its write, another start replaces the stale job and its job ends.
    let writes = 0;
    const racing = Object.create(aws.dynamo) as typeof aws.dynamo;
    racing.send = (async (command: Parameters<typeof aws.dynamo.send>[0]) => {
      if (command instanceof TransactWriteItemsCommand && writes++ === 0) {
        const other = job('job-other', 'jobs-11');
        expect(await plain.start(other, later)).toEqual({ started: true });
        expect(await plain.save({ ...ended(other), updatedAt: later.toISOString() })).toBe('saved');
      }
      return aws.dynamo.send(command);
    }) as typeof aws.dynamo.send;
    expect(await new DynamoJobStore(aws.nodeStoreTable, racing).start(job('job-late', 'jobs-11'), later)).toEqual({ started: true });
    expect((await plain.read('jobs-11', 'job-stale'))?.error).toMatch(/replaced by job job-other \(drift\)/);
    expect((await plain.latest('jobs-11'))?.id).toBe('job-late');
  });

  test("a page of differences too large for one item is split, read back whole and in order, and pruned with its job's other items", async () => {
    const jobs = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
    // Extras with long names: 500 of them are more than DynamoDB's 400 KB item.
    const extra = (i: number): DriftEntry => ({ type: 'featureType', id: `ws:${'n'.repeat(500)}-${i}`, kind: 'extra', store: 's'.repeat(300) });
    const first = Array.from({ length: 500 }, (_, i) => extra(i));
    const second = [extra(1000), extra(1001)];
    await jobs.putDifferences('jobs-diff', 'job-split', 0, first);
    await jobs.putDifferences('jobs-diff', 'job-split', 1, second);
    expect(await jobs.readDifferences('jobs-diff', 'job-split')).toEqual([...first, ...second]);

    await jobs.pruneDifferences('jobs-diff', 'job-other');
    expect(await jobs.readDifferences('jobs-diff', 'job-split')).toEqual([]);
  });

  test("a capture whose checkpoint lists thousands of long ids is saved over several items, read back whole, and ends", async () => {
    const jobs = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
    const started = { ...job('job-big', 'jobs-record'), kind: 'capture' as const };
    expect(await jobs.start(started, new Date())).toEqual({ started: true });
    // About 1.8 MB of JSON: DynamoDB Local refused its save as an item over 400 KB.
    const running = {
      ...started,
      state: 'running' as const,
      phase: 'fix' as const,
      checkpoint: {
        index: 3000,
        regrouped: Array.from({ length: 3000 }, (_, i) => `ws:${'g'.repeat(500)}-${i}`),
        keptStores: Array.from({ length: 500 }, (_, i) => `ws:${'é地🗺s'.repeat(50)}-${i}`),
      },
    };
    expect(await jobs.save(running)).toBe('saved');
    expect(await jobs.read('jobs-record', 'job-big')).toEqual(running);
    const done = ended(running);
    expect(await jobs.save(done)).toBe('saved');
    expect(await jobs.read('jobs-record', 'job-big')).toEqual(done);
    expect((await jobs.latest('jobs-record'))?.state).toBe('succeeded');
  });

  test("a record of several items read while a save of it lands between its first item and the rest is that save's whole, never a mix of two", async () => {
    const plain = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
    const started = { ...job('job-mixed', 'jobs-mixed'), kind: 'capture' as const };
    expect(await plain.start(started, new Date())).toEqual({ started: true });
    // Two saves of the same shape and size (three items each), told apart by every group name.
    const saving = (letter: string, at: number): Job => ({
      ...started,
      state: 'running',
      phase: 'fix',
      updatedAt: new Date(at).toISOString(),
      checkpoint: { index: 1, regrouped: Array.from({ length: 3000 }, (_, i) => `ws:${letter.repeat(300)}-${i}`), keptStores: [] },
    });
    const before = saving('a', Date.now());
    const after = saving('b', Date.now() + 1000);
    expect(await plain.save(before)).toBe('saved');
    // The later save lands right after the reader's GetItem of the record's first item.
    let landed = false;
    const racing = Object.create(aws.dynamo) as typeof aws.dynamo;
    racing.send = (async (command: Parameters<typeof aws.dynamo.send>[0]) => {
      const answer = await aws.dynamo.send(command);
      if (command instanceof GetItemCommand && command.input.Key?.key?.S === '#jobs/job-mixed' && !landed) {
        landed = true;
        expect(await plain.save(after)).toBe('saved');
      }
      return answer;
    }) as typeof aws.dynamo.send;
    expect(await new DynamoJobStore(aws.nodeStoreTable, racing).read('jobs-mixed', 'job-mixed')).toEqual(after);
    expect(landed).toBe(true);
  });

  test("a record of several items whose expiry the table's TTL has begun to carry out (one item at a time) reads as gone; one missing an item before its expiry is an error", async () => {
    const jobs = new DynamoJobStore(aws.nodeStoreTable, aws.dynamo);
    const started = { ...job('job-expiring', 'jobs-expiring'), kind: 'capture' as const };
    expect(await jobs.start(started, new Date())).toEqual({ started: true });
    const big: Job = { ...started, state: 'running', phase: 'fix', checkpoint: { index: 1, regrouped: Array.from({ length: 3000 }, (_, i) => `ws:${'g'.repeat(300)}-${i}`), keptStores: [] } };
    expect(await jobs.save(big)).toBe('saved');
    const key = (sortKey: string) => ({ node: { S: 'jobs-expiring' }, key: { S: sortKey } });
    await aws.dynamo.send(new DeleteItemCommand({ TableName: aws.nodeStoreTable, Key: key('#jobs/job-expiring/record/002') }));
    await expect(jobs.read('jobs-expiring', 'job-expiring')).rejects.toThrow(/job job-expiring's record item #jobs\/job-expiring\/record\/002 is missing/);
    await aws.dynamo.send(
      new UpdateItemCommand({
        TableName: aws.nodeStoreTable,
        Key: key('#jobs/job-expiring'),
        UpdateExpression: 'SET expiresAt = :past',
        ExpressionAttributeValues: { ':past': { N: String(Math.floor(Date.now() / 1000) - 60) } },
      }),
    );
    expect(await jobs.read('jobs-expiring', 'job-expiring')).toBeUndefined();
  });
});

describe('SQS queues', () => {
  test('depths and redrive from the dead-letter queue keep group, attributes and body', async () => {
    const pair = aws.queues['both-1'];
    if (!pair) throw new Error('no queues');
    // Drain what publishing sent (both-1 is subscribed too).
    await receiveAll(aws.sqs, pair.queueUrl, 2);

    const depths = new SqsQueueDepths(aws.queues, sqsWith(aws.sqs));
    expect(await depths.depths('master-1')).toBeUndefined();
    for (let index = 1; index <= 3; index += 1) {
      await aws.sqs.send(
        new SendMessageCommand({
          QueueUrl: pair.deadLetterQueueUrl,
          MessageBody: `{"poison":${index}}`,
          MessageGroupId: CLUSTER,
          MessageDeduplicationId: `${CLUSTER}-${index}`,
          MessageAttributes: { origin: { DataType: 'String', StringValue: 'master-1' } },
        }),
      );
    }
    expect(await depths.depths('both-1')).toEqual({ queueDepth: expect.any(Number), deadLetterDepth: 3 });

    // As the functions build it: with AWS_ENDPOINT_URL_SQS set, the client must send to that
    // endpoint although the queue URLs name a host that does not resolve.
    expect(new URL(pair.queueUrl).hostname).toBe('sqs.us-east-1.localhost');
    await withEnv(
      {
        AWS_ENDPOINT_URL_SQS: aws.emulators.awsEndpoint,
        AWS_REGION: LOCAL_REGION,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      },
      async () => {
        const sqs = sqsFromEnv(loadSqsSdk);
        try {
          const redrive = new SqsRedrive(aws.queues, sqs);
          expect(redrive.hasQueues('master-1')).toBe(false);
          expect(await redrive.redrive('both-1', Date.now() + 20_000)).toEqual({ moved: 3, more: false });
        } finally {
          sqs.connect().client.destroy();
        }
      },
    );
    expect(await depths.depths('both-1')).toEqual({ queueDepth: 3, deadLetterDepth: 0 });

    const moved = await receiveAll(aws.sqs, pair.queueUrl, 3);
    expect(moved.map((message) => message.Body)).toEqual(['{"poison":1}', '{"poison":2}', '{"poison":3}']);
    for (const message of moved) {
      expect(message.Attributes?.MessageGroupId).toBe(CLUSTER);
      expect(message.Attributes?.MessageDeduplicationId).toMatch(new RegExp(`^${CLUSTER}-\\d-redrive-\\d+$`));
      expect(message.MessageAttributes?.origin?.StringValue).toBe('master-1');
    }
  });
});

async function withEnv<T>(variables: Record<string, string>, run: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  Object.assign(process.env, variables);
  try {
    return await run();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
