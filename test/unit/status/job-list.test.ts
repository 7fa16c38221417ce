import type { ExecutionStatus, Phase } from '../../../lambdas/status/execution';
import { MAX_PROCESS_NAMES, type ListQuery, type Page, type StatusStore } from '../../../lambdas/status/ports';
import { MAX_PAGE_SIZE, listJobs } from '../../../lambdas/status/protocols/job-list';
import type { JobListQuery, OgcStatusCode } from '../../../lambdas/status/protocols/ogcapi';
import { oneItemPerScanPage } from '../../support/one-item-scan';
import { DynamoStatusStore } from '../../../lambdas/status/adapters/dynamo-status-store';
import { statusAttributes } from '../../../lambdas/status/adapters/status-item';
import { parseJobListQuery } from '../../../lambdas/status/protocols/job-list-query';
import { ValidationError } from '../../../lambdas/shared/errors';
import { CursorSigner } from '../../../lambdas/shared/signed-cursor';

let sequence = 0;
function status(phase: Phase, overrides: Partial<ExecutionStatus> = {}): ExecutionStatus {
  sequence += 1;
  return {
    executionId: `exec-${sequence}`,
    processName: 'gs:Buffer',
    phase,
    progress: 0,
    nodeId: 'node-a',
    creationTime: '2026-01-01T00:00:00.000Z',
    lastUpdated: '2026-01-01T00:00:00.000Z',
    version: 1,
    ...overrides,
  };
}

/** A store that answers `list` from canned pages and records every query it was asked. */
function fakeStore(pages: Page[] | ((query: ListQuery, call: number) => Page)) {
  const queries: ListQuery[] = [];
  const list = jest.fn(async (query: ListQuery): Promise<Page> => {
    queries.push(query);
    const call = queries.length - 1;
    if (typeof pages === 'function') return pages(query, call);
    const page = pages[call];
    if (!page) throw new Error(`unexpected read #${call + 1}`);
    return page;
  });
  const unused = () => Promise.reject(new Error('not used by listJobs'));
  const store: StatusStore = {
    list,
    get: unused,
    put: unused,
    remove: unused,
    completedBefore: unused,
    silentSince: unused,
    applyActiveWrite: unused,
  };
  return { store, queries, list };
}

const query = (overrides: Partial<JobListQuery> = {}): JobListQuery => ({ limit: 10, ...overrides });

describe('listJobs: OGC filters become store filters', () => {
  it.each<[OgcStatusCode[], Phase[]]>([
    [['accepted'], ['QUEUED']],
    [['running'], ['RUNNING']],
    [['successful'], ['SUCCEEDED']],
    [['failed'], ['FAILED']],
    [['dismissed'], ['DISMISSING', 'FAILED']],
    [['accepted', 'running'], ['QUEUED', 'RUNNING']],
    [['failed', 'dismissed'], ['FAILED', 'DISMISSING']],
  ])('status %j reads phases %j', async (statuses, phases) => {
    const { store, queries } = fakeStore([{ items: [] }]);
    await listJobs(store, query({ statuses }));
    expect(queries[0]?.phases).toEqual(phases);
  });

  it('reads every phase when no status is asked for', async () => {
    const { store, queries } = fakeStore([{ items: [] }]);
    await listJobs(store, query());
    expect(queries[0]?.phases).toBeUndefined();
  });

  it('lets the store read by process for up to MAX_PROCESS_NAMES process ids, and filters more itself', async () => {
    const single = fakeStore([{ items: [] }]);
    await listJobs(single.store, query({ processIds: ['gs:Buffer'] }));
    expect(single.queries[0]?.processName).toBe('gs:Buffer');

    const several = fakeStore([{ items: [] }]);
    await listJobs(several.store, query({ processIds: ['gs:Buffer', 'gs:Clip'] }));
    expect(several.queries[0]?.processName).toEqual(['gs:Buffer', 'gs:Clip']);

    const most = Array.from({ length: MAX_PROCESS_NAMES }, (_, i) => `gs:P${i}`);
    const atMost = fakeStore([{ items: [] }]);
    await listJobs(atMost.store, query({ processIds: most }));
    expect(atMost.queries[0]?.processName).toEqual(most);

    const tooMany = fakeStore([{ items: [] }]);
    await listJobs(tooMany.store, query({ processIds: [...most, 'gs:Extra'] }));
    expect(tooMany.queries[0]?.processName).toBeUndefined();
  });

  it('starts at the cursor it was given and asks for one page', async () => {
    const { store, queries } = fakeStore([{ items: [] }]);
    await listJobs(store, query({ limit: 25 }), 'cursor-1');
    expect(queries[0]).toMatchObject({ cursor: 'cursor-1', limit: 25 });
  });

  it(`asks for at most ${MAX_PAGE_SIZE} jobs whatever the limit`, async () => {
    const { store, queries } = fakeStore([{ items: [] }]);
    await listJobs(store, query({ limit: 10_000 }));
    expect(queries[0]?.limit).toBe(MAX_PAGE_SIZE);
  });
});

