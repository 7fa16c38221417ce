import { readEventLog, MAX_EVENT_PAGE } from '../../../lambdas/config-sync/event-log-view';
import { eventLogQuerySchema } from '../../../lambdas/config-sync/request-schemas';
import { parseQuery } from '../../../lambdas/shared/query';

const parseEventLogQuery = (params: Record<string, string>) => parseQuery(eventLogQuerySchema(), params);
import { publishChange, type PublishContext } from '../../../lambdas/config-sync/publish';
import { add, CLUSTER, harness, modify, remove } from './fixtures';

const MASTER: PublishContext = { cluster: CLUSTER, node: { name: 'master-1', role: 'master' } };

async function logOf(count: number) {
  const h = harness();
  for (let i = 1; i <= count; i++) await publishChange(h.deps, MASTER, add('workspace', `ws-${i}`));
  return h;
}

describe('reading the event log (GET /config/events)', () => {
  it('pages forward from since, oldest first, with next until the head', async () => {
    const h = await logOf(7);
    const first = await readEventLog(h.log, CLUSTER, { since: 0, limit: 3 });
    expect(first).toMatchObject({ head: 7, next: 3 });
    expect(first.events.map((event) => event.sequence)).toEqual([1, 2, 3]);
    const second = await readEventLog(h.log, CLUSTER, { since: first.next!, limit: 3 });
    expect(second.events.map((event) => event.sequence)).toEqual([4, 5, 6]);
    const last = await readEventLog(h.log, CLUSTER, { since: second.next!, limit: 3 });
    expect(last).toMatchObject({ head: 7, next: null });
    expect(last.events.map((event) => event.sequence)).toEqual([7]);
    // At or past the head: nothing, and nothing to follow.
    expect(await readEventLog(h.log, CLUSTER, { since: 7, limit: 3 })).toEqual({ head: 7, events: [], next: null });
    expect(await readEventLog(h.log, CLUSTER, { since: 99, limit: 3 })).toEqual({ head: 7, events: [], next: null });
  });

  it('stops a page before a sequence allocated and not yet written, so paging on from next misses nothing', async () => {
    // A publisher under contention allocates its range (the head moves) and commits it a moment
    // later: meanwhile the range is a hole, which a page must not pass over with next at the head.
    const h = await logOf(10);
    const writing = new Set([4, 5]);
    const log = Object.assign(Object.create(h.log), {
      readRange: async (cluster: string, from: number, to: number) => (await h.log.readRange(cluster, from, to)).filter((event) => !writing.has(event.sequence)),
    }) as typeof h.log;
    const before = await readEventLog(log, CLUSTER, { since: 0, limit: 20 });
    expect(before.events.map((event) => event.sequence)).toEqual([1, 2, 3]);
    expect(before.next).toBe(3);
    // Right at the hole: nothing yet, and next stays where it was (ask again).
    expect(await readEventLog(log, CLUSTER, { since: 3, limit: 20 })).toEqual({ head: 10, events: [], next: 3 });
    writing.clear();
    const after = await readEventLog(log, CLUSTER, { since: before.next!, limit: 20 });
    expect(after.events.map((event) => event.sequence)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(after.next).toBeNull();
  });

  it('without since: the latest events', async () => {
    const h = await logOf(5);
    const page = await readEventLog(h.log, CLUSTER, { limit: 2 });
    expect(page.events.map((event) => event.sequence)).toEqual([4, 5]);
    expect(page.next).toBeNull();
    expect(await readEventLog((await logOf(0)).log, CLUSTER, { limit: 2 })).toEqual({ head: 0, events: [], next: null });
  });

  it('summarizes each event without its properties', async () => {
    const h = harness();
    await publishChange(h.deps, MASTER, add('workspace', 'topp', { workspace: { name: 'topp' }, secretish: 'x'.repeat(1000) }));
    await publishChange(h.deps, MASTER, modify('workspace', 'topp', { isolated: true }));
    await publishChange(h.deps, MASTER, remove('workspace', 'topp'));
    const page = await readEventLog(h.log, CLUSTER, { since: 0, limit: 10 });
    expect(page.events).toEqual([
      { sequence: 1, kind: 'add', object: { type: 'workspace', id: 'topp' }, origin: 'master-1', publishedAt: expect.any(String), offloaded: false },
      { sequence: 2, kind: 'modify', object: { type: 'workspace', id: 'topp' }, origin: 'master-1', publishedAt: expect.any(String), offloaded: false },
      { sequence: 3, kind: 'remove', object: { type: 'workspace', id: 'topp' }, origin: 'master-1', publishedAt: expect.any(String), offloaded: false },
    ]);
    expect(JSON.stringify(page)).not.toContain('secretish');
  });

  it('reads since and limit, and refuses anything else with a 400 naming the parameter', () => {
    expect(parseEventLogQuery({})).toEqual({ limit: 50 });
    expect(parseEventLogQuery({ since: '12', limit: '5' })).toEqual({ since: 12, limit: 5 });
    expect(parseEventLogQuery({ since: '0' })).toEqual({ since: 0, limit: 50 });
    for (const [params, field] of [
      [{ since: '-1' }, 'since'],
      [{ since: '1.5' }, 'since'],
      [{ since: 'abc' }, 'since'],
      [{ since: '99999999999999999' }, 'since'],
      [{ limit: '0' }, 'limit'],
      [{ limit: String(MAX_EVENT_PAGE + 1) }, 'limit'],
      [{ limit: '' }, 'limit'],
      [{ after: '3' }, 'after'],
      // As API Gateway hands over a query string: an own key, not the prototype.
      [JSON.parse('{"__proto__":"3"}') as Record<string, string>, '__proto__'],
    ] as const) {
      expect(() => parseEventLogQuery(params as Record<string, string>)).toThrow(expect.objectContaining({ status: 400, field }));
    }
  });
});
