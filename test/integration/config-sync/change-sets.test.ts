// Change sets and sequence ranges in the DynamoDB event log, on DynamoDB Local and fauxqs:
// ranges allocated by one atomic increment, committed all or nothing in chunk items; holes
// left by a publisher that died between allocation and commit are waited for while young and
// closed as void once old; a publisher whose range was voided first stores nothing.
import { DynamoDBClient, GetItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoEventLog } from '../../../lambdas/config-sync/adapters/dynamo-event-log';
import { DynamoNodePauses } from '../../../lambdas/config-sync/adapters/dynamo-node-pauses';
import { NodePausedError } from '../../../lambdas/config-sync/pause';
import { DynamoNodeStore } from '../../../lambdas/config-sync/adapters/dynamo-node-store';
import { S3Bucket, S3EventBodyStore, S3ObjectBodies } from '../../../lambdas/config-sync/adapters/s3-body-store';
import { SnsEventTopic } from '../../../lambdas/config-sync/adapters/sns-event-topic';
import { snsWith } from '../../../lambdas/config-sync/adapters/deferred-sdk';
import { applyDeliveredBatch, catchUp, type ApplyDeps } from '../../../lambdas/config-sync/apply';
import { IdempotencyKeyTakenError, SequenceRangeAbandonedError } from '../../../lambdas/config-sync/errors';
import type { EventDraft } from '../../../lambdas/config-sync/ports';
import { publishIdempotently } from '../../../lambdas/config-sync/publish';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/emulators';
import { countedDynamoClient, receiveAll, startEmulatedAws, type EmulatedAws } from './emulated-aws';

jest.setTimeout(120_000);

let aws: EmulatedAws;

beforeAll(async () => {
  aws = await startEmulatedAws({ cluster: 'sets', consumers: ['slave-1'] });
});

afterAll(async () => {
  await aws?.stop();
});

const draft = (cluster: string, id: string, padding = 0): EventDraft => ({
  cluster,
  origin: 'master-1',
  publishedAt: '2025-01-01T00:00:00.000Z',
  kind: 'add',
  object: { type: 'workspace', id },
  properties: padding > 0 ? { name: id, description: 'x'.repeat(padding) } : { name: id },
});

const logItems = async (cluster: string) =>
  (
    await aws.dynamo.send(
      new QueryCommand({
        TableName: aws.eventLogTable,
        KeyConditionExpression: '#c = :c AND #s > :zero',
        ExpressionAttributeNames: { '#c': 'cluster', '#s': 'sequence' },
        ExpressionAttributeValues: { ':c': { S: cluster }, ':zero': { N: '0' } },
        ConsistentRead: true,
      }),
    )
  ).Items ?? [];

/** What a publisher that dies right after its allocation leaves: the head moved, nothing written. */
const allocateAndDie = (cluster: string, count: number, at: number) =>
  aws.dynamo.send(
    new UpdateItemCommand({
      TableName: aws.eventLogTable,
      Key: { cluster: { S: cluster }, sequence: { N: '0' } },
      UpdateExpression: 'ADD #head :n SET #at = :at',
      ExpressionAttributeNames: { '#head': 'head', '#at': 'allocatedAt' },
      ExpressionAttributeValues: { ':n': { N: String(count) }, ':at': { N: String(at) } },
    }),
  );

