/**
 * The SNS FIFO topic: one message per event, the event's JSON as the body (queues subscribe
 * with raw delivery), in the cluster's single message group, deduplicated by sequence, and
 * with the `origin` attribute (the publishing node, which a failed delivery's log names). Sent with the SDK's
 * SNS client and its own retry strategy; a retried Publish is harmless, the deduplication id
 * makes SNS drop the copy. A change set goes out with `PublishBatch` (10 messages per call, the
 * API's limit), the calls one after the other: within one message group SNS FIFO keeps the
 * order of the calls and of the entries of each.
 *
 * The client is deferred (deferred-sdk.ts): functions that rarely publish load it on the first
 * publish.
 */
import type { PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import { ORIGIN_ATTRIBUTE, RANGE_LAST_ATTRIBUTE } from '../cluster';
import { deduplicationId, messageGroupId, type PublishedEvent } from '../events';
import type { EventTopic } from '../ports';
import type { Sns } from './deferred-sdk';

export class SnsEventTopic implements EventTopic {
  constructor(
    private readonly sns: Sns,
    private readonly topicArn: string,
  ) {}

  async publish(event: PublishedEvent): Promise<void> {
    const { sdk, client } = this.sns.connect();
    await client.send(new sdk.PublishCommand({ TopicArn: this.topicArn, ...topicMessage(event) }));
  }

  async publishBatch(events: readonly PublishedEvent[]): Promise<void> {
    const { sdk, client } = this.sns.connect();
    const rangeLast = events.length > 1 ? events[events.length - 1]?.sequence : undefined;
    for (const batch of batches(events)) {
      if (batch.length === 1) {
        await client.send(new sdk.PublishCommand({ TopicArn: this.topicArn, ...topicMessage(batch[0] as PublishedEvent, rangeLast) }));
        continue;
      }
      const entries: PublishBatchRequestEntry[] = batch.map((event, index) => ({ Id: String(index), ...topicMessage(event, rangeLast) }));
      const result = await client.send(new sdk.PublishBatchCommand({ TopicArn: this.topicArn, PublishBatchRequestEntries: entries }));
      const failed = result.Failed ?? [];
      if (failed.length > 0) {
        const first = failed[0];
        const event = batch[Number(first?.Id)];
        throw new Error(
          `SNS refused ${failed.length} of ${batch.length} events (first: sequence ${event?.sequence}: ${first?.Code} ${first?.Message ?? ''})`,
        );
      }
    }
  }
}

/** SNS's limits of a `PublishBatch`: 10 entries, 256 KiB of messages and attributes in all. */
export const PUBLISH_BATCH_SIZE = 10;
const PUBLISH_BATCH_BYTES = 256 * 1024;
/** The attribute and ids of one entry, generously. */
const ENTRY_OVERHEAD_BYTES = 512;

/** Consecutive runs of at most 10 events and 256 KiB (an event alone is at most 240 KiB inline). */
function batches(events: readonly PublishedEvent[]): PublishedEvent[][] {
  const result: PublishedEvent[][] = [];
  let current: PublishedEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = Buffer.byteLength(JSON.stringify(event), 'utf8') + ENTRY_OVERHEAD_BYTES;
    if (current.length === PUBLISH_BATCH_SIZE || (current.length > 0 && bytes + size > PUBLISH_BATCH_BYTES)) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(event);
    bytes += size;
  }
  if (current.length > 0) result.push(current);
  return result;
}

/**
 * One event's message; `rangeLast` (a change set's last sequence) as an attribute when given. The
 * queues subscribe with raw delivery, so each gets `Message` as its body and these attributes:
 * the catch-up nudge (../catch-up-nudge.ts) sends the same to a node's queue.
 */
export function topicMessage(event: PublishedEvent, rangeLast?: number) {
  return {
    Message: JSON.stringify(event),
    MessageGroupId: messageGroupId(event.cluster),
    MessageDeduplicationId: deduplicationId(event),
    MessageAttributes: {
      [ORIGIN_ATTRIBUTE]: { DataType: 'String', StringValue: event.origin },
      ...(rangeLast === undefined ? {} : { [RANGE_LAST_ATTRIBUTE]: { DataType: 'Number', StringValue: String(rangeLast) } }),
    },
  };
}
