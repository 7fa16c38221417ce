/**
 * SQS event source of the master-stores queue (one per cluster with pure masters, subscribed
 * to every event of the topic): brings every pure master's store up to the highest sequence
 * the batch delivered (master-stores.ts). A pure master's publish request applies its own
 * events only when its store is right before them; this is how its store gets the rest
 * promptly (other masters' events, and its own that a concurrent publish held up).
 *
 * A failed catch-up fails the whole batch: the messages come back and the catch-up runs again
 * from the store's cursor (it only ever applies from the log, in order, exactly once in
 * effect). After the queue's receive limit the messages go to its dead-letter queue, which
 * loses nothing: the republish schedule catches the stores up to the log head every run.
 */
import type { SQSEvent } from 'aws-lambda';
import { describeError, instrumented, logger } from '../../shared/observability';
import { pureMasters } from '../../shared/cluster-model';
import { applyDepsFromEnv, membershipFromEnv, nodePausesFromEnv } from '../adapters/from-env';
import { catchUpMasterStores, highestSequence } from '../master-stores';
import { buildEventSchemas } from '../events';

const membership = membershipFromEnv();
const deps = { ...applyDepsFromEnv(), pauses: nodePausesFromEnv() };
const masters = pureMasters(membership.nodes).map((node) => node.name);
// Every batch applies events read from the log.
buildEventSchemas();

export const handler = instrumented(async (event: SQSEvent): Promise<void> => {
  const toSequence = highestSequence(event.Records.map((record) => record.body));
  const result = await catchUpMasterStores(deps, membership.cluster, masters, toSequence);
  for (const failure of result.failures) {
    logger.error('catch-up of a pure master store failed; the batch is retried', { subject: failure.node, error: describeError(failure.error) });
  }
  const [first] = result.failures;
  if (first) throw first.error;
  logger.debug('pure master stores caught up', { toSequence, caughtUp: result.caughtUp, paused: result.paused });
});
