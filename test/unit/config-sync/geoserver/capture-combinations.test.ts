// A capture of a master whose web UI made several of the changes a capture orders specially at
// once: a resource replaced by one of another type, a store replaced by one of another type (its
// moved resource moved first), nested layer groups added inner first and removed outer first, a
// group renamed. Every event it publishes must apply on a slave's GeoServer, which ends as the
// master's, nothing parked and nothing published twice, also when the capture's invocation dies
// after any of its publishes and its step is redone.
import { add, type Harness } from '../fixtures';
import { standInPerTest } from '../../../support/standin-per-test';
import type { GeoServerStandIn } from '../../../support/geoserver-standin';
import type { ConfigChange } from '../../../../lambdas/config-sync/events';
import { captureOnASlave, catalogShape, type TypeChangeRun } from './capture-on-a-slave';

const standIn = standInPerTest();

/** A layer group's entries: `group:<name>` is a layer group, anything else a layer. */
const layerGroup = (name: string, members: readonly string[]) => ({
  name,
  mode: 'SINGLE',
  publishables: {
    published: members.map((member) => (member.startsWith('group:') ? { '@type': 'layerGroup', name: member.slice(6) } : { '@type': 'layer', name: member })),
  },
});

type Groups = Readonly<Record<string, readonly string[]>>;

/**
 * The catalog of every test: the data store topp:X holds the feature types a and m, topp:pg holds
 * x, topp:pg2 holds y, the coverage store topp:dem nothing; and the layer groups `groups`, inner
 * ones first.
 */
function history(groups: Groups): ConfigChange[] {
  const resources = { a: 'topp:X', m: 'topp:X', x: 'topp:pg', y: 'topp:pg2' };
  return [
    add('workspace', 'topp', { name: 'topp' }),
    ...['pg', 'pg2', 'X'].map((store) => add('dataStore', `topp:${store}`, { name: store, type: 'PostGIS', workspace: { name: 'topp' } })),
    add('coverageStore', 'topp:dem', { name: 'dem', type: 'GeoTIFF', workspace: { name: 'topp' } }),
    ...Object.entries(resources).flatMap(([resource, store]) => [
      add('featureType', `topp:${resource}`, { name: resource, nativeName: resource, title: resource, store: { '@class': 'dataStore', name: store } }),
      add('layer', `topp:${resource}`, { name: resource, resource: { '@class': 'featureType', name: `topp:${resource}` }, defaultStyle: { name: 'generic' } }),
    ]),
    ...Object.entries(groups).map(([name, members]) => add('layerGroup', name, layerGroup(name, members))),
  ];
}

/** The master's GeoServer as `history(groups)` leaves it. */
function seedMaster(groups: Groups): GeoServerStandIn['catalog'] {
  const catalog = standIn.geoserver.catalog;
  catalog.addWorkspace({ name: 'topp' });
  for (const store of ['pg', 'pg2', 'X']) catalog.addStore('dataStore', 'topp', { name: store, type: 'PostGIS' });
  catalog.addStore('coverageStore', 'topp', { name: 'dem', type: 'GeoTIFF' });
  for (const [resource, store] of [['a', 'X'], ['m', 'X'], ['x', 'pg'], ['y', 'pg2']]) catalog.addResource('featureType', 'topp', store, { name: resource, nativeName: resource, title: resource });
  for (const [name, members] of Object.entries(groups)) catalog.addLayerGroup(undefined, layerGroup(name, members));
  return catalog;
}

/** In the master's web UI: x removed (its layer leaves its groups) and a coverage x made in dem. */
function replaceX(catalog: GeoServerStandIn['catalog']): void {
  catalog.deleteResource('featureType', 'topp:x', true);
  catalog.addResource('coverage', 'topp', 'dem', { name: 'x', nativeName: 'x', title: 'x as a grid' });
}

/** In the master's web UI: m moved to pg2, X removed (a with it), a coverage store X made with a coverage a. */
async function replaceStoreX(catalog: GeoServerStandIn['catalog']): Promise<void> {
  const answer = await fetch(`${standIn.geoserver.restUrl}/workspaces/topp/datastores/X/featuretypes/m`, {
    method: 'PUT',
    headers: { authorization: 'Basic ' + Buffer.from('admin:geoserver').toString('base64'), 'content-type': 'application/json' },
    body: JSON.stringify({ featureType: { store: { name: 'topp:pg2' } } }),
  });
  expect(answer.status).toBe(200);
  catalog.deleteStore('dataStore', 'topp:X', true);
  catalog.addStore('coverageStore', 'topp', { name: 'X', type: 'GeoTIFF' });
  catalog.addResource('coverage', 'topp', 'X', { name: 'a', nativeName: 'a', title: 'a as a grid' });
}

