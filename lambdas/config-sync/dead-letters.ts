/**
 * What GET /nodes/{node}/dead-letters and POST /nodes/{node}/dead-letters/discard answer, apart
 * from the queue calls (adapters/sqs-queues.ts `SqsDeadLetters`): why a message named to a
 * discard was kept, in words.
 */
import type { DiscardResult, KeptCause } from './adapters/sqs-queues';

/** Why a message named to a discard was kept. */
export function keptReason(cause: KeptCause, node: string, options: { more: boolean; hasQueue: boolean }): string {
  if (!options.hasQueue) return `node ${node} consumes no queue (a pure master): it has no dead-letter queue`;
  if (cause === 'NOT_SET_ASIDE') {
    return (
      'not set aside by the apply function: an event that failed, which a redrive moves back to the queue ' +
      `(POST /nodes/${node}/redrive); discarding it could lose a change`
    );
  }
  return options.more
    ? "not found before this request's time ran out: send the discard again"
    : "not in the node's dead-letter queue: discarded or redriven already, never in it, or held by another reader of the queue at the time (list again)";
}

export interface DiscardAnswer {
  readonly node: string;
  readonly discarded: readonly string[];
  readonly kept: readonly { readonly messageId: string; readonly cause: KeptCause; readonly reason: string }[];
  readonly more: boolean;
}

export function discardAnswer(node: string, result: DiscardResult, hasQueue: boolean): DiscardAnswer {
  return {
    node,
    discarded: result.discarded,
    kept: result.kept.map((entry) => ({ ...entry, reason: keptReason(entry.cause, node, { more: result.more, hasQueue }) })),
    more: result.more,
  };
}
