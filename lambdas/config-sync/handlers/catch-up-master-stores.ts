/**
 * SQS event source of the master-stores queue (one per cluster with pure masters, subscribed
 * to every event of the topic): brings every pure master's store up to the highest sequence
 * the batch delivered, or the end of a change set it belongs to (master-stores.ts), its own
 * events too: a pure master's publish request leaves its store to this queue and answers sooner.
 * Only the log's events count: a message that is not the log's event at its sequence (not an
 * event, another cluster's, different from the log's, past the log's head) is skipped, logged
 * (`message skipped`, with why) and acknowledged (master-stores.ts `catchUpFromQueue`: a lone
 * change delivered to a store right before it is proved the log's event by a commit that checks
 * the log's item, anything else compared with the log's events, `readDelivered`); retried, it
 * would hold the queue's one message group. The stores get every sequence from the log anyway: a
 * batch with a skipped message catches them up to what the log holds, as the message may have
 * taken the place of a real event's own (one deduplication id).
 *
 * A failed catch-up fails the whole batch: the messages come back and the catch-up runs again
 * from the store's cursor (in sequence order, exactly once in effect: the delivered events are
 * applied from hand only when the store is right before them, the rest from the log). After
 * the queue's receive limit the messages go to its dead-letter queue, which loses nothing: the
 * republish schedule catches the stores up to the log head every run.
 *
 * Alongside, it marks the delivered events published in the log (master-stores.ts
 * `markDelivered`), which publish requests leave to it (after the commit, when that commit is
 * what proved the message the log's event). A mark that fails is logged, not
 * retried with the batch: the republish schedule resends and marks what is left unmarked.
 */
import type { SQSEvent } from 'aws-lambda';
import { describeError, instrumented, logger } from '../../shared/observability';
import { pureMasters } from '../../shared/cluster-model';
import { applyDepsFromEnv, membershipFromEnv, nodePausesFromEnv } from '../adapters/from-env';
import { catchUpFromQueue, markDelivered } from '../master-stores';
import { buildEventSchemas } from '../events';

const membership = membershipFromEnv();
// checksLog: a lone change delivered to a store right before it is committed on condition that
// the log's item carries its digest, instead of reading the item (master-stores.ts).
const deps = { ...applyDepsFromEnv({ checksLog: true }), pauses: nodePausesFromEnv() };
const masters = pureMasters(membership.nodes).map((node) => node.name);
// Every batch parses its messages as events.
buildEventSchemas();

export const handler = instrumented(async (event: SQSEvent): Promise<void> => {
  const result = await catchUpFromQueue(deps, membership.cluster, masters, event.Records, (sequences) =>
    markDelivered(deps.log, membership.cluster, sequences).catch((error: unknown) => {
      logger.warn('delivered events could not be marked published; the republish schedule will', { sequences: sequences.length, error: describeError(error) });
    }),
  );
  for (const { index, reason } of result.batch.skipped) {
    const record = event.Records[index];
    logger.error('message skipped: it is no event of the cluster\'s log', { messageId: record?.messageId, origin: record?.messageAttributes?.origin?.stringValue, reason });
  }
  for (const failure of result.failures) {
    logger.error('catch-up of a pure master store failed; the batch is retried', { subject: failure.node, error: describeError(failure.error) });
  }
  const [first] = result.failures;
  if (first) throw first.error;
  logger.debug('pure master stores caught up', { toSequence: result.toSequence, caughtUp: result.caughtUp, paused: result.paused });
});
