// A GeoServer node whose store write failed after its GeoServer took a batch [add layer group G,
// remove G, remove layer L with recurse]: the batch is sent again, and the GeoServer, which no
// longer holds L, refuses G's add ("Layer group must not be empty"), which is parked with G's
// remove behind it. The remove leaves nothing of what the add wrote: a redrive drops the add,
// still sends the remove (a DELETE answering 404 is done) and clears the record, without a resync.
import { applyDeliveredBatch, applyDeliveredEvent, catchUp, retryParked, type ApplyDeps } from '../../../../lambdas/config-sync/apply';
import type { ConfigChange, PublishedEvent } from '../../../../lambdas/config-sync/events';
import { add, applyDeps, harness, modify, ref, remove } from '../fixtures';
import { groupEntry, ROADS_AND_RIVERS } from './capture-on-a-slave';
import { FakeGeoServer } from './fake-geoserver';
import { standInPerTest } from '../../../support/standin-per-test';

const NODE = { cluster: 'test-cluster', node: 'gs-1' };
const G = ref('layerGroup', 'overview');
const GROUP = { name: 'overview', mode: 'SINGLE', publishables: { published: [groupEntry('layer', 'topp:roads')] } };
const BATCH: ConfigChange[] = [
  add(G.type, G.id, GROUP),
  remove(G.type, G.id),
  { kind: 'remove', object: ref('layer', 'topp:roads'), recurse: true } as ConfigChange,
];

describe('on the stand-in GeoServer', () => {
  const standIn = standInPerTest();

  async function setUp() {
    const h = harness();
    const deps: ApplyDeps = { ...applyDeps(h), geoserver: { rest: standIn.rest, options: { sleep: async () => undefined, rejectionAttempts: 1 } }, warn: () => undefined };
    const before = await h.appendAll(ROADS_AND_RIVERS);
    await catchUp(deps, NODE);
    expect(standIn.geoserver.catalog.objects.layer.has('topp:roads')).toBe(true);
    const batch = await h.appendAll(BATCH);
    return { h, deps, before, batch };
  }

  /** The redrive of the node, and what it leaves: the record, G in the store and on the GeoServer, the DELETEs of G sent. */
  async function redrive(h: ReturnType<typeof harness>, deps: ApplyDeps) {
    const sent = standIn.geoserver.requests.length;
    const result = await retryParked(deps, NODE);
    return {
      result,
      parked: await h.store.listParked(NODE.node),
      stored: (await h.store.readObjects(NODE.node, [G]))[0]?.deleted,
      onGeoServer: standIn.geoserver.catalog.objects.layerGroup.has('overview'),
      deletes: standIn.geoserver.requests.slice(sent).filter((request) => request.method === 'DELETE' && request.path.endsWith('/layergroups/overview')).map((request) => request.status),
    };
  }

  test('a record [add G (refused), remove G] is cleared by a redrive: the add is dropped and the remove still sent', async () => {
    const { h, deps, batch } = await setUp();
    // The first sending of the batch reached the GeoServer: L is gone there.
    standIn.geoserver.catalog.deleteLayer('topp:roads', true);
    for (const event of batch) await applyDeliveredEvent(deps, NODE, event);
    const [record] = await h.store.listParked(NODE.node);
    expect(record).toMatchObject({ sequences: [batch[0]?.sequence, batch[1]?.sequence], reason: expect.stringContaining('Layer group must not be empty') });

    expect(await redrive(h, deps)).toEqual({
      result: { cleared: [batch[0]?.sequence, batch[1]?.sequence], stillParked: [] },
      parked: [],
      stored: true,
      onGeoServer: false,
      deletes: [404],
    });
  });

  test('the whole sequence: the batch\'s store write fails once, the batch is sent again, and a redrive clears what that parked', async () => {
    const { h, deps, batch } = await setUp();
    const commit = h.store.commitBatch.bind(h.store);
    let failures = 0;
    jest.spyOn(h.store, 'commitBatch').mockImplementation(async (node: string, asked: Parameters<typeof commit>[1]) => {
      if (failures === 0) {
        failures += 1;
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), { name: 'ThrottlingException' });
      }
      return commit(node, asked);
    });
    const messages = batch.map((event) => JSON.stringify(event));

    const first = await applyDeliveredBatch(deps, NODE, messages);
    expect({ failed: first.failure?.index, error: (first.failure?.error as Error | undefined)?.name }).toEqual({ failed: 0, error: 'ThrottlingException' });
    expect(standIn.geoserver.catalog.objects.layer.has('topp:roads')).toBe(false);
    // The queue delivers the batch again.
    const again = await applyDeliveredBatch(deps, NODE, messages);
    expect(again.failure).toBeUndefined();
    expect(failures).toBe(1);
    const [record] = await h.store.listParked(NODE.node);
    expect(record?.sequences).toEqual([batch[0]?.sequence, batch[1]?.sequence]);

    expect(await redrive(h, deps)).toEqual({
      result: { cleared: [batch[0]?.sequence, batch[1]?.sequence], stillParked: [] },
      parked: [],
      stored: true,
      onGeoServer: false,
      deletes: [404],
    });
    // The node now holds what the master holds.
    const master = harness();
    await master.appendAll([...ROADS_AND_RIVERS, ...BATCH]);
    await catchUp(applyDeps(master), { ...NODE, node: 'master-1' });
    const live = (node: string, store: typeof h.store) => store.allObjects(node).filter((object) => !object.deleted).map((object) => `${object.type}/${object.id}`);
    expect(live(NODE.node, h.store)).toEqual(live('master-1', master.store));
  });
});

