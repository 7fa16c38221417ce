/**
 * How many styles a layer group's `styles` states, on every form a JSON body may give it: the
 * one count the publish check, the apply and the gateway share (statedGroupStyleCount), checked
 * against the count GeoServer's JSON reader makes, and the stand-in's reading of the same forms.
 */
import { parseConfigChange } from '../../../../lambdas/config-sync/events';
import { layerGroupStylesProblem } from '../../../../lambdas/config-sync/gateway/catalog-required';
import type { ManagedPath } from '../../../../lambdas/config-sync/gateway/rest-paths';
import type { JsonObject } from '../../../../lambdas/config-sync/merge-patch';
import { statedGroupStyleCount, withStylePerEntry } from '../../../../lambdas/config-sync/representations';
import { statedStyleCount } from '../../../support/geoserver-standin/catalog';

/**
 * Each form and the number of entries GeoServer's style list gets from it: one per `<style>`
 * element Jettison makes (a JSON null one without text, "" one with empty text), a null style for
 * one naming nothing; an empty list for none.
 */
const FORMS: readonly [string, unknown, number][] = [
  ['{"style": null}', { style: null }, 1],
  ['{"style": [null]}', { style: [null] }, 1],
  ['{"style": ""}', { style: '' }, 1],
  ['{"style": {}}', { style: {} }, 1],
  ['{"style": "null"}', { style: 'null' }, 1],
  ['{"style": [null, null]}', { style: [null, null] }, 2],
  ['{"style": []}', { style: [] }, 0],
  ['"styles": null', null, 0],
  ['"styles": ""', '', 0],
  ['"styles": {}', {}, 0],
];

const entries = (count: number): JsonObject => ({
  publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }, { '@type': 'layer', name: 'topp:rivers' }].slice(0, count) },
});

const groupPath: ManagedPath = { managed: true, type: 'layerGroup', workspace: 'topp', path: '/workspaces/topp/layergroups' };

/** Whether the events API's publish check takes an add of the group. */
function publishAccepts(group: JsonObject): boolean {
  try {
    parseConfigChange({ kind: 'add', object: { type: 'layerGroup', id: 'topp:base' }, properties: group });
    return true;
  } catch {
    return false;
  }
}

/** Whether the gateway passes a POST of the group's JSON body on to the master. */
function gatewayAccepts(group: JsonObject): boolean {
  const member = (name: string) => ({ present: name in group, value: group[name] });
  return layerGroupStylesProblem(groupPath, 'POST', member) === undefined;
}

describe('the number of styles a layer group states', () => {
  it.each(FORMS)('%s states as many as GeoServer reads', (_form, styles, count) => {
    expect(statedGroupStyleCount(styles)).toBe(count);
    // The stand-in, which plays GeoServer in the integration tests, reads the form the same way.
    expect(statedStyleCount(styles)).toBe(count);
  });

  it('leaving styles out states none', () => {
    expect(statedGroupStyleCount(undefined)).toBe(0);
  });

  it.each(FORMS)('%s is accepted or refused alike by the publish check and the gateway', (_form, styles, count) => {
    for (const held of [1, 2]) {
      const group = { ...entries(held), styles } as JsonObject;
      const fits = count === 0 || count === held;
      expect(publishAccepts(group)).toBe(fits);
      expect(gatewayAccepts(group)).toBe(fits);
    }
  });

  it('the publish check names the styles it counted', () => {
    expect(() => parseConfigChange({ kind: 'add', object: { type: 'layerGroup', id: 'topp:base' }, properties: { ...entries(2), styles: { style: null } } })).toThrow(
      /states 1 style for 2 entries/,
    );
  });

  it('a patch whose null style removes the list states none (a merge patch null removes)', () => {
    const patch = { ...entries(2), styles: { style: null } };
    expect(() => parseConfigChange({ kind: 'modify', object: { type: 'layerGroup', id: 'topp:base' }, patch })).not.toThrow();
    // A list holding a null replaces the stored one whole: one null style for two entries.
    expect(() => parseConfigChange({ kind: 'modify', object: { type: 'layerGroup', id: 'topp:base' }, patch: { ...entries(2), styles: { style: [null] } } })).toThrow(
      /states 1 style for 2 entries/,
    );
  });

  it('the apply writes a lone null style of one entry as that entry’s null style', () => {
    expect(withStylePerEntry({ ...entries(1), styles: { style: null } }).styles).toEqual({ style: [''] });
    expect(withStylePerEntry({ ...entries(1), styles: { style: '' } }).styles).toEqual({ style: [''] });
  });

  it('the apply leaves one null style for two entries as stated, as GeoServer refuses it', () => {
    expect(withStylePerEntry({ ...entries(2), styles: { style: [null] } }).styles).toEqual({ style: [null] });
    expect(withStylePerEntry({ ...entries(2), styles: { style: '' } }).styles).toEqual({ style: '' });
  });

  it('a group stored before the publish counted a lone null style is still written a null style per entry', () => {
    expect(withStylePerEntry({ ...entries(2), styles: { style: null } }).styles).toEqual({ style: ['', ''] });
  });
});
