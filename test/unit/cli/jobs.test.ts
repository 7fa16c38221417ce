import { changeSets, describeJob, driftReport } from '../../../cli/main';
import { MAX_CHANGE_SET_BYTES, MAX_CHANGE_SET_ITEMS } from '../../../lambdas/config-sync/change-set-limits';
import type { components } from '../../../cli/api-types';

type NodeJob = components['schemas']['NodeJob'];

const job = (extra: Partial<NodeJob> = {}): NodeJob => ({
  id: 'j-1',
  node: 'gs-1',
  kind: 'reconcile',
  state: 'succeeded',
  phase: 'done',
  progress: { missing: 2, extra: 1, different: 0, toFix: 3, fixed: 3, failed: 0 },
  failures: [],
  createdAt: '2026-12-04T03:00:00.000Z',
  updatedAt: '2026-12-04T03:00:05.000Z',
  finishedAt: '2026-12-04T03:00:05.000Z',
  error: null,
  ...extra,
});

describe('geocluster jobs', () => {
  it('describes a job by its state and progress, the phase only while it runs', () => {
    expect(describeJob(job())).toBe('gs-1: reconcile job j-1 succeeded: missing 2, extra 1, different 0, toFix 3, fixed 3, failed 0');
    expect(describeJob(job({ state: 'running', phase: 'fix', progress: { toFix: null, fixed: 1 } }))).toBe('gs-1: reconcile job j-1 running (fix): fixed 1');
  });

  it("describes a resync by what it copied and where it left the store, with GeoServer counters only if it called one", () => {
    const resync = job({
      kind: 'resync',
      source: 'master-1',
      progress: { compared: 0, missing: 0, fixed: 0, failed: 0, restCalls: 0, copied: 40 },
      resync: { snapshotSequence: 90, cursor: 97, appliedFromLog: 7 },
    });
    expect(describeJob(resync)).toBe('gs-1: resync job j-1 succeeded: copied 40; store at sequence 97 (snapshot 90, 7 from the log)');
    expect(describeJob({ ...resync, progress: { ...resync.progress, restCalls: 12 } })).toContain(': compared 0, missing 0, fixed 0, failed 0, restCalls 12, copied 40;');
  });

  it("lists a failed job's error and each object it could not fix", () => {
    const lines = describeJob(
      job({
        state: 'failed',
        error: 'GeoServer unreachable',
        failures: [{ type: 'layer', id: 'topp:roads', message: '500 from GeoServer' }],
      }),
    ).split('\n');
    expect(lines.slice(1)).toEqual(['  error: GeoServer unreachable', '  failed: layer/topp:roads: 500 from GeoServer']);
  });

  it('says how many objects it could not fix are not listed, beyond the first the job keeps', () => {
    const failures = Array.from({ length: 20 }, (_, i) => ({ type: 'layer', id: `topp:roads-${i}`, message: '500 from GeoServer' }));
    const lines = describeJob(job({ progress: { missing: 45, extra: 0, different: 0, toFix: 45, fixed: 0, failed: 45 }, failures })).split('\n');
    expect(lines).toHaveLength(22);
    expect(lines[21]).toBe('  and 25 more not listed (the job keeps the first 20; progress.failed counts them all)');
    // All listed: no such line.
    expect(describeJob(job({ progress: { failed: 1 }, failures: failures.slice(0, 1) })).split('\n')).toHaveLength(2);
  });

  it('reports a drift check: every difference with what differs, or that there is none', () => {
    const check = job({ kind: 'drift', progress: { compared: 12, missing: 2, extra: 1, different: 1 } });
    expect(driftReport('gs-1', check, [])).toBe('gs-1: no drift: its GeoServer matches its store (12 objects compared)');
    const lines = driftReport('gs-1', check, [
      { kind: 'missing', type: 'featureType', id: 'topp:rivers' },
      { kind: 'missing', type: 'featureType', id: 'topp:roads', store: 'pg' },
      { kind: 'extra', type: 'featureType', id: 'scratch:tmp', store: 'shapes' },
      { kind: 'different', type: 'layer', id: 'topp:roads', properties: ['title', 'defaultStyle.name'] },
    ]).split('\n');
    expect(lines[0]).toBe('gs-1: 4 differences: 2 missing, 1 extra, 1 different (12 objects compared)');
    expect(lines.slice(1).map((line) => line.split(/\s{2,}/))).toEqual([
      ['KIND', 'TYPE', 'ID', 'DETAIL'],
      ['missing', 'featureType', 'topp:rivers'],
      ['missing', 'featureType', 'topp:roads', 'held under store pg'],
      ['extra', 'featureType', 'scratch:tmp', 'store shapes'],
      ['different', 'layer', 'topp:roads', 'title, defaultStyle.name'],
    ]);
  });
});

