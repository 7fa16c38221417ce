/**
 * Configuration sync end to end, over real HTTP and the emulators, when delivery is not
 * ideal: a slave that is down and comes back, duplicated and reordered deliveries, a poison
 * message, a node's own events, a node that joins later and bootstraps.
 *
 * This file starts its own local cluster (through `npm start`'s entry point): a pure master,
 * a `both` node and four slaves, each scenario disturbing its own node. A node "is down" when
 * its queue poller (the local stand-in for the Lambda event source) is paused. Messages are
 * injected straight into a node's SQS FIFO queue on the emulator with the AWS SDK.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { ChangeStream, comparable, sleep, SyncCluster, type Change, type PublishAnswer } from './scenario-support';

jest.setTimeout(120_000);

const MASTER = 'master-1';
const BOTH = 'both-1';
const CLUSTER = 'delivery';
/** Joins "later": down from the start, bootstrapped by the last scenario. */
const NEW_NODE = 'slave-4';

let cluster: SyncCluster;

beforeAll(async () => {
  cluster = await SyncCluster.start(
    CLUSTER,
    [
      { name: MASTER, role: 'master' },
      { name: BOTH, role: 'both' },
      { name: 'slave-1', role: 'slave' },
      { name: 'slave-2', role: 'slave' },
      { name: 'slave-3', role: 'slave' },
      { name: NEW_NODE, role: 'slave' },
    ],
    'config-sync-delivery',
  );
  await cluster.pause(NEW_NODE);
  // A common starting configuration.
  await cluster.publishAll(MASTER, new ChangeStream(42).take(40), 4);
  await cluster.waitConverged();
}, 180_000);

afterEach(async () => {
  // A scenario that failed half-way must not leave its node down for the next ones.
  for (const node of [...(cluster?.paused ?? [])]) if (node !== NEW_NODE) await cluster.resume(node);
});

afterAll(async () => {
  await cluster?.stop();
});

/** `node`'s whole store equals the master's and the model of the log. */
async function expectSameStore(node: string): Promise<void> {
  const expected = cluster.expectedCatalog();
  const master = await cluster.catalog(MASTER);
  expect(master.map(comparable)).toEqual(expected);
  const store = await cluster.catalog(node);
  expect({ node, objects: store }).toEqual({ node, objects: master });
}

function sequenceOf(message: Message): number {
  return (JSON.parse(message.Body ?? '{}') as { sequence: number }).sequence;
}

/** Changes where the order of application shows: successive patches of one object, removed and added again. */
function orderSensitiveChanges(id: string, count: number): Change[] {
  const object = { type: 'layer', id };
  // GeoServer's layer representation: its name (the id's local part) and its resource.
  const named = { name: id.slice(id.indexOf(':') + 1), resource: { '@class': 'featureType', name: id } };
  const changes: Change[] = [{ kind: 'add', object, properties: { ...named, step: 0, history: ['added'] } }];
  for (let step = 1; changes.length < count; step += 1) {
    if (step % 7 === 0) {
      changes.push({ kind: 'remove', object });
      changes.push({ kind: 'add', object, properties: { ...named, step, history: [`re-added at ${step}`] } });
    } else {
      changes.push({ kind: 'modify', object, patch: { step, [`key${step % 3}`]: step % 4 === 0 ? null : `set at ${step}`, history: [`patched at ${step}`] } });
    }
  }
  return changes.slice(0, count);
}

