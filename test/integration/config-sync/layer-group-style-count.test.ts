/**
 * A layer group's stated styles counted alike on both ways into the cluster: the REST gateway
 * and `POST /config/events` accept and refuse the same bodies, on every form a JSON body may give
 * `styles`, as GeoServer counts them. What one accepts reaches the GeoServer (a node applies the
 * event; the gateway's master stores it); what one refuses is answered 400 naming the styles, with
 * nothing stored.
 */
import { startGeoServerStandIn, type GeoServerStandIn } from '../../support/geoserver-standin';
import type { JsonValue } from '../../../lambdas/config-sync/merge-patch';
import { asPublished, FAST_RETRY_ENV, SyncCluster } from './scenario-support';

jest.setTimeout(180_000);

const MASTER = 'gs-main';
const API_MASTER = 'admin';
const ADMIN = 'Basic ' + Buffer.from('admin:geoserver').toString('base64');

let cluster: SyncCluster;
let geoserver: GeoServerStandIn;

beforeAll(async () => {
  geoserver = await startGeoServerStandIn();
  cluster = await SyncCluster.start(
    'groupstyles',
    [
      { name: MASTER, role: 'both', geoserver: { url: geoserver.url, credentialsSecret: `local/${MASTER}` } },
      { name: API_MASTER, role: 'master' },
    ],
    'config-sync-group-styles',
    { gateway: { enabled: true, allowedSourceIps: ['127.0.0.1/32', '::1'] } },
    FAST_RETRY_ENV,
  );
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  if (geoserver) {
    const { violations } = geoserver;
    await geoserver.close();
    expect(violations).toEqual([]);
  }
});

