/**
 * The GeoServer stand-in the end-to-end tests run against: it must answer what GeoServer answers
 * and refuse (and record) every request GeoServer's REST reference does not describe, or the
 * tests built on it prove nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { RestReference, startGeoServerStandIn, type GeoServerStandIn } from '../../support/geoserver-standin';
import { REFERENCE_DIR } from '../../support/geoserver-standin/reference';

const ADMIN = 'Basic ' + Buffer.from('admin:geoserver').toString('base64');

let gs: GeoServerStandIn;

beforeEach(async () => {
  gs = await startGeoServerStandIn({ version: '2.25.3' });
});
afterEach(async () => {
  await gs.close();
});

async function call(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; headers: Headers; bytes: Buffer }> {
  const response = await fetch(gs.restUrl + path, {
    method,
    headers: {
      authorization: ADMIN,
      ...(body === undefined ? {} : { 'content-type': contentType }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, text: bytes.toString('utf8'), headers: response.headers, bytes };
}

async function seedFeatureType(): Promise<void> {
  expect((await call('POST', '/workspaces', { workspace: { name: 'topp' } })).status).toBe(201);
  const store = {
    dataStore: {
      name: 'pg',
      description: 'roads database',
      connectionParameters: { entry: [{ '@key': 'host', $: 'db' }, { '@key': 'port', $: '5432' }] },
    },
  };
  expect((await call('POST', '/workspaces/topp/datastores', store)).status).toBe(201);
  const featureType = { featureType: { name: 'roads', title: 'Roads', srs: 'EPSG:4326', maxFeatures: 0 } };
  expect((await call('POST', '/workspaces/topp/datastores/pg/featuretypes', featureType)).status).toBe(201);
}

describe('the reference it checks against', () => {
  const reference = RestReference.load();

  it('loads every documented operation of the 18 files and finds each by its own path', () => {
    const operations = reference.operations().filter((op) => op.file !== '(supplement)');
    expect(new Set(operations.map((op) => op.file)).size).toBe(18);
    for (const operation of operations) {
      const path = operation.template.replace(/\{[^}]+\}/g, 'x');
      const match = reference.match(operation.method, path);
      if (operation.documentedNotAllowed) expect(match).toMatchObject({ ok: false, status: 405 });
      else expect(match).toMatchObject({ ok: true, operation: { template: operation.template, method: operation.method } });
    }
  });

  it('serves the styles.yaml paths written with a doubled /rest at their working path', () => {
    expect(reference.match('PUT', '/workspaces/topp/styles/roads')).toMatchObject({ ok: true, params: { style: 'roads' } });
    expect(reference.match('PUT', '/rest/workspaces/topp/styles/roads').ok).toBe(false);
  });

  it('routes the decoded path, as GeoServer does: an encoded dot or letter is the character itself; an encoded slash is refused', () => {
    expect(reference.match('DELETE', '/workspaces/topp/datastores/pg%2Ejson')).toMatchObject({ ok: true, params: { storeName: 'pg' }, extension: 'json' });
    expect(reference.match('PUT', '/workspaces/topp/datastores/roads/external%2Eshp')).toMatchObject({ ok: true, params: { method: 'external', format: 'shp' } });
    expect(reference.match('POST', '/workspaces/topp/%63overagestores/dem/external.imagemosaic')).toMatchObject({ ok: true, params: { format: 'imagemosaic' } });
    expect(reference.match('GET', '/workspaces/a+b%2Bc')).toMatchObject({ ok: true, params: { workspaceName: 'a b+c' } });
    expect(reference.match('GET', '/workspaces/a%2Fb')).toMatchObject({ ok: false, status: 400 });
  });

  it('strips representation extensions but keeps dotted names', () => {
    expect(reference.match('GET', '/workspaces/it.geosolutions.json')).toMatchObject({
      ok: true,
      params: { workspaceName: 'it.geosolutions' },
      extension: 'json',
    });
  });
});

describe('requests the reference does not describe', () => {
  it.each([
    ['an unknown path', 'GET', '/nothing/here', undefined, undefined, 404],
    ['a method documented as not permitted', 'PUT', '/workspaces', { workspace: { name: 'a' } }, 'application/json', 405],
    ['an undocumented method', 'PATCH', '/workspaces/topp', { workspace: { name: 'a' } }, 'application/json', 405],
    ['an undocumented media type', 'POST', '/workspaces', 'name=a', 'text/plain', 415],
    ['a body without its wrapper', 'POST', '/workspaces', { name: 'a' }, 'application/json', 400],
    ['a property of the wrong type', 'PUT', '/logging', { logging: { stdOutLogging: { on: true } } }, 'application/json', 400],
    ['an undocumented query parameter', 'DELETE', '/layergroups/g?recurse=true', undefined, undefined, 400],
    ['the doubled /rest prefix', 'GET', '/rest/layers/roads/styles', undefined, undefined, 404],
  ])('%s is refused and recorded', async (_what, method, path, body, contentType, status) => {
    const answer = await call(method, path, body, contentType);
    expect(answer.status).toBe(status);
    expect(gs.violations).toHaveLength(1);
    expect(gs.violations[0]).toMatchObject({ method, path: '/geoserver/rest' + path.split('?')[0] });
    expect(gs.catalog.objects.workspace.size).toBe(0);
  });

  it('records nothing for documented calls', async () => {
    await seedFeatureType();
    await call('GET', '/workspaces/topp/datastores/pg/featuretypes/roads.json');
    await call('PUT', '/layers/topp:roads', { layer: { opaque: true } });
    expect(gs.violations).toEqual([]);
  });
});

describe('OPTIONS, which the reference does not list and GeoServer answers itself', () => {
  // GeoServer's REST controllers declare no OPTIONS: Spring MVC answers it (200, empty) with
  // `Allow` naming the methods the path's handlers declare, HEAD beside GET, and OPTIONS. Its
  // REST security rules (rest.properties) take only GET, PUT, DELETE, POST and HEAD, so none
  // covers an OPTIONS: it passes without credentials, while wrong ones are still refused.
  it("answers 200 with the methods the path's handlers take, the ones documented only as 405 left out, recording nothing", async () => {
    const collection = await call('OPTIONS', '/workspaces');
    expect(collection.status).toBe(200);
    expect(collection.headers.get('allow')).toBe('GET,HEAD,POST,OPTIONS');
    expect(collection.text).toBe('');
    const item = await call('OPTIONS', '/workspaces/topp.json');
    expect(item.status).toBe(200);
    expect(item.headers.get('allow')).toBe('GET,HEAD,PUT,DELETE,OPTIONS');
    expect(gs.violations).toEqual([]);
    expect(gs.applied).toEqual([]);
    expect(gs.catalog.objects.workspace.size).toBe(0);
  });

  it('takes it without credentials, and refuses wrong ones with 401', async () => {
    const anonymous = await fetch(gs.restUrl + '/layers', { method: 'OPTIONS' });
    expect(anonymous.status).toBe(200);
    expect(anonymous.headers.get('allow')).toContain('GET');
    const wrong = await call('OPTIONS', '/layers', undefined, undefined, { authorization: 'Basic ' + Buffer.from('admin:nope').toString('base64') });
    expect(wrong.status).toBe(401);
    expect(gs.violations).toEqual([]);
  });

  it('answers 404 on a path the reference does not describe, and records it', async () => {
    expect((await call('OPTIONS', '/nothing/here')).status).toBe(404);
    expect(gs.violations).toHaveLength(1);
    expect(gs.violations[0]).toMatchObject({ method: 'OPTIONS', path: '/geoserver/rest/nothing/here' });
  });
});

/**
 * The one-object JSON examples the reference gives for these files' GET answers: each is a body
 * a client may send back with PUT (or POST) to the same kind of path, wrapped as GeoServer wraps it.
 */
function documentedExamples(): { file: string; template: string; body: Record<string, unknown> }[] {
  const roots: Record<string, string> = {
    'featuretypes.yaml': 'featureType',
    'coverages.yaml': 'coverage',
    'datastores.yaml': 'dataStore',
    'layers.yaml': 'layer',
    'layergroups.yaml': 'layerGroup',
  };
  const examples: { file: string; template: string; body: Record<string, unknown> }[] = [];
  for (const [file, root] of Object.entries(roots)) {
    // The same in-memory repair of layergroups.yaml's closing quotes as reference.ts makes.
    const text = readFileSync(join(REFERENCE_DIR, file), 'utf8').replace(/^( *)'$/gm, "$1  '");
    const document = parse(text) as { paths: Record<string, { get?: { responses?: Record<string, { examples?: Record<string, unknown> }> } }> };
    for (const [template, item] of Object.entries(document.paths)) {
      const example = item.get?.responses?.['200']?.examples?.['application/json'];
      if (!example || !template.match(/\}$/)) continue; // one object's answer, not a list's
      const parsed = (typeof example === 'string' ? JSON.parse(example) : example) as Record<string, unknown>;
      examples.push({ file, template, body: root in parsed ? parsed : { [root]: parsed } });
    }
  }
  return examples;
}

describe("the reference's documented example bodies", () => {
  const reference = RestReference.load();
  const examples = documentedExamples();
  // Each sent back with PUT to its own path and with POST to the list above it, where documented.
  const sends = examples.flatMap((example) => {
    const own = example.template.replace(/\{[^}]+\}/g, 'x');
    return [
      ['PUT', own],
      ['POST', own.slice(0, own.lastIndexOf('/'))],
    ]
      .filter(([method, path]) => reference.match(method!, path!).ok)
      .map(([method, path]) => [`${example.file} ${example.template}: ${method} ${path}`, method!, path!, example.body] as const);
  });

  it('covers one object of each of the five files', () => {
    expect(new Set(examples.map((example) => example.file)).size).toBe(5);
    expect(sends.length).toBeGreaterThanOrEqual(examples.length);
  });

  it.each(sends)('%s passes the body check', async (_name, method, path, body) => {
    const answer = await call(method, path, body);
    expect(gs.violations).toEqual([]);
    // The catalog is empty: GeoServer answers 404 for the missing workspace or object, and 500
    // for a new global group, whose entries name layers it lacks and so leave it none (see
    // 'refuses a layer group without layers'), and for a PUT of a global group, style or layer it
    // lacks (LayerGroupController.layerGroupPut, StyleController.stylePut, LayerController.layerPut);
    // never the body check's 400.
    const lacked = (method === 'POST' && path === '/layergroups') || (method === 'PUT' && ['/layergroups/x', '/styles/x', '/layers/x'].includes(path));
    expect(answer.status).toBe(lacked ? 500 : 404);
    if (answer.status === 500) expect(answer.text).not.toContain('For input string');
  });
});