test('a slave stopped mid-stream keeps receiving into its queue and catches up, in order, to the same store', async () => {
  const node = 'slave-1';
  const stream = new ChangeStream(1001);
  const ordered = orderSensitiveChanges('topp:mid_stream', 20);
  const changes = ordered.flatMap((change) => [change, stream.next()]); // 40 changes, interleaved

  // Publish one after the other, in the background; stop the slave once 10 are out.
  let publishedCount = 0;
  const publishing = (async () => {
    for (const change of changes) {
      await cluster.publish(MASTER, change);
      publishedCount += 1;
    }
  })();
  while (publishedCount < 10) await sleep(20);
  await cluster.pause(node);
  const publishedBeforePause = publishedCount;
  const cursorAtPause = (await cluster.nodeStatus(node)).lastAppliedSequence;

  // While it is down, its queue keeps receiving.
  const depths: number[] = [];
  while (publishedCount < changes.length) {
    const status = await cluster.nodeStatus(node);
    expect(status.lastAppliedSequence).toBe(cursorAtPause);
    depths.push(status.queueDepth as number);
    await sleep(150);
  }
  await publishing;
  await cluster.waitConverged(); // every other node
  const down = await cluster.status();
  const status = down.nodes.find((candidate) => candidate.name === node)!;
  expect(status.lastAppliedSequence).toBe(cursorAtPause);
  expect(status.lag).toBe(down.head - cursorAtPause);
  // Most of the stream came while it was down (the pause itself may let one more event through).
  expect(status.lag).toBeGreaterThanOrEqual(changes.length - publishedBeforePause - 1);
  // Every event it has not applied waits in its queue. Some messages of events it applied
  // before the pause may wait there too: a delivery also applies what the log already holds
  // after its message (apply-ahead), and those messages are dropped as duplicates on resume.
  expect(status.queueDepth).toBeGreaterThanOrEqual(status.lag);
  expect(depths.length).toBeGreaterThan(1);
  for (let i = 1; i < depths.length; i += 1) expect(depths[i]).toBeGreaterThanOrEqual(depths[i - 1] as number);
  expect(status.queueDepth).toBeGreaterThan(depths[0] as number);

  // Back up: it applies the backlog in order (its cursor only moves forward, one event at a time).
  await cluster.resume(node);
  const cursors: number[] = [];
  await cluster.waitForNodes(`${node} caught up`, (answer) => {
    const current = answer.nodes.find((candidate) => candidate.name === node)!;
    cursors.push(current.lastAppliedSequence);
    return current.lastAppliedSequence === answer.head && current.queueDepth === 0;
  });
  for (let i = 1; i < cursors.length; i += 1) expect(cursors[i]).toBeGreaterThanOrEqual(cursors[i - 1] as number);
  await cluster.waitConverged();
  await expectSameStore(node);

  // The order-sensitive object ended where the last change left it.
  const final = await cluster.objectOf(node, 'layer', 'topp:mid_stream');
  expect(final.status).toBe(200);
  expect(final.body.properties).toEqual(cluster.expected.objects().get('layer/topp:mid_stream')?.properties);
  expect(final.body.properties.history).toEqual(['patched at 17']);
});

test('duplicated and reordered deliveries have no effect', async () => {
  const node = 'slave-2';
  await cluster.waitConverged();

  // 1. Old events delivered again (redelivery, a republish) after later ones were applied.
  const styleA = { type: 'style', id: 'sf:duplicates' };
  const layerB = { type: 'layer', id: 'sf:duplicates' };
  const old: PublishAnswer[] = [];
  old.push(await cluster.publish(MASTER, { kind: 'add', object: styleA, properties: { name: 'duplicates', format: 'sld', title: 'v1', body: '<sld v1/>' } }));
  old.push(await cluster.publish(MASTER, { kind: 'modify', object: styleA, patch: { title: 'v2', body: '<sld v2/>' } }));
  old.push(await cluster.publish(MASTER, { kind: 'add', object: layerB, properties: { name: 'duplicates', resource: { '@class': 'featureType', name: 'sf:duplicates' } } }));
  old.push(await cluster.publish(MASTER, { kind: 'remove', object: layerB }));
  await cluster.waitConverged();
  const before = await cluster.catalog(node);
  const cursorBefore = (await cluster.nodeStatus(node)).lastAppliedSequence;
  expect(cursorBefore).toBe(cluster.expected.head);

  // The add of A (which would undo the modify), the add of B (which would bring it back) and
  // the modify, each sent again with a new deduplication id, the add of A twice.
  for (const answer of [old[0]!, old[2]!, old[1]!, old[0]!]) {
    await cluster.inject(node, JSON.stringify(answer.event), { origin: MASTER });
  }
  await cluster.waitForNodes(`${node} consumed the re-sent events`, (answer) => {
    const current = answer.nodes.find((candidate) => candidate.name === node)!;
    return current.queueDepth === 0;
  });
  const afterDuplicates = await cluster.nodeStatus(node);
  expect(afterDuplicates).toMatchObject({ lastAppliedSequence: cursorBefore, lag: 0, queueDepth: 0, deadLetterDepth: 0 });
  expect(await cluster.catalog(node)).toEqual(before);
  expect((await cluster.objectOf(node, 'style', styleA.id)).body.properties.title).toBe('v2');
  expect((await cluster.objectOf(node, 'layer', layerB.id)).status).toBe(404);

  // 2. A backlog delivered out of order, with duplicates: the node is down while 9 events are
  // published, then its queue holds them shuffled, later ones first, some twice.
  await cluster.pause(node);
  const reordered = orderSensitiveChanges('sf:reordered', 9);
  const answers: PublishAnswer[] = [];
  for (const change of reordered) answers.push(await cluster.publish(MASTER, change));
  await cluster.waitConverged();
  const backlog = await cluster.drain(node);
  expect(backlog.map(sequenceOf)).toEqual(answers.map((answer) => answer.sequence));
  expect(backlog.every((message) => message.Attributes?.MessageGroupId === CLUSTER)).toBe(true);
  for (const index of [5, 1, 1, 8, 7, 0, 3, 2, 6, 4, 7, 0]) {
    await cluster.inject(node, backlog[index]!.Body!, { origin: MASTER });
  }
  // And an old one on top.
  await cluster.inject(node, JSON.stringify(old[2]!.event), { origin: MASTER });
  await cluster.resume(node);

  const converged = await cluster.waitConverged();
  expect(converged.nodes.find((candidate) => candidate.name === node)).toMatchObject({
    lastAppliedSequence: cluster.expected.head,
    queueDepth: 0,
    deadLetterDepth: 0,
  });
  await expectSameStore(node);
  const final = await cluster.objectOf(node, 'layer', 'sf:reordered');
  expect(final.body).toMatchObject({ lastSequence: answers[answers.length - 1]!.sequence, properties: { step: 7, history: ['re-added at 7'] } });
});

