/**
 * GeoServer nodes end to end, over real HTTP: a local cluster (through `npm start`) of one
 * master and two slaves, each slave with its own stand-in GeoServer
 * (test/support/geoserver-standin, which checks every request against GeoServer's REST
 * reference). Every change the master publishes reaches each GeoServer through its REST API:
 * a long mixed stream converges every GeoServer's catalog to the master's store; a GeoServer
 * that refuses connections, then answers 503, then recovers catches up in order with nothing
 * in the dead-letter queue; a change one GeoServer refuses is parked on that node with
 * GeoServer's answer while the rest apply, and a redrive after the fix applies it to the
 * GeoServer; a parked remove with recurse is not redriven over what its node applied inside its
 * object after it; a 300 KiB style arrives as the same bytes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startGeoServerStandIn, type GeoServerStandIn } from '../../support/geoserver-standin';
import { pick, seededRandom } from '../../support/random';
import { FAST_RETRY_ENV, sld, SyncCluster, type CatalogObject, type Change, type JsonObject } from './scenario-support';

jest.setTimeout(120_000);

const MASTER = 'master-1';
const SLAVES = ['gs-1', 'gs-2'];

let cluster: SyncCluster;
const geoservers = new Map<string, GeoServerStandIn>();

beforeAll(async () => {
  for (const slave of SLAVES) geoservers.set(slave, await startGeoServerStandIn());
  cluster = await SyncCluster.start(
    'geoserver',
    [
      { name: MASTER, role: 'master' },
      ...SLAVES.map((name) => ({ name, role: 'slave' as const, geoserver: { url: geoservers.get(name)!.url, credentialsSecret: `local/${name}` } })),
    ],
    'config-sync-geoserver',
    {},
    // The outage scenario sees the node retry its GeoServer after 1 s, 2 s, ... (the product's 10 s, 20 s, ...: handlers.test.ts).
    FAST_RETRY_ENV,
  );
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  for (const geoserver of geoservers.values()) await geoserver.close();
});

/**
 * The `EventsParked` count each node's apply function emitted so far (Powertools EMF lines; the
 * local runtime writes the functions' output to the harness's log file, as CloudWatch Logs
 * would receive it). The node's `-parked` alarm reads this metric.
 */
function parkedMetricByNode(): Map<string, number> {
  const logFile = path.resolve(__dirname, '..', '..', '..', '.local', 'integration-config-sync-geoserver-cluster.log');
  const counts = new Map<string, number>();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"EventsParked"') || !line.startsWith('{')) continue;
    const emf = JSON.parse(line) as { node?: string; EventsParked?: number };
    if (emf.node !== undefined && typeof emf.EventsParked === 'number') counts.set(emf.node, (counts.get(emf.node) ?? 0) + emf.EventsParked);
  }
  return counts;
}

function standIn(node: string): GeoServerStandIn {
  return geoservers.get(node)!;
}