describe('what a later remove does not supersede', () => {
  /** A node whose GeoServer refuses every write of workspace `late` until told otherwise, with `changes` of it parked. */
  async function parkedOnRefusingGeoServer(changes: readonly ConfigChange[]) {
    const h = harness();
    const geoserver = new FakeGeoServer();
    const deps: ApplyDeps = { ...applyDeps(h), geoserver: { rest: geoserver, options: { sleep: async () => undefined, rejectionAttempts: 1 } }, warn: () => undefined };
    const events = await h.appendAll(changes);
    const refusesLate = (request: { path: string }) => request.path === '/workspaces/late' || request.path === '/workspaces';
    geoserver.refuse(refusesLate, 400, 'refused');
    await catchUp(deps, NODE);
    return { h, geoserver, deps, events, refusesLate };
  }

  test('a remove that fails again keeps its record, and the add after it, whatever follows', async () => {
    const { h, deps, events } = await parkedOnRefusingGeoServer([
      add('workspace', 'late', { name: 'late' }),
      remove('workspace', 'late'),
      add('workspace', 'late', { name: 'late', isolated: true }),
      remove('workspace', 'late'),
    ]);
    // The first add is dropped (the remove after it supersedes it); the remove is refused: it stays, with all after it.
    const result = await retryParked(deps, NODE);
    const sequences = events.map((event: PublishedEvent) => event.sequence);
    expect(result.cleared).toEqual([sequences[0]]);
    expect(result.stillParked).toEqual([expect.objectContaining({ sequences: sequences.slice(1) })]);
    expect((await h.store.readObjects(NODE.node, [ref('workspace', 'late')]))[0]).toBeUndefined();
  });

  test('changes after the last remove are applied, not dropped: the master holds them', async () => {
    const { h, geoserver, deps, events, refusesLate } = await parkedOnRefusingGeoServer([
      add('workspace', 'late', { name: 'late' }),
      modify('workspace', 'late', { isolated: true }),
      remove('workspace', 'late'),
      add('workspace', 'late', { name: 'late', isolated: false }),
    ]);
    geoserver.clearRefusals();
    // Only the first add is refused again: dropped with the modify, then the remove and the last add go through.
    geoserver.refuse((request) => refusesLate(request) && request.method !== 'DELETE', 400, 'refused', 1);
    const result = await retryParked(deps, NODE);
    expect(result).toEqual({ cleared: events.map((event: PublishedEvent) => event.sequence), stillParked: [] });
    expect((await h.store.readObjects(NODE.node, [ref('workspace', 'late')]))[0]).toMatchObject({ deleted: false, properties: { name: 'late', isolated: false } });
    expect(geoserver.objects.get('/workspaces/late')).toEqual({ workspace: { name: 'late', isolated: false } });
  });
});