test('a slave whose deliveries were lost (its queue emptied while it was down) stays behind until the lag measure nudges it, then reaches the head from the log', async () => {
  const node = 'slave-2';
  await cluster.waitConverged();
  await cluster.pause(node);
  await cluster.publishAll(MASTER, new ChangeStream(2102).take(6), 1);
  await cluster.waitConverged(); // every other node
  // Its deliveries lost: the queue emptied behind its poller's back (a purge by hand, a delivery that never landed).
  await cluster.drain(node);
  await cluster.resume(node);
  const behind = await cluster.nodeStatus(node);
  expect(behind.lag).toBeGreaterThan(0);
  expect(behind.queueDepth).toBe(0);
  // Nothing comes its way on its own.
  await sleep(1_500);
  expect((await cluster.nodeStatus(node)).lastAppliedSequence).toBe(behind.lastAppliedSequence);

  // The lag measure, a few minutes on (the schedule's clock): its missing events are no longer in flight.
  const schedules = (await cluster.api('GET', '/__local/schedules')).body as { name: string }[];
  const measure = schedules.find((schedule) => schedule.name.includes('MeasureLag'));
  expect(measure).toBeDefined();
  const fired = await cluster.api('POST', `/__local/schedules/${encodeURIComponent(measure!.name)}`, {
    body: JSON.stringify({ time: new Date(Date.now() + 3 * 60_000).toISOString() }),
    headers: { 'content-type': 'application/json' },
  });
  expect(fired.status).toBe(200);
  const head = (await cluster.status()).head;
  expect(fired.body.results).toEqual([expect.objectContaining({ nudged: { [node]: head }, failed: [] })]);
  await cluster.waitForNodes(`${node} caught up`, (answer) => {
    const current = answer.nodes.find((candidate) => candidate.name === node)!;
    return current.lastAppliedSequence === answer.head && current.queueDepth === 0;
  });
  await expectSameStore(node);
});