describe('listJobs: what the store cannot filter', () => {
  it('tells failed from dismissed among FAILED rows', async () => {
    const failed = status('FAILED');
    const dismissedFailed = status('FAILED', { dismissed: true });
    const dismissing = status('DISMISSING');

    const asFailed = fakeStore([{ items: [failed, dismissedFailed] }]);
    expect((await listJobs(asFailed.store, query({ statuses: ['failed'] }))).statuses).toEqual([failed]);

    const asDismissed = fakeStore([{ items: [dismissing, failed, dismissedFailed] }]);
    expect((await listJobs(asDismissed.store, query({ statuses: ['dismissed'] }))).statuses).toEqual([dismissing, dismissedFailed]);
  });

  it('reads a running job that a client dismissed as dismissed, not running', async () => {
    const dismissedRunning = status('RUNNING', { dismissed: true });
    const running = status('RUNNING');
    const { store } = fakeStore([{ items: [dismissedRunning, running] }]);
    expect((await listJobs(store, query({ statuses: ['running'] }))).statuses).toEqual([running]);
  });

  it('keeps only the asked-for processes when there are several', async () => {
    const buffer = status('RUNNING', { processName: 'gs:Buffer' });
    const clip = status('RUNNING', { processName: 'gs:Clip' });
    const other = status('RUNNING', { processName: 'gs:Other' });
    const { store } = fakeStore([{ items: [buffer, other, clip] }]);
    expect((await listJobs(store, query({ processIds: ['gs:Buffer', 'gs:Clip'] }))).statuses).toEqual([buffer, clip]);
  });

  it('keeps the jobs of type process, and reads nothing for any other type', async () => {
    const items = [status('QUEUED'), status('RUNNING')];
    expect((await listJobs(fakeStore([{ items }]).store, query({ types: ['banana', 'process'] }))).statuses).toEqual(items);
    const none = fakeStore([]);
    expect(await listJobs(none.store, query({ types: ['banana'] }))).toEqual({ statuses: [] });
    expect(none.list).not.toHaveBeenCalled();
  });

  it('keeps the jobs created within datetime, both ends included', async () => {
    const [early, onTime, late] = ['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'].map((creationTime) =>
      status('SUCCEEDED', { creationTime }),
    ) as [ExecutionStatus, ExecutionStatus, ExecutionStatus];
    const created = (from?: string, to?: string) => ({ ...(from ? { from: Date.parse(from) } : {}), ...(to ? { to: Date.parse(to) } : {}) });
    const listed = async (window: JobListQuery['created']) => (await listJobs(fakeStore([{ items: [early, onTime, late] }]).store, query({ created: window }))).statuses;
    expect(await listed(created('2026-02-01T00:00:00Z', '2026-02-01T00:00:00Z'))).toEqual([onTime]);
    expect(await listed(created('2026-02-01T00:00:00Z'))).toEqual([onTime, late]);
    expect(await listed(created(undefined, '2026-02-01T00:00:00Z'))).toEqual([early, onTime]);
  });

  it('keeps the jobs that ran within the durations: from their start, finished ones to their end, running ones to now, unstarted ones never', async () => {
    const start = Date.parse('2026-01-01T00:00:00Z');
    const at = (seconds: number) => new Date(start + seconds * 1000).toISOString();
    // Each waited 1000 s in the queue before it started: waiting is not running.
    const created = at(-1000);
    const quick = status('SUCCEEDED', { creationTime: created, startTime: at(0), completionTime: at(10) });
    const slow = status('FAILED', { creationTime: created, startTime: at(0), completionTime: at(100) });
    const running = status('RUNNING', { creationTime: created, startTime: at(0) });
    const queued = status('QUEUED', { creationTime: created });
    // Failed while queued, and a job stored before start times were recorded: no start, no duration.
    const neverRan = status('FAILED', { creationTime: created, completionTime: at(5) });
    const unrecorded = status('SUCCEEDED', { creationTime: created, completionTime: at(10) });
    const now = start + 50_000;
    const listed = async (minDuration?: number, maxDuration?: number) =>
      (await listJobs(fakeStore([{ items: [quick, slow, running, queued, neverRan, unrecorded] }]).store, query({ ...(minDuration === undefined ? {} : { minDuration }), ...(maxDuration === undefined ? {} : { maxDuration }) }), undefined, now)).statuses;
    expect(await listed(0)).toEqual([quick, slow, running]);
    expect(await listed(10)).toEqual([quick, slow, running]);
    expect(await listed(11)).toEqual([slow, running]);
    expect(await listed(undefined, 50)).toEqual([quick, running]);
    expect(await listed(20, 60)).toEqual([running]);
  });

  it('returns everything the store returns when nothing is filtered', async () => {
    const items = [status('QUEUED'), status('SUCCEEDED'), status('FAILED', { dismissed: true })];
    const { store } = fakeStore([{ items }]);
    expect((await listJobs(store, query())).statuses).toEqual(items);
  });
});

