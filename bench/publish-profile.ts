/**
 * Where a lone publish's time goes, as the PublishEvent function runs it: the pause checked in
 * the log append, a pure master in a cluster with the master-stores queue (whose consumer
 * applies the master's store and marks the events published after the answer, so the request
 * does neither), a warm instance that knows the log head. The domain code runs in-process against DynamoDB Local and fauxqs (a topic fanned
 * out to three slaves' queues and a fourth standing for the master-stores queue), one request
 * at a time, and every AWS call is placed on the request's timeline: the median of when it
 * started and ended, in ms from the request's start. Calls that overlap run in parallel; the
 * request's time is its longest chain. No HTTP and no function host: the local runtime's share
 * is what the propagation bench's publish p50 adds to this.
 *
 *   npm run bench -- --only publish-profile --profile-requests 60
 */
import { DynamoEventLog } from '../lambdas/config-sync/adapters/dynamo-event-log';
import { DynamoNodePauses } from '../lambdas/config-sync/adapters/dynamo-node-pauses';
import { DynamoNodeStore } from '../lambdas/config-sync/adapters/dynamo-node-store';
import { S3Bucket, S3EventBodyStore, S3ObjectBodies } from '../lambdas/config-sync/adapters/s3-body-store';
import { SnsEventTopic } from '../lambdas/config-sync/adapters/sns-event-topic';
import { snsWith } from '../lambdas/config-sync/adapters/deferred-sdk';
import { publishIdempotently, type PublishDeps } from '../lambdas/config-sync/publish';
import { startEmulatedAws } from '../test/integration/config-sync/emulated-aws';
import { aroundEachCall, median } from './profile';

interface Span {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

/** Adds every call a client makes to `spans` (times from `performance.now()`), named service.Command. */
function recordSpans(client: Parameters<typeof aroundEachCall>[0], service: string, spans: Span[]): void {
  aroundEachCall(client, service, async (name, send) => {
    const start = performance.now();
    try {
      return await send();
    } finally {
      spans.push({ name, start, end: performance.now() });
    }
  });
}

export async function benchPublishProfile(options: { requests: number }): Promise<void> {
  const cluster = 'pubprofile';
  const aws = await startEmulatedAws({ cluster, consumers: ['slave-1', 'slave-2', 'slave-3', 'master-stores'] });
  try {
    const spans: Span[] = [];
    recordSpans(aws.dynamo, 'dynamodb', spans);
    recordSpans(aws.sns, 'sns', spans);
    const bucket = new S3Bucket(aws.s3, aws.bucket);
    const deps: PublishDeps = {
      store: new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo, bodies: new S3ObjectBodies(bucket) }),
      log: new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo, pausesTableName: aws.nodeStoreTable }),
      bodies: new S3EventBodyStore(bucket),
      topic: new SnsEventTopic(snsWith(aws.sns), aws.topicArn),
      now: () => new Date(),
      pauses: new DynamoNodePauses(aws.nodeStoreTable, aws.dynamo),
      // As PublishEvent in a cluster with a pure master: the master-stores queue's consumer
      // applies the master's store and marks the events published, after the answer (not run here).
      masterStoresQueued: true,
    };
    const master = { cluster, node: { name: 'master-1', role: 'master' as const } };
    let counter = 0;
    const change = () => ({ kind: 'add' as const, object: { type: 'workspace' as const, id: `w${counter}` }, properties: { name: `w${counter++}` } });
    // Warm: the clients' connections, the log's knowledge of the head.
    for (let i = 0; i < 3; i++) await publishIdempotently(deps, master, change());

    /** Per request: its calls in start order, times relative to the request's start. */
    const requests: { total: number; calls: Span[] }[] = [];
    for (let i = 0; i < options.requests; i++) {
      spans.length = 0;
      const started = performance.now();
      const outcome = await publishIdempotently(deps, master, change());
      const total = performance.now() - started;
      if (outcome.replayed || !outcome.result.published) {
        throw new Error(`publish ${i}: expected published, got ${JSON.stringify(outcome.answer)}`);
      }
      const calls = [...spans].sort((a, b) => a.start - b.start).map((span) => ({ name: span.name, start: span.start - started, end: span.end - started }));
      requests.push({ total, calls });
    }
    // The usual shape of a request: its sequence of call names (a lost race or a retry changes it).
    const shapes = new Map<string, typeof requests>();
    for (const request of requests) {
      const shape = request.calls.map((call) => call.name).join(' ');
      shapes.set(shape, [...(shapes.get(shape) ?? []), request]);
    }
    const [shape, usual] = [...shapes].sort((a, b) => b[1].length - a[1].length)[0] as [string, typeof requests];
    console.log(`Profile of a lone publish as PublishEvent runs it (in-process on DynamoDB Local + fauxqs, ${options.requests} requests one at a time)`);
    console.log(`  request median ${median(requests.map((request) => request.total)).toFixed(1)} ms; ${usual.length} of ${requests.length} requests made these calls (ms from the request's start, medians):`);
    shape.split(' ').forEach((name, index) => {
      const starts = usual.map((request) => (request.calls[index] as Span).start);
      const ends = usual.map((request) => (request.calls[index] as Span).end);
      const durations = usual.map((request) => (request.calls[index] as Span).end - (request.calls[index] as Span).start);
      console.log(`    ${name.padEnd(34)} ${median(starts).toFixed(1).padStart(6)} -> ${median(ends).toFixed(1).padStart(6)}   (${median(durations).toFixed(1)} ms)`);
    });
    console.log(`    median of the usual shape's requests: ${median(usual.map((request) => request.total)).toFixed(1)} ms`);
    for (const [other, matching] of shapes) {
      if (other !== shape) console.log(`  ${matching.length} request(s) made: ${other}`);
    }
    console.log('');
  } finally {
    await aws.stop();
  }
}