/** Layer groups made (or made again, or changed) in the master's web UI, in the order given. */
function makeGroups(catalog: GeoServerStandIn['catalog'], groups: Groups): void {
  for (const [name, members] of Object.entries(groups)) {
    catalog.objects.layerGroup.delete(name);
    catalog.addLayerGroup(undefined, layerGroup(name, members));
  }
}

/** The slave ends as the master, nothing parked, the capture succeeded with no failure, and no change was published twice. */
async function expectSlaveAsMaster({ outcome, ran, published, h, slaveGeoServer }: TypeChangeRun): Promise<void> {
  expect({
    outcome,
    state: ran.state,
    failures: ran.failures,
    parked: await parkedOn(h),
    catalog: catalogShape(slaveGeoServer),
    twice: published.filter((change, index) => published.indexOf(change) !== index),
  }).toEqual({ outcome: 'done', state: 'succeeded', failures: [], parked: [], catalog: catalogShape(standIn.geoserver), twice: [] });
}

async function parkedOn(h: Harness): Promise<string[]> {
  return (await h.store.listParked('gs-1')).map((record) => record.key);
}

/**
 * A capture of `groups` in the history, then `webUi` on the master, its invocation dying after
 * `dieAfter` publishes; or, with `pausedAfter`, the master paused after that many publishes (the
 * capture failing there) and resumed, and a new capture run.
 */
async function capture(
  groups: Groups,
  webUi: (catalog: GeoServerStandIn['catalog']) => Promise<void>,
  check: (run: TypeChangeRun) => Promise<void>,
  dieAfter?: number,
  pausedAfter?: number,
): Promise<void> {
  await captureOnASlave(standIn, history(groups), () => webUi(seedMaster(groups)), undefined, check, dieAfter, pausedAfter);
}

/**
 * The store X replaced, with a coverage a of the former feature type's name; solo = [a] made again,
 * and a new group outer = [solo]. X's removal with recurse empties solo on the slave: solo is added
 * again, then outer, which names it.
 */
test('a replaced store whose resource\'s layer is in an inner group made again, held by a new outer group', async () => {
  await capture(
    { solo: ['topp:a'] },
    async (catalog) => {
      await replaceStoreX(catalog);
      makeGroups(catalog, { solo: ['topp:a'], outer: ['group:solo'] });
    },
    expectSlaveAsMaster,
  );
});

/**
 * x replaced; it was the only entry of solo, which outer = [solo, y] held: the master's cascade
 * (and the slave's) removes solo and leaves outer = [y]; the web UI makes solo = [x] and outer =
 * [solo, y] again. The slave must add solo back before writing outer.
 */
test('a replaced resource whose layer was the only entry of an inner group an outer group holds: both back, inner first', async () => {
  await capture(
    { solo: ['topp:x'], outer: ['group:solo', 'topp:y'] },
    async (catalog) => {
      replaceX(catalog);
      makeGroups(catalog, { solo: ['topp:x'], outer: ['group:solo', 'topp:y'] });
    },
    async (run) => {
      await expectSlaveAsMaster(run);
      expect(run.published.indexOf('add layerGroup/solo')).toBeLessThan(run.published.indexOf('modify layerGroup/outer'));
    },
  );
});

/** x replaced, and the groups that held it (base = [x, y], and outer = [base]) removed in the web UI. */
test('groups removed on the master that held a replaced layer', async () => {
  await capture(
    { base: ['topp:x', 'topp:y'], outer: ['group:base'] },
    async (catalog) => {
      catalog.deleteLayerGroup('outer');
      catalog.deleteLayerGroup('base');
      replaceX(catalog);
    },
    expectSlaveAsMaster,
  );
});

/**
 * x replaced, and base = [x, y], which the cascade changes on the slave, named again with a new
 * group inner = [y] too: base's state, published again after the cascade, names inner, so inner's
 * add must come first.
 */
const NAMING_NEW: Groups = { base: ['topp:x', 'topp:y'] };
async function namingNew(catalog: GeoServerStandIn['catalog']): Promise<void> {
  replaceX(catalog);
  makeGroups(catalog, { inner: ['topp:y'], base: ['topp:x', 'topp:y', 'group:inner'] });
}
/** How many changes that capture publishes: where its invocation can die. */
const NAMING_NEW_PUBLISHES = 16;

test('a group the cascade of a replaced layer changed, which the master now has naming a new group', async () => {
  await capture(NAMING_NEW, namingNew, async (run) => {
    await expectSlaveAsMaster(run);
    expect({ published: run.published.length, groups: run.published.filter((change) => change.includes(' layerGroup/')) }).toEqual({
      published: NAMING_NEW_PUBLISHES,
      groups: ['add layerGroup/inner', 'modify layerGroup/base'],
    });
  });
});

