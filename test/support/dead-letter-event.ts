/**
 * Moves an event's message from a node's queue to its dead-letter queue as the queue's redrive
 * policy moves one that failed maxReceiveCount times: the same body, message group and `origin`
 * attribute. For tests of the dead letters' listing (API and console), on the emulator; the node's
 * consumption must be paused so that its apply function does not take the message first.
 */
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';

/** Returns the message as it was received from the node's queue. */
export async function deadLetterEvent(sqs: SQSClient, queues: { queueUrl: string; deadLetterQueueUrl: string }, sequence: number, deduplicationPrefix: string): Promise<Message> {
  let event: Message | undefined;
  for (let attempt = 0; attempt < 20 && !event; attempt += 1) {
    const { Messages: messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.queueUrl,
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['MessageGroupId'],
      }),
    );
    event = messages[0];
  }
  if (!event) throw new Error(`no message of sequence ${sequence} in ${queues.queueUrl} within 20 receives`);
  const body = JSON.parse(event.Body ?? '') as { sequence?: unknown };
  if (body.sequence !== sequence) throw new Error(`the queue's first message is sequence ${String(body.sequence)}, not ${sequence}`);
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queues.deadLetterQueueUrl,
      MessageBody: event.Body ?? '',
      MessageGroupId: event.Attributes?.MessageGroupId,
      MessageDeduplicationId: `${deduplicationPrefix}-${sequence}`,
      MessageAttributes: { origin: { DataType: 'String', StringValue: event.MessageAttributes?.origin?.StringValue ?? '' } },
    }),
  );
  await sqs.send(new DeleteMessageCommand({ QueueUrl: queues.queueUrl, ReceiptHandle: event.ReceiptHandle }));
  return event;
}