describe("values GeoServer's JSON reader converts (Jettison gives each as text, XStream converts it)", () => {
  it('takes a number where text is declared, and "true"/"false" or number text for a boolean or number', async () => {
    await seedFeatureType();
    const body = {
      featureType: {
        responseSRS: { string: [4326, 'EPSG:3857'] },
        enabled: 'false',
        overridingServiceSRS: 'TRUE',
        maxFeatures: '0x10',
        attributes: { attribute: [{ name: 'the_geom', nillable: 'true', minOccurs: '0', maxOccurs: 1 }] },
      },
    };
    expect((await call('PUT', '/workspaces/topp/datastores/pg/featuretypes/roads', body)).status).toBe(200);
    expect(gs.violations).toEqual([]);
    expect(gs.catalog.objects.featureType.get('topp:roads')).toMatchObject({
      responseSRS: { string: [4326, 'EPSG:3857'] },
      enabled: false,
      overridingServiceSRS: true,
      maxFeatures: 16,
    });
  });

  it('reads a boolean text other than "true" as false, as XStream\'s BooleanConverter does', async () => {
    expect((await call('PUT', '/logging', { logging: { stdOutLogging: 'yes' } })).status).toBe(200);
    expect(gs.violations).toEqual([]);
    expect(gs.catalog.objects.logging.get('logging')).toMatchObject({ stdOutLogging: false });
  });

  it('fails text that does not convert to the declared number type with 500, changing nothing', async () => {
    await seedFeatureType();
    for (const maxFeatures of ['many', '1.5', 1.5, '09']) {
      const answer = await call('PUT', '/workspaces/topp/datastores/pg/featuretypes/roads', { featureType: { title: 'Changed', maxFeatures } });
      expect(answer.status).toBe(500);
      expect(answer.text).toContain(`For input string: "${maxFeatures}"`);
    }
    expect(gs.catalog.objects.featureType.get('topp:roads')).toMatchObject({ title: 'Roads', maxFeatures: 0 });
  });
});

describe('authentication', () => {
  it('asks for HTTP Basic credentials and refuses wrong ones', async () => {
    const none = await fetch(gs.restUrl + '/workspaces');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Basic realm="GeoServer Realm"');
    const wrong = await fetch(gs.restUrl + '/workspaces', {
      headers: { authorization: 'Basic ' + Buffer.from('admin:nope').toString('base64') },
    });
    expect(wrong.status).toBe(401);
  });

  it('accepts the users it is given', async () => {
    const other = await startGeoServerStandIn({ users: [{ name: 'ops', password: 's3cret:x' }] });
    try {
      const ok = await fetch(other.restUrl + '/workspaces', {
        headers: { authorization: 'Basic ' + Buffer.from('ops:s3cret:x').toString('base64') },
      });
      expect(ok.status).toBe(200);
      const admin = await fetch(other.restUrl + '/workspaces', { headers: { authorization: ADMIN } });
      expect(admin.status).toBe(401);
    } finally {
      await other.close();
    }
  });
});