/** A GeoServer-consistent stream: every reference names an object published before it. */
function geoServerStream(seed: number, rounds: number): Change[] {
  const random = seededRandom(seed);
  const changes: Change[] = [];
  const live = { featureTypes: [] as string[], styles: [] as string[] };
  for (let round = 0; round < rounds; round += 1) {
    const ws = `ws${round}`;
    changes.push({ kind: 'add', object: { type: 'workspace', id: ws }, properties: { name: ws, isolated: false } });
    changes.push({ kind: 'modify', object: { type: 'namespace', id: ws }, patch: { uri: `http://example.org/${ws}` } });
    changes.push({
      kind: 'add',
      object: { type: 'dataStore', id: `${ws}:pg` },
      properties: {
        name: 'pg',
        type: 'PostGIS',
        enabled: true,
        workspace: { name: ws },
        connectionParameters: { entry: [{ '@key': 'host', $: 'db.internal' }, { '@key': 'database', $: ws }, { '@key': 'dbtype', $: 'postgis' }] },
      },
    });
    const style = random() < 0.5 ? `line${round}` : `${ws}:line`;
    changes.push({
      kind: 'add',
      object: { type: 'style', id: style },
      properties: { name: style.split(':').pop()!, format: 'sld', languageVersion: { version: '1.0.0' }, body: sld(`line${round}`, 500 + Math.floor(random() * 2000), round) },
    });
    live.styles.push(style);
    for (const table of ['roads', 'rivers', 'parcels']) {
      const id = `${ws}:${table}`;
      changes.push({
        kind: 'add',
        object: { type: 'featureType', id },
        properties: { name: table, nativeName: table, title: `${table} of ${ws}`, srs: 'EPSG:4326', store: { '@class': 'dataStore', name: `${ws}:pg` } },
      });
      changes.push({
        kind: 'add',
        object: { type: 'layer', id },
        properties: { name: table, resource: { '@class': 'featureType', name: id }, defaultStyle: { name: pick(random, live.styles) }, queryable: true },
      });
      live.featureTypes.push(id);
    }
    changes.push({ kind: 'add', object: { type: 'coverageStore', id: `${ws}:dem` }, properties: { name: 'dem', type: 'GeoTIFF', enabled: true, url: `file:coverages/${ws}-dem.tif` } });
    changes.push({ kind: 'add', object: { type: 'coverage', id: `${ws}:elevation` }, properties: { name: 'elevation', nativeName: 'dem', store: { '@class': 'coverageStore', name: `${ws}:dem` } } });
    changes.push({
      kind: 'add',
      object: { type: 'layerGroup', id: `${ws}:base` },
      properties: { name: 'base', mode: 'SINGLE', workspace: { name: ws }, publishables: { published: [{ '@type': 'layer', name: `${ws}:roads` }] } },
    });
    // Modifies of what exists: the whole object goes to each GeoServer.
    for (let i = 0; i < 4; i += 1) {
      const target = pick(random, live.featureTypes);
      changes.push({ kind: 'modify', object: { type: 'featureType', id: target }, patch: { title: `title ${round}.${i}`, abstract: `abstract ${round}.${i}` } });
    }
    changes.push({ kind: 'modify', object: { type: 'style', id: style }, patch: { body: sld(`line${round}`, 800, round + 100) } });
    changes.push({ kind: 'modify', object: { type: 'global', id: 'global' }, patch: { settings: { numDecimals: round % 9, verbose: round % 2 === 0 } } });
    changes.push({ kind: 'modify', object: { type: 'service', id: 'WMS' }, patch: { maxRenderingTime: 60 + round } });
    changes.push({ kind: 'modify', object: { type: 'workspaceSettings', id: ws }, patch: { settings: { charset: 'UTF-8', numDecimals: round % 5 } } });
    changes.push({ kind: 'modify', object: { type: 'logging', id: 'logging' }, patch: { level: round % 2 ? 'PRODUCTION_LOGGING' : 'DEFAULT_LOGGING' } });
    // Removes: a layer then its feature type; every other round a whole workspace, cascading.
    const parcels = `${ws}:parcels`;
    changes.push({ kind: 'remove', object: { type: 'layer', id: parcels } });
    changes.push({ kind: 'remove', object: { type: 'featureType', id: parcels } });
    live.featureTypes = live.featureTypes.filter((id) => id !== parcels);
    if (round % 3 === 2) {
      const gone = `ws${round - 1}`;
      changes.push({ kind: 'remove', object: { type: 'workspace', id: gone }, recurse: true } as Change);
      live.featureTypes = live.featureTypes.filter((id) => !id.startsWith(`${gone}:`));
      live.styles = live.styles.filter((id) => !id.startsWith(`${gone}:`));
    }
  }
  return changes;
}

/** What the master's store holds, live objects only, by `type/id`. */
async function masterObjects(): Promise<Map<string, CatalogObject>> {
  const objects = await cluster.catalog(MASTER);
  return new Map(objects.filter((object) => !object.deleted).map((object) => [`${object.type}/${object.id}`, object]));
}

