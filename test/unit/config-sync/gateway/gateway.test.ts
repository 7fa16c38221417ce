/**
 * The GeoServer REST gateway's domain against a stand-in master GeoServer over real HTTP: what it
 * forwards, what it flags as not replicated, and which changes it publishes after the master
 * applied a write.
 */
import { HttpUpstream } from '../../../../lambdas/config-sync/adapters/geoserver-upstream';
import { parseConfigChange, type ConfigChange } from '../../../../lambdas/config-sync/events';
import { handleGatewayCall, type GatewayRequest, type Upstream, type UpstreamResponse } from '../../../../lambdas/config-sync/gateway/gateway';
import { mergePatchBetween, wholeStatePatch } from '../../../../lambdas/config-sync/merge-patch';
import { classifyRestPath } from '../../../../lambdas/config-sync/gateway/rest-paths';
import { namesStyle, styleUsersInStore } from '../../../../lambdas/config-sync/gateway/style-users';
import type { JsonObject } from '../../../../lambdas/config-sync/merge-patch';
import { MASTER_NODE, storingPublisher } from './storing-publisher';
import { masterView } from './master-view';
import { catalogInStore } from '../../../../lambdas/config-sync/gateway/master-catalog';
import { startGeoServerStandIn, type GeoServerStandIn } from '../../../support/geoserver-standin';
import { zipOf } from '../../../support/zip';
import { ebcdic } from '../../../support/ebcdic';

const ADMIN = 'Basic ' + Buffer.from('admin:geoserver').toString('base64');

describe('which REST paths are replicated', () => {
  it.each([
    ['/workspaces', { managed: true, type: 'workspace' }],
    ['/workspaces/topp.json', { managed: true, type: 'workspace', id: 'topp' }],
    ['/namespaces/topp', { managed: true, type: 'namespace', id: 'topp' }],
    ['/workspaces/topp/datastores/pg', { managed: true, type: 'dataStore', id: 'topp:pg' }],
    ['/workspaces/topp/datastores/pg/featuretypes/roads.xml', { managed: true, type: 'featureType', id: 'topp:roads' }],
    ['/workspaces/topp/featuretypes', { managed: true, type: 'featureType', workspace: 'topp' }],
    ['/workspaces/topp/coveragestores/dem/coverages/dem', { managed: true, type: 'coverage', id: 'topp:dem' }],
    ['/workspaces/topp/wmsstores/remote/wmslayers/states', { managed: true, type: 'wmsLayer', id: 'topp:states' }],
    ['/workspaces/topp/wmtsstores/tiles/layers/osm', { managed: true, type: 'wmtsLayer', id: 'topp:osm' }],
    ['/workspaces/topp/wmtslayers/osm', { managed: true, type: 'wmtsLayer', id: 'topp:osm' }],
    ['/layers/topp:roads', { managed: true, type: 'layer', id: 'topp:roads' }],
    ['/workspaces/topp/layers/roads', { managed: true, type: 'layer', id: 'topp:roads' }],
    ['/layers/topp:roads/styles', { managed: true, type: 'layer', id: 'topp:roads', layerStyles: true }],
    ['/layergroups/base', { managed: true, type: 'layerGroup', id: 'base' }],
    ['/workspaces/topp/layergroups/base', { managed: true, type: 'layerGroup', id: 'topp:base' }],
    ['/styles/roads.sld', { managed: true, type: 'style', id: 'roads' }],
    ['/workspaces/topp/styles/roads', { managed: true, type: 'style', id: 'topp:roads' }],
    ['/settings', { managed: true, type: 'global', id: 'global' }],
    ['/settings/contact', { managed: true, type: 'global', id: 'global' }],
    ['/workspaces/topp/settings', { managed: true, type: 'workspaceSettings', id: 'topp' }],
    ['/services/wms/settings', { managed: true, type: 'service', id: 'WMS' }],
    ['/services/wfs/workspaces/topp/settings', { managed: true, type: 'service', id: 'topp:WFS' }],
    ['/logging', { managed: true, type: 'logging', id: 'logging' }],
    ['/security/acl/layers', { managed: false, category: 'security' }],
    ['/gwc/rest/layers/topp:roads', { managed: false, category: 'geowebcache' }],
    ['/imports/1', { managed: false, category: 'importer' }],
    ['/resource/styles/x.png', { managed: false, category: 'resource' }],
    ['/reload', { managed: false, category: 'reload' }],
    ['/about/version', { managed: false, category: 'about' }],
    ['/workspaces/topp/datastores/pg/file.shp', { managed: false, category: 'upload' }],
    ['/fonts', { managed: false, category: 'other' }],
    ['/workspaces/topp/unknown/x', { managed: false, category: 'other' }],
    ['/workspaces/%E0%A4%A', { managed: false, category: 'other' }],
  ])('%s', (path, expected) => {
    expect(classifyRestPath(path)).toMatchObject(expected);
  });
});

describe('which objects name a style', () => {
  it.each([
    ['a layer default style', 'layer', { defaultStyle: { name: 'roads' } }, 'roads', true],
    ['a layer extra style, one entry', 'layer', { styles: { style: { name: 'roads' } } }, 'roads', true],
    ['a layer extra style in a list', 'layer', { styles: { '@class': 'linked-hash-set', style: [{ name: 'x' }, { name: 'roads' }] } }, 'roads', true],
    ['a workspace style, qualified', 'layer', { defaultStyle: { name: 'topp:roads' } }, 'topp:roads', true],
    ['a workspace style by local name and workspace', 'layer', { defaultStyle: { name: 'roads', workspace: 'topp' } }, 'topp:roads', true],
    ['a global style of the same local name', 'layer', { defaultStyle: { name: 'roads' } }, 'topp:roads', false],
    ['another style', 'layer', { defaultStyle: { name: 'roads2' } }, 'roads', false],
    ['a group style', 'layerGroup', { styles: { style: [{ name: '' }, { name: 'roads' }] } }, 'roads', true],
    ['a group root layer style', 'layerGroup', { rootLayerStyle: { name: 'roads' } }, 'roads', true],
    ["a group's default style (empty)", 'layerGroup', { styles: { style: [''] } }, 'roads', false],
    ['a feature type (never names a style)', 'featureType', { defaultStyle: { name: 'roads' } }, 'roads', false],
  ] as const)('%s', (_, type, properties, styleId, expected) => {
    expect(namesStyle(type, properties as unknown as JsonObject, styleId)).toBe(expected);
  });
});

describe('merge patch between two representations', () => {
  it('sets changed values, nulls removed ones, recurses into objects and leaves equal ones out', () => {
    expect(
      mergePatchBetween(
        { name: 'pg', description: 'old', enabled: true, params: { host: 'a', port: 1 }, keywords: ['x'] },
        { name: 'pg', enabled: false, params: { host: 'a', port: 2 }, keywords: ['x', 'y'] },
      ),
    ).toEqual({ description: null, enabled: false, params: { port: 2 }, keywords: ['x', 'y'] });
    expect(mergePatchBetween({ a: 1 }, { a: 1 })).toEqual({});
  });

  it('the whole-state patch makes any target equal to the new object', () => {
    const before = { name: 'pg', description: 'old', params: { host: 'a', port: 1 } };
    const after = { name: 'pg', params: { host: 'a' }, enabled: true };
    const patch = wholeStatePatch(before, after);
    expect(patch).toEqual({ name: 'pg', description: null, params: { host: 'a', port: null }, enabled: true });
    // applied (RFC 7396) to what the master had, or to an unrelated target, it gives `after`
    const apply = (target: any, p: any): any => {
      const out = { ...target };
      for (const [k, v] of Object.entries(p)) {
        if (v === null) delete out[k];
        else if (typeof v === 'object' && !Array.isArray(v)) out[k] = apply(typeof out[k] === 'object' && out[k] ? out[k] : {}, v);
        else out[k] = v;
      }
      return out;
    };
    expect(apply(before, patch)).toEqual(after);
    expect(apply({ params: { host: 'b', user: 'x' } }, patch)).toEqual({ ...after, params: { host: 'a', user: 'x' } });
  });
});

