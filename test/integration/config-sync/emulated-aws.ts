/**
 * The AWS resources of configuration sync, created with the SDK on freshly started emulators
 * (DynamoDB Local and fauxqs, in memory, on free ports): the event log and node store tables,
 * the FIFO topic, one FIFO queue with its dead-letter queue per consuming node (raw delivery,
 * filter policy dropping the node's own events), and the body bucket.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { QueuePair } from '../../../lambdas/config-sync/adapters/sqs-queues';
import { nodeQueueNames } from '../../../lambdas/shared/cluster-model';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localAwsEnvironment, startEmulators, type RunningEmulators } from '../../../local/emulators';

export interface EmulatedAws {
  readonly emulators: RunningEmulators;
  readonly dynamo: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly s3: S3Client;
  readonly eventLogTable: string;
  readonly nodeStoreTable: string;
  readonly topicArn: string;
  readonly bucket: string;
  readonly queues: Record<string, QueuePair>;
  /** The environment the CDK construct gives every config-sync function, pointed at the emulators. */
  environment(cluster: string, nodes: Record<string, string>): Record<string, string>;
  stop(): Promise<void>;
}

export async function startEmulatedAws(options: { cluster: string; consumers: readonly string[] }): Promise<EmulatedAws> {
  const emulators = await startEmulators({ dynamoPort: 0, fauxqsPort: 0 });
  const config = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const dynamo = new DynamoDBClient({ ...config, endpoint: emulators.dynamoEndpoint });
  const sqs = new SQSClient({ ...config, endpoint: emulators.awsEndpoint });
  const sns = new SNSClient({ ...config, endpoint: emulators.awsEndpoint });
  const s3 = new S3Client({ ...config, endpoint: emulators.awsEndpoint, forcePathStyle: true });

  const eventLogTable = `${options.cluster}-event-log`;
  const nodeStoreTable = `${options.cluster}-node-store`;
  await dynamo.send(
    new CreateTableCommand({
      TableName: eventLogTable,
      AttributeDefinitions: [
        { AttributeName: 'cluster', AttributeType: 'S' },
        { AttributeName: 'sequence', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'cluster', KeyType: 'HASH' },
        { AttributeName: 'sequence', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await dynamo.send(
    new CreateTableCommand({
      TableName: nodeStoreTable,
      AttributeDefinitions: [
        { AttributeName: 'node', AttributeType: 'S' },
        { AttributeName: 'key', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'node', KeyType: 'HASH' },
        { AttributeName: 'key', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );

  const { TopicArn: topicArn } = await sns.send(
    new CreateTopicCommand({ Name: `${options.cluster}-config-changes.fifo`, Attributes: { FifoTopic: 'true' } }),
  );
  if (!topicArn) throw new Error('no topic ARN');

  const queues: Record<string, QueuePair> = {};
  for (const node of options.consumers) {
    const names = nodeQueueNames(options.cluster, node);
    const deadLetterQueueUrl = await createQueue(sqs, names.deadLetterQueue, {});
    const deadLetterArn = await queueArn(sqs, deadLetterQueueUrl);
    const queueUrl = await createQueue(sqs, names.queue, {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: 3 }),
    });
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: await queueArn(sqs, queueUrl),
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
    queues[node] = { queueUrl, deadLetterQueueUrl };
  }

  const bucket = `${options.cluster}-bodies`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));

  return {
    emulators,
    dynamo,
    sqs,
    sns,
    s3,
    eventLogTable,
    nodeStoreTable,
    topicArn,
    bucket,
    queues,
    environment: (cluster, nodes) => ({
      CLUSTER_NAME: cluster,
      CLUSTER_NODES: JSON.stringify(nodes),
      EVENT_LOG_TABLE_NAME: eventLogTable,
      NODE_STORE_TABLE_NAME: nodeStoreTable,
      CONFIG_TOPIC_ARN: topicArn,
      EVENT_BODY_BUCKET_NAME: bucket,
      // What the functions derive each node's queue URLs from (the emulator's URLs share it).
      QUEUE_URL_PREFIX: queueUrlPrefix(queues),
      ...localAwsEnvironment(emulators),
    }),
    async stop() {
      for (const client of [dynamo, sqs, sns, s3]) client.destroy();
      await emulators.stop();
    },
  };
}

async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  const { QueueUrl: url } = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false', VisibilityTimeout: '5', ...attributes },
    }),
  );
  if (!url) throw new Error(`no URL for queue ${name}`);
  return url;
}

/** The one prefix of every queue URL (the emulator's), which the functions add names to. */
function queueUrlPrefix(queues: Record<string, QueuePair>): string {
  const prefixes = new Set(
    Object.values(queues).flatMap((pair) => [pair.queueUrl, pair.deadLetterQueueUrl]).map((url) => url.slice(0, url.lastIndexOf('/') + 1)),
  );
  if (prefixes.size !== 1) throw new Error(`The emulator's queue URLs have ${prefixes.size} prefixes: ${[...prefixes].join(', ')}`);
  return [...prefixes][0]!;
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`no ARN for ${queueUrl}`);
  return arn;
}

/** A DynamoDB client of its own on the emulators that records the name of every command it sends (`GetItem`, ...). */
export function countedDynamoClient(aws: EmulatedAws): { client: DynamoDBClient; calls: string[] } {
  const client = new DynamoDBClient({ endpoint: aws.emulators.dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const calls: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(String(context.commandName).replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize' },
  );
  return { client, calls };
}

/**
 * Receives (and deletes) messages from a queue until `expected` arrived or 15 s passed, as the
 * event source does once a batch succeeded: a FIFO group stays locked while any of its
 * messages is in flight.
 */
export async function receiveAll(sqs: SQSClient, queueUrl: string, expected: number): Promise<Message[]> {
  const messages: Message[] = [];
  const deadline = Date.now() + 15_000;
  while (messages.length < expected && Date.now() < deadline) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    messages.push(...Messages);
    for (const message of Messages) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
  return messages;
}
