/**
 * Events a master may publish (each passes POST /config/events' validation) that are hard to
 * apply, end to end over real HTTP: every consuming node, with and without a GeoServer (a
 * stand-in), and the pure master's store (the master-stores queue) either applies each one or
 * parks it and goes on with later events; none stops.
 *
 * This file starts its own local cluster (through `npm start`'s entry point): a pure master, a
 * slave, and a slave with its own stand-in GeoServer.
 */
import { startGeoServerStandIn, type GeoServerStandIn } from '../../support/geoserver-standin';
import { FAST_RETRY_ENV, SyncCluster, type NodesAnswer } from './scenario-support';

jest.setTimeout(180_000);

const MASTER = 'master-1';
const SLAVE = 'slave-1';
const GEOSERVER_SLAVE = 'gs-1';
const NODES = [MASTER, SLAVE, GEOSERVER_SLAVE];

let cluster: SyncCluster;
let geoserver: GeoServerStandIn;

beforeAll(async () => {
  geoserver = await startGeoServerStandIn();
  cluster = await SyncCluster.start(
    'hostile',
    [
      { name: MASTER, role: 'master' },
      { name: SLAVE, role: 'slave' },
      { name: GEOSERVER_SLAVE, role: 'slave', geoserver: { url: geoserver.url, credentialsSecret: `local/${GEOSERVER_SLAVE}` } },
    ],
    'config-sync-hostile',
    {},
    FAST_RETRY_ENV,
  );
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  await geoserver?.close();
});

interface ParkedStatus {
  name: string;
  lastAppliedSequence: number;
  parked?: { object?: { type: string; id: string }; sequences: number[]; reason: string }[];
}

function statusOf(answer: NodesAnswer, node: string): ParkedStatus {
  return answer.nodes.find((candidate) => candidate.name === node) as unknown as ParkedStatus;
}

test('patches that each pass publish but together grow an object past the properties limit are parked on every node, which goes on', async () => {
  const big = { type: 'workspace', id: 'grown' };
  const later = { type: 'workspace', id: 'after-grown' };
  // Each patch is about 600 KB of JSON, under the 1 MiB limit of one change; the second adds a
  // new key, so the object it would make is about 1.2 MB.
  const note = (letter: string) => letter.repeat(600_000);
  await cluster.publish(MASTER, { kind: 'add', object: big, properties: { name: big.id } });
  await cluster.publish(MASTER, { kind: 'modify', object: big, patch: { noteA: note('a') } });
  const grow = await cluster.publish(MASTER, { kind: 'modify', object: big, patch: { noteB: note('b') } });
  const after = await cluster.publish(MASTER, { kind: 'add', object: later, properties: { name: later.id } });

  const settled = await cluster.waitForNodes(
    'every node parked the growing patch and applied the later event',
    (answer) =>
      answer.head === after.sequence &&
      NODES.every((node) => {
        const status = statusOf(answer, node);
        return status.lastAppliedSequence === answer.head && (status.parked ?? []).length === 1;
      }),
    120_000,
  );
  for (const node of NODES) {
    expect({ node, parked: statusOf(settled, node).parked }).toEqual({
      node,
      parked: [expect.objectContaining({ object: big, sequences: [grow.sequence], reason: expect.stringContaining('over the limit of 1048576') })],
    });
    // The object stays as the patches under the limit left it, and the later event is applied.
    const kept = await cluster.objectOf(node, big.type, big.id);
    expect(kept.status).toBe(200);
    expect(kept.body.properties).toEqual({ name: big.id, noteA: note('a') });
    expect((await cluster.objectOf(node, later.type, later.id)).status).toBe(200);
  }

  // Parked on every node, cleared by no redrive, it blocks no resync: the source's record comes
  // with its snapshot, and the node ends as every node stands, the patch parked there too.
  for (const target of [SLAVE, GEOSERVER_SLAVE]) {
    const resync = await cluster.api('POST', `/nodes/${target}/resync`, { node: MASTER, json: { source: MASTER } });
    expect(resync.status).toBe(202);
    const job = await cluster.jobEnded(target, resync.body.job!.id, 120_000);
    expect({ target, state: job.state, error: job.error ?? null }).toEqual({ target, state: 'succeeded', error: null });
    const status = statusOf(await cluster.status(), target);
    expect({ target, parked: status.parked }).toEqual({
      target,
      parked: [expect.objectContaining({ object: big, sequences: [grow.sequence], reason: expect.stringContaining('over the limit of 1048576') })],
    });
    expect((await cluster.objectOf(target, big.type, big.id)).body.properties).toEqual({ name: big.id, noteA: note('a') });
  }
});

