/**
 * Scheduled (EventBridge, the republish schedule's rate): the gateway's crash window closed on a
 * quiet cluster. A gateway write records its intent with the cluster's write lease and clears it
 * once its changes are in the log (gateway/recovery.ts); the next write publishes what an
 * unfinished one left before its own. When no write comes, this sweep does it: it reads the
 * lease item, and when intents are left and nobody holds the lease, it takes the lease and
 * publishes what the master's GeoServer holds of their objects, reading it with the master
 * node's own credentials (its secret, as the master's apply function does). An upload's intent
 * is recovered by asking for a capture of the master, as the upload itself does (its first slice
 * sent to the master's queue), and kept while the upload may still be landing (recovery.ts). An
 * intent whose holder still runs is left to it. A lease another holder has (a job of the master's,
 * difference after difference, or a write) is marked as wanted and waited for (SWEEP_LEASE_WAIT_MS):
 * the job leaves it to this run after the difference in hand, or to the next run when that one
 * outlasts the wait (gateway/sweep.ts). Nothing is recovered while the master is paused or a
 * resync holds it.
 *
 * A run that finds no intent costs one DynamoDB read. One that leaves intents older than
 * STALE_INTENT_MS (their recovery keeps failing, or a holder kept the lease through the wait
 * again, and every master reconcile leaves its extras meanwhile) logs them as an error and counts
 * them (StaleGatewayIntents, which alarms): nothing gives them up, an operator does
 * (docs/operations.md, "When publishing fails"). One that a pause or a resync kept from trying
 * them counts nothing, and says so in a warning once they are that old.
 */
import type { ScheduledEvent } from 'aws-lambda';
import { describeError, instrumented, logger, metrics, METRIC, MetricUnit } from '../../shared/observability';
import { requireEnv } from '../../shared/env';
import { findNode } from '../cluster';
import { CONFIG_SYNC_ENV } from '../env-names';
import { applyDepsFromEnv, eventTopicFromEnv, gatewayLeaseFromEnv, geoServerFromEnv, jobStoreFromEnv, membershipFromEnv, nodePausesFromEnv, nodeQueuePairFromEnv, sqsFromEnv } from '../adapters/from-env';
import { loadSnsSdk, loadSqsSdk } from '../adapters/deferred-sdk';
import { enqueueJob } from '../adapters/sqs-jobs';
import { uploadCapture } from '../gateway/upload-capture';
import { readerFor, type ChangePublisher, type Upstream } from '../gateway/gateway';
import { recoverIntents, staleIntents } from '../gateway/recovery';
import { sweepGatewayIntents, type SweepResult } from '../gateway/sweep';
import { gatewayWriteRefusal } from '../jobs';
import { styleUsersInStore } from '../gateway/style-users';
import { catalogInStore } from '../gateway/master-catalog';
import { describeIntent, describeRefused, type WriteIntent } from '../gateway/write-lease';
import { LEASE_TTL_MS, RECOVERY_WANTED_MS, STALE_INTENT_MS, SWEEP_LEASE_WAIT_MS } from '../gateway/limits';
import { NodePausedError } from '../pause';
import { publishChange, type PublishDeps } from '../publish';

const membership = membershipFromEnv();
// The gateway's master: this function reads its GeoServer with its credentials and publishes as it.
const master = findNode(membership, requireEnv(CONFIG_SYNC_ENV.nodeName));
const lease = gatewayLeaseFromEnv(membership.cluster);
const pauses = nodePausesFromEnv();
// Most runs find nothing to recover: the SNS client loads on the first publish. A pause taken
// after the run's check refuses its publish in the log append itself (`pauses`, publish.ts).
const deps: PublishDeps = { ...applyDepsFromEnv(), topic: eventTopicFromEnv(loadSnsSdk), now: () => new Date(), pauses };
const rest = geoServerFromEnv();
if (!rest) throw new Error(`${CONFIG_SYNC_ENV.geoserverUrl} must name the gateway master's GeoServer`);
const geoserver = rest;

/** The master's GeoServer, read with the master node's credentials (the adapter adds them). */
const upstream: Upstream = {
  async send(request) {
    const accept = request.headers.accept;
    const answer = await geoserver.send({ method: 'GET', path: request.path, ...(accept ? { accept } : {}) });
    return { status: answer.status, headers: {}, body: Buffer.from(answer.text, 'utf8') };
  },
};
const publisher: ChangePublisher = {
  async publish(change) {
    return (await publishChange(deps, { cluster: membership.cluster, node: master }, change)).event.sequence;
  },
};

const jobs = jobStoreFromEnv();
// Only a run recovering an upload's intent starts a capture: the SQS client loads then.
const sqs = sqsFromEnv(loadSqsSdk);
const captureUpload = uploadCapture({
  store: deps.store,
  jobs,
  master: master.name,
  enqueue: (job) => enqueueJob(sqs, jobs, nodeQueuePairFromEnv(membership.cluster, master.name).queueUrl, membership.cluster, job),
  requestedBy: 'gateway sweep',
});

