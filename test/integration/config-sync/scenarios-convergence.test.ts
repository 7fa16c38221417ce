/**
 * Configuration sync end to end, over real HTTP and the emulators: one master and three slaves
 * converge to identical stores (and to the store the log describes) after a mixed stream of
 * 500 events; a pure slave cannot publish; a 300 KiB style reaches every slave intact.
 *
 * This file starts its own local cluster of that shape (through `npm start`'s entry point).
 */
import { asPublished, ChangeStream, sld, SyncCluster, comparable, type Change } from './scenario-support';

jest.setTimeout(60_000);

const MASTER = 'master-1';
const SLAVES = ['slave-1', 'slave-2', 'slave-3'];

let cluster: SyncCluster;

beforeAll(async () => {
  cluster = await SyncCluster.start(
    'convergence',
    [{ name: MASTER, role: 'master' }, ...SLAVES.map((name) => ({ name, role: 'slave' as const }))],
    'config-sync-convergence',
  );
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

/** Every node's whole store equals the master's, and both equal the model of the log. */
async function expectIdenticalStores(): Promise<void> {
  const expected = cluster.expectedCatalog();
  const master = await cluster.catalog(MASTER);
  expect(master.map(comparable)).toEqual(expected);
  for (const slave of SLAVES) {
    const store = await cluster.catalog(slave);
    // Identical to the master's, field for field (tombstones included).
    expect({ node: slave, objects: store }).toEqual({ node: slave, objects: master });
  }
}

test('one master and three slaves converge to identical stores after a mixed sequence of 500 events', async () => {
  const changes = new ChangeStream(20240917, { largeStyles: 2 }).take(500);
  // The stream really is mixed: every kind, styles, configuration, references.
  const kinds = new Set(changes.map((change) => change.kind));
  expect([...kinds].sort()).toEqual(['add', 'modify', 'remove']);
  const types = new Set(changes.map((change) => change.object.type));
  for (const type of ['workspace', 'dataStore', 'featureType', 'layer', 'layerGroup', 'style', 'service', 'global']) {
    expect(types).toContain(type);
  }

  const started = Date.now();
  const answers = await cluster.publishAll(MASTER, changes, 8);
  const published = Date.now();

  // Every accepted change got its own sequence, with no gap, and was published. The pure
  // master's own store gets every event through the master-stores queue, after the answers
  // (appliedLocally false), which the convergence below waits for (no schedule runs here).
  const sequences = answers.map((answer) => answer.sequence).sort((a, b) => a - b);
  expect(sequences).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
  expect(answers.every((answer) => answer.published && answer.event.origin === MASTER)).toBe(true);
  expect(answers.filter((answer) => answer.appliedLocally)).toEqual([]);
  // At least one large style went through the body store.
  expect(answers.filter((answer) => typeof answer.event.bodyRef === 'string').length).toBeGreaterThanOrEqual(1);

  const converged = await cluster.waitConverged(undefined, 150_000);
  expect(converged.head).toBe(500);
  for (const node of converged.nodes) {
    expect(node).toMatchObject({ lastAppliedSequence: 500, lag: 0 });
    if (node.role === 'slave') expect(node).toMatchObject({ queueDepth: 0, deadLetterDepth: 0 });
  }
  console.info(`500 events: published in ${published - started} ms, applied everywhere after ${Date.now() - started} ms`);

  await expectIdenticalStores();
  const expected = cluster.expected.objects();
  // The mix left live objects, tombstones and incomplete objects behind.
  const values = [...expected.values()];
  expect(values.filter((object) => object.deleted).length).toBeGreaterThan(5);
  expect(values.filter((object) => !object.deleted && object.incomplete).length).toBeGreaterThan(0);
  expect(values.filter((object) => !object.deleted).length).toBeGreaterThan(50);
}, 240_000);

test("a pure slave's publish is refused and nothing moves", async () => {
  const before = await cluster.status();
  const stores = await Promise.all(SLAVES.map((slave) => cluster.catalog(slave)));
  const change: Change = { kind: 'add', object: { type: 'workspace', id: 'from_a_slave' }, properties: { name: 'from_a_slave' } };

  for (const slave of SLAVES) {
    const refused = await cluster.api('POST', '/config/events', { node: slave, json: asPublished(change) });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'PURE_SLAVE' });
    expect(refused.body.message).toContain('pure slave');
  }
  // Also when the body is not even a valid change: the role is checked first.
  const invalid = await cluster.api('POST', '/config/events', { node: 'slave-1', invalidJson: { kind: 'rename' } });
  expect(invalid.status).toBe(403);
  expect(invalid.body.code).toBe('PURE_SLAVE');

  // The head did not move and no node has the object, not even after a while.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = await cluster.status();
  expect(after.head).toBe(before.head);
  expect(after.nodes.map((node) => node.lastAppliedSequence)).toEqual(before.nodes.map((node) => node.lastAppliedSequence));
  for (const node of [MASTER, ...SLAVES]) {
    expect((await cluster.objectOf(node, 'workspace', 'from_a_slave')).status).toBe(404);
  }
  expect(await Promise.all(SLAVES.map((slave) => cluster.catalog(slave)))).toEqual(stores);

  // The master can publish the same change.
  const accepted = await cluster.publish(MASTER, change);
  expect(accepted.sequence).toBe(before.head + 1);
  await cluster.waitConverged();
  for (const slave of SLAVES) expect((await cluster.objectOf(slave, 'workspace', 'from_a_slave')).status).toBe(200);
});

