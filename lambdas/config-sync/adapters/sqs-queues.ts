/**
 * The consuming nodes' SQS FIFO queues and dead-letter queues: their depths (`GET /nodes`) and
 * the redrive of a node's dead-letter queue (`POST /nodes/{node}/redrive`).
 *
 * Both go through the SDK's SQS client and its own retry strategy.
 */
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { Sqs } from './deferred-sdk';

export interface QueuePair {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
}

export interface QueueDepths {
  /** Messages waiting or in flight in the node's queue. */
  readonly queueDepth: number;
  /** Messages in the node's dead-letter queue. */
  readonly deadLetterDepth: number;
}

export interface RedriveResult {
  readonly moved: number;
  /** True when the dead-letter queue may still hold messages (the time budget ran out). */
  readonly more: boolean;
}

/** Node name -> its queue and dead-letter queue (from `QUEUE_URL_PREFIX`); pure masters have none. */
export type NodeQueueMap = Readonly<Record<string, QueuePair>>;

export function queuesOf(queues: NodeQueueMap, node: string): QueuePair | undefined {
  return Object.hasOwn(queues, node) ? queues[node] : undefined;
}

/** Queue depths through `GetQueueAttributes`. */
export class SqsQueueDepths {
  constructor(
    private readonly queues: NodeQueueMap,
    private readonly sqs: Sqs,
  ) {}

  async depths(node: string): Promise<QueueDepths | undefined> {
    const pair = queuesOf(this.queues, node);
    if (!pair) return undefined;
    const [queueDepth, deadLetterDepth] = await Promise.all([this.depth(pair.queueUrl), this.depth(pair.deadLetterQueueUrl)]);
    return { queueDepth, deadLetterDepth };
  }

  private async depth(queueUrl: string): Promise<number> {
    const { sdk, client } = this.sqs.connect();
    const { Attributes: attributes = {} } = await client.send(
      new sdk.GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return Number(attributes.ApproximateNumberOfMessages ?? 0) + Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
  }
}

/**
 * The message group of a message the apply function set aside in its node's dead-letter queue
 * (no event of the cluster's log: handlers/apply-events.ts), followed by its message id: a group
 * of its own, so a set-aside message held by a receive blocks no other.
 */
export const SET_ASIDE_GROUP_PREFIX = 'set-aside-';

/** Whether a dead-letter message was set aside by the apply function (`SET_ASIDE_GROUP_PREFIX`). */
export function wasSetAside(message: Pick<Message, 'Attributes'>): boolean {
  return message.Attributes?.MessageGroupId?.startsWith(SET_ASIDE_GROUP_PREFIX) === true;
}

/** Dead-letter redrive with the SDK's SQS client. */
export class SqsRedrive {
  constructor(
    private readonly queues: NodeQueueMap,
    private readonly sqs: Sqs,
  ) {}

  hasQueues(node: string): boolean {
    return queuesOf(this.queues, node) !== undefined;
  }

  /**
   * Moves the node's dead-letter messages back to its queue, oldest first: each is sent again
   * with its message group, its attributes (`origin`) and a new deduplication id (the original
   * one is still remembered by the queue for 5 minutes), then deleted from the dead-letter
   * queue. A crash between the two sends a message twice, which the applier ignores as a
   * duplicate sequence. A message the apply function set aside (`wasSetAside`: no event of the
   * cluster's log) stays: back in the queue it would only be set aside again, so a redrive would
   * move it to and fro until its deadline. Received, it is left in flight (the receive's
   * visibility timeout) in its own message group, holding back no other message.
   * @param deadline epoch milliseconds after which no new batch is started
   */
  async redrive(node: string, deadline: number): Promise<RedriveResult> {
    const pair = queuesOf(this.queues, node);
    if (!pair) return { moved: 0, more: false };
    const { sdk, client } = this.sqs.connect();
    let moved = 0;
    let emptyReceives = 0;
    while (Date.now() < deadline) {
      const { Messages: messages = [] } = await client.send(
        new sdk.ReceiveMessageCommand({
          QueueUrl: pair.deadLetterQueueUrl,
          MaxNumberOfMessages: 10,
          // Short polls sample the queue's servers; a second, waiting poll confirms it is empty.
          WaitTimeSeconds: emptyReceives === 0 ? 0 : 1,
          VisibilityTimeout: 60,
          MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId', 'ApproximateReceiveCount'],
          MessageAttributeNames: ['All'],
        }),
      );
      if (messages.length === 0) {
        emptyReceives += 1;
        if (emptyReceives >= 2) return { moved, more: false };
        continue;
      }
      emptyReceives = 0;
      for (const message of messages) {
        if (wasSetAside(message)) continue;
        await client.send(
          new sdk.SendMessageCommand({
            QueueUrl: pair.queueUrl,
            MessageBody: message.Body ?? '',
            MessageGroupId: message.Attributes?.MessageGroupId,
            MessageDeduplicationId: redriveDeduplicationId(message),
            MessageAttributes: sendableAttributes(message.MessageAttributes),
          }),
        );
        await client.send(new sdk.DeleteMessageCommand({ QueueUrl: pair.deadLetterQueueUrl, ReceiptHandle: message.ReceiptHandle }));
        moved += 1;
      }
    }
    return { moved, more: true };
  }
}

/** `<original>-redrive-<receive count>`: distinct per redrive, within SQS's 128 characters. */
export function redriveDeduplicationId(message: Message): string {
  const original = message.Attributes?.MessageDeduplicationId ?? message.MessageId ?? 'message';
  const count = message.Attributes?.ApproximateReceiveCount ?? '0';
  return `${original.slice(0, 100)}-redrive-${count}`;
}

/** Received attributes in the shape SendMessage accepts (string or binary values only). */
function sendableAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
): Record<string, MessageAttributeValue> | undefined {
  if (!attributes) return undefined;
  const sendable: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (value.StringValue !== undefined) sendable[name] = { DataType: value.DataType, StringValue: value.StringValue };
    else if (value.BinaryValue !== undefined) sendable[name] = { DataType: value.DataType, BinaryValue: value.BinaryValue };
  }
  return Object.keys(sendable).length > 0 ? sendable : undefined;
}
