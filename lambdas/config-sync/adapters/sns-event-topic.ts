/**
 * The SNS FIFO topic: one message per event, the event's JSON as the body (queues subscribe
 * with raw delivery), in the cluster's single message group, deduplicated by sequence, and
 * with the `origin` attribute the subscription filter policies match on. Sent with the SDK's
 * SNS client and its own retry strategy; a retried Publish is harmless, the deduplication id
 * makes SNS drop the copy.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { ORIGIN_ATTRIBUTE } from '../cluster';
import { deduplicationId, messageGroupId, type PublishedEvent } from '../events';
import type { EventTopic } from '../ports';

export class SnsEventTopic implements EventTopic {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(event: PublishedEvent): Promise<void> {
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Message: JSON.stringify(event),
        MessageGroupId: messageGroupId(event.cluster),
        MessageDeduplicationId: deduplicationId(event),
        MessageAttributes: { [ORIGIN_ATTRIBUTE]: { DataType: 'String', StringValue: event.origin } },
      }),
    );
  }
}
