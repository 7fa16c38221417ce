/**
 * Marks of part of a change set. A change set is stored in chunk items of many events each, and
 * its events are marked published as they are delivered (the master-stores queue's consumer,
 * master-stores.ts `markDelivered`), ten or so at a time: a mark of a set's first events must not
 * make the rest look published, or a publisher that died after its first `PublishBatch` leaves
 * them in the log, written and never published, which the republish schedule never finds.
 */
import { DynamoEventLog } from '../../../lambdas/config-sync/adapters/dynamo-event-log';
import type { EventDraft } from '../../../lambdas/config-sync/ports';
import type { EventTopic } from '../../../lambdas/config-sync/ports';
import type { PublishedEvent } from '../../../lambdas/config-sync/events';
import { republishPending } from '../../../lambdas/config-sync/publish';
import { startEmulatedAws, type EmulatedAws } from './emulated-aws';

jest.setTimeout(120_000);

let aws: EmulatedAws;
let log: DynamoEventLog;

beforeAll(async () => {
  aws = await startEmulatedAws({ cluster: 'marks', consumers: [] });
  log = new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo });
});

afterAll(async () => {
  await aws?.stop();
});

const draft = (cluster: string, id: string): EventDraft => ({
  cluster,
  origin: 'master-1',
  publishedAt: '2025-01-01T00:00:00.000Z',
  kind: 'add',
  object: { type: 'workspace', id },
  properties: { name: id },
});

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A topic that records what it was sent. */
function recordingTopic(): EventTopic & { sent: number[] } {
  const sent: number[] = [];
  return {
    sent,
    async publish(event: PublishedEvent) {
      sent.push(event.sequence);
    },
    async publishBatch(events: readonly PublishedEvent[]) {
      sent.push(...events.map((event) => event.sequence));
    },
  };
}

describe("a mark of a change set's first events", () => {
  it('leaves the rest of the set unpublished when the watermark could move over the marked part', async () => {
    const cluster = 'watermark-moves';
    const set = await log.appendAll(range(1, 30).map((i) => draft(cluster, `ws${i}`)));
    expect(set.map((event) => event.sequence)).toEqual(range(1, 30));
    // The first delivery of the set: its first ten events, marked as the consumer marks them.
    await log.markPublished(cluster, 1, 10);

    expect((await log.listUnpublished(cluster, 100)).map((event) => event.sequence)).toEqual(range(11, 30));
    const topic = recordingTopic();
    expect(await republishPending({ log, topic }, cluster)).toEqual(range(11, 30));
    expect(await log.listUnpublished(cluster, 100)).toEqual([]);
  });

  it('leaves the rest of the set unpublished when an earlier event keeps the watermark back', async () => {
    const cluster = 'watermark-held';
    await log.append(draft(cluster, 'first'));
    await log.appendAll(range(2, 31).map((i) => draft(cluster, `ws${i}`)));
    await log.markPublished(cluster, 2, 11);

    const listed = (await log.listUnpublished(cluster, 100)).map((event) => event.sequence);
    expect(listed).toEqual(expect.arrayContaining([1, ...range(12, 31)]));
    const topic = recordingTopic();
    const sent = await republishPending({ log, topic }, cluster);
    expect(sent).toEqual(expect.arrayContaining([1, ...range(12, 31)]));
    expect(await log.listUnpublished(cluster, 100)).toEqual([]);
  });

  it('marks the whole set once every part of it is marked, in order', async () => {
    const cluster = 'in-order';
    await log.appendAll(range(1, 30).map((i) => draft(cluster, `ws${i}`)));
    await log.markPublished(cluster, 1, 10);
    await log.markPublished(cluster, 11, 20);
    await log.markPublished(cluster, 21, 30);
    expect(await log.listUnpublished(cluster, 100)).toEqual([]);
  });
});
