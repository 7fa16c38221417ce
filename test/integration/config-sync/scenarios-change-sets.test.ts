/**
 * Change sets end to end, over real HTTP and the emulators (DynamoDB Local, fauxqs): two
 * masters (a pure master and a `both` node) publish interleaved change sets of mixed changes
 * at the same time; every set is one contiguous range, the ranges tile the log with no gap or
 * overlap, and every node's store ends equal to the model of the log in sequence order (the
 * last writer in sequence order wins on objects both masters change). A change set with one bad
 * item writes nothing.
 *
 * This file starts its own local cluster of that shape (through `npm start`'s entry point).
 */
import { seededRandom } from '../../support/random';
import { asPublished, ChangeStream, SyncCluster, comparable, type Change, type PublishAnswer } from './scenario-support';

jest.setTimeout(60_000);

const MASTERS = ['master-1', 'both-1'];
const SLAVES = ['slave-1', 'slave-2'];

let cluster: SyncCluster;

beforeAll(async () => {
  cluster = await SyncCluster.start(
    'sets',
    [
      { name: 'master-1', role: 'master' },
      { name: 'both-1', role: 'both' },
      ...SLAVES.map((name) => ({ name, role: 'slave' as const })),
    ],
    'config-sync-change-sets',
  );
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

interface SetAnswer {
  firstSequence: number;
  lastSequence: number;
  count: number;
  origin: string;
  publishedAt: string;
  published: boolean;
  appliedLocally: boolean;
}

/** Publishes a change set from `node` (201 expected) and records each of its events in the model. */
async function publishSet(node: string, changes: readonly Change[]): Promise<SetAnswer> {
  const response = await cluster.api('POST', '/config/events', { node, json: asPublished({ changes }) });
  if (response.status !== 201) throw new Error(`change set from ${node}: ${response.status} ${response.text.slice(0, 500)}`);
  const answer = response.body;
  // A both-node's request applies its set when its store is right before it; otherwise its
  // queue brings the set after the other master's events. A pure master's store gets its sets,
  // like the other master's, from the master-stores queue (the convergence below waits for both).
  expect(answer).toMatchObject({ count: changes.length, lastSequence: answer.firstSequence + changes.length - 1, origin: node, published: true });
  if (node !== 'both-1') expect(answer.appliedLocally).toBe(false);
  changes.forEach((change, index) => {
    const sequence = answer.firstSequence + index;
    const recorded: PublishAnswer = {
      sequence,
      event: { sequence, origin: answer.origin, publishedAt: answer.publishedAt, cluster: cluster.name },
      published: true,
      appliedLocally: answer.appliedLocally,
    };
    cluster.expected.record(change, recorded);
  });
  return answer;
}

test('change sets from two masters, interleaved, converge every node to the log read in sequence order', async () => {
  // One stream of plausible changes (objects referenced before they are removed, styles, settings),
  // cut into sets of 1 to 40 and dealt to the two masters, which then send theirs concurrently.
  const changes = new ChangeStream(20261201, { largeStyles: 1 }).take(360);
  const random = seededRandom(7);
  const sets: Change[][][] = [[], []];
  for (let start = 0, turn = 0; start < changes.length; turn += 1) {
    const size = 1 + Math.floor(random() * 40);
    (sets[turn % 2] as Change[][]).push(changes.slice(start, start + size));
    start += size;
  }
  const answers = await Promise.all(
    MASTERS.map(async (node, index) => {
      const mine: SetAnswer[] = [];
      for (const set of sets[index] as Change[][]) mine.push(await publishSet(node, set));
      // The single-change form still works in between.
      const single = await cluster.publish(node, { kind: 'modify', object: { type: 'global', id: 'global' }, patch: { settings: { lastFrom: node } } });
      expect(single.sequence).toBeGreaterThan(0);
      return mine;
    }),
  );

  // Both masters' sets are in the log, interleaved, each one contiguous range.
  const ranges = answers.flat().sort((a, b) => a.firstSequence - b.firstSequence);
  const origins = ranges.map((range) => range.origin);
  expect(origins.some((origin, index) => index > 0 && origin !== origins[index - 1])).toBe(true);
  // The model throws on a sequence given twice and on a gap: the ranges and singles tile 1..head.
  const expected = cluster.expectedCatalog();
  expect(cluster.expected.head).toBe(changes.length + 2);

  // The other master's events reach the pure master's store through the master-stores queue
  // (no schedule runs here; the consuming nodes have theirs from their own queues).
  const converged = await cluster.waitConverged(undefined, 120_000);
  expect(converged.head).toBe(changes.length + 2);
  for (const node of converged.nodes) {
    expect(node).toMatchObject({ lastAppliedSequence: changes.length + 2, lag: 0 });
    if (node.role !== 'master') expect(node).toMatchObject({ queueDepth: 0, deadLetterDepth: 0 });
  }
  const reference = await cluster.catalog('master-1');
  expect(reference.map(comparable)).toEqual(expected);
  for (const node of ['both-1', ...SLAVES]) {
    expect({ node, objects: await cluster.catalog(node) }).toEqual({ node, objects: reference });
  }
  // The global settings were modified by both masters: the later sequence won everywhere.
  const global = reference.find((object) => object.type === 'global');
  const lastGlobal = Math.max(...[...cluster.expected.objects().values()].filter((o) => o.type === 'global').map((o) => o.lastSequence));
  expect(global?.lastSequence).toBe(lastGlobal);
}, 300_000);

test('a change set with one bad item is refused whole (400 naming the item) and nothing moves', async () => {
  const before = await cluster.status();
  const response = await cluster.api('POST', '/config/events', {
    node: 'master-1',
    json: {
      changes: [
        { kind: 'add', object: { type: 'workspace', id: 'fine' }, properties: { name: 'fine' } },
        { kind: 'add', object: { type: 'workspace', id: 'wrong' }, properties: { name: 'not-wrong' } },
      ],
    },
  });
  expect(response.status).toBe(400);
  expect(response.body.field).toMatch(/^changes\[1\]\./);
  expect((await cluster.objectOf('master-1', 'workspace', 'fine')).status).toBe(404);
  expect((await cluster.status()).head).toBe(before.head);
});