describe('change sets in the DynamoDB event log', () => {
  test('a change set of 40 events of 20 KB is one range in chunk items, read back whole from any point, marked as one range', async () => {
    const cluster = 'chunks';
    const log = new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo });
    await log.append(draft(cluster, 'first'));
    const events = await log.appendAll(Array.from({ length: 40 }, (_, i) => draft(cluster, `ws${i}`, 20_000)));
    expect(events.map((event) => event.sequence)).toEqual(Array.from({ length: 40 }, (_, i) => i + 2));

    const items = await logItems(cluster);
    // 800 KB in items of at most 300 KB: three chunks, plus the single event before.
    expect(items.length).toBe(4);
    expect(items.slice(1).every((item) => item.events?.S !== undefined && item.last?.N !== undefined)).toBe(true);

    const all = await log.readRange(cluster, 1, 41);
    expect(all.map((event) => event.sequence)).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
    expect(all.slice(1)).toEqual(events);
    // From the middle of a chunk, across a chunk boundary, past the head.
    const chunkStarts = items.map((item) => Number(item.sequence?.N));
    const boundary = chunkStarts[2] as number;
    expect((await log.readRange(cluster, boundary - 2, boundary + 1)).map((event) => event.sequence)).toEqual([
      boundary - 2,
      boundary - 1,
      boundary,
      boundary + 1,
    ]);
    expect((await log.readRange(cluster, 40, 500)).map((event) => event.sequence)).toEqual([40, 41]);

    expect((await log.listUnpublished(cluster, 100)).map((event) => event.sequence)).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
    await log.markPublished(cluster, 1);
    await log.markPublished(cluster, 2, 41);
    expect(await log.listUnpublished(cluster, 100)).toEqual([]);
  });

  test('concurrent change sets from four writers get disjoint contiguous ranges, with no retry and no hole', async () => {
    const cluster = 'concurrent';
    const writers = Array.from({ length: 4 }, () => new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo }));
    const sizes = [1, 7, 30, 2, 12, 1, 25, 5, 9, 3, 18, 4];
    const results = await Promise.all(
      sizes.map((size, set) =>
        (writers[set % writers.length] as DynamoEventLog).appendAll(Array.from({ length: size }, (_, i) => draft(cluster, `s${set}-${i}`))),
      ),
    );
    const total = sizes.reduce((sum, size) => sum + size, 0);
    for (const events of results) {
      const first = events[0]?.sequence as number;
      expect(events.map((event) => event.sequence)).toEqual(events.map((_, i) => first + i));
    }
    expect(results.flat().map((event) => event.sequence).sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(await writers[0]?.head(cluster)).toBe(total);
    const read = await writers[1]!.readRange(cluster, 1, total);
    const told = new Map(results.flat().map((event) => [event.sequence, event]));
    for (const event of read) expect(event).toEqual(told.get(event.sequence));
  });

  test('a hole is waited for while young and closed as void once older than the grace period; a node applies past it', async () => {
    const cluster = 'holes';
    let clock = 1_000_000;
    const log = new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo, holeGraceMs: 5_000, now: () => clock, voidedBy: 'slave-1' });
    await log.append(draft(cluster, 'a'));
    await allocateAndDie(cluster, 5, clock);
    await log.append(draft(cluster, 'b'));
    expect((await log.readRange(cluster, 1, 7)).map((event) => event.sequence)).toEqual([1, 7]);

    clock += 1_000;
    expect(await log.closeHoles(cluster, 1, 7)).toEqual({ voided: 0, waiting: 5 });
    clock += 10_000;
    expect(await log.closeHoles(cluster, 1, 7)).toEqual({ voided: 5, waiting: 0 });
    const read = await log.readRange(cluster, 1, 7);
    expect(read.map((event) => ('voided' in event ? 'void' : event.sequence))).toEqual([1, 'void', 'void', 'void', 'void', 'void', 7]);
    expect(read[1]).toMatchObject({ origin: 'slave-1', voided: true });

    const store = new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo });
    const bodies = new S3EventBodyStore(new S3Bucket(aws.s3, aws.bucket));
    const result = await catchUp({ store, log, bodies }, { cluster, node: 'holes-node' });
    expect(result.cursor).toBe(7);
    expect(result.applied.map((step) => step.effect)).toEqual(['created', 'void', 'void', 'void', 'void', 'void', 'created']);
  });

  test("the last event: past unwritten and void sequences at the log's end, to a chunk's last event", async () => {
    const cluster = 'last-event';
    let clock = 2_000_000;
    const log = new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo, holeGraceMs: 5_000, now: () => clock });
    expect(await log.lastEvent(cluster, 0)).toBe(0);
    await log.append(draft(cluster, 'a'));
    const set = await log.appendAll(Array.from({ length: 6 }, (_, i) => draft(cluster, `set${i}`, 100_000)));
    expect(set.map((event) => event.sequence)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(await log.lastEvent(cluster, 7)).toBe(7);
    // A head read before the last item is asked with it: nothing above it counts.
    expect(await log.lastEvent(cluster, 4)).toBe(4);
    // Allocated, never written: the head moves, the last event does not.
    await allocateAndDie(cluster, 150, clock);
    expect(await log.head(cluster)).toBe(157);
    expect(await log.lastEvent(cluster, 157)).toBe(7);
    // Closed as void (150 void items, more than a page of the search): still 7.
    clock += 10_000;
    expect(await log.closeHoles(cluster, 1, 157)).toEqual({ voided: 150, waiting: 0 });
    expect(await log.lastEvent(cluster, 157)).toBe(7);
    const next = await log.append(draft(cluster, 'b'));
    expect(await log.lastEvent(cluster, next.sequence)).toBe(158);
  });

  test('the last event under thousands of voids (abandoned change sets at the end of the log)', async () => {
    const cluster = 'last-event-deep';
    let clock = 3_000_000;
    const log = new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo, holeGraceMs: 5_000, now: () => clock });
    await log.append(draft(cluster, 'a'));
    // Five racing first attempts of a change set of 1,000 with one key leave four ranges void;
    // more than the 2,000 voids the search once stopped at (it then answered the head: lag
    // 4,500 on every node, with nothing to apply).
    await allocateAndDie(cluster, 4_500, clock);
    clock += 10_000;
    expect(await log.closeHoles(cluster, 2, 4_501)).toEqual({ voided: 4_500, waiting: 0 });
    expect(await log.head(cluster)).toBe(4_501);
    expect(await log.lastEvent(cluster, 4_501)).toBe(1);
  });

  test('an applier waits for a young hole and goes on once its grace period has passed', async () => {
    const cluster = 'young-hole';
    const log = new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo, holeGraceMs: 400 });
    await log.append(draft(cluster, 'a'));
    await allocateAndDie(cluster, 2, Date.now());
    const last = await log.append(draft(cluster, 'b'));
    const store = new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo });
    const bodies = new S3EventBodyStore(new S3Bucket(aws.s3, aws.bucket));
    const started = Date.now();
    const result = await catchUp({ store, log, bodies }, { cluster, node: 'waiting-node' }, last.sequence);
    // Event 1 is read alone (the hole after it is not closed yet): written without reading its
    // object first; the last one comes in one run with the voids, its object read.
    expect(result.applied.map((step) => step.effect)).toEqual(['written', 'void', 'void', 'created']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  test('a publisher whose range was voided before its commit stores nothing and gets a 503; a refused Idempotency-Key voids its own range at once', async () => {
    const cluster = 'late-publisher';
    let clock = 2_000_000;
    const closer = new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo, holeGraceMs: 1_000, now: () => clock + 60_000 });
    // The late publisher's commit is held until a reader has closed its range.
    const slowClient = new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: aws.emulators.dynamoEndpoint });
    const send = slowClient.send.bind(slowClient) as (command: unknown) => Promise<unknown>;
    let holdCommit = true;
    (slowClient as unknown as { send: (command: unknown) => Promise<unknown> }).send = async (command: unknown) => {
      if (holdCommit && (command as { constructor: { name: string } }).constructor.name === 'TransactWriteItemsCommand') {
        holdCommit = false;
        await closer.closeHoles(cluster, 1, 10);
      }
      return send(command);
    };
    const late = new DynamoEventLog({ tableName: aws.eventLogTable, client: slowClient, now: () => clock });
    await expect(late.appendAll([draft(cluster, 'x'), draft(cluster, 'y')])).rejects.toBeInstanceOf(SequenceRangeAbandonedError);
    const read = await closer.readRange(cluster, 1, 2);
    expect(read.map((event) => 'voided' in event)).toEqual([true, true]);

    // A retry whose key is already claimed is answered before anything is allocated.
    const log = new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo, now: () => clock });
    const claim = { node: 'master-1', key: 'k', bodyHash: 'h', createdAt: new Date(clock).toISOString(), expiresAt: Math.floor(clock / 1000) + 3600 };
    await log.appendAll([draft(cluster, 'z')], claim);
    await expect(log.appendAll([draft(cluster, 'w'), draft(cluster, 'v')], claim)).rejects.toBeInstanceOf(IdempotencyKeyTakenError);
    expect(await log.head(cluster)).toBe(3);

    // Two first attempts race with one key: the loser's commit is refused by the claim, and it
    // voids its own range at once (no reader has to wait for the grace period).
    const racingClient = new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: aws.emulators.dynamoEndpoint });
    const racingSend = racingClient.send.bind(racingClient) as (command: unknown) => Promise<unknown>;
    const otherClaim = { ...claim, key: 'k2' };
    let raced = false;
    (racingClient as unknown as { send: (command: unknown) => Promise<unknown> }).send = async (command: unknown) => {
      if (!raced && (command as { constructor: { name: string } }).constructor.name === 'TransactWriteItemsCommand') {
        raced = true;
        await log.appendAll([draft(cluster, 'winner')], otherClaim);
      }
      return racingSend(command);
    };
    const loser = new DynamoEventLog({ tableName: aws.eventLogTable, client: racingClient, now: () => clock });
    await expect(loser.appendAll([draft(cluster, 'w'), draft(cluster, 'v')], otherClaim)).rejects.toBeInstanceOf(IdempotencyKeyTakenError);
    expect((await log.readRange(cluster, 1, 10)).map((event) => ('voided' in event ? 'void' : event.sequence))).toEqual([
      'void',
      'void',
      3,
      'void',
      'void',
      6,
    ]);
    expect(await log.closeHoles(cluster, 1, 6)).toEqual({ voided: 0, waiting: 0 });

    // The offsets of the events the publish path derived come back with the claim, for an answer
    // rebuilt from the log to list them as the first did; a claim without any records none.
    const derivedClaim = { ...claim, key: 'k3', count: 4, derived: [1, 3] };
    await log.appendAll([draft(cluster, 'a'), draft(cluster, 'b'), draft(cluster, 'c'), draft(cluster, 'd')], derivedClaim);
    expect(await log.readIdempotencyClaim(cluster, derivedClaim)).toMatchObject({ count: 4, derived: [1, 3] });
    expect(await log.readIdempotencyClaim(cluster, claim)).not.toHaveProperty('derived');
  });

  test('published through SNS in batches: a slave receives a 25-event change set in order and applies it', async () => {
    const cluster = 'sets';
    const log = new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo });
    const store = new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo, bodies: new S3ObjectBodies(new S3Bucket(aws.s3, aws.bucket)) });
    const bodies = new S3EventBodyStore(new S3Bucket(aws.s3, aws.bucket));
    const topic = new SnsEventTopic(snsWith(aws.sns), aws.topicArn);
    const deps = { store, log, bodies, topic, now: () => new Date('2025-02-01T00:00:00.000Z') };
    const changes = Array.from({ length: 25 }, (_, i) => ({ kind: 'add' as const, object: { type: 'workspace' as const, id: `w${i}` }, properties: { name: `w${i}` } }));
    const outcome = await publishIdempotently(deps, { cluster, node: { name: 'master-1', role: 'master' } }, { changes });
    expect(outcome.answer).toEqual({ firstSequence: 1, lastSequence: 25, count: 25, origin: 'master-1', publishedAt: '2025-02-01T00:00:00.000Z', published: true, appliedLocally: true });
    const queue = aws.queues['slave-1'];
    if (!queue) throw new Error('no queue for slave-1');
    const messages = await receiveAll(aws.sqs, queue.queueUrl, 25);
    expect(messages.map((message) => JSON.parse(message.Body as string).sequence)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    const applyDeps: ApplyDeps = { store, log, bodies };
    for (let start = 0; start < 25; start += 10) {
      const result = await applyDeliveredBatch(applyDeps, { cluster, node: 'slave-1' }, messages.slice(start, start + 10).map((m) => m.Body as string));
      expect(result.failure).toBeUndefined();
    }
    expect(await store.readCursor('slave-1')).toBe(25);
  });
});

