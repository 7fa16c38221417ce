/**
 * Where the time of the publish and apply paths goes: the domain code run in-process against
 * DynamoDB Local and fauxqs (the emulators the local cluster uses), with every port call timed.
 * No HTTP, no function host: what is left of a request's time beyond these calls is ours (zod,
 * JSON) or the local runtime's.
 *
 *   npm run bench -- --only profile
 */
import { DynamoEventLog } from '../lambdas/config-sync/adapters/dynamo-event-log';
import { DynamoNodeStore } from '../lambdas/config-sync/adapters/dynamo-node-store';
import { S3Bucket, S3EventBodyStore, S3ObjectBodies } from '../lambdas/config-sync/adapters/s3-body-store';
import { SnsEventTopic } from '../lambdas/config-sync/adapters/sns-event-topic';
import { snsWith } from '../lambdas/config-sync/adapters/deferred-sdk';
import { applyDeliveredBatch } from '../lambdas/config-sync/apply';
import { QueueBacklog } from '../lambdas/config-sync/queue-backlog';
import type { EventLog, EventTopic, NodeStore } from '../lambdas/config-sync/ports';
import { publishIdempotently, type PublishDeps } from '../lambdas/config-sync/publish';
import { receiveAll, startEmulatedAws } from '../test/integration/config-sync/emulated-aws';

export type Timings = Map<string, number[]>;

/** The same object, with every method's (async) duration added to `timings` under `label.method`. */
export function timed<T extends object>(target: T, label: string, timings: Timings): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return async (...args: unknown[]) => {
        const started = performance.now();
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(object, args);
        } finally {
          const key = `${label}.${property}`;
          timings.set(key, [...(timings.get(key) ?? []), performance.now() - started]);
        }
      };
    },
  });
}

export const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** AWS calls by service and command, counted by a middleware on each client. */
export type CallCounts = Map<string, number>;

