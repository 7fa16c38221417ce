/**
 * A layer's styles given as text: GeoServer reads a `defaultStyle` or `styles` entry given as text
 * by the text, as the style's name (XStreamPersister's ReferenceConverter), so "roads" is the style
 * roads, which it answers as a reference. A drift scan or capture compares them as one style.
 */
import { objectDifferences } from '../../../../lambdas/config-sync/geoserver/drift';

const layer = (properties: Record<string, unknown>) => ({ type: 'layer' as const, id: 'topp:roads', properties: { name: 'roads', ...properties } as never });
const reference = (name: string) => ({ name, href: `http://localhost:8080/geoserver/rest/styles/${name}.json` });

describe("comparing a stored layer with the GeoServer's", () => {
  // As GeoServer answers the layer after a PUT naming its styles as text.
  const held = { name: 'roads', defaultStyle: reference('roads'), styles: { '@class': 'linked-hash-set', style: [reference('generic'), reference('roads')] } };

  it.each(['both-ways', 'stored-properties'] as const)('finds no difference between styles named as text and the references GeoServer answers for them (%s)', (mode) => {
    const stored = layer({ defaultStyle: 'roads', styles: { '@class': 'linked-hash-set', style: ['generic', 'roads'] } });
    expect(objectDifferences(stored, held, undefined, mode)).toEqual([]);
  });

  it('finds none for a list of one style given as its one entry, as text', () => {
    const one = { ...held, styles: { '@class': 'linked-hash-set', style: [reference('roads')] } };
    expect(objectDifferences(layer({ styles: { '@class': 'linked-hash-set', style: 'roads' } }), one, undefined, 'stored-properties')).toEqual([]);
  });

  it('still finds a style that differs', () => {
    const stored = layer({ defaultStyle: 'generic', styles: { '@class': 'linked-hash-set', style: ['generic', 'roads'] } });
    expect(objectDifferences(stored, held, undefined, 'both-ways')).toEqual(['defaultStyle.name']);
  });
});
