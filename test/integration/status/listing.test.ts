/**
 * GET /executions over real HTTP: filters, completion-time bounds, cursor paging and its errors.
 * Each test lists only its own unique processName, since other test files share the table.
 */
import { randomUUID } from 'node:crypto';
import { api } from '../../support/cluster-client';
import { LISTING_TOKEN, executionIn, ids, listAll, listPage, listRaw, uniqueProcess, type Phase } from './support';

jest.setTimeout(30_000);

describe('listing (GET /executions)', () => {
  /** Creates executions of one unique process, in the given final phases, one after another. */
  async function seed(label: string, phases: Phase[], extra: (i: number) => Record<string, unknown> = () => ({})) {
    const processName = uniqueProcess(label);
    const made: any[] = [];
    for (const [i, phase] of phases.entries()) {
      const node = ['master-1', 'slave-1', 'slave-2'][i % 3] as string;
      const { status } = await executionIn(phase, { processName, ...extra(i) }, node);
      made.push(status);
    }
    return { processName, made };
  }

  test('filters by processName, phase (comma list), userName and nodeId', async () => {
    const { processName, made } = await seed(
      'filters',
      ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'RUNNING', 'SUCCEEDED'],
      (i) => ({ userName: i % 2 === 0 ? 'alice' : 'bob' }),
    );
    const idsWhere = (predicate: (status: any) => boolean) => ids(made.filter(predicate)).sort();

    const all = await listAll({ processName });
    expect(ids(all.items).sort()).toEqual(idsWhere(() => true));
    // The listing returns the stored statuses, as a poll would.
    for (const item of all.items) expect(item).toEqual(made.find((status) => status.executionId === item.executionId));

    const cases: Array<[Record<string, string>, (status: any) => boolean]> = [
      [{ phase: 'RUNNING' }, (s) => s.phase === 'RUNNING'],
      [{ phase: 'SUCCEEDED' }, (s) => s.phase === 'SUCCEEDED'],
      [{ phase: 'SUCCEEDED,FAILED' }, (s) => s.phase === 'SUCCEEDED' || s.phase === 'FAILED'],
      [{ phase: 'queued,running' }, (s) => s.phase === 'QUEUED' || s.phase === 'RUNNING'],
      [{ phase: 'RUNNING,SUCCEEDED' }, (s) => s.phase === 'RUNNING' || s.phase === 'SUCCEEDED'],
      [{ phase: 'DISMISSING' }, () => false],
      [{ userName: 'alice' }, (s) => s.userName === 'alice'],
      [{ userName: 'bob', phase: 'SUCCEEDED' }, (s) => s.userName === 'bob' && s.phase === 'SUCCEEDED'],
      [{ nodeId: 'slave-1' }, (s) => s.nodeId === 'slave-1'],
      [{ nodeId: 'slave-2', phase: 'SUCCEEDED,FAILED' }, (s) => s.nodeId === 'slave-2' && (s.phase === 'SUCCEEDED' || s.phase === 'FAILED')],
    ];
    for (const [filters, predicate] of cases) {
      const listed = await listAll({ processName, ...filters });
      expect({ filters, ids: ids(listed.items).sort() }).toEqual({ filters, ids: idsWhere(predicate) });
    }
  });

  test('completedBefore / completedAfter select by completion time, strictly, newest first', async () => {
    const { processName, made } = await seed('completed', ['SUCCEEDED', 'FAILED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SUCCEEDED']);
    const completed = made.filter((status) => status.completionTime !== undefined);
    expect(completed).toHaveLength(5);
    const times = completed.map((status) => status.completionTime as string).sort();
    const [first, , middle, , last] = times as [string, string, string, string, string];
    const expected = (predicate: (time: string) => boolean) =>
      ids(completed.filter((status) => predicate(status.completionTime))).sort();

    const after = await listAll({ processName, completedAfter: first });
    expect(ids(after.items).sort()).toEqual(expected((t) => t > first));
    const before = await listAll({ processName, completedBefore: last });
    expect(ids(before.items).sort()).toEqual(expected((t) => t < last));
    const between = await listAll({ processName, completedAfter: first, completedBefore: last });
    expect(ids(between.items).sort()).toEqual(expected((t) => t > first && t < last));
    const upToMiddle = await listAll({ processName, completedBefore: middle, phase: 'SUCCEEDED' });
    expect(ids(upToMiddle.items).sort()).toEqual(
      ids(completed.filter((status) => status.completionTime < middle && status.phase === 'SUCCEEDED')).sort(),
    );

    // Everything this test completed lies in (start - 1 s, now]; the running one never matches.
    const window = await listAll({
      processName,
      completedAfter: new Date(Date.parse(first) - 1000).toISOString(),
      completedBefore: new Date(Date.now() + 1000).toISOString(),
    });
    expect(ids(window.items).sort()).toEqual(ids(completed).sort());
    const order = window.items.map((item) => item.completionTime as string);
    expect(order).toEqual([...order].sort().reverse());

    // Nothing this test made completed in the future or long ago.
    expect((await listAll({ processName, completedAfter: new Date(Date.now() + 60_000).toISOString() })).items).toEqual([]);
    expect((await listAll({ processName, completedBefore: '2000-01-01T00:00:00Z' })).items).toEqual([]);
  });

  test.each([
    ['no phase filter (table pages)', {}, ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'RUNNING', 'SUCCEEDED', 'QUEUED']],
    ['completed phases (completion index)', { phase: 'SUCCEEDED,FAILED' }, ['SUCCEEDED', 'FAILED', 'SUCCEEDED', 'FAILED', 'SUCCEEDED', 'SUCCEEDED', 'FAILED']],
    ['active phases (heartbeat index)', { phase: 'RUNNING' }, ['RUNNING', 'RUNNING', 'RUNNING', 'RUNNING', 'RUNNING', 'RUNNING', 'RUNNING']],
  ] as Array<[string, Record<string, string>, Phase[]]>)(
    'limit + nextCursor visit every item exactly once: %s',
    async (_label, filters, phases) => {
      const { processName, made } = await seed('paging', phases);
      for (const limit of [1, 2, 3]) {
        const { items, pages } = await listAll({ processName, ...filters, limit });
        const seen = ids(items);
        expect(new Set(seen).size).toBe(seen.length);
        expect([...seen].sort()).toEqual(ids(made).sort());
        expect(pages).toBeGreaterThanOrEqual(Math.ceil(made.length / limit));
      }
      const one = await listAll({ processName, ...filters, limit: 1000 });
      expect(ids(one.items).sort()).toEqual(ids(made).sort());
    },
  );

  test('a page of limit items carries a nextCursor when more match', async () => {
    const { processName } = await seed('cursor', ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    const page = await listPage({ processName, phase: 'SUCCEEDED', limit: 2 });
    expect(page.status).toBe(200);
    expect(page.body.executions).toHaveLength(2);
    expect(page.body.nextCursor).toEqual(expect.any(String));
    const next = await listPage({ processName, phase: 'SUCCEEDED', limit: 2, cursor: page.body.nextCursor });
    expect(next.body.executions).toHaveLength(1);
    expect(next.body.nextCursor).toBeUndefined();
  });

  test('by owner and by node through their indexes: alone, with phases, with a completion range, paged', async () => {
    const userName = `user-${randomUUID()}`;
    const processName = uniqueProcess('owner');
    const { made } = await seed('owner', ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SUCCEEDED', 'RUNNING', 'DISMISSING', 'SUCCEEDED'], (i) => ({
      userName,
      // Half of them under a process of their own, so a second attribute filters.
      ...(i % 2 === 0 ? { processName } : {}),
    }));
    const completed = made.filter((status) => status.completionTime !== undefined);
    const firstCompletion = completed.map((status) => status.completionTime as string).sort()[0] as string;
    const cases: Array<[Record<string, string>, (status: any) => boolean]> = [
      [{}, () => true],
      [{ phase: 'SUCCEEDED' }, (s) => s.phase === 'SUCCEEDED'],
      [{ phase: 'RUNNING,DISMISSING' }, (s) => s.phase === 'RUNNING' || s.phase === 'DISMISSING'],
      [{ phase: 'QUEUED,FAILED' }, (s) => s.phase === 'QUEUED' || s.phase === 'FAILED'],
      [{ completedAfter: firstCompletion }, (s) => s.completionTime !== undefined && s.completionTime > firstCompletion],
      [{ processName }, (s) => s.processName === processName],
      [{ nodeId: 'slave-2' }, (s) => s.nodeId === 'slave-2'],
      [{ nodeId: 'slave-1', phase: 'SUCCEEDED,RUNNING' }, (s) => s.nodeId === 'slave-1' && (s.phase === 'SUCCEEDED' || s.phase === 'RUNNING')],
    ];
    for (const [filters, predicate] of cases) {
      const want = ids(made.filter(predicate)).sort();
      for (const limit of [1, 3]) {
        const listed = await listAll({ userName, ...filters, limit });
        expect({ filters, limit, ids: ids(listed.items).sort() }).toEqual({ filters, limit, ids: want });
      }
    }
    // A node's listing holds this owner's executions on it (and maybe others' too).
    const onSlave1 = ids((await listAll({ nodeId: 'slave-1', processName })).items).sort();
    expect(onSlave1).toEqual(ids(made.filter((s) => s.nodeId === 'slave-1' && s.processName === processName)).sort());
  });

  test.each([
    ['no filter', {}],
    ['phase=SUCCEEDED', { phase: 'SUCCEEDED' }],
    ['phase=RUNNING', { phase: 'RUNNING' }],
    ['userName=alice', { userName: 'alice' }],
  ])('a cursor we did not sign is a 400 naming cursor, not a 500 (issue 9), with %s', async (_label, filters) => {
    const response = await listPage({ ...filters, cursor: 'eyJrIjoicyIsInAiOiIifQ' });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'INVALID_REQUEST', field: 'cursor' });
  });

  test('a signed cursor is refused with other filters, and once altered', async () => {
    const { processName } = await seed('signed', ['SUCCEEDED', 'SUCCEEDED']);
    const first = await listPage({ processName, limit: 1 });
    const cursor = first.body.nextCursor as string;
    expect(cursor).toEqual(expect.any(String));
    expect((await listPage({ processName, limit: 1, cursor })).status).toBe(200);
    expect((await listPage({ processName, phase: 'FAILED', limit: 1, cursor })).body).toMatchObject({ field: 'cursor' });
    const altered = `${cursor.slice(0, 3)}${cursor[3] === 'A' ? 'B' : 'A'}${cursor.slice(4)}`;
    expect((await listPage({ processName, limit: 1, cursor: altered })).status).toBe(400);
    // The same cursor reaches the OGC API job list of the same process through its next link only.
    const jobs = await api('GET', `/jobs?processID=${encodeURIComponent(processName)}&limit=1`, { token: LISTING_TOKEN() });
    expect(jobs.status).toBe(200);
    const next = (jobs.body.links as Array<{ rel: string; href: string }>).find((link) => link.rel === 'next');
    expect(next).toBeDefined();
    const nextPage = await api('GET', new URL(next!.href).pathname + new URL(next!.href).search, { token: LISTING_TOKEN() });
    expect(nextPage.status).toBe(200);
    expect(nextPage.body.jobs).toHaveLength(1);
  });

  test.each([
    ['an invalid cursor', { cursor: 'not-a-cursor' }, 'cursor'],
    ['a cursor of another listing', { phase: 'RUNNING', cursor: Buffer.from(JSON.stringify({ k: 'c', p: 'x' })).toString('base64url') }, 'cursor'],
    ['limit 0', { limit: '0' }, 'limit'],
    ['limit 1001', { limit: '1001' }, 'limit'],
    ['limit abc', { limit: 'abc' }, 'limit'],
    ['a bad phase', { phase: 'RUNNING,DONE' }, 'phase'],
    ['a bad completedBefore', { completedBefore: 'yesterday' }, 'completedBefore'],
    ['a completedBefore in year 10000 in UTC', { completedBefore: '9999-12-31T23:59:59-00:01' }, 'completedBefore'],
    ['completedAfter not before completedBefore', { completedAfter: '2024-02-01T00:00:00Z', completedBefore: '2024-01-01T00:00:00Z' }, 'completedAfter'],
    ['an unknown parameter', { owner: 'alice' }, 'owner'],
  ])('400 for %s', async (_label, query, field) => {
    const response = await listPage(query);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('INVALID_REQUEST');
    expect(String(response.body.field)).toMatch(new RegExp(`^${field}`));
  });

  test('400 naming a filter given twice, rather than an empty listing of the comma-joined value', async () => {
    const { processName } = await seed('repeated', ['RUNNING']);
    const name = encodeURIComponent(processName);
    const repeated = await listRaw(`processName=${name}&processName=${name}x`);
    expect(repeated.status).toBe(400);
    expect(repeated.body).toMatchObject({ code: 'INVALID_REQUEST', field: 'processName' });
    // phase is a list: repeating it lists every phase named.
    const phases = await listRaw(`processName=${name}&phase=QUEUED&phase=RUNNING`);
    expect(phases.status).toBe(200);
    expect(phases.body.executions).toHaveLength(1);
  });

  test('400 for a parameter named __proto__, like any other unknown parameter', async () => {
    // Written into the URL by hand: an object literal key __proto__ would set a prototype instead.
    for (const query of ['__proto__=1', 'limit=5&__proto__=x', 'constructor=1']) {
      const response = await listRaw(query);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: 'INVALID_REQUEST', field: query.split('&').pop()!.split('=')[0] });
    }
  });
});