test("a both node's own events: its request applies them when its store is right before them, its queue brings them otherwise", async () => {
  await cluster.waitConverged();
  // The `both` node's consumer is down: whatever reaches its queue stays there to be counted.
  await cluster.pause(BOTH);
  const style = { type: 'style', id: 'nurc:own' };
  const own1 = await cluster.publish(BOTH, { kind: 'add', object: style, properties: { name: 'own', format: 'sld', body: '<sld own 1/>' } });
  const other1 = await cluster.publish(MASTER, { kind: 'modify', object: { type: 'global', id: 'global' }, patch: { title: 'from the master' } });
  const own2 = await cluster.publish(BOTH, { kind: 'modify', object: style, patch: { body: '<sld own 2/>', title: 'mine' } });
  const other2 = await cluster.publish(MASTER, { kind: 'add', object: { type: 'workspace', id: 'theirs' }, properties: { name: 'theirs' } });
  // The first found its store right before it; the second found the master's event before it
  // unapplied, which (on a node with a GeoServer) only the node's apply function may apply.
  expect(own1).toMatchObject({ published: true, appliedLocally: true, event: { origin: BOTH } });
  expect(own2).toMatchObject({ published: true, appliedLocally: false, event: { origin: BOTH } });
  const slaves = ['slave-1', 'slave-2', 'slave-3'];
  await cluster.waitConverged(slaves);
  expect((await cluster.nodeStatus(BOTH)).lastAppliedSequence).toBe(own1.sequence);

  // Its queue holds every event, its own too, in sequence order.
  await cluster.waitForNodes(`${BOTH}'s queue holds the four events`, (answer) => answer.nodes.find((node) => node.name === BOTH)?.queueDepth === 4);
  const waiting = await cluster.drain(BOTH);
  expect(waiting.map(sequenceOf)).toEqual([own1.sequence, other1.sequence, own2.sequence, other2.sequence]);
  for (const message of waiting) await cluster.inject(BOTH, message.Body!, { origin: sequenceOf(message) === other1.sequence || sequenceOf(message) === other2.sequence ? MASTER : BOTH });

  // Resumed, it applies them: its own first event as a duplicate, the rest in order.
  await cluster.resume(BOTH);
  await cluster.waitForNodes(`${BOTH} consumed its queue`, (answer) => {
    const current = answer.nodes.find((candidate) => candidate.name === BOTH)!;
    return current.queueDepth === 0 && current.lastAppliedSequence >= answer.head;
  });
  expect(await cluster.nodeStatus(BOTH)).toMatchObject({ lastAppliedSequence: other2.sequence, deadLetterDepth: 0, lag: 0 });
  const mine = await cluster.objectOf(BOTH, 'style', style.id);
  expect(mine.body).toMatchObject({ lastSequence: own2.sequence, lastOrigin: BOTH, properties: { name: 'own', format: 'sld', body: '<sld own 2/>', title: 'mine' } });
  for (const slave of slaves) {
    expect((await cluster.objectOf(slave, 'style', style.id)).body).toEqual(mine.body);
  }
  await cluster.waitConverged();
  await expectSameStore(BOTH);
});

test('a poison event goes to the dead-letter queue at its first delivery, the rest apply, and a redrive leaves it there', async () => {
  const node = 'slave-3';
  await cluster.waitConverged();
  // In the cluster's message group, ahead of the next events: retried, it would hold them behind it.
  await cluster.inject(node, '{"this is": not an event', { origin: MASTER });
  const after = await cluster.publishAll(MASTER, new ChangeStream(4004).take(5), 1);

  // No event, it is set aside at once (never retried up to maxReceiveCount) and the events behind it apply.
  await cluster.waitForNodes(
    `${node} set the poison message aside and applied the rest`,
    (answer) => {
      const current = answer.nodes.find((candidate) => candidate.name === node)!;
      return current.deadLetterDepth === 1 && current.queueDepth === 0 && current.lastAppliedSequence === answer.head;
    },
    45_000,
  );
  expect((await cluster.nodeStatus(node)).lastAppliedSequence).toBe(after[after.length - 1]!.sequence);
  await cluster.waitConverged();
  await expectSameStore(node);

  // A redrive moves back what can apply, not a message set aside: back in the queue it would
  // only be set aside again (and a redrive would move it to and fro until its deadline).
  const redrive = await cluster.api('POST', `/nodes/${node}/redrive`, { node: MASTER });
  expect(redrive.status).toBe(200);
  expect(redrive.body).toEqual({ node, moved: 0, more: false, parked: { cleared: [], stillParked: [], more: false } });
  const redriven = await cluster.nodeStatus(node);
  expect(redriven.deadLetterDepth).toBe(1);
  expect(redriven.queueDepth).toBe(0);

  // The node keeps applying what comes after it.
  const more = await cluster.publishAll(MASTER, new ChangeStream(4005).take(3), 1);
  await cluster.waitForNodes(
    `${node} applied the events after the redrive`,
    (answer) => {
      const current = answer.nodes.find((candidate) => candidate.name === node)!;
      return current.deadLetterDepth === 1 && current.queueDepth === 0 && current.lastAppliedSequence === answer.head;
    },
    45_000,
  );
  expect((await cluster.nodeStatus(node)).lastAppliedSequence).toBe(more[more.length - 1]!.sequence);
  await cluster.waitConverged();
  await expectSameStore(node);

  // Only consumers have queues to redrive; a pure master may still have parked events.
  const pureMaster = await cluster.api('POST', `/nodes/${MASTER}/redrive`, { node: MASTER });
  expect(pureMaster.status).toBe(200);
  expect(pureMaster.body).toEqual({ node: MASTER, moved: 0, more: false, parked: { cleared: [], stillParked: [], more: false } });
});

