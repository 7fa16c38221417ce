/**
 * The template's messaging on the emulator: SNS topics, SQS queues (with their dead-letter
 * queues), subscriptions with raw delivery (and filter policies, when a template declares one), S3 buckets, and one poller per
 * queue event source that drives its function the way the Lambda SQS event source does
 * (batches, ReportBatchItemFailures, FIFO groups blocked behind a failed message).
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateTopicCommand,
  GetSubscriptionAttributesCommand,
  ListSubscriptionsByTopicCommand,
  SetSubscriptionAttributesCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import { LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, LOCAL_REGION } from './account';
import { withoutSdkLogging } from '../lambdas/shared/sdk-client';
import type { RunningEmulators } from './emulators';
import { localQueueUrl } from './fauxqs';
import type { AdminHandler } from './api-server';
import type { LocalFunctionHost } from './lambda-runner';
import type { LocalQueue, LocalQueueSource, LocalTopology } from './template';

export interface RunningMessaging {
  /** Starts a poller per event source mapping, those in `disabled` (mapping ids) stopped, as an event source mapping disabled before a restart stays so. */
  start(hosts: Map<string, LocalFunctionHost>, disabled?: ReadonlySet<string>): Promise<void>;
  stop(): Promise<void>;
  admin: AdminHandler;
  /** The queue pollers by event source mapping UUID (locally, the mapping's logical id). */
  pollersByMapping(): ReadonlyMap<string, QueuePoller>;
}

/**
 * Lambda leaves a failed message alone: it returns when its visibility timeout ends, the
 * queue's or the one the function set (ChangeMessageVisibility, e.g. the apply function's
 * backoff while a GeoServer is down). Locally a failed message whose visibility the function
 * did not change retries after this instead of the queue's timeout (minutes), so a retry is
 * seen at once; one the function changed keeps the function's.
 */
const LOCAL_RETRY_DELAY_SECONDS = 1;
/** A deadline further than this from the one the receive set was set by the function. */
const DEADLINE_TOLERANCE_MS = 2000;