/** Every live object of the master's store is in the GeoServer as the master stated it; removed ones are gone. */
async function expectGeoServerMatchesMaster(node: string): Promise<void> {
  const geoserver = standIn(node);
  const master = await masterObjects();
  const removedWorkspaces = (await cluster.catalog(MASTER)).filter((object) => object.deleted && object.type === 'workspace').map((object) => object.id);
  for (const [key, object] of master) {
    // Cascaded away with its workspace (GeoServer's recursive DELETE): its contents, its
    // namespace and its settings.
    if (removedWorkspaces.some((ws) => object.id === ws || object.id.startsWith(`${ws}:`))) continue;
    const held = geoserver.catalog.get(object.type as never, object.id);
    const { body, ...info } = object.properties as JsonObject & { body?: string };
    expect({ node, key, held: held === undefined ? 'missing' : 'held' }).toEqual({ node, key, held: 'held' });
    if (['global', 'workspaceSettings', 'service', 'logging', 'namespace'].includes(object.type)) {
      expect({ key, held }).toMatchObject({ key, held: info });
    } else {
      const { store, resource, ...comparable } = info as Record<string, unknown>;
      expect({ key, held }).toMatchObject({ key, held: comparable });
      void store;
      void resource;
    }
    if (object.type === 'style') {
      expect(geoserver.catalog.styleBodies.get(object.id)?.bytes.toString('utf8')).toBe(body);
    }
  }
  for (const type of ['workspace', 'dataStore', 'featureType', 'coverageStore', 'coverage', 'style', 'layerGroup']) {
    for (const id of geoserver.catalog.objects[type as 'workspace'].keys()) {
      expect({ node, extra: `${type}/${id}`, inMaster: master.has(`${type}/${id}`) }).toEqual({ node, extra: `${type}/${id}`, inMaster: true });
    }
  }
  expect(geoserver.violations).toEqual([]);
}

test('a long mixed stream converges every GeoServer’s catalog to the master’s store', async () => {
  const changes = geoServerStream(20261201, 14);
  expect(changes.length).toBeGreaterThan(300);
  // Published one at a time: a GeoServer master publishes in the order its catalog changed.
  for (const change of changes) await cluster.publish(MASTER, change);
  const converged = await cluster.waitConverged(undefined, 100_000);
  for (const slave of SLAVES) {
    const node = converged.nodes.find((candidate) => candidate.name === slave) as unknown as Record<string, any>;
    expect(node).toMatchObject({ deadLetterDepth: 0, geoserver: { url: standIn(slave).url, reachable: true, version: '2.26.2', rejected: [] } });
  }
  for (const slave of SLAVES) await expectGeoServerMatchesMaster(slave);
}, 150_000);

test('a GeoServer that refuses connections, then answers 503, then recovers catches up in order with nothing dead-lettered', async () => {
  const node = 'gs-1';
  const geoserver = standIn(node);
  await geoserver.setDown('refuse');
  const names = Array.from({ length: 12 }, (_, i) => `outage${i}`);
  for (const name of names.slice(0, 6)) await cluster.publish(MASTER, { kind: 'add', object: { type: 'workspace', id: name }, properties: { name } });
  const refused = await cluster.waitForNodes(`${node} reports its GeoServer unreachable`, (answer) => {
    const status = answer.nodes.find((candidate) => candidate.name === node) as unknown as Record<string, any>;
    return status.geoserver?.reachable === false && status.geoserver?.lastError?.status === null;
  });
  const during = refused.nodes.find((candidate) => candidate.name === node)!;
  expect(during.lastAppliedSequence).toBeLessThan(cluster.expected.head);
  await geoserver.setDown('503');
  for (const name of names.slice(6)) await cluster.publish(MASTER, { kind: 'add', object: { type: 'workspace', id: name }, properties: { name } });
  await cluster.waitForNodes(`${node} reports its GeoServer answering 503`, (answer) => {
    const status = answer.nodes.find((candidate) => candidate.name === node) as unknown as Record<string, any>;
    return status.geoserver?.lastError?.status === 503;
  });
  // The other GeoServer node is not held up.
  await cluster.waitConverged([MASTER, 'gs-2']);
  const before = geoserver.requests.length;
  await geoserver.setDown(null);
  const converged = await cluster.waitConverged(undefined, 90_000);
  const status = converged.nodes.find((candidate) => candidate.name === node) as unknown as Record<string, any>;
  expect(status).toMatchObject({ deadLetterDepth: 0, geoserver: { reachable: true } });
  // In publish order: the workspaces were created one after the other.
  const created = geoserver.requests
    .slice(before)
    .filter((request) => request.method === 'POST' && request.path === '/geoserver/rest/workspaces' && request.status === 201);
  expect(created).toHaveLength(names.length);
  expect([...geoserver.catalog.objects.workspace.keys()].filter((name) => name.startsWith('outage'))).toEqual(names);
  expect(geoserver.violations).toEqual([]);
}, 150_000);