describe('the gateway in front of a master GeoServer', () => {
  let master: GeoServerStandIn;
  let published: ConfigChange[];
  const publisher = {
    async publish(change: ConfigChange) {
      published.push(change);
      return published.length;
    },
  };

  beforeEach(async () => {
    master = await startGeoServerStandIn();
    published = [];
  });
  afterEach(async () => {
    // Closed first: a failed check must not leave the server holding the test run open.
    const { violations } = master;
    await master.close();
    expect(violations).toEqual([]);
  });

  const call = (method: string, path: string, body?: unknown, contentType = 'application/json', authorization = ADMIN) => {
    const [pathPart, query = ''] = path.split('?') as [string, string?];
    const request: GatewayRequest = {
      method,
      path: pathPart,
      query,
      headers: { authorization, ...(body === undefined ? {} : { 'content-type': contentType }), 'x-forwarded-for': '10.0.0.1' },
      body: body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    };
    const upstream = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
    return handleGatewayCall(upstream, publisher, request, { readBack: masterView(upstream) });
  };

  it('forwards an unmanaged path unchanged and flags it as not replicated', async () => {
    const answer = await call('GET', '/about/version.json');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString()).about.resource[0]['@name']).toBe('GeoServer');
    expect(answer.headers['x-cluster-replicated']).toBe('false');
    expect(answer).toMatchObject({ replication: 'not-replicated', category: 'about' });
    expect(published).toEqual([]);
  });

  it('forwards a read sent with a body without it: the master answers the read, not a 502 saying it cannot be reached', async () => {
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    const answer = await call('GET', '/workspaces/topp.json', { ignored: true });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString()).workspace.name).toBe('topp');
    expect(answer.replication).toBe('read');
  });

  it('refuses with 400 naming it a header it cannot pass on (a character past Latin-1), not a 502 blaming the master; nothing is sent', async () => {
    await expect(call('GET', '/workspaces.json', undefined, 'application/json', 'Basic \u20ac')).rejects.toMatchObject({ status: 400, code: 'INVALID_REQUEST', field: 'authorization' });
    await expect(call('POST', '/workspaces', { workspace: { name: 'topp' } }, 'application/json; x=\u20ac')).rejects.toMatchObject({ status: 400, code: 'INVALID_REQUEST', field: 'content-type' });
    expect(master.catalog.objects.workspace.size).toBe(0);
    expect(published).toEqual([]);
  });

  it("passes the caller's credentials through: the master's security decides, nothing is published", async () => {
    const refused = await call('POST', '/workspaces', { workspace: { name: 'topp' } }, 'application/json', 'Basic ' + Buffer.from('admin:wrong').toString('base64'));
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toContain('Basic');
    expect(published).toEqual([]);
    expect(master.catalog.objects.workspace.size).toBe(0);
  });

  it("refuses a cluster node's token with 401 CLUSTER_TOKEN, sending nothing to the master; other bearer tokens are the master's to judge", async () => {
    const upstream = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
    const nodes = { clusterNodes: ['gs-main', 'slave-1'], clusterOperators: ['ops'], readBack: masterView(upstream) };
    const send = (authorization: string) =>
      handleGatewayCall(
        upstream,
        publisher,
        { method: 'GET', path: '/workspaces.json', query: '', headers: { authorization } },
        nodes,
      );
    const before = master.requests.length;
    for (const token of [
      `Bearer slave-1.${'a'.repeat(43)}`,
      `bearer gs-main.${'b'.repeat(43)}`,
      `Bearer ops.${'d'.repeat(43)}`,
      // Among other credentials: a header sent twice arrives joined with a comma.
      `Bearer slave-1.${'a'.repeat(43)}, Basic YWRtaW46Z2Vvc2VydmVy`,
      `Basic YWRtaW46Z2Vvc2VydmVy, Bearer ops.${'d'.repeat(43)}`,
    ]) {
      await expect(send(token)).rejects.toMatchObject({ status: 401, code: 'CLUSTER_TOKEN', message: expect.stringMatching(/(node slave-1|node gs-main|operator ops)'s cluster token/) });
    }
    expect(master.requests.length).toBe(before);
    // A name the cluster does not declare, and a JWT (two dots), go to the master, which refuses them itself.
    for (const token of [`Bearer ya29.${'c'.repeat(43)}`, 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl']) {
      expect((await send(token)).status).toBe(401);
    }
    expect(master.requests.length).toBe(before + 2);
    expect(published).toEqual([]);
  });

  it("refuses a browser's write (it names an Origin) with 403 BROWSER_WRITE, sending nothing: a browser holding the master's credentials sends them with any site's form", async () => {
    const upstream = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
    const send = (method: string, path: string, origin: string, contentType?: string, body?: string) =>
      handleGatewayCall(
        upstream,
        publisher,
        {
          method,
          path,
          query: '',
          headers: { authorization: ADMIN, origin, ...(contentType === undefined ? {} : { 'content-type': contentType }) },
          body: body === undefined ? undefined : Buffer.from(body),
        },
        { readBack: masterView(upstream) },
      );
    const before = master.requests.length;
    for (const [method, path, contentType, body] of [
      ['POST', '/workspaces', 'text/plain', '{"workspace":{"name":"evil","x":"="}}'],
      ['POST', '/workspaces', 'application/json', '{"workspace":{"name":"evil"}}'],
      ['POST', '/reload', undefined, undefined],
      ['DELETE', '/workspaces/topp', undefined, undefined],
    ] as const) {
      for (const origin of ['https://attacker.example', 'null']) {
        await expect(send(method, path, origin, contentType, body)).rejects.toMatchObject({ status: 403, code: 'BROWSER_WRITE' });
      }
    }
    expect(master.requests.length).toBe(before);
    expect(published).toEqual([]);
    expect(master.catalog.objects.workspace.size).toBe(0);
    // A browser may still read (GeoServer's REST pages are meant to be browsed).
    expect((await send('GET', '/workspaces.json', 'https://attacker.example')).status).toBe(200);
  });

  it('refuses with 405 and the methods it takes a PATCH (which GeoServer\'s REST API has not) or any other method, on every path, sending nothing', async () => {
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    published = [];
    const before = master.requests.length;
    for (const [method, path] of [
      ['PATCH', '/workspaces/topp'],
      ['patch', '/workspaces/topp.json'],
      ['PATCH', '/security/acl/layers'],
      ['PATCH', '/workspaces/topp/datastores/pg/file.shp'],
      ['TRACE', '/workspaces'],
      ['PROPPATCH', '/styles/roads'],
    ] as const) {
      const refused = await call(method, path, { workspace: { name: 'renamed' } }).catch((caught: unknown) => caught);
      expect(refused).toMatchObject({
        status: 405,
        code: 'METHOD_NOT_ALLOWED',
        allow: ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'DELETE'],
        message: expect.stringContaining(`${method.toUpperCase()} is not a method of GeoServer's REST API`),
      });
    }
    expect(master.requests.length).toBe(before);
    expect(master.catalog.objects.workspace.has('renamed')).toBe(false);
    expect(published).toEqual([]);
  });

  it("answers a write to an existing object with the master's own refusal when the caller may not even read it", async () => {
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    published = [];
    const refused = await call('PUT', '/workspaces/topp', { workspace: { name: 'topp' } }, 'application/json', 'Basic ' + Buffer.from('admin:wrong').toString('base64'));
    expect(refused.status).toBe(401);
    expect(refused.replication).toBe('refused');
    expect(published).toEqual([]);
  });

  it("publishes the layer after a style is added to its styles (POST /layers/{layer}/styles)", async () => {
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    await call('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } });
    await call('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'roads' } });
    await call('POST', '/styles', { style: { name: 'dashed', filename: 'dashed.sld' } });
    published = [];
    const added = await call('POST', '/layers/topp:roads/styles', { style: { name: 'dashed' } });
    expect(added.status).toBe(201);
    expect(published).toEqual([
      { kind: 'add', object: { type: 'layer', id: 'topp:roads' }, properties: expect.objectContaining({ styles: { style: [{ name: 'dashed' }] } }) },
    ]);
  });

  it('refuses, before the master sees it, a write the cluster could not replicate: an id its names cannot carry, an unqualified layer, a repeated query parameter', async () => {
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    await call('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } });
    await call('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'roads' } });
    published = [];
    const before = master.requests.length;
    const refusals: [string, string, unknown, RegExp][] = [
      ['POST', '/workspaces/topp/datastores', { dataStore: { name: 'my store', type: 'PostGIS' } }, /dataStore "topp:my store": id: must be "workspace:name"/],
      ['POST', '/styles?name=my%20style&raw=true', '<StyledLayerDescriptor/>', /style "my style": id: must be "name" or "workspace:name"/],
      ['PUT', '/workspaces/topp/datastores/pg', { dataStore: { name: '..' } }, /dataStore "topp:..": id: must be "workspace:name" \(names without ":", "\/", "\\", white space or a character XML cannot hold, and not "\." or "\.\."\)/],
      // GeoServer finds an unqualified layer in whichever workspace holds it; the cluster names layers workspace:name.
      ['PUT', '/layers/roads', { layer: { queryable: false } }, /layer "roads": id: must be "workspace:name".*; name it with its workspace: \/layers\/<workspace>:roads$/],
      ['DELETE', '/workspaces/topp?recurse=false&recurse=true', undefined, /the query parameter recurse is given more than once/],
      // Which name the master's JSON reader takes is its own affair: the gateway checked the last.
      ['POST', '/workspaces/topp/datastores', '{"dataStore":{"name":"my store","name":"pg2","type":"PostGIS"}}', /the body names the member "name" twice in one object/],
    ];
    for (const [method, path, body, reason] of refusals) {
      await expect(call(method, path, body, path.startsWith('/styles') ? 'application/vnd.ogc.sld+xml' : 'application/json')).rejects.toMatchObject({
        status: 400,
        code: 'NOT_REPLICABLE',
        message: expect.stringMatching(reason),
      });
    }
    // The same names in GeoServer's XML representations.
    const xmlRefusals: [string, string, string, RegExp][] = [
      ['POST', '/workspaces/topp/datastores', '<dataStore><name>my store</name><type>PostGIS</type></dataStore>', /dataStore "topp:my store": id: must be/],
      ['POST', '/namespaces', '<namespace><prefix>a:b</prefix><uri>urn:x</uri></namespace>', /namespace "a:b"/],
      ['PUT', '/workspaces/topp/datastores/pg.xml', '<dataStore><name>..</name></dataStore>', /dataStore "topp:..": id: must be/],
    ];
    for (const [method, path, body, reason] of xmlRefusals) {
      await expect(call(method, path, body, 'application/xml')).rejects.toMatchObject({ status: 400, code: 'NOT_REPLICABLE', message: expect.stringMatching(reason) });
    }
    expect(master.requests.length).toBe(before);
    expect(published).toEqual([]);
    // The layer named with its workspace goes through.
    expect((await call('PUT', '/layers/topp:roads', { layer: { queryable: false } })).replication).toBe('published');
  });

  it('refuses, before the master sees it, a name holding a "\\" (created or renamed to), which no path the gateway forwards can address again: the object could never be changed or removed through it', async () => {
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    await call('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } });
    published = [];
    const before = master.requests.length;
    for (const [method, path, body, contentType] of [
      ['POST', '/workspaces/topp/datastores', { dataStore: { name: 'a\\b' } }, 'application/json'],
      ['PUT', '/workspaces/topp/datastores/pg', { dataStore: { name: 'pg\\old' } }, 'application/json'],
      ['POST', '/workspaces/topp/datastores', '<dataStore><name>a\\b</name></dataStore>', 'application/xml'],
      ['POST', '/styles?name=a%5Cb&raw=true', '<StyledLayerDescriptor version="1.0.0"/>', 'application/vnd.ogc.sld+xml'],
    ] as const) {
      await expect(call(method, path, body, contentType)).rejects.toMatchObject({ status: 400, code: 'NOT_REPLICABLE', message: expect.stringContaining('"\\"') });
    }
    expect(master.requests.length).toBe(before);
    expect(master.catalog.objects.dataStore.has('topp:a\\b')).toBe(false);
    expect(master.catalog.objects.dataStore.has('topp:pg')).toBe(true);
    expect(published).toEqual([]);
    // Why: such an object's path is one the gateway refuses to forward.
    await expect(call('DELETE', '/workspaces/topp/datastores/a%5Cb')).rejects.toMatchObject({ status: 400, code: 'INVALID_PATH' });
  });

  it('refuses, before the master sees it, a JSON representation nested deeper than an object the cluster carries: the master would apply what no other node could take', async () => {
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    await call('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } });
    published = [];
    const before = master.requests.length;
    // 70 levels inside the store's object (its wrapper one more): past MAX_PROPERTIES_DEPTH.
    let deep: unknown = 'x';
    for (let level = 0; level < 69; level += 1) deep = [deep];
    const body = { dataStore: { description: 'nested', metadata: { entry: deep } } };
    // What the cluster would be asked to publish (the master's object read back) is refused by it.
    expect(() => parseConfigChange({ kind: 'modify', object: { type: 'dataStore', id: 'topp:pg' }, patch: body.dataStore })).toThrow(/nests deeper than 64 levels/);
    await expect(call('PUT', '/workspaces/topp/datastores/pg', body)).rejects.toMatchObject({ status: 400, code: 'NOT_REPLICABLE', message: expect.stringContaining('nested') });
    expect(master.requests.length).toBe(before);
    expect(master.catalog.get('dataStore', 'topp:pg')).not.toHaveProperty('description');
    expect(published).toEqual([]);
    // 64 levels in all is an object the cluster carries.
    let shallow: unknown = 'x';
    for (let level = 0; level < 60; level += 1) shallow = [shallow];
    expect((await call('PUT', '/workspaces/topp/datastores/pg', { dataStore: { description: 'nested', metadata: { entry: shallow } } })).replication).toBe('published');
  });

  it('refuses with 400, before the master sees it, a JSON body holding a lone UTF-16 surrogate (an escape such as \\ud800 with no pair), which UTF-8 cannot carry: not a 500', async () => {
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    await call('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } });
    await call('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'roads' } });
    published = [];
    const before = master.requests.length;
    for (const [method, path, body] of [
      ['POST', '/workspaces', '{"workspace":{"name":"\\ud800"}}'],
      ['POST', '/workspaces/topp/datastores', '{"dataStore":{"name":"a\\udc00b"}}'],
      ['PUT', '/workspaces/topp', '{"workspace":{"name":"x\\ud800"}}'],
      ['PUT', '/workspaces/topp/datastores/pg/featuretypes/roads', '{"featureType":{"store":{"name":"\\ud800"}}}'],
      ['PUT', '/workspaces/topp/datastores/pg', '{"dataStore":{"description":"\\ud800"}}'],
    ] as const) {
      await expect(call(method, path, body)).rejects.toMatchObject({ status: 400, code: 'NOT_REPLICABLE', message: expect.stringContaining('lone UTF-16 surrogate') });
    }
    expect(master.requests.length).toBe(before);
    expect(published).toEqual([]);
    // A pair (an astral character escaped) is text like any other.
    expect((await call('PUT', '/workspaces/topp/datastores/pg', '{"dataStore":{"description":"\\ud83d\\ude00"}}')).replication).toBe('published');
  });

  it('refuses, before anything is sent, a path the master would read as another: path parameters, dot segments in any encoding, encoded separators', async () => {
    const before = master.requests.length;
    const refusals: [string, string, RegExp][] = [
      // Tomcat strips ";jsessionid=abc": the master would create the workspace, the gateway take the path for an unmanaged one.
      ['POST', '/workspaces;jsessionid=abc', /a ";" \(a path parameter/],
      ['GET', '/..;/..;/web', /a ";"/],
      // Resolved by the HTTP client before sending: out of GeoServer's REST API.
      ['GET', '/workspaces/%2e%2e/%2E%2e/manager/html', /a dot segment \("%2e%2e"\)/],
      ['DELETE', '/workspaces/topp/../styles/point', /a dot segment \(".."\)/],
      ['PUT', '/workspaces/topp%2Fdatastores', /an encoded "\/"/],
      ['GET', '/workspaces/a%5Cb', /an encoded "\/" or "\\"/],
      ['GET', '/workspaces/%E0%A4%A', /a malformed percent-encoding/],
    ];
    for (const [method, path, reason] of refusals) {
      await expect(call(method, path, method === 'POST' || method === 'PUT' ? { workspace: { name: 'w1' } } : undefined)).rejects.toMatchObject({
        status: 400,
        code: 'INVALID_PATH',
        message: expect.stringMatching(reason),
      });
    }
    expect(master.requests.length).toBe(before);
    expect(published).toEqual([]);
    // A name holding an encoded ";" or "." is one segment like any other.
    expect((await call('GET', '/workspaces/a%3Bb.json')).status).toBe(404);
  });

  // API Gateway's HTTP APIs hand a function the path decoded (live captures: `%23` arrives as "#",
  // `%20` as " ", `%CE%BB` as "λ"). Joined to the master's URL as text, a "#" or "?" ended the
  // path there: `DELETE .../datastores/pg#old` would remove store pg on the master while the cluster
  // published the removal of pg#old. A character no encoded path holds is encoded again instead,
  // so the master and the cluster read the same name, the one the client sent.
  it('forwards a "#", "?", space or other character no encoded path holds (an HTTP API path arrives decoded) encoded again: the master and the cluster address the same object', async () => {
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    await call('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } });
    // The path as given, with no query split off it (`call` takes a "?" for the query's start).
    const send = (method: string, path: string, body?: unknown) => {
      const upstream = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
      const headers = { authorization: ADMIN, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
      return handleGatewayCall(upstream, publisher, { method, path, query: '', headers, ...(body === undefined ? {} : { body: Buffer.from(JSON.stringify(body)) }) }, { readBack: masterView(upstream) });
    };
    published = [];
    let sentFrom = master.requests.length;
    const sentPaths = () => master.requests.slice(sentFrom).map((request) => `${request.method} ${request.path}`);
    // No such stores: the master is asked about pg#old and pg?old, never about pg.
    expect((await send('DELETE', '/workspaces/topp/datastores/pg#old')).status).toBe(404);
    expect((await send('DELETE', '/workspaces/topp/datastores/pg?old')).status).toBe(404);
    expect((await send('GET', '/workspaces/topp#x/datastores')).status).toBe(404);
    expect(sentPaths()).toEqual(
      expect.arrayContaining([
        'DELETE /geoserver/rest/workspaces/topp/datastores/pg%23old',
        'DELETE /geoserver/rest/workspaces/topp/datastores/pg%3Fold',
        'GET /geoserver/rest/workspaces/topp%23x/datastores',
      ]),
    );
    expect(sentPaths().filter((line) => /\/pg$/.test(line))).toEqual([]);
    expect(master.catalog.objects.dataStore.has('topp:pg')).toBe(true);
    expect(published).toEqual([]);
    // A store so named is made, changed and removed through the decoded path, on the master and in the cluster alike.
    expect((await call('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg#old-λ' } })).status).toBe(201);
    sentFrom = master.requests.length;
    const removed = await send('DELETE', '/workspaces/topp/datastores/pg#old-λ');
    expect(removed.status).toBe(200);
    expect(sentPaths()[0]).toBe('DELETE /geoserver/rest/workspaces/topp/datastores/pg%23old-%CE%BB');
    expect(master.catalog.objects.dataStore.has('topp:pg#old-λ')).toBe(false);
    expect(master.catalog.objects.dataStore.has('topp:pg')).toBe(true);
    expect(published.map((change) => [change.kind, change.object.type, change.object.id])).toContainEqual(['remove', 'dataStore', 'topp:pg#old-λ']);
    // Escaped, as a client sends them and as the local runtime passes them on, they read the same.
    expect((await send('GET', '/workspaces/topp/datastores/pg%23old.json')).status).toBe(404);
    expect((await send('GET', '/workspaces/topp/datastores/pg%3Fold.json')).status).toBe(404);
  });

  it('reads a letter, digit or "-._~" percent-encoded as itself, as the master does: a client that encodes "~" (Java\'s URLEncoder) is served, and an encoded extension is one', async () => {
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    await call('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } });
    published = [];
    // A store named with a "~", sent as such a client sends it.
    const added = await call('POST', '/workspaces/topp/datastores', { dataStore: { name: 'roads~v2' } });
    expect(added.status).toBe(201);
    expect((await call('GET', '/workspaces/topp/datastores/roads%7Ev2.json')).status).toBe(200);
    const modified = await call('PUT', '/workspaces/topp/datastores/roads%7Ev2', { dataStore: { description: 'v2' } });
    expect(modified).toMatchObject({ status: 200, replication: 'published' });
    // The master takes ".json" off the decoded name: the store removed is pg, and so is the one published.
    const removed = await call('DELETE', '/workspaces/topp/datastores/pg%2Ejson');
    expect(removed).toMatchObject({ status: 200, replication: 'published' });
    expect(master.catalog.objects.dataStore.has('topp:pg')).toBe(false);
    expect(published.map((change) => [change.kind, change.object.id])).toEqual([
      ['add', 'topp:roads~v2'],
      ['modify', 'topp:roads~v2'],
      ['remove', 'topp:pg'],
    ]);
  });

  it("refuses, before the master sees it, a new workspace made the master's default (?default=true): no other node would follow", async () => {
    const before = master.requests.length;
    for (const value of ['true', 'Yes']) {
      await expect(call('POST', `/workspaces?default=${value}`, { workspace: { name: 'topp' } })).rejects.toMatchObject({
        status: 400,
        code: 'NOT_REPLICABLE',
        message: expect.stringContaining('which workspace is the default'),
      });
    }
    expect(master.requests.length).toBe(before);
    expect(published).toEqual([]);
    expect((await call('POST', '/workspaces?default=false', { workspace: { name: 'topp' } })).replication).toBe('published');
  });

  it("refuses, before the master sees it, a write under GeoServer's alias `default` (the default workspace of the moment), naming the alias; reads pass", async () => {
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    published = [];
    const before = master.requests.length;
    const writes: [string, string, unknown?][] = [
      ['PUT', '/workspaces/default', { workspace: { name: 'topp' } }],
      ['DELETE', '/workspaces/default?recurse=true'],
      ['PUT', '/workspaces/default/settings', { settings: {} }],
      ['POST', '/workspaces/default/datastores', { dataStore: { name: 'pg' } }],
      ['PUT', '/namespaces/default', { namespace: { prefix: 'topp', uri: 'urn:topp' } }],
      ['DELETE', '/layers/default:roads'],
    ];
    for (const [method, path, body] of writes) {
      await expect(call(method, path, body)).rejects.toMatchObject({ status: 400, code: 'NOT_REPLICABLE', message: expect.stringContaining("GeoServer's alias for whichever workspace is its default") });
    }
    expect(master.requests.length).toBe(before);
    expect(published).toEqual([]);
    expect((await call('GET', '/workspaces/default')).replication).toBe('read');
  });

  it('refuses, before anything is sent, a "+" in a replicated path: GeoServer decodes it as a space (URLDecoder), the cluster as itself', async () => {
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    await call('POST', '/workspaces/topp/datastores', { dataStore: { name: 'a+b' } });
    published = [];
    const before = master.requests.length;
    for (const [method, path] of [
      ['DELETE', '/workspaces/topp/datastores/a+b'],
      ['PUT', '/workspaces/topp/datastores/a+b.json'],
      ['GET', '/workspaces/topp/datastores/a+b.json'],
    ]) {
      await expect(call(method!, path!, method === 'PUT' ? { dataStore: { description: 'x' } } : undefined)).rejects.toMatchObject({
        status: 400,
        code: 'INVALID_PATH',
        message: expect.stringContaining('a "+" in "a+b'),
      });
    }
    expect(master.requests.length).toBe(before);
    expect(published).toEqual([]);
    // Encoded, "+" is itself for both.
    expect((await call('DELETE', '/workspaces/topp/datastores/a%2Bb')).replication).toBe('published');
    expect(published).toEqual([{ kind: 'remove', object: { type: 'dataStore', id: 'topp:a+b' }, recurse: false }]);
  });

  it('addresses a write as GeoServer does when it ends in an extension GeoServer takes off (.css, .ftl, .xslt), and refuses one its releases read differently', async () => {
    await call('POST', '/styles?name=roads&raw=true', '<StyledLayerDescriptor version="1.0.0"/>', 'application/vnd.ogc.sld+xml');
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    published = [];
    expect((await call('DELETE', '/styles/roads.css')).status).toBe(200);
    expect((await call('DELETE', '/workspaces/topp.ftl')).status).toBe(200);
    expect(master.catalog.get('style', 'roads')).toBeUndefined();
    expect(published).toEqual([
      { kind: 'remove', object: { type: 'style', id: 'roads' }, recurse: false },
      { kind: 'remove', object: { type: 'workspace', id: 'topp' }, recurse: false },
      { kind: 'remove', object: { type: 'namespace', id: 'topp' }, recurse: false },
    ]);
    // YSLD's and MBStyle's: older releases take off .ysld and .mbstyle, newer ones .yaml (the files' extensions).
    const before = master.requests.length;
    for (const extension of ['yaml', 'ysld', 'mbstyle']) {
      await expect(call('DELETE', `/styles/roads.${extension}`)).rejects.toMatchObject({
        status: 400,
        code: 'INVALID_PATH',
        message: expect.stringContaining(`".${extension}"`),
      });
    }
    expect(master.requests.length).toBe(before);
    expect(published).toHaveLength(3);
  });

  it('publishes a created object whose name ends as a format suffix would (w.xml) under that whole name', async () => {
    const created = await call('POST', '/workspaces', { workspace: { name: 'w.xml' } });
    expect(created).toMatchObject({ status: 201, replication: 'published' });
    expect(published.map((change) => `${change.kind} ${change.object.type}/${change.object.id}`)).toEqual(['add workspace/w.xml', 'add namespace/w.xml']);
  });

  it('publishes a created workspace and the namespace GeoServer made with it, then nothing for a refused duplicate', async () => {
    const created = await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    expect(created.status).toBe(201);
    expect(created.body.toString()).toBe('topp');
    expect(created.headers['x-cluster-sequence']).toBe('1,2');
    expect(published).toEqual([
      { kind: 'add', object: { type: 'workspace', id: 'topp' }, properties: { name: 'topp' } },
      { kind: 'add', object: { type: 'namespace', id: 'topp' }, properties: { prefix: 'topp', uri: 'http://topp', isolated: false } },
    ]);
    const duplicate = await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    expect(duplicate.status).toBe(409);
    expect(duplicate.replication).toBe('refused');
    expect(published).toHaveLength(2);
  });

  it('publishes a created namespace after the workspace GeoServer made with it, and its removal before that workspace\'s', async () => {
    const created = await call('POST', '/namespaces', { namespace: { prefix: 'sf', uri: 'urn:sf', isolated: true } });
    expect(created).toMatchObject({ status: 201, replication: 'published' });
    expect(master.catalog.get('workspace', 'sf')).toBeDefined();
    // The workspace first: the namespace lives in it (its copy in a node's store counts only then).
    expect(published).toEqual([
      { kind: 'add', object: { type: 'workspace', id: 'sf' }, properties: { name: 'sf', isolated: true } },
      { kind: 'add', object: { type: 'namespace', id: 'sf' }, properties: { prefix: 'sf', uri: 'urn:sf', isolated: true } },
    ]);
    published = [];
    expect((await call('DELETE', '/namespaces/sf')).replication).toBe('published');
    expect(master.catalog.get('workspace', 'sf')).toBeUndefined();
    expect(published).toEqual([
      { kind: 'remove', object: { type: 'namespace', id: 'sf' }, recurse: false },
      { kind: 'remove', object: { type: 'workspace', id: 'sf' }, recurse: false },
    ]);
    // A workspace holding a store outlives its namespace on the master: only the namespace goes.
    await call('POST', '/namespaces', { namespace: { prefix: 'sf', uri: 'urn:sf' } });
    await call('POST', '/workspaces/sf/datastores', { dataStore: { name: 'pg' } });
    published = [];
    expect((await call('DELETE', '/namespaces/sf')).replication).toBe('published');
    expect(published).toEqual([{ kind: 'remove', object: { type: 'namespace', id: 'sf' }, recurse: false }]);
  });

  it("publishes what GeoServer's consistency listener changes with a namespace or workspace PUT: the other's isolation, the data stores' namespace parameter", async () => {
    const param = (uri: string) => ({ entry: [{ '@key': 'url', $: 'file:data/sf' }, { '@key': 'namespace', $: uri }] });
    await call('POST', '/workspaces', { workspace: { name: 'sf' } });
    await call('POST', '/workspaces/sf/datastores', { dataStore: { name: 'shp', connectionParameters: param('http://sf') } });
    await call('POST', '/workspaces/sf/datastores', { dataStore: { name: 'pg' } });
    published = [];
    expect(await call('PUT', '/namespaces/sf', { namespace: { uri: 'urn:sf', isolated: true } })).toMatchObject({ status: 200, replication: 'published' });
    // The namespace, then its workspace, then the data stores whose parameter GeoServer rewrote (pg has none).
    expect(published.map((c) => [c.kind, c.object.type, c.object.id])).toEqual([
      ['modify', 'namespace', 'sf'],
      ['modify', 'workspace', 'sf'],
      ['modify', 'dataStore', 'sf:shp'],
    ]);
    expect(published[1]).toMatchObject({ patch: { isolated: true } });
    expect(published[2]).toMatchObject({ patch: { connectionParameters: param('urn:sf') } });
    published = [];
    expect((await call('PUT', '/workspaces/sf', { workspace: { name: 'sf', isolated: false } })).replication).toBe('published');
    expect(published.map((c) => [c.kind, c.object.type, c.object.id])).toEqual([
      ['modify', 'workspace', 'sf'],
      ['modify', 'namespace', 'sf'],
    ]);
    expect(published[1]).toMatchObject({ patch: { isolated: false } });
  });

  it("publishes the flags GeoServer holds once for a layer and its resource: a layer PUT's enabled/advertised with its feature type, a resource PUT's with its layer", async () => {
    await call('POST', '/workspaces', { workspace: { name: 'sf' } });
    await call('POST', '/workspaces/sf/datastores', { dataStore: { name: 'pg' } });
    await call('POST', '/workspaces/sf/datastores/pg/featuretypes', { featureType: { name: 'roads', nativeName: 'roads' } });
    published = [];
    expect(await call('PUT', '/layers/sf:roads', { layer: { enabled: false } })).toMatchObject({ status: 200, replication: 'published' });
    expect(published.map((c) => [c.kind, c.object.type, c.object.id])).toEqual([
      ['modify', 'layer', 'sf:roads'],
      ['modify', 'featureType', 'sf:roads'],
    ]);
    expect(published[1]).toMatchObject({ patch: { enabled: false } });
    published = [];
    expect((await call('PUT', '/workspaces/sf/datastores/pg/featuretypes/roads', { featureType: { advertised: false } })).replication).toBe('published');
    expect(published.map((c) => [c.kind, c.object.type, c.object.id])).toEqual([
      ['modify', 'featureType', 'sf:roads'],
      ['modify', 'layer', 'sf:roads'],
    ]);
    expect(published[1]).toMatchObject({ patch: { advertised: false } });
    // A PUT changing neither flag publishes the object written alone.
    published = [];
    await call('PUT', '/workspaces/sf/layers/roads', { layer: { queryable: false } });
    expect(published.map((c) => [c.kind, c.object.type, c.object.id])).toEqual([['modify', 'layer', 'sf:roads']]);
  });

  it("publishes a workspace's removal with its namespace's, which GeoServer removes with it, recursive or not", async () => {
    await call('POST', '/workspaces', { workspace: { name: 'sf' } });
    published = [];
    expect((await call('DELETE', '/workspaces/sf')).replication).toBe('published');
    expect(master.catalog.get('namespace', 'sf')).toBeUndefined();
    expect(published).toEqual([
      { kind: 'remove', object: { type: 'workspace', id: 'sf' }, recurse: false },
      { kind: 'remove', object: { type: 'namespace', id: 'sf' }, recurse: false },
    ]);
    await call('POST', '/workspaces', { workspace: { name: 'sf' } });
    await call('POST', '/workspaces/sf/datastores', { dataStore: { name: 'pg' } });
    published = [];
    await call('DELETE', '/workspaces/sf?recurse=true');
    expect(published).toEqual([
      { kind: 'remove', object: { type: 'workspace', id: 'sf' }, recurse: true },
      { kind: 'remove', object: { type: 'namespace', id: 'sf' }, recurse: false },
    ]);
  });

  it('publishes a feature type with the layer GeoServer creates for it, a change as a merge patch, a rename and a recursive delete', async () => {
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    await call('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg', description: 'roads db' } });
    published = [];
    await call('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'roads', title: 'Roads' } });
    expect(published.map((c) => [c.kind, c.object.type, c.object.id])).toEqual([
      ['add', 'featureType', 'topp:roads'],
      ['add', 'layer', 'topp:roads'],
    ]);

    published = [];
    const modified = await call('PUT', '/workspaces/topp/datastores/pg', { dataStore: { description: 'the roads database' } });
    expect(modified.status).toBe(200);
    expect(published).toEqual([
      {
        kind: 'modify',
        object: { type: 'dataStore', id: 'topp:pg' },
        patch: { enabled: true, name: 'pg', description: 'the roads database', workspace: { name: 'topp' } },
      },
    ]);

    published = [];
    const unchanged = await call('PUT', '/workspaces/topp/datastores/pg', { dataStore: { description: 'the roads database' } });
    expect(unchanged).toMatchObject({ status: 200, replication: 'nothing-changed' });
    expect(published).toEqual([]);

    published = [];
    await call('PUT', '/workspaces/topp/datastores/pg/featuretypes/roads', { featureType: { name: 'streets' } });
    expect(published.map((c) => [c.kind, c.object.type, c.object.id])).toEqual([
      ['add', 'featureType', 'topp:streets'],
      ['add', 'layer', 'topp:streets'],
      ['remove', 'featureType', 'topp:roads'],
    ]);
    expect(published[published.length - 1]).toMatchObject({ recurse: true });

    published = [];
    await call('DELETE', '/workspaces/topp?recurse=true');
    expect(published).toEqual([
      { kind: 'remove', object: { type: 'workspace', id: 'topp' }, recurse: true },
      { kind: 'remove', object: { type: 'namespace', id: 'topp' }, recurse: false },
    ]);
  });

  it('publishes a feature type POSTed with only its nativeName under the name GeoServer gives it from that', async () => {
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    await call('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } });
    published = [];
    const created = await call('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { nativeName: 'roads' } });
    expect(created).toMatchObject({ status: 201, replication: 'published' });
    expect(published.map((c) => [c.kind, c.object.type, c.object.id])).toEqual([
      ['add', 'featureType', 'topp:roads'],
      ['add', 'layer', 'topp:roads'],
    ]);
  });

  // GeoServer answers a feature type's POST with no body: its percent-encoded Location names it.
  it('publishes a feature type the master names in its Location alone, its name decoded from it', async () => {
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    await call('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } });
    published = [];
    const created = await call('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: '道路', title: 'Roads' } });
    expect(created).toMatchObject({ status: 201, replication: 'published' });
    expect(published.map((c) => [c.kind, c.object.type, c.object.id])).toEqual([
      ['add', 'featureType', 'topp:道路'],
      ['add', 'layer', 'topp:道路'],
    ]);
    expect(published[0]).toMatchObject({ properties: { title: 'Roads' } });
  });

  it('reads a DELETE back: a master that answers success but still holds the object publishes no removal of it', async () => {
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    await call('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } });
    published = [];
    // The stand-in answers 200 and keeps the store, as a GeoServer whose removal did not happen would.
    master.rejectNext((request) => request.method === 'DELETE', 200, '');
    const kept = await call('DELETE', '/workspaces/topp/datastores/pg');
    expect(kept).toMatchObject({ status: 200, replication: 'nothing-changed', warning: expect.stringContaining('still holds dataStore "topp:pg"') });
    expect(master.catalog.get('dataStore', 'topp:pg')).toBeDefined();
    expect(published).toEqual([]);
    // Removed for real, it is published.
    expect((await call('DELETE', '/workspaces/topp/datastores/pg')).replication).toBe('published');
    expect(published).toEqual([{ kind: 'remove', object: { type: 'dataStore', id: 'topp:pg' }, recurse: false }]);
  });

  it('leaves a DELETE it cannot read back unpublished, flagged as failed, for the next write to recover', async () => {
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    published = [];
    master.rejectNext((request) => request.method === 'GET' && request.path.endsWith('/workspaces/topp.json'), 500, 'read failed');
    const answer = await call('DELETE', '/workspaces/topp');
    expect(answer).toMatchObject({ status: 200, replication: 'publish-failed', error: expect.stringContaining('answered 500') });
    expect(answer.headers['x-cluster-replicated']).toBe('failed');
    expect(published).toEqual([]);
  });

  it('publishes a style rename as the new style, the layers and groups GeoServer moved to it (read back), then the old style removed', async () => {
    const storing = storingPublisher();
    const store = storing.store;
    const published = storing.published;
    const send = (method: string, path: string, body?: unknown, contentType = 'application/json') => {
      const [pathPart, query = ''] = path.split('?') as [string, string?];
      const upstream = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
      return handleGatewayCall(
        upstream,
        storing,
        {
          method,
          path: pathPart,
          query,
          headers: { authorization: ADMIN, ...(body === undefined ? {} : { 'content-type': contentType }) },
          body: body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
        },
        { styleUsers: styleUsersInStore(store, MASTER_NODE), readBack: masterView(upstream) },
      );
    };
    const sld = '<StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>roads</Name></NamedLayer></StyledLayerDescriptor>';
    await send('POST', '/workspaces', { workspace: { name: 'topp' } });
    await send('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } });
    await send('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'roads' } });
    await send('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'rivers' } });
    await send('POST', '/styles?name=roads&raw=true', sld, 'application/vnd.ogc.sld+xml');
    await send('PUT', '/layers/topp:roads', { layer: { defaultStyle: { name: 'roads' } } });
    await send('POST', '/layers/topp:rivers/styles', { style: { name: 'roads' } });
    await send('POST', '/layergroups', { layerGroup: { name: 'base', publishables: { published: [{ '@type': 'layer', name: 'topp:roads' }] }, styles: { style: [{ name: 'roads' }] } } });
    published.length = 0;

    const renamed = await send('PUT', '/styles/roads', { style: { name: 'streets' } });
    expect(renamed.status).toBe(200);
    expect(published.map((c) => [c.kind, c.object.type, c.object.id])).toEqual([
      ['add', 'style', 'streets'],
      ['modify', 'layer', 'topp:rivers'],
      ['modify', 'layer', 'topp:roads'],
      ['modify', 'layerGroup', 'base'],
      ['remove', 'style', 'roads'],
    ]);
    expect(renamed.headers['x-cluster-sequence']).toBe(published.map((_, i) => storing.sequence - published.length + 1 + i).join(','));
    // the new style as the master now holds it: GeoServer renamed its file after it
    expect(published[0]).toMatchObject({ properties: { name: 'streets', filename: 'streets.sld' } });
    // each modify carries the whole object as the master now holds it
    expect(published[1]).toMatchObject({ patch: { styles: { style: [{ name: 'streets' }] } } });
    expect(published[2]).toMatchObject({ patch: { name: 'roads', defaultStyle: { name: 'streets' } } });
    expect(published[3]).toMatchObject({ patch: { name: 'base', styles: { style: [{ name: 'streets' }] } } });
    expect(published[4]).toMatchObject({ recurse: false });
    // the store now names the new style only
    expect((await styleUsersInStore(store, 'gs-main').of('roads')).map((user) => user.id)).toEqual([]);
    expect((await styleUsersInStore(store, 'gs-main').of('streets')).map((user) => user.id)).toEqual(['topp:rivers', 'topp:roads', 'base']);
  });

  describe('a recursive DELETE publishes what GeoServer changed around it (read back) before the removal', () => {
    const sld = '<StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>roads</Name></NamedLayer></StyledLayerDescriptor>';
    let storing: ReturnType<typeof storingPublisher>;
    const send = (method: string, path: string, body?: unknown, contentType = 'application/json') => {
      const [pathPart, query = ''] = path.split('?') as [string, string?];
      const upstream = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
      return handleGatewayCall(
        upstream,
        storing,
        {
          method,
          path: pathPart,
          query,
          headers: { authorization: ADMIN, ...(body === undefined ? {} : { 'content-type': contentType }) },
          body: body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
        },
        { styleUsers: styleUsersInStore(storing.store, MASTER_NODE), catalog: catalogInStore(storing.store, MASTER_NODE), readBack: masterView(upstream) },
      );
    };
    const group = (name: string, published: { type: 'layer' | 'layerGroup'; name: string }[], styles?: string[]) =>
      send('POST', '/layergroups', {
        layerGroup: {
          name,
          publishables: { published: published.map((entry) => ({ '@type': entry.type, name: entry.name })) },
          ...(styles ? { styles: { style: styles.map((style) => ({ name: style })) } } : {}),
        },
      });
    /** What the master's store holds, and what its GeoServer holds, of each object the test names. */
    const heldBoth = async (refs: [('layer' | 'layerGroup'), string][]) => {
      const stored = await storing.store.readObjects(MASTER_NODE, refs.map(([type, id]) => ({ type, id })));
      return refs.map(([type, id]) => {
        const inStore = stored.find((object) => object.type === type && object.id === id && !object.deleted)?.properties;
        const onMaster = master.catalog.get(type, id);
        return { id: `${type}/${id}`, same: inStore === undefined ? onMaster === undefined : onMaster !== undefined && Object.keys(mergePatchBetween(inStore, onMaster as JsonObject)).length === 0 };
      });
    };

    /** What was published (kind, type, id), then each named object alike in the master's store and on its GeoServer. */
    const expectPublished = async (changes: string[][], alike: [('layer' | 'layerGroup'), string][]) => {
      expect(storing.published.map((c) => [c.kind, c.object.type, c.object.id])).toEqual(changes);
      expect(await heldBoth(alike)).toEqual(alike.map(([type, id]) => ({ id: `${type}/${id}`, same: true })));
    };

    beforeEach(async () => {
      storing = storingPublisher();
      await send('POST', '/workspaces', { workspace: { name: 'topp' } });
      await send('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg' } });
      await send('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'roads' } });
      await send('POST', '/workspaces/topp/datastores/pg/featuretypes', { featureType: { name: 'rivers' } });
      await send('POST', '/styles?name=roads&raw=true', sld, 'application/vnd.ogc.sld+xml');
      await send('PUT', '/layers/topp:roads', { layer: { defaultStyle: { name: 'roads' } } });
      await send('POST', '/layers/topp:rivers/styles', { style: { name: 'roads' } });
      await group('alone', [{ type: 'layer', name: 'topp:rivers' }]);
      await group('both', [
        { type: 'layer', name: 'topp:roads' },
        { type: 'layer', name: 'topp:rivers' },
      ], ['roads', 'generic']);
      await group('outer', [
        { type: 'layerGroup', name: 'alone' },
        { type: 'layer', name: 'topp:roads' },
      ]);
      storing.published.length = 0;
    });

    it('a style: the layers and groups that named it, as the master now holds them, then the style', async () => {
      expect((await send('DELETE', '/styles/roads?recurse=true')).status).toBe(200);
      await expectPublished(
        [
          ['modify', 'layer', 'topp:rivers'],
          ['modify', 'layer', 'topp:roads'],
          ['modify', 'layerGroup', 'both'],
          ['remove', 'style', 'roads'],
        ],
        [['layer', 'topp:roads'], ['layer', 'topp:rivers'], ['layerGroup', 'both']],
      );
      expect(storing.published[3]).toMatchObject({ recurse: true });
    });

    // FeatureTypeController.featureTypeDelete removes a resource's layers with catalog.remove, not
    // with the cascade a layer's, store's or workspace's recursive DELETE runs: GeoServer refuses a
    // layer a group names (CatalogImpl.remove(LayerInfo)), and the master keeps everything.
    it('a resource whose layer groups name: the master refuses it (500, naming a group), and nothing is published', async () => {
      const refused = await send('DELETE', '/workspaces/topp/datastores/pg/featuretypes/rivers?recurse=true');
      expect({ status: refused.status, namesTheGroup: /Unable to delete layer referenced by layer group '(alone|both)'/.test(String(refused.body)) }).toEqual({ status: 500, namesTheGroup: true });
      expect([master.catalog.get('featureType', 'topp:rivers') !== undefined, master.catalog.get('layer', 'topp:rivers') !== undefined]).toEqual([true, true]);
      await expectPublished([], [['layerGroup', 'both'], ['layerGroup', 'outer'], ['layerGroup', 'alone']]);
    });

    it('a layer: the groups that lose it, then its removal, then its resource, which GeoServer removes with it', async () => {
      expect((await send('DELETE', '/layers/topp:rivers?recurse=true')).status).toBe(200);
      await expectPublished(
        [
          ['modify', 'layerGroup', 'both'],
          ['modify', 'layerGroup', 'outer'],
          ['remove', 'layerGroup', 'alone'],
          ['remove', 'layer', 'topp:rivers'],
          ['remove', 'featureType', 'topp:rivers'],
        ],
        [['layerGroup', 'both'], ['layerGroup', 'outer'], ['layerGroup', 'alone']],
      );
      // With recurse: a node whose redrive created it again (and its layer) loses both.
      expect(storing.published[4]).toMatchObject({ recurse: true });
      expect(master.catalog.get('featureType', 'topp:rivers')).toBeUndefined();
      expect((await storing.store.readObjects(MASTER_NODE, [{ type: 'featureType', id: 'topp:rivers' }]))[0]).toMatchObject({ deleted: true });
    });

    it('a resource renamed: the new one and its layer, every group that held the old layer as the master holds it (inner ones first), then the old id removed with recurse', async () => {
      expect((await send('PUT', '/workspaces/topp/datastores/pg/featuretypes/rivers', { featureType: { name: 'waterways' } })).status).toBe(200);
      // The groups name the new layer before the old one goes, so its removal takes nothing out of
      // them on the other nodes (and none refuses it for a group whose root layer it is); each is
      // published whole, outer too, though the master's did not change.
      await expectPublished(
        [
          ['add', 'featureType', 'topp:waterways'],
          ['add', 'layer', 'topp:waterways'],
          ['modify', 'layerGroup', 'alone'],
          ['modify', 'layerGroup', 'both'],
          ['modify', 'layerGroup', 'outer'],
          ['remove', 'featureType', 'topp:rivers'],
        ],
        [['layerGroup', 'alone'], ['layerGroup', 'both'], ['layerGroup', 'outer']],
      );
      expect(storing.published[5]).toMatchObject({ recurse: true });
    });

    it('a recurse GeoServer reads as true however it is spelled (on, YES, 1) publishes a recursive removal; one it cannot read is refused', async () => {
      const before = master.requests.length;
      await expect(send('DELETE', '/workspaces/topp/datastores/pg?recurse=maybe')).rejects.toMatchObject({
        status: 400,
        code: 'NOT_REPLICABLE',
        message: expect.stringContaining('the query parameter recurse is "maybe"'),
      });
      expect(master.requests.length).toBe(before);
      expect((await send('DELETE', '/workspaces/topp/datastores/pg?recurse=YES')).status).toBe(200);
      expect(master.catalog.get('featureType', 'topp:roads')).toBeUndefined();
      expect(storing.published).toContainEqual({ kind: 'remove', object: { type: 'dataStore', id: 'topp:pg' }, recurse: true });
      expect(await heldBoth([['layerGroup', 'alone'], ['layerGroup', 'both'], ['layerGroup', 'outer']])).toEqual(
        ['alone', 'both', 'outer'].map((name) => ({ id: `layerGroup/${name}`, same: true })),
      );
    });

    it('a recursive DELETE the master answers with success while keeping the object: what it holds around it, no removal', async () => {
      master.rejectNext((request) => request.method === 'DELETE', 200, '');
      const kept = await send('DELETE', '/layers/topp:rivers?recurse=true');
      expect(kept).toMatchObject({ status: 200, replication: 'nothing-changed', warning: expect.stringContaining('still holds layer "topp:rivers"') });
      await expectPublished([], [['layer', 'topp:rivers'], ['layerGroup', 'both'], ['layerGroup', 'outer'], ['layerGroup', 'alone']]);
      expect(master.catalog.get('featureType', 'topp:rivers')).toBeDefined();
    });

    it('a workspace: the groups outside it that lose its layers; without recurse, the removal alone', async () => {
      expect((await send('DELETE', '/layergroups/outer')).status).toBe(200);
      expect((await send('DELETE', '/layergroups/alone')).status).toBe(200);
      expect(storing.published.map((c) => [c.kind, c.object.type, c.object.id])).toEqual([
        ['remove', 'layerGroup', 'outer'],
        ['remove', 'layerGroup', 'alone'],
      ]);
      storing.published.length = 0;
      expect((await send('DELETE', '/workspaces/topp?recurse=true')).status).toBe(200);
      expect(storing.published.map((c) => [c.kind, c.object.type, c.object.id])).toEqual([
        ['remove', 'layerGroup', 'both'],
        ['remove', 'workspace', 'topp'],
        ['remove', 'namespace', 'topp'],
      ]);
    });
  });

  it('reads back objects whose names end like a representation as themselves, not as the object named without it', async () => {
    const sld = '<StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>lines</Name></NamedLayer></StyledLayerDescriptor>';
    const css = '* { stroke: #0000ff; }\n';
    await call('POST', '/styles?name=lines&raw=true', sld, 'application/vnd.ogc.sld+xml');
    await call('POST', '/styles?name=lines.css&raw=true', css, 'application/vnd.geoserver.geocss+css');
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    await call('POST', '/workspaces', { workspace: { name: 'topp.json' } });
    expect(published.map((c) => [c.kind, c.object.type, c.object.id, c.kind === 'add' ? c.properties.name : undefined, c.kind === 'add' ? c.properties.body : undefined])).toEqual([
      ['add', 'style', 'lines', 'lines', sld],
      ['add', 'style', 'lines.css', 'lines.css', css],
      ['add', 'workspace', 'topp', 'topp', undefined],
      ['add', 'namespace', 'topp', undefined, undefined],
      ['add', 'workspace', 'topp.json', 'topp.json', undefined],
      ['add', 'namespace', 'topp.json', undefined, undefined],
    ]);
  });

  it("publishes a style's new document as a change of that style: the members of a style file never rename it", async () => {
    const mbstyle = 'application/vnd.geoserver.mbstyle+json';
    const document = (title: string) => JSON.stringify({ metadata: { name: title }, version: 8, name: 'roads', layers: [] });
    await call('POST', '/styles?name=roads&raw=true', document('first'), mbstyle);
    published = [];
    for (const title of ['other', 'roads v3']) {
      const answer = await call('PUT', '/styles/roads?raw=true', document(title), mbstyle);
      expect(answer).toMatchObject({ status: 200, replication: 'published' });
    }
    expect(published).toEqual(
      ['other', 'roads v3'].map((title) => ({ kind: 'modify', object: { type: 'style', id: 'roads' }, patch: expect.objectContaining({ body: document(title) }) })),
    );
  });

  it('refuses, before the master stores it, a style document under 1 MiB whose JSON in the event would be over it', async () => {
    const storing = storingPublisher();
    const send = (method: string, path: string, body: string, contentType: string) => {
      const [pathPart, query = ''] = path.split('?') as [string, string?];
      const upstream = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
      return handleGatewayCall(
        upstream,
        storing,
        { method, path: pathPart, query, headers: { authorization: ADMIN, 'content-type': contentType }, body: Buffer.from(body) },
        { readBack: masterView(upstream) },
      );
    };
    const sld = (rules: number) =>
      `<StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>roads</Name>\n${'<x a="1"/>\n'.repeat(rules)}</NamedLayer></StyledLayerDescriptor>`;
    await send('POST', '/styles?name=roads&raw=true', sld(1), 'application/vnd.ogc.sld+xml');
    const before = master.requests.length;
    // 900 kB as sent; each quote and line break takes two bytes once the document is a JSON string in the style's properties.
    const large = sld(82_000);
    expect(Buffer.byteLength(large)).toBeLessThan(1024 * 1024);
    for (const [method, path] of [['PUT', '/styles/roads?raw=true'], ['POST', '/styles?name=roads2&raw=true']] as const) {
      await expect(send(method, path, large, 'application/vnd.ogc.sld+xml')).rejects.toMatchObject({
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
        message: expect.stringContaining('as a JSON string'),
      });
    }
    expect(master.requests.length).toBe(before);
    expect(master.catalog.styleBodies.get('roads')?.bytes.toString()).toBe(sld(1));
    expect(storing.published).toHaveLength(1);
  });

  it("publishes a PUT as the whole object against what the cluster holds too: what the master lost outside the gateway goes from every node", async () => {
    const storing = storingPublisher();
    const upstream = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
    const send = (method: string, path: string, body: unknown) =>
      handleGatewayCall(
        upstream,
        storing,
        { method, path, query: '', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) },
        { catalog: catalogInStore(storing.store, MASTER_NODE), readBack: masterView(upstream) },
      );
    const stored = async () => (await storing.store.readObjects(MASTER_NODE, [{ type: 'dataStore', id: 'topp:pg' }]))[0]?.properties;
    await send('POST', '/workspaces', { workspace: { name: 'topp' } });
    await send('POST', '/workspaces/topp/datastores', { dataStore: { name: 'pg', description: 'roads db', enabled: true } });
    // Changed on the master's GeoServer directly, past the gateway.
    const { description: _, ...undescribed } = master.catalog.get('dataStore', 'topp:pg')!;
    master.catalog.objects.dataStore.set('topp:pg', undescribed);
    // A write that changes nothing on the master, then one that does: each leaves the cluster with the master's object.
    await send('PUT', '/workspaces/topp/datastores/pg', { dataStore: { enabled: true } });
    expect(await stored()).toEqual(master.catalog.get('dataStore', 'topp:pg'));
    await send('PUT', '/workspaces/topp/datastores/pg', { dataStore: { enabled: false } });
    expect(await stored()).toEqual(master.catalog.get('dataStore', 'topp:pg'));
  });

  it('publishes a style uploaded in two steps once its document is there, with the document', async () => {
    const sld = '<StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>roads</Name></NamedLayer></StyledLayerDescriptor>';
    await call('POST', '/styles', { style: { name: 'roads', filename: 'roads.sld' } });
    expect(published).toEqual([]);
    const uploaded = await call('PUT', '/styles/roads?raw=true', sld, 'application/vnd.ogc.sld+xml');
    expect(uploaded.status).toBe(200);
    expect(published).toEqual([
      { kind: 'add', object: { type: 'style', id: 'roads' }, properties: expect.objectContaining({ name: 'roads', format: 'sld', body: sld }) },
    ]);
  });

  it('publishes settings as modifications of the whole, the contact inside the global settings', async () => {
    await call('PUT', '/settings/contact', { contact: { contactPerson: 'Ops' } });
    expect(published).toEqual([{ kind: 'modify', object: { type: 'global', id: 'global' }, patch: expect.objectContaining({ settings: expect.objectContaining({ charset: 'UTF-8', contact: { contactPerson: 'Ops' } }) }) }]);
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    published = [];
    await call('POST', '/workspaces/topp/settings', { settings: { charset: 'UTF-8' } });
    expect(published).toEqual([
      { kind: 'modify', object: { type: 'workspaceSettings', id: 'topp' }, patch: { charset: 'UTF-8', workspace: { name: 'topp' } } },
    ]);
  });

  it('refuses, before the master sees it, a DELETE of workspace or per-workspace service settings: the cluster only ever modifies configuration', async () => {
    await call('POST', '/workspaces', { workspace: { name: 'topp' } });
    await call('POST', '/workspaces/topp/settings', { settings: { charset: 'UTF-8' } });
    await call('PUT', '/services/wms/workspaces/topp/settings', { wms: { enabled: true } });
    published = [];
    const before = master.requests.length;
    // GeoServer's reference documents both DELETEs; the other nodes could never follow one (settings always exist there).
    for (const [path, object] of [
      ['/workspaces/topp/settings', 'workspaceSettings "topp"'],
      ['/services/wms/workspaces/topp/settings.json', 'service "topp:WMS"'],
    ]) {
      await expect(call('DELETE', path!)).rejects.toMatchObject({
        status: 400,
        code: 'NOT_REPLICABLE',
        message: expect.stringContaining(`a DELETE of ${object}`),
      });
    }
    expect(master.requests.length).toBe(before);
    expect(master.catalog.get('workspaceSettings', 'topp')).toBeDefined();
    expect(master.catalog.get('service', 'topp:WMS')).toBeDefined();
    expect(published).toEqual([]);
  });

  it('answers with the master\'s status when publishing fails, flagged as failed', async () => {
    const failing = { publish: async () => Promise.reject(new Error('log unavailable')) };
    const upstream = new HttpUpstream(master.url, 5000, 1024 * 1024);
    const answer = await handleGatewayCall(
      upstream,
      failing,
      { method: 'POST', path: '/workspaces', query: '', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ workspace: { name: 'x' } })) },
      { readBack: masterView(upstream) },
    );
    expect(answer).toMatchObject({ status: 201, replication: 'publish-failed', error: 'log unavailable' });
    expect(answer.headers['x-cluster-replicated']).toBe('failed');
  });
});

/**
 * A style uploaded as a zip (styles.yaml: an SLD 1.0 document and its icon files). The stand-in
 * GeoServer keeps only the SLD of a package (no icons, and no package PUT), so the master here
 * answers as GeoServer does for such an upload: the style is created from the package's SLD, and
 * its icons land in the master's data directory, which the cluster does not replicate.
 */
describe('a zipped style package', () => {
  const SLD = '<?xml version="1.0" encoding="UTF-8"?><StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>poi</Name></NamedLayer></StyledLayerDescriptor>';
  const ZIP = zipOf([
    { name: 'poi.sld', data: SLD },
    { name: 'marker.png', data: Buffer.from([0x89, 0x50, 0x4e, 0x47]), stored: true },
  ]);

  function zipMaster() {
    const calls: GatewayRequest[] = [];
    let created = false;
    const upstream: Upstream = {
      async send(request): Promise<UpstreamResponse> {
        calls.push(request);
        const reply = (status: number, body: string, contentType = 'text/plain') => ({ status, headers: { 'content-type': contentType }, body: Buffer.from(body) });
        if (request.method === 'POST' && request.path === '/styles') {
          created = true;
          return reply(201, 'poi');
        }
        if (request.method === 'GET' && request.path === '/styles/poi.json') {
          return created
            ? reply(200, JSON.stringify({ style: { name: 'poi', format: 'sld', languageVersion: { version: '1.0.0' }, filename: 'poi.sld' } }), 'application/json')
            : reply(404, 'No such style: poi');
        }
        if (request.method === 'GET' && request.path === '/styles/poi' && request.headers.accept === 'application/vnd.ogc.sld+xml') {
          return reply(200, SLD, 'application/vnd.ogc.sld+xml');
        }
        return reply(500, `unexpected ${request.method} ${request.path}`);
      },
    };
    return { upstream, calls };
  }

  it("is forwarded unchanged; the style is published with its SLD, answered `partial` and logged with the icons it left out", async () => {
    const { upstream, calls } = zipMaster();
    const published: ConfigChange[] = [];
    const answer = await handleGatewayCall(
      upstream,
      { publish: async (change) => published.push(change) },
      { method: 'POST', path: '/styles', query: 'name=poi', headers: { authorization: ADMIN, 'content-type': 'application/zip' }, body: ZIP },
      { readBack: masterView(upstream) },
    );
    expect(calls[0]).toMatchObject({ method: 'POST', path: '/styles', query: 'name=poi', headers: { authorization: ADMIN, 'content-type': 'application/zip' } });
    expect(calls[0]!.body?.equals(ZIP)).toBe(true);
    expect(answer).toMatchObject({ status: 201, replication: 'published', sequences: [1], notReplicated: expect.stringContaining('icons') });
    expect(answer.headers).toMatchObject({ 'x-cluster-replicated': 'partial', 'x-cluster-sequence': '1' });
    expect(published).toEqual([
      { kind: 'add', object: { type: 'style', id: 'poi' }, properties: { name: 'poi', format: 'sld', languageVersion: { version: '1.0.0' }, filename: 'poi.sld', body: SLD } },
    ]);
  });

  it('a package the master refuses publishes nothing and says nothing of replication', async () => {
    const refusing: Upstream = { send: async () => ({ status: 400, headers: { 'content-type': 'text/plain' }, body: Buffer.from('Unable to find SLD in zip') }) };
    const published: ConfigChange[] = [];
    const answer = await handleGatewayCall(
      refusing,
      { publish: async (change) => published.push(change) },
      { method: 'POST', path: '/styles', query: 'name=poi', headers: { authorization: ADMIN, 'content-type': 'application/zip' }, body: ZIP },
      { readBack: masterView(refusing) },
    );
    expect(answer).toMatchObject({ status: 400, replication: 'refused' });
    expect(answer.headers['x-cluster-replicated']).toBeUndefined();
    expect(published).toEqual([]);
  });
});

describe('the name check of an XML body', () => {
  it('forwards what it cannot read a name from (nameless): the master judges those', async () => {
    const sent: string[] = [];
    const upstream: Upstream = {
      async send(call) {
        sent.push(call.body?.toString() ?? '');
        return { status: 400, headers: { 'content-type': 'text/plain' }, body: Buffer.from('refused by the master') };
      },
    };
    const bodies = ['<dataStore><type>PostGIS</type></dataStore>', '<dataStore><x:name xmlns:x="urn:x">a b</x:name></dataStore>'];
    for (const body of bodies) {
      const answer = await handleGatewayCall(
        upstream,
        storingPublisher(),
        { method: 'POST', path: '/workspaces/topp/datastores', query: '', headers: { authorization: ADMIN, 'content-type': 'application/xml' }, body: Buffer.from(body) },
        { readBack: masterView(upstream) },
      );
      expect(answer.status).toBe(400);
    }
    expect(sent).toEqual(bodies);
  });

  it("refuses, sending nothing, a representation it cannot read: GeoServer's readers take more than JSON and XML, so the master could apply a name the check never saw", async () => {
    const { upstream, sent } = recordingMaster();
    const cases: [string, string, string, string][] = [
      // Jettison takes single quotes and bare words (JSONTokener.nextValue).
      ['POST', '/workspaces', "{'workspace': {'name': 'a b'}}", 'application/json'],
      ['PUT', '/workspaces/topp', '{workspace: {name: topp2}}', 'application/json'],
      // XStream stops reading at the end of the root element.
      ['POST', '/workspaces/topp/datastores', '<dataStore><name>a b</name></dataStore><x/>', 'application/xml'],
      ['PUT', '/workspaces/topp/datastores/pg', '<dataStore><name>pg</name>', 'text/xml; charset=UTF-8'],
    ];
    for (const [method, path, body, contentType] of cases) {
      await expect(
        handleGatewayCall(upstream, storingPublisher(), { method, path, query: '', headers: { authorization: ADMIN, 'content-type': contentType }, body: Buffer.from(body) }, { readBack: masterView(upstream) }),
      ).rejects.toMatchObject({ status: 400, code: 'NOT_REPLICABLE', message: expect.stringMatching(/the body is not (JSON|XML) the gateway can read/) });
    }
    expect(sent).toEqual([]);
  });
});

/** A master that records what reaches it: the checks below must refuse before anything does. */
function recordingMaster() {
  const sent: GatewayRequest[] = [];
  const upstream: Upstream = {
    async send(call) {
      sent.push(call);
      return { status: 500, headers: { 'content-type': 'text/plain' }, body: Buffer.from('not expected to be reached') };
    },
  };
  return { upstream, sent };
}

/**
 * What GeoServer names the object a POST creates: `?name=` only for a style file or zipped
 * package (styles.yaml: "Used only when POSTing a style file or ZIP bundle"), the body's name
 * for every representation, and, for a style file sent without `?name=`, a name GeoServer reads
 * from inside the document. The check before forwarding must judge that same name.
 */
describe('the name a POST creates, checked before forwarding', () => {
  const post = (upstream: Upstream, path: string, body: string | Buffer, contentType: string) => {
    const [pathPart, query = ''] = path.split('?') as [string, string?];
    return handleGatewayCall(
      upstream,
      storingPublisher(),
      { method: 'POST', path: pathPart, query, headers: { authorization: ADMIN, 'content-type': contentType }, body: Buffer.from(body) },
      { readBack: masterView(upstream) },
    );
  };

  it("judges a representation's own name, not a ?name= GeoServer ignores for it", async () => {
    const { upstream, sent } = recordingMaster();
    const cases: [string, string, string, RegExp][] = [
      ['/workspaces/topp/datastores?name=pg', '{"dataStore":{"name":"my store","type":"PostGIS"}}', 'application/json', /dataStore "topp:my store"/],
      ['/styles?name=ok', '{"style":{"name":"a b","filename":"a.sld"}}', 'application/json', /style "a b"/],
      ['/workspaces/topp/styles?name=ok', '<style><name>a b</name><filename>a.sld</filename></style>', 'text/xml', /style "topp:a b"/],
    ];
    for (const [path, body, contentType, reason] of cases) {
      await expect(post(upstream, path, body, contentType)).rejects.toMatchObject({ status: 400, code: 'NOT_REPLICABLE', message: expect.stringMatching(reason) });
    }
    expect(sent).toEqual([]);
  });

  it('judges the name a resource POSTed without one takes from its nativeName (CatalogBuilder.initResourceInfo), in JSON and XML, naming that field', async () => {
    const { upstream, sent } = recordingMaster();
    const cases: [string, string, string, RegExp][] = [
      ['/workspaces/topp/datastores/pg/featuretypes', '{"featureType":{"nativeName":"my roads"}}', 'application/json', /featureType "topp:my roads", named by its nativeName/],
      ['/workspaces/topp/featuretypes', '<featureType><nativeName>a:b</nativeName><title>A</title></featureType>', 'application/xml', /featureType "topp:a:b", named by its nativeName/],
      ['/workspaces/topp/coveragestores/dem/coverages', '<coverage><nativeName>my dem</nativeName></coverage>', 'text/xml', /coverage "topp:my dem", named by its nativeName/],
      ['/workspaces/topp/coverages', '{"coverage":{"nativeName":".."}}', 'application/json', /coverage "topp:\.\.", named by its nativeName/],
      ['/workspaces/topp/wmsstores/remote/wmslayers', '{"wmsLayer":{"nativeName":"a b"}}', 'application/json', /wmsLayer "topp:a b", named by its nativeName/],
      ['/workspaces/topp/wmtsstores/tiles/layers', '{"wmtsLayer":{"nativeName":"a/b"}}', 'application/json', /wmtsLayer "topp:a\/b", named by its nativeName/],
      // Jettison takes the text inside an object as the element's: a name the check never saw.
      ['/workspaces/topp/datastores/pg/featuretypes', '{"featureType":{"nativeName":{"$":"a b"}}}', 'application/json', /the body's nativeName is not a JSON string/],
    ];
    for (const [path, body, contentType, reason] of cases) {
      await expect(post(upstream, path, body, contentType)).rejects.toMatchObject({ status: 400, code: 'NOT_REPLICABLE', message: expect.stringMatching(reason) });
    }
    expect(sent).toEqual([]);
    // With a name, the nativeName is the table's (any name the store uses): the name alone is judged.
    await post(upstream, '/workspaces/topp/datastores/pg/featuretypes', '{"featureType":{"name":"roads","nativeName":"my roads"}}', 'application/json');
    await post(upstream, '/workspaces/topp/coveragestores/dem/coverages', '<coverage><name>dem</name><nativeName>my dem</nativeName></coverage>', 'application/xml');
    expect(sent).toHaveLength(2);
  });

  it('refuses a layer group or style POSTed to the global collection with a workspace in its body: GeoServer creates it in that workspace (LayerGroupController, StyleController)', async () => {
    const { upstream, sent } = recordingMaster();
    const cases: [string, string, string][] = [
      ['/layergroups', '{"layerGroup":{"name":"g","workspace":{"name":"topp"},"publishables":{"published":[{"@type":"layer","name":"topp:roads"}]},"styles":{"style":[""]}}}', 'application/json'],
      ['/styles', '<style><name>s</name><filename>s.sld</filename><workspace><name>topp</name></workspace></style>', 'application/xml'],
    ];
    for (const [path, body, contentType] of cases) {
      await expect(post(upstream, path, body, contentType)).rejects.toMatchObject({
        status: 400,
        code: 'NOT_REPLICABLE',
        message: expect.stringContaining('/workspaces/<workspace>'),
      });
    }
    expect(sent).toEqual([]);
    // Under a workspace's path, the path's workspace is the one GeoServer creates it in.
    await post(upstream, '/workspaces/topp/styles', '<style><name>s</name><filename>s.sld</filename><workspace><name>topp</name></workspace></style>', 'application/xml');
    expect(sent).toHaveLength(1);
  });

  it("refuses service settings whose body names another workspace than the path: GeoServer copies it onto the settings (OwsUtils.copy), moving them there", async () => {
    const { upstream, sent } = recordingMaster();
    const put = (path: string, body: string, contentType = 'application/json') =>
      handleGatewayCall(upstream, storingPublisher(), { method: 'PUT', path, query: '', headers: { authorization: ADMIN, 'content-type': contentType }, body: Buffer.from(body) }, { readBack: masterView(upstream) });
    const refused: [string, string, string?][] = [
      ['/services/wms/settings', '{"wms":{"title":"t","workspace":{"name":"topp"}}}'],
      ['/services/wfs/workspaces/topp/settings.json', '{"wfs":{"title":"t","workspace":{"name":"other"}}}'],
      ['/services/wcs/workspaces/topp/settings', '<wcs><title>t</title><workspace><name>other</name></workspace></wcs>', 'application/xml'],
      ['/services/wcs/workspaces/topp/settings', '<wcs><workspace><name>to<x/>pp</name></workspace></wcs>', 'application/xml'],
      ['/services/wmts/workspaces/topp/settings', '{"wmts":{"workspace":null}}'],
    ];
    for (const [path, body, contentType] of refused) {
      await expect(put(path, body, contentType)).rejects.toMatchObject({ status: 400, code: 'NOT_REPLICABLE', message: expect.stringContaining('workspace') });
    }
    expect(sent).toEqual([]);
    // Its own workspace, as GeoServer answers a read of them, or none: the settings stay where they are.
    await put('/services/wms/workspaces/topp/settings', '{"wms":{"title":"t","workspace":{"name":"topp"}}}');
    await put('/services/wms/workspaces/topp/settings', '<wms><title>t</title><workspace><name>topp</name></workspace></wms>', 'application/xml');
    await put('/services/wms/settings', '{"wms":{"title":"t"}}');
    expect(sent.filter((call) => call.method === 'PUT')).toHaveLength(3);
  });

  it("refuses a store PUT whose body names another workspace than the path: GeoServer copies it onto the store (CatalogBuilder.updateDataStore), moving it there", async () => {
    const { upstream, sent } = recordingMaster();
    const put = (path: string, body: string, contentType = 'application/json') =>
      handleGatewayCall(upstream, storingPublisher(), { method: 'PUT', path, query: '', headers: { authorization: ADMIN, 'content-type': contentType }, body: Buffer.from(body) }, { readBack: masterView(upstream) });
    const refused: [string, string, string?][] = [
      ['/workspaces/topp/datastores/pg', '{"dataStore":{"workspace":{"name":"other"}}}'],
      ['/workspaces/topp/coveragestores/dem.xml', '<coverageStore><workspace><name>other</name></workspace></coverageStore>', 'text/xml'],
      ['/workspaces/topp/wmsstores/remote', '{"wmsStore":{"workspace":{"name":"other"}}}'],
      ['/workspaces/topp/wmtsstores/tiles', '{"wmtsStore":{"workspace":null}}'],
    ];
    for (const [path, body, contentType] of refused) {
      await expect(put(path, body, contentType)).rejects.toMatchObject({ status: 400, code: 'NOT_REPLICABLE', message: expect.stringMatching(/Store "topp:\w+" the workspace (null|"other")/) });
    }
    expect(sent).toEqual([]);
    await put('/workspaces/topp/datastores/pg', '{"dataStore":{"description":"d","workspace":{"name":"topp"}}}');
    expect(sent.filter((call) => call.method === 'PUT')).toHaveLength(1);
  });

  it("refuses a resource PUT whose body names another namespace than the path's workspace: GeoServer copies it onto the resource (CatalogBuilder.updateFeatureType), renaming it workspace:name", async () => {
    const { upstream, sent } = recordingMaster();
    const put = (path: string, body: string, contentType = 'application/json') =>
      handleGatewayCall(upstream, storingPublisher(), { method: 'PUT', path, query: '', headers: { authorization: ADMIN, 'content-type': contentType }, body: Buffer.from(body) }, { readBack: masterView(upstream) });
    const refused: [string, string, string?][] = [
      ['/workspaces/topp/datastores/pg/featuretypes/roads', '{"featureType":{"namespace":{"name":"other"}}}'],
      ['/workspaces/topp/coveragestores/dem/coverages/dem', '<coverage><namespace><name>other</name></namespace></coverage>', 'application/xml'],
    ];
    for (const [path, body, contentType] of refused) {
      await expect(put(path, body, contentType)).rejects.toMatchObject({ status: 400, code: 'NOT_REPLICABLE', message: expect.stringContaining('the namespace "other"') });
    }
    expect(sent).toEqual([]);
    await put('/workspaces/topp/datastores/pg/featuretypes/roads', '{"featureType":{"title":"Roads","namespace":{"name":"topp"}}}');
    expect(sent.filter((call) => call.method === 'PUT')).toHaveLength(1);
  });

  it("refuses an XML name holding elements: GeoServer's XML reader takes only the text before the first, the check all of it", async () => {
    const { upstream, sent } = recordingMaster();
    const cases: [string, string, string][] = [
      // "topp" to the check (no rename), "to" to the master (a rename the gateway would not publish)
      ['PUT', '/workspaces/topp', '<workspace><name>to<x/>pp</name></workspace>'],
      ['POST', '/workspaces/topp/datastores', '<dataStore><name>p<b>g</b>g</name></dataStore>'],
    ];
    for (const [method, path, body] of cases) {
      await expect(
        handleGatewayCall(upstream, storingPublisher(), { method, path, query: '', headers: { authorization: ADMIN, 'content-type': 'application/xml' }, body: Buffer.from(body) }, { readBack: masterView(upstream) }),
      ).rejects.toMatchObject({ status: 400, code: 'NOT_REPLICABLE', message: expect.stringContaining('<name> holds elements') });
    }
    expect(sent).toEqual([]);
  });

  it('refuses a global style or layer group named with a ":", which the cluster would take for a workspace\'s (topp:x is style x of topp)', async () => {
    const { upstream, sent } = recordingMaster();
    const cases: [string, string, string, string][] = [
      ['POST', '/styles?name=topp:x', '<StyledLayerDescriptor version="1.0.0"/>', 'application/vnd.ogc.sld+xml'],
      ['POST', '/styles', '{"style":{"name":"topp:x","filename":"x.sld"}}', 'application/json'],
      ['POST', '/layergroups', '<layerGroup><name>topp:g</name></layerGroup>', 'application/xml'],
      ['PUT', '/styles/x', '{"style":{"name":"topp:y"}}', 'application/json'],
    ];
    for (const [method, path, body, contentType] of cases) {
      const [pathPart, query = ''] = path.split('?') as [string, string?];
      await expect(
        handleGatewayCall(upstream, storingPublisher(), { method, path: pathPart, query, headers: { authorization: ADMIN, 'content-type': contentType }, body: Buffer.from(body) }, { readBack: masterView(upstream) }),
      ).rejects.toMatchObject({ status: 400, code: 'NOT_REPLICABLE', message: expect.stringMatching(/global (style|layerGroup) named "topp:\w"/) });
    }
    expect(sent.filter((call) => call.method !== 'GET')).toEqual([]);
  });

  it('refuses a style file or package without ?name=, whose name GeoServer would read from inside it', async () => {
    const { upstream, sent } = recordingMaster();
    const documents: [string | Buffer, string][] = [
      ['<StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>my roads</Name></NamedLayer></StyledLayerDescriptor>', 'application/vnd.ogc.sld+xml'],
      ['{"version":8,"name":"a:b","layers":[]}', 'application/vnd.geoserver.mbstyle+json'],
      [zipOf([{ name: 'poi.sld', data: '<StyledLayerDescriptor version="1.0.0"/>' }]), 'application/zip'],
    ];
    for (const [body, contentType] of documents) {
      await expect(post(upstream, '/styles', body, contentType)).rejects.toMatchObject({
        status: 400,
        code: 'NOT_REPLICABLE',
        message: expect.stringContaining('name the style with ?name='),
      });
    }
    expect(sent).toEqual([]);
  });
});

/**
 * The name check before forwarding reads a body as the master's GeoServer reads it (XStream: a
 * Jettison JSON reader, a namespace-unaware XML reader that honours the document's declared
 * encoding): a name it read otherwise would let the master create what no other node can hold.
 */
describe('a body read as the master reads it', () => {
  const write = (upstream: Upstream, method: string, path: string, body: string | Buffer, contentType: string) => {
    const [pathPart, query = ''] = path.split('?') as [string, string?];
    return handleGatewayCall(
      upstream,
      storingPublisher(),
      { method, path: pathPart, query, headers: { authorization: ADMIN, 'content-type': contentType }, body: typeof body === 'string' ? Buffer.from(body) : body },
      { readBack: masterView(upstream) },
    );
  };

  it('reads an XML name by its tag as written, as a namespace-unaware reader does, whatever default namespace the body declares', async () => {
    const { upstream, sent } = recordingMaster();
    const cases: [string, string, RegExp][] = [
      ['/workspaces', '<workspace xmlns="urn:x"><name>a b</name></workspace>', /workspace "a b"/],
      ['/workspaces/topp/datastores', '<dataStore xmlns="http://www.geoserver.org"><name>my store</name><type>PostGIS</type></dataStore>', /dataStore "topp:my store"/],
    ];
    for (const [path, body, reason] of cases) {
      await expect(write(upstream, 'POST', path, body, 'application/xml')).rejects.toMatchObject({ status: 400, code: 'NOT_REPLICABLE', message: expect.stringMatching(reason) });
    }
    expect(sent).toEqual([]);
  });

  it('refuses a body that is not UTF-8, or XML declaring another encoding, which the master would read as other text than the cluster', async () => {
    const { upstream, sent } = recordingMaster();
    const latin1 = (text: string) => Buffer.from(text, 'latin1');
    const cases: [string, string, Buffer, string, RegExp][] = [
      // The no-break space (0xA0 in ISO-8859-1) is white space to GeoServer, a malformed byte to a UTF-8 reader.
      ['POST', '/workspaces', latin1('<?xml version="1.0" encoding="ISO-8859-1"?><workspace><name>a\u00a0b</name></workspace>'), 'application/xml', /not UTF-8: .*send it in UTF-8, with no other encoding declared in <\?xml \.\.\.\?>$/],
      // Valid UTF-8 ("voilà" ends in C3 A0), read as ISO-8859-1 by the master: "voilÃ" and a no-break space.
      ['POST', '/workspaces', Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><workspace><name>voil\u00e0</name></workspace>'), 'text/xml', /declares the encoding "ISO-8859-1"/],
      // Stored as sent (raw=true), read back as UTF-8: the other nodes would get U+FFFD for "é".
      ['PUT', '/styles/roads?raw=true', latin1('<?xml version="1.0" encoding="ISO-8859-1"?><StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>roads</Name><UserStyle><Title>Caf\u00e9</Title></UserStyle></NamedLayer></StyledLayerDescriptor>'), 'application/vnd.ogc.sld+xml', /not UTF-8/],
      ['POST', '/styles?name=roads&raw=true', latin1('* { stroke: #000; } /* caf\u00e9 */'), 'application/vnd.geoserver.geocss+css', /not UTF-8: .*send it in UTF-8$/],
    ];
    for (const [method, path, body, contentType, reason] of cases) {
      await expect(write(upstream, method, path, body, contentType)).rejects.toMatchObject({ status: 400, code: 'NOT_REPLICABLE', message: expect.stringMatching(reason) });
    }
    expect(sent).toEqual([]);
    // An ASCII document reads the same in any encoding it declares: forwarded.
    await write(upstream, 'PUT', '/styles/roads?raw=true', '<?xml version="1.0" encoding="ISO-8859-1"?><StyledLayerDescriptor version="1.0.0"/>', 'application/vnd.ogc.sld+xml');
    expect(sent.map((call) => call.method)).toContain('PUT');
  });

  it("refuses a JSON name that is not a string: GeoServer's JSON reader takes the text inside an object or a list", async () => {
    const { upstream, sent } = recordingMaster();
    const cases: [string, string, string][] = [
      ['POST', '/workspaces', '{"workspace":{"name":{"$":"a b"}}}'],
      ['POST', '/workspaces', '{"workspace":{"name":["a b"]}}'],
      ['POST', '/namespaces', '{"namespace":{"prefix":{"$":"a:b"},"uri":"urn:x"}}'],
      ['PUT', '/workspaces/topp/datastores/pg', '{"dataStore":{"name":{"$":"my store"}}}'],
    ];
    for (const [method, path, body] of cases) {
      await expect(write(upstream, method, path, body, 'application/json')).rejects.toMatchObject({
        status: 400,
        code: 'NOT_REPLICABLE',
        message: expect.stringMatching(/the body's (name|prefix) is not a JSON string/),
      });
    }
    expect(sent).toEqual([]);
  });
});

/**
 * A DOCTYPE declares entities: external ones the master's XML reader may fetch (a file on the
 * master, a URL in its network), internal ones that expand a few bytes into gigabytes or into a
 * name the gateway never checked. No GeoServer REST representation or style document needs one,
 * so any body holding one is refused, on every path, before anything reaches the master.
 */
describe('a body with a DOCTYPE', () => {
  const send = (upstream: Upstream, method: string, path: string, body: string | Buffer, contentType: string) => {
    const [pathPart, query = ''] = path.split('?') as [string, string?];
    const publisher = storingPublisher();
    const answer = handleGatewayCall(
      upstream,
      publisher,
      { method, path: pathPart, query, headers: { authorization: ADMIN, 'content-type': contentType }, body: typeof body === 'string' ? Buffer.from(body) : body },
      { readBack: masterView(upstream) },
    );
    return { answer, published: publisher.published };
  };
  const laughs = '<!DOCTYPE StyledLayerDescriptor [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>';

  it('refuses it with 400 naming the DOCTYPE, whatever the path, media type or encoding, and sends nothing', async () => {
    const { upstream, sent } = recordingMaster();
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<!DOCTYPE user [<!ENTITY x SYSTEM "file:///etc/passwd">]><user><userName>&x;</userName></user>', 'utf16le')]);
    const cases: [string, string, string | Buffer, string][] = [
      // An internal entity: the master would create "a b", a name the check never saw.
      ['POST', '/workspaces', '<!DOCTYPE workspace [<!ENTITY n "a b">]><workspace><name>&n;</name></workspace>', 'application/xml'],
      // An external entity (XXE): a file of the master's read into its catalog.
      ['POST', '/workspaces/topp/datastores', '<?xml version="1.0"?>\n<!-- a store --><!DOCTYPE dataStore [<!ENTITY x SYSTEM "file:///etc/passwd">]><dataStore><name>pg</name><description>&x;</description></dataStore>', 'text/xml'],
      // An external DTD fetched from anywhere.
      ['PUT', '/workspaces/topp/datastores/pg.xml', '<!DOCTYPE dataStore SYSTEM "http://169.254.169.254/latest/meta-data/"><dataStore><name>pg</name></dataStore>', 'application/xml'],
      // Entity expansion in a style document, which GeoServer parses itself.
      ['PUT', '/styles/roads?raw=true', `${laughs}<StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>&c;</Name></NamedLayer></StyledLayerDescriptor>`, 'application/vnd.ogc.sld+xml'],
      ['POST', '/styles?name=roads', `\uFEFF${laughs}<StyledLayerDescriptor version="1.1.0"/>`, 'application/vnd.ogc.se+xml'],
      // Paths the cluster does not replicate are forwarded to the same master.
      ['POST', '/security/usergroup/users', utf16, 'application/xml'],
      ['PUT', '/resource/styles/x.xml', '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/shadow">]><x>&e;</x>', 'application/xml'],
      // Labelled as something else, still XML to a reader that looks.
      ['POST', '/workspaces', '<!DOCTYPE workspace [<!ENTITY n "a b">]><workspace><name>&n;</name></workspace>', 'text/plain'],
      // Not well-formed before its root (an unclosed comment): where the DOCTYPE stands cannot be told, so it counts.
      ['POST', '/workspaces', '<!-- unclosed <!DOCTYPE workspace [<!ENTITY n "a b">]><workspace><name>&n;</name></workspace>', 'application/xml'],
    ];
    for (const [method, path, body, contentType] of cases) {
      const { answer, published } = send(upstream, method, path, body, contentType);
      await expect(answer).rejects.toMatchObject({ status: 400, code: 'XML_DOCTYPE', field: 'body', message: expect.stringMatching(/DOCTYPE/) });
      expect(published).toEqual([]);
    }
    expect(sent).toEqual([]);
  });

  it('refuses it in UCS-4 (UTF-32) too, with or without its byte order mark, labelled XML or not', async () => {
    const { upstream, sent } = recordingMaster();
    // What XML 1.0's Appendix F has an XML reader detect: four bytes a character, either order.
    const ucs4 = (text: string, order: 'BE' | 'LE', bom: boolean) => {
      const units = [...(bom ? '\uFEFF' : ''), ...text].map((char) => {
        const unit = Buffer.alloc(4);
        if (order === 'BE') unit.writeUInt32BE(char.codePointAt(0)!);
        else unit.writeUInt32LE(char.codePointAt(0)!);
        return unit;
      });
      return Buffer.concat(units);
    };
    const document = '<!DOCTYPE user [<!ENTITY x SYSTEM "file:///etc/passwd">]><user><userName>&x;</userName><note>é</note></user>';
    for (const order of ['BE', 'LE'] as const) {
      for (const bom of [true, false]) {
        for (const contentType of ['application/xml', 'text/plain']) {
          const { answer, published } = send(upstream, 'POST', '/security/usergroup/users', ucs4(document, order, bom), contentType);
          await expect(answer).rejects.toMatchObject({ status: 400, code: 'XML_DOCTYPE', field: 'body', message: expect.stringMatching(/ending at line 1/) });
          expect(published).toEqual([]);
        }
      }
    }
    expect(sent).toEqual([]);
  });

  it('refuses with 400 XML_ENCODING naming it an XML body in an encoding the check cannot read, on every path, and sends nothing', async () => {
    const { upstream, sent } = recordingMaster();
    const xxe = '<!DOCTYPE user [<!ENTITY x SYSTEM "file:///etc/passwd">]><user><userName>&x;</userName></user>';
    const utf16be = (text: string) => Buffer.from(text, 'utf16le').swap16();
    const cases: [string, string, Buffer, string, RegExp][] = [
      // EBCDIC, detected by Java's XML reader from its first bytes: on paths the cluster does not replicate too, labelled XML or not.
      ['POST', '/security/usergroup/users', ebcdic(`<?xml version="1.0" encoding="IBM037"?>${xxe}`), 'application/xml', /EBCDIC.*4C 6F A7 94/],
      ['PUT', '/resource/styles/x.xml', ebcdic(`<?xml version="1.0"?>${xxe}`), 'text/plain', /EBCDIC/],
      ['POST', '/gwc/rest/layers/topp:roads.xml', ebcdic(`<?xml version="1.0" encoding="cp037"?>${xxe}`), 'text/xml', /EBCDIC/],
      ['POST', '/workspaces', ebcdic(`<?xml version="1.0" encoding="IBM037"?><workspace><name>w</name></workspace>`), 'application/xml', /EBCDIC/],
      // An ASCII declaration naming an encoding in which the rest is not ASCII: the master's reader switches to it.
      ['POST', '/security/usergroup/users', Buffer.concat([Buffer.from('<?xml version="1.0" encoding="IBM037"?>'), ebcdic(xxe)]), 'application/xml', /"ibm037"/],
      ['POST', '/security/usergroup/users', Buffer.from('<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE user +AFs-+ADw-!ENTITY x SYSTEM +ACI-file:///etc/passwd+ACI-+AD4-+AF0-+AD4-<user/>'), 'application/xml', /"utf-7"/],
      ['POST', '/security/usergroup/users', Buffer.from('\uFEFF<?xml version="1.0" encoding="x-made-up"?><user/>'), 'application/xml', /"x-made-up"/],
      // A stateful encoding: ASCII bytes read as ASCII, but an escape sequence (ESC ( B) reads as nothing, so the master reads "<!DOCTYPE" where the bytes hold none.
      ['POST', '/security/usergroup/users', Buffer.from('<?xml version="1.0" encoding="ISO-2022-JP"?><!DOC\u001b(BTYPE user [<!ENTITY x SYSTEM "file:///etc/passwd">]><user>&x;</user>', 'latin1'), 'application/xml', /"iso-2022-jp"/],
      ['POST', '/security/usergroup/users', Buffer.from('<?xml version="1.0" encoding="csISO2022JP"?><user/>'), 'application/xml', /"csiso2022jp"/],
      // A declaration naming another width than the first bytes are in: the master's reader switches to it after the declaration.
      // UTF-16 with its mark declaring ISO-8859-1: the master reads the rest byte by byte, the check in pairs (3C 21 is one character to it).
      ['POST', '/security/usergroup/users', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?>', 'utf16le'), Buffer.from(xxe, 'latin1')]), 'application/xml', /"iso-8859-1".*UTF-16/],
      // ASCII declaring UTF-16: the master reads the rest in pairs, the check byte by byte; bytes that are "?>", "<!--" and "-->" to the check are
      // three characters of a processing instruction's data and of the root's text to the master, so the check takes its DOCTYPE for a comment.
      ['POST', '/security/usergroup/users', Buffer.concat([Buffer.from('<?xml version="1.0" encoding="UTF-16"?>'), utf16be('<?pi '), Buffer.from('?><!--'), utf16be(' ?>'),
        utf16be(xxe.replace('</userName></user>', '')), Buffer.from('--><u>'), utf16be('</userName></user>')]), 'application/xml', /"utf-16"/],
      // UTF-16LE with its mark declaring UTF-16BE: the master reads the rest big-endian; pairs the check reads as "?><!--" and "-->" little-endian
      // are characters of a processing instruction's data and of the root's text to the master.
      ['POST', '/security/usergroup/users', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<?xml version="1.0" encoding="UTF-16BE"?>', 'utf16le'), utf16be('<?pi '),
        Buffer.from('?><!--', 'utf16le'), utf16be(' ?>'), utf16be(xxe.replace('</userName></user>', '')), Buffer.from('--><u>', 'utf16le'), utf16be('</userName></user>')]), 'application/xml', /"utf-16be".*UTF-16LE/],
    ];
    for (const [method, path, body, contentType, encoding] of cases) {
      const { answer, published } = send(upstream, method, path, body, contentType);
      await expect(answer).rejects.toMatchObject({ status: 400, code: 'XML_ENCODING', field: 'body', message: expect.stringMatching(encoding) });
      expect(published).toEqual([]);
    }
    expect(sent).toEqual([]);
  });

  it('refuses with 400 XML_ENCODING an XML body whose Content-Type names a charset the check cannot read it in, and sends nothing', async () => {
    const { upstream, sent } = recordingMaster();
    // GeoServer decodes a style file by the charset its Content-Type names (StyleController: new String(body, charset)), then
    // parses that text, its bytes' mark and declaration unread: bytes the check reads as Latin-1 are a DOCTYPE to the master.
    const sld = '<!DOCTYPE StyledLayerDescriptor [<!ENTITY x SYSTEM "file:///etc/passwd">]><StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>&x;</Name></NamedLayer></StyledLayerDescriptor>';
    const utf16be = (text: string) => Buffer.from(text, 'utf16le').swap16();
    const cases: [string, string, Buffer, string, RegExp][] = [
      // On paths the cluster does not replicate too (a replicated one refuses a body that is not UTF-8 besides).
      ['PUT', '/resource/styles/x.sld', ebcdic(sld), 'application/xml; charset=IBM037', /Content-Type.*"IBM037"/],
      ['POST', '/styles?name=roads', ebcdic(sld), 'application/vnd.ogc.sld+xml; charset=IBM037', /"IBM037"/],
      ['PUT', '/workspaces/topp/styles/roads', ebcdic(sld), 'application/vnd.ogc.se+xml;charset=Cp037', /"Cp037"/],
      // GeoServer takes the value of the header's second part whatever it is named, before a charset named after it.
      ['PUT', '/styles/roads', ebcdic(sld), 'application/vnd.ogc.sld+xml; version=IBM037; charset=UTF-8', /"IBM037"/],
      // A stateful charset: ESC ( B reads as nothing, so "<!DOC" ESC "(B" "TYPE" is "<!DOCTYPE" to the master.
      ['POST', '/styles?name=roads', Buffer.from(sld.replace('<!DOCTYPE', '<!DOC\u001b(BTYPE'), 'latin1'), 'application/vnd.ogc.sld+xml; charset=ISO-2022-JP', /"ISO-2022-JP"/],
      // Another width or byte order than the body's first bytes are in; UTF-16 without its mark is big-endian to Java.
      ['POST', '/styles?name=roads', Buffer.from(sld), 'application/vnd.ogc.sld+xml; charset=UTF-16', /"UTF-16".*ASCII-like/],
      ['POST', '/styles?name=roads', Buffer.from(sld, 'utf16le'), 'application/vnd.ogc.sld+xml; charset=UTF-16', /"UTF-16".*UTF-16LE/],
      ['POST', '/styles?name=roads', Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(sld)]), 'application/vnd.ogc.sld+xml; charset=UTF-16LE', /"UTF-16LE".*UTF-16BE/],
    ];
    for (const [method, path, body, contentType, charset] of cases) {
      const { answer, published } = send(upstream, method, path, body, contentType);
      await expect(answer).rejects.toMatchObject({ status: 400, code: 'XML_ENCODING', field: 'body', message: expect.stringMatching(charset) });
      expect(published).toEqual([]);
    }
    expect(sent).toEqual([]);
  });

  it('forwards XML whose Content-Type names a charset it is read alike in, and checks it for a DOCTYPE', async () => {
    const { upstream, sent } = recordingMaster();
    const user = '<user><userName>u</userName></user>';
    const bodies: [Buffer, string][] = [
      ...['UTF-8', 'utf-8', '"UTF-8"', 'ISO-8859-1', 'ISO8859_1', 'windows-1252', 'Shift_JIS', 'US-ASCII'].map((charset): [Buffer, string] => [Buffer.from(user), `application/xml; charset=${charset}`]),
      [Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(user, 'utf16le')]), 'application/xml; charset=UTF-16'],
      [Buffer.from(user, 'utf16le'), 'application/xml; charset=UTF-16LE'],
      [Buffer.from(user, 'utf16le').swap16(), 'text/xml; charset=UTF-16'],
      // Not XML to the master's style reader nor to the check: JSON is not looked at.
      [Buffer.from('{"user":{"userName":"u"}}'), 'application/json; charset=IBM037'],
    ];
    for (const [body, contentType] of bodies) await send(upstream, 'POST', '/security/usergroup/users', body, contentType).answer;
    expect(sent.map((call) => call.body)).toEqual(bodies.map(([body]) => body));
    const doctype = Buffer.from('<!DOCTYPE user [<!ENTITY x SYSTEM "file:///etc/passwd">]><user/>');
    await expect(send(upstream, 'POST', '/security/usergroup/users', doctype, 'application/xml; charset=ISO-8859-1').answer).rejects.toMatchObject({ code: 'XML_DOCTYPE' });
  });

  it('forwards XML declaring an encoding in which its markup is ASCII, and checks it for a DOCTYPE', async () => {
    const { upstream, sent } = recordingMaster();
    // Java's own names too (ISO8859_1 is what an OutputStreamWriter's getEncoding() answers), which the master's XML reader takes.
    const xml = (label: string) => `<?xml version="1.0" encoding="${label}"?><user><userName>u</userName></user>`;
    const bodies = [
      ...['ISO-8859-1', 'windows-1252', 'Shift_JIS', 'US-ASCII', 'ISO8859_1', 'ISO8859_15', 'UTF8', 'Cp1252', 'EUC_JP'].map((label) => Buffer.from(xml(label))),
      // A wide encoding declared where the first bytes are in it (UTF-8 with its mark declaring utf-8 too).
      ...['UTF-16', 'UTF-16LE', 'utf-16'].map((label) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml(label), 'utf16le')])),
      Buffer.from(xml('UTF-16'), 'utf16le'),
      Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(xml('UTF-16BE'), 'utf16le').swap16()]),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(xml('utf-8'))]),
    ];
    for (const body of bodies) await send(upstream, 'POST', '/security/usergroup/users', body, 'application/xml').answer;
    expect(sent.map((call) => call.body)).toEqual(bodies);
    const doctype = Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><!DOCTYPE user [<!ENTITY x SYSTEM "file:///etc/passwd">]><user/>');
    await expect(send(upstream, 'POST', '/security/usergroup/users', doctype, 'application/xml').answer).rejects.toMatchObject({ code: 'XML_DOCTYPE' });
  });

  it('says where the DOCTYPE stands when it can', async () => {
    const { upstream } = recordingMaster();
    await expect(send(upstream, 'POST', '/workspaces', '<?xml version="1.0"?>\n<!DOCTYPE workspace [<!ENTITY n "a b">]><workspace/>', 'application/xml').answer).rejects.toMatchObject({
      message: expect.stringContaining('line 2'),
    });
  });

  it('forwards XML without one, a "<!DOCTYPE" in its content included, and bodies that are not XML', async () => {
    const { upstream, sent } = recordingMaster();
    const bodies: [string, string, string][] = [
      ['/workspaces', '<workspace><name>w1</name><!-- no <!DOCTYPE here --></workspace>', 'application/xml'],
      ['/workspaces', '<?xml version="1.0"?><workspace><name>doctype</name></workspace>', 'text/xml'],
      ['/workspaces', '{"workspace":{"name":"w2","note":"<!DOCTYPE x>"}}', 'application/json'],
    ];
    for (const [path, body, contentType] of bodies) await send(upstream, 'POST', path, body, contentType).answer;
    expect(sent.map((call) => call.body?.toString())).toEqual(bodies.map(([, body]) => body));
  });
});