describe('the events API taking a partner\'s flags along, on the DynamoDB node store', () => {
  test("a layer naming a resource by a name no object can have (longer than an id) is published, taking nothing along: no key is read that DynamoDB refuses", async () => {
    const cluster = 'flags-long-name';
    const log = new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo });
    const store = new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo, bodies: new S3ObjectBodies(new S3Bucket(aws.s3, aws.bucket)) });
    const bodies = new S3EventBodyStore(new S3Bucket(aws.s3, aws.bucket));
    const topic = new SnsEventTopic(snsWith(aws.sns), aws.topicArn);
    const deps = { store, log, bodies, topic, now: () => new Date('2025-02-01T00:00:00.000Z'), appliesToGeoServers: true };
    // Its resource's key would be over DynamoDB's 1,024 bytes for a sort key.
    const resource = { '@class': 'featureType', name: `topp:${'r'.repeat(1100)}` };
    const changes = [
      { kind: 'add' as const, object: { type: 'workspace' as const, id: 'topp' }, properties: { name: 'topp' } },
      { kind: 'add' as const, object: { type: 'layer' as const, id: 'topp:roads' }, properties: { name: 'roads', resource, enabled: false } },
    ];
    const node = { name: 'master-1', role: 'master' as const };
    const outcome = await publishIdempotently(deps, { cluster, node }, { changes });
    expect(outcome.answer).toMatchObject({ count: 2 });
    expect(outcome.answer).not.toHaveProperty('derived');
    // The layer held now, its flags stated again: read through the store's liveness too.
    const again = await publishIdempotently(deps, { cluster, node }, { kind: 'modify', object: { type: 'layer', id: 'topp:roads' }, patch: { enabled: true } });
    expect(again.answer).not.toHaveProperty('derived');
  });
});

