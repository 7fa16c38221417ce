/**
 * Names with a dot in them (`topp.json`, `roads.xml`, `lines.css`), which the name rule allows,
 * on a GeoServer node: GeoServer reads an extension on a path's last segment as the
 * representation, so a call must not send such a name bare (rest-mapping.ts, `addressed`).
 * Applied by the real applier to the stand-in GeoServer, which checks every request against the
 * REST reference.
 */
import { applyDeliveredEvent, type ApplyDeps } from '../../../../lambdas/config-sync/apply';
import type { ConfigChange } from '../../../../lambdas/config-sync/events';
import { GeoServerReader } from '../../../../lambdas/config-sync/geoserver/drift';
import { add, applyDeps, harness, modify } from '../fixtures';
import { standInPerTest } from '../../../support/standin-per-test';

const NODE = { cluster: 'test-cluster', node: 'gs-1' };
const CSS = '* { stroke: #333333; }\n';
const SLD = '<?xml version="1.0"?><StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>x</Name></NamedLayer></StyledLayerDescriptor>';
const standIn = standInPerTest();

test('objects whose names end like a representation are created, changed and removed as themselves, next to those named without it', async () => {
  const { geoserver, rest } = standIn;
  const h = harness();
  const deps: ApplyDeps = { ...applyDeps(h), geoserver: { rest, options: { sleep: async () => undefined } }, warn: () => undefined };
  const apply = async (changes: ConfigChange[]) => {
    for (const event of await h.appendAll(changes)) {
      const result = await applyDeliveredEvent(deps, NODE, event);
      expect(result.applied.map((step) => [step.sequence, step.effect, step.geoserver?.kind])).toEqual([[event.sequence, expect.any(String), 'applied']]);
    }
  };
  await apply([
    add('workspace', 'topp', { name: 'topp' }),
    add('dataStore', 'topp:pg', { name: 'pg', type: 'PostGIS', workspace: { name: 'topp' } }),
    add('workspace', 'topp.json', { name: 'topp.json' }),
    add('dataStore', 'topp.json:pg.xml', { name: 'pg.xml', type: 'PostGIS', workspace: { name: 'topp.json' } }),
    add('featureType', 'topp.json:roads.html', { name: 'roads.html', store: { '@class': 'dataStore', name: 'topp.json:pg.xml' } }),
    add('style', 'lines.css', { name: 'lines.css', format: 'css', languageVersion: { version: '1.0.0' }, body: CSS }),
    add('style', 'lines', { name: 'lines', format: 'sld', languageVersion: { version: '1.0.0' }, body: SLD }),
    add('style', 'roads.sld', { name: 'roads.sld', format: 'sld', languageVersion: { version: '1.0.0' }, body: SLD }),
    modify('dataStore', 'topp.json:pg.xml', { description: 'changed' }),
  ]);
  expect([...geoserver.catalog.objects.workspace.keys()].sort()).toEqual(['topp', 'topp.json']);
  expect([...geoserver.catalog.objects.dataStore.keys()].sort()).toEqual(['topp.json:pg.xml', 'topp:pg']);
  expect(geoserver.catalog.get('dataStore', 'topp.json:pg.xml')).toMatchObject({ description: 'changed' });
  expect(geoserver.catalog.get('dataStore', 'topp:pg')).not.toHaveProperty('description');
  expect(geoserver.catalog.get('featureType', 'topp.json:roads.html')).toMatchObject({ name: 'roads.html' });
  expect(geoserver.catalog.styleBodies.get('lines.css')?.bytes.toString('utf8')).toBe(CSS);
  expect(geoserver.catalog.styleBodies.get('roads.sld')?.bytes.toString('utf8')).toBe(SLD);
  expect(geoserver.catalog.styleBodies.get('lines')?.bytes.toString('utf8')).toBe(SLD);

  // A drift read finds each as itself.
  const reader = new GeoServerReader(rest);
  expect(await reader.object('dataStore', 'topp.json:pg.xml', {})).toMatchObject({ name: 'pg.xml' });
  expect(await reader.styleBody('lines.css', { name: 'lines.css', format: 'css' })).toBe(CSS);

  await apply([{ kind: 'remove', object: { type: 'style', id: 'lines.css' }, recurse: false } as ConfigChange]);
  await apply([{ kind: 'remove', object: { type: 'workspace', id: 'topp.json' }, recurse: true } as ConfigChange]);
  expect([...geoserver.catalog.objects.workspace.keys()]).toEqual(['topp']);
  expect([...geoserver.catalog.objects.dataStore.keys()]).toEqual(['topp:pg']);
  expect([...geoserver.catalog.objects.style.keys()].sort()).toEqual(['lines', 'roads.sld']);
});
