// A remove with recurse of a style parked on a GeoServer node, the style added again on the master
// and a layer and a layer group switched to it, which the node applied, then the node redriven:
// applied out of order, GeoServer's recursive style delete would reset them (StyleController's
// DELETE with recurse, CascadeDeleteVisitor.visit(StyleInfo)) while the node's store and the master
// keep them on the new style. It stays parked, naming them.
import { applyDeliveredEvent, retryParked, type ApplyDeps } from '../../../../lambdas/config-sync/apply';
import type { ConfigChange } from '../../../../lambdas/config-sync/events';
import type { GeoServerRest, RestRequest } from '../../../../lambdas/config-sync/geoserver/ports';
import { add, applyDeps, harness, modify } from '../fixtures';
import { standInPerTest } from '../../../support/standin-per-test';

const NODE = { cluster: 'test-cluster', node: 'gs-1' };
const standIn = standInPerTest();

const ROADS_STYLE = { name: 'roads', format: 'sld', filename: 'roads.sld', body: '<StyledLayerDescriptor version="1.0.0"/>' };
const OVERVIEW = { name: 'overview', workspace: { name: 'topp' }, publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }] } };

/**
 * The catalog up to the style's removal with recurse, which the node's GeoServer refuses once
 * (parked), the style added again behind it, then `afterwards`.
 */
async function parkedRemovalOfRoadsStyle(afterwards: readonly ConfigChange[]) {
  const { geoserver, rest } = standIn;
  let refuse = 1;
  const flaky: GeoServerRest = {
    url: rest.url,
    async send(request: RestRequest) {
      if (refuse > 0 && request.method === 'DELETE' && request.path === '/styles/roads') {
        refuse -= 1;
        return { status: 500, text: 'Error removing style: connection refused' };
      }
      return rest.send(request);
    },
  } as GeoServerRest;
  const h = harness();
  const deps: ApplyDeps = { ...applyDeps(h), geoserver: { rest: flaky, options: { sleep: async () => undefined, rejectionAttempts: 1 } }, warn: () => undefined };
  const events = await h.appendAll([
    add('workspace', 'topp', { name: 'topp' }),
    add('dataStore', 'topp:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } }),
    add('featureType', 'topp:roads', { name: 'roads', nativeName: 'roads', store: { '@class': 'dataStore', name: 'topp:pg' } }),
    add('layer', 'topp:roads', { name: 'roads', resource: { '@class': 'featureType', name: 'topp:roads' }, defaultStyle: { name: 'generic' } }),
    add('style', 'roads', ROADS_STYLE),
    modify('layer', 'topp:roads', { defaultStyle: { name: 'roads' } }),
    { kind: 'remove', object: { type: 'style', id: 'roads' }, recurse: true } as ConfigChange, // refused once: parked
    modify('layer', 'topp:roads', { defaultStyle: { name: 'generic' } }), // as the master's cascade publishes it
    add('style', 'roads', ROADS_STYLE), // parked behind the removal
    ...afterwards,
  ]);
  for (const event of events) await applyDeliveredEvent(deps, NODE, event);
  const [record] = await h.store.listParked('gs-1');
  expect(record?.sequences).toEqual([events[6]?.sequence, events[8]?.sequence]);
  return { h, geoserver, deps, events };
}

test('a parked remove with recurse of a style stays parked when its node applied layers and groups naming it after it, and nothing is reset', async () => {
  const { h, geoserver, deps, events } = await parkedRemovalOfRoadsStyle([
    modify('layer', 'topp:roads', { defaultStyle: { name: 'roads' } }),
    add('layerGroup', 'topp:overview', { ...OVERVIEW, styles: { style: [{ name: 'roads' }] } }),
  ]);
  expect(geoserver.catalog.objects.layer.get('topp:roads')).toMatchObject({ defaultStyle: { name: 'roads' } });

  const result = await retryParked(deps, NODE);

  expect(result.cleared).toEqual([]);
  expect(result.stillParked).toEqual([
    expect.objectContaining({
      sequences: [events[6]?.sequence, events[8]?.sequence],
      reason: expect.stringMatching(/^REMOVE_WOULD_TAKE_LATER_OBJECTS: .*style roads.*would reset the styles of layer topp:roads, layerGroup topp:overview, which the node applied after it.*POST \/nodes\/gs-1\/resync/),
    }),
  ]);
  // The GeoServer still holds the style and both users on it, as the node's store does.
  expect(geoserver.catalog.objects.style.has('roads')).toBe(true);
  expect(geoserver.catalog.objects.layer.get('topp:roads')).toMatchObject({ defaultStyle: { name: 'roads' } });
  expect(geoserver.catalog.objects.layerGroup.get('topp:overview')).toMatchObject({ styles: { style: [{ name: 'roads' }] } });
  expect((await h.store.readObjects('gs-1', [{ type: 'layer', id: 'topp:roads' }]))[0]?.properties).toMatchObject({ defaultStyle: { name: 'roads' } });
});

test('a parked remove with recurse of a style whose later users name other styles is redriven as usual', async () => {
  const { geoserver, deps, events } = await parkedRemovalOfRoadsStyle([
    modify('layer', 'topp:roads', { title: 'Roads' }),
    add('layerGroup', 'topp:overview', { ...OVERVIEW, styles: { style: [{ name: 'generic' }] } }),
  ]);

  const result = await retryParked(deps, NODE);

  expect(result).toEqual({ cleared: [events[6]?.sequence, events[8]?.sequence], stillParked: [] });
  expect(geoserver.catalog.objects.style.has('roads')).toBe(true);
  expect(geoserver.catalog.objects.layer.get('topp:roads')).toMatchObject({ defaultStyle: { name: 'generic' }, title: 'Roads' });
});