describe('one-call appends', () => {
  const countedClient = () => countedDynamoClient(aws);
  const head = async (cluster: string) =>
    Number((await aws.dynamo.send(new GetItemCommand({ TableName: aws.eventLogTable, Key: { cluster: { S: cluster }, sequence: { N: '0' } }, ConsistentRead: true }))).Item?.head?.N ?? 0);

  test('an instance that knows the head appends in one transaction; a wrong guess stores nothing and falls back to allocating; the log stays gap-free', async () => {
    const cluster = 'one-call';
    const a = countedClient();
    const b = countedClient();
    const logA = new DynamoEventLog({ tableName: aws.eventLogTable, client: a.client });
    const logB = new DynamoEventLog({ tableName: aws.eventLogTable, client: b.client });

    expect((await logA.append(draft(cluster, 'w1'))).sequence).toBe(1);
    expect(a.calls.splice(0)).toEqual(['UpdateItem', 'TransactWriteItems']); // nothing known yet: allocate, commit
    expect((await logA.appendAll([draft(cluster, 'w2'), draft(cluster, 'w3')])).map((event) => event.sequence)).toEqual([2, 3]);
    expect(a.calls.splice(0)).toEqual(['TransactWriteItems']);
    expect((await logB.append(draft(cluster, 'w4'))).sequence).toBe(4);
    // A guesses 3: refused (nothing written), then the allocation path.
    expect((await logA.append(draft(cluster, 'w5'))).sequence).toBe(5);
    expect(a.calls.splice(0)).toEqual(['TransactWriteItems', 'UpdateItem', 'TransactWriteItems']);
    expect((await logA.append(draft(cluster, 'w6'))).sequence).toBe(6);
    expect(a.calls.splice(0)).toEqual(['TransactWriteItems']);

    expect(await head(cluster)).toBe(6);
    const items = await logItems(cluster);
    expect(items.map((item) => Number(item.sequence?.N))).toEqual([1, 2, 4, 5, 6]); // 2 is the chunk of 2..3
    expect(items.some((item) => item.voided !== undefined)).toBe(false);
    expect((await logB.readRange(cluster, 1, 6)).map((event) => [event.sequence, 'object' in event ? event.object?.id : undefined])).toEqual([
      [1, 'w1'],
      [2, 'w2'],
      [3, 'w3'],
      [4, 'w4'],
      [5, 'w5'],
      [6, 'w6'],
    ]);
  });

  test('four instances appending one after the other each, all at once, get every sequence exactly once and leave no hole', async () => {
    const cluster = 'one-call-race';
    const writers = Array.from({ length: 4 }, () => new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo }));
    const sequences = await Promise.all(
      writers.map(async (writer, w) => {
        const mine: number[] = [];
        for (let i = 0; i < 10; i++) {
          const events = await writer.appendAll(Array.from({ length: 1 + (i % 3) }, (_, j) => draft(cluster, `w${w}-${i}-${j}`)));
          expect(events.map((event) => event.sequence)).toEqual(events.map((_, j) => (events[0]?.sequence as number) + j));
          mine.push(...events.map((event) => event.sequence));
        }
        return mine;
      }),
    );
    // Per writer: ten sets of 1, 2, 3, 1, 2, 3, 1, 2, 3, 1 events, 19 in all.
    const all = sequences.flat().sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 4 * 19 }, (_, i) => i + 1));
    expect(await head(cluster)).toBe(all.length);
    expect((await logItems(cluster)).some((item) => item.voided !== undefined)).toBe(false);
    const read = await writers[0]!.readRange(cluster, 1, 100);
    expect(read.map((event) => event.sequence)).toEqual(all.slice(0, 100));
  });

  test("a paused publisher's append stores nothing, whether its instance guesses the head (checked in the transaction) or allocates (read first)", async () => {
    const cluster = 'one-call-paused';
    const counted = countedClient();
    const pauses = new DynamoNodePauses(aws.nodeStoreTable, counted.client);
    const guard = { unlessPaused: 'master-1', pauses };
    const log = new DynamoEventLog({ tableName: aws.eventLogTable, client: counted.client, pausesTableName: aws.nodeStoreTable });
    await pauses.write('master-1', { since: '2025-01-01T00:00:00.000Z', by: 'master-2' });
    try {
      await expect(log.append(draft(cluster, 'unguarded'))).resolves.toMatchObject({ sequence: 1 }); // no guard (as the gateway, which checks first): appended
      counted.calls.splice(0);
      await expect(log.appendAll([draft(cluster, 'refused-2')], undefined, guard)).rejects.toMatchObject({ code: 'NODE_PAUSED', details: { pausedBy: 'master-2' } });
      expect(counted.calls.splice(0)).toEqual(['TransactWriteItems']); // the guess (head 1) with the pause check, refused
      expect(await head(cluster)).toBe(1);

      const fresh = new DynamoEventLog({ tableName: aws.eventLogTable, client: counted.client, pausesTableName: aws.nodeStoreTable });
      await expect(fresh.appendAll([draft(cluster, 'refused-3')], undefined, guard)).rejects.toBeInstanceOf(NodePausedError);
      expect(counted.calls.splice(0)).toEqual(['GetItem']); // no guess: the pause read, nothing allocated
      expect(await head(cluster)).toBe(1);
      expect((await logItems(cluster)).map((item) => Number(item.sequence?.N))).toEqual([1]);
    } finally {
      await pauses.write('master-1', undefined);
    }
    counted.calls.splice(0);
    expect((await log.appendAll([draft(cluster, 'accepted')], undefined, guard)).map((event) => event.sequence)).toEqual([2]);
    expect(counted.calls.splice(0)).toEqual(['TransactWriteItems']);
  });
});