test('an event only one node cannot apply is parked there with its reason; the node keeps applying; redrive after the fix clears it', async () => {
  const node = 'slave-2';
  const refusedObject = { type: 'layer', id: 'tiger:refused' };
  await cluster.waitConverged();
  // Only slave-2's store refuses writes of this one object (an explicit deny in its role).
  const fault = await cluster.api('POST', '/__local/faults/refuse-writes', {
    json: { function: `ConfigSync/${node}/Apply`, itemKey: `${refusedObject.type}/${refusedObject.id}` },
  });
  expect(fault.status).toBe(200);
  try {
    // The redrive function writes that store too: the same refusal holds for it until the fix.
    const redriveFault = await cluster.api('POST', '/__local/faults/refuse-writes', {
      json: { function: 'ConfigSync/RedriveNode', itemKey: `${refusedObject.type}/${refusedObject.id}` },
    });
    expect(redriveFault.status).toBe(200);
    const stream = new ChangeStream(6006);
    // A layer names its resource, as GeoServer's representation does.
    const refusedResource = { '@class': 'featureType', name: refusedObject.id };
    const first = await cluster.publish(MASTER, {
      kind: 'add',
      object: refusedObject,
      properties: { name: 'refused', resource: refusedResource, step: 1 },
    });
    await cluster.publishAll(MASTER, stream.take(3), 1);
    const second = await cluster.publish(MASTER, { kind: 'modify', object: refusedObject, patch: { step: 2, extra: { a: 1 } } });
    await cluster.publishAll(MASTER, stream.take(3), 1);
    const third = await cluster.publish(BOTH, { kind: 'modify', object: refusedObject, patch: { step: null, title: 'from both' } });
    // The pure master's store follows on its next publish (the schedule is off in tests).
    await cluster.publishAll(MASTER, stream.take(1), 1);

    // Every node reaches the head: slave-2 by parking the object's three events.
    const settled = await cluster.waitForNodes(`${node} parked the refused object's events and applied the rest`, (answer) => {
      const current = answer.nodes.find((candidate) => candidate.name === node) as unknown as { lastAppliedSequence: number; parked: unknown[] };
      return current.lastAppliedSequence === answer.head && current.parked.length === 1;
    });
    await cluster.waitConverged();
    const status = settled.nodes.find((candidate) => candidate.name === node) as unknown as Record<string, unknown>;
    expect(status).toMatchObject({
      deadLetterDepth: 0,
      failing: null,
      parked: [
        {
          object: refusedObject,
          sequences: [first.sequence, second.sequence, third.sequence],
          reason: expect.stringContaining('explicit deny'),
          attempts: 3,
        },
      ],
    });
    for (const other of settled.nodes.filter((candidate) => candidate.name !== node)) {
      expect((other as unknown as { parked: unknown[] | undefined }).parked ?? []).toEqual([]);
    }
    // slave-2 holds everything but the refused object; the others hold that too.
    const expected = cluster.expectedCatalog();
    const key = (object: { type: string; id: string }) => `${object.type}/${object.id}`;
    expect((await cluster.catalog(node)).map(comparable)).toEqual(expected.filter((object) => key(object as never) !== key(refusedObject)));
    expect((await cluster.objectOf('slave-1', refusedObject.type, refusedObject.id)).body.properties).toEqual({
      name: 'refused',
      resource: refusedResource,
      extra: { a: 1 },
      title: 'from both',
    });

    // A redrive before the fix: still refused, still parked, with the new attempt.
    const early = await cluster.api('POST', `/nodes/${node}/redrive`, { node: MASTER });
    expect(early.status).toBe(200);
    expect(early.body.parked).toMatchObject({ cleared: [], stillParked: [{ sequences: [first.sequence, second.sequence, third.sequence], attempts: 4 }] });
  } finally {
    await cluster.api('DELETE', '/__local/faults/refuse-writes');
  }

  // The fix, then a redrive: the parked events apply in order; the node equals the others.
  const redrive = await cluster.api('POST', `/nodes/${node}/redrive`, { node: MASTER });
  expect(redrive.status).toBe(200);
  expect(redrive.body.parked).toEqual({ cleared: expect.any(Array), stillParked: [], more: false });
  expect(redrive.body.parked.cleared).toHaveLength(3);
  expect((await cluster.nodeStatus(node)) as unknown).toMatchObject({ parked: [], failing: null });
  await expectSameStore(node);
});