describe('catalog behaviour', () => {
  it('answers lists and objects in GeoServer wrappers, an empty list as ""', async () => {
    expect(JSON.parse((await call('GET', '/workspaces.json')).text)).toEqual({ workspaces: '' });
    const created = await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    expect(created.status).toBe(201);
    expect(created.text).toBe('topp');
    expect(created.headers.get('location')).toBe(gs.restUrl + '/workspaces/topp');
    expect(JSON.parse((await call('GET', '/workspaces')).text)).toEqual({
      workspaces: { workspace: [{ name: 'topp', href: gs.restUrl + '/workspaces/topp.json' }] },
    });
    expect(JSON.parse((await call('GET', '/workspaces/topp')).text)).toEqual({ workspace: { name: 'topp' } });
    // the namespace GeoServer creates with a workspace
    expect(JSON.parse((await call('GET', '/namespaces/topp')).text)).toMatchObject({
      namespace: { prefix: 'topp', uri: 'http://topp' },
    });
    expect((await call('POST', '/workspaces', { workspace: { name: 'topp' } })).status).toBe(409);
    expect((await call('GET', '/workspaces/nope')).status).toBe(404);
  });

  it('keeps what a PUT leaves out or nulls by reference, and replaces a map property whole', async () => {
    await seedFeatureType();
    const put = await call('PUT', '/workspaces/topp/datastores/pg', {
      dataStore: { workspace: null, enabled: false, connectionParameters: { entry: [{ '@key': 'host', $: 'db2' }] } },
    });
    expect(put.status).toBe(200);
    expect(gs.catalog.objects.dataStore.get('topp:pg')).toMatchObject({
      name: 'pg',
      description: 'roads database',
      enabled: false,
      connectionParameters: { entry: [{ '@key': 'host', $: 'db2' }] },
      workspace: { name: 'topp' },
    });
  });

  // Jettison hands XStream a JSON null as an element without text: "" for a text field, false for a boolean.
  it('reads a JSON null in a text field as "" and in a boolean as false, as GeoServer\'s JSON reader does', async () => {
    await seedFeatureType();
    expect((await call('PUT', '/workspaces/topp/datastores/pg', { dataStore: { description: null, enabled: null } })).status).toBe(200);
    expect(gs.catalog.objects.dataStore.get('topp:pg')).toMatchObject({ description: '', enabled: false });
    expect((await call('PUT', '/workspaces/topp/datastores/pg/featuretypes/roads', { featureType: { title: null } })).status).toBe(200);
    expect(gs.catalog.objects.featureType.get('topp:roads')).toMatchObject({ title: '', srs: 'EPSG:4326' });
    expect((await call('PUT', '/namespaces/topp', { namespace: { prefix: 'topp', isolated: true } })).status).toBe(200);
    expect(gs.catalog.objects.workspace.get('topp')).toMatchObject({ isolated: true });
    expect((await call('PUT', '/namespaces/topp', { namespace: { prefix: 'topp', isolated: null } })).status).toBe(200);
    expect(gs.catalog.objects.namespace.get('topp')).toMatchObject({ isolated: false });
    expect(gs.catalog.objects.workspace.get('topp')).toMatchObject({ isolated: false });
  });

  it('refuses a namespace PUT nulling its uri with 500 ("Namespace uri must not be null"), keeping the namespace', async () => {
    await call('POST', '/namespaces', { namespace: { prefix: 'x', uri: 'urn:x' } });
    const put = await call('PUT', '/namespaces/x', { namespace: { prefix: 'x', uri: null } });
    expect(put).toMatchObject({ status: 500, text: 'Namespace uri must not be null' });
    expect(gs.catalog.objects.namespace.get('x')).toEqual({ prefix: 'x', uri: 'urn:x' });
  });

  it('answers 404 for a missing object and 500 for a duplicate store, as GeoServer does', async () => {
    await seedFeatureType();
    expect((await call('PUT', '/workspaces/topp/datastores/nope', { dataStore: { enabled: true } })).status).toBe(404);
    expect((await call('DELETE', '/workspaces/topp/datastores/nope')).status).toBe(404);
    expect((await call('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } })).status).toBe(500);
  });

  // CatalogImpl.validate(StoreInfo) looks the name up among the stores of every type in the workspace.
  it('refuses a store whose name a store of another type in the workspace has (500), and takes it once that one is removed', async () => {
    await seedFeatureType();
    const otherType = await call('POST', '/workspaces/topp/coveragestores', { coverageStore: { name: 'pg', type: 'GeoTIFF' } });
    expect(otherType).toMatchObject({ status: 500, text: expect.stringContaining("Store 'pg' already exists in workspace 'topp'") });
    expect(gs.catalog.objects.coverageStore.size).toBe(0);
    // Another workspace's store of that name is no conflict.
    expect((await call('POST', '/workspaces', { workspace: { name: 'sf' } })).status).toBe(201);
    expect((await call('POST', '/workspaces/sf/coveragestores', { coverageStore: { name: 'pg', type: 'GeoTIFF' } })).status).toBe(201);
    expect((await call('DELETE', '/workspaces/topp/datastores/pg?recurse=true')).status).toBe(200);
    expect((await call('POST', '/workspaces/topp/coveragestores', { coverageStore: { name: 'pg', type: 'GeoTIFF' } })).status).toBe(201);
  });

  // CatalogImpl.validate(ResourceInfo) looks the name up among every resource type of the namespace.
  it('refuses a resource whose name a resource of any store or type in the workspace has (500), layer or not', async () => {
    await seedFeatureType();
    expect((await call('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg2' } })).status).toBe(201);
    const underOtherStore = await call('POST', '/workspaces/topp/datastores/pg2/featuretypes', { featureType: { name: 'roads' } });
    expect(underOtherStore).toMatchObject({ status: 500, text: expect.stringContaining("Resource named 'roads' already exists in namespace: 'topp'") });
    // Its layer removed alone, the feature type still holds the name against a coverage.
    expect((await call('DELETE', '/layers/topp:roads')).status).toBe(200);
    expect((await call('POST', '/workspaces/topp/coveragestores', { coverageStore: { name: 'dem', type: 'GeoTIFF' } })).status).toBe(201);
    const otherType = await call('POST', '/workspaces/topp/coveragestores/dem/coverages', { coverage: { name: 'roads' } });
    expect(otherType).toMatchObject({ status: 500, text: expect.stringContaining("Resource named 'roads' already exists in namespace: 'topp'") });
    expect(gs.catalog.objects.coverage.size).toBe(0);
  });

  it('refuses to delete a non-empty workspace or store without recurse, and cascades with it', async () => {
    await seedFeatureType();
    expect((await call('DELETE', '/workspaces/topp')).status).toBe(403);
    expect((await call('DELETE', '/workspaces/topp/datastores/pg')).status).toBe(403);
    expect((await call('DELETE', '/workspaces/topp/datastores/pg/featuretypes/roads')).status).toBe(403);
    expect(gs.catalog.objects.featureType.has('topp:roads')).toBe(true);
    expect((await call('DELETE', '/workspaces/topp?recurse=true')).status).toBe(200);
    for (const type of ['workspace', 'namespace', 'dataStore', 'featureType', 'layer'] as const) {
      expect(gs.catalog.objects[type].size).toBe(0);
    }
  });

  it('publishes a layer with its feature type, and a recursive layer delete removes the resource', async () => {
    await seedFeatureType();
    expect(JSON.parse((await call('GET', '/layers')).text)).toEqual({
      layers: { layer: [{ name: 'topp:roads', href: gs.restUrl + '/layers/topp%3Aroads.json' }] },
    });
    expect(gs.catalog.objects.layer.get('topp:roads')).toMatchObject({ resource: { '@class': 'featureType', name: 'topp:roads' } });
    expect((await call('DELETE', '/layers/topp:roads?recurse=true')).status).toBe(200);
    expect(gs.catalog.objects.featureType.size).toBe(0);
  });

  // LayerController.layerDelete: catalog.remove(layer) refuses a layer a group names; recurse cascades.
  it('refuses to delete a layer a layer group names unless recurse, which takes it out of the group', async () => {
    await seedFeatureType();
    expect((await call('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'rivers' } })).status).toBe(201);
    const group = { layerGroup: { name: 'base', publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }, { '@type': 'layer', name: 'topp:rivers' }] } } };
    expect((await call('POST', '/layergroups', group)).status).toBe(201);
    const refused = await call('DELETE', '/layers/topp:roads');
    expect({ status: refused.status, text: refused.text }).toEqual({ status: 500, text: expect.stringContaining("Unable to delete layer referenced by layer group 'base'") });
    expect(gs.catalog.objects.layer.has('topp:roads')).toBe(true);
    expect(gs.catalog.objects.layerGroup.get('base')).toMatchObject({ publishables: { published: group.layerGroup.publishables.published } });
    expect((await call('DELETE', '/layers/topp:roads?recurse=true')).status).toBe(200);
    expect(gs.catalog.objects.layer.has('topp:roads')).toBe(false);
    // The entry's (null) style goes with it: one style per entry still.
    expect(gs.catalog.objects.layerGroup.get('base')).toMatchObject({ publishables: { published: [{ '@type': 'layer', name: 'topp:rivers' }] }, styles: { style: ['null'] } });
  });

  // CascadeDeleteVisitor.visit(LayerInfo) takes the layer out of the groups holding it as an entry,
  // never out of a group's root layer; catalog.remove(layer) then refuses it, the cascade's saves kept.
  it('refuses to delete a group\'s root layer even with recurse, after taking it out of the groups holding it', async () => {
    await seedFeatureType();
    expect((await call('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'rivers' } })).status).toBe(201);
    const eo = { layerGroup: { name: 'eo', mode: 'EO', rootLayer: { name: 'topp:roads' }, publishables: { published: [{ '@type': 'layer', name: 'topp:rivers' }] } } };
    expect((await call('POST', '/layergroups', eo)).status).toBe(201);
    const refused = await call('DELETE', '/layers/topp:roads');
    expect({ status: refused.status, text: refused.text }).toEqual({ status: 500, text: expect.stringContaining("Unable to delete layer referenced by layer group 'eo'") });
    const base = { layerGroup: { name: 'base', publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }, { '@type': 'layer', name: 'topp:rivers' }] } } };
    expect((await call('POST', '/layergroups', base)).status).toBe(201);
    const recursed = await call('DELETE', '/layers/topp:roads?recurse=true');
    expect({ status: recursed.status, text: recursed.text }).toEqual({ status: 500, text: expect.stringContaining("Unable to delete layer referenced by layer group 'eo'") });
    expect(gs.catalog.objects.layer.has('topp:roads')).toBe(true);
    expect(gs.catalog.objects.featureType.has('topp:roads')).toBe(true);
    expect(gs.catalog.objects.layerGroup.get('eo')).toMatchObject({ rootLayer: { name: 'topp:roads' }, publishables: eo.layerGroup.publishables });
    expect(gs.catalog.objects.layerGroup.get('base')).toMatchObject({ publishables: { published: [{ '@type': 'layer', name: 'topp:rivers' }] } });
  });

  // FeatureTypeController.featureTypeDelete (and the coverage, WMS layer and WMTS layer controllers'
  // DELETE): without recurse, 403 "<type> referenced by layer(s)"; with it, catalog.remove(layer) for
  // each layer, no cascade, so CatalogImpl.remove(LayerInfo) refuses a layer a group names (500).
  it('refuses a recursive resource delete whose layer a group names (500, naming the group), changing nothing; it takes no group entry out', async () => {
    await seedFeatureType();
    expect((await call('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'rivers' } })).status).toBe(201);
    expect((await call('POST', '/workspaces/topp/coveragestores', { coverageStore: { name: 'dem', type: 'GeoTIFF' } })).status).toBe(201);
    expect((await call('POST', '/workspaces/topp/coveragestores/dem/coverages', { coverage: { name: 'relief' } })).status).toBe(201);
    const published = ['topp:roads', 'topp:rivers', 'topp:relief'].map((name) => ({ '@type': 'layer', name }));
    expect((await call('POST', '/layergroups', { layerGroup: { name: 'base', publishables: { published } } })).status).toBe(201);
    const unrecursed = await call('DELETE', '/workspaces/topp/datastores/pg/featuretypes/roads');
    expect({ status: unrecursed.status, text: unrecursed.text }).toEqual({ status: 403, text: 'feature type referenced by layer(s)' });
    const featureType = await call('DELETE', '/workspaces/topp/datastores/pg/featuretypes/roads?recurse=true');
    const coverage = await call('DELETE', '/workspaces/topp/coveragestores/dem/coverages/relief?recurse=true');
    expect([featureType, coverage].map(({ status, text }) => ({ status, text }))).toEqual([
      { status: 500, text: "Unable to delete layer referenced by layer group 'base'" },
      { status: 500, text: "Unable to delete layer referenced by layer group 'base'" },
    ]);
    expect(['topp:roads', 'topp:relief'].map((id) => gs.catalog.objects.layer.has(id))).toEqual([true, true]);
    expect([gs.catalog.objects.featureType.has('topp:roads'), gs.catalog.objects.coverage.has('topp:relief')]).toEqual([true, true]);
    expect(gs.catalog.objects.layerGroup.get('base')).toMatchObject({ publishables: { published } });
    // A resource whose layer no group names goes with it.
    expect((await call('PUT', '/layergroups/base', { layerGroup: { publishables: { published: [published[1]] }, styles: { style: [''] } } })).status).toBe(200);
    expect((await call('DELETE', '/workspaces/topp/datastores/pg/featuretypes/roads?recurse=true')).status).toBe(200);
    expect([gs.catalog.objects.featureType.has('topp:roads'), gs.catalog.objects.layer.has('topp:roads')]).toEqual([false, false]);
    expect(gs.violations).toEqual([]);
  });

  // LayerController.layerPut looks the layer up and calls original.getResource() without a null check.
  it('fails a PUT to a layer it lacks with 500, global or through its workspace, where a GET answers 404, creating nothing', async () => {
    await seedFeatureType();
    const body = { layer: { defaultStyle: { name: 'generic' } } };
    const puts = await Promise.all(['/layers/topp:ghost', '/workspaces/topp/layers/ghost'].map(async (path) => (await call('PUT', path, body)).status));
    const reads = await Promise.all(['/layers/topp:ghost', '/workspaces/topp/layers/ghost'].map(async (path) => (await call('GET', path)).status));
    expect({ puts, reads }).toEqual({ puts: [500, 500], reads: [404, 404] });
    expect([...gs.catalog.objects.layer.keys()]).toEqual(['topp:roads']);
    expect((await call('PUT', '/workspaces/topp/layers/roads', body)).status).toBe(200);
    expect(gs.violations).toEqual([]);
  });

  // LayerGroupController.layerGroupPut: "ensure not a name change" and "ensure not a workspace
  // change", each a RestException with FORBIDDEN, before anything is copied.
  it('refuses a layer group PUT changing its name or its workspace (403), changing nothing', async () => {
    await seedFeatureType();
    expect((await call('POST', '/workspaces', { workspace: { name: 'sf' } })).status).toBe(201);
    const published = { published: [{ '@type': 'layer', name: 'topp:roads' }] };
    expect((await call('POST', '/workspaces/topp/layergroups', { layerGroup: { name: 'base', title: 'Base', publishables: published } })).status).toBe(201);
    const renamed = await call('PUT', '/workspaces/topp/layergroups/base', { layerGroup: { name: 'other', title: 'Renamed' } });
    const moved = await call('PUT', '/workspaces/topp/layergroups/base', { layerGroup: { workspace: { name: 'sf' }, title: 'Moved' } });
    expect([renamed, moved].map(({ status, text }) => ({ status, text }))).toEqual([
      { status: 403, text: "Can't change name of a layer group" },
      { status: 403, text: "Can't change the workspace of a layer group, instead DELETE from existing workspace and POST to new workspace" },
    ]);
    expect([...gs.catalog.objects.layerGroup.keys()]).toEqual(['topp:base']);
    expect(gs.catalog.objects.layerGroup.get('topp:base')).toMatchObject({ title: 'Base' });
    // Its own name and workspace are taken.
    expect((await call('PUT', '/workspaces/topp/layergroups/base', { layerGroup: { name: 'base', workspace: { name: 'topp' }, title: 'Kept' } })).status).toBe(200);
    expect(gs.catalog.objects.layerGroup.get('topp:base')).toMatchObject({ title: 'Kept' });
    expect(gs.violations).toEqual([]);
  });

  // CatalogImpl.remove(LayerGroupInfo) refuses a group another holds. LayerGroupController.layerGroupDelete
  // takes no recurse (GeoServer ignores one sent); the reference documents none, so the stand-in refuses it as undocumented.
  it('refuses to delete a layer group another group holds (500), global or of a workspace, changing nothing', async () => {
    await seedFeatureType();
    const entry = (type: string, name: string) => ({ '@type': type, name });
    expect((await call('POST', '/workspaces/topp/layergroups', { layerGroup: { name: 'inner', publishables: { published: [entry('layer', 'topp:roads')] } } })).status).toBe(201);
    expect((await call('POST', '/workspaces/topp/layergroups', { layerGroup: { name: 'outer', publishables: { published: [entry('layerGroup', 'inner'), entry('layer', 'topp:roads')] } } })).status).toBe(201);
    expect((await call('POST', '/layergroups', { layerGroup: { name: 'base', publishables: { published: [entry('layer', 'topp:roads')] } } })).status).toBe(201);
    expect((await call('POST', '/layergroups', { layerGroup: { name: 'top', publishables: { published: [entry('layerGroup', 'base')] } } })).status).toBe(201);
    const before = JSON.stringify([...gs.catalog.objects.layerGroup]);
    const inner = await call('DELETE', '/workspaces/topp/layergroups/inner');
    expect({ status: inner.status, text: inner.text }).toEqual({ status: 500, text: expect.stringContaining("Unable to delete layer group referenced by layer group 'outer'") });
    const base = await call('DELETE', '/layergroups/base');
    expect({ status: base.status, text: base.text }).toEqual({ status: 500, text: expect.stringContaining("Unable to delete layer group referenced by layer group 'top'") });
    expect(JSON.stringify([...gs.catalog.objects.layerGroup])).toBe(before);
    expect(gs.violations).toEqual([]);
    // Outer first, each delete is taken.
    for (const path of ['/workspaces/topp/layergroups/outer', '/workspaces/topp/layergroups/inner', '/layergroups/top', '/layergroups/base']) {
      expect({ path, status: (await call('DELETE', path)).status }).toEqual({ path, status: 200 });
    }
    expect(gs.catalog.objects.layerGroup.size).toBe(0);
  });

  // CascadeDeleteVisitor.visit(WorkspaceInfo): stores, styles, then its groups, each leaving the groups holding it.
  it('takes a recursively deleted workspace\'s groups out of the groups holding them, removing a group left empty and it from its own holders', async () => {
    await seedFeatureType();
    expect((await call('POST', '/workspaces', { workspace: { name: 'sf' } })).status).toBe(201);
    expect((await call('POST', '/workspaces/sf/datastores', { dataStore: { name: 'pg' } })).status).toBe(201);
    expect((await call('POST', '/workspaces/sf/datastores/pg/featuretypes', { featureType: { name: 'rivers' } })).status).toBe(201);
    const entry = (type: string, name: string) => ({ '@type': type, name });
    expect((await call('POST', '/workspaces/topp/layergroups', { layerGroup: { name: 'inner', publishables: { published: [entry('layer', 'topp:roads')] } } })).status).toBe(201);
    expect((await call('POST', '/workspaces/topp/layergroups', { layerGroup: { name: 'outer', publishables: { published: [entry('layerGroup', 'inner')] } } })).status).toBe(201);
    // A global group left empty by the workspace's going, held by another global group that keeps a layer.
    expect((await call('POST', '/layergroups', { layerGroup: { name: 'only-topp', publishables: { published: [entry('layerGroup', 'topp:outer')] } } })).status).toBe(201);
    expect(
      (await call('POST', '/layergroups', { layerGroup: { name: 'mixed', publishables: { published: [entry('layerGroup', 'only-topp'), entry('layer', 'sf:rivers'), entry('layerGroup', 'topp:inner')] }, styles: { style: [{ name: 'x' }, { name: 'y' }, { name: 'z' }] } } }))
        .status,
    ).toBe(201);
    expect((await call('DELETE', '/workspaces/topp?recurse=true')).status).toBe(200);
    expect([...gs.catalog.objects.layerGroup.keys()]).toEqual(['mixed']);
    expect(gs.catalog.objects.layerGroup.get('mixed')).toMatchObject({ publishables: { published: [entry('layer', 'sf:rivers')] }, styles: { style: [{ name: 'y' }] } });
  });

  it('renames a workspace with everything in it and the references to it; its namespace keeps its URI, which no other namespace may take', async () => {
    await seedFeatureType();
    const group = { layerGroup: { name: 'base', publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }] } } };
    expect((await call('POST', '/layergroups', group)).status).toBe(201);
    expect((await call('PUT', '/workspaces/topp', { workspace: { name: 'tipp' } })).status).toBe(200);
    expect([...gs.catalog.objects.workspace.keys()]).toEqual(['tipp']);
    expect(gs.catalog.objects.workspace.get('tipp')).toMatchObject({ name: 'tipp' });
    expect([...gs.catalog.objects.dataStore.keys(), ...gs.catalog.objects.featureType.keys(), ...gs.catalog.objects.layer.keys()]).toEqual(['tipp:pg', 'tipp:roads', 'tipp:roads']);
    expect(gs.catalog.objects.featureType.get('tipp:roads')).toMatchObject({ namespace: { name: 'tipp' }, store: { name: 'tipp:pg' } });
    expect(gs.catalog.objects.layerGroup.get('base')).toMatchObject({ publishables: { published: [{ name: 'tipp:roads' }] } });
    expect(gs.catalog.objects.namespace.get('tipp')).toMatchObject({ prefix: 'tipp', uri: 'http://topp' });
    const duplicate = await call('POST', '/namespaces', { namespace: { prefix: 'other', uri: 'http://topp' } });
    expect({ status: duplicate.status, text: duplicate.text }).toEqual({ status: 500, text: expect.stringContaining("URI 'http://topp' already exists") });
    expect((await call('PUT', '/workspaces/tipp/datastores/pg', { dataStore: { name: 'pg2' } })).status).toBe(200);
    expect(gs.catalog.objects.featureType.get('tipp:roads')).toMatchObject({ store: { name: 'tipp:pg2' } });
    expect(gs.violations).toEqual([]);
  });

  it("keeps a namespace's and its workspace's isolation one, and its data stores' namespace parameter its URI, as GeoServer's consistency listener does", async () => {
    const param = (uri: string) => ({ entry: [{ '@key': 'url', $: 'file:data/sf' }, { '@key': 'namespace', $: uri }] });
    await call('POST', '/workspaces', { workspace: { name: 'sf' } });
    await call('POST', '/workspaces/sf/datastores', { dataStore: { name: 'shp', connectionParameters: param('http://sf') } });
    await call('POST', '/workspaces/sf/datastores', { dataStore: { name: 'pg', connectionParameters: { entry: { '@key': 'host', $: 'db' } } } });
    expect((await call('PUT', '/namespaces/sf', { namespace: { uri: 'urn:sf', isolated: true } })).status).toBe(200);
    expect(JSON.parse((await call('GET', '/workspaces/sf')).text).workspace.isolated).toBe(true);
    expect(JSON.parse((await call('GET', '/workspaces/sf/datastores/shp')).text).dataStore.connectionParameters).toEqual(param('urn:sf'));
    // A store without a namespace parameter is left alone.
    expect(JSON.parse((await call('GET', '/workspaces/sf/datastores/pg')).text).dataStore.connectionParameters).toEqual({ entry: { '@key': 'host', $: 'db' } });
    expect((await call('PUT', '/workspaces/sf', { workspace: { name: 'sf', isolated: false } })).status).toBe(200);
    expect(JSON.parse((await call('GET', '/namespaces/sf')).text).namespace).toMatchObject({ uri: 'urn:sf', isolated: false });
    expect(gs.violations).toEqual([]);
  });

  it('creates the workspace of a POSTed namespace with its isolation, and removes it with the namespace unless it holds a store', async () => {
    expect((await call('POST', '/namespaces', { namespace: { prefix: 'sf', uri: 'urn:sf', isolated: true } })).status).toBe(201);
    expect(JSON.parse((await call('GET', '/workspaces/sf')).text)).toEqual({ workspace: { name: 'sf', isolated: true } });
    expect((await call('DELETE', '/namespaces/sf')).status).toBe(200);
    expect((await call('GET', '/workspaces/sf')).status).toBe(404);
    // A workspace holding a store stays (CatalogImpl.remove(WorkspaceInfo) refuses it), the namespace goes all the same.
    await call('POST', '/namespaces', { namespace: { prefix: 'sf', uri: 'urn:sf' } });
    expect((await call('POST', '/workspaces/sf/datastores', { dataStore: { name: 'pg' } })).status).toBe(201);
    expect((await call('DELETE', '/namespaces/sf')).status).toBe(200);
    expect((await call('GET', '/namespaces/sf')).status).toBe(404);
    expect((await call('GET', '/workspaces/sf')).status).toBe(200);
    expect(gs.violations).toEqual([]);
  });

  // Each of these controllers' POST calls setEnabled(true) on what it adds; CoverageStoreController.coverageStorePost does not.
  it('enables a data, WMS or WMTS store and any resource a POST creates whatever the body says; a coverage store keeps the body\'s enabled', async () => {
    expect((await call('POST', '/workspaces', { workspace: { name: 'topp' } })).status).toBe(201);
    const posts: [string, string, Record<string, unknown>][] = [
      ['/workspaces/topp/datastores', 'dataStore', { name: 'pg' }],
      ['/workspaces/topp/datastores/pg/featuretypes', 'featureType', { name: 'roads' }],
      ['/workspaces/topp/coveragestores', 'coverageStore', { name: 'dem', type: 'GeoTIFF' }],
      ['/workspaces/topp/coveragestores/dem/coverages', 'coverage', { name: 'dem' }],
      ['/workspaces/topp/wmsstores', 'wmsStore', { name: 'remote' }],
      ['/workspaces/topp/wmsstores/remote/wmslayers', 'wmsLayer', { name: 'states' }],
      ['/workspaces/topp/wmtsstores', 'wmtsStore', { name: 'tiles' }],
      ['/workspaces/topp/wmtsstores/tiles/layers', 'wmtsLayer', { name: 'osm' }],
    ];
    for (const [path, root, body] of posts) {
      expect((await call('POST', path, { [root]: { ...body, enabled: false } })).status).toBe(201);
    }
    expect(gs.violations).toEqual([]);
    const enabled = (type: keyof typeof gs.catalog.objects, id: string) => gs.catalog.objects[type].get(id)?.enabled;
    expect({
      dataStore: enabled('dataStore', 'topp:pg'),
      featureType: enabled('featureType', 'topp:roads'),
      coverageStore: enabled('coverageStore', 'topp:dem'),
      coverage: enabled('coverage', 'topp:dem'),
      wmsStore: enabled('wmsStore', 'topp:remote'),
      wmsLayer: enabled('wmsLayer', 'topp:states'),
      wmtsStore: enabled('wmtsStore', 'topp:tiles'),
      wmtsLayer: enabled('wmtsLayer', 'topp:osm'),
    }).toEqual({ dataStore: true, featureType: true, coverageStore: false, coverage: true, wmsStore: true, wmsLayer: true, wmtsStore: true, wmtsLayer: true });
    // A PUT disables what a POST enabled.
    expect((await call('PUT', '/workspaces/topp/datastores/pg', { dataStore: { enabled: false } })).status).toBe(200);
    expect(enabled('dataStore', 'topp:pg')).toBe(false);
  });

  // DataStoreController.dataStoreDelete: FORBIDDEN; the coverage, WMS and WMTS store controllers' DELETE: UNAUTHORIZED.
  it('refuses to delete a store holding resources without recurse: a data store with 403, a coverage, WMS or WMTS store with 401', async () => {
    expect((await call('POST', '/workspaces', { workspace: { name: 'topp' } })).status).toBe(201);
    const stores: [string, string, string, string][] = [
      ['datastores', 'dataStore', 'featuretypes', 'featureType'],
      ['coveragestores', 'coverageStore', 'coverages', 'coverage'],
      ['wmsstores', 'wmsStore', 'wmslayers', 'wmsLayer'],
      ['wmtsstores', 'wmtsStore', 'layers', 'wmtsLayer'],
    ];
    const refusals: Record<string, unknown> = {};
    for (const [collection, root, resources, resourceRoot] of stores) {
      expect((await call('POST', `/workspaces/topp/${collection}`, { [root]: { name: root } })).status).toBe(201);
      expect((await call('POST', `/workspaces/topp/${collection}/${root}/${resources}`, { [resourceRoot]: { name: resourceRoot } })).status).toBe(201);
      const refused = await call('DELETE', `/workspaces/topp/${collection}/${root}`);
      refusals[root] = { status: refused.status, text: refused.text };
      expect((await call('DELETE', `/workspaces/topp/${collection}/${root}?recurse=true`)).status).toBe(200);
    }
    expect(refusals).toEqual({
      dataStore: { status: 403, text: 'Unable to delete non-empty store.' },
      coverageStore: { status: 401, text: 'coveragestore not empty' },
      wmsStore: { status: 401, text: 'wmsstore not empty' },
      wmtsStore: { status: 401, text: 'wmtsstore not empty' },
    });
    expect(gs.violations).toEqual([]);
  });

  // NamespaceController.namespaceDelete: HttpStatus.UNAUTHORIZED while catalog.getResourcesByNamespace finds any.
  it('refuses to delete a namespace a resource belongs to with 401 "Namespace not empty", keeping it; the default one with 405', async () => {
    await seedFeatureType();
    expect(await call('DELETE', '/namespaces/topp')).toMatchObject({ status: 401, text: 'Namespace not empty' });
    expect((await call('GET', '/namespaces/topp')).status).toBe(200);
    expect((await call('GET', '/workspaces/topp/datastores/pg/featuretypes/roads')).status).toBe(200);
    expect((await call('DELETE', '/namespaces/default')).status).toBe(405);
    expect((await call('GET', '/namespaces/topp')).status).toBe(200);
    // Its resource gone (the store stays), the namespace is removed.
    expect((await call('DELETE', '/workspaces/topp/datastores/pg/featuretypes/roads?recurse=true')).status).toBe(200);
    expect((await call('DELETE', '/namespaces/topp')).status).toBe(200);
    expect((await call('GET', '/namespaces/topp')).status).toBe(404);
    expect(gs.violations).toEqual([]);
  });

  it('refuses a layer group without layers, and a workspace group holding another workspace\'s layer, as GeoServer does', async () => {
    await seedFeatureType();
    const empty = await call('POST', '/layergroups', { layerGroup: { name: 'empty', mode: 'EO', publishables: { published: [] } } });
    expect({ status: empty.status, text: empty.text }).toEqual({ status: 400, text: expect.stringContaining('layer group must not be empty') });
    expect((await call('POST', '/workspaces', { workspace: { name: 'sf' } })).status).toBe(201);
    const crossing = await call('POST', '/workspaces/sf/layergroups', { layerGroup: { name: 'g', publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }] } } });
    expect({ status: crossing.status, text: crossing.text }).toEqual({ status: 500, text: expect.stringContaining('can not contain resources from other workspace: topp') });
    expect(gs.catalog.objects.layerGroup.size).toBe(0);
  });

  // CatalogImpl.validate(LayerGroupInfo): "Layer group has different number of styles than layers".
  it('refuses a layer group whose styles do not match its entries in number (500), on POST and PUT; one without styles passes', async () => {
    await seedFeatureType();
    const roads = { '@type': 'layer', name: 'topp:roads' };
    const mismatched = { publishables: { published: [roads] }, styles: { style: [{ name: 'generic' }, { name: 'generic' }] } };
    const posted = await call('POST', '/layergroups', { layerGroup: { name: 'g', ...mismatched } });
    expect({ status: posted.status, text: posted.text }).toEqual({ status: 500, text: 'Layer group has different number of styles than layers' });
    expect(gs.catalog.objects.layerGroup.size).toBe(0);
    expect((await call('POST', '/layergroups', { layerGroup: { name: 'g', publishables: { published: [roads] } } })).status).toBe(201);
    const stored = gs.catalog.objects.layerGroup.get('g');
    // A PUT adding an entry without its style: the stored (null) style per entry no longer matches.
    const put = await call('PUT', '/layergroups/g', { layerGroup: { publishables: { published: [roads, roads] } } });
    expect({ status: put.status, text: put.text }).toEqual({ status: 500, text: 'Layer group has different number of styles than layers' });
    expect((await call('PUT', '/layergroups/g', { layerGroup: mismatched })).status).toBe(500);
    expect(gs.catalog.objects.layerGroup.get('g')).toEqual(stored);
    const matched = { publishables: { published: [roads, roads] }, styles: { style: [{ name: 'generic' }, {}] } };
    expect((await call('PUT', '/layergroups/g', { layerGroup: matched })).status).toBe(200);
    expect(gs.violations).toEqual([]);
  });

  // CatalogImpl.add gives a group added without styles a null style per entry; GeoServer answers each as
  // "null" in JSON (<style/> in XML: XStreamPersister's ReferenceCollectionConverter; layergroups.yaml's examples).
  it('stores and answers one style per layer group entry, "null" for a null one, and takes its own answer back on PUT', async () => {
    await seedFeatureType();
    const roads = { '@type': 'layer', name: 'topp:roads' };
    expect((await call('POST', '/layergroups', { layerGroup: { name: 'g', publishables: { published: [roads, roads] } } })).status).toBe(201);
    const answered = JSON.parse((await call('GET', '/layergroups/g.json')).text);
    expect(answered.layerGroup.styles).toEqual({ style: ['null', 'null'] });
    // A style naming nothing is a null style too, in every form GeoServer's reader takes as one.
    const unnamed = [{}, '', 'null', null, { name: '' }];
    const published = { published: [roads, ...unnamed.map(() => roads)] };
    expect((await call('POST', '/layergroups', { layerGroup: { name: 'h', publishables: published, styles: { style: [{ name: 'generic' }, ...unnamed] } } })).status).toBe(201);
    expect(gs.catalog.objects.layerGroup.get('h')).toMatchObject({ styles: { style: [{ name: 'generic' }, ...unnamed.map(() => 'null')] } });
    // The group as GeoServer answers it, with one entry more and its style, is a PUT GeoServer takes.
    const grown = { ...answered.layerGroup, publishables: { published: [roads, roads, roads] }, styles: { style: ['null', 'null', 'null'] } };
    const put = await call('PUT', '/layergroups/g', { layerGroup: grown });
    expect(put.status).toBe(200);
    expect(gs.catalog.objects.layerGroup.get('g')).toMatchObject({ styles: { style: ['null', 'null', 'null'] } });
    expect(gs.violations).toEqual([]);
  });

  // XStreamPersister's ReferenceConverter reads a style entry given as text by its text, as a name:
  // ResolvingProxy.resolve finds the style the catalog holds by it, and hands on null for one it lacks.
  it('reads a layer group style given as text as the style of that name, and one naming a style it lacks as a null style', async () => {
    await seedFeatureType();
    expect((await call('POST', '/styles', { style: { name: 'roads', filename: 'roads.sld' } })).status).toBe(201);
    const roads = { '@type': 'layer', name: 'topp:roads' };
    const group = { name: 'g', publishables: { published: [roads, roads, roads] }, styles: { style: ['roads', 'ghost', 'generic'] } };
    expect((await call('POST', '/layergroups', { layerGroup: group })).status).toBe(201);
    const answered = JSON.parse((await call('GET', '/layergroups/g.json')).text);
    expect(answered.layerGroup.styles).toEqual({ style: [{ name: 'roads' }, 'null', { name: 'generic' }] });
    // A PUT, its single style given as text too.
    expect((await call('PUT', '/layergroups/g', { layerGroup: { publishables: { published: [roads] }, styles: { style: 'roads' } } })).status).toBe(200);
    expect(gs.catalog.objects.layerGroup.get('g')).toMatchObject({ styles: { style: [{ name: 'roads' }] } });
    expect(gs.violations).toEqual([]);
  });

  it("reads a layer group's rootLayerStyle given as text as the style of that name, and one naming a style it lacks as none", async () => {
    await seedFeatureType();
    expect((await call('POST', '/styles', { style: { name: 'roads', filename: 'roads.sld' } })).status).toBe(201);
    const roads = { '@type': 'layer', name: 'topp:roads' };
    const group = { name: 'g', mode: 'EO', rootLayer: roads, rootLayerStyle: 'roads', publishables: { published: [roads] } };
    expect((await call('POST', '/layergroups', { layerGroup: group })).status).toBe(201);
    expect(gs.catalog.objects.layerGroup.get('g')).toMatchObject({ rootLayerStyle: { name: 'roads' } });
    // A PUT naming one the catalog lacks resolves to null, which the copy skips: the group keeps its own.
    expect((await call('PUT', '/layergroups/g', { layerGroup: { rootLayerStyle: 'ghost' } })).status).toBe(200);
    expect(gs.catalog.objects.layerGroup.get('g')).toMatchObject({ rootLayerStyle: { name: 'roads' } });
    expect(gs.violations).toEqual([]);
  });

  it("reads a layer's defaultStyle and styles given as text as the style of that name", async () => {
    await seedFeatureType();
    expect((await call('POST', '/styles', { style: { name: 'roads', filename: 'roads.sld' } })).status).toBe(201);
    expect((await call('PUT', '/layers/topp:roads', { layer: { defaultStyle: 'roads', styles: { style: ['generic', 'roads'] } } })).status).toBe(200);
    expect(gs.catalog.objects.layer.get('topp:roads')).toMatchObject({ defaultStyle: { name: 'roads' }, styles: { style: [{ name: 'generic' }, { name: 'roads' }] } });
    // As one naming it by {"name": ...}: a default style the catalog lacks is refused.
    expect((await call('PUT', '/layers/topp:roads', { layer: { defaultStyle: 'ghost' } })).status).toBe(500);
    expect(gs.catalog.objects.layer.get('topp:roads')).toMatchObject({ defaultStyle: { name: 'roads' } });
    expect(gs.violations).toEqual([]);
  });

  it('drops a layer group entry naming a layer or group the catalog lacks, with its null style, on POST and PUT, as CatalogImpl.validate does', async () => {
    await seedFeatureType();
    const entries = (...names: string[]) => names.map((name) => (name.startsWith('group:') ? { '@type': 'layerGroup', name: name.slice(6) } : { '@type': 'layer', name }));
    const group = (name: string, names: string[], styles = true) => ({
      layerGroup: { name, publishables: { published: entries(...names) }, ...(styles ? { styles: { style: names.map(() => ({})) } } : {}) },
    });
    const published = async (name: string) => JSON.parse((await call('GET', `/layergroups/${name}`)).text).layerGroup.publishables.published;
    // POST: the missing group is dropped (with its style), the rest saved.
    expect((await call('POST', '/layergroups', group('base', ['topp:roads', 'group:inner']))).status).toBe(201);
    expect(await published('base')).toEqual(entries('topp:roads'));
    // PUT: the same.
    expect((await call('PUT', '/layergroups/base', group('base', ['topp:roads', 'group:inner', 'topp:nowhere']))).status).toBe(200);
    expect(await published('base')).toEqual(entries('topp:roads'));
    // Once the group is there, it is kept.
    expect((await call('POST', '/layergroups', group('inner', ['topp:roads']))).status).toBe(201);
    expect((await call('PUT', '/layergroups/base', group('base', ['topp:roads', 'group:inner']))).status).toBe(200);
    expect(await published('base')).toEqual(entries('topp:roads', 'group:inner'));
    // Nothing left: refused, nothing saved.
    for (const [method, path, name] of [['POST', '/layergroups', 'other'], ['PUT', '/layergroups/base', 'base']] as const) {
      const none = await call(method, path, group(name, ['group:gone']));
      expect({ status: none.status, text: none.text }).toEqual({ status: 500, text: expect.stringContaining('Layer group must not be empty') });
    }
    // Styles stopping short of the missing entry: refused at its index, nothing saved.
    const short = await call('POST', '/layergroups', group('other', ['topp:roads', 'group:gone'], false));
    expect({ status: short.status, text: short.text }).toEqual({ status: 500, text: expect.stringContaining('Index 1 out of bounds for length 0') });
    expect(await published('base')).toEqual(entries('topp:roads', 'group:inner'));
    expect([...gs.catalog.objects.layerGroup.keys()].sort()).toEqual(['base', 'inner']);
  });

  it('moves a feature type to the store its PUT names, as featureTypePut copies the body\'s store', async () => {
    await seedFeatureType();
    expect((await call('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg2' } })).status).toBe(201);
    expect((await call('PUT', '/workspaces/topp/datastores/pg/featuretypes/roads', { featureType: { store: { name: 'topp:pg2' }, title: 'Moved' } })).status).toBe(200);
    expect((await call('GET', '/workspaces/topp/datastores/pg/featuretypes/roads')).status).toBe(404);
    const moved = await call('GET', '/workspaces/topp/datastores/pg2/featuretypes/roads');
    expect(moved.status).toBe(200);
    expect(JSON.parse(moved.text)).toMatchObject({ featureType: { name: 'roads', title: 'Moved', store: { '@class': 'dataStore', name: 'topp:pg2' } } });
    expect(gs.catalog.objects.layer.get('topp:roads')).toMatchObject({ resource: { name: 'topp:roads' } });
    // a store named without its workspace is the path's workspace's
    expect((await call('PUT', '/workspaces/topp/datastores/pg2/featuretypes/roads', { featureType: { store: { name: 'pg' } } })).status).toBe(200);
    expect(gs.catalog.objects.featureType.get('topp:roads')).toMatchObject({ store: { name: 'topp:pg' } });
    expect(gs.violations).toEqual([]);
  });

  // FeatureTypeController.featureTypePost builds its Location with UriComponentsBuilder and
  // HttpHeaders.setLocation writes URI.toASCIIString(): a name outside ASCII, or with a character a
  // path cannot hold, is percent-encoded (UTF-8), and the Location leads back to the object.
  it.each([
    ['道路', '%E9%81%93%E8%B7%AF'],
    ['main roads', 'main%20roads'],
    ['straße', 'stra%C3%9Fe'],
    ['a#b?c', 'a%23b%3Fc'],
  ])('creates a feature type named %s and answers 201 with its Location percent-encoded', async (name, encoded) => {
    await seedFeatureType();
    const created = await call('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name, srs: 'EPSG:4326' } });
    expect({ status: created.status, location: created.headers.get('location') }).toEqual({
      status: 201,
      location: `${gs.restUrl}/workspaces/topp/datastores/pg/featuretypes/${encoded}`,
    });
    const read = await fetch(created.headers.get('location')!, { headers: { authorization: ADMIN, accept: 'application/json' } });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { featureType: { name: string } }).featureType.name).toBe(name);
    expect(gs.violations).toEqual([]);
  });

  // FeatureTypeController.featureTypePost answers 201 with an empty text/plain body: the created
  // feature type is named by its Location alone (featuretypes.yaml documents only the header). A
  // store's POST answers its name (DataStoreController), and so does a coverage's.
  it('answers a feature type POST with an empty body and the Location naming it, a store POST with its name', async () => {
    expect((await call('POST', '/workspaces', { workspace: { name: 'topp' } })).text).toBe('topp');
    expect((await call('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } })).text).toBe('pg');
    const created = await call('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { nativeName: 'roads' } });
    expect({ status: created.status, text: created.text, location: created.headers.get('location') }).toEqual({
      status: 201,
      text: '',
      location: `${gs.restUrl}/workspaces/topp/datastores/pg/featuretypes/roads`,
    });
    expect(gs.catalog.objects.featureType.has('topp:roads')).toBe(true);
    expect((await call('POST', '/workspaces/topp/coveragestores', { coverageStore: { name: 'dem', type: 'GeoTIFF' } })).text).toBe('dem');
    expect((await call('POST', '/workspaces/topp/coveragestores/dem/coverages', { coverage: { name: 'dem' } })).text).toBe('dem');
  });

  it('refuses a feature type POST whose body names another data store or namespace than its path (403), adding nothing', async () => {
    await seedFeatureType();
    expect((await call('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg2' } })).status).toBe(201);
    expect((await call('POST', '/workspaces', { workspace: { name: 'sf' } })).status).toBe(201);
    const otherStore = await call('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'rivers', store: { name: 'topp:pg2' } } });
    expect(otherStore).toMatchObject({ status: 403, text: 'Expected datastore pg but client specified pg2' });
    const otherNamespace = await call('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'rivers', namespace: { name: 'sf' } } });
    expect(otherNamespace).toMatchObject({ status: 403, text: 'Expected workspace topp but client specified sf' });
    expect([...gs.catalog.objects.featureType.keys()]).toEqual(['topp:roads']);
    expect([...gs.catalog.objects.layer.keys()]).toEqual(['topp:roads']);
    // Its own store and namespace, or ones the catalog lacks (read as none), are taken.
    const own = await call('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'rivers', store: { name: 'pg' }, namespace: { name: 'topp' } } });
    expect(own.status).toBe(201);
    const unknown = await call('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'lakes', store: { name: 'nowhere' }, namespace: { name: 'nowhere' } } });
    expect(unknown.status).toBe(201);
    expect(gs.catalog.objects.featureType.get('topp:lakes')).toMatchObject({ store: { name: 'topp:pg' }, namespace: { name: 'topp' } });
  });

  it('renames a feature type and its layer together', async () => {
    await seedFeatureType();
    expect((await call('PUT', '/workspaces/topp/featuretypes/roads', { featureType: { name: 'streets' } })).status).toBe(200);
    expect([...gs.catalog.objects.featureType.keys()]).toEqual(['topp:streets']);
    expect([...gs.catalog.objects.layer.keys()]).toEqual(['topp:streets']);
  });
});

describe('file uploads into stores (datastores.yaml, coveragestores.yaml)', () => {
  /** Every catalog object, to tell that a refused upload changed nothing. */
  const catalogState = () => JSON.stringify(Object.fromEntries(Object.entries(gs.catalog.objects).map(([type, map]) => [type, [...map.entries()]])));

  it('an external shapefile makes the store, its one feature type (named after the file) and its layer', async () => {
    expect((await call('POST', '/workspaces', { workspace: { name: 'topp' } })).status).toBe(201);
    const answer = await call('PUT', '/workspaces/topp/datastores/roads/external.shp', 'file:/srv/gis/main_roads.shp', 'text/plain');
    expect(answer.status).toBe(201);
    expect(gs.catalog.objects.dataStore.get('topp:roads')).toMatchObject({
      name: 'roads',
      type: 'Shapefile',
      connectionParameters: { entry: [{ '@key': 'url', $: 'file:/srv/gis/main_roads.shp' }, { '@key': 'namespace', $: 'http://topp' }] },
    });
    expect(gs.catalog.objects.featureType.get('topp:main_roads')).toMatchObject({ name: 'main_roads', nativeName: 'main_roads', store: { name: 'topp:roads' } });
    expect(gs.catalog.objects.layer.get('topp:main_roads')).toMatchObject({ resource: { name: 'topp:main_roads' } });
    // Read back as any store is
    expect(JSON.parse((await call('GET', '/workspaces/topp/datastores/roads/featuretypes/main_roads.json')).text)).toMatchObject({ featureType: { name: 'main_roads' } });
    expect(gs.violations).toEqual([]);
  });

  it('a url GeoTIFF makes the coverage store and a coverage named after the store (or coverageName); configure=none the store alone', async () => {
    expect((await call('POST', '/workspaces', { workspace: { name: 'topp' } })).status).toBe(201);
    expect((await call('PUT', '/workspaces/topp/coveragestores/dem/url.geotiff', 'https://data.example.org/dem.tif', 'text/plain')).status).toBe(201);
    expect(gs.catalog.objects.coverageStore.get('topp:dem')).toMatchObject({ type: 'GeoTIFF', url: 'file:data/dem.geotiff' });
    expect([...gs.catalog.objects.coverage.keys()]).toEqual(['topp:dem']);
    expect((await call('PUT', '/workspaces/topp/coveragestores/sst/url.geotiff?coverageName=sea', 'https://data.example.org/sst.tif', 'text/plain')).status).toBe(201);
    expect(gs.catalog.objects.coverage.has('topp:sea')).toBe(true);
    expect((await call('PUT', '/workspaces/topp/coveragestores/bare/external.geotiff?configure=none', '/srv/gis/bare.tif', 'text/plain')).status).toBe(201);
    expect(gs.catalog.objects.coverageStore.has('topp:bare')).toBe(true);
    expect([...gs.catalog.objects.layer.keys()].sort()).toEqual(['topp:dem', 'topp:sea']);
    expect(gs.violations).toEqual([]);
  });

  it('an upload of a file the store already configured updates the store and adds nothing; a name taken by another resource gets a number', async () => {
    expect((await call('POST', '/workspaces', { workspace: { name: 'topp' } })).status).toBe(201);
    expect((await call('PUT', '/workspaces/topp/datastores/roads/external.shp', '/srv/a/roads.shp', 'text/plain')).status).toBe(201);
    expect((await call('PUT', '/workspaces/topp/datastores/roads/external.shp', '/srv/b/roads.shp', 'text/plain')).status).toBe(201);
    expect([...gs.catalog.objects.featureType.keys()]).toEqual(['topp:roads']);
    expect(gs.catalog.objects.dataStore.get('topp:roads')).toMatchObject({ connectionParameters: { entry: [{ '@key': 'url', $: 'file:/srv/b/roads.shp' }, expect.anything()] } });
    expect((await call('PUT', '/workspaces/topp/datastores/more/external.shp', '/srv/c/roads.shp', 'text/plain')).status).toBe(201);
    expect(gs.catalog.objects.featureType.get('topp:roads1')).toMatchObject({ nativeName: 'roads', store: { name: 'topp:more' } });
  });

  it('refuses what GeoServer refuses, and changes nothing', async () => {
    expect((await call('POST', '/workspaces', { workspace: { name: 'topp' } })).status).toBe(201);
    expect((await call('POST', '/workspaces/topp/coveragestores', { coverageStore: { name: 'dem', type: 'GeoTIFF', url: 'file:data/dem.tif' } })).status).toBe(201);
    const before = catalogState();
    const refusals: [string, string, string, number][] = [
      ['PUT', '/workspaces/topp/datastores/roads/ftp.shp', '/srv/roads.shp', 400], // no such upload method
      ['PUT', '/workspaces/topp/datastores/roads/remote.shp', 'https://x/roads.shp', 400], // remote: coverage stores only
      ['PUT', '/workspaces/topp/datastores/roads/external.dwg', '/srv/roads.dwg', 400], // unsupported format
      ['PUT', '/workspaces/topp/datastores/roads/external.shp', 'roads.shp', 400], // not an absolute path
      ['PUT', '/workspaces/topp/datastores/roads/url.shp', 'not a url', 400],
      ['PUT', '/workspaces/nowhere/datastores/roads/external.shp', '/srv/roads.shp', 404],
      ['PUT', '/workspaces/topp/datastores/dem/external.shp', '/srv/dem.shp', 500], // a coverage store holds the name
      ['POST', '/workspaces/topp/datastores/roads/external.shp', '/srv/roads.shp', 405], // "Invalid, use PUT for uploads"
      ['DELETE', '/workspaces/topp/coveragestores/dem/external.geotiff', '', 405],
      ['POST', '/workspaces/topp/coveragestores/dem/external.geotiff', '/srv/more.tif', 405], // harvest: not a mosaic
    ];
    for (const [method, path, body, status] of refusals) {
      const answer = await call(method, path, body || undefined, 'text/plain');
      expect({ method, path, status: answer.status }).toEqual({ method, path, status });
      expect(answer.text).not.toBe('');
    }
    expect(catalogState()).toBe(before);
  });
});

describe('styles', () => {
  const sld = Buffer.from('<?xml version="1.0"?>\n<StyledLayerDescriptor version="1.0.0">  <!-- é -->\n</StyledLayerDescriptor>\n');

  it('takes the two-step upload and keeps the document as the exact bytes with its content type', async () => {
    expect((await call('POST', '/styles', { style: { name: 'roads', filename: 'roads.sld' } })).status).toBe(201);
    expect(gs.catalog.styleBodies.has('roads')).toBe(false);
    expect((await call('PUT', '/styles/roads?raw=true', sld, 'application/vnd.ogc.sld+xml')).status).toBe(200);
    expect(gs.catalog.styleBodies.get('roads')).toEqual({ bytes: sld, contentType: 'application/vnd.ogc.sld+xml', raw: true });
    const back = await call('GET', '/styles/roads.sld');
    expect(back.bytes.equals(sld)).toBe(true);
    expect(back.headers.get('content-type')).toBe('application/vnd.ogc.sld+xml');
  });

  it.each([
    ['/styles', { name: 'roads' }],
    ['/styles', { name: 'roads', filename: null }],
    ['/styles', { name: 'roads', filename: '  ' }],
    ['/workspaces/topp/styles', { name: 'roads', format: 'sld' }],
  ])('refuses a style POSTed to %s as info %j with 500 naming its fileName, and stores nothing, as catalog validation does', async (path, style) => {
    expect((await call('POST', '/workspaces', { workspace: { name: 'topp' } })).status).toBe(201);
    const refused = await call('POST', path, { style });
    expect([refused.status, refused.text]).toEqual([500, 'Style fileName must not be null']);
    expect(gs.catalog.objects.style.size).toBe(0);
    expect(gs.violations).toEqual([]);
  });

  it("refuses a style PUT blanking its fileName or giving it as JSON null with 500, keeping the style; one leaving it out keeps the filename", async () => {
    expect((await call('POST', '/styles', { style: { name: 'roads', filename: 'roads.sld' } })).status).toBe(201);
    // GeoServer's JSON reader (Jettison, XStream) reads a null member as an element without text: "".
    for (const filename of ['', null]) {
      const refused = await call('PUT', '/styles/roads', { style: { filename, format: 'sld' } });
      expect([refused.status, refused.text]).toEqual([500, 'Style fileName must not be null']);
      expect(gs.catalog.objects.style.get('roads')).toMatchObject({ filename: 'roads.sld' });
    }
    expect((await call('PUT', '/styles/roads', { style: { format: 'sld' } })).status).toBe(200);
    expect(gs.catalog.objects.style.get('roads')).toMatchObject({ filename: 'roads.sld' });
    expect(gs.violations).toEqual([]);
  });

  it("answers a style's document before it is uploaded with 200 and nothing, as GeoServer does", async () => {
    expect((await call('POST', '/styles', { style: { name: 'roads', filename: 'roads.sld' } })).status).toBe(201);
    for (const [path, accept] of [
      ['/styles/roads.sld', undefined],
      ['/styles/roads', 'application/vnd.ogc.sld+xml'],
    ] as const) {
      const empty = await call('GET', path, undefined, undefined, accept === undefined ? {} : { accept });
      expect([path, empty.status, empty.bytes.length, empty.headers.get('content-type')]).toEqual([path, 200, 0, 'application/vnd.ogc.sld+xml']);
    }
    expect(gs.violations).toEqual([]);
  });

  // StyleController reads a style file in the charset its Content-Type names, raw or not, and
  // keeps the bytes for ?raw=true; an SLD 1.0 of one layer without raw is written anew from that reading.
  it("reads a style file in its Content-Type's charset: kept byte for byte with raw=true, written as the characters read without it", async () => {
    const cafe = (declared: string) => `<?xml version="1.0" encoding="${declared}"?><StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>Caf\u00e9</Name></NamedLayer></StyledLayerDescriptor>`;
    const rewritten = (text: string) => Buffer.from(text.replace(/^<\?xml[^>]*\?>/, '<?xml version="1.0" encoding="UTF-8"?>'), 'utf8');
    const latin1 = Buffer.from(cafe('ISO-8859-1'), 'latin1');
    const utf8 = Buffer.from(cafe('UTF-8'), 'utf8');
    expect((await call('POST', '/styles', { style: { name: 'roads', filename: 'roads.sld' } })).status).toBe(201);
    const cases: [string, Buffer, string, Buffer][] = [
      ['/styles/roads?raw=true', latin1, 'application/vnd.ogc.sld+xml; charset=ISO-8859-1', latin1],
      ['/styles/roads', latin1, 'application/vnd.ogc.sld+xml; charset=ISO-8859-1', rewritten(cafe('ISO-8859-1'))],
      // The header's charset, not the body's declaration: UTF-8 read as ISO-8859-1 is "CafÃ©".
      ['/styles/roads', utf8, 'application/vnd.ogc.sld+xml; charset=ISO-8859-1', rewritten(cafe('UTF-8').replace('\u00e9', '\u00c3\u00a9'))],
      ['/styles/roads?raw=true', utf8, 'application/vnd.ogc.sld+xml; charset=ISO-8859-1', utf8],
      // SE 1.1 is written raw whatever the charset read.
      ['/styles/roads', latin1, 'application/vnd.ogc.se+xml; charset=ISO-8859-1', latin1],
    ];
    for (const [path, body, contentType, held] of cases) {
      expect({ path, contentType, status: (await call('PUT', path, body, contentType)).status }).toEqual({ path, contentType, status: 200 });
      expect({ path, contentType, held: gs.catalog.styleBodies.get('roads')?.bytes.toString('hex') }).toEqual({ path, contentType, held: held.toString('hex') });
    }
    expect(gs.violations).toEqual([]);
  });

  it('fails a style file whose Content-Type names a charset Java refuses with 500, raw or not, storing nothing', async () => {
    expect((await call('POST', '/styles', { style: { name: 'roads', filename: 'roads.sld' } })).status).toBe(201);
    for (const contentType of ['application/vnd.ogc.sld+xml; charset="UTF-8"', 'application/vnd.ogc.sld+xml; charset= UTF-8']) {
      for (const path of ['/styles/roads?raw=true', '/styles/roads']) {
        expect({ contentType, path, status: (await call('PUT', path, sld, contentType)).status }).toEqual({ contentType, path, status: 500 });
      }
      expect((await call('POST', '/styles?name=lines&raw=true', sld, contentType)).status).toBe(500);
    }
    expect(gs.catalog.styleBodies.size).toBe(0);
    expect(gs.catalog.objects.style.has('lines')).toBe(false);
  });

  it('takes the one-step upload with ?name= and records SE 1.1', async () => {
    expect((await call('POST', '/workspaces', { workspace: { name: 'topp' } })).status).toBe(201);
    const se = await call('POST', '/workspaces/topp/styles?name=lines&raw=true', sld, 'application/vnd.ogc.se+xml');
    expect(se.status).toBe(201);
    expect(gs.catalog.objects.style.get('topp:lines')).toMatchObject({ format: 'sld', languageVersion: { version: '1.1.0' } });
    expect(gs.catalog.styleBodies.get('topp:lines')?.contentType).toBe('application/vnd.ogc.se+xml');
    expect(gs.violations).toEqual([]);
  });

  // StyleController.stylePut (InputStream form): raw, writeStyleRaw's NullPointerException escapes;
  // otherwise writeStyle raises it inside the try that answers BAD_REQUEST.
  it('fails a document PUT to a style with no entry with 500 when raw and 400 otherwise, as StyleController does', async () => {
    expect((await call('PUT', '/styles/ghost?raw=true', sld, 'application/vnd.ogc.sld+xml')).status).toBe(500);
    expect(await call('PUT', '/styles/ghost', sld, 'application/vnd.ogc.sld+xml')).toMatchObject({ status: 400, text: expect.stringContaining('Invalid style') });
    expect((await call('POST', '/workspaces', { workspace: { name: 'topp' } })).status).toBe(201);
    expect((await call('PUT', '/workspaces/topp/styles/ghost?raw=true', sld, 'application/vnd.ogc.sld+xml')).status).toBe(500);
    expect(gs.catalog.objects.style.size).toBe(0);
    expect(gs.catalog.styleBodies.size).toBe(0);
    expect(gs.violations).toEqual([]);
  });

  // StyleController.stylePut and LayerGroupController.layerGroupPut dereference the null they looked up.
  it('fails an info PUT to a style or layer group it lacks with 500, global or of a workspace, where a GET answers 404 and a missing workspace 404', async () => {
    expect((await call('POST', '/workspaces', { workspace: { name: 'topp' } })).status).toBe(201);
    for (const base of ['', '/workspaces/topp']) {
      expect((await call('PUT', `${base}/styles/ghost`, { style: { name: 'ghost', filename: 'ghost.sld' } })).status).toBe(500);
      expect((await call('GET', `${base}/styles/ghost`)).status).toBe(404);
      expect((await call('PUT', `${base}/layergroups/ghost`, { layerGroup: { name: 'ghost', title: 'none' } })).status).toBe(500);
      expect((await call('GET', `${base}/layergroups/ghost`)).status).toBe(404);
    }
    expect((await call('PUT', '/workspaces/nowhere/styles/ghost', { style: { name: 'ghost' } })).status).toBe(404);
    expect((await call('PUT', '/workspaces/nowhere/layergroups/ghost', { layerGroup: { name: 'ghost' } })).status).toBe(404);
    // Other types still answer 404 (their controllers check first).
    expect((await call('PUT', '/workspaces/topp', { workspace: { name: 'topp' } })).status).toBe(200);
    expect((await call('PUT', '/workspaces/topp/datastores/ghost', { dataStore: { name: 'ghost' } })).status).toBe(404);
    expect(gs.catalog.objects.style.size).toBe(0);
    expect(gs.catalog.objects.layerGroup.size).toBe(0);
    expect(gs.violations).toEqual([]);
  });

  // StyleController.stylePut: "ensure no workspace change", a RestException with FORBIDDEN; a new name is taken.
  it('refuses a style PUT naming another workspace (403), global or of a workspace, changing nothing', async () => {
    for (const name of ['topp', 'sf']) expect((await call('POST', '/workspaces', { workspace: { name } })).status).toBe(201);
    for (const base of ['', '/workspaces/topp']) {
      expect((await call('POST', `${base}/styles`, { style: { name: 'roads', filename: 'roads.sld' } })).status).toBe(201);
      const moved = await call('PUT', `${base}/styles/roads`, { style: { workspace: { name: 'sf' }, filename: 'moved.sld' } });
      expect({ status: moved.status, text: moved.text }).toEqual({ status: 403, text: "Can't change the workspace of a style, instead DELETE from existing workspace and POST to new workspace" });
    }
    expect([...gs.catalog.objects.style.entries()].map(([id, style]) => [id, style.filename])).toEqual([['roads', 'roads.sld'], ['topp:roads', 'roads.sld']]);
    expect((await call('PUT', '/workspaces/topp/styles/roads', { style: { workspace: { name: 'topp' }, filename: 'kept.sld' } })).status).toBe(200);
    expect(gs.violations).toEqual([]);
  });

  it('refuses to delete a style a layer uses unless recurse', async () => {
    await seedFeatureType();
    await call('POST', '/styles?name=roads&raw=true', sld, 'application/vnd.ogc.sld+xml');
    expect((await call('PUT', '/layers/topp:roads', { layer: { defaultStyle: { name: 'roads' } } })).status).toBe(200);
    expect((await call('DELETE', '/styles/roads')).status).toBe(403);
    expect((await call('DELETE', '/styles/roads?recurse=true')).status).toBe(200);
    expect(gs.catalog.objects.layer.get('topp:roads')).toMatchObject({ defaultStyle: { name: 'generic' } });
  });

  // CascadeDeleteVisitor.visit(StyleInfo): removeStyleInLayer, then removeStyleInLayerGroup.
  it("on a recursive delete, a layer takes its first extra style as default and a group's root layer style its resource's default", async () => {
    await seedFeatureType();
    for (const name of ['roads', 'extra', 'other']) await call('POST', `/styles?name=${name}&raw=true`, sld, 'application/vnd.ogc.sld+xml');
    const layer = { layer: { defaultStyle: { name: 'roads' }, styles: { style: [{ name: 'roads' }, { name: 'extra' }, { name: 'other' }] } } };
    expect((await call('PUT', '/layers/topp:roads', layer)).status).toBe(200);
    const group = {
      layerGroup: { name: 'eo', mode: 'EO', rootLayer: { name: 'topp:roads' }, rootLayerStyle: { name: 'roads' }, publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }] }, styles: { style: [{ name: 'roads' }] } },
    };
    expect((await call('POST', '/layergroups', group)).status).toBe(201);
    expect((await call('DELETE', '/styles/roads?recurse=true')).status).toBe(200);
    expect(gs.catalog.objects.layer.get('topp:roads')).toMatchObject({ defaultStyle: { name: 'extra' }, styles: { style: [{ name: 'other' }] } });
    expect(gs.catalog.objects.layerGroup.get('eo')).toMatchObject({ rootLayerStyle: { name: 'generic' }, styles: { style: [{ name: 'extra' }] } });
    expect(gs.violations).toEqual([]);
  });

  it("renames a renamed style's file after it, <name>.<ext> or the first <name>N.<ext> free in its styles folder, whatever the body gives, as GeoServer does", async () => {
    expect((await call('POST', '/workspaces', { workspace: { name: 'topp' } })).status).toBe(201);
    expect((await call('POST', '/styles?name=roads&raw=true', sld, 'application/vnd.ogc.sld+xml')).status).toBe(201);
    expect((await call('PUT', '/styles/roads', { style: { name: 'streets' } })).status).toBe(200);
    const renamed = JSON.parse((await call('GET', '/styles/streets.json')).text);
    expect(renamed.style).toMatchObject({ name: 'streets', filename: 'streets.sld' });
    // lines.sld and lines1.sld are other styles' files in the global folder: the next free name is taken
    expect((await call('POST', '/styles', { style: { name: 'a', filename: 'lines.sld' } })).status).toBe(201);
    expect((await call('POST', '/styles', { style: { name: 'b', filename: 'lines1.sld' } })).status).toBe(201);
    expect((await call('PUT', '/styles/streets', { style: { name: 'lines', filename: 'mine.sld' } })).status).toBe(200);
    expect(gs.catalog.objects.style.get('lines')).toMatchObject({ filename: 'lines2.sld' });
    // a workspace's styles folder is its own, and the extension is the format's
    expect((await call('POST', '/workspaces/topp/styles', { style: { name: 'c', format: 'css', filename: 'c.css' } })).status).toBe(201);
    expect((await call('PUT', '/workspaces/topp/styles/c', { style: { name: 'lines' } })).status).toBe(200);
    expect(gs.catalog.objects.style.get('topp:lines')).toMatchObject({ filename: 'lines.css' });
    // a PUT that does not rename keeps the filename as before
    expect((await call('PUT', '/styles/a', { style: { name: 'a' } })).status).toBe(200);
    expect(gs.catalog.objects.style.get('a')).toMatchObject({ filename: 'lines.sld' });
    expect(gs.violations).toEqual([]);
  });

  it("renames a style in every layer's and layer group's reference to it, and refuses to delete a style a group names", async () => {
    await seedFeatureType();
    await call('POST', '/styles?name=roads&raw=true', sld, 'application/vnd.ogc.sld+xml');
    await call('POST', '/styles?name=extra&raw=true', sld, 'application/vnd.ogc.sld+xml');
    expect((await call('PUT', '/layers/topp:roads', { layer: { defaultStyle: { name: 'roads' }, styles: { style: [{ name: 'extra' }] } } })).status).toBe(200);
    const group = { layerGroup: { name: 'base', publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }] }, styles: { style: [{ name: 'extra' }] } } };
    expect((await call('POST', '/layergroups', group)).status).toBe(201);
    expect((await call('PUT', '/styles/extra', { style: { name: 'extra2' } })).status).toBe(200);
    expect((await call('PUT', '/styles/roads', { style: { name: 'roads2' } })).status).toBe(200);
    expect(gs.catalog.objects.layer.get('topp:roads')).toMatchObject({ defaultStyle: { name: 'roads2' }, styles: { style: [{ name: 'extra2' }] } });
    expect(gs.catalog.objects.layerGroup.get('base')).toMatchObject({ styles: { style: [{ name: 'extra2' }] } });
    // the layer no longer names it, the group does
    expect((await call('PUT', '/layers/topp:roads', { layer: { styles: { style: [] } } })).status).toBe(200);
    const refused = await call('DELETE', '/styles/extra2');
    expect({ status: refused.status, text: refused.text }).toEqual({ status: 500, text: expect.stringContaining("layer group 'base'") });
    expect(gs.catalog.objects.style.has('extra2')).toBe(true);
    expect(gs.violations).toEqual([]);
  });
});

