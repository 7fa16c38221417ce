/**
 * The requests the config-sync adapters build from size-varying data stay within AWS's documented
 * limits, checked on every request a fake client receives (test/support/aws-limits.ts): the
 * emulators the integration tests use do not refuse all of them (docs/architecture.md, "Limits
 * the emulators do not enforce").
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import { applyDeliveredBatch } from '../../../lambdas/config-sync/apply';
import { snsWith } from '../../../lambdas/config-sync/adapters/deferred-sdk';
import { DynamoJobStore, JOB_LOCK_KEY } from '../../../lambdas/config-sync/adapters/dynamo-jobs';
import { DynamoNodeStore } from '../../../lambdas/config-sync/adapters/dynamo-node-store';
import { MemoryNodeStore } from '../../../lambdas/config-sync/adapters/memory';
import { SnsEventTopic } from '../../../lambdas/config-sync/adapters/sns-event-topic';
import type { PublishedEvent } from '../../../lambdas/config-sync/events';
import type { DriftEntry } from '../../../lambdas/config-sync/geoserver/drift';
import { newJob, type Job } from '../../../lambdas/config-sync/jobs';
import type { BatchCommit, CommitOutcome } from '../../../lambdas/config-sync/ports';
import { DYNAMO_MAX_ITEM_BYTES, dynamoItemBytes, dynamoProblems, limitCheckingClient, snsProblems } from '../../support/aws-limits';
import { add, applyDeps, CLUSTER, harness, modify } from './fixtures';

const NODE = 'slave-1';

/**
 * A memory store whose batch commits are also sent, as DynamoNodeStore builds them, to a client
 * that checks DynamoDB's limits: a commit AWS would refuse fails here as it would there.
 */
class LimitCheckedStore extends MemoryNodeStore {
  readonly dynamo = limitCheckingClient<DynamoDBClient>(dynamoProblems);
  private readonly shadow = new DynamoNodeStore({ tableName: 'node-store', client: this.dynamo.client });
  commits = 0;

  override async commitBatch(node: string, commit: BatchCommit): Promise<CommitOutcome> {
    await this.shadow.commitBatch(node, commit);
    this.commits += 1;
    return super.commitBatch(node, commit);
  }
}

describe("an applier's batch commit", () => {
  it("stays within TransactWriteItems' 4 MB when a run's objects grow after their first event", async () => {
    const h = harness();
    // 24 small objects, then each grown to 200 KiB: 4.8 MB in all once every one has grown.
    const ids = Array.from({ length: 24 }, (_, i) => `topp:layer-${i}`);
    const events = [
      ...(await h.appendAll(ids.map((id) => add('layer', id, { title: 'small' })))),
      ...(await h.appendAll(ids.map((id) => modify('layer', id, { abstract: 'x'.repeat(200 * 1024) })))),
    ];
    const store = new LimitCheckedStore();
    const result = await applyDeliveredBatch({ ...applyDeps(h), store }, { cluster: CLUSTER, node: NODE }, events.map((event) => JSON.stringify(event)));

    expect(store.dynamo.problems).toEqual([]);
    expect(result.cursor).toBe(events.length);
    // Still in batches, not one event at a time.
    expect(store.commits).toBeLessThan(events.length / 2);
    const written = await store.readObjects(NODE, ids.map((id) => ({ type: 'layer' as const, id })));
    expect(written.map((object) => (object.properties.abstract as string | undefined)?.length)).toEqual(ids.map(() => 200 * 1024));
  });
});