test('a change nested beyond the bound is refused at publish with a 400 naming the limit, and writes nothing', async () => {
  const head = (await cluster.status()).head;
  let deep = '1';
  for (let i = 0; i < 10_000; i += 1) deep = `{"a":${deep}}`;
  const response = await cluster.api('POST', '/config/events', {
    node: MASTER,
    body: `{"kind":"add","object":{"type":"layer","id":"topp:deep"},"properties":{"x":${deep}}}`,
    headers: { 'content-type': 'application/json' },
  });
  expect(response.status).toBe(400);
  expect(response.body).toEqual({ code: 'INVALID_REQUEST', message: 'properties: nests deeper than 64 levels, the limit', field: 'properties' });
  expect((await cluster.status()).head).toBe(head);
});

test('a number too large for JSON is refused at publish with a 400 naming it, and writes nothing', async () => {
  const head = (await cluster.status()).head;
  // JSON.parse reads 1e999 as Infinity, which the log would store as null: the value would change.
  const response = await cluster.api('POST', '/config/events', {
    node: MASTER,
    body: '{"kind":"add","object":{"type":"featureType","id":"topp:big"},"properties":{"name":"big","store":{"name":"topp:s"},"maxFeatures":1e999}}',
    headers: { 'content-type': 'application/json' },
  });
  expect(response.status).toBe(400);
  expect(response.body).toMatchObject({ code: 'INVALID_REQUEST', field: 'properties.maxFeatures' });
  expect(response.body.message).toContain('properties.maxFeatures: is a number out of range');
  expect((await cluster.status()).head).toBe(head);
});

/** Waits for a resync job to succeed; answers it. */
async function resyncEnded(node: string, id: string): Promise<any> {
  for (const deadline = Date.now() + 60_000; ; await sleep(200)) {
    const answer = await cluster.api('GET', `/nodes/${node}/jobs/${id}`, { node: MASTER });
    expect(answer.status).toBe(200);
    const job = answer.body.job;
    if (job.state === 'failed') throw new Error(`resync of ${node} failed: ${job.error}`);
    if (job.state === 'succeeded') return job;
    if (Date.now() > deadline) throw new Error(`resync of ${node} still ${job.state}`);
  }
}

