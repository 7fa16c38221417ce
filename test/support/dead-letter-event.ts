/**
 * For tests of the dead letters' listing (API and console) on the integration cluster's emulator:
 * a node's queue and dead-letter queue, and an event's message moved from one to the other as the
 * queue's redrive policy moves one that failed maxReceiveCount times.
 */
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { api } from './cluster-client';

/** An SQS client of the integration cluster's emulator, and `node`'s queue and dead-letter queue there (cluster `geo`). */
export async function nodeQueues(node: string): Promise<{ sqs: SQSClient; queueUrl: string; deadLetterQueueUrl: string }> {
  const queues = await api('GET', '/__local/queues');
  if (queues.status !== 200) throw new Error(`GET /__local/queues answered ${queues.status}`);
  const named = (name: string) => (queues.body as { url: string }[]).find((queue) => queue.url.endsWith(`/${name}`))?.url;
  const queueUrl = named(`geo-${node}.fifo`);
  const deadLetterQueueUrl = named(`geo-${node}-dlq.fifo`);
  if (!queueUrl || !deadLetterQueueUrl) throw new Error(`no queue or dead-letter queue of ${node} in GET /__local/queues`);
  const sqs = new SQSClient({
    endpoint: process.env.CLUSTER_AWS_ENDPOINT,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    useQueueUrlAsEndpoint: false,
  });
  return { sqs, queueUrl, deadLetterQueueUrl };
}

/**
 * Moves an event's message from a node's queue to its dead-letter queue, with the same body,
 * message group and `origin` attribute. The node's consumption must be paused so that its apply
 * function does not take the message first.
 */

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