export async function provisionMessaging(topology: LocalTopology, emulators: RunningEmulators): Promise<RunningMessaging> {
  const clientConfig = { endpoint: emulators.awsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  // Without the SDK's logger middleware, as the functions' clients (lambdas/shared/sdk-client.ts):
  // the pollers stand in for Lambda's, which cost the functions nothing in AWS.
  const sqs = withoutSdkLogging(new SQSClient(clientConfig));
  const sns = withoutSdkLogging(new SNSClient(clientConfig));
  const s3 = withoutSdkLogging(new S3Client({ ...clientConfig, forcePathStyle: true }));

  for (const bucket of topology.buckets) {
    await s3.send(new CreateBucketCommand({ Bucket: bucket.bucketName })).catch((error: { name?: string }) => {
      if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
    });
  }

  const queueUrls = new Map<string, string>();
  const queueArn = (queue: LocalQueue) => `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${queue.queueName}`;
  // Dead-letter queues first: a queue's redrive policy names its DLQ's ARN.
  const ordered = [...topology.queues].sort((a, b) => Number(Boolean(a.deadLetterQueueId)) - Number(Boolean(b.deadLetterQueueId)));
  for (const queue of ordered) {
    const attributes: Record<string, string> = { ...queue.attributes };
    const dlq = queue.deadLetterQueueId ? topology.queues.find((q) => q.logicalId === queue.deadLetterQueueId) : undefined;
    if (dlq) attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: queueArn(dlq), maxReceiveCount: queue.maxReceiveCount ?? 3 });
    await sqs.send(new CreateQueueCommand({ QueueName: queue.queueName, Attributes: attributes }));
    // Not the URL the emulator answers, whose host does not resolve (./fauxqs.ts): the pollers
    // read the emulator's inspection endpoint at the URL's origin, and without it took every
    // failed message for one whose visibility the function left alone, so a backoff the
    // function set (a GeoServer node's, while its GeoServer is down) was cut to a second.
    queueUrls.set(queue.logicalId, localQueueUrl(emulators.awsEndpoint, queue.queueName));
  }

  for (const topic of topology.topics) {
    const { TopicArn } = await sns.send(
      new CreateTopicCommand({
        Name: topic.topicName,
        Attributes: topic.fifo
          ? { FifoTopic: 'true', ContentBasedDeduplication: String(topic.contentBasedDeduplication) }
          : undefined,
      }),
    );
    const existing = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
    for (const subscription of topology.subscriptions.filter((s) => s.topicId === topic.logicalId)) {
      const queue = topology.queues.find((q) => q.logicalId === subscription.queueId);
      if (!queue) continue;
      const endpoint = queueArn(queue);
      const filterPolicy = subscription.filterPolicy === undefined ? undefined : JSON.stringify(subscription.filterPolicy);
      const subscribed = existing.Subscriptions?.find((s) => s.Endpoint === endpoint);
      if (subscribed?.SubscriptionArn !== undefined) {
        // A cluster kept from an earlier `npm start` keeps its subscriptions: their filter
        // follows the template's (an empty value removes one, as the emulator reads it).
        const { Attributes: current = {} } = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscribed.SubscriptionArn }));
        if ((current.FilterPolicy ?? '') !== (filterPolicy ?? '')) {
          await sns.send(
            new SetSubscriptionAttributesCommand({ SubscriptionArn: subscribed.SubscriptionArn, AttributeName: 'FilterPolicy', AttributeValue: filterPolicy ?? '' }),
          );
        }
        continue;
      }
      const attributes: Record<string, string> = { RawMessageDelivery: String(subscription.rawMessageDelivery) };
      if (filterPolicy !== undefined) attributes.FilterPolicy = filterPolicy;
      await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: endpoint, Attributes: attributes }));
    }
  }

  const pollers: QueuePoller[] = [];
  return {
    async start(hosts, disabled = new Set()) {
      for (const source of topology.queueSources) {
        const host = hosts.get(source.functionId);
        const url = queueUrls.get(source.queueId);
        if (!host || !url) continue;
        const poller = new QueuePoller(sqs, source, url, queueArn(topology.queues.find((q) => q.logicalId === source.queueId)!), host);
        pollers.push(poller);
        if (!disabled.has(poller.mappingId)) poller.start();
      }
    },
    async stop() {
      await Promise.all(pollers.map((poller) => poller.stop()));
    },
    pollersByMapping() {
      return new Map(pollers.map((poller) => [poller.mappingId, poller]));
    },
    async admin({ method, path }) {
      if (method === 'GET' && path === '/pollers') {
        return { status: 200, body: pollers.map((poller) => poller.describe()) };
      }
      // A poller's name holds slashes (`ConfigSync/slave-2/Apply`): taken URL-encoded or as it reads.
      const action = /^\/pollers\/(.+)\/(pause|resume)$/.exec(path);
      if (method === 'POST' && action) {
        let name: string;
        try {
          name = decodeURIComponent(action[1] as string);
        } catch {
          return { status: 400, body: { code: 'INVALID_REQUEST', message: `Queue poller name '${action[1]}' is not valid URL encoding` } };
        }
        const poller = pollers.find((candidate) => candidate.name === name);
        if (!poller) {
          const names = pollers.map((candidate) => candidate.name).join(', ') || 'none';
          return { status: 404, body: { code: 'NOT_FOUND', message: `No queue poller named '${name}' (have: ${names})` } };
        }
        if (action[2] === 'pause') await poller.pause();
        else poller.start();
        return { status: 200, body: poller.describe() };
      }
      if (method === 'GET' && path === '/queues') {
        const depths = await Promise.all(
          [...queueUrls.entries()].map(async ([id, url]) => {
            const { Attributes } = await sqs.send(
              new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
            );
            return { id, url, visible: Number(Attributes?.ApproximateNumberOfMessages ?? 0), inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) };
          }),
        );
        return { status: 200, body: depths };
      }
      return { status: 404, body: { code: 'NOT_FOUND', message: `No local admin endpoint ${method} ${path}` } };
    },
  };
}

/** One Lambda SQS event source mapping: receive a batch, invoke, delete what succeeded. */
export class QueuePoller {
  private running = false;
  private loop: Promise<void> | undefined;
  /** Ends the long poll in flight, so a stop does not wait out its second. */
  private receiving: AbortController | undefined;
  /** The long poll in flight, settled either way. */
  private receiveInFlight: Promise<void> | undefined;
  /** Which start the running loop belongs to: a loop of an earlier one stops after its batch. */
  private generation = 0;
  readonly name: string;
  readonly mappingId: string;
  readonly functionId: string;

  constructor(
    private readonly sqs: SQSClient,
    private readonly source: LocalQueueSource,
    private readonly queueUrl: string,
    private readonly queueArn: string,
    private readonly host: LocalFunctionHost,
  ) {
    this.name = host.fn.name;
    this.mappingId = source.logicalId;
    this.functionId = source.functionId;
  }

  get isRunning(): boolean {
    return this.running;
  }

  describe() {
    return { name: this.name, mappingId: this.mappingId, queueUrl: this.queueUrl, running: this.running };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const generation = ++this.generation;
    const previous = this.loop;
    // A loop still delivering the batch it received before a disable ends first: one poll at a
    // time, as a FIFO queue's order needs.
    this.loop = (async () => {
      await previous;
      await this.run(generation);
    })();
  }