export type { SweepResult } from '../gateway/sweep';

const styleUsers = styleUsersInStore(deps.store, master.name);
const catalog = catalogInStore(deps.store, master.name);

/**
 * Reports the intents a run left that are older than STALE_INTENT_MS: their recovery keeps
 * failing (or the lease keeps being held through the run's wait, which the mark bounds to a few
 * minutes), and nothing gives them up. Counted on every run that finds intents (0 too), so the
 * alarm clears once they are gone, but those a pause or a resync of the master keeps from trying
 * them, which count nothing (gateway/sweep.ts).
 */
function reportStale(stale: readonly WriteIntent[], held: boolean): void {
  metrics.addMetric(METRIC.staleGatewayIntents, MetricUnit.Count, stale.length);
  if (stale.length === 0) return;
  logger.error(
    `gateway sweep: gateway writes left unpublished for more than ${STALE_INTENT_MS / 60_000} minutes; their recovery keeps failing` +
      (held ? ' (this run found the write lease held through its wait, and left the mark that has the master\'s jobs leave it to the next run)' : '') +
      '; every master reconcile leaves its extras until they are gone. ' +
      'Fix what fails (see the errors of earlier runs), or publish the change another way (a capture of the master) and clear the intent (docs/operations.md, "When publishing fails")',
    { intents: stale.map((intent) => ({ owner: intent.owner, ...describeIntent(intent) })) },
  );
}

export const handler = instrumented(async (_event: Partial<Pick<ScheduledEvent, 'time'>>): Promise<SweepResult> => {
  const outcome = await sweepGatewayIntents({
    pending: () => lease.pending(),
    lease,
    wantRecovery: (until) => lease.wantRecovery(until),
    wantedMs: RECOVERY_WANTED_MS,
    recover: (pending) =>
      recoverIntents({ read: readerFor(upstream), stored: (refs) => deps.store.readObjects(master.name, refs), styleUsers, catalog, publisher, captureUpload }, pending),
    // A paused master publishes nothing; a resync holding it has half-copied its store, which
    // recovery compares the master with.
    refusal: async () => {
      const paused = await pauses.read(master.name);
      return paused ? new NodePausedError(master.name, paused) : gatewayWriteRefusal({ store: deps.store, jobs }, master.name, new Date());
    },
    waitMs: SWEEP_LEASE_WAIT_MS,
    ttlMs: LEASE_TTL_MS,
    onReleaseFailure: (error) => logger.error('gateway sweep: write lease not released; it ends at its expiry', { error: describeError(error) }),
  });
  const { result, intents, recovered, failure } = outcome;
  if (intents.length === 0) return result;
  if (outcome.stale !== undefined) reportStale(outcome.stale, result.skipped === 'held');
  if (result.skipped === 'held') {
    if (outcome.wantedUntil !== undefined) {
      logger.info('gateway sweep: another holder kept the write lease through the wait; the master\'s jobs leave it to the next run', {
        wantedUntil: new Date(outcome.wantedUntil).toISOString(),
        intents: intents.map(describeIntent),
      });
    }
    return result;
  }
  if (outcome.stale === undefined) {
    // Not tried: not counted. Said, when some have waited past STALE_INTENT_MS, so a long wait is seen.
    const waiting = staleIntents(intents, Date.now());
    const why =
      outcome.heldBy instanceof NodePausedError
        ? `${outcome.heldBy.message}; they are recovered once it is resumed`
        : `a resync holds the master (${outcome.heldBy?.message}); they are recovered once it has finished`;
    if (waiting.length > 0) {
      logger.warn(`gateway sweep: gateway writes unpublished for more than ${STALE_INTENT_MS / 60_000} minutes were not tried: ${why}; not counted in StaleGatewayIntents`, {
        intents: waiting.map((intent) => ({ owner: intent.owner, ...describeIntent(intent) })),
      });
    }
    return result;
  }
  if (recovered.refused.length > 0) {
    logger.error('gateway sweep: unpublished gateway writes hold what the cluster refuses; given up, the master differs from the other nodes there', {
      refused: describeRefused(recovered.refused),
    });
  }
  if (failure) {
    logger.error('gateway sweep: unpublished gateway writes could not be recovered; the next run tries again', {
      error: describeError(failure),
      intents: intents.map(describeIntent),
    });
  } else {
    logger.info('gateway sweep: unpublished gateway writes recovered', {
      recovered: result.recovered,
      sequences: result.sequences,
      ...(recovered.captures.length > 0 ? { captures: recovered.captures } : {}),
      intents: intents.map(describeIntent),
    });
  }
  return result;
});