describe("a job's differences", () => {
  /** An extra the GeoServer holds, with a long name in a long-named store. */
  const extra = (i: number): DriftEntry => ({ type: 'featureType', id: `ws:${'n'.repeat(500)}-${i}`, kind: 'extra', store: `${'s'.repeat(300)}` });

  it("are stored in items within DynamoDB's 400 KB, however long the names of a page's 500 entries", async () => {
    const dynamo = limitCheckingClient<DynamoDBClient>(dynamoProblems);
    const jobs = new DynamoJobStore('node-store', dynamo.client);
    const entries = Array.from({ length: 500 }, (_, i) => extra(i));

    await jobs.putDifferences(NODE, 'job-1', 0, entries);

    expect(dynamo.problems).toEqual([]);
    const puts = dynamo.sent.filter((request) => request.name === 'PutItemCommand');
    expect(puts.length).toBeGreaterThan(1);
    for (const put of puts) expect(dynamoItemBytes(put.input.Item as never)).toBeLessThanOrEqual(DYNAMO_MAX_ITEM_BYTES);
  });

  it('are read back whole and in order from the items they were split into', async () => {
    const items: { key: string; item: Record<string, unknown> }[] = [];
    const dynamo = limitCheckingClient<DynamoDBClient>(dynamoProblems, (name, input) => {
      const item = input.Item as { key: { S: string } } | undefined;
      if (name === 'PutItemCommand' && item) items.push({ key: item.key.S, item });
      if (name === 'QueryCommand') {
        const prefix = (input.ExpressionAttributeValues as { ':prefix': { S: string } })[':prefix'].S;
        // In key order, as DynamoDB answers a query.
        const matching = items.filter(({ key }) => key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        return { Items: matching.map(({ item }) => item) };
      }
      return {};
    });
    const jobs = new DynamoJobStore('node-store', dynamo.client);
    const first = Array.from({ length: 500 }, (_, i) => extra(i));
    const second = Array.from({ length: 3 }, (_, i) => extra(1000 + i));

    await jobs.putDifferences(NODE, 'job-1', 0, first);
    await jobs.putDifferences(NODE, 'job-1', 1, second);

    expect(dynamo.problems).toEqual([]);
    expect(await jobs.readDifferences(NODE, 'job-1')).toEqual([...first, ...second]);
  });

  it("ignore the continuation items of an attempt that died before the chunk's first item", async () => {
    const items = new Map<string, Record<string, unknown>>();
    let failFirstItem = true;
    const dynamo = limitCheckingClient<DynamoDBClient>(dynamoProblems, (name, input) => {
      const item = input.Item as { key: { S: string } } | undefined;
      if (name === 'PutItemCommand' && item) {
        if (failFirstItem && item.key.S.endsWith('/diff/000000')) throw new Error('the function timed out');
        items.set(item.key.S, item);
      }
      if (name === 'QueryCommand') return { Items: [...items.keys()].sort().map((key) => items.get(key)) };
      return {};
    });
    const jobs = new DynamoJobStore('node-store', dynamo.client);
    await expect(jobs.putDifferences(NODE, 'job-1', 0, Array.from({ length: 500 }, (_, i) => extra(i)))).rejects.toThrow('timed out');
    failFirstItem = false;
    // The step runs again; the GeoServer now holds fewer extras, which fit one item.
    const again = [extra(7), extra(8)];
    await jobs.putDifferences(NODE, 'job-1', 0, again);

    expect(await jobs.readDifferences(NODE, 'job-1')).toEqual(again);
  });

  it('refuses, naming the entry, one difference too large for any item, and writes nothing', async () => {
    const dynamo = limitCheckingClient<DynamoDBClient>(dynamoProblems);
    const jobs = new DynamoJobStore('node-store', dynamo.client);
    const huge: DriftEntry = { type: 'layerGroup', id: 'ws:outer', kind: 'extra', holds: Array.from({ length: 5000 }, (_, i) => `ws:${'g'.repeat(100)}-${i}`) };

    await expect(jobs.putDifferences(NODE, 'job-1', 0, [extra(1), huge])).rejects.toThrow(/layerGroup ws:outer.*400 KB/);
    expect(dynamo.sent).toEqual([]);
  });
});

describe('a job record', () => {
  /** A fake table answering GetItem, TransactGetItems, Query and the puts of transactions and PutItem, for reading back what was saved. */
  function table() {
    const items = new Map<string, Record<string, unknown>>();
    const put = (item: Record<string, unknown>) => items.set((item.key as { S: string }).S, item);
    const dynamo = limitCheckingClient<DynamoDBClient>(dynamoProblems, (name, input) => {
      if (name === 'PutItemCommand') put(input.Item as Record<string, unknown>);
      if (name === 'TransactWriteItemsCommand') {
        for (const action of input.TransactItems as { Put?: { Item: Record<string, unknown> } }[]) if (action.Put) put(action.Put.Item);
      }
      if (name === 'GetItemCommand') {
        const key = (input.Key as { key: { S: string } }).key.S;
        // The node's job lock: held by the job these tests save.
        return { Item: key === JOB_LOCK_KEY ? { key: { S: key }, active: { S: 'job-big' } } : items.get(key) };
      }
      if (name === 'TransactGetItemsCommand') {
        const gets = input.TransactItems as { Get: { Key: { key: { S: string } } } }[];
        return { Responses: gets.map(({ Get }) => ({ Item: items.get(Get.Key.key.S) })) };
      }
      if (name === 'TransactGetItemsCommand') {
        const gets = input.TransactItems as { Get: { Key: { key: { S: string } } } }[];
        return { Responses: gets.map(({ Get }) => ({ Item: items.get(Get.Key.key.S) })) };
      }
      if (name === 'QueryCommand') {
        const prefix = (input.ExpressionAttributeValues as { ':prefix': { S: string } })[':prefix'].S;
        return { Items: [...items.keys()].filter((key) => key.startsWith(prefix)).sort().map((key) => items.get(key)) };
      }
      return {};
    });
    return { dynamo, items, jobs: new DynamoJobStore('node-store', dynamo.client) };
  }
  /** A capture whose fix published again thousands of long-named layer groups and kept hundreds of long-named stores. */
  function bigCapture(): Job {
    const at = new Date().toISOString();
    return {
      ...newJob({ id: 'job-big', node: NODE, kind: 'capture', requestedBy: NODE, hasGeoServer: true, now: new Date(at) }),
      state: 'running',
      phase: 'fix',
      checkpoint: {
        index: 3000,
        regrouped: Array.from({ length: 3000 }, (_, i) => `ws:${'g'.repeat(500)}-${i}`),
        // Characters of 2, 3 and 4 bytes of UTF-8, which no split of the record may cut.
        keptStores: Array.from({ length: 500 }, (_, i) => `ws:${'é地🗺s'.repeat(50)}-${i}`),
      },
    };
  }

  it("is saved within DynamoDB's 400 KB item however many long ids its checkpoint lists, and read back whole", async () => {
    const { dynamo, jobs } = table();
    const job = bigCapture();
    expect(Buffer.byteLength(JSON.stringify(job))).toBeGreaterThan(DYNAMO_MAX_ITEM_BYTES);

    expect(await jobs.start({ ...job, state: 'queued', checkpoint: {} }, new Date())).toEqual({ started: true });
    expect(await jobs.save(job)).toBe('saved');

    expect(dynamo.problems).toEqual([]);
    expect(await jobs.read(NODE, job.id)).toEqual(job);
    // Its final save too, which releases the node.
    const done: Job = { ...job, state: 'succeeded', phase: 'done', finishedAt: job.updatedAt };
    expect(await jobs.save(done)).toBe('saved');
    expect(dynamo.problems).toEqual([]);
    expect(await jobs.read(NODE, job.id)).toEqual(done);
  });

  it('reads only the parts its latest save counts, not those a larger earlier save left', async () => {
    const { jobs } = table();
    const job = bigCapture();
    await jobs.start({ ...job, state: 'queued', checkpoint: {} }, new Date());
    await jobs.save(job);
    const smaller: Job = { ...job, checkpoint: { index: 1 } };
    await jobs.save(smaller);
    expect(await jobs.read(NODE, job.id)).toEqual(smaller);
  });

  it('too large for one transaction, is refused naming the job and the limit, and a final save of it still ends the job', async () => {
    const { dynamo, jobs } = table();
    const job = bigCapture();
    await jobs.start({ ...job, state: 'queued', checkpoint: {} }, new Date());
    const huge: Job = { ...job, checkpoint: { ...job.checkpoint, regrouped: Array.from({ length: 8000 }, (_, i) => `ws:${'g'.repeat(500)}-${i}`) } };

    await expect(jobs.save(huge)).rejects.toThrow(/job job-big of node slave-1 .* bytes .* 4 MB/);
    expect(dynamo.problems).toEqual([]);
    expect(await jobs.read(NODE, job.id)).toEqual({ ...job, state: 'queued', checkpoint: {} });
    // The slice's failure is then saved: the job ends, its error kept, its checkpoint (read by no slice of an ended job) left out.
    const failed: Job = { ...huge, state: 'failed', finishedAt: huge.updatedAt, error: 'too large' };
    expect(await jobs.save(failed)).toBe('saved');
    expect(await jobs.read(NODE, job.id)).toMatchObject({ state: 'failed', error: 'too large', checkpoint: {} });
    expect(dynamo.problems).toEqual([]);
  });
});

describe('the SNS FIFO topic', () => {
  it('sends change sets in batches within PublishBatch limits, with ids SNS accepts', async () => {
    const sns = limitCheckingClient<SNSClient>(snsProblems);
    const topic = new SnsEventTopic(snsWith(sns.client), 'arn:aws:sns:eu-west-1:123456789012:c.fifo');
    // 25 events of about 100 KB, with origins and ids at their longest.
    const events = Array.from(
      { length: 25 },
      (_, i): PublishedEvent =>
        ({
          cluster: 'c'.repeat(20),
          origin: 'o'.repeat(31),
          sequence: Number.MAX_SAFE_INTEGER - 25 + i,
          publishedAt: '2026-01-01T00:00:00.000Z',
          kind: 'add',
          object: { type: 'style', id: `ws:${'s'.repeat(500)}` },
          properties: { body: 'x'.repeat(100 * 1024) },
        }) as PublishedEvent,
    );

    await topic.publishBatch(events);
    await topic.publish(events[0]!);

    expect(sns.problems).toEqual([]);
    expect(sns.sent.length).toBeGreaterThan(3);
  });
});