/** Runs `around` on every call a client makes, named `service.Command` (the SDK's command name). */
export function aroundEachCall(
  client: { middlewareStack: { add: (...args: never[]) => void } },
  service: string,
  around: (name: string, send: () => Promise<unknown>) => Promise<unknown>,
): void {
  const add = client.middlewareStack.add as unknown as (
    middleware: (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => Promise<unknown>,
    options: { step: 'initialize' },
  ) => void;
  add((next, context) => (args) => around(`${service}.${String(context.commandName).replace(/Command$/, '')}`, () => next(args)), { step: 'initialize' });
}

export function countCalls(client: { middlewareStack: { add: (...args: never[]) => void } }, service: string, counts: CallCounts): void {
  aroundEachCall(client, service, (name, send) => {
    counts.set(name, (counts.get(name) ?? 0) + 1);
    return send();
  });
}

export function report(title: string, timings: Timings, totals: number[], requests: number, calls: CallCounts): void {
  console.log(`  ${title}: request median ${median(totals).toFixed(1)} ms over ${requests}`);
  for (const [key, values] of [...timings].sort((a, b) => median(b[1]) * b[1].length - median(a[1]) * a[1].length)) {
    console.log(`    ${key.padEnd(32)} ${(values.length / requests).toFixed(1).padStart(5)} calls/request, median ${median(values).toFixed(1).padStart(6)} ms`);
  }
  // What the port calls above cost in AWS calls (a port call may make several, or none).
  const total = [...calls.values()].reduce((sum, count) => sum + count, 0);
  const each = [...calls].sort((a, b) => b[1] - a[1]).map(([key, count]) => `${key} ${(count / requests).toFixed(1)}`);
  console.log(`    AWS calls/request: ${(total / requests).toFixed(1)} (${each.join(', ')})`);
}

export async function benchProfile(options: { requests: number }): Promise<void> {
  const aws = await startEmulatedAws({ cluster: 'profile', consumers: ['slave-1'] });
  // The domain code runs in this process, whose output is the report: the metrics it records
  // (a node's EventsApplied) are not written here, as a function's EMF lines would be.
  const metricsDisabled = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  try {
    const bucket = new S3Bucket(aws.s3, aws.bucket);
    const timings: Timings = new Map();
    const calls: CallCounts = new Map();
    countCalls(aws.dynamo, 'dynamodb', calls);
    countCalls(aws.sns, 'sns', calls);
    const log = timed<EventLog>(new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo }), 'log', timings);
    const store = timed<NodeStore>(new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo, bodies: new S3ObjectBodies(bucket) }), 'store', timings);
    const topic = timed<EventTopic>(new SnsEventTopic(snsWith(aws.sns), aws.topicArn), 'topic', timings);
    const deps: PublishDeps = { store, log, bodies: new S3EventBodyStore(bucket), topic, now: () => new Date() };
    const master = { cluster: 'profile', node: { name: 'master-1', role: 'master' as const } };
    let counter = 0;
    const change = () => ({ kind: 'add' as const, object: { type: 'workspace' as const, id: `p${counter}` }, properties: { name: `p${counter++}` } });

    console.log('Profile of the publish and apply paths (domain code in-process on DynamoDB Local + fauxqs, medians)');
    await publishIdempotently(deps, master, change());
    timings.clear();
    calls.clear();
    const singles: number[] = [];
    for (let i = 0; i < options.requests; i++) {
      const started = performance.now();
      await publishIdempotently(deps, master, change());
      singles.push(performance.now() - started);
    }
    report('publish one change (log append, then topic+mark || own store catch-up)', timings, singles, options.requests, calls);

    timings.clear();
    calls.clear();
    const sets: number[] = [];
    const setRequests = Math.max(3, Math.floor(options.requests / 10));
    for (let i = 0; i < setRequests; i++) {
      const started = performance.now();
      await publishIdempotently(deps, master, { changes: Array.from({ length: 100 }, change) });
      sets.push(performance.now() - started);
    }
    report('publish a change set of 100', timings, sets, setRequests, calls);

    // The apply path: one queue batch of 10 on a slave.
    const queue = aws.queues['slave-1'];
    if (!queue) throw new Error('no queue for slave-1');
    const total = 1 + options.requests + setRequests * 100;
    const messages = (await receiveAll(aws.sqs, queue.queueUrl, total)).map((message) => message.Body as string);
    timings.clear();
    calls.clear();
    const batches: number[] = [];
    // As the apply function does: each batch starts from the cursor the one before left.
    let knownCursor: number | undefined;
    for (let start = 0; start + 10 <= messages.length && batches.length < options.requests; start += 10) {
      const started = performance.now();
      const result = await applyDeliveredBatch({ store, log, bodies: deps.bodies }, { cluster: 'profile', node: 'slave-1' }, messages.slice(start, start + 10), {
        ...(knownCursor === undefined ? {} : { knownCursor }),
      });
      if (result.failure) throw result.failure.error;
      knownCursor = result.cursor;
      batches.push(performance.now() - started);
    }
    report('apply a queue batch of 10 on a slave', timings, batches, batches.length, calls);

    // The usual delivery: one event published, its message applied before the next is published
    // (the log holds nothing beyond it). As in the apply function, the log is read ahead only
    // when the queue shows a backlog: here only for the first delivery, when nothing is known.
    const singleTimings: Timings = new Map();
    const singleCalls: CallCounts = new Map();
    const deliveries: number[] = [];
    const backlog = new QueueBacklog();
    for (let i = 0; i < options.requests; i++) {
      await publishIdempotently(deps, master, change());
      const [message] = await receiveAll(aws.sqs, queue.queueUrl, 1);
      timings.clear();
      calls.clear();
      const started = performance.now();
      const result = await applyDeliveredBatch({ store, log, bodies: deps.bodies }, { cluster: 'profile', node: 'slave-1' }, [message?.Body as string], {
        readAhead: backlog.shownBy([{ attributes: message?.Attributes ?? {} }]),
        ...(knownCursor === undefined ? {} : { knownCursor }),
      });
      backlog.batchEnded();
      if (result.failure) throw result.failure.error;
      knownCursor = result.cursor;
      deliveries.push(performance.now() - started);
      for (const [key, values] of timings) singleTimings.set(key, [...(singleTimings.get(key) ?? []), ...values]);
      for (const [key, count] of calls) singleCalls.set(key, (singleCalls.get(key) ?? 0) + count);
    }
    report('apply one delivered event on a slave (the cursor known from the batch before, no backlog shown)', singleTimings, deliveries, deliveries.length, singleCalls);

    // A burst from four publishers at once, as the propagation bench's (last: its messages are
    // left in the queue): the publish path under contention, where the concurrent requests'
    // own-store catch-ups race for the master's cursor.
    timings.clear();
    calls.clear();
    const burst: number[] = [];
    let remaining = options.requests * 3;
    const burstSize = remaining;
    const burstStarted = performance.now();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (remaining-- > 0) {
          const started = performance.now();
          await publishIdempotently(deps, master, change());
          burst.push(performance.now() - started);
        }
      }),
    );
    const burstSeconds = (performance.now() - burstStarted) / 1000;
    report(`publish a burst of ${burstSize} from 4 publishers at once (${(burstSize / burstSeconds).toFixed(1)} publishes/s)`, timings, burst, burstSize, calls);
    console.log('');
  } finally {
    if (metricsDisabled === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = metricsDisabled;
    await aws.stop();
  }
}