async function rest(method: string, path: string, body: object): Promise<{ status: number; text: string }> {
  const response = await fetch(`${cluster.spawned.url}/geoserver/rest${path}`, {
    method,
    headers: { authorization: ADMIN, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

const roads = { '@type': 'layer', name: 'topp:roads' };
const rivers = { '@type': 'layer', name: 'topp:rivers' };

/** Each form, the entries it is stated beside, and whether GeoServer takes the group (its styles one per entry, or none). */
const FORMS: readonly [string, JsonValue[], JsonValue, boolean][] = [
  ['{"style": null} for two entries', [roads, rivers], { style: null }, false],
  ['{"style": [null]} for two entries', [roads, rivers], { style: [null] }, false],
  ['{"style": ""} for two entries', [roads, rivers], { style: '' }, false],
  ['{"style": null} for one entry', [roads], { style: null }, true],
  ['{"style": []} for two entries', [roads, rivers], { style: [] }, true],
  ['"styles": null for two entries', [roads, rivers], null, true],
  ['"styles": "" for two entries', [roads, rivers], '', true],
  ['{"style": [null, null]} for two entries', [roads, rivers], { style: [null, null] }, true],
];

test('the gateway and the events API accept and refuse the same layer group styles, as GeoServer counts them', async () => {
  expect((await rest('POST', '/workspaces', { workspace: { name: 'topp' } })).status).toBe(201);
  expect((await rest('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg', type: 'PostGIS', connectionParameters: { entry: [{ '@key': 'host', $: 'db' }] } } })).status).toBe(201);
  for (const name of ['roads', 'rivers']) {
    expect((await rest('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name, srs: 'EPSG:4326' } })).status).toBe(201);
  }

  const answers: { form: string; gateway: number; api: number }[] = [];
  for (const [index, [form, published, styles, accepted]] of FORMS.entries()) {
    const head = (await cluster.status()).head;
    const group = { publishables: { published }, styles };
    const throughGateway = await rest('POST', '/workspaces/topp/layergroups', { layerGroup: { name: `gw_${index}`, ...group } });
    const throughApi = await cluster.api('POST', '/config/events', {
      node: API_MASTER,
      json: asPublished({ kind: 'add', object: { type: 'layerGroup', id: `topp:api_${index}` }, properties: group }),
    });
    answers.push({ form, gateway: throughGateway.status, api: throughApi.status });
    if (accepted) continue;
    // Refused alike, naming the styles, and nothing stored: not in the log, not in the GeoServer.
    expect({ form, gateway: JSON.parse(throughGateway.text) }).toMatchObject({ form, gateway: { field: 'styles', message: expect.stringContaining('1 style for 2 entries') } });
    expect({ form, api: throughApi.body }).toMatchObject({ form, api: { field: 'properties.styles.style', message: expect.stringContaining('1 style for 2 entries') } });
    expect((await cluster.status()).head).toBe(head);
    expect(geoserver.catalog.objects.layerGroup.has(`topp:gw_${index}`)).toBe(false);
  }
  expect(answers).toEqual(FORMS.map(([form, , , accepted]) => ({ form, gateway: accepted ? 201 : 400, api: accepted ? 201 : 400 })));

  // What the events API took, the master's GeoServer applied: one style per entry, nothing parked.
  const head = (await cluster.status()).head;
  await cluster.waitForNodes(`${MASTER} at ${head}`, (answer) => answer.nodes.find((node) => node.name === MASTER)?.lastAppliedSequence === head);
  for (const [index, [form, published, , accepted]] of FORMS.entries()) {
    if (!accepted) continue;
    for (const id of [`topp:gw_${index}`, `topp:api_${index}`]) {
      const held = geoserver.catalog.objects.layerGroup.get(id) as { styles?: { style?: unknown[] } } | undefined;
      expect({ form, id, styles: held?.styles?.style?.length }).toEqual({ form, id, styles: published.length });
    }
  }
  const nodes = (await cluster.api('GET', '/nodes', cluster.reader)).body.nodes as { name: string; parked?: unknown[] }[];
  expect(nodes.find((node) => node.name === MASTER)?.parked ?? []).toEqual([]);
});

test('a patch through the events API changing a styled group’s entries alone is refused before anything is stored, not parked on every node', async () => {
  expect((await rest('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'lakes', srs: 'EPSG:4326' } })).status).toBe(201);
  expect((await rest('POST', '/workspaces/topp/layergroups', { layerGroup: { name: 'styled', publishables: { published: [roads, rivers] }, styles: { style: ['null', 'null'] } } })).status).toBe(201);
  // The publishing master's store holds the group the gateway published.
  const before = (await cluster.status()).head;
  await cluster.waitForNodes(`${API_MASTER} at ${before}`, (answer) => answer.nodes.find((node) => node.name === API_MASTER)?.lastAppliedSequence === before);

  const three = { publishables: { published: [roads, rivers, { '@type': 'layer', name: 'topp:lakes' }] } };
  const refused = await cluster.api('POST', '/config/events', { node: API_MASTER, json: asPublished({ kind: 'modify', object: { type: 'layerGroup', id: 'topp:styled' }, patch: three }) });
  expect(refused.status).toBe(400);
  expect(refused.body).toMatchObject({ code: 'INVALID_REQUEST', field: 'patch.publishables.published', message: expect.stringContaining('keeps the 2 styles it holds') });
  expect((await cluster.status()).head).toBe(before);

  // Stated with their styles, the same entries are taken and reach the GeoServer.
  const accepted = await cluster.api('POST', '/config/events', {
    node: API_MASTER,
    json: asPublished({ kind: 'modify', object: { type: 'layerGroup', id: 'topp:styled' }, patch: { ...three, styles: { style: ['null', 'null', 'null'] } } }),
  });
  expect(accepted.status).toBe(201);
  const head = (await cluster.status()).head;
  await cluster.waitForNodes(`${MASTER} at ${head}`, (answer) => answer.nodes.find((node) => node.name === MASTER)?.lastAppliedSequence === head);
  const held = geoserver.catalog.objects.layerGroup.get('topp:styled') as { publishables: { published: unknown[] }; styles: { style: unknown[] } };
  expect([held.publishables.published.length, held.styles.style.length]).toEqual([3, 3]);
  const nodes = (await cluster.api('GET', '/nodes', cluster.reader)).body.nodes as { name: string; parked?: unknown[] }[];
  expect(nodes.find((node) => node.name === MASTER)?.parked ?? []).toEqual([]);
});

test('entries naming nothing or none, a PUT emptying the styles, and an XML PUT changing the entries without styles are refused before anything is stored', async () => {
  const head = (await cluster.status()).head;
  const held = structuredClone(geoserver.catalog.objects.layerGroup.get('topp:styled'));
  for (const [index, publishables] of [{ published: null }, { published: [null] }, { published: [] }].entries()) {
    const throughGateway = await rest('POST', '/workspaces/topp/layergroups', { layerGroup: { name: `none_${index}`, publishables, styles: { style: [{}] } } });
    const throughApi = await cluster.api('POST', '/config/events', {
      node: API_MASTER,
      json: asPublished({ kind: 'add', object: { type: 'layerGroup', id: `topp:none_${index}` }, properties: { publishables, styles: { style: [{}] } } }),
    });
    expect({ publishables, gateway: throughGateway.status, api: throughApi.status }).toEqual({ publishables, gateway: 400, api: 400 });
    expect(JSON.parse(throughGateway.text)).toMatchObject({ field: 'publishables' });
  }
  for (const styles of [{ style: [] }, {}, '']) {
    const refused = await rest('PUT', '/workspaces/topp/layergroups/styled', { layerGroup: { styles } });
    expect({ styles, status: refused.status, field: JSON.parse(refused.text).field }).toEqual({ styles, status: 400, field: 'styles' });
  }
  const xml = await fetch(`${cluster.spawned.url}/geoserver/rest/workspaces/topp/layergroups/styled`, {
    method: 'PUT',
    headers: { authorization: ADMIN, 'content-type': 'application/xml' },
    body: `<layerGroup><publishables>${'<published type="layer"><name>topp:roads</name></published>'.repeat(2)}</publishables></layerGroup>`,
  });
  expect({ status: xml.status, body: await xml.json() }).toMatchObject({ status: 400, body: { field: 'styles', message: expect.stringContaining('keeps the 3 styles the group holds') } });
  expect((await cluster.status()).head).toBe(head);
  expect(geoserver.catalog.objects.layerGroup.get('topp:styled')).toEqual(held);
});
