/**
 * Scheduled (EventBridge): the recovery half of the publish path.
 * 1. Publishes, in order, the events the log holds but the topic never accepted (a publish
 *    that failed after the log append). SNS FIFO drops a resend within 5 minutes by its
 *    deduplication id; later, appliers drop it as an old sequence.
 * 2. Brings every pure master's store up to the log head. A pure master's store gets its own
 *    events on publish (when nothing concurrent holds them up) and everything else from the
 *    master-stores queue's consumer (handlers/catch-up-master-stores.ts); this run is the
 *    backstop for what that queue failed to bring.
 */
import type { ScheduledEvent } from 'aws-lambda';
import { describeError, instrumented, logger, metrics, METRIC, MetricUnit } from '../../shared/observability';
import { catchUpMasterStores } from '../master-stores';
import { pureMasters } from '../../shared/cluster-model';
import { applyDepsFromEnv, eventTopicFromEnv, membershipFromEnv, nodePausesFromEnv } from '../adapters/from-env';
import { republishPending } from '../publish';
import { loadSnsSdk } from '../adapters/deferred-sdk';

// Records a metric on every invocation (counts what it republished on every run): the buffer is created at cold start.
metrics.prepare();
const membership = membershipFromEnv();
const applyDeps = applyDepsFromEnv();
// Most runs find nothing unpublished: the SNS client loads on the first republish.
const topic = eventTopicFromEnv(loadSnsSdk);
const pauses = nodePausesFromEnv();
const masters = pureMasters(membership.nodes).map((node) => node.name);

/** Pages of unpublished events per run; what is left waits for the next run. */
const MAX_PAGES = 20;
const PAGE_SIZE = 100;

export interface RepublishResult {
  readonly republished: number;
  /** Pure master -> events applied to its store from the log. */
  readonly caughtUp: Readonly<Record<string, number>>;
  readonly failures: number;
}

export const handler = instrumented(async (event: Partial<Pick<ScheduledEvent, 'time'>>): Promise<RepublishResult> => {
  const now = event.time ? new Date(event.time) : new Date();
  const failures: unknown[] = [];
  let republished = 0;
  try {
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const sent = await republishPending({ log: applyDeps.log, topic }, membership.cluster, PAGE_SIZE);
      republished += sent.length;
      if (sent.length < PAGE_SIZE) break;
    }
  } catch (error) {
    failures.push(error);
    logFailure('republish', membership.cluster, error);
  }
  // To the log head: the backstop of the master-stores queue's catch-up (a paused master
  // consumes nothing, as a paused slave's queue does: it catches up on resume).
  const stores = await catchUpMasterStores({ ...applyDeps, pauses }, membership.cluster, masters);
  const caughtUp = stores.caughtUp;
  for (const failure of stores.failures) {
    failures.push(failure.error);
    logFailure('catch-up', failure.node, failure.error);
  }
  const backlog = await measureBacklog();
  const result = { republished, caughtUp, failures: failures.length, ...(backlog === undefined ? {} : { backlog }) };
  metrics.addMetric(METRIC.eventsRepublished, MetricUnit.Count, republished);
  if (backlog !== undefined) metrics.addMetric(METRIC.republishBacklog, MetricUnit.Count, backlog);
  logger.info('republish finished', { now: now.toISOString(), ...result });
  // A failed run is reported to Lambda (errors metric, alarms); the next run retries.
  if (failures.length > 0) throw failures[0];
  return result;
});

/**
 * Events still unpublished after this run (counted up to one page): the backlog alarm fires
 * when it stays above zero, which a publish in flight at this instant cannot make it do.
 */
async function measureBacklog(): Promise<number | undefined> {
  try {
    return (await applyDeps.log.listUnpublished(membership.cluster, PAGE_SIZE)).length;
  } catch (error) {
    logFailure('backlog measure', membership.cluster, error);
    return undefined;
  }
}

function logFailure(stage: string, subject: string, error: unknown): void {
  logger.error(`${stage} failed`, { subject, error: describeError(error) });
}
