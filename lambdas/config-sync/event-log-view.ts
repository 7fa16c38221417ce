/**
 * The event log as operators read it (GET /config/events): one page of event summaries, oldest
 * first. A summary names what changed (kind, object, origin, time) and never carries the
 * properties: an event can hold a 1 MiB style, and the object itself is one catalog read away
 * (GET /nodes/{node}/catalog/{type}/{id}). So a page of at most MAX_EVENT_PAGE summaries stays
 * a few tens of KB however large the events are.
 */
import { isOffloaded, isUnreadable, isVoided, type ChangeKind, type DeliveredEvent, type ObjectRef } from './events';
import type { EventLog } from './ports';

export const DEFAULT_EVENT_PAGE = 50;
/** Also the most the event log's `readRange` is asked for at once. */
export const MAX_EVENT_PAGE = 100;

export interface EventLogQuery {
  /** Events after this sequence; absent: the latest `limit` events. */
  readonly since?: number;
  readonly limit: number;
}

export interface EventSummary {
  readonly sequence: number;
  /** `null` for an event stored unreadable (see `unreadable`). */
  readonly kind: ChangeKind | null;
  readonly object: ObjectRef | null;
  readonly origin: string;
  readonly publishedAt: string;
  /** Its change is in the body store (a large style, for instance). */
  readonly offloaded: boolean;
  /** Why a stored event cannot be read (nodes park it); only for such an event. */
  readonly unreadable?: string;
  /** A sequence given up before anything was committed under it (no change; `origin` closed it). */
  readonly voided?: true;
}

export interface EventLogPage {
  /** The log's highest sequence when the page was read. */
  readonly head: number;
  readonly events: EventSummary[];
  /**
   * Pass as `since` for the next page; `null` when the page reaches the head. The `since` asked
   * for itself when the next sequence is allocated and not yet written: ask again in a moment.
   */
  readonly next: number | null;
}

export async function readEventLog(log: EventLog, cluster: string, query: EventLogQuery): Promise<EventLogPage> {
  // The head first: every sequence up to it is allocated, and written or about to be (a
  // publisher under contention commits a moment after it allocated; one that died has its
  // range closed as void by the next reader that waits it out: EventLog.closeHoles).
  const head = await log.head(cluster);
  const from = query.since === undefined ? Math.max(1, head - query.limit + 1) : query.since + 1;
  const to = Math.min(head, from + query.limit - 1);
  const events = to >= from ? await log.readRange(cluster, from, to) : [];
  if (query.since !== undefined) {
    // A page from `since` ends before the first sequence not written yet: passed over with a
    // `next` beyond it, it would be missed by whoever pages on from there.
    const written = events.findIndex((event, at) => event.sequence !== from + at);
    if (written !== -1 || events.length < to - from + 1) {
      const kept = written === -1 ? events : events.slice(0, written);
      return { head, events: kept.map(summarize), next: kept.at(-1)?.sequence ?? query.since };
    }
  }
  return { head, events: events.map(summarize), next: to < head ? to : null };
}

export function summarize(event: DeliveredEvent): EventSummary {
  const base = { sequence: event.sequence, origin: event.origin, publishedAt: event.publishedAt };
  if (isVoided(event)) return { ...base, kind: null, object: null, offloaded: false, voided: true };
  if (isUnreadable(event)) return { ...base, kind: null, object: event.object ?? null, offloaded: false, unreadable: event.reason };
  return { ...base, kind: event.kind, object: event.object, offloaded: isOffloaded(event) };
}
