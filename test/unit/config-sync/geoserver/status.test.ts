/**
 * What GET /nodes shows about a GeoServer node, from what its apply invocations saw, and how
 * long its queue waits while the GeoServer is unavailable.
 */
import type { AppliedEvent } from '../../../../lambdas/config-sync/apply';
import { GeoServerUnavailableError } from '../../../../lambdas/config-sync/geoserver/errors';
import { BACKOFF_CAP_SECONDS, backoffSeconds, GeoServerInvocation, STATUS_REFRESH_MS } from '../../../../lambdas/config-sync/geoserver/invocation';
import { MAX_RECORDED, type GeoServerStatus } from '../../../../lambdas/config-sync/geoserver/ports';
import { initialStatus, nextStatus, parseVersion } from '../../../../lambdas/config-sync/geoserver/status';

const URL = 'http://10.0.3.21:8080/geoserver';
const NOW = new Date('2026-12-01T12:00:00.000Z');

function event(sequence: number, geoserver: AppliedEvent['geoserver']): AppliedEvent {
  return { sequence, origin: 'master-1', object: { type: 'dataStore', id: `topp:s${sequence}` }, effect: 'created', fromLog: false, ...(geoserver ? { geoserver } : {}) };
}

describe('GeoServer node status', () => {
  it('starts unknown and becomes reachable with its version after a change applies', () => {
    const start = initialStatus(URL);
    expect(start).toEqual({ url: URL, reachable: null, version: null, checkedAt: null, lastError: null, rejected: [], unclearedProperties: [] });
    const next = nextStatus(start, { applied: [event(1, { kind: 'applied', calls: 2, uncleared: [] })], version: '2.25.2' }, NOW);
    expect(next).toMatchObject({ reachable: true, version: '2.25.2', checkedAt: NOW.toISOString(), lastError: null });
  });

  it('keeps the same status when the invocation learned nothing about the GeoServer', () => {
    const start = initialStatus(URL);
    expect(nextStatus(start, { applied: [event(1, undefined)] }, NOW)).toBe(start);
  });

  it('shows an unavailable GeoServer with the error, its time and the sequence it waits on', () => {
    const failure = new GeoServerUnavailableError(URL, 'PUT /workspaces/topp', 503, 'Service Unavailable');
    const next = nextStatus(initialStatus(URL), { applied: [], failure, failedSequence: 7 }, NOW);
    expect(next).toMatchObject({
      reachable: false,
      lastError: { status: 503, sequence: 7, at: NOW.toISOString(), message: expect.stringContaining('answered 503 to PUT /workspaces/topp') },
    });
    const silent = nextStatus(next, { applied: [], failure: new GeoServerUnavailableError(URL, 'PUT /x', null, 'ECONNREFUSED') }, NOW);
    expect(silent.lastError).toMatchObject({ status: null, message: expect.stringContaining('did not answer') });
  });

  it('lists refused changes and uncleared properties, most recent first, bounded', () => {
    let status = initialStatus(URL);
    for (let sequence = 1; sequence <= MAX_RECORDED + 5; sequence += 1) {
      status = nextStatus(
        status,
        {
          applied: [
            event(sequence, { kind: 'rejected', request: 'POST /workspaces/topp/datastores', status: 400, answer: `bad ${sequence}`, attempts: 3 }),
          ],
        },
        NOW,
      );
    }
    expect(status.rejected).toHaveLength(MAX_RECORDED);
    expect(status.rejected[0]).toMatchObject({ sequence: MAX_RECORDED + 5, status: 400, answer: `bad ${MAX_RECORDED + 5}`, type: 'dataStore' });
    expect(status.lastError).toMatchObject({ status: 400, sequence: MAX_RECORDED + 5 });
    // Refusals do not make the GeoServer unreachable: it answered.
    expect(status.reachable).toBe(true);
    const uncleared = nextStatus(status, { applied: [event(99, { kind: 'applied', calls: 1, uncleared: ['abstract'] })] }, NOW);
    expect(uncleared.unclearedProperties).toEqual([{ sequence: 99, type: 'dataStore', id: 'topp:s99', properties: ['abstract'], at: NOW.toISOString() }]);
  });

  it('reads the version from /rest/about/version', () => {
    expect(parseVersion(JSON.stringify({ about: { resource: [{ '@name': 'GeoTools', Version: '31.2' }, { '@name': 'GeoServer', Version: '2.25.2' }] } }))).toBe('2.25.2');
    expect(parseVersion(JSON.stringify({ about: { resource: { '@name': 'GeoServer', Version: 2.26 } } }))).toBe('2.26');
    expect(parseVersion('<html>')).toBeUndefined();
  });

  // Whatever answers on the GeoServer's address writes this into the node's status record (a
  // DynamoDB item of at most 400 KB, whose strings must be UTF-8) and GET /nodes: a version no
  // GeoServer states would fail every write of the status, which then stayed as it was for good.
  it('takes no version that no GeoServer states: too long, a control character, or not UTF-8', () => {
    const about = (version: unknown) => JSON.stringify({ about: { resource: [{ '@name': 'GeoServer', Version: version }] } });
    expect(parseVersion(about('2.27-SNAPSHOT'))).toBe('2.27-SNAPSHOT');
    expect(parseVersion(about('2'.repeat(300 * 1024)))).toBeUndefined();
    expect(parseVersion(about('2.25.2\u0000'))).toBeUndefined();
    expect(parseVersion('{"about":{"resource":{"@name":"GeoServer","Version":"2.25\\ud800"}}}')).toBeUndefined();
    expect(parseVersion(about(''))).toBeUndefined();
  });

  it('backs off from 10 s, doubling per delivery, to at most 25 minutes (never a spin)', () => {
    const noJitter = () => 0;
    expect([1, 2, 3, 4].map((count) => backoffSeconds(count, noJitter))).toEqual([10, 20, 40, 80]);
    expect(backoffSeconds(50, noJitter)).toBe(BACKOFF_CAP_SECONDS);
    expect(backoffSeconds(1, () => 0.999)).toBeLessThanOrEqual(12);
    for (let count = 1; count < 1000; count += 37) expect(backoffSeconds(count)).toBeGreaterThanOrEqual(10);
  });

  it("starts from another first wait only when given one (the local runtime's tests), doubling to the same cap", () => {
    const noJitter = () => 0;
    expect([1, 2, 3, 4].map((count) => backoffSeconds(count, noJitter, 1))).toEqual([1, 2, 4, 8]);
    expect(backoffSeconds(50, noJitter, 1)).toBe(BACKOFF_CAP_SECONDS);
  });

  it('records the status when something about the GeoServer changed, and otherwise only once checkedAt is a minute old', async () => {
    let now = NOW.getTime();
    const writes: GeoServerStatus[] = [];
    const versionReads: string[] = [];
    const invocation = new GeoServerInvocation('slave-1', {
      rest: {
        url: URL,
        send: async (request) => {
          versionReads.push(request.path);
          return { status: 200, text: JSON.stringify({ about: { resource: [{ '@name': 'GeoServer', Version: '2.26.2' }] } }) };
        },
      },
      status: { read: async () => undefined, write: async (_node, status) => void writes.push(status) },
      now: () => new Date(now),
    });
    const applied = (sequence: number, geoserver: AppliedEvent['geoserver']) => ({
      results: [{ disposition: 'applied' as const, sequence, applied: [event(sequence, geoserver)], cursor: sequence }],
    });
    const ok = { kind: 'applied', calls: 1, uncleared: [] } as const;

    await invocation.after(applied(1, ok));
    expect(writes.map((status) => [status.reachable, status.version])).toEqual([[true, '2.26.2']]);
    now += 1000;
    await invocation.after(applied(2, ok));
    now += STATUS_REFRESH_MS - 2000;
    await invocation.after(applied(3, ok));
    expect(writes).toHaveLength(1); // only checkedAt would have moved, by less than a minute
    now += 1000;
    await invocation.after(applied(4, ok));
    expect(writes).toHaveLength(2);
    expect(writes[1]?.checkedAt).toBe(new Date(now).toISOString());

    now += 1000;
    await invocation.after({ results: [], failure: { index: 0, error: new GeoServerUnavailableError(URL, 'PUT /workspaces/topp', 503, 'down') } });
    expect(writes).toHaveLength(3);
    expect(writes[2]).toMatchObject({ reachable: false, lastError: { status: 503, sequence: null } });
    now += 1000;
    await invocation.after(applied(5, ok));
    expect(writes).toHaveLength(4);
    expect(writes[3]?.reachable).toBe(true);
    now += 1000;
    await invocation.after(applied(6, { kind: 'rejected', request: 'POST /workspaces', status: 400, answer: 'no', attempts: 3 }));
    expect(writes).toHaveLength(5);
    expect(writes[4]?.rejected[0]).toMatchObject({ sequence: 6, status: 400 });
    now += 1000;
    await invocation.after(applied(7, { kind: 'applied', calls: 1, uncleared: ['abstract'] }));
    expect(writes).toHaveLength(6);
    expect(writes[5]?.unclearedProperties[0]).toMatchObject({ sequence: 7, properties: ['abstract'] });
  });

  it("records what a job's slice saw of the GeoServer: reachable with its version once it answered, unreachable with why when the slice could not reach it", async () => {
    let now = NOW.getTime();
    const writes: GeoServerStatus[] = [];
    const invocation = new GeoServerInvocation('slave-1', {
      rest: { url: URL, send: async () => ({ status: 200, text: JSON.stringify({ about: { resource: [{ '@name': 'GeoServer', Version: '2.26.2' }] } }) }) },
      status: { read: async () => undefined, write: async (_node, status) => void writes.push(status) },
      now: () => new Date(now),
    });
    // A slice that made no REST call (a resync's copy) says nothing about the GeoServer.
    await invocation.afterJobSlice({ answered: false });
    expect(writes).toEqual([]);
    await invocation.afterJobSlice({ answered: true });
    expect(writes).toEqual([{ ...initialStatus(URL), reachable: true, version: '2.26.2', checkedAt: NOW.toISOString() }]);
    now += 1000;
    await invocation.afterJobSlice({ answered: true, failure: new GeoServerUnavailableError(URL, 'GET /workspaces.json', null, 'connect ECONNREFUSED') });
    expect(writes[1]).toMatchObject({ reachable: false, lastError: { status: null, sequence: null, message: expect.stringContaining('did not answer to GET /workspaces.json') } });
    // A slice that failed otherwise (a store write throttled) after the GeoServer answered.
    now += 1000;
    await invocation.afterJobSlice({ answered: true, failure: new Error('ProvisionedThroughputExceededException') });
    expect(writes).toHaveLength(3);
    expect(writes[2]).toMatchObject({ reachable: true, lastError: { status: null } });
  });

  it("records a change a job's slice applied and the GeoServer refused (a resync's catch-up) among the rejected, as a batch's", async () => {
    const writes: GeoServerStatus[] = [];
    const invocation = new GeoServerInvocation('slave-1', {
      rest: { url: URL, send: async () => ({ status: 200, text: JSON.stringify({ about: { resource: [{ '@name': 'GeoServer', Version: '2.26.2' }] } }) }) },
      status: { read: async () => undefined, write: async (_node, status) => void writes.push(status) },
      now: () => NOW,
    });
    await invocation.afterJobSlice({
      answered: true,
      applied: [event(6, { kind: 'rejected', request: 'POST /workspaces', status: 400, answer: 'no', attempts: 3 }), event(7, { kind: 'applied', calls: 1, uncleared: [] })],
    });
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({ reachable: true, version: '2.26.2', rejected: [{ sequence: 6, request: 'POST /workspaces', status: 400, answer: 'no' }], lastError: { status: 400, sequence: 6 } });
  });

  it("records what a batch applied ahead of its queue (a refusal among it), and a GeoServer that went down during that read ahead", async () => {
    let now = NOW.getTime();
    const writes: GeoServerStatus[] = [];
    const invocation = new GeoServerInvocation('slave-1', {
      rest: { url: URL, send: async () => ({ status: 200, text: JSON.stringify({ about: { resource: [{ '@name': 'GeoServer', Version: '2.26.2' }] } }) }) },
      status: { read: async () => undefined, write: async (_node, status) => void writes.push(status) },
      now: () => new Date(now),
    });
    const ok = { kind: 'applied', calls: 1, uncleared: [] } as const;
    await invocation.after({
      results: [{ disposition: 'applied', sequence: 5, applied: [event(5, ok)], cursor: 7 }],
      readAhead: [event(6, { kind: 'rejected', request: 'POST /workspaces', status: 400, answer: 'no', attempts: 3 }), event(7, ok)],
    });
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({ reachable: true, rejected: [{ sequence: 6, status: 400 }], lastError: { status: 400, sequence: 6 } });
    now += 1000;
    await invocation.after({
      results: [{ disposition: 'applied', sequence: 8, applied: [event(8, ok)], cursor: 9 }],
      readAhead: [event(9, ok)],
      readAheadFailure: new GeoServerUnavailableError(URL, 'PUT /workspaces/topp', 503, 'down'),
    });
    expect(writes).toHaveLength(2);
    expect(writes[1]).toMatchObject({ reachable: false, lastError: { status: 503, sequence: 10 } });
  });

  it("builds on a status another instance recorded once told to forget its own (the apply function's batches and its job path each have one)", async () => {
    let stored: GeoServerStatus | undefined;
    const store = { read: async () => stored, write: async (_node: string, status: GeoServerStatus) => void (stored = status) };
    const rest = { url: URL, send: async () => ({ status: 200, text: JSON.stringify({ about: { resource: [{ '@name': 'GeoServer', Version: '2.26.2' }] } }) }) };
    let now = NOW.getTime();
    const batches = new GeoServerInvocation('slave-1', { rest, status: store, now: () => new Date(now) });
    const jobPath = new GeoServerInvocation('slave-1', { rest, status: store, now: () => new Date(now) });
    const ok = { kind: 'applied', calls: 1, uncleared: [] } as const;
    await batches.after({ results: [{ disposition: 'applied', sequence: 1, applied: [event(1, ok)], cursor: 1 }] });
    // A reconcile's slice: the GeoServer refused one of its fixes.
    now += 1000;
    await jobPath.afterJobSlice({ answered: true, applied: [event(2, { kind: 'rejected', request: 'PUT /workspaces/topp', status: 400, answer: 'no', attempts: 3 })] });
    expect(stored?.lastError).toMatchObject({ status: 400, sequence: 2 });
    batches.forget();
    now += STATUS_REFRESH_MS;
    await batches.after({ results: [{ disposition: 'applied', sequence: 3, applied: [event(3, ok)], cursor: 3 }] });
    // The refusal the job path recorded is still shown: the batch built on it, not on what it last wrote itself.
    expect(stored).toMatchObject({ reachable: true, lastError: { status: 400, sequence: 2 }, rejected: [{ sequence: 2 }] });
  });

  it('reports a status it could not record through the warn it was given, and does not fail the batch', async () => {
    const warnings: Array<[string, Readonly<Record<string, unknown>>]> = [];
    const invocation = new GeoServerInvocation('slave-1', {
      rest: { url: URL, send: async () => ({ status: 200, text: JSON.stringify({ about: { resource: [{ '@name': 'GeoServer', Version: '2.26.2' }] } }) }) },
      status: { read: async () => undefined, write: async () => Promise.reject(new Error('ProvisionedThroughputExceededException')) },
      now: () => NOW,
      warn: (message, fields) => void warnings.push([message, fields]),
    });
    await expect(invocation.after({ results: [{ disposition: 'applied', sequence: 1, applied: [event(1, { kind: 'applied', calls: 1, uncleared: [] })], cursor: 1 }] })).resolves.toBeUndefined();
    expect(warnings).toEqual([[expect.stringContaining('GeoServer status not recorded'), { node: 'slave-1', error: 'Error: ProvisionedThroughputExceededException' }]]);
  });
});
