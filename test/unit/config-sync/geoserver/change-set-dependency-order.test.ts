/**
 * A change set through `POST /config/events` whose changes a GeoServer cannot apply in the order
 * listed: a layer group before a layer it holds, a layer before its resource or naming a style the
 * set adds later, a store before its workspace, a feature type before its store. Every GeoServer
 * node applies a set's events in sequence order, so such a set would leave the slaves' GeoServers
 * apart from the master's store (a group's entry silently dropped) or park its changes there. In a
 * cluster with GeoServer nodes the events API refuses it (400 naming both changes, nothing stored);
 * listed in dependency order it reaches a slave's GeoServer whole.
 */
import { catchUp, type ApplyDeps } from '../../../../lambdas/config-sync/apply';
import { InvalidConfigEventError } from '../../../../lambdas/config-sync/errors';
import type { ConfigChange } from '../../../../lambdas/config-sync/events';
import { publishIdempotently, type PublishContext } from '../../../../lambdas/config-sync/publish';
import { standInPerTest } from '../../../support/standin-per-test';
import { add, applyDeps, CLUSTER, harness, modify, ref, remove } from '../fixtures';
import { groupEntry, ROADS_AND_RIVERS } from './capture-on-a-slave';

const MASTER: PublishContext = { cluster: CLUSTER, node: { name: 'master-1', role: 'master' } };
const SLAVE = { cluster: CLUSTER, node: 'gs-1' };
const [workspace, dataStore, roadsType, roadsLayer, riversType, riversLayer] = ROADS_AND_RIVERS as [ConfigChange, ConfigChange, ConfigChange, ConfigChange, ConfigChange, ConfigChange];
const overview = add('layerGroup', 'topp:overview', {
  name: 'overview',
  mode: 'SINGLE',
  publishables: { published: [groupEntry('layer', 'topp:roads'), groupEntry('layer', 'topp:rivers')] },
});
const line = add('style', 'topp:line', {
  name: 'line',
  format: 'sld',
  languageVersion: { version: '1.0.0' },
  body: '<StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>line</Name></NamedLayer></StyledLayerDescriptor>',
});
const styledRivers = add('layer', 'topp:rivers', { name: 'rivers', resource: { '@class': 'featureType', name: 'topp:rivers' }, defaultStyle: { name: 'topp:line' } });

/** What the events API answers a change set in a cluster with GeoServer nodes: the 400's issues, or the events' count. */
async function publishSet(changes: readonly ConfigChange[]) {
  const h = harness();
  const deps = { ...h.deps, appliesToGeoServers: true };
  try {
    const outcome = await publishIdempotently(deps, MASTER, { changes });
    return { h, published: outcome.replayed ? 0 : outcome.result.events.length };
  } catch (error) {
    if (!(error instanceof InvalidConfigEventError)) throw error;
    return { h, status: error.status, issues: error.issues, stored: await h.log.head(CLUSTER), sent: h.topic.published.length };
  }
}

describe('out of dependency order: refused whole, naming both changes', () => {
  test.each<[string, ConfigChange[], string, RegExp]>([
    [
      'a layer group before a layer it holds',
      [workspace, dataStore, roadsType, roadsLayer, overview, riversType, riversLayer],
      'changes[4].properties.publishables',
      /names layer topp:rivers, which changes\[6\] adds later in this change set/,
    ],
    ['a layer before its resource', [workspace, dataStore, roadsLayer, roadsType], 'changes[2].properties.resource', /names featureType topp:roads, which changes\[3\] adds later/],
    ['a layer naming a style added later', [workspace, dataStore, riversType, styledRivers, line], 'changes[3].properties.defaultStyle', /names style topp:line, which changes\[4\] adds later/],
    ['a store before its workspace', [dataStore, workspace], 'changes[0].object.id', /names workspace topp, which changes\[1\] adds later/],
    ['a feature type before its store', [workspace, roadsType, dataStore], 'changes[1].properties.store', /names dataStore topp:pg, which changes\[2\] adds later/],
    ['a modify moving a feature type to a store added later', [modify('featureType', 'topp:roads', { store: { '@class': 'dataStore', name: 'topp:pg2' } }), add('dataStore', 'topp:pg2', { name: 'pg2', type: 'PostGIS' })], 'changes[0].patch.store', /names dataStore topp:pg2, which changes\[1\] adds later/],
    ['a layer group naming a layer the set removed before it', [remove('layer', 'topp:rivers'), overview], 'changes[1].properties.publishables', /names layer topp:rivers, which changes\[0\] removes before it/],
  ])('%s', async (_, changes, field, message) => {
    const answer = await publishSet(changes);
    expect(answer).toMatchObject({ status: 400, stored: 0, sent: 0 });
    expect(answer.issues).toEqual([{ field, message: expect.stringMatching(message) }]);
    expect(answer.issues?.[0]?.message).toMatch(/list it before|a GeoServer/);
  });

  test('an object added again later in the set after an earlier add is in order; a cluster without GeoServers takes any order', async () => {
    expect(await publishSet([workspace, dataStore, roadsType, roadsLayer, riversType, riversLayer, overview, riversLayer])).toMatchObject({ published: 8 });
    const h = harness();
    const outcome = await publishIdempotently(h.deps, MASTER, { changes: [dataStore, workspace] });
    expect(outcome.replayed ? 0 : outcome.result.events.length).toBe(2);
  });
});

describe("on a slave's stand-in GeoServer", () => {
  const standIn = standInPerTest();

  function slave(h: ReturnType<typeof harness>): ApplyDeps {
    return { ...applyDeps(h), geoserver: { rest: standIn.rest, options: { sleep: async () => undefined, rejectionAttempts: 1 } }, warn: () => undefined };
  }

  test('the group listed before a layer it holds loses that entry on the GeoServer while the store keeps it: why such a set is refused', async () => {
    const h = harness();
    await h.appendAll([workspace, dataStore, roadsType, roadsLayer, overview, riversType, riversLayer]);
    await catchUp(slave(h), SLAVE);
    const [stored] = await h.store.readObjects(SLAVE.node, [ref('layerGroup', 'topp:overview')]);
    expect(JSON.stringify(stored?.properties.publishables)).toContain('topp:rivers');
    expect(JSON.stringify(standIn.geoserver.catalog.objects.layerGroup.get('topp:overview')?.publishables)).not.toContain('rivers');
  });

  test('the same set in dependency order is published and reaches the GeoServer whole', async () => {
    const { h, published } = await publishSet([workspace, dataStore, roadsType, roadsLayer, riversType, riversLayer, overview]);
    expect(published).toBe(7);
    await catchUp(slave(h), SLAVE);
    expect(await h.store.listParked(SLAVE.node)).toEqual([]);
    expect(JSON.stringify(standIn.geoserver.catalog.objects.layerGroup.get('topp:overview')?.publishables)).toMatch(/roads.*rivers/);
  });
});