describe("a contended publisher's pause read", () => {
  const node = 'master-1';
  const pausedState = { since: '2025-01-01T00:00:00.000Z', by: 'operator' };

  /** A second writer moves the head, so `log`'s next guess misses and it allocates. */
  const contend = (cluster: string, id: string) => new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo }).append(draft(cluster, id));

  test('is made once a second, not before every allocation: the commit checks the pause all the same', async () => {
    const cluster = 'pause-read-reused';
    const counted = countedDynamoClient(aws);
    const pauses = new DynamoNodePauses(aws.nodeStoreTable, counted.client);
    const guard = { unlessPaused: node, pauses };
    let now = 1_000_000;
    const log = new DynamoEventLog({ tableName: aws.eventLogTable, client: counted.client, pausesTableName: aws.nodeStoreTable, now: () => now });
    expect((await log.appendAll([draft(cluster, 'a')], undefined, guard)).map((event) => event.sequence)).toEqual([1]);
    expect(counted.calls.splice(0)).toEqual(['GetItem', 'UpdateItem', 'TransactWriteItems']); // nothing known: the pause read, allocate, commit
    await contend(cluster, 'b');
    now += 500;
    expect((await log.appendAll([draft(cluster, 'c')], undefined, guard)).map((event) => event.sequence)).toEqual([3]);
    // The guess misses; the allocation follows without a read: the last commit passed the pause check half a second ago.
    expect(counted.calls.splice(0)).toEqual(['TransactWriteItems', 'UpdateItem', 'TransactWriteItems']);
    await contend(cluster, 'd');
    now += 1_500;
    expect((await log.appendAll([draft(cluster, 'e')], undefined, guard)).map((event) => event.sequence)).toEqual([5]);
    expect(counted.calls.splice(0)).toEqual(['TransactWriteItems', 'GetItem', 'UpdateItem', 'TransactWriteItems']); // over a second: read again
  });

  test('a pause taken within that second still refuses the publish that allocates without reading it, voiding its range', async () => {
    const cluster = 'pause-read-stale';
    const counted = countedDynamoClient(aws);
    const pauses = new DynamoNodePauses(aws.nodeStoreTable, counted.client);
    const guard = { unlessPaused: node, pauses };
    const log = new DynamoEventLog({ tableName: aws.eventLogTable, client: counted.client, pausesTableName: aws.nodeStoreTable });
    expect((await log.appendAll([draft(cluster, 'a')], undefined, guard)).map((event) => event.sequence)).toEqual([1]);
    await pauses.write(node, pausedState);
    counted.calls.splice(0);
    try {
      // Two appends of one instance at once: the first guesses the head (its transaction checks
      // the pause), the second allocates, without a read (the first commit's check passed
      // within the second); the commit's check refuses it and its range is voided.
      const refused = await Promise.allSettled([log.appendAll([draft(cluster, 'b')], undefined, guard), log.appendAll([draft(cluster, 'c')], undefined, guard)]);
      expect(refused.map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as { code?: string }).code : 'appended'))).toEqual(['NODE_PAUSED', 'NODE_PAUSED']);
      expect(counted.calls.splice(0).filter((call) => call === 'GetItem')).toEqual([]);
      const reader = new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo });
      expect(await reader.head(cluster)).toBe(2);
      expect((await reader.readRange(cluster, 2, 2)).map((event) => 'voided' in event)).toEqual([true]);
      // Refused, the instance trusts no earlier check: the next allocation reads the pause first.
      await contend(cluster, 'd');
      const [first, second] = await Promise.allSettled([log.appendAll([draft(cluster, 'e')], undefined, guard), log.appendAll([draft(cluster, 'f')], undefined, guard)]);
      expect([first.status, second.status]).toEqual(['rejected', 'rejected']);
      expect(counted.calls.splice(0).filter((call) => call !== 'TransactWriteItems')).toEqual(['GetItem']);
      expect(await reader.head(cluster)).toBe(3);
    } finally {
      await pauses.write(node, undefined);
    }
    expect((await log.appendAll([draft(cluster, 'g')], undefined, guard)).map((event) => event.sequence)).toEqual([4]);
  });
});