describe('listJobs: paging', () => {
  it('reads once and has no next cursor when the store has no more', async () => {
    const items = [status('RUNNING'), status('RUNNING')];
    const { store, list } = fakeStore([{ items }]);
    expect(await listJobs(store, query({ limit: 5 }))).toEqual({ statuses: items });
    expect(list).toHaveBeenCalledTimes(1);
  });

  it("stops at a full page and hands on the store's cursor as the next page", async () => {
    const items = [status('RUNNING'), status('RUNNING')];
    const { store, list } = fakeStore([{ items, cursor: 'after-2' }]);
    expect(await listJobs(store, query({ limit: 2 }))).toEqual({ statuses: items, cursor: 'after-2' });
    expect(list).toHaveBeenCalledTimes(1);
  });

  it('reads on, asking only for what is missing, when the filter left the page short', async () => {
    const wantedA = status('FAILED');
    const wantedB = status('FAILED');
    const wantedC = status('FAILED');
    const dismissed = status('FAILED', { dismissed: true });
    const { store, queries } = fakeStore([
      { items: [wantedA, dismissed, dismissed], cursor: 'c1' },
      { items: [wantedB], cursor: 'c2' },
      { items: [wantedC], cursor: 'c3' },
    ]);
    const page = await listJobs(store, query({ limit: 3, statuses: ['failed'] }));
    expect(page).toEqual({ statuses: [wantedA, wantedB, wantedC], cursor: 'c3' });
    expect(queries.map((q) => [q.limit, q.cursor])).toEqual([
      [3, undefined],
      [2, 'c1'],
      [1, 'c2'],
    ]);
  });

  it('keeps the same store filters on every read of a page', async () => {
    const { store, queries } = fakeStore([
      { items: [], cursor: 'c1' },
      { items: [] },
    ]);
    await listJobs(store, query({ statuses: ['dismissed'], processIds: ['gs:Buffer'] }));
    expect(queries).toHaveLength(2);
    for (const q of queries) expect(q).toMatchObject({ phases: ['DISMISSING', 'FAILED'], processName: 'gs:Buffer' });
  });

  it('gives up after five reads and returns a next cursor instead of scanning on', async () => {
    const { store, list } = fakeStore((_, call) => ({ items: [status('FAILED', { dismissed: true })], cursor: `c${call + 1}` }));
    const page = await listJobs(store, query({ statuses: ['failed'] }));
    expect(list).toHaveBeenCalledTimes(5);
    expect(page).toEqual({ statuses: [], cursor: 'c5' });
  });

  it('ends without a cursor when the store ends during the extra reads', async () => {
    const only = status('FAILED');
    const { store, list } = fakeStore([
      { items: [status('FAILED', { dismissed: true })], cursor: 'c1' },
      { items: [only] },
    ]);
    expect(await listJobs(store, query({ statuses: ['failed'] }))).toEqual({ statuses: [only] });
    expect(list).toHaveBeenCalledTimes(2);
  });
});

describe('listJobs: a next link is bound to the filters of its listing', () => {
  // The store binds a cursor to the filters it applies; GET /jobs applies more itself (status,
  // datetime, durations, more process ids than an index reads). A next link sent with other
  // values of those used to resume in the middle of another listing.
  const stored = [status('SUCCEEDED', { creationTime: '2026-01-01T00:00:00.000Z' }), status('SUCCEEDED', { creationTime: '2026-06-01T00:00:00.000Z' })].map(
    (item) => statusAttributes({ ...item, startTime: item.creationTime, completionTime: item.creationTime }),
  );
  /** A table of these two, one per Scan page (as a Scan with Limit 1 answers). */
  const client = oneItemPerScanPage(stored);
  const store = new DynamoStatusStore({ tableName: 't', shards: 8, ttlBackstopSeconds: 86_400, client, cursors: new CursorSigner('k'.repeat(48)) });
  const pageOf = (params: Record<string, string>, cursor?: string) => {
    const { cursor: _none, ...parsed } = parseJobListQuery(params);
    return listJobs(store, parsed, cursor);
  };

  it.each([
    ['datetime', { datetime: '2026-05-01T00:00:00Z/..' }],
    ['minDuration', { minDuration: '3600' }],
    ['maxDuration', { maxDuration: '3600' }],
    ['processID, six of them', { processID: 'a,b,c,d,e,gs:Buffer' }],
  ])('refuses the unfiltered list\'s cursor sent with %s (400 naming cursor)', async (_, other) => {
    const first = await pageOf({ limit: '1' });
    expect(first.cursor).toBeDefined();
    await expect(pageOf({ limit: '1', ...other }, first.cursor)).rejects.toMatchObject({ status: 400, field: 'cursor' });
    await expect(pageOf({ limit: '1', ...other }, first.cursor)).rejects.toBeInstanceOf(ValidationError);
  });

  it('takes the cursor with the same filters, whatever their order', async () => {
    const first = await pageOf({ limit: '1', processID: 'a,b,c,d,e,gs:Buffer', minDuration: '0' });
    const next = await pageOf({ limit: '1', processID: 'gs:Buffer,e,d,c,b,a', minDuration: '0' }, first.cursor);
    expect(next.statuses).toHaveLength(1);
  });
});
