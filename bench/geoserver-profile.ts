/**
 * Where a GeoServer node's apply time goes: the apply function's own work (applier, GeoServer
 * REST calls, status record) run in-process against DynamoDB Local, fauxqs and a stand-in
 * GeoServer, with every port call and REST call timed and every AWS call counted. Deliveries
 * are made as the apply function receives them: one message at a time (what the local
 * emulator hands out from a FIFO group) and in batches of 10 (what Lambda hands out in AWS).
 * What is left of a delivery's time beyond these calls is ours (parsing, mapping); what the
 * local runtime adds around an invocation (receive, worker hand-off, delete) is not here.
 *
 *   npm run bench -- --only geoserver-profile
 */
import { DynamoEventLog } from '../lambdas/config-sync/adapters/dynamo-event-log';
import { DynamoGeoServerStatusStore } from '../lambdas/config-sync/adapters/dynamo-geoserver-status';
import { DynamoNodeStore } from '../lambdas/config-sync/adapters/dynamo-node-store';
import { CachedCredentials, HttpGeoServer } from '../lambdas/config-sync/adapters/geoserver-http';
import { S3Bucket, S3EventBodyStore, S3ObjectBodies } from '../lambdas/config-sync/adapters/s3-body-store';
import { SnsEventTopic } from '../lambdas/config-sync/adapters/sns-event-topic';
import { snsWith } from '../lambdas/config-sync/adapters/deferred-sdk';
import { applyDeliveredBatch, type ApplyDeps } from '../lambdas/config-sync/apply';
import { GeoServerInvocation } from '../lambdas/config-sync/geoserver/invocation';
import type { GeoServerRest, GeoServerStatusStore } from '../lambdas/config-sync/geoserver/ports';
import type { EventLog, NodeStore } from '../lambdas/config-sync/ports';
import { publishIdempotently, type PublishDeps } from '../lambdas/config-sync/publish';
import { receiveAll, startEmulatedAws } from '../test/integration/config-sync/emulated-aws';
import { startGeoServerStandIn } from '../test/support/geoserver-standin';
import { geoServerEvents } from './geoserver';
import { countCalls, report, type CallCounts, type Timings, timed } from './profile';

/** REST calls timed under `rest.<METHOD>`. */
function timedRest(rest: GeoServerRest, timings: Timings): GeoServerRest {
  return {
    url: rest.url,
    async send(request) {
      const started = performance.now();
      try {
        return await rest.send(request);
      } finally {
        const key = `rest.${request.method}`;
        timings.set(key, [...(timings.get(key) ?? []), performance.now() - started]);
      }
    },
  };
}

export async function benchGeoServerProfile(options: { events: number }): Promise<void> {
  const aws = await startEmulatedAws({ cluster: 'gsprofile', consumers: ['gs-1', 'gs-2'] });
  const geoservers = [await startGeoServerStandIn(), await startGeoServerStandIn()];
  try {
    const bucket = new S3Bucket(aws.s3, aws.bucket);
    const timings: Timings = new Map();
    const calls: CallCounts = new Map();
    countCalls(aws.dynamo, 'dynamodb', calls);
    const log = timed<EventLog>(new DynamoEventLog({ tableName: aws.eventLogTable, client: aws.dynamo }), 'log', timings);
    const store = timed<NodeStore>(new DynamoNodeStore({ tableName: aws.nodeStoreTable, client: aws.dynamo, bodies: new S3ObjectBodies(bucket) }), 'store', timings);
    const bodies = new S3EventBodyStore(bucket);
    const publishDeps: PublishDeps = { store, log, bodies, topic: new SnsEventTopic(snsWith(aws.sns), aws.topicArn), now: () => new Date() };
    const master = { cluster: 'gsprofile', node: { name: 'master-1', role: 'master' as const } };
    const changes = geoServerEvents(options.events);
    for (const change of changes) await publishIdempotently(publishDeps, master, change);

    console.log(`Profile of a GeoServer node's apply (in-process on DynamoDB Local + fauxqs + a stand-in GeoServer, medians; ${options.events} events each)`);
    const run = async (node: string, geoserverIndex: number, size: number, messages: string[]) => {
      const rest = timedRest(
        new HttpGeoServer({ url: geoservers[geoserverIndex]!.url, credentials: new CachedCredentials(async () => ({ username: 'admin', password: 'geoserver' })) }),
        timings,
      );
      const status = timed<GeoServerStatusStore>(new DynamoGeoServerStatusStore(aws.nodeStoreTable, aws.dynamo), 'status', timings);
      const deps: ApplyDeps = { store, log, bodies, geoserver: { rest } };
      const invocation = new GeoServerInvocation(node, { rest, status });
      const context = { cluster: 'gsprofile', node };
      const totals: number[] = [];
      let knownCursor: number | undefined;
      // Warm: the status record and the version read of a first invocation are not the steady state.
      const warm = await applyDeliveredBatch(deps, context, messages.slice(0, size));
      if (warm.failure) throw warm.failure.error;
      await invocation.after(warm);
      knownCursor = warm.cursor;
      timings.clear();
      calls.clear();
      for (let start = size; start < messages.length; start += size) {
        const started = performance.now();
        const result = await applyDeliveredBatch(deps, context, messages.slice(start, start + size), knownCursor === undefined ? {} : { knownCursor });
        if (result.failure) throw result.failure.error;
        knownCursor = result.cursor;
        await invocation.after(result);
        totals.push(performance.now() - started);
      }
      report(`deliveries of ${size} message${size === 1 ? '' : 's'} (the handler's applier and status record)`, timings, totals, totals.length, calls);
      const events = messages.length - size;
      const seconds = totals.reduce((sum, value) => sum + value, 0) / 1000;
      console.log(`    ${(events / seconds).toFixed(1)} events/s over ${events} events`);
    };
    for (const [index, node] of ['gs-1', 'gs-2'].entries()) {
      const queue = aws.queues[node];
      if (!queue) throw new Error(`no queue for ${node}`);
      const messages = (await receiveAll(aws.sqs, queue.queueUrl, changes.length)).map((message) => message.Body as string);
      if (index === 0) await run(node, 0, 1, messages);
      else await run(node, 1, 10, messages);
    }
    console.log('');
  } finally {
    for (const geoserver of geoservers) await geoserver.close();
    await aws.stop();
  }
}
