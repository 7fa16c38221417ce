/**
 * What a publish must carry for every node's GeoServer to apply it: 400 naming the field
 * otherwise, and real GeoServer representations accepted as they are.
 */
import { parseConfigChange } from '../../../../lambdas/config-sync/events';
import { InvalidConfigEventError } from '../../../../lambdas/config-sync/errors';

function refusal(body: unknown): { field: string; message: string } {
  try {
    parseConfigChange(body);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfigEventError);
    const { field, message } = error as InvalidConfigEventError;
    return { field: field ?? '', message };
  }
  throw new Error(`accepted ${JSON.stringify(body)}`);
}

const add = (type: string, id: string, properties: unknown) => ({ kind: 'add', object: { type, id }, properties });
const modify = (type: string, id: string, patch: unknown) => ({ kind: 'modify', object: { type, id }, patch });

describe('GeoServer representations in events', () => {
  it('accepts what GET on GeoServer’s REST API answers (inside the wrapper)', () => {
    const accepted = [
      add('workspace', 'topp', { name: 'topp', isolated: false }),
      add('namespace', 'topp', { prefix: 'topp', uri: 'http://www.openplans.org/topp', isolated: false }),
      add('dataStore', 'topp:roads_pg', {
        name: 'roads_pg',
        type: 'PostGIS',
        enabled: true,
        workspace: { name: 'topp', href: 'http://localhost:8080/geoserver/rest/workspaces/topp.json' },
        connectionParameters: { entry: [{ '@key': 'host', $: 'db.internal' }, { '@key': 'dbtype', $: 'postgis' }] },
      }),
      add('featureType', 'topp:roads', { name: 'roads', nativeName: 'roads', store: { '@class': 'dataStore', name: 'topp:roads_pg' } }),
      add('coverage', 'nurc:dem', { name: 'dem', store: { '@class': 'coverageStore', name: 'dem_store' } }),
      add('layer', 'topp:roads', { name: 'roads', resource: { '@class': 'featureType', name: 'topp:roads' }, defaultStyle: { name: 'line' } }),
      add('style', 'line', { name: 'line', format: 'sld', languageVersion: { version: '1.0.0' }, filename: 'line.sld', body: '<StyledLayerDescriptor/>' }),
      // Without a filename the apply names the file after the style (restBody); a patch keeps it.
      add('style', 'topp:css', { format: 'css', body: '* { stroke: black; }' }),
      modify('style', 'line', { filename: 'line2.sld' }),
      add('layerGroup', 'topp:base', { name: 'base', workspace: { name: 'topp' }, mode: 'SINGLE', publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }] } }),
      // A group holding a global group of the same local name, and GeoServer's list of one as an object.
      add('layerGroup', 'topp:outer', { publishables: { published: { '@type': 'layerGroup', name: 'outer' } } }),
      add('layerGroup', 'outer', { publishables: { published: [{ '@type': 'layerGroup', name: 'topp:outer' }] } }),
      // GeoServer's PUT leaves what a patch's null removes as it was (unclearedProperties).
      modify('layerGroup', 'base', { publishables: { published: null } }),
      add('layerGroup', 'sf:g', { publishables: { published: [{ '@type': 'layer', name: 'sf:roads' }, { '@type': 'layerGroup', name: 'base' }] } }),
      // one style per entry, the default ones as GeoServer answers them or as {}
      add('layerGroup', 'sf:h', { publishables: { published: [{ '@type': 'layer', name: 'sf:roads' }, { '@type': 'layer', name: 'sf:rivers' }, { '@type': 'layer', name: 'sf:lakes' }] }, styles: { style: ['null', {}, { name: 'line' }] } }),
      { kind: 'remove', object: { type: 'workspace', id: 'topp' }, recurse: true },
    ];
    for (const change of accepted) expect(() => parseConfigChange(change)).not.toThrow();
    expect(parseConfigChange({ kind: 'remove', object: { type: 'workspace', id: 'topp' }, recurse: true })).toEqual({
      kind: 'remove',
      object: { type: 'workspace', id: 'topp' },
      recurse: true,
    });
  });

  it.each([
    ['a name that disagrees with the id', add('dataStore', 'topp:pg', { name: 'other' }), 'properties.name', 'must agree with the object id topp:pg'],
    ['a namespace prefix that disagrees', add('namespace', 'topp', { prefix: 'sf' }), 'properties.prefix', 'expected "topp"'],
    ['a workspace that disagrees', add('dataStore', 'topp:pg', { workspace: { name: 'sf' } }), 'properties.workspace', 'expected {"name": "topp"}'],
    ['a feature type without its store', add('featureType', 'topp:roads', { name: 'roads' }), 'properties.store', 'must name its data store'],
    ['a store reference without a name', add('featureType', 'topp:roads', { store: { '@class': 'dataStore' } }), 'properties.store', 'must name its data store'],
    ['a store of another workspace', add('featureType', 'topp:roads', { store: { name: 'sf:pg' } }), 'properties.store.name', 'workspace sf'],
    ['a store named ".." (a dot segment of the REST path)', add('featureType', 'topp:roads', { store: { name: '..' } }), 'properties.store.name', 'not "." or ".."'],
    ['a qualified store named "."', add('coverage', 'nurc:dem', { store: { name: 'nurc:.' } }), 'properties.store.name', 'not "." or ".."'],
    ['a store name with a slash', add('wmsLayer', 'topp:weather', { store: { name: 'a/b' } }), 'properties.store.name', 'must be a store name'],
    ['a coverage without its store', add('coverage', 'nurc:dem', {}), 'properties.store', 'coverage store'],
    ['a WMS layer without its store', add('wmsLayer', 'topp:w', {}), 'properties.store', 'WMS store'],
    ['a WMTS layer without its store', add('wmtsLayer', 'topp:w', {}), 'properties.store', 'WMTS store'],
    ['a layer without its resource', add('layer', 'topp:roads', { name: 'roads' }), 'properties.resource', 'must name its resource'],
    ['a style without a format', add('style', 'line', { body: '<sld/>' }), 'properties.format', 'must state its format'],
    ['a style of an unknown format', add('style', 'line', { format: 'svg', body: '<svg/>' }), 'properties.format', 'got "svg"'],
    ['an SLD of an unknown version', add('style', 'line', { format: 'sld', languageVersion: { version: '2.0' }, body: '<sld/>' }), 'properties.languageVersion.version', '1.0.0 or 1.1.0'],
    ['a rename in a patch', modify('layer', 'topp:roads', { name: 'streets' }), 'patch.name', 'expected "roads"'],
    ['a patch removing the name', modify('workspace', 'topp', { name: null }), 'patch.name', 'cannot be removed'],
    ['a patch removing a feature type’s store', modify('featureType', 'topp:roads', { store: null }), 'patch.store', 'must keep naming its data store'],
    ['a patch removing the store’s name', modify('coverage', 'nurc:dem', { store: { name: null } }), 'patch.store', 'must keep naming'],
    ['a patch naming the store ".."', modify('featureType', 'topp:roads', { store: { name: 'topp:..' } }), 'patch.store.name', 'not "." or ".."'],
    ['a patch replacing the store reference with a string', modify('featureType', 'topp:roads', { store: 'topp:pg' }), 'patch.store', 'with an object'],
    ['a patch replacing the store reference with an array', modify('coverage', 'nurc:dem', { store: [1] }), 'patch.store', 'with an object'],
    ['a patch replacing a layer’s resource with a string', modify('layer', 'topp:roads', { resource: 'gone' }), 'patch.resource', 'with an object'],
    ['a patch removing a layer’s resource', modify('layer', 'topp:roads', { resource: null }), 'patch.resource', 'must keep naming its resource'],
    ['a patch removing a style’s format', modify('style', 'line', { format: null }), 'patch.format', 'must state its format'],
    ['a layer group holding itself', add('layerGroup', 'topp:loop', { publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }, { '@type': 'layerGroup', name: 'topp:loop' }] } }), 'properties.publishables.published[1].name', 'cannot hold itself'],
    ['a global layer group holding itself, alone (a list of one)', add('layerGroup', 'loop', { publishables: { published: { '@type': 'layerGroup', name: 'loop' } } }), 'properties.publishables.published.name', 'cannot hold itself'],
    ['a workspace\'s layer group holding another workspace\'s layer', add('layerGroup', 'sf:g', { publishables: { published: [{ '@type': 'layer', name: 'sf:roads' }, { '@type': 'layer', name: 'topp:roads' }] } }), 'properties.publishables.published[1].name', 'of workspace topp'],
    ['an empty EO layer group', add('layerGroup', 'eo', { mode: 'EO', rootLayer: { name: 'topp:roads' }, publishables: { published: [] } }), 'properties.publishables.published', 'at least one'],
    ['a patch emptying a layer group', modify('layerGroup', 'base', { publishables: { published: [] } }), 'patch.publishables.published', 'at least one'],
    ['an empty layer group', add('layerGroup', 'empty', { mode: 'SINGLE', publishables: { published: [] } }), 'properties.publishables.published', 'at least one'],
    ['a layer group stating fewer styles than entries', add('layerGroup', 'base', { publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }, { '@type': 'layer', name: 'topp:rivers' }] }, styles: { style: [{ name: 'line' }] } }), 'properties.styles.style', 'states 1 style for 2 entries'],
    ['a patch stating entries and more styles than them', modify('layerGroup', 'base', { publishables: { published: { '@type': 'layer', name: 'topp:roads' } }, styles: { style: ['null', 'null'] } }), 'patch.styles.style', 'states 2 styles for 1 entry'],
    ['a style filename out of the styles folder', add('style', 'evil', { format: 'sld', filename: '../../security/evil.sld', body: '<sld/>' }), 'properties.filename', 'one file'],
    // GeoServer's catalog refuses a blank filename ("Style fileName must not be null") on every node.
    ['an empty style filename', add('style', 'line', { format: 'sld', filename: '', body: '<sld/>' }), 'properties.filename', 'cannot be blank'],
    ['a style filename of white space', add('style', 'line', { format: 'sld', filename: ' \t', body: '<sld/>' }), 'properties.filename', 'cannot be blank'],
    ['a patch blanking a style’s filename', modify('style', 'line', { filename: '  ' }), 'patch.filename', 'cannot be blank'],
    // A node's copy without the master's filename, or with one no GeoServer answers, would have the
    // apply name the file after the style: not the file the master holds.
    ['a patch removing a style’s filename', modify('style', 'line', { filename: null }), 'patch.filename', 'a patch cannot remove'],
    ['a patch giving a style’s filename as a number', modify('style', 'line', { filename: 7 }), 'patch.filename', 'a JSON string'],
    ['a patch giving a style’s filename as an object', modify('style', 'line', { filename: { $: 'line.sld' } }), 'patch.filename', 'a JSON string'],
    ['a style added with a filename that is a list', add('style', 'line', { format: 'sld', filename: ['line.sld'], body: '<sld/>' }), 'properties.filename', 'a JSON string'],
    ['a style added with a null filename', add('style', 'line', { format: 'sld', filename: null, body: '<sld/>' }), 'properties.filename', 'a JSON string'],
    ['a remove with a recurse that is not a boolean', { kind: 'remove', object: { type: 'workspace', id: 'topp' }, recurse: 'yes' }, 'recurse', 'expected boolean'],
  ])('refuses %s, naming the field', (_what, body, field, message) => {
    const answer = refusal(body);
    expect(answer.field).toBe(field);
    expect(answer.message).toContain(message);
  });
});
