import { nodesTable } from '../../../cli/main';
import type { components } from '../../../cli/api-types';

type NodeState = components['schemas']['NodeState'];

const node = (name: string, extra: Partial<NodeState> = {}): NodeState =>
  ({ name, role: 'slave', lastAppliedSequence: 7, lag: 0, queueDepth: 0, deadLetterDepth: 0, paused: false, failing: null, parked: [], ...extra }) as NodeState;
const geoserver = (reachable: boolean | null, version: string | null = null): NonNullable<NodeState['geoserver']> =>
  ({ url: 'http://10.0.3.21:8080/geoserver', reachable, version, checkedAt: null, lastError: null, rejected: [], unclearedProperties: [] }) as NonNullable<NodeState['geoserver']>;

describe('geocluster nodes table', () => {
  it('has no GeoServer column when no node has a GeoServer', () => {
    expect(nodesTable([node('slave-1')], 7).split('\n')[1]!.split(/\s+/)).toEqual(['NODE', 'ROLE', 'CURSOR', 'LAG', 'QUEUE', 'DLQ', 'PAUSED']);
  });

  it("shows each GeoServer node's reachability as GET /nodes reports it, and a dash for the others", () => {
    const lines = nodesTable(
      [
        node('master-1', { role: 'master', queueDepth: null, deadLetterDepth: null }),
        node('slave-1', { geoserver: geoserver(true, '2.26.2') }),
        node('slave-2', { geoserver: geoserver(false, '2.26.2') }),
        node('slave-3', { geoserver: geoserver(null) }),
      ],
      7,
    ).split('\n');
    expect(lines[1]!.split(/\s+/).at(-1)).toBe('GEOSERVER');
    const cell = (row: string) => row.split(/\s{2,}/).at(-1);
    expect(lines.slice(2, 6).map(cell)).toEqual(['-', 'reachable (2.26.2)', 'UNREACHABLE', 'not yet checked']);
    // The unreachable one is named under the table too.
    expect(lines.slice(6)).toEqual(['slave-2: GeoServer http://10.0.3.21:8080/geoserver unreachable']);
  });

  it('names each node a resync holds under the table: running, or incomplete with why and the command that resumes it', () => {
    const lines = nodesTable(
      [
        node('slave-1', { resync: { job: 'j-1', state: 'running', storeIncomplete: true, error: null, resume: null } }),
        node('slave-2', { resync: { job: 'j-2', state: 'incomplete', storeIncomplete: true, error: 'Error: source unreadable', resume: 'POST /nodes/slave-2/resync' } }),
        node('slave-3', { resync: null }),
      ],
      7,
    ).split('\n');
    expect(lines.slice(5)).toEqual([
      'slave-1: held by resync job j-1 (running)',
      'slave-2: RESYNC INCOMPLETE (job j-2: Error: source unreadable); its store holds part of a snapshot and it applies no events until a resync finishes; resume: geocluster resync slave-2',
    ]);
  });

  it('says under the table what holds a node back: the event it retries, parked objects, an unreachable GeoServer, a job under way', () => {
    const at = '2026-12-04T03:00:00.000Z';
    const lines = nodesTable(
      [
        node('slave-1', {
          failing: { sequence: 41, attempts: 3, reason: 'GeoServer answered 503', at },
          parked: [{ object: { type: 'layer', id: 'topp:roads' }, sequences: [38, 40], reason: '400: no such style', attempts: 3, parkedAt: at }],
          geoserver: { ...geoserver(false, '2.26.2'), lastError: { message: 'connect ECONNREFUSED', status: null, sequence: 41, at } },
          job: {
            id: 'job-7', node: 'slave-1', kind: 'reconcile', state: 'running', phase: 'fix', progress: { toFix: 6, fixed: 2 },
            failures: [], createdAt: at, updatedAt: at, finishedAt: null, error: null,
          },
        }),
        node('slave-2', { geoserver: geoserver(true, '2.26.2') }),
      ],
      41,
    ).split('\n');
    expect(lines.slice(4)).toEqual([
      'slave-1: retrying event 41 (attempt 3): GeoServer answered 503',
      'slave-1: PARKED layer/topp:roads: events 38, 40: 400: no such style; after a fix: geocluster redrive slave-1',
      'slave-1: GeoServer http://10.0.3.21:8080/geoserver unreachable: connect ECONNREFUSED',
      'slave-1: reconcile job job-7 running (fix): toFix 6, fixed 2',
    ]);
  });
  it('names a node whose latest job failed, with its error, where its details are and what to run after a fix; a failed resync holding the node once', () => {
    const at = '2026-12-04T03:00:00.000Z';
    const job = (id: string, kind: 'drift' | 'resync', state: 'failed' | 'succeeded', error: string | null) =>
      ({ id, node: '', kind, state, phase: 'scan-store', progress: { restCalls: 3 }, failures: [], createdAt: at, updatedAt: at, finishedAt: at, error }) as NonNullable<NodeState['job']>;
    const lines = nodesTable(
      [
        node('gs-1', { geoserver: geoserver(true, '2.26.2'), job: { ...job('j-1', 'drift', 'failed', "Error: GeoServer's answer for /workspaces is not JSON"), node: 'gs-1' } }),
        node('slave-2', { job: { ...job('j-2', 'resync', 'failed', 'Error: source node master-1 holds parked events'), node: 'slave-2' } }),
        node('slave-3', {
          job: { ...job('j-3', 'resync', 'failed', 'Error: source unreadable'), node: 'slave-3' },
          resync: { job: 'j-3', state: 'incomplete', storeIncomplete: true, error: 'Error: source unreadable', resume: 'POST /nodes/slave-3/resync' },
        }),
        node('gs-4', { geoserver: geoserver(true, '2.26.2'), job: { ...job('j-4', 'drift', 'succeeded', null), node: 'gs-4' } }),
      ],
      7,
    ).split('\n');
    expect(lines.slice(6)).toEqual([
      "gs-1: drift job j-1 FAILED: Error: GeoServer's answer for /workspaces is not JSON; details: geocluster job gs-1 j-1; after a fix: geocluster drift gs-1",
      'slave-2: resync job j-2 FAILED: Error: source node master-1 holds parked events; details: geocluster job slave-2 j-2; after a fix: geocluster resync slave-2',
      'slave-3: RESYNC INCOMPLETE (job j-3: Error: source unreadable); its store holds part of a snapshot and it applies no events until a resync finishes; resume: geocluster resync slave-3',
    ]);
  });

  it('names a node whose latest job succeeded but left objects unfixed: how many, the first, where they are listed and what to run after a fix', () => {
    const at = '2026-12-04T03:00:00.000Z';
    const failures = [
      { type: 'layer', id: 'topp:roads', message: 'PUT /rest/layers/topp:roads: 400 no such style' },
      { type: 'style', id: 'topp:red', message: 'POST /rest/styles: 500 boom' },
    ];
    const job = (id: string, kind: 'reconcile' | 'capture' | 'resync', progress: Record<string, number>, listed: typeof failures) =>
      ({ id, node: '', kind, state: 'succeeded', phase: 'done', progress, failures: listed, createdAt: at, updatedAt: at, finishedAt: at, error: null }) as NonNullable<NodeState['job']>;
    const lines = nodesTable(
      [
        // 25 could not be fixed; the job lists the first 20.
        node('gs-1', { geoserver: geoserver(true, '2.26.2'), job: { ...job('j-1', 'reconcile', { toFix: 30, fixed: 5, failed: 25 }, failures), node: 'gs-1' } }),
        node('gs-2', { geoserver: geoserver(true, '2.26.2'), job: { ...job('j-2', 'resync', { copied: 9 }, failures.slice(1)), node: 'gs-2' } }),
        node('gs-3', { geoserver: geoserver(true, '2.26.2'), job: { ...job('j-3', 'capture', { fixed: 2, failed: 0 }, []), node: 'gs-3' } }),
      ],
      7,
    ).split('\n');
    expect(lines.slice(5)).toEqual([
      'gs-1: reconcile job j-1 succeeded but left 25 objects unfixed, first layer/topp:roads: PUT /rest/layers/topp:roads: 400 no such style; the first 2 listed: geocluster job gs-1 j-1; after a fix: geocluster reconcile gs-1',
      'gs-2: resync job j-2 succeeded but left 1 object unfixed, first style/topp:red: POST /rest/styles: 500 boom; all of them: geocluster job gs-2 j-2; after a fix: geocluster reconcile gs-2',
    ]);
  });

  it('names the command that works after a fix on a node that publishes with a GeoServer: --yes where it deletes what only that GeoServer holds, and what it deletes', () => {
    const at = '2026-12-04T03:00:00.000Z';
    const failures = [{ type: 'layer', id: 'topp:roads', message: 'PUT /rest/layers/topp:roads: 400 no such style' }];
    const job = (node: string, kind: 'reconcile' | 'resync', state: 'failed' | 'succeeded') =>
      ({ id: 'j-1', node, kind, state, phase: 'done', progress: {}, failures: state === 'succeeded' ? failures : [], createdAt: at, updatedAt: at, finishedAt: at, error: state === 'failed' ? 'Error: boom' : null }) as NonNullable<NodeState['job']>;
    const publisher = (name: string, role: 'master' | 'both', extra: Partial<NodeState>) => node(name, { role, geoserver: geoserver(true, '2.26.2'), ...extra });
    const lines = nodesTable(
      [
        publisher('gs-main', 'master', { queueDepth: null, deadLetterDepth: null, job: job('gs-main', 'reconcile', 'failed') }),
        publisher('gs-m2', 'master', { queueDepth: null, deadLetterDepth: null, job: job('gs-m2', 'reconcile', 'succeeded') }),
        publisher('gs-both', 'both', { job: job('gs-both', 'resync', 'succeeded') }),
        publisher('gs-b2', 'both', { job: job('gs-b2', 'resync', 'failed') }),
        publisher('gs-b3', 'both', { resync: { job: 'j-9', state: 'incomplete', storeIncomplete: true, error: 'Error: source unreadable', resume: 'POST /nodes/gs-b3/resync' } }),
        // A master's resync ends with no reconcile: no --yes.
        publisher('gs-m3', 'master', { queueDepth: null, deadLetterDepth: null, job: job('gs-m3', 'resync', 'failed') }),
      ],
      7,
    ).split('\n');
    const reconcileYes = (name: string) =>
      `geocluster reconcile ${name} --yes (it deletes from its GeoServer every object the cluster's store lacks, held by no other node: ` +
      `geocluster drift ${name} lists them, geocluster capture ${name} publishes them instead)`;
    const resyncYes = (name: string) => `geocluster resync ${name} --yes (its closing reconcile deletes from its GeoServer every object the cluster's store lacks, held by no other node)`;
    expect(lines.slice(8)).toEqual([
      `gs-main: reconcile job j-1 FAILED: Error: boom; details: geocluster job gs-main j-1; after a fix: ${reconcileYes('gs-main')}`,
      `gs-m2: reconcile job j-1 succeeded but left 1 object unfixed, first layer/topp:roads: PUT /rest/layers/topp:roads: 400 no such style; all of them: geocluster job gs-m2 j-1; after a fix: ${reconcileYes('gs-m2')}`,
      `gs-both: resync job j-1 succeeded but left 1 object unfixed, first layer/topp:roads: PUT /rest/layers/topp:roads: 400 no such style; all of them: geocluster job gs-both j-1; after a fix: ${reconcileYes('gs-both')}`,
      `gs-b2: resync job j-1 FAILED: Error: boom; details: geocluster job gs-b2 j-1; after a fix: ${resyncYes('gs-b2')}`,
      `gs-b3: RESYNC INCOMPLETE (job j-9: Error: source unreadable); its store holds part of a snapshot and it applies no events until a resync finishes; resume: ${resyncYes('gs-b3')}`,
      'gs-m3: resync job j-1 FAILED: Error: boom; details: geocluster job gs-m3 j-1; after a fix: geocluster resync gs-m3',
    ]);
  });

  it("prints a role, a job's kind or state and a resync hold that a newer cluster has and this CLI does not know as they are, with no command this CLI lacks", () => {
    const at = '2026-12-04T03:00:00.000Z';
    const job = (kind: string, state: string) =>
      ({ id: 'j-1', node: 'gs-1', kind, state, phase: 'scan-audit', progress: {}, failures: [{ type: 'layer', id: 'topp:roads', message: 'refused' }], createdAt: at, updatedAt: at, finishedAt: null, error: 'boom' }) as unknown as NonNullable<NodeState['job']>;
    const hold = (state: string, storeIncomplete: boolean) => ({ job: 'j-9', state, storeIncomplete, error: null, resume: null }) as unknown as NonNullable<NodeState['resync']>;
    const lines = nodesTable(
      [
        node('ob-1', { role: 'observer' as NodeState['role'] }),
        node('gs-1', { job: job('audit', 'paused') }),
        node('gs-2', { job: { ...job('audit', 'failed'), node: 'gs-2' } }),
        node('gs-3', { job: { ...job('audit', 'succeeded'), node: 'gs-3' } }),
        node('slave-4', { resync: hold('verifying', false) }),
        node('slave-5', { resync: hold('verifying', true) }),
      ],
      7,
    ).split('\n');
    expect(lines[2]!.split(/\s+/).slice(0, 2)).toEqual(['ob-1', 'observer']);
    expect(lines.slice(8)).toEqual([
      'gs-1: audit job j-1 paused (scan-audit)',
      'gs-2: audit job j-1 FAILED: boom; details: geocluster job gs-2 j-1',
      'gs-3: audit job j-1 succeeded but left 1 object unfixed, first layer/topp:roads: refused; all of them: geocluster job gs-3 j-1',
      'slave-4: held by resync job j-9 (verifying)',
      'slave-5: held by resync job j-9 (verifying); its store holds part of a snapshot and it applies no events until a resync finishes',
    ]);
  });

  it('names a parked record\'s first sequences, how many more, and the range of its overflow', () => {
    const at = '2026-12-04T03:00:00.000Z';
    const parked = (sequences: number[], overflow?: { from: number; through: number }) =>
      nodesTable([node('slave-1', { parked: [{ object: { type: 'layer', id: 'topp:roads' }, sequences, ...(overflow ? { overflow } : {}), reason: 'refused', attempts: 3, parkedAt: at }] })], 2000)
        .split('\n')
        .find((line) => line.includes('PARKED'));
    const thousand = Array.from({ length: 1000 }, (_, index) => index + 1);
    expect(parked(thousand, { from: 1001, through: 2000 })).toBe(
      'slave-1: PARKED layer/topp:roads: events 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 990 more, then its events from 1001 to 2000: refused; after a fix: geocluster redrive slave-1',
    );
    // A redrive applied the listed ones and stopped before reading the overflow back.
    expect(parked([], { from: 1001, through: 2000 })).toBe('slave-1: PARKED layer/topp:roads: its events from 1001 to 2000: refused; after a fix: geocluster redrive slave-1');
  });
});
