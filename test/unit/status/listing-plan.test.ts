/**
 * Which index partitions each listing shape reads: every combination of phases, owner, process,
 * node and completion range, checked against the rules in listing-plan.ts written out here
 * independently as expectations per shape.
 */
import { userProcessValue } from '../../../lambdas/status/adapters/status-table';
import { PHASES, type Phase } from '../../../lambdas/status/execution';
import { listingFingerprint, planListing, type IndexPlan } from '../../../lambdas/status/adapters/listing-plan';
import { MAX_PROCESS_NAMES, type ListQuery } from '../../../lambdas/status/ports';

const SHARDS = 3;

/** `index partition [phases]` per source, sorted: comparable at a glance. */
function sources(query: Omit<ListQuery, 'limit'>): string[] {
  const plan = planListing({ ...query, limit: 10 }, SHARDS);
  if (plan.kind !== 'index') return [plan.kind];
  return plan.sources.map((s) => `${s.index.name} ${s.partition}${s.phases ? ` [${s.phases.join(',')}]` : ''}`).sort();
}

const shards = (prefix: string, suffix = '') => Array.from({ length: SHARDS }, (_, k) => `${prefix}s${k}${suffix}`);

describe('planListing', () => {
  it('scans only when there is no filter at all', () => {
    expect(sources({})).toEqual(['scan']);
    expect(sources({ phases: ['QUEUED'] })).not.toEqual(['scan']);
  });

  it.each<[string, Phase[], string[]]>([
    ['every phase', [...PHASES], [...shards('byCompletionTime SUCCEEDED#'), ...shards('byCompletionTime FAILED#'), ...shards('byHeartbeat ')]],
    ['SUCCEEDED', ['SUCCEEDED'], shards('byCompletionTime SUCCEEDED#')],
    ['FAILED', ['FAILED'], shards('byCompletionTime FAILED#')],
    ['RUNNING', ['RUNNING'], shards('byHeartbeat ', ' [RUNNING]')],
    ['QUEUED,DISMISSING', ['QUEUED', 'DISMISSING'], shards('byHeartbeat ', ' [QUEUED,DISMISSING]')],
    ['all active phases need no filter', ['QUEUED', 'RUNNING', 'DISMISSING'], shards('byHeartbeat ')],
    ['RUNNING,FAILED', ['RUNNING', 'FAILED'], [...shards('byCompletionTime FAILED#'), ...shards('byHeartbeat ', ' [RUNNING]')]],
  ])('by phase only (%s): the completion index per completed phase, the heartbeat index for active ones', (_label, phases, expected) => {
    expect(sources({ phases })).toEqual([...expected].sort());
  });

  const attributes: Array<['userName' | 'processName' | 'nodeId', string, string]> = [
    ['userName', 'byUser', 'alice'],
    ['processName', 'byProcess', 'gs:Buffer'],
    ['nodeId', 'byNode', 'slave-1'],
  ];

  describe.each(attributes)('by %s', (attribute, index, value) => {
    const query = { [attribute]: value };
    it('alone: every group of its index', () => {
      expect(sources(query)).toEqual(
        [...shards(`${index} ${value}#ACTIVE#`), ...shards(`${index} ${value}#SUCCEEDED#`), ...shards(`${index} ${value}#FAILED#`)].sort(),
      );
    });
    it('with a completed phase: that group only', () => {
      expect(sources({ ...query, phases: ['FAILED'] })).toEqual(shards(`${index} ${value}#FAILED#`));
    });
    it('with an active phase: the ACTIVE group, filtered', () => {
      expect(sources({ ...query, phases: ['RUNNING'] })).toEqual(shards(`${index} ${value}#ACTIVE#`, ' [RUNNING]'));
    });
    it('with a completion range: the completed groups, bounded by the range', () => {
      const plan = planListing({ ...query, completedAfter: '2026-01-01T00:00:00.000Z', completedBefore: '2026-02-01T00:00:00.000Z', limit: 5 }, SHARDS) as IndexPlan;
      expect(plan.sources.map((s) => `${s.index.name} ${s.partition}`).sort()).toEqual(
        [...shards(`${index} ${value}#SUCCEEDED#`), ...shards(`${index} ${value}#FAILED#`)].sort(),
      );
      expect(plan.below).toBe('2026-02-01T00:00:00.000Z');
      // Strictly after: beyond every `<time>#<id>` of that instant.
      expect(plan.above).toBe('2026-01-01T00:00:00.000Z#\uffff');
      expect('2026-01-01T00:00:00.000Z#zzzz' < (plan.above as string)).toBe(true);
      expect('2026-01-01T00:00:00.001Z#0' > (plan.above as string)).toBe(true);
    });
    it('with a completion range and only active phases: nothing to read', () => {
      expect(sources({ ...query, phases: ['RUNNING'], completedBefore: '2026-01-01T00:00:00.000Z' })).toEqual(['empty']);
    });
  });

  it('with several attributes, reads by owner and process together, else owner before process before node, and filters the rest', () => {
    const plan = (query: Omit<ListQuery, 'limit'>) => planListing({ ...query, limit: 1 }, SHARDS) as IndexPlan;
    const all = plan({ userName: 'alice', processName: 'gs:Buffer', nodeId: 'slave-1' });
    expect(all.sources.map((s) => `${s.index.name} ${s.partition}`).sort()).toEqual(
      [...shards('byUserProcess 5:alice:gs:Buffer#ACTIVE#'), ...shards('byUserProcess 5:alice:gs:Buffer#SUCCEEDED#'), ...shards('byUserProcess 5:alice:gs:Buffer#FAILED#')].sort(),
    );
    expect(all.attributes).toEqual({ nodeId: 'slave-1' });
    const userAndProcess = plan({ userName: 'alice', processName: 'gs:Buffer', phases: ['RUNNING'] });
    expect(userAndProcess.sources.map((s) => `${s.index.name} ${s.partition}${s.phases ? ` [${s.phases.join(',')}]` : ''}`)).toEqual(
      shards('byUserProcess 5:alice:gs:Buffer#ACTIVE#', ' [RUNNING]'),
    );
    expect(userAndProcess.attributes).toEqual({});
    const userAndNode = plan({ userName: 'alice', nodeId: 'slave-1' });
    expect(new Set(userAndNode.sources.map((s) => s.index.name))).toEqual(new Set(['byUser']));
    expect(userAndNode.attributes).toEqual({ nodeId: 'slave-1' });
    const processAndNode = plan({ processName: 'gs:Buffer', nodeId: 'slave-1', phases: ['SUCCEEDED'] });
    expect(processAndNode.sources.map((s) => s.partition)).toEqual(shards('gs:Buffer#SUCCEEDED#'));
    expect(processAndNode.attributes).toEqual({ nodeId: 'slave-1' });
    expect(plan({ userName: 'alice' }).attributes).toEqual({});
  });

  it('a completion range without attributes reads the completion index, bounded', () => {
    const plan = planListing({ completedBefore: '2026-01-01T00:00:00.000Z', phases: ['RUNNING', 'SUCCEEDED'], limit: 1 }, SHARDS) as IndexPlan;
    expect(plan.sources.map((s) => `${s.index.name} ${s.partition}`)).toEqual(shards('byCompletionTime SUCCEEDED#'));
    expect(plan.below).toBe('2026-01-01T00:00:00.000Z');
    expect(plan.above).toBeUndefined();
  });

  it('reads at most |groups| x shards partitions, whatever the table holds', () => {
    for (const phases of [undefined, ...PHASES.map((phase) => [phase])]) {
      for (const query of [{}, { userName: 'a' }, { processName: 'p' }, { nodeId: 'n' }]) {
        const plan = planListing({ ...query, phases, limit: 1000 }, SHARDS);
        if (plan.kind === 'index') expect(plan.sources.length).toBeLessThanOrEqual(3 * SHARDS);
      }
    }
  });
});

