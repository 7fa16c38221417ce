/**
 * A layer group add published through `POST /config/events` without `publishables` (its
 * entries): GeoServer's REST POST refuses a group holding no layer or layer group ("layer group
 * must not be empty"), so every node would park the add. The events API answers 400 naming
 * properties.publishables, storing and sending nothing; a patch leaving the entries out keeps
 * them, and an event already in the log (inline or offloaded) is not judged again. The gateway
 * passes such a POST on, and the master's GeoServer refuses it itself.
 */
import { InvalidConfigEventError } from '../../../lambdas/config-sync/errors';
import { parsePublishedEvent, parseStoredChange } from '../../../lambdas/config-sync/events';
import { layerGroupEntriesProblem } from '../../../lambdas/config-sync/gateway/catalog-required';
import type { ManagedPath } from '../../../lambdas/config-sync/gateway/rest-paths';
import { publishIdempotently, type PublishContext } from '../../../lambdas/config-sync/publish';
import { GeoServerError, StandInCatalog } from '../../support/geoserver-standin/catalog';
import { add, CLUSTER, harness, modify } from './fixtures';

const MASTER: PublishContext = { cluster: CLUSTER, node: { name: 'master-1', role: 'master' } };
const withoutEntries = { name: 'base', workspace: { name: 'topp' }, title: 'Base map' };
const roads = { '@type': 'layer', name: 'topp:roads' };

test('an add of a layer group without publishables is 400 naming properties.publishables, nothing stored or sent', async () => {
  const h = harness();
  const head = await h.log.head(CLUSTER);
  const error = await publishIdempotently(h.deps, MASTER, add('layerGroup', 'topp:base', withoutEntries)).then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(InvalidConfigEventError);
  expect(error).toMatchObject({ status: 400, field: 'properties.publishables' });
  expect((error as Error).message).toMatch(/must hold at least one layer or layer group.*list them in publishables\.published/);
  expect(await h.log.head(CLUSTER)).toBe(head);
  expect(h.topic.published).toEqual([]);
  expect(h.store.allObjects('master-1')).toEqual([]);
});

test('with its entries the add is published; a patch leaving publishables out keeps them and is published', async () => {
  const h = harness();
  await publishIdempotently(h.deps, MASTER, add('layerGroup', 'topp:base', { ...withoutEntries, publishables: { published: roads } }));
  await publishIdempotently(h.deps, MASTER, modify('layerGroup', 'topp:base', { title: 'Renamed' }));
  expect(h.topic.published).toHaveLength(2);
  expect(h.store.allObjects('master-1').find((object) => object.id === 'topp:base')?.properties).toMatchObject({ title: 'Renamed', publishables: { published: roads } });
});

test('an add without publishables already in the log, inline or offloaded, is read as before', () => {
  const change = add('layerGroup', 'topp:base', withoutEntries);
  const metadata = { sequence: 7, cluster: CLUSTER, origin: 'master-1', publishedAt: '2026-12-01T00:00:00.000Z' };
  expect(parsePublishedEvent({ ...metadata, ...change })).toMatchObject({ sequence: 7, ...change });
  expect(parseStoredChange(change)).toMatchObject(change);
});

test("the gateway passes a POST without publishables on, and the master's GeoServer refuses it (400), holding nothing", () => {
  const groups: ManagedPath = { managed: true, type: 'layerGroup', workspace: 'topp', path: '/workspaces/topp/layergroups' };
  const member = (name: string) => ({ present: name in withoutEntries, value: (withoutEntries as Record<string, unknown>)[name] });
  expect(layerGroupEntriesProblem(groups, 'POST', member)).toBeUndefined();
  const geoserver = new StandInCatalog();
  geoserver.addWorkspace({ name: 'topp' });
  let refused: unknown;
  try {
    geoserver.addLayerGroup('topp', { name: 'base', title: 'Base map' });
  } catch (error) {
    refused = error;
  }
  expect(refused).toBeInstanceOf(GeoServerError);
  expect(refused).toMatchObject({ status: 400, message: 'layer group must not be empty' });
  expect(geoserver.get('layerGroup', 'topp:base')).toBeUndefined();
});
