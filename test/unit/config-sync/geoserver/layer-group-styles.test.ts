/**
 * A layer group's styles as GeoServer holds them, one per entry (a null style, which a group added
 * without styles gets for each entry, and which GeoServer's JSON answers write as "null"): what a
 * node writes for a group (restBody), and how a drift scan or capture compares a stored group with
 * the one a GeoServer answers.
 */
import { objectDifferences } from '../../../../lambdas/config-sync/geoserver/drift';
import { restBody, restTarget } from '../../../../lambdas/config-sync/geoserver/rest-mapping';
import type { JsonObject } from '../../../../lambdas/config-sync/merge-patch';

const roads = { '@type': 'layer', name: 'topp:roads' };
const rivers = { '@type': 'layer', name: 'topp:rivers' };
const group = (properties: Record<string, unknown>) => ({ type: 'layerGroup' as const, id: 'base', properties: { name: 'base', ...properties } as never });

describe('a node writing a layer group', () => {
  it('states a null style per entry when the group states its entries without styles, so a GeoServer holding fewer entries takes it', () => {
    const properties = { name: 'base', publishables: { published: [roads, rivers] } };
    expect(restBody('layerGroup', restTarget('layerGroup', 'base', properties), properties)).toEqual({
      layerGroup: { name: 'base', publishables: { published: [roads, rivers] }, styles: { style: ['', ''] } },
    });
  });

  it('keeps named styles, writes an unnamed one as "", and leaves a group not stating its entries as it is', () => {
    const properties: JsonObject = { name: 'base', publishables: { published: [roads, rivers] }, styles: { style: [{ name: 'roads' }, {}] } };
    expect(restBody('layerGroup', restTarget('layerGroup', 'base', properties), properties).layerGroup).toMatchObject({ styles: { style: [{ name: 'roads' }, ''] } });
    const titled = { name: 'base', title: 'Base map' };
    expect(restBody('layerGroup', restTarget('layerGroup', 'base', titled), titled)).toEqual({ layerGroup: titled });
  });

  it('reads a style given as text as GeoServer does: a name is that style, "null" and "" the default one', () => {
    const properties: JsonObject = { name: 'base', publishables: { published: [roads, rivers, roads] }, styles: { style: ['roads', 'null', ''] } };
    expect(restBody('layerGroup', restTarget('layerGroup', 'base', properties), properties).layerGroup).toMatchObject({ styles: { style: [{ name: 'roads' }, '', ''] } });
  });

  it('writes a null style per entry for a lone null style of several entries, a group stored before the publish counted it as one style', () => {
    const properties: JsonObject = { name: 'base', publishables: { published: [roads, rivers] }, styles: { style: null } };
    expect(restBody('layerGroup', restTarget('layerGroup', 'base', properties), properties).layerGroup).toMatchObject({ styles: { style: ['', ''] } });
  });
});

describe('comparing a stored layer group with the GeoServer\'s', () => {
  // As GeoServer answers a group of two entries added without styles.
  const held = { name: 'base', publishables: { published: [roads, rivers] }, styles: { style: ['null', 'null'] } };

  it.each([
    ['left out', {}],
    ['stated as {}', { styles: { style: [{}, {}] } }],
    ['stated as ""', { styles: { style: ['', ''] } }],
    ['stated as "null"', { styles: { style: ['null', 'null'] } }],
    ['stated as null', { styles: { style: [null, null] } }],
    ['stated as a null list', { styles: { style: null } }],
  ])('finds no difference between null styles %s and the "null" GeoServer answers, either way', (_, styles) => {
    const stored = group({ publishables: { published: [roads, rivers] }, ...styles });
    expect(objectDifferences(stored, held, undefined, 'both-ways')).toEqual([]);
    expect(objectDifferences(stored, held, undefined, 'stored-properties')).toEqual([]);
  });

  it('finds no difference between a style named as text and the reference GeoServer answers for it', () => {
    const stored = group({ publishables: { published: [roads, rivers] }, styles: { style: ['roads', ''] } });
    const answered = { ...held, styles: { style: [{ name: 'roads', href: 'http://localhost:8080/geoserver/rest/styles/roads.json' }, 'null'] } };
    expect(objectDifferences(stored, answered, undefined, 'both-ways')).toEqual([]);
  });

  it('finds no difference between a root layer style named as text and the reference GeoServer answers for it', () => {
    const stored = group({ publishables: { published: [roads, rivers] }, rootLayerStyle: 'roads' });
    const answered = { ...held, rootLayerStyle: { name: 'roads', href: 'http://localhost:8080/geoserver/rest/styles/roads.json' } };
    expect(objectDifferences(stored, answered, undefined, 'both-ways')).toEqual([]);
    expect(objectDifferences(stored, answered, undefined, 'stored-properties')).toEqual([]);
    expect(objectDifferences(group({ publishables: { published: [roads, rivers] }, rootLayerStyle: 'rivers' }), answered, undefined, 'both-ways')).toEqual(['rootLayerStyle.name']);
  });

  it('finds no difference in the styles of a group this node holds only a modify of, stating its entries alone', () => {
    // Written without styles (restBody), the GeoServer kept its own, as the master's did.
    const patched = { ...group({ publishables: { published: [roads, rivers] } }), incomplete: true };
    const answered = { ...held, styles: { style: [{ name: 'roads', href: 'http://localhost:8080/geoserver/rest/styles/roads.json' }, 'null'] } };
    expect(objectDifferences(patched, answered, undefined, 'stored-properties')).toEqual([]);
    expect(objectDifferences({ ...patched, incomplete: false }, answered, undefined, 'stored-properties')).toEqual(['styles.style']);
  });

  it('still finds a style that differs, or an entry more', () => {
    const named = group({ publishables: { published: [roads, rivers] }, styles: { style: [{ name: 'roads' }, ''] } });
    expect(objectDifferences(named, held, undefined, 'both-ways')).toEqual(['styles.style']);
    const more = group({ publishables: { published: [roads, rivers, roads] } });
    expect(objectDifferences(more, held, undefined, 'both-ways')).toEqual(expect.arrayContaining(['publishables.published', 'styles.style']));
  });
});
