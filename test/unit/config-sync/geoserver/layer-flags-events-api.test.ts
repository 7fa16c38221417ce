/**
 * `POST /config/events` in a cluster with GeoServer nodes, for the flags GeoServer holds once for a
 * layer and its resource: a change stating a layer's `enabled` (or a resource's `enabled` or
 * `advertised`) alone takes the partner's along as a derived modify right after it, listed in the
 * answer, as the gateway does for a PUT. Without it every slave's GeoServer changed both while
 * every store kept the partner's old flag, so a slave's drift check found the partner apart (and a
 * reconcile PUT the stale flag back). End to end: published by a master, applied by a slave to its
 * stand-in GeoServer, then a drift job on that slave finds no difference.
 */
import { MemoryJobStore } from '../../../../lambdas/config-sync/adapters/memory';
import { catchUp, type ApplyDeps } from '../../../../lambdas/config-sync/apply';
import type { ConfigChange } from '../../../../lambdas/config-sync/events';
import { ChangeSetTooLargeError } from '../../../../lambdas/config-sync/errors';
import { publishIdempotently, type ChangeSetAnswer, type PublishAnswer, type PublishContext, type PublishDeps } from '../../../../lambdas/config-sync/publish';
import { standInPerTest } from '../../../support/standin-per-test';
import { add, applyDeps, CLUSTER, harness, modify, ref, type Harness } from '../fixtures';
import { runJobOn } from './capture-on-a-slave';

const MASTER: PublishContext = { cluster: CLUSTER, node: { name: 'master-1', role: 'master' } };
const SLAVE = { cluster: CLUSTER, node: 'gs-1' };