test.each(Array.from({ length: NAMING_NEW_PUBLISHES - 1 }, (_, index) => index + 1))(
  'the same capture of a group naming a new group, its invocation dying after publish %i and its step redone',
  async (dieAfter) => {
    await capture(
      NAMING_NEW,
      namingNew,
      async (run) => {
        expect(run.died).toBe(1);
        await expectSlaveAsMaster(run);
      },
      dieAfter,
    );
  },
);

/**
 * Both cascades in one group: G = [x, a], held by outer = [G]. On the slave, X's removal takes a
 * out of G, then x's removal empties G, which goes, and outer with it. The master's web UI makes G
 * = [x] and outer = [G] again: both must be added back on the slave.
 */
const ONE_GROUP: Groups = { G: ['topp:x', 'topp:a'], outer: ['group:G'] };
async function bothCascades(catalog: GeoServerStandIn['catalog']): Promise<void> {
  replaceX(catalog);
  await replaceStoreX(catalog);
  makeGroups(catalog, { G: ['topp:x'], outer: ['group:G'] });
}
/** How many changes that capture publishes: where its invocation can die. */
const ONE_GROUP_PUBLISHES = 17;

test('a replaced store and a replaced resource whose layers were the entries of one group, held by another', async () => {
  await capture(ONE_GROUP, bothCascades, async (run) => {
    await expectSlaveAsMaster(run);
    expect({ published: run.published.length, groups: run.published.filter((change) => change.includes(' layerGroup/')) }).toEqual({
      published: ONE_GROUP_PUBLISHES,
      groups: ['add layerGroup/G', 'add layerGroup/outer'],
    });
  });
});

test.each(Array.from({ length: ONE_GROUP_PUBLISHES - 1 }, (_, index) => index + 1))(
  'the same capture of both cascades in one group, its invocation dying after publish %i and its step redone',
  async (dieAfter) => {
    await capture(
      ONE_GROUP,
      bothCascades,
      async (run) => {
        expect(run.died).toBe(1);
        await expectSlaveAsMaster(run);
      },
      dieAfter,
    );
  },
);

/** The web UI: x replaced, X replaced (m moved out first), kept = [m] renamed kept2, and solo = [a] made again. */
const EVERYTHING: Groups = { kept: ['topp:m'], solo: ['topp:a'], base: ['topp:x', 'topp:y'] };
async function everything(catalog: GeoServerStandIn['catalog']): Promise<void> {
  replaceX(catalog);
  await replaceStoreX(catalog);
  catalog.objects.layerGroup.delete('kept');
  makeGroups(catalog, { kept2: ['topp:m'], solo: ['topp:a'], base: ['topp:x', 'topp:y'] });
}

test('a moved resource, a replaced store, a replaced resource and a renamed group in one capture', async () => {
  await capture(EVERYTHING, everything, expectSlaveAsMaster);
});

/** How many changes the capture of `everything` publishes: where its invocation can die. */
const EVERYTHING_PUBLISHES = 19;

test('the count of publishes the deaths below cover is the capture\'s', async () => {
  await capture(EVERYTHING, everything, async (run) => {
    expect({ published: run.published.length, died: run.died }).toEqual({ published: EVERYTHING_PUBLISHES, died: 0 });
  });
});

test.each(Array.from({ length: EVERYTHING_PUBLISHES - 1 }, (_, index) => index + 1))(
  'the same capture, its invocation dying after publish %i and its step redone',
  async (dieAfter) => {
    await capture(
      EVERYTHING,
      everything,
      async (run) => {
        expect(run.died).toBe(1);
        await expectSlaveAsMaster(run);
      },
      dieAfter,
    );
  },
);

/**
 * A capture stopped between its removals with recurse and the groups' publishing again (here by a
 * pause of the master; a failure, a lapse or a cancel leave the same): a new capture finds those
 * groups as the master's store holds them, yet every slave's cascade changed them. The store's
 * `cascadedAt` later than the group's last write says so: the new capture publishes them again,
 * and a capture after it publishes nothing.
 */
async function expectResumedAsMaster(run: TypeChangeRun): Promise<void> {
  expect(run.stopped?.state).toBe('failed');
  await expectSlaveAsMaster(run);
  const again = await run.captureAgain();
  expect({ state: again.ran.state, published: again.published }).toEqual({ state: 'succeeded', published: [] });
}

/** x replaced, base = [x, y] made again: the slave's cascade leaves base = [y], which only the regroup undoes. */
const BASE: Groups = { base: ['topp:x', 'topp:y'] };
async function replaceXInBase(catalog: GeoServerStandIn['catalog']): Promise<void> {
  replaceX(catalog);
  makeGroups(catalog, BASE);
}
const BASE_PUBLISHES = 15;