test('a new node bootstraps to the same store with a resync, then follows its queue', async () => {
  await cluster.waitConverged();
  // The node has been down since the cluster started, and its queue kept every event.
  const before = await cluster.status();
  const joining = before.nodes.find((node) => node.name === NEW_NODE)!;
  expect(joining).toMatchObject({ lastAppliedSequence: 0, lag: before.head, queueDepth: before.head });
  expect(await cluster.catalog(NEW_NODE)).toEqual([]);
  // A node that is new (its queue created after those events) or was away longer than the
  // retention has none of them: empty its queue.
  expect((await cluster.drain(NEW_NODE)).length).toBe(before.head);
  expect(await cluster.nodeStatus(NEW_NODE)).toMatchObject({ lastAppliedSequence: 0, queueDepth: 0 });

  // A resync is a job the node's own apply function runs from its queue: it waits while the node is down.
  const resync = await cluster.api('POST', `/nodes/${NEW_NODE}/resync`, { node: MASTER });
  expect(resync.status).toBe(202);
  expect(resync.body).toMatchObject({ node: NEW_NODE, source: MASTER, job: { kind: 'resync', state: 'queued', source: MASTER } });
  expect(await cluster.nodeStatus(NEW_NODE)).toMatchObject({ lastAppliedSequence: 0 });
  await cluster.resume(NEW_NODE);
  const job = await resyncEnded(NEW_NODE, resync.body.job!.id);
  // Its queue was empty: the store comes from the snapshot and the log alone.
  expect(job.resync.cursor).toBe(before.head);
  expect(job.resync.snapshotSequence).toBeLessThanOrEqual(before.head);
  expect(job.resync.snapshotSequence + job.resync.appliedFromLog).toBe(before.head);
  expect(await cluster.nodeStatus(NEW_NODE)).toMatchObject({ lastAppliedSequence: before.head, lag: 0 });
  await expectSameStore(NEW_NODE);

  // From now on it follows its queue.
  await cluster.publishAll(MASTER, new ChangeStream(5005).take(10), 4);
  await cluster.waitConverged();
  await expectSameStore(NEW_NODE);

  // Resync from another source (a `both` node) gives the same store too.
  const again = await cluster.api('POST', '/nodes/slave-1/resync', { node: MASTER, json: { source: BOTH } });
  expect(again.status).toBe(202);
  expect(await resyncEnded('slave-1', again.body.job!.id)).toMatchObject({ source: BOTH, resync: { cursor: cluster.expected.head } });
  await expectSameStore('slave-1');

  // Finally, every node of the cluster holds the same store.
  const everyone = await cluster.waitConverged(cluster.nodes.map((node) => node.name));
  expect(everyone.nodes.every((node) => node.lastAppliedSequence === cluster.expected.head)).toBe(true);
  for (const node of cluster.consumers) await expectSameStore(node);
});

test("a pure master resyncs from a both node within its requests, with no more than the resync function's grants (the local IAM gate)", async () => {
  await cluster.waitConverged();
  const head = (await cluster.status()).head;
  let answer = await cluster.api('POST', `/nodes/${MASTER}/resync`, { node: MASTER, json: { source: BOTH } });
  // 202 while its job goes on: the same request again continues it.
  for (let requests = 1; answer.status === 202 && requests < 20; requests += 1) {
    answer = await cluster.api('POST', `/nodes/${MASTER}/resync`, { node: MASTER, json: { source: BOTH } });
  }
  expect({ status: answer.status, body: answer.body }).toMatchObject({ status: 200, body: { node: MASTER, source: BOTH, sequence: head } });
  expect(await cluster.catalog(MASTER)).toEqual(await cluster.catalog(BOTH));
});

test('__proto__, constructor and prototype keys are kept as ordinary keys, published on a master and read back on a slave', async () => {
  await cluster.waitConverged();
  const object = { type: 'layerGroup', id: 'cite:reserved_keys' };
  const entries = '"publishables":{"published":{"@type":"layer","name":"cite:roads"}}';
  const added = JSON.parse(
    `{"kind":"add","object":${JSON.stringify(object)},"properties":{"__proto__":{"admin":true},"constructor":"c","prototype":{"p":1},"nested":{"__proto__":[1,2]},${entries}}}`,
  ) as Change;
  const patched = JSON.parse(`{"kind":"modify","object":${JSON.stringify(object)},"patch":{"__proto__":{"extra":1},"nested":{"__proto__":null,"kept":true}}}`) as Change;
  const answer = await cluster.publish(MASTER, added);
  expect(JSON.stringify(answer.event.properties)).toBe(`{"__proto__":{"admin":true},"constructor":"c","prototype":{"p":1},"nested":{"__proto__":[1,2]},${entries}}`);
  await cluster.publish(MASTER, patched);
  await cluster.waitConverged();
  const expected = `{"__proto__":{"admin":true,"extra":1},"constructor":"c","prototype":{"p":1},"nested":{"kept":true},${entries}}`;
  for (const node of ['slave-1', BOTH, MASTER]) {
    const read = await cluster.objectOf(node, object.type, object.id);
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body.properties)).toBe(expected);
  }
  await expectSameStore('slave-1');
});