describe('listingFingerprint', () => {
  it('is the same for the same filters in any order, whatever the limit and cursor', () => {
    const a = listingFingerprint({ phases: ['RUNNING', 'QUEUED'], userName: 'alice', limit: 1 });
    expect(listingFingerprint({ phases: ['QUEUED', 'RUNNING', 'QUEUED'], userName: 'alice', limit: 50, cursor: 'x' })).toBe(a);
  });

  it('differs when any filter differs', () => {
    const base: ListQuery = { limit: 1 };
    const variants: ListQuery[] = [
      base,
      { ...base, phases: ['RUNNING'] },
      { ...base, userName: 'alice' },
      { ...base, processName: 'alice' },
      { ...base, nodeId: 'alice' },
      { ...base, completedBefore: '2026-01-01T00:00:00.000Z' },
      { ...base, completedAfter: '2026-01-01T00:00:00.000Z' },
    ];
    expect(new Set(variants.map(listingFingerprint)).size).toBe(variants.length);
  });
});

describe('userProcessValue', () => {
  it('never gives two different (owner, process) pairs one partition, whatever characters they hold', () => {
    const pairs: Array<[string, string]> = [
      ['a', 'b:c'],
      ['a:b', 'c'],
      ['a#b', 'c'],
      ['a', 'b#c'],
      ['1:a', 'b'],
      ['1', 'a:b'],
      ['', ':x'],
      [':', 'x'],
    ];
    const values = pairs.map(([user, process]) => userProcessValue(user, process));
    expect(new Set(values).size).toBe(pairs.length);
  });
});

