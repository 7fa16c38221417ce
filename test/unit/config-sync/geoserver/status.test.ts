/**
 * What GET /nodes shows about a GeoServer node, from what its apply invocations saw, and how
 * long its queue waits while the GeoServer is unavailable.
 */
import type { AppliedEvent } from '../../../../lambdas/config-sync/apply';
import { GeoServerUnavailableError } from '../../../../lambdas/config-sync/geoserver/errors';
import { BACKOFF_CAP_SECONDS, backoffSeconds } from '../../../../lambdas/config-sync/geoserver/invocation';
import { MAX_RECORDED } from '../../../../lambdas/config-sync/geoserver/ports';
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

  it('backs off from 10 s, doubling per delivery, to at most 25 minutes (never a spin)', () => {
    const noJitter = () => 0;
    expect([1, 2, 3, 4].map((count) => backoffSeconds(count, noJitter))).toEqual([10, 20, 40, 80]);
    expect(backoffSeconds(50, noJitter)).toBe(BACKOFF_CAP_SECONDS);
    expect(backoffSeconds(1, () => 0.999)).toBeLessThanOrEqual(12);
    for (let count = 1; count < 1000; count += 37) expect(backoffSeconds(count)).toBeGreaterThanOrEqual(10);
  });
});
