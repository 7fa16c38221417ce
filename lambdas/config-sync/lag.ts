/**
 * What GET /nodes and the lag metric report as a node's lag (measure-lag.ts feeds the lag alarm).
 */
import type { EventLog } from './ports';

/**
 * A node's lag: the sequences after its cursor up to the log's last event. Voids and ranges
 * never written at the end of the log (a publisher that lost an Idempotency-Key race, or died
 * between allocation and commit) hold nothing to apply, and a node passes them with the next
 * event; counting them would show every node behind, and fire the lag alarm, with nothing to
 * apply. The last event is read once, and only when a node is behind the head.
 */
export function lagCounter(log: Pick<EventLog, 'lastEvent'>, cluster: string, head: number): (cursor: number) => Promise<number> {
  let lastEvent: Promise<number> | undefined;
  return async (cursor) => {
    if (cursor >= head) return 0;
    lastEvent ??= log.lastEvent(cluster, head);
    return Math.max(0, (await lastEvent) - cursor);
  };
}
