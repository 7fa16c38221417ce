/**
 * What an apply invocation of a GeoServer node does around the applier: it reads the
 * GeoServer's version when it does not know it and records the GeoServer's status for GET
 * /nodes after each batch (changes it refused are parked by the applier, with GeoServer's
 * answer) and after each slice of the node's jobs, whose REST calls reach the same GeoServer
 * (a GeoServer only jobs have talked to is not shown as never checked); and, when the
 * GeoServer cannot take changes, tells how long the queue should wait before delivering
 * again (exponential backoff, so a GeoServer that is down for hours costs one attempt every
 * few minutes, never a spin).
 */
import { batchFailure, batchSteps, type AppliedEvent, type BatchResult } from '../apply';
import { GeoServerUnavailableError } from './errors';
import type { GeoServerRest, GeoServerStatus, GeoServerStatusStore } from './ports';
import { initialStatus, nextStatus, parseVersion, type InvocationOutcome } from './status';
import { consoleWarn, type Warn } from '../../shared/warn';

export interface GeoServerInvocationDeps {
  readonly rest: GeoServerRest;
  readonly status: GeoServerStatusStore;
  readonly now?: () => Date;
  /** Where a status that could not be recorded is reported. @default consoleWarn */
  readonly warn?: Warn;
}

/** First wait after a GeoServer turned out unavailable; it doubles per delivery. */
export const BACKOFF_BASE_SECONDS = 10;
/**
 * Longest wait between two attempts while a GeoServer stays unavailable: 1,000 deliveries
 * (the queue's maxReceiveCount for GeoServer nodes) then outlast the queue's 14-day retention.
 */
export const BACKOFF_CAP_SECONDS = 25 * 60;

/**
 * Seconds the failed message should stay invisible after its `receiveCount`th delivery:
 * 10 s, 20 s, 40 s, ... up to 25 min, with up to 20% jitter so many nodes do not retry in step.
 * `baseSeconds` replaces the first wait (the local runtime's tests only).
 */
export function backoffSeconds(receiveCount: number, random: () => number = Math.random, baseSeconds = BACKOFF_BASE_SECONDS): number {
  const exponent = Math.max(0, Math.min(receiveCount - 1, 20));
  const base = Math.min(BACKOFF_CAP_SECONDS, baseSeconds * 2 ** exponent);
  return Math.min(BACKOFF_CAP_SECONDS, Math.round(base * (1 + 0.2 * random())));
}

export class GeoServerInvocation {
  private status: GeoServerStatus | undefined;

  constructor(
    private readonly node: string,
    private readonly deps: GeoServerInvocationDeps,
  ) {}

  /**
   * After a batch (or a retry of parked events): records the status, from the events of its
   * messages and those it applied ahead of the queue, and from what failed first (a read ahead
   * fails only after the messages' own events). Never throws: it is a report.
   */
  async after(result: Pick<BatchResult, 'results' | 'failure' | 'readAhead' | 'readAheadFailure'>): Promise<void> {
    const applied = batchSteps(result);
    const failure = batchFailure(result);
    const failedSequence = failure instanceof GeoServerUnavailableError ? failedSequenceOf(result, applied) : undefined;
    await this.record({
      applied,
      ...(failure === undefined ? {} : { failure }),
      ...(failedSequence === undefined ? {} : { failedSequence }),
    });
  }

  /**
   * After a slice of one of the node's jobs (drift check, reconcile, capture, resync), which talk
   * to the same GeoServer: records what the slice's REST calls saw of it, as `after` does for a
   * batch. `answered`: the GeoServer answered one of them; `applied`: the events a resync's
   * catch-up applied (a change the GeoServer refused is among the rejected, as a batch's);
   * `failure`: what the slice threw, if it did (a `GeoServerUnavailableError` shows the
   * GeoServer unreachable). Never throws.
   */
  async afterJobSlice(slice: { readonly answered: boolean; readonly applied?: readonly AppliedEvent[]; readonly failure?: unknown }): Promise<void> {
    await this.record({ applied: slice.applied ?? [], answered: slice.answered, ...(slice.failure === undefined ? {} : { failure: slice.failure }) });
  }