/** Roads (a feature type) and elevation (a coverage) with their layers, flags stated as a GeoServer answers them. */
const CATALOG: ConfigChange[] = [
  add('workspace', 'topp', { name: 'topp' }),
  add('dataStore', 'topp:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } }),
  add('featureType', 'topp:roads', { name: 'roads', nativeName: 'roads', enabled: true, advertised: true, store: { '@class': 'dataStore', name: 'topp:pg' } }),
  add('layer', 'topp:roads', { name: 'roads', resource: { '@class': 'featureType', name: 'topp:roads' }, enabled: true, advertised: true }),
  add('coverageStore', 'topp:dem', { name: 'dem', type: 'GeoTIFF', enabled: true, url: 'file:coverages/dem.tif' }),
  add('coverage', 'topp:elevation', { name: 'elevation', nativeName: 'dem', enabled: true, advertised: true, store: { '@class': 'coverageStore', name: 'topp:dem' } }),
  add('layer', 'topp:elevation', { name: 'elevation', resource: { '@class': 'coverage', name: 'topp:elevation' }, enabled: true, advertised: true }),
];

const standIn = standInPerTest();

function slave(h: Harness): ApplyDeps {
  return { ...applyDeps(h), geoserver: { rest: standIn.rest, options: { sleep: async () => undefined, rejectionAttempts: 1 } }, warn: () => undefined };
}

/** A master in a cluster with GeoServer nodes; `queued`: its store follows a delivery later (the master-stores queue). */
function cluster(queued = false): { h: Harness; deps: PublishDeps } {
  const h = harness();
  return { h, deps: { ...h.deps, appliesToGeoServers: true, ...(queued ? { masterStoresQueued: true } : {}) } };
}

async function publish(deps: PublishDeps, body: unknown, key?: string) {
  const outcome = await publishIdempotently(deps, MASTER, body, key === undefined ? undefined : { key, bodyHash: JSON.stringify(body) });
  return outcome.answer;
}

async function stored(h: Harness, node: string, type: 'layer' | 'featureType' | 'coverage', id: string) {
  const [object] = await h.store.readObjects(node, [ref(type, id)]);
  return { enabled: object?.properties.enabled, advertised: object?.properties.advertised };
}

/** The slave applies the log to its GeoServer, then a drift job on it: its differences. */
async function slaveDrift(h: Harness) {
  await catchUp(slave(h), SLAVE);
  expect(await h.store.listParked(SLAVE.node)).toEqual([]);
  const jobs = new MemoryJobStore();
  const job = await runJobOn(standIn, h, 'drift', SLAVE.node, 'drift-1', jobs);
  return jobs.readDifferences(SLAVE.node, job.id);
}

test("the layer's enabled alone in the log: the slave's GeoServer disables the feature type with it while every store keeps it enabled, which its drift check reports", async () => {
  const h = harness();
  await h.appendAll([...CATALOG, modify('layer', 'topp:roads', { enabled: false })]);
  expect(await slaveDrift(h)).toEqual([expect.objectContaining({ kind: 'different', type: 'featureType', id: 'topp:roads' })]);
});

test("a layer's enabled stated alone takes its feature type's along: listed in the answer, the slave's drift check finds nothing", async () => {
  const { h, deps } = cluster();
  await publish(deps, { changes: CATALOG });
  const answer = (await publish(deps, modify('layer', 'topp:roads', { enabled: false }))) as PublishAnswer;
  expect(answer.derived).toEqual([{ sequence: answer.sequence + 1, derivedFrom: 0, object: ref('featureType', 'topp:roads'), patch: { enabled: false } }]);
  expect(await stored(h, 'master-1', 'featureType', 'topp:roads')).toEqual({ enabled: false, advertised: true });
  expect(await slaveDrift(h)).toEqual([]);
  expect(standIn.geoserver.catalog.objects.featureType.get('topp:roads')?.enabled).toBe(false);
  expect(await stored(h, SLAVE.node, 'featureType', 'topp:roads')).toEqual({ enabled: false, advertised: true });
});

test("a resource's flags in a set take its layer's along, right after it; a flag the partner already holds derives nothing", async () => {
  const { h, deps } = cluster();
  const catalog = (await publish(deps, { changes: CATALOG })) as ChangeSetAnswer;
  expect(catalog.derived).toBeUndefined();
  const answer = (await publish(deps, {
    changes: [
      modify('coverage', 'topp:elevation', { advertised: false, title: 'Elevation' }),
      modify('layer', 'topp:roads', { enabled: true }),
      modify('featureType', 'topp:roads', { enabled: false, advertised: true }),
    ],
  })) as ChangeSetAnswer;
  expect(answer.count).toBe(5);
  expect(answer.derived).toEqual([
    { sequence: answer.firstSequence + 1, derivedFrom: 0, object: ref('layer', 'topp:elevation'), patch: { advertised: false } },
    { sequence: answer.firstSequence + 4, derivedFrom: 2, object: ref('layer', 'topp:roads'), patch: { enabled: false } },
  ]);
  expect(await slaveDrift(h)).toEqual([]);
  expect(await stored(h, SLAVE.node, 'layer', 'topp:elevation')).toEqual({ enabled: true, advertised: false });
  expect(standIn.geoserver.catalog.objects.layer.get('topp:roads')?.enabled).toBe(false);
});

test('a layer added earlier in the same set, then disabled: its resource, named by that add, follows', async () => {
  const { h, deps } = cluster();
  await publish(deps, { changes: CATALOG });
  const answer = (await publish(deps, {
    changes: [
      add('featureType', 'topp:rivers', { name: 'rivers', nativeName: 'rivers', enabled: true, store: { '@class': 'dataStore', name: 'topp:pg' } }),
      add('layer', 'topp:rivers', { name: 'rivers', resource: { '@class': 'featureType', name: 'topp:rivers' }, enabled: true }),
      modify('layer', 'topp:rivers', { enabled: false }),
    ],
  })) as ChangeSetAnswer;
  expect(answer.derived).toEqual([{ sequence: answer.firstSequence + 3, derivedFrom: 2, object: ref('featureType', 'topp:rivers'), patch: { enabled: false } }]);
  expect(await slaveDrift(h)).toEqual([]);
});

test("a pure master's store trailing its own publishes: the log's later events are judged, so the next request still takes the partner along", async () => {
  const { h, deps } = cluster(true);
  await publish(deps, { changes: CATALOG });
  await publish(deps, modify('layer', 'topp:roads', { enabled: false }));
  // Its store has applied nothing yet: re-enabled right after, the feature type follows again.
  const answer = (await publish(deps, modify('layer', 'topp:roads', { enabled: true }))) as PublishAnswer;
  expect(answer.derived).toEqual([expect.objectContaining({ object: ref('featureType', 'topp:roads'), patch: { enabled: true } })]);
  expect(await h.store.readCursor('master-1')).toBe(0);
  expect(await slaveDrift(h)).toEqual([]);
  expect(standIn.geoserver.catalog.objects.featureType.get('topp:roads')?.enabled).toBe(true);
});

test('a replay with the same Idempotency-Key answers the derived events again, after the store caught up', async () => {
  const { deps } = cluster();
  await publish(deps, { changes: CATALOG });
  const body = { changes: [modify('layer', 'topp:elevation', { enabled: false, advertised: false })] };
  const first = await publish(deps, body, 'k-1');
  expect((first as ChangeSetAnswer).derived).toHaveLength(1);
  // The store now holds the coverage disabled: deriving again would find nothing to carry.
  expect(await publish(deps, body, 'k-1')).toEqual(first);
});

test('a resource without a layer, or a cluster of stores alone, derives nothing', async () => {
  const { deps } = cluster();
  await publish(deps, { changes: CATALOG.slice(0, 3) });
  expect(await publish(deps, modify('featureType', 'topp:roads', { enabled: false }))).not.toHaveProperty('derived');
  const alone = harness();
  await publish(alone.deps, { changes: CATALOG });
  expect(await publish(alone.deps, modify('layer', 'topp:roads', { enabled: false }))).not.toHaveProperty('derived');
});

test('an answer never recorded is rebuilt from the log with the same derived events, its range covering them', async () => {
  const { h, deps } = cluster();
  await publish(deps, { changes: CATALOG });
  const body = { changes: [modify('layer', 'topp:roads', { advertised: false }), modify('coverage', 'topp:elevation', { enabled: false })] };
  const recordAnswer = h.log.saveIdempotentAnswer.bind(h.log);
  // The first request's function dies after the commit: its answer is never recorded.
  h.log.saveIdempotentAnswer = async () => {
    throw new Error('function died');
  };
  const first = (await publish(deps, body, 'k-2')) as ChangeSetAnswer;
  h.log.saveIdempotentAnswer = recordAnswer;
  const later = { ...deps, now: () => new Date(Date.parse('2025-01-01T00:10:00Z')) };
  const rebuilt = (await publish(later, body, 'k-2')) as ChangeSetAnswer;
  expect(first).toMatchObject({ count: 4, lastSequence: first.firstSequence + 3 });
  expect(rebuilt).toEqual({ ...first, published: false, appliedLocally: false });
  expect(rebuilt.derived?.map((event) => [event.sequence - rebuilt.firstSequence, event.derivedFrom, event.object.type])).toEqual([
    [1, 0, 'featureType'],
    [3, 1, 'layer'],
  ]);
});

test('an answer rebuilt for a set deriving an event per change reads the log a page at a time, not once per derived event', async () => {
  const { h, deps } = cluster();
  const names = Array.from({ length: 150 }, (_, i) => `road${i}`);
  await publish(deps, {
    changes: [
      ...CATALOG.slice(0, 2),
      ...names.flatMap((name) => [
        add('featureType', `topp:${name}`, { name, nativeName: name, enabled: true, store: { '@class': 'dataStore', name: 'topp:pg' } }),
        add('layer', `topp:${name}`, { name, resource: { '@class': 'featureType', name: `topp:${name}` }, enabled: true }),
      ]),
    ],
  });
  const body = { changes: names.map((name) => modify('layer', `topp:${name}`, { enabled: false })) };
  const recordAnswer = h.log.saveIdempotentAnswer.bind(h.log);
  h.log.saveIdempotentAnswer = async () => {
    throw new Error('function died');
  };
  const first = (await publish(deps, body, 'k-3')) as ChangeSetAnswer;
  h.log.saveIdempotentAnswer = recordAnswer;
  expect(first.derived).toHaveLength(names.length);
  const readRange = h.log.readRange.bind(h.log);
  let reads = 0;
  h.log.readRange = async (...args) => {
    reads += 1;
    return readRange(...args);
  };
  const later = { ...deps, now: () => new Date(Date.parse('2025-01-01T00:10:00Z')) };
  expect(await publish(later, body, 'k-3')).toEqual({ ...first, published: false, appliedLocally: false });
  // The set's first event, then its range a page (100 events) at a time.
  expect(reads).toBeLessThanOrEqual(1 + Math.ceil(first.count / 100));
});

test("a store held by its resync cannot say what the partner holds: every stated flag is taken along to a partner it holds", async () => {
  const { h, deps } = cluster();
  await publish(deps, { changes: CATALOG });
  await h.store.holdForResync('master-1', 'resync-1', Date.now() + 60_000);
  // The feature type holds enabled: true already; a known store would derive nothing.
  const answer = (await publish(deps, modify('layer', 'topp:roads', { enabled: true }))) as PublishAnswer;
  expect(answer.derived).toEqual([expect.objectContaining({ object: ref('featureType', 'topp:roads'), patch: { enabled: true } })]);
});

test("a layer naming its resource by name alone, as the events API takes it: its feature type of that name follows, and the slave's drift check finds nothing", async () => {
  const { h, deps } = cluster();
  const byName = CATALOG.map((change) =>
    change.kind === 'add' && change.object.type === 'layer' ? { ...change, properties: { ...change.properties, resource: { name: change.object.id } } } : change,
  );
  await publish(deps, { changes: byName });
  const answer = (await publish(deps, modify('layer', 'topp:roads', { enabled: false }))) as PublishAnswer;
  expect(answer.derived).toEqual([{ sequence: answer.sequence + 1, derivedFrom: 0, object: ref('featureType', 'topp:roads'), patch: { enabled: false } }]);
  const elevation = (await publish(deps, modify('layer', 'topp:elevation', { advertised: false }))) as PublishAnswer;
  expect(elevation.derived).toEqual([expect.objectContaining({ object: ref('coverage', 'topp:elevation'), patch: { advertised: false } })]);
  expect(await slaveDrift(h)).toEqual([]);
});

describe('a layer a remove with recurse took is no partner, though its store keeps it', () => {
  const workspaceTaken: ConfigChange = { kind: 'remove', object: ref('workspace', 'topp'), recurse: true };
  /** The workspace, its store and the feature type made again, disabled, without the layer. */
  const madeAgain = [CATALOG[0], CATALOG[1], add('featureType', 'topp:roads', { ...(CATALOG[2]?.kind === 'add' ? CATALOG[2].properties : {}), enabled: false })] as ConfigChange[];

  test("in the same set: nothing is derived, and the slave's drift check finds nothing", async () => {
    const { h, deps } = cluster();
    await publish(deps, { changes: CATALOG });
    const answer = (await publish(deps, { changes: [workspaceTaken, ...madeAgain] })) as ChangeSetAnswer;
    expect(answer.derived).toBeUndefined();
    expect(await slaveDrift(h)).toEqual([]);
  });

  test('a layer added again after the remove is the partner again', async () => {
    const { h, deps } = cluster();
    await publish(deps, { changes: CATALOG });
    const answer = (await publish(deps, { changes: [workspaceTaken, ...CATALOG.slice(0, 4), modify('layer', 'topp:roads', { enabled: false })] })) as ChangeSetAnswer;
    expect(answer.derived).toEqual([expect.objectContaining({ derivedFrom: 5, object: ref('featureType', 'topp:roads'), patch: { enabled: false } })]);
    expect(await slaveDrift(h)).toEqual([]);
  });

  test.each([
    ['its store applied the remove', false],
    ["its store trails the log by it (a pure master's)", true],
  ])('in an earlier request (%s): nothing is derived', async (_case, queued) => {
    const { h, deps } = cluster(queued);
    await publish(deps, { changes: CATALOG });
    await publish(deps, workspaceTaken);
    await publish(deps, { changes: madeAgain.map((change) => (change.kind === 'add' && change.object.type === 'featureType' ? add('featureType', 'topp:roads', { ...change.properties, enabled: true }) : change)) });
    const answer = (await publish(deps, modify('featureType', 'topp:roads', { enabled: false }))) as PublishAnswer;
    expect(answer.derived).toBeUndefined();
    expect(await slaveDrift(h)).toEqual([]);
  });
});

test('a set refused on its stored size says the partner changes taken along count in it; one taking none is refused as the log words it', async () => {
  const { h, deps } = cluster();
  await publish(deps, { changes: CATALOG });
  // The event log measures a set's stored form (adapters/dynamo-event-log.ts): refused here whatever its size.
  const refusing = Object.assign(Object.create(Object.getPrototypeOf(h.log)) as typeof h.log, h.log, {
    appendAll: () => Promise.reject(new ChangeSetTooLargeError('The change set is 4100000 bytes in 14 log items')),
  });
  const tooLarge = { ...deps, log: refusing };
  const flagged = publish(tooLarge, { changes: [modify('layer', 'topp:roads', { enabled: false }), modify('layer', 'topp:elevation', { enabled: false })] });
  await expect(flagged).rejects.toThrow(/^The change set is 4100000 bytes in 14 log items\. That counts the 2 partner changes the set takes along/);
  const plain = publish(tooLarge, { changes: [add('workspace', 'other', { name: 'other' })] });
  await expect(plain).rejects.toThrow(/^The change set is 4100000 bytes in 14 log items$/);
  const keyed = publish(tooLarge, modify('layer', 'topp:roads', { enabled: false }), 'key-1');
  await expect(keyed).rejects.toThrow(/That counts the 1 partner change the set takes along/);
});
