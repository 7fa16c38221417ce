/**
 * Whether a node's queue delivery shows the node behind its queue: what decides whether its
 * apply reads the log ahead of the messages (apply.ts `applyDeliveredBatch`, `readAhead`).
 *
 * Reading ahead is what carries a burst: the node applies, in one commit, the events the log
 * already holds past the delivered ones, before their own messages arrive. A node that keeps
 * up with its queue finds nothing there, and the read is then a call per delivery for nothing
 * (on a change published alone, the slaves' only call besides their commit). The queue tells
 * which case a batch is:
 * - more than one message: the queue held several at once;
 * - one message the queue already held when this instance's previous batch ended (its
 *   `SentTimestamp` is not after that end): it waited behind that batch, as a backlog's
 *   messages do, and others may wait behind it;
 * - one message sent after that: the queue was empty when the node last finished, the node
 *   keeps up, and the message is most likely all there is.
 * Anything unknown (the instance's first batch, a message without `SentTimestamp`) counts as
 * a backlog: the read ahead is the default, never a correctness matter (a message the read
 * would have applied early is applied when it arrives), so a wrong guess costs time only.
 */

/** What the decision reads of an SQS record. */
export interface QueuedRecord {
  readonly attributes?: { readonly SentTimestamp?: string };
}

/** One per function instance: the end of its previous batch is the reference. */
export class QueueBacklog {
  private previousBatchEnd: number | undefined;

  /** Whether `records` (a batch about to be applied) show the node behind its queue. */
  shownBy(records: readonly QueuedRecord[]): boolean {
    if (records.length !== 1) return records.length > 1;
    const sent = Number(records[0]?.attributes?.SentTimestamp);
    if (this.previousBatchEnd === undefined || !Number.isFinite(sent)) return true;
    return sent <= this.previousBatchEnd;
  }

  /** Records the end of a batch (whatever its outcome), the reference of the next one. */
  batchEnded(at: number = Date.now()): void {
    this.previousBatchEnd = at;
  }
}
