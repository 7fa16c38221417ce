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
import { DynamoNodeStore } from '../../../lambdas/config-sync/adapters/dynamo-node-store';
import { MemoryNodeStore } from '../../../lambdas/config-sync/adapters/memory';
import { SnsEventTopic } from '../../../lambdas/config-sync/adapters/sns-event-topic';
import type { PublishedEvent } from '../../../lambdas/config-sync/events';
import type { BatchCommit, CommitOutcome } from '../../../lambdas/config-sync/ports';
import { dynamoProblems, limitCheckingClient, snsProblems } from '../../support/aws-limits';
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