test('a change one GeoServer refuses is parked on that node with GeoServer’s answer, the rest apply, and a redrive after the fix applies it', async () => {
  const refusing = standIn('gs-2');
  await cluster.publish(MASTER, { kind: 'add', object: { type: 'workspace', id: 'refusal' }, properties: { name: 'refusal' } });
  await cluster.waitConverged();
  const parkedBefore = parkedMetricByNode();
  // GeoServer refuses the store (its connection parameters, say) every time it is sent.
  for (let i = 0; i < 3; i += 1) {
    refusing.rejectNext((request) => request.method === 'POST' && request.path.endsWith('/workspaces/refusal/datastores'), 400, 'Could not connect to database: bad host');
  }
  const bad = await cluster.publish(MASTER, {
    kind: 'add',
    object: { type: 'dataStore', id: 'refusal:pg' },
    properties: { name: 'pg', type: 'PostGIS', connectionParameters: { entry: [{ '@key': 'host', $: 'db.internal' }] } },
  });
  const later = await cluster.publish(MASTER, { kind: 'modify', object: { type: 'dataStore', id: 'refusal:pg' }, patch: { description: 'v2' } });
  await cluster.publish(MASTER, { kind: 'add', object: { type: 'workspace', id: 'after_refusal' }, properties: { name: 'after_refusal' } });
  const converged = await cluster.waitForNodes('the refusal is parked and every node is current', (answer) =>
    answer.nodes.every((node) => node.lastAppliedSequence === cluster.expected.head && (node.queueDepth ?? 0) === 0) &&
    ((answer.nodes.find((node) => node.name === 'gs-2') as unknown as Record<string, any>).parked?.length ?? 0) === 1,
  );
  const gs2 = converged.nodes.find((node) => node.name === 'gs-2') as unknown as Record<string, any>;
  expect(gs2.parked).toEqual([
    expect.objectContaining({
      object: { type: 'dataStore', id: 'refusal:pg' },
      sequences: [bad.sequence, later.sequence],
      reason: expect.stringContaining('Could not connect to database: bad host'),
    }),
  ]);
  expect(gs2.geoserver.rejected[0]).toMatchObject({
    sequence: bad.sequence,
    type: 'dataStore',
    id: 'refusal:pg',
    request: 'POST /workspaces/refusal/datastores',
    status: 400,
    answer: 'Could not connect to database: bad host',
  });
  expect(gs2.geoserver.lastError).toMatchObject({ status: 400, sequence: bad.sequence });
  // Counted for the node's -parked alarm: both held-back events on gs-2, none on gs-1.
  let parkedSince: Record<string, number> = {};
  for (let waited = 0; waited <= 5000 && parkedSince['gs-2'] !== 2; waited += 100) {
    if (waited > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    const now = parkedMetricByNode();
    parkedSince = Object.fromEntries(SLAVES.map((node) => [node, (now.get(node) ?? 0) - (parkedBefore.get(node) ?? 0)]));
  }
  expect(parkedSince).toEqual({ 'gs-1': 0, 'gs-2': 2 });
  // Nothing dead-lettered anywhere; the other GeoServer node took it all.
  for (const node of converged.nodes) if (node.role !== 'master') expect(node.deadLetterDepth).toBe(0);
  expect((converged.nodes.find((node) => node.name === 'gs-1') as unknown as Record<string, any>).parked).toEqual([]);
  expect(refusing.catalog.get('workspace', 'after_refusal')).toBeDefined();
  expect(refusing.catalog.get('dataStore', 'refusal:pg')).toBeUndefined();
  expect(standIn('gs-1').catalog.get('dataStore', 'refusal:pg')).toMatchObject({ name: 'pg', type: 'PostGIS', description: 'v2' });

  // The cause is fixed (the stand-in no longer refuses): a redrive has gs-2's apply function
  // apply the parked events to its GeoServer, in order.
  const redrive = await cluster.api('POST', '/nodes/gs-2/redrive', { node: 'gs-2' });
  expect(redrive.status).toBe(202);
  expect(redrive.body).toMatchObject({ node: 'gs-2', parked: { retriedBy: 'apply function' } });
  await cluster.waitForNodes('gs-2 cleared its parked events', (answer) => {
    const node = answer.nodes.find((candidate) => candidate.name === 'gs-2') as unknown as Record<string, any>;
    return node.parked.length === 0 && (node.queueDepth ?? 0) === 0;
  });
  expect(refusing.catalog.get('dataStore', 'refusal:pg')).toMatchObject({ name: 'pg', type: 'PostGIS', description: 'v2' });
  expect((await cluster.objectOf('gs-2', 'dataStore', 'refusal:pg')).body).toMatchObject({ lastSequence: later.sequence, properties: { description: 'v2' } });
  expect(refusing.violations).toEqual([]);
}, 120_000);

test('a parked remove with recurse is not redriven over what its node applied after it: the record stays, naming them, and the GeoServer keeps them', async () => {
  const refusing = standIn('gs-2');
  const store = (name: string): Change => ({
    kind: 'add',
    object: { type: 'dataStore', id: `recursed:${name}` },
    properties: { name, type: 'PostGIS', connectionParameters: { entry: [{ '@key': 'host', $: 'db.internal' }] } },
  });
  await cluster.publish(MASTER, { kind: 'add', object: { type: 'workspace', id: 'recursed' }, properties: { name: 'recursed' } });
  await cluster.publish(MASTER, store('old'));
  await cluster.waitConverged();
  // gs-2's GeoServer refuses the recursive delete (a group elsewhere keeps one of its layers as its root layer, say).
  for (let i = 0; i < 3; i += 1) {
    refusing.rejectNext(
      (request) => request.method === 'DELETE' && request.path.endsWith('/workspaces/recursed'),
      500,
      "Unable to delete layer referenced by layer group 'overview'",
    );
  }
  const removal = await cluster.publish(MASTER, { kind: 'remove', object: { type: 'workspace', id: 'recursed' }, recurse: true } as Change);
  const readded = await cluster.publish(MASTER, { kind: 'add', object: { type: 'workspace', id: 'recursed' }, properties: { name: 'recursed' } });
  // Another object: it flows on gs-2, into the workspace its GeoServer still holds.
  await cluster.publish(MASTER, store('fresh'));
  const gs2 = (answer: Awaited<ReturnType<SyncCluster['waitForNodes']>>) => answer.nodes.find((node) => node.name === 'gs-2') as unknown as Record<string, any>;
  await cluster.waitForNodes('the recursive removal is parked on gs-2 and every node is current', (answer) =>
    answer.nodes.every((node) => node.lastAppliedSequence === cluster.expected.head && (node.queueDepth ?? 0) === 0) && (gs2(answer).parked?.length ?? 0) === 1,
  );
  expect(refusing.catalog.get('dataStore', 'recursed:fresh')).toBeDefined();
  expect(standIn('gs-1').catalog.get('dataStore', 'recursed:fresh')).toBeDefined();
  expect(standIn('gs-1').catalog.get('dataStore', 'recursed:old')).toBeUndefined();

  // The redrive would delete the workspace with everything in it, the store applied after the
  // removal too, and then add the workspace again empty: gs-2's GeoServer would lack a store its
  // node's store (and the master) holds. So the removal stays parked and says why.
  const redrive = await cluster.api('POST', '/nodes/gs-2/redrive', { node: 'gs-2' });
  expect(redrive.status).toBe(202);
  const after = await cluster.waitForNodes(
    'the redrive ran on gs-2',
    (answer) => (gs2(answer).parked?.length ?? 0) === 0 || String(gs2(answer).parked[0].reason).includes('applied after it'),
  );
  expect(refusing.catalog.get('dataStore', 'recursed:fresh')).toBeDefined();
  expect(gs2(after).parked).toEqual([
    expect.objectContaining({
      object: { type: 'workspace', id: 'recursed' },
      sequences: [removal.sequence, readded.sequence],
      reason: expect.stringMatching(/dataStore recursed:fresh.*resync/),
    }),
  ]);
  expect((await cluster.objectOf('gs-2', 'dataStore', 'recursed:fresh')).body).toMatchObject({ deleted: false });
  expect(refusing.violations).toEqual([]);
}, 120_000);

test('a 300 KiB style reaches every GeoServer as the same bytes', async () => {
  const body = sld('big_landuse', 300 * 1024, 7);
  const add = await cluster.publish(MASTER, {
    kind: 'add',
    object: { type: 'style', id: 'big_landuse' },
    properties: { name: 'big_landuse', format: 'sld', languageVersion: { version: '1.0.0' }, body },
  });
  expect(add.event.bodyRef).toEqual(expect.any(String));
  await cluster.waitConverged();
  for (const slave of SLAVES) {
    const held = standIn(slave).catalog.styleBodies.get('big_landuse');
    expect(held).toMatchObject({ contentType: 'application/vnd.ogc.sld+xml', raw: true });
    expect(held!.bytes.equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(standIn(slave).violations).toEqual([]);
  }
});


test('a change set listing a layer group before a layer it holds is refused (400 naming both changes), nothing stored; in dependency order every GeoServer holds the group whole', async () => {
  const ws = 'ordered';
  const roadsEntry = { '@type': 'layer', name: `${ws}:roads` };
  const riversEntry = { '@type': 'layer', name: `${ws}:rivers` };
  const resource = (name: string): Change[] => [
    { kind: 'add', object: { type: 'featureType', id: `${ws}:${name}` }, properties: { name, nativeName: name, store: { '@class': 'dataStore', name: `${ws}:pg` } } },
    { kind: 'add', object: { type: 'layer', id: `${ws}:${name}` }, properties: { name, resource: { '@class': 'featureType', name: `${ws}:${name}` } } },
  ];
  const group: Change = { kind: 'add', object: { type: 'layerGroup', id: `${ws}:overview` }, properties: { name: 'overview', mode: 'SINGLE', publishables: { published: [roadsEntry, riversEntry] } } };
  const base: Change[] = [
    { kind: 'add', object: { type: 'workspace', id: ws }, properties: { name: ws } },
    { kind: 'add', object: { type: 'dataStore', id: `${ws}:pg` }, properties: { name: 'pg', type: 'PostGIS', workspace: { name: ws } } },
    ...resource('roads'),
  ];
  const before = (await cluster.status()).head;
  const refused = await cluster.api('POST', '/config/events', { node: MASTER, json: { changes: [...base, group, ...resource('rivers')] } as never });
  expect(refused.status).toBe(400);
  expect(refused.text).toContain('changes[4].properties.publishables');
  expect(refused.text).toContain(`names layer ${ws}:rivers, which changes[6] adds later in this change set`);
  expect((await cluster.status()).head).toBe(before);

  const ordered = [...base, ...resource('rivers'), group];
  const taken = await cluster.api('POST', '/config/events', { node: MASTER, json: { changes: ordered } as never });
  expect(taken.status).toBe(201);
  const answer = taken.body as unknown as { firstSequence: number; origin: string; publishedAt: string };
  ordered.forEach((change, index) => {
    const sequence = answer.firstSequence + index;
    cluster.expected.record(change, { sequence, event: { sequence, origin: answer.origin, publishedAt: answer.publishedAt, cluster: cluster.name }, published: true, appliedLocally: false } as never);
  });
  await cluster.waitConverged();
  for (const slave of SLAVES) {
    expect(JSON.stringify(standIn(slave).catalog.objects.layerGroup.get(`${ws}:overview`)?.publishables)).toMatch(/roads.*rivers/);
  }
});