describe('planListing with several processes', () => {
  const plan = (query: Omit<ListQuery, 'limit'>) => planListing({ ...query, limit: 1 }, SHARDS) as IndexPlan;
  const named = (p: IndexPlan) => p.sources.map((s) => `${s.index.name} ${s.partition}`).sort();

  it("reads each process's partitions of the process index, and one process as a list is that process", () => {
    expect(named(plan({ processName: ['gs:Clip', 'gs:Buffer'], phases: ['FAILED'] }))).toEqual(
      [...shards('byProcess gs:Buffer#FAILED#'), ...shards('byProcess gs:Clip#FAILED#')].sort(),
    );
    expect(named(plan({ processName: ['gs:Buffer', 'gs:Buffer'] }))).toEqual(named(plan({ processName: 'gs:Buffer' })));
  });

  it("with an owner, each (owner, process) partition of the owner-and-process index; a node stays a filter", () => {
    const p = plan({ userName: 'alice', processName: ['gs:Clip', 'gs:Buffer'], nodeId: 'n', phases: ['SUCCEEDED'] });
    expect(named(p)).toEqual([...shards('byUserProcess 5:alice:gs:Buffer#SUCCEEDED#'), ...shards('byUserProcess 5:alice:gs:Clip#SUCCEEDED#')].sort());
    expect(p.attributes).toEqual({ nodeId: 'n' });
  });

  it('an empty list matches nothing; more than MAX_PROCESS_NAMES is refused rather than read without bound', () => {
    expect(planListing({ processName: [], limit: 1 }, SHARDS)).toEqual({ kind: 'empty' });
    const many = Array.from({ length: MAX_PROCESS_NAMES + 1 }, (_, i) => `p${i}`);
    expect(() => planListing({ processName: many, limit: 1 }, SHARDS)).toThrow(RangeError);
  });

  it('a cursor does not depend on the order the processes were named in', () => {
    expect(listingFingerprint({ processName: ['b', 'a'], limit: 1 })).toBe(listingFingerprint({ processName: ['a', 'b', 'a'], limit: 1 }));
    expect(listingFingerprint({ processName: ['a'], limit: 1 })).toBe(listingFingerprint({ processName: 'a', limit: 1 }));
    // GET /executions cursors issued before GET /jobs bound its own filters still hold.
    expect(listingFingerprint({ phases: ['RUNNING'], processName: 'gs:Buffer', limit: 1 })).toBe('[["RUNNING"],null,["gs:Buffer"],null,null,null]');
    expect(listingFingerprint({ phases: ['RUNNING'], limit: 1, callerFilters: '[1]' })).not.toBe(listingFingerprint({ phases: ['RUNNING'], limit: 1 }));
    expect(listingFingerprint({ processName: ['a', 'b'], limit: 1 })).not.toBe(listingFingerprint({ processName: 'a', limit: 1 }));
  });
});