describe('a pause taken while a contended append is under way', () => {
  const node = 'master-1';
  const pausedState = { since: '2025-01-01T00:00:00.000Z', by: 'operator' };

  test.each([
    ['between its pause read and its allocation', 'read'],
    ['between its allocation and its commit', 'commit'],
  ] as const)('%s: refused with 409 NODE_PAUSED, nothing stored, its range voided (no gap left)', async (_, when) => {
    const cluster = `pause-race-${when}`;
    const pauses = new DynamoNodePauses(aws.nodeStoreTable, aws.dynamo);
    // The operator's pause lands right after the append's own read of it ...
    const guard = {
      unlessPaused: node,
      pauses: {
        read: async (name: string) => {
          const state = await pauses.read(name);
          if (when === 'read') await pauses.write(name, pausedState);
          return state;
        },
        write: (name: string, state: Parameters<DynamoNodePauses['write']>[1]) => pauses.write(name, state),
      },
    };
    // ... or right before its commit, after the allocation.
    const client = new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: aws.emulators.dynamoEndpoint });
    const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
    let pausedAtCommit = false;
    (client as unknown as { send: (command: unknown) => Promise<unknown> }).send = async (command: unknown) => {
      if (when === 'commit' && !pausedAtCommit && (command as { constructor: { name: string } }).constructor.name === 'TransactWriteItemsCommand') {
        pausedAtCommit = true;
        await pauses.write(node, pausedState);
      }
      return send(command);
    };
    // A fresh instance knows no head: the two-call path (allocation, then commit).
    const log = new DynamoEventLog({ tableName: aws.eventLogTable, client, pausesTableName: aws.nodeStoreTable });
    try {
      await expect(log.appendAll([draft(cluster, 'a'), draft(cluster, 'b')], undefined, guard)).rejects.toMatchObject({
        code: 'NODE_PAUSED',
        details: { pausedBy: 'operator' },
      });
      const reader = new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo });
      expect(await reader.head(cluster)).toBe(2);
      expect((await reader.readRange(cluster, 1, 2)).map((event) => 'voided' in event)).toEqual([true, true]);
      expect(await reader.closeHoles(cluster, 1, 2)).toEqual({ voided: 0, waiting: 0 });
    } finally {
      await pauses.write(node, undefined);
    }
    // Resumed, the same instance appends after the voided range.
    expect((await log.appendAll([draft(cluster, 'c')], undefined, { unlessPaused: node, pauses })).map((event) => event.sequence)).toEqual([3]);
  });
});