describe('geocluster jobs: a kind, state, phase or difference a newer cluster has and this CLI does not know', () => {
  // The generated types hold the values this CLI knows; a newer cluster's answer may hold others.
  const unknown = <T>(value: string) => value as T;

  it('prints each as it is, with the phase of a job in such a state, and says that whether it has ended is not known', () => {
    const lines = describeJob(job({ kind: unknown('audit'), state: unknown('paused'), phase: unknown('scan-audit'), progress: { compared: 4 } })).split('\n');
    expect(lines).toEqual([
      'gs-1: audit job j-1 paused (scan-audit): compared 4',
      '  state paused is not one this geocluster knows: whether the job has ended is not known here',
    ]);
  });

  it('counts a kind of difference it does not know beside the others, so the counts add up', () => {
    const check = job({ kind: 'drift', progress: { compared: 5 } });
    const lines = driftReport('gs-1', check, [
      { kind: 'missing', type: 'layer', id: 'topp:rivers' },
      { kind: unknown('moved'), type: 'layer', id: 'topp:roads' },
      { kind: unknown('moved'), type: 'style', id: 'topp:red' },
    ]).split('\n');
    expect(lines[0]).toBe('gs-1: 3 differences: 1 missing, 0 extra, 0 different, 2 moved (5 objects compared)');
    expect(lines.slice(2).map((line) => line.split(/\s{2,}/)[0])).toEqual(['missing', 'moved', 'moved']);
  });
});

describe('geocluster config publish: change sets', () => {
  const workspace = (index: number) => ({ kind: 'add', object: { type: 'workspace', id: `w${index}` }, properties: { name: `w${index}` } });

  it('cuts a long list into sets of at most 1,000 changes, in order', () => {
    const changes = Array.from({ length: 2500 }, (_, index) => workspace(index));
    const sets = changeSets(changes);
    expect(sets.map((set) => [set.from, set.changes.length])).toEqual([
      [0, MAX_CHANGE_SET_ITEMS],
      [1000, MAX_CHANGE_SET_ITEMS],
      [2000, 500],
    ]);
    expect(sets.flatMap((set) => set.changes)).toEqual(changes);
  });

  it('keeps each request body within the API limit, and sends a change too large for any set alone', () => {
    const style = (index: number, bytes: number) => ({ kind: 'add', object: { type: 'style', id: `s${index}` }, properties: { body: 'x'.repeat(bytes) } });
    const changes = [style(0, 1_000_000), style(1, 1_000_000), style(2, 1_000_000), style(3, 1_000_000), style(4, 4_000_000), workspace(5)];
    const sets = changeSets(changes);
    expect(sets.map((set) => [set.from, set.changes.length])).toEqual([
      [0, 3],
      [3, 1],
      [4, 1],
      [5, 1],
    ]);
    for (const set of sets.filter((one) => one.changes.length > 1)) {
      expect(Buffer.byteLength(JSON.stringify({ changes: set.changes }))).toBeLessThanOrEqual(MAX_CHANGE_SET_BYTES);
    }
  });
});