test('the largest, deepest, busiest and oddest events a master may publish are applied or parked on every node, none stopping', async () => {
  const publishSet = async (changes: readonly unknown[]) => {
    const response = await cluster.api('POST', '/config/events', { node: MASTER, json: { changes } as never });
    expect({ status: response.status, text: response.status === 201 ? '' : response.text }).toEqual({ status: 201, text: '' });
    return response.body as unknown as { lastSequence: number };
  };
  let deep: Record<string, unknown> = { leaf: 1 };
  // 64 levels with the properties around it: the limit.
  for (let level = 1; level < 63; level += 1) deep = { inner: deep };
  const ws = (id: string, properties: Record<string, unknown> = {}) => ({ kind: 'add', object: { type: 'workspace', id }, properties: { name: id, ...properties } });
  // At the limits of one change: about 1 MiB (offloaded to the body store), 64 levels deep, an
  // id of 512 bytes in two-byte characters, keys an object's prototype would take.
  await publishSet([ws('huge', { note: 'h'.repeat(1_000_000) })]);
  await publishSet([ws('deep', { deep })]);
  await publishSet([ws('ж'.repeat(256))]);
  await publishSet([ws('proto'), { kind: 'modify', object: { type: 'workspace', id: 'proto' }, patch: JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}') }]);
  // A thousand changes of one object in one set; a modify of an object never added.
  await publishSet([ws('busy'), ...Array.from({ length: 999 }, (_, index) => ({ kind: 'modify', object: { type: 'workspace', id: 'busy' }, patch: { counter: index } }))]);
  await publishSet([{ kind: 'modify', object: { type: 'workspace', id: 'ghost' }, patch: { isolated: true } }]);
  // Layer groups holding each other (A holds B, B holds A).
  await publishSet([ws('cyc')]);
  const group = (name: string, other: string) => ({
    kind: 'add',
    object: { type: 'layerGroup', id: `cyc:${name}` },
    properties: { name, mode: 'SINGLE', publishables: { published: [{ '@type': 'layerGroup', name: `cyc:${other}` }] } },
  });
  await publishSet([group('a', 'b')]);
  await publishSet([group('b', 'a')]);
  // A workspace holding hundreds of stores, removed with recurse.
  await publishSet([ws('mass'), ...Array.from({ length: 300 }, (_, index) => ({ kind: 'add', object: { type: 'dataStore', id: `mass:ds${index}` }, properties: { name: `ds${index}`, type: 'Directory of spatial files (shapefiles)', enabled: true } }))]);
  const last = await publishSet([{ kind: 'remove', object: { type: 'workspace', id: 'mass' }, recurse: true }, ws('after-all')]);

  const settled = await cluster.waitForNodes(
    'every node reached the head',
    (answer) => answer.head === last.lastSequence && NODES.every((node) => statusOf(answer, node).lastAppliedSequence === answer.head),
    170_000,
  );
  for (const node of NODES) {
    const status = statusOf(settled, node) as ParkedStatus & { failing: unknown; deadLetterDepth: number | null };
    // Only the GeoServer node parks anything: what its GeoServer refuses (a group naming a group
    // it does not hold, a change of a workspace it never got), each with GeoServer's answer.
    const parked = (status.parked ?? [])
      .filter((record) => record.object?.id !== 'grown') // the test above parked it
      .map((record) => ({ object: record.object, sequences: record.sequences.length, reason: record.reason }));
    const refused = (id: string, type = 'layerGroup') => ({ object: { type, id }, sequences: 1, reason: expect.stringContaining('GeoServerRejectedError') });
    expect({ node, parked }).toEqual({ node, parked: node === GEOSERVER_SLAVE ? [refused('cyc:a'), refused('cyc:b'), refused('ghost', 'workspace')] : [] });
    expect({ node, failing: status.failing, deadLetters: status.deadLetterDepth ?? 0 }).toEqual({ node, failing: null, deadLetters: 0 });
    expect((await cluster.objectOf(node, 'workspace', 'after-all')).status).toBe(200);
    expect((await cluster.objectOf(node, 'workspace', 'busy')).body.properties).toEqual({ name: 'busy', counter: 998 });
  }
});
