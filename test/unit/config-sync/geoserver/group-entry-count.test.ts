/**
 * How many entries a layer group's `publishables` states, on every form a JSON body may give it:
 * the one count the publish check, the gateway and the stand-in share (layerGroupEntries), checked
 * against the count GeoServer's reader makes, and an entry naming nothing refused alike by the
 * events API and the gateway, as GeoServer drops it or refuses the group.
 */
import { parseConfigChange } from '../../../../lambdas/config-sync/events';
import { layerGroupEntriesProblem, layerGroupStylesProblem } from '../../../../lambdas/config-sync/gateway/catalog-required';
import type { ManagedPath } from '../../../../lambdas/config-sync/gateway/rest-paths';
import type { JsonObject, JsonValue } from '../../../../lambdas/config-sync/merge-patch';
import { groupEntryName, layerGroupEntries } from '../../../../lambdas/config-sync/representations';
import { statedEntryCount } from '../../../support/geoserver-standin/catalog';

const roads = { '@type': 'layer', name: 'topp:roads' };
const rivers = { '@type': 'layer', name: 'topp:rivers' };

/**
 * Each `publishables` form, how many entries GeoServer's list gets from it (one per `<published>`
 * element Jettison makes: a JSON null one without text, "" one with empty text; none for an empty
 * list or no `published`), and how many of them name a layer or layer group.
 */
const FORMS: readonly [string, JsonValue, number, number][] = [
  ['"published": null', { published: null }, 1, 0],
  ['"published": ""', { published: '' }, 1, 0],
  ['"published": [null]', { published: [null] }, 1, 0],
  ['"published": {}', { published: {} }, 1, 0],
  ['"published": [roads, null]', { published: [roads, null] }, 2, 1],
  ['"published": []', { published: [] }, 0, 0],
  ['"publishables": null', null, 0, 0],
  ['"publishables": ""', '', 0, 0],
  ['"publishables": {}', {}, 0, 0],
  ['"published": roads', { published: roads }, 1, 1],
  ['"published": "topp:roads" (a name as text)', { published: 'topp:roads' }, 1, 1],
  ['"published": [roads, rivers]', { published: [roads, rivers] }, 2, 2],
];

const groupPath: ManagedPath = { managed: true, type: 'layerGroup', workspace: 'topp', path: '/workspaces/topp/layergroups' };

/** The events API's answer to an add of the group: undefined when taken, else the refused field. */
function publishRefuses(group: JsonObject): string | undefined {
  try {
    parseConfigChange({ kind: 'add', object: { type: 'layerGroup', id: 'topp:base' }, properties: group });
    return undefined;
  } catch (error) {
    return (error as { field?: string }).field ?? String(error);
  }
}

/** The gateway's answer to a POST of the group's JSON body: undefined when passed on, else the member refused. */
function gatewayRefuses(group: JsonObject): string | undefined {
  const member = (name: string) => ({ present: name in group, value: group[name] });
  const entries = layerGroupEntriesProblem(groupPath, 'POST', member);
  if (entries !== undefined) return entries.member;
  return layerGroupStylesProblem(groupPath, 'POST', member) === undefined ? undefined : 'styles';
}

describe('the number of entries a layer group states', () => {
  it.each(FORMS)('%s states as many as GeoServer reads', (_form, publishables, count) => {
    expect(layerGroupEntries({ publishables })).toHaveLength(count);
    // The stand-in, which plays GeoServer in the integration tests, reads the form the same way.
    expect(statedEntryCount({ publishables })).toBe(count);
  });

  it.each(FORMS)('%s: as many name a layer or layer group', (_form, publishables, _count, named) => {
    expect(layerGroupEntries({ publishables }).filter((entry) => groupEntryName(entry) !== undefined)).toHaveLength(named);
  });

  it.each(FORMS)('%s is taken or refused alike by the publish check and the gateway', (_form, publishables, count, named) => {
    const group = { publishables } as JsonObject;
    const fits = count > 0 && named === count;
    expect(publishRefuses(group) === undefined).toBe(fits);
    expect(gatewayRefuses(group) === undefined).toBe(fits);
  });

  it('a lone null entry with one style is refused by both, naming the entry, not counted as no entry beside one style', () => {
    const group = { publishables: { published: null }, styles: { style: [{}] } } as JsonObject;
    expect(() => parseConfigChange({ kind: 'add', object: { type: 'layerGroup', id: 'topp:base' }, properties: group })).toThrow(/entry null names no layer or layer group/);
    expect(gatewayRefuses(group)).toBe('publishables');
    // One entry beside two styles: both count one entry.
    const twoStyles = { publishables: { published: roads }, styles: { style: [{}, {}] } } as JsonObject;
    expect(() => parseConfigChange({ kind: 'add', object: { type: 'layerGroup', id: 'topp:base' }, properties: twoStyles })).toThrow(/2 styles for 1 entry/);
    expect(gatewayRefuses(twoStyles)).toBe('styles');
  });

  it('the publish check names the entry naming nothing by its place in the list', () => {
    expect(() => parseConfigChange({ kind: 'add', object: { type: 'layerGroup', id: 'topp:base' }, properties: { publishables: { published: [roads, ''] } } })).toThrow(
      /published\[1\]: entry "" names no layer or layer group/,
    );
  });

  it('a patch stating "" for publishables is refused (GeoServer empties the list); its null or {} is a merge patch removal or no change', () => {
    const patch = (publishables: JsonValue) => () => parseConfigChange({ kind: 'modify', object: { type: 'layerGroup', id: 'topp:base' }, patch: { publishables } });
    expect(patch('')).toThrow(/publishables: "" states no entries/);
    expect(patch(null)).not.toThrow();
    expect(patch({})).not.toThrow();
  });

  it('a patch whose null removes the entries states none, and is not an entry naming nothing (a merge patch null removes)', () => {
    expect(() => parseConfigChange({ kind: 'modify', object: { type: 'layerGroup', id: 'topp:base' }, patch: { publishables: { published: null } } })).not.toThrow();
    // A list holding a null replaces the stored one whole: one entry naming nothing.
    expect(() => parseConfigChange({ kind: 'modify', object: { type: 'layerGroup', id: 'topp:base' }, patch: { publishables: { published: [null] } } })).toThrow(/names no layer or layer group/);
  });
});