  async pause(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /**
   * What disabling an event source mapping does (UpdateEventSourceMapping, `Enabled: false`,
   * answered "Disabling" at once): no receive once this resolves, at most the long poll in flight
   * (a second) waited for, while a batch already received is delivered by the function in its own
   * time, which a pause function with a 10 s timeout must not wait out.
   */
  async disable(): Promise<void> {
    this.running = false;
    await this.receiveInFlight;
  }

  /**
   * A pause lets the long poll in flight finish (what it receives is delivered); a stop, the
   * cluster's end, cuts it short (messages it was receiving come back after their visibility
   * timeout, as after a crash), and stops the function it drives, so that an invocation in
   * flight (up to the function's timeout: two minutes for a GeoServer node's apply while its
   * GeoServer hangs) does not hold Ctrl-C up: its batch is given back as a failed one.
   */
  async stop(): Promise<void> {
    this.receiving?.abort();
    const paused = this.pause();
    await this.host.stop();
    await paused;
  }

  private async run(generation: number): Promise<void> {
    const live = () => this.running && this.generation === generation;
    while (live()) {
      let messages: Message[] = [];
      try {
        this.receiving = new AbortController();
        const receive = this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.queueUrl,
            MaxNumberOfMessages: Math.min(this.source.batchSize, 10),
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: this.receiving.signal },
        );
        this.receiveInFlight = receive.then(
          () => undefined,
          () => undefined,
        );
        messages = (await receive).Messages ?? [];
      } catch (error) {
        if (!live()) return;
        console.error(`poller ${this.name}: receive failed: ${String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      if (messages.length === 0) continue;
      try {
        await this.deliver(messages, Date.now());
      } catch (error) {
        // Deleting or re-timing the batch failed (the emulator did not answer): its messages come
        // back when their visibility ends, as after a failed delete in AWS, and the polling goes on.
        console.error(`poller ${this.name}: settling a batch failed: ${String(error)}`);
        if (live()) await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private async deliver(messages: Message[], receivedAt: number): Promise<void> {
    const event = {
      Records: messages.map((message) => ({
        messageId: message.MessageId,
        receiptHandle: message.ReceiptHandle,
        body: message.Body ?? '',
        attributes: message.Attributes ?? {},
        messageAttributes: Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([key, value]) => [key, lambdaMessageAttribute(value)])),
        md5OfBody: message.MD5OfBody,
        eventSource: 'aws:sqs',
        eventSourceARN: this.queueArn,
        awsRegion: LOCAL_REGION,
      })),
    };
    let failedIds: Set<string>;
    try {
      const result = (await this.host.invoke(event)) as { batchItemFailures?: { itemIdentifier: string }[] } | undefined;
      failedIds = new Set(
        this.source.reportBatchItemFailures ? (result?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier) : [],
      );
    } catch (error) {
      console.error(`poller ${this.name}: ${String(error)}`);
      failedIds = new Set(messages.map((message) => message.MessageId as string));
    }
    const succeeded = messages.filter((message) => !failedIds.has(message.MessageId as string));
    const failed = messages.filter((message) => failedIds.has(message.MessageId as string));
    if (succeeded.length) {
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: succeeded.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle as string })),
        }),
      );
    }
    const unchanged = failed.length ? await this.visibilityUnchanged(failed, receivedAt) : [];
    if (unchanged.length) {
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: unchanged.map((message, i) => ({
            Id: String(i),
            ReceiptHandle: message.ReceiptHandle as string,
            VisibilityTimeout: LOCAL_RETRY_DELAY_SECONDS,
          })),
        }),
      );
    }
  }

  /**
   * The failed messages whose visibility deadline is still the one their receive set (received
   * at `receivedAt`, plus the queue's visibility timeout): the function did not change it. SQS
   * cannot tell; the emulator's inspection endpoint (fauxqs `GET /_fauxqs/queues/<name>`, read
   * only) shows each in-flight message's deadline. If it cannot be read, every failed message
   * counts as unchanged, as before.
   */
  private async visibilityUnchanged(failed: Message[], receivedAt: number): Promise<Message[]> {
    const url = new URL(this.queueUrl);
    const name = url.pathname.split('/').pop() ?? '';
    let inspected: { attributes?: Record<string, string>; messages?: { inflight?: { receiptHandle: string; visibilityDeadline: number }[] } };
    try {
      const response = await fetch(`${url.origin}/_fauxqs/queues/${encodeURIComponent(name)}`);
      if (!response.ok) return failed;
      inspected = (await response.json()) as typeof inspected;
    } catch {
      return failed;
    }
    const timeoutMs = Number(inspected.attributes?.VisibilityTimeout ?? Number.NaN) * 1000;
    if (!Number.isFinite(timeoutMs)) return failed;
    const deadlines = new Map((inspected.messages?.inflight ?? []).map((entry) => [entry.receiptHandle, entry.visibilityDeadline]));
    return failed.filter((message) => {
      const deadline = deadlines.get(message.ReceiptHandle as string);
      return deadline === undefined || Math.abs(deadline - (receivedAt + timeoutMs)) <= DEADLINE_TOLERANCE_MS;
    });
  }
}

/**
 * A message attribute as Lambda's SQS event carries it: the event is JSON, so a Binary
 * attribute's value (bytes from ReceiveMessage) is its base64 text, and a member the attribute
 * lacks is absent rather than undefined.
 */
function lambdaMessageAttribute(value: MessageAttributeValue): Record<string, unknown> {
  return {
    ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
    ...(value.BinaryValue === undefined ? {} : { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }),
    stringListValues: [],
    binaryListValues: [],
    dataType: value.DataType,
  };
}