test('the count of publishes the pauses below cover is the capture\'s', async () => {
  await capture(BASE, replaceXInBase, async (run) => {
    await expectSlaveAsMaster(run);
    // The removal with recurse, then (the layer added again) the group published again: a pause between them leaves the slave behind.
    expect(run.published.indexOf('remove layer/topp:x recurse')).toBeLessThan(run.published.indexOf('add layer/topp:x'));
    expect(run.published.indexOf('add layer/topp:x')).toBeLessThan(run.published.indexOf('modify layerGroup/base'));
    expect(run.published).toHaveLength(BASE_PUBLISHES);
  });
});

test.each(Array.from({ length: BASE_PUBLISHES - 1 }, (_, index) => index + 1))(
  'a replaced layer\'s capture stopped after publish %i, then a new capture: the group its cascade changed on the slave is published again',
  async (pausedAfter) => {
    await capture(BASE, replaceXInBase, expectResumedAsMaster, undefined, pausedAfter);
  },
);

test.each(Array.from({ length: ONE_GROUP_PUBLISHES - 1 }, (_, index) => index + 1))(
  'the capture of both cascades in one group stopped after publish %i, then a new capture: the groups they emptied on the slave are added again',
  async (pausedAfter) => {
    await capture(ONE_GROUP, bothCascades, expectResumedAsMaster, undefined, pausedAfter);
  },
);

/**
 * x of topp replaced; the workspace sf holds a layer x of its own, which sf's group g names by its
 * bare name (GeoServer resolves it in sf). The cascade of topp:x's removal leaves g alone on every
 * node: the layer's removal needs no recurse for g, and g is not published again.
 */
test('a replaced resource whose local name a group of another workspace names: that group is not taken by its cascade', async () => {
  const SF = [
    add('workspace', 'sf', { name: 'sf' }),
    add('dataStore', 'sf:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'sf' } }),
    add('featureType', 'sf:x', { name: 'x', nativeName: 'x', title: 'x', store: { '@class': 'dataStore', name: 'sf:pg' } }),
    add('layer', 'sf:x', { name: 'x', resource: { '@class': 'featureType', name: 'sf:x' }, defaultStyle: { name: 'generic' } }),
    add('layerGroup', 'sf:g', { ...layerGroup('g', ['x']), workspace: { name: 'sf' } }),
  ];
  await captureOnASlave(
    standIn,
    [...history({}), ...SF],
    async () => {
      const catalog = seedMaster({});
      catalog.addWorkspace({ name: 'sf' });
      catalog.addStore('dataStore', 'sf', { name: 'pg', type: 'PostGIS' });
      catalog.addResource('featureType', 'sf', 'pg', { name: 'x', nativeName: 'x', title: 'x' });
      catalog.addLayerGroup('sf', layerGroup('g', ['x']));
      replaceX(catalog);
    },
    undefined,
    async (run) => {
      await expectSlaveAsMaster(run);
      expect(run.published.filter((change) => change.includes('layerGroup/sf:g') || change.includes('topp:x recurse'))).toEqual([]);
    },
  );
});

/**
 * x replaced while outer = [x, y] also changed in the web UI (to [x]): the cascade's regroup
 * publishes outer as the master holds it, which is outer's own difference too. The job counts
 * every difference fixed.
 */
test('a group changed on the master and taken by a cascade is counted fixed once', async () => {
  await capture(
    { outer: ['topp:x', 'topp:y'] },
    async (catalog) => {
      replaceX(catalog);
      makeGroups(catalog, { outer: ['topp:x'] });
    },
    async (run) => {
      await expectSlaveAsMaster(run);
      expect(run.published.filter((change) => change.includes('layerGroup/outer'))).toHaveLength(1);
      expect({ fixed: run.ran.progress.fixed, failed: run.ran.progress.failed }).toEqual({ fixed: run.ran.progress.toFix, failed: 0 });
    },
  );
});

test.each(Array.from({ length: BASE_PUBLISHES - 1 }, (_, index) => index + 1))(
  'a capture stopped after publish %i says how many of its differences it fixed, counted as its progress is',
  async (pausedAfter) => {
    await capture(
      BASE,
      replaceXInBase,
      async ({ stopped }) => {
        const said = /stopped after fixing (\d+) of its (\d+) differences/.exec(stopped?.error ?? '');
        expect(said && { fixed: Number(said[1]), of: Number(said[2]) }).toEqual({ fixed: stopped!.progress.fixed, of: stopped!.progress.toFix });
      },
      undefined,
      pausedAfter,
    );
  },
);