test('a 300 KiB style syncs to every slave intact', async () => {
  const body = sld('big_landuse', 300 * 1024, 1);
  expect(Buffer.byteLength(body)).toBeGreaterThanOrEqual(300 * 1024);
  const id = 'topp:big_landuse';
  const add = await cluster.publish(MASTER, {
    kind: 'add',
    object: { type: 'style', id },
    properties: { name: 'big_landuse', format: 'sld', languageVersion: { version: '1.0.0' }, filename: 'big_landuse.sld', body },
  });
  expect(add).toMatchObject({ published: true, appliedLocally: false });
  // Too large for SNS: the message carries a reference to the body store.
  expect(add.event.bodyRef).toEqual(expect.any(String));
  expect(JSON.stringify(add.event).length).toBeLessThan(10_000);

  await cluster.waitConverged();
  for (const node of [MASTER, ...SLAVES]) {
    const stored = await cluster.objectOf(node, 'style', id);
    expect(stored.status).toBe(200);
    expect(stored.body.properties.body === body).toBe(true);
    expect(stored.body).toMatchObject({ type: 'style', id, lastSequence: add.sequence, lastOrigin: MASTER, deleted: false });
    expect(stored.body.properties).toEqual({ name: 'big_landuse', format: 'sld', languageVersion: { version: '1.0.0' }, filename: 'big_landuse.sld', body });
  }

  // Replacing the document with another large one (a modify) reaches every slave too.
  const body2 = sld('big_landuse', 310 * 1024, 2);
  const modify = await cluster.publish(MASTER, { kind: 'modify', object: { type: 'style', id }, patch: { body: body2 } });
  expect(modify.event.bodyRef).toEqual(expect.any(String));
  await cluster.waitConverged();
  for (const node of [MASTER, ...SLAVES]) {
    const stored = await cluster.objectOf(node, 'style', id);
    expect(stored.status).toBe(200);
    expect(stored.body.properties.body === body2).toBe(true);
    // A patch without filename keeps it (one removing it is refused: GeoServer holds no style without one).
    expect(stored.body.properties.filename).toBe('big_landuse.sld');
    expect(stored.body.lastSequence).toBe(modify.sequence);
  }
  await expectIdenticalStores();
});