describe("a large change's body when its append fails at write time", () => {
  /** A client whose `send` runs `hook` for the commands it names, around the real send. */
  const hookedClient = (hook: (name: string, send: () => Promise<unknown>) => Promise<unknown>) => {
    const client = new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: aws.emulators.dynamoEndpoint });
    const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
    (client as unknown as { send: (command: unknown) => Promise<unknown> }).send = (command: unknown) =>
      hook((command as { constructor: { name: string } }).constructor.name, () => send(command));
    return client;
  };
  /** S3 bodies that remember the references they handed out. */
  class RecordedBodies extends S3EventBodyStore {
    readonly refs: string[] = [];
    override async put(...args: Parameters<S3EventBodyStore['put']>): Promise<string> {
      const ref = await super.put(...args);
      this.refs.push(ref);
      return ref;
    }
  }
  const sld = `<StyledLayerDescriptor>${'<Rule/>'.repeat(45_000)}</StyledLayerDescriptor>`;
  const large = { kind: 'add' as const, object: { type: 'style' as const, id: 'topp:big' }, properties: { format: 'sld', body: sld } };
  const node = { name: 'master-1', role: 'master' as const };
  const depsWith = (log: DynamoEventLog, bodies: S3EventBodyStore) => ({
    store: new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo, bodies: new S3ObjectBodies(new S3Bucket(aws.s3, aws.bucket)) }),
    log,
    bodies,
    topic: new SnsEventTopic(snsWith(aws.sns), aws.topicArn),
    now: () => new Date('2025-03-01T00:00:00.000Z'),
  });

  test('a range voided before the commit (503) or an allocation DynamoDB refused: the body is deleted, nothing is in the log', async () => {
    const cluster = 'body-abandoned';
    const clock = 3_000_000;
    const closer = new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo, holeGraceMs: 1_000, now: () => clock + 60_000 });
    let holdCommit = true;
    const late = new DynamoEventLog({
      tableName: aws.eventLogTable,
      now: () => clock,
      client: hookedClient(async (name, send) => {
        if (holdCommit && name === 'TransactWriteItemsCommand') {
          holdCommit = false;
          await closer.closeHoles(cluster, 1, 10);
        }
        return send();
      }),
    });
    const bodies = new RecordedBodies(new S3Bucket(aws.s3, aws.bucket));
    await expect(publishIdempotently(depsWith(late, bodies), { cluster, node }, large)).rejects.toBeInstanceOf(SequenceRangeAbandonedError);
    expect(bodies.refs).toHaveLength(1);
    await expect(bodies.get(bodies.refs[0]!)).rejects.toThrow('does not exist');
    expect((await closer.readRange(cluster, 1, 1)).map((event) => 'voided' in event)).toEqual([true]);

    const throttled = new DynamoEventLog({
      tableName: aws.eventLogTable,
      client: hookedClient(async (name, send) => {
        if (name === 'UpdateItemCommand') throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ProvisionedThroughputExceededException' });
        return send();
      }),
    });
    await expect(publishIdempotently(depsWith(throttled, bodies), { cluster, node }, large)).rejects.toThrow('allowed throughput');
    expect(bodies.refs).toHaveLength(2);
    await expect(bodies.get(bodies.refs[1]!)).rejects.toThrow('does not exist');
    expect(await closer.head(cluster)).toBe(1);
  });

  test('a commit that went through but answered with an error (a timeout) keeps its body: the event refers to it', async () => {
    const cluster = 'body-timeout';
    const timedOut = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    const log = new DynamoEventLog({
      tableName: aws.eventLogTable,
      client: hookedClient(async (name, send) => {
        const answer = await send();
        if (name === 'TransactWriteItemsCommand' && (answer as { $metadata?: unknown }).$metadata !== undefined) throw timedOut;
        return answer;
      }),
    });
    const bodies = new RecordedBodies(new S3Bucket(aws.s3, aws.bucket));
    await expect(publishIdempotently(depsWith(log, bodies), { cluster, node }, large)).rejects.toBe(timedOut);
    const [event] = await new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo }).readRange(cluster, 1, 1);
    expect(event).toMatchObject({ sequence: 1, bodyRef: bodies.refs[0] });
    await expect(bodies.get(bodies.refs[0]!)).resolves.toMatchObject({ properties: { body: sld } });
  });
});