describe('settings, logging and version', () => {
  it('updates global, service and workspace settings and logging', async () => {
    expect((await call('PUT', '/settings', { global: { settings: { numDecimals: 4 }, globalServices: null } })).status).toBe(200);
    expect(gs.catalog.objects.global.get('global')).toMatchObject({ settings: { numDecimals: 4 }, globalServices: true });
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    expect((await call('PUT', '/services/wms/workspaces/topp/settings', { wms: { title: 'Topp maps' } })).status).toBe(200);
    expect(gs.catalog.objects.service.get('topp:WMS')).toMatchObject({ title: 'Topp maps' });
    expect((await call('PUT', '/workspaces/topp/settings', { settings: { charset: 'UTF-8' } })).status).toBe(404);
    expect((await call('POST', '/workspaces/topp/settings', { settings: { charset: 'UTF-8' } })).status).toBe(201);
    expect((await call('POST', '/workspaces/topp/settings', { settings: { charset: 'UTF-8' } })).status).toBe(500);
    expect((await call('PUT', '/logging', { logging: { level: 'VERBOSE_LOGGING' } })).status).toBe(200);
    expect(JSON.parse((await call('GET', '/logging')).text)).toMatchObject({ logging: { level: 'VERBOSE_LOGGING', stdOutLogging: true } });
    expect(gs.violations).toEqual([]);
  });

  it('names its version', async () => {
    const about = JSON.parse((await call('GET', '/about/version.json')).text);
    expect(about.about.resource[0]).toMatchObject({ '@name': 'GeoServer', Version: '2.25.3' });
  });
});

