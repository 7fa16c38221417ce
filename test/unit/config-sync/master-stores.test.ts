import { catchUpOnce } from '../../../lambdas/config-sync/apply';
import { MemoryNodeStore } from '../../../lambdas/config-sync/adapters/memory';
import { catchUpMasterStores, highestSequence } from '../../../lambdas/config-sync/master-stores';
import type { NodePauses, PauseState } from '../../../lambdas/config-sync/pause';
import type { CommitOutcome } from '../../../lambdas/config-sync/ports';
import { publishChange, type PublishContext } from '../../../lambdas/config-sync/publish';
import { add, CLUSTER, harness } from './fixtures';

class Pauses implements NodePauses {
  readonly states = new Map<string, PauseState>();
  async read(node: string): Promise<PauseState | undefined> {
    return this.states.get(node);
  }
  async write(node: string, state: PauseState | undefined): Promise<void> {
    if (state) this.states.set(node, state);
    else this.states.delete(node);
  }
}

const MASTER: PublishContext = { cluster: CLUSTER, node: { name: 'master-1', role: 'master' } };

describe("the pure masters' stores' catch-up (the master-stores queue's consumer and the republish schedule)", () => {
  it('brings every pure master up to the sequence given, in log order, each exactly once in effect', async () => {
    const h = harness();
    const pauses = new Pauses();
    await h.append(add('workspace', 'a'), 'master-1');
    await h.append(add('workspace', 'b'), 'master-2');
    await h.append(add('workspace', 'c'), 'master-1');
    const first = await catchUpMasterStores({ ...h.deps, pauses }, CLUSTER, ['master-1', 'master-2'], 2);
    expect(first).toEqual({ caughtUp: { 'master-1': 2, 'master-2': 2 }, paused: [], failures: [] });
    expect(await h.store.readCursor('master-1')).toBe(2);
    // A second delivery of the same batch, then the schedule's run to the head.
    expect((await catchUpMasterStores({ ...h.deps, pauses }, CLUSTER, ['master-1', 'master-2'], 2)).caughtUp).toEqual({ 'master-1': 0, 'master-2': 0 });
    expect((await catchUpMasterStores({ ...h.deps, pauses }, CLUSTER, ['master-1', 'master-2'])).caughtUp).toEqual({ 'master-1': 1, 'master-2': 1 });
    for (const node of ['master-1', 'master-2']) {
      expect(h.store.liveObjects(node).map((object) => [object.id, object.lastSequence])).toEqual([
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ]);
    }
  });

  it('leaves a paused master as it is, and reports one master’s failure without holding the others', async () => {
    const h = harness();
    const pauses = new Pauses();
    await pauses.write('master-2', { since: '2025-01-01T00:00:00.000Z', by: 'master-2' });
    class FailingFor extends MemoryNodeStore {
      override async commit(node: string, ...rest: Parameters<MemoryNodeStore['commit']> extends [string, ...infer R] ? R : never): Promise<CommitOutcome> {
        if (node === 'master-3') throw new Error('throttled');
        return super.commit(node, ...rest);
      }
    }
    const store = new FailingFor();
    await h.append(add('workspace', 'a'));
    const result = await catchUpMasterStores({ ...h.deps, store, pauses }, CLUSTER, ['master-1', 'master-2', 'master-3']);
    expect(result.caughtUp).toEqual({ 'master-1': 1 });
    expect(result.paused).toEqual(['master-2']);
    expect(result.failures).toEqual([{ node: 'master-3', error: new Error('throttled') }]);
    expect(await store.readCursor('master-2')).toBe(0);
  });

  it('reads the highest sequence of a batch, ignoring bodies that are not events', () => {
    expect(highestSequence(['{"sequence":4}', 'not json', '{"sequence":9,"kind":"add"}', '{"sequence":"12"}', 'null', '{"sequence":-1}'])).toBe(9);
    expect(highestSequence(['garbage', '{}'])).toBeUndefined();
    expect(highestSequence([])).toBeUndefined();
  });
});

describe('a pure master whose store the master-stores queue catches up: its publish applies only when the store is right before its events', () => {
  it('applies on the request when nothing is before its events, with no log read', async () => {
    const h = harness();
    let logReads = 0;
    const log = h.log;
    const counting = Object.assign(Object.create(Object.getPrototypeOf(log)) as typeof log, log, {
      readRange: async (...args: Parameters<typeof log.readRange>) => {
        logReads += 1;
        return log.readRange(...args);
      },
    });
    const deps = { ...h.deps, log: counting, masterStoresQueued: true };
    const first = await publishChange(deps, MASTER, add('workspace', 'one'));
    const second = await publishChange(deps, MASTER, add('workspace', 'two'));
    expect([first.appliedLocally, second.appliedLocally]).toEqual([true, true]);
    expect(logReads).toBe(0);
    expect(await h.store.readCursor('master-1')).toBe(2);
  });

  it('reads only the cursor when the store is behind (another master’s event), and leaves the log to the queue', async () => {
    const h = harness();
    let objectReads = 0;
    const store = h.store;
    const original = store.readApplyState.bind(store);
    store.readApplyState = async (...args) => {
      objectReads += 1;
      return original(...args);
    };
    await h.append(add('workspace', 'other'), 'master-2');
    const result = await publishChange({ ...h.deps, masterStoresQueued: true }, MASTER, add('workspace', 'mine'));
    expect(result).toMatchObject({ published: true, appliedLocally: false, deferredFailures: [], event: { sequence: 2 } });
    expect(objectReads).toBe(0);
    expect(await store.readCursor('master-1')).toBe(0);
    // The queue's consumer, given the delivered event, catches the store up.
    await catchUpMasterStores({ ...h.deps, pauses: new Pauses() }, CLUSTER, ['master-1'], highestSequence([JSON.stringify(result.event)]));
    expect(store.liveObjects('master-1').map((object) => object.id)).toEqual(['mine', 'other']);
  });

  it('answers true when the consumer was first: the store already holds the events', async () => {
    const h = harness();
    const appended = await h.append(add('workspace', 'x'));
    await catchUpMasterStores({ ...h.deps, pauses: new Pauses() }, CLUSTER, ['master-1'], appended.sequence);
    const outcome = await catchUpOnce(h.deps, { cluster: CLUSTER, node: 'master-1' }, appended.sequence, [appended], { onlyWhenNext: true });
    expect(outcome).toMatchObject({ settled: true, applied: [], cursor: 1 });
  });
});
