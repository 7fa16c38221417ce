/**
 * A layer group's entries and styles written through the gateway, in JSON or XML: a body stating
 * no entry, an entry naming nothing, a PUT whose styles state none, or (in XML as in JSON) styles
 * that are not one per entry is refused with 400 naming the member before anything reaches the
 * master or the log. GeoServer reads both forms into the same lists (XStreamPersister), so the
 * gateway reads the XML form as the JSON one (groupBodyMember).
 */
import { groupBodyMember } from '../../../../lambdas/config-sync/gateway/gateway';
import { standInPerTest } from '../../../support/standin-per-test';
import { adminRequest as request, recordingGateway } from './recording-gateway';

const standIn = standInPerTest();

const roads = { '@type': 'layer', name: 'topp:roads' };

/** A gateway whose master holds topp:roads and the group g of it alone (one null style). */
async function withGroup() {
  const gateway = recordingGateway(standIn.geoserver);
  gateway.master.catalog.addWorkspace({ name: 'topp' });
  const json = (method: string, path: string, body: unknown) => gateway.send(request(method, path, JSON.stringify(body)));
  await json('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg', type: 'PostGIS' } });
  await json('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'roads', srs: 'EPSG:4326' } });
  expect((await json('POST', '/layergroups', { layerGroup: { name: 'g', publishables: { published: [roads] } } })).status).toBe(201);
  return { ...gateway, json, before: { sent: gateway.sent.length, published: gateway.storing.published.length, held: structuredClone(gateway.master.catalog.objects.layerGroup.get('g')) } };
}

/** Nothing sent to the master, nothing published, the group as it was. */
function unchanged(gateway: Awaited<ReturnType<typeof withGroup>>) {
  expect([gateway.sent.length, gateway.storing.published.length]).toEqual([gateway.before.sent, gateway.before.published]);
  expect(gateway.master.catalog.objects.layerGroup.get('g')).toEqual(gateway.before.held);
}

test.each([
  ['POST', '/layergroups', { name: 'h', publishables: { published: null } }, 'names no layer or layer group'],
  ['POST', '/layergroups', { name: 'h', publishables: { published: [roads, ''] }, styles: { style: [{}, {}] } }, 'entry 2 of 2'],
  ['POST', '/layergroups', { name: 'h', publishables: { published: [] } }, 'states no entries'],
  ['PUT', '/layergroups/g', { publishables: { published: [] } }, 'states no entries'],
  ['PUT', '/layergroups/g', { publishables: null }, 'states no entries'],
  ['PUT', '/layergroups/g', { publishables: '' }, 'states no entries'],
  ['PUT', '/layergroups/g', { publishables: { published: [null] } }, 'names no layer or layer group'],
])('%s %s %j: 400 naming publishables (%s), nothing sent or published', async (method, path, group, message) => {
  const gateway = await withGroup();
  await expect(gateway.json(method, path, { layerGroup: group })).rejects.toMatchObject({ status: 400, field: 'publishables', message: expect.stringContaining(message) });
  unchanged(gateway);
});

test.each([[{ style: [] }], [{}], ['']])('PUT with "styles": %j (no style, which GeoServer reads as an empty list and puts in place of the held ones): 400 naming styles', async (styles) => {
  const gateway = await withGroup();
  await expect(gateway.json('PUT', '/layergroups/g', { layerGroup: { styles } })).rejects.toMatchObject({ status: 400, field: 'styles', message: expect.stringContaining('states no style') });
  await expect(gateway.json('PUT', '/layergroups/g', { layerGroup: { publishables: { published: [roads, roads] }, styles } })).rejects.toMatchObject({ status: 400, field: 'styles' });
  unchanged(gateway);
  // One style per entry, or styles left out, goes through.
  expect((await gateway.json('PUT', '/layergroups/g', { layerGroup: { publishables: { published: [roads, roads] }, styles: { style: [{}, {}] } } })).status).toBe(200);
  expect((await gateway.json('PUT', '/layergroups/g', { layerGroup: { title: 'kept' } })).status).toBe(200);
});

const xmlPublished = (count: number) => `<publishables>${'<published type="layer"><name>topp:roads</name></published>'.repeat(count)}</publishables>`;

test.each([
  ['PUT', '/layergroups/g', `<layerGroup>${xmlPublished(2)}</layerGroup>`, 'keeps the 1 style the group holds'],
  ['PUT', '/layergroups/g', `<layerGroup>${xmlPublished(2)}<styles><style/></styles></layerGroup>`, '1 style for 2 entries'],
  ['POST', '/layergroups', `<layerGroup><name>h</name>${xmlPublished(1)}<styles><style/><style/></styles></layerGroup>`, '2 styles for 1 entry'],
  ['PUT', '/layergroups/g', '<layerGroup><styles/></layerGroup>', 'states no style'],
])('XML %s %s %s: 400 naming styles (%s), as its JSON form is', async (method, path, body, message) => {
  const gateway = await withGroup();
  await expect(gateway.send(request(method, path, body, 'application/xml'))).rejects.toMatchObject({ status: 400, field: 'styles', message: expect.stringContaining(message) });
  unchanged(gateway);
});

test.each([
  ['POST', '/layergroups', '<layerGroup><name>h</name><publishables><published/></publishables></layerGroup>', 'names no layer or layer group'],
  ['PUT', '/layergroups/g', '<layerGroup><publishables/></layerGroup>', 'states no entries'],
])('XML %s %s %s: 400 naming publishables (%s)', async (method, path, body, message) => {
  const gateway = await withGroup();
  await expect(gateway.send(request(method, path, body, 'text/xml'))).rejects.toMatchObject({ status: 400, field: 'publishables', message: expect.stringContaining(message) });
  unchanged(gateway);
});

describe('groupBodyMember reads an XML group body as its JSON form', () => {
  const member = (body: string, field: string) => groupBodyMember(request('PUT', '/layergroups/g', body, 'application/xml'), field);

  it('one entry per <published>, by its children or its text, with its type', () => {
    const body = '<layerGroup><publishables><published type="layer"><name>topp:roads</name></published><published type="layerGroup">topp:base</published><published/></publishables></layerGroup>';
    expect(member(body, 'publishables')).toEqual({
      present: true,
      value: { published: [{ '@type': 'layer', name: 'topp:roads' }, { '@type': 'layerGroup', name: 'topp:base' }, ''] },
    });
  });

  it('one style per <style>, none for <styles/>; a member left out is absent', () => {
    expect(member('<layerGroup><styles><style><name>roads</name></style><style/></styles></layerGroup>', 'styles')).toEqual({ present: true, value: { style: [{ name: 'roads' }, ''] } });
    expect(member('<layerGroup><styles/></layerGroup>', 'styles')).toEqual({ present: true, value: { style: [] } });
    expect(member('<layerGroup><name>g</name></layerGroup>', 'styles')).toEqual({ present: false });
  });
});