describe('failure modes and the request log', () => {
  it('refuses connections, answers 503, holds requests, and recovers', async () => {
    await gs.setDown('refuse');
    await expect(fetch(gs.restUrl + '/workspaces', { headers: { authorization: ADMIN } })).rejects.toThrow();
    await gs.setDown('503');
    expect((await call('GET', '/workspaces')).status).toBe(503);
    await gs.setDown('timeout');
    await expect(
      fetch(gs.restUrl + '/workspaces', { headers: { authorization: ADMIN }, signal: AbortSignal.timeout(300) }),
    ).rejects.toThrow();
    await gs.setDown(null);
    expect((await call('GET', '/workspaces')).status).toBe(200);
    expect(gs.requests.map((r) => r.status)).toEqual([503, 0, 200]);
  });

  it('rejects the next matching request once, changing nothing', async () => {
    gs.rejectNext((request) => request.method === 'POST' && request.body.toString().includes('"bad"'), 400, 'no thanks');
    const refused = await call('POST', '/workspaces', { workspace: { name: 'bad' } });
    expect(refused).toMatchObject({ status: 400, text: 'no thanks' });
    expect(gs.catalog.objects.workspace.has('bad')).toBe(false);
    expect((await call('POST', '/workspaces', { workspace: { name: 'bad' } })).status).toBe(201);
    expect(gs.requests).toEqual([
      { method: 'POST', path: '/geoserver/rest/workspaces', query: {}, contentType: 'application/json', status: 400 },
      { method: 'POST', path: '/geoserver/rest/workspaces', query: {}, contentType: 'application/json', status: 201 },
    ]);
  });
});