  private async record(outcome: Omit<InvocationOutcome, 'version'>): Promise<void> {
    const previous = await this.current();
    const unavailable = outcome.failure instanceof GeoServerUnavailableError;
    const answered = outcome.answered === true || outcome.applied.some((event) => event.geoserver !== undefined);
    const version = (previous.version === null || previous.reachable === false) && !unavailable && answered ? await this.version() : undefined;
    const now = (this.deps.now ?? (() => new Date()))();
    const next = nextStatus(previous, { ...outcome, ...(version === undefined ? {} : { version }) }, now);
    if (next !== previous && worthRecording(previous, next)) {
      this.status = next;
      await this.deps.status.write(this.node, next).catch((error: unknown) => {
        (this.deps.warn ?? consoleWarn)('GeoServer status not recorded; GET /nodes shows the previous one until a later batch or job slice records it', {
          node: this.node,
          error: String(error),
        });
      });
    }
  }

  /**
   * Drops the status this instance last read or wrote, so the next record reads the stored
   * one: another instance serving the same node (the apply function's job path, which is a
   * module of its own: job-slices.ts) may have recorded one since.
   */
  forget(): void {
    this.status = undefined;
  }

  private async current(): Promise<GeoServerStatus> {
    if (this.status === undefined) {
      const stored = await this.deps.status.read(this.node).catch(() => undefined);
      this.status = stored && stored.url === this.deps.rest.url ? stored : initialStatus(this.deps.rest.url);
    }
    return this.status;
  }

  private async version(): Promise<string | undefined> {
    try {
      const response = await this.deps.rest.send({ method: 'GET', path: '/about/version' });
      return response.status === 200 ? parseVersion(response.text) : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * How old the recorded `checkedAt` may grow while nothing else about the GeoServer changes.
 * Rewriting the status after every invocation only to move `checkedAt` cost one DynamoDB write
 * per delivered message (a third of a one-message delivery's AWS calls); GET /nodes then shows
 * a `checkedAt` up to this old for a GeoServer that keeps taking changes.
 */
export const STATUS_REFRESH_MS = 60_000;

/**
 * Whether `next` says anything GET /nodes does not show yet: reachability, version, an error,
 * a refused change or an uncleared property (anything but `checkedAt`), or a `checkedAt` that
 * has aged past `STATUS_REFRESH_MS`.
 */
export function worthRecording(previous: GeoServerStatus, next: GeoServerStatus): boolean {
  const { checkedAt: before, ...rest } = previous;
  const { checkedAt: after, ...fresh } = next;
  if (JSON.stringify(rest) !== JSON.stringify(fresh)) return true;
  if (before === null || after === null) return before !== after;
  return Date.parse(after) - Date.parse(before) >= STATUS_REFRESH_MS;
}

/** The sequence the invocation was applying when the GeoServer turned out unavailable. */
function failedSequenceOf(result: Pick<BatchResult, 'results'>, applied: readonly AppliedEvent[]): number | undefined {
  const last = applied[applied.length - 1];
  if (last) return last.sequence + 1;
  const lastResult = result.results[result.results.length - 1];
  return lastResult && 'cursor' in lastResult ? lastResult.cursor + 1 : undefined;
}

/**
 * The message a redrive sends to a GeoServer node's own queue: its apply function, which can
 * reach the GeoServer, then retries the node's parked events (the redrive function cannot).
 */
export const RETRY_PARKED_FIELD = 'retryParked';

export function retryParkedMessage(requestedAt: Date): string {
  return JSON.stringify({ [RETRY_PARKED_FIELD]: requestedAt.toISOString() });
}

export function isRetryParkedMessage(body: string): boolean {
  if (!body.startsWith(`{"${RETRY_PARKED_FIELD}"`)) return false;
  try {
    const value = JSON.parse(body) as Record<string, unknown>;
    return Object.keys(value).length === 1 && typeof value[RETRY_PARKED_FIELD] === 'string';
  } catch {
    return false;
  }
}