test('Idempotency-Key: a retry with the same key and body gets the original answer, another body a 422, and only one event is committed', async () => {
  await cluster.waitConverged();
  const key = `retry-${Date.now()}`;
  const change: Change = { kind: 'add', object: { type: 'workspace', id: 'idempotent' }, properties: { name: 'idempotent' } };
  const body = JSON.stringify(change);
  const send = (text: string, idempotencyKey = key) =>
    cluster.api('POST', '/config/events', {
      node: MASTER,
      body: text,
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
    });
  const headBefore = (await cluster.status()).head;

  const first = await send(body);
  expect(first.status).toBe(201);
  expect(first.headers.get('idempotent-replayed')).toBeNull();
  cluster.expected.record(change, first.body);
  expect(first.body.sequence).toBe(headBefore + 1);

  // Retries, also several at once (a client that timed out and retried in a loop).
  const retries = await Promise.all([send(body), send(body), send(body)]);
  for (const retry of retries) {
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.text).toBe(first.text);
  }

  // The same key with another body is refused, and commits nothing.
  const other = await send(JSON.stringify({ ...change, properties: { ...change.properties, title: 'something else' } }));
  expect(other.status).toBe(422);
  expect(other.body).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'Idempotency-Key', sequence: first.body.sequence });

  // A key that cannot be one is a 400 naming the header; nothing is written.
  const bad = await send(body, 'has spaces in it');
  expect(bad.status).toBe(400);
  expect(bad.body).toMatchObject({ field: 'Idempotency-Key' });

  expect((await cluster.status()).head).toBe(headBefore + 1);
  // A new key publishes again.
  const fresh = await send(JSON.stringify({ ...change, properties: { name: 'idempotent', v: 2 } }), `${key}-2`);
  expect(fresh.status).toBe(201);
  cluster.expected.record({ ...change, properties: { name: 'idempotent', v: 2 } }, fresh.body);
  expect(fresh.body.sequence).toBe(headBefore + 2);

  // The same request sent several times at once, before any answer (a client that retries on a
  // short timeout): one commits; each other one gets its answer replayed or, while the first is
  // still finishing, a 409 naming the committed sequence with Retry-After. One event in all: a
  // loser that had been given a sequence before it met the key leaves that sequence void.
  const racing = { ...change, properties: { name: 'idempotent', v: 3 } };
  const raced = await Promise.all(Array.from({ length: 4 }, () => send(JSON.stringify(racing), `${key}-3`)));
  const committed = raced.filter((answer) => answer.status === 201 && answer.headers.get('idempotent-replayed') === null);
  expect(committed).toHaveLength(1);
  const sequence = committed[0]!.body.sequence;
  cluster.expected.record(racing, committed[0]!.body);
  for (const answer of raced.filter((other) => other !== committed[0])) {
    if (answer.status === 201) {
      expect(answer.headers.get('idempotent-replayed')).toBe('true');
      expect(answer.text).toBe(committed[0]!.text);
    } else {
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({ code: 'IDEMPOTENT_REQUEST_IN_PROGRESS', sequence });
      expect(answer.headers.get('retry-after')).toBe('1');
    }
  }
  const listed = await cluster.api('GET', `/config/events?since=${headBefore + 2}&limit=10`, { node: MASTER });
  expect(listed.status).toBe(200);
  const events = listed.body.events as { sequence: number; voided?: true }[];
  expect(events.filter((event) => !event.voided).map((event) => event.sequence)).toEqual([sequence]);
  for (const event of events) if (event.voided) cluster.expected.recordVoid(event.sequence);
  expect(events.map((event) => event.sequence)).toEqual(Array.from({ length: events.length }, (_, index) => headBefore + 3 + index));
  // Voids at the log's end hold nothing to apply: the nodes show no lag once they have the event.
  const running = cluster.nodes.map((node) => node.name).filter((name) => !cluster.paused.has(name));
  await cluster.waitForNodes(`${running.join(', ')} applied ${sequence} with no lag`, (answer) =>
    running.every((name) => {
      const node = answer.nodes.find((candidate) => candidate.name === name);
      return node !== undefined && node.lastAppliedSequence >= sequence && node.lag === 0;
    }),
  );
  // The next change takes every node past the voids, to the head.
  const after = { ...change, properties: { name: 'idempotent', v: 4 } };
  const next = await send(JSON.stringify(after), `${key}-4`);
  expect(next.status).toBe(201);
  cluster.expected.record(after, next.body);
  await cluster.waitConverged();
  await expectSameStore('slave-1');
});