// A layer group's entries and styles as GeoServer's reader makes lists of them (XStreamPersister's
// ReferenceCollectionConverter: one entry per element, none for an empty list), then its REST
// controller and catalog judge the lists: the counts the product shares (representations.ts).
describe('layer group entries and styles read as GeoServer reads them', () => {
  const roads = { '@type': 'layer', name: 'topp:roads' };
  const group = () => gs.catalog.objects.layerGroup.get('g') as { publishables: { published: unknown[] }; styles?: unknown } | undefined;

  it('a POST whose lone entry names nothing is read as one empty entry, refused by the catalog (500), not by the controller as no entry', async () => {
    await seedFeatureType();
    // (A lone "" is not a form the REST reference describes: the stand-in refuses it as undocumented.)
    for (const published of [null, [null]]) {
      const answer = await call('POST', '/layergroups', { layerGroup: { name: 'g', publishables: { published } } });
      // CatalogImpl.validate reads the style at the entry's index: there is none.
      expect({ published, status: answer.status, text: answer.text }).toEqual({ published, status: 500, text: 'Index 0 out of bounds for length 0' });
    }
    // With a style for it, the catalog drops the entry with its null style, and refuses the group left empty.
    const styled = await call('POST', '/layergroups', { layerGroup: { name: 'g', publishables: { published: null }, styles: { style: [{}] } } });
    expect({ status: styled.status, text: styled.text }).toEqual({ status: 500, text: expect.stringContaining('Layer group must not be empty') });
    // No entry at all is the controller's own 400.
    for (const publishables of [{ published: [] }, null, '']) {
      expect((await call('POST', '/layergroups', { layerGroup: { name: 'g', publishables } })).status).toBe(400);
    }
    expect(group()).toBeUndefined();
  });

  it('a PUT stating publishables without entries empties the list, which the catalog refuses (500), changing nothing', async () => {
    await seedFeatureType();
    expect((await call('POST', '/layergroups', { layerGroup: { name: 'g', publishables: { published: [roads] } } })).status).toBe(201);
    const held = structuredClone(group());
    for (const publishables of [{ published: [] }, null, '', {}]) {
      const answer = await call('PUT', '/layergroups/g', { layerGroup: { publishables } });
      expect({ publishables, status: answer.status, text: answer.text }).toEqual({ publishables, status: 500, text: expect.stringContaining('Layer group must not be empty') });
    }
    expect(group()).toEqual(held);
  });

  it.each([[{ style: [] }], [{}], ['']])('a PUT with "styles": %j puts an empty list in place of the held styles, answered ""', async (styles) => {
    await seedFeatureType();
    expect((await call('POST', '/layergroups', { layerGroup: { name: 'g', publishables: { published: [roads] } } })).status).toBe(201);
    expect(group()?.styles).toEqual({ style: ['null'] });
    expect((await call('PUT', '/layergroups/g', { layerGroup: { styles } })).status).toBe(200);
    expect(group()?.styles).toBe('');
    // With no styles held, entries of another number are taken (the empty list passes the per-entry check).
    expect((await call('PUT', '/layergroups/g', { layerGroup: { publishables: { published: [roads, roads] }, styles } })).status).toBe(200);
    expect(group()).toMatchObject({ publishables: { published: [roads, roads] }, styles: '' });
  });
});
