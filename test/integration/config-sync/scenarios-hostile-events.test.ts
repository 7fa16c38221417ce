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
});
