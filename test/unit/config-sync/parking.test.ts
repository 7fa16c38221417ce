/**
 * Parking: an event one node cannot apply is retried a bounded number of times, then parked on
 * that node with its reason; the cursor moves on, later events of the same object wait behind
 * it, every other object keeps changing; a redrive after a fix, or a resync, clears it.
 */
import {
  applyDeliveredBatch,
  applyDeliveredEvent,
  catchUp,
  isTransientFailure,
  MAX_APPLY_ATTEMPTS,
  retryParked,
  type ApplyDeps,
  type NodeContext,
} from '../../../lambdas/config-sync/apply';
import { MemoryNodeStore } from '../../../lambdas/config-sync/adapters/memory';
import { resyncFrom } from '../../../lambdas/config-sync/bootstrap';
import { InvalidConfigEventError } from '../../../lambdas/config-sync/errors';
import { MAX_PROPERTIES_BYTES, MAX_PROPERTIES_DEPTH, parkingKey, parseConfigChange, type ConfigChange, type PublishedEvent } from '../../../lambdas/config-sync/events';
import { PARKED_LIST_MAX, type StoreCommit } from '../../../lambdas/config-sync/ports';
import { add, applyDeps, CLUSTER, harness, modify, ref, remove } from './fixtures';
import { FakeGeoServer } from './geoserver/fake-geoserver';

const SLAVE: NodeContext = { cluster: CLUSTER, node: 'slave-1' };
const OTHER: NodeContext = { cluster: CLUSTER, node: 'slave-2' };
const MASTER: NodeContext = { cluster: CLUSTER, node: 'master-1' };
const BAD = ref('layer', 'topp:refused');

/** Delivers `event` until it stops throwing; returns the errors seen. */
async function deliverUntilSettled(deliver: () => Promise<unknown>, limit = 10): Promise<unknown[]> {
  const errors: unknown[] = [];
  for (let i = 0; i < limit; i += 1) {
    try {
      await deliver();
      return errors;
    } catch (error) {
      errors.push(error);
    }
  }
  throw new Error(`still failing after ${limit} deliveries`);
}

const history: ConfigChange[] = [
  add('workspace', 'topp', { name: 'topp' }), // 1
  add('layer', BAD.id, { title: 'v1', step: 1 }), // 2: refused on slave-1
  add('layer', 'topp:fine', { title: 'fine' }), // 3
  modify('layer', BAD.id, { title: 'v2', extra: { a: 1 } }), // 4: waits behind 2
  modify('layer', 'topp:fine', { title: 'fine 2' }), // 5
  remove('layer', BAD.id), // 6: waits behind 2
  add('layer', BAD.id, { title: 'v3' }), // 7: waits behind 2
  modify('layer', BAD.id, { step: 4 }), // 8: waits behind 2
];

async function setUp() {
  const h = harness();
  const events = await h.appendAll(history);
  h.store.refuseWrites(SLAVE.node, BAD);
  return { h, events, deps: applyDeps(h) };
}

beforeEach(() => {
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});

afterEach(() => {
  jest.restoreAllMocks();
});

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i += 1) value = { a: value };
  return value;
}

describe('publish bounds', () => {
  const refusal = (body: unknown) => {
    try {
      parseConfigChange(body);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidConfigEventError);
      return { field: (error as InvalidConfigEventError).field, message: (error as Error).message };
    }
    throw new Error('accepted');
  };

  it('accepts properties nested exactly to the limit', () => {
    const change = parseConfigChange({ kind: 'add', object: { type: 'workspace', id: 'a' }, properties: nested(MAX_PROPERTIES_DEPTH) });
    expect(change.kind).toBe('add');
  });

  it.each([65, 10_000, 50_000])('refuses properties and patches nested %i levels with a 400 naming the limit', (depth) => {
    expect(refusal({ kind: 'add', object: { type: 'layer', id: 'a:b' }, properties: nested(depth) })).toEqual({
      field: 'properties',
      message: `properties: nests deeper than ${MAX_PROPERTIES_DEPTH} levels, the limit`,
    });
    expect(refusal({ kind: 'modify', object: { type: 'layer', id: 'a:b' }, patch: nested(depth) })).toMatchObject({ field: 'patch' });
  });

  it('refuses properties larger than the limit', () => {
    const big = { body: '<sld/>', padding: 'x'.repeat(MAX_PROPERTIES_BYTES) };
    expect(refusal({ kind: 'add', object: { type: 'style', id: 'big' }, properties: big })).toEqual({
      field: 'properties',
      message: expect.stringMatching(new RegExp(`^properties: is \\d+ bytes of JSON, over the limit of ${MAX_PROPERTIES_BYTES}$`)),
    });
  });

  it('refuses deep nesting anywhere else in the body before the schema recurses into it', () => {
    expect(refusal({ kind: 'add', object: nested(20_000), properties: {} })).toMatchObject({ field: 'body' });
  });
});

describe('parking', () => {
  it('retries a refused event a bounded number of times, then parks it and its object’s later events while the rest applies', async () => {
    const { h, events, deps } = await setUp();
    await applyDeliveredEvent(deps, SLAVE, events[0] as PublishedEvent);

    // Each delivery of event 2 fails and is counted; the progress shows it.
    for (let attempt = 1; attempt < MAX_APPLY_ATTEMPTS; attempt += 1) {
      await expect(applyDeliveredEvent(deps, SLAVE, events[1] as PublishedEvent)).rejects.toMatchObject({ name: 'AccessDeniedException' });
      expect(await h.store.readProgress(SLAVE.node)).toEqual({
        cursor: 1,
        failing: { sequence: 2, attempts: attempt, reason: expect.stringContaining('refused'), at: expect.any(String) },
      });
    }
    // A later delivery needs the gap filled through event 2: that attempt parks it, and says so
    // through the function's logger, as fields.
    const warnings: [string, Readonly<Record<string, unknown>>][] = [];
    const result = await applyDeliveredEvent({ ...deps, warn: (message, fields) => warnings.push([message, fields]) }, SLAVE, events[7] as PublishedEvent);
    expect(warnings).toEqual([
      ['event parked', { node: SLAVE.node, sequence: 2, object: BAD, attempts: MAX_APPLY_ATTEMPTS, reason: expect.stringContaining('refused') }],
    ]);
    expect(result).toMatchObject({ disposition: 'applied', cursor: 8 });
    const effects = 'applied' in result ? result.applied.map((step) => [step.sequence, step.effect]) : [];
    expect(effects).toEqual([
      [2, 'parked'],
      [3, 'created'],
      [4, 'parked'],
      [5, 'patched'],
      [6, 'parked'],
      [7, 'parked'],
      [8, 'parked'],
    ]);
    expect(await h.store.readProgress(SLAVE.node)).toEqual({ cursor: 8 });
    expect(await h.store.listParked(SLAVE.node)).toEqual([
      {
        key: '#parked/layer/topp:refused',
        object: BAD,
        sequences: [2, 4, 6, 7, 8],
        reason: expect.stringContaining(`Writes of layer/${BAD.id} on node slave-1 are refused`),
        attempts: MAX_APPLY_ATTEMPTS,
        parkedAt: expect.any(String),
      },
    ]);
    // Nothing of the parked object was written; the other object has every change.
    expect((await h.store.readObjects(SLAVE.node, [BAD])).length).toBe(0);
    expect((await h.store.readObjects(SLAVE.node, [ref('layer', 'topp:fine')]))[0]?.properties).toEqual({ title: 'fine 2' });

    // Another node is not affected at all.
    await catchUp(deps, OTHER);
    expect(await h.store.listParked(OTHER.node)).toEqual([]);
    expect((await h.store.readObjects(OTHER.node, [BAD]))[0]?.properties).toEqual({ title: 'v3', step: 4 });
  });

  it('a redrive after the fix applies the parked events in order: the same state as in-order application', async () => {
    const { h, events, deps } = await setUp();
    await deliverUntilSettled(() => applyDeliveredEvent(deps, SLAVE, events[7] as PublishedEvent));
    expect((await h.store.listParked(SLAVE.node))[0]?.sequences).toEqual([2, 4, 6, 7, 8]);

    // Still refused: the redrive drops the add and the modify the remove at 6 supersedes, and
    // keeps the rest from that remove on, with the new attempt counted.
    const refused = await retryParked(deps, SLAVE);
    expect(refused.cleared).toEqual([2, 4]);
    expect(refused.stillParked).toEqual([expect.objectContaining({ sequences: [6, 7, 8], attempts: MAX_APPLY_ATTEMPTS + 1 })]);

    h.store.refuseWrites(SLAVE.node, BAD, false);
    const fixed = await retryParked(deps, SLAVE);
    expect(fixed).toEqual({ cleared: [6, 7, 8], stillParked: [] });
    expect(await h.store.listParked(SLAVE.node)).toEqual([]);
    await catchUp(deps, OTHER);
    expect(h.store.allObjects(SLAVE.node)).toEqual(h.store.allObjects(OTHER.node));

    // The object's next event applies normally.
    const [next] = await h.appendAll([modify('layer', BAD.id, { title: 'after' })]);
    await applyDeliveredEvent(deps, SLAVE, next as PublishedEvent);
    expect((await h.store.readObjects(SLAVE.node, [BAD]))[0]).toMatchObject({ lastSequence: 9, properties: { title: 'after', step: 4 } });
  });

  it('a resync clears the parked events: the snapshot holds their effect', async () => {
    const { h, events, deps } = await setUp();
    await deliverUntilSettled(() => applyDeliveredEvent(deps, SLAVE, events[7] as PublishedEvent));
    await catchUp(deps, MASTER);
    await resyncFrom(deps, SLAVE, MASTER.node);
    expect(await h.store.listParked(SLAVE.node)).toEqual([]);
    expect(h.store.allObjects(SLAVE.node)).toEqual(h.store.allObjects(MASTER.node));
  });

  it('never parks on a transient failure: the queue retries it', async () => {
    const h = harness();
    const [first] = await h.appendAll([add('workspace', 'topp')]);
    let failures = 0;
    const store = new (class extends MemoryNodeStore {
      override async commit(node: string, commit: StoreCommit) {
        failures += 1;
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
        return super.commit(node, commit);
      }
    })();
    const deps = { ...applyDeps(h), store };
    for (let i = 0; i < MAX_APPLY_ATTEMPTS * 3; i += 1) {
      await expect(applyDeliveredEvent(deps, SLAVE, first as PublishedEvent)).rejects.toMatchObject({ name: 'ThrottlingException' });
    }
    expect(failures).toBe(MAX_APPLY_ATTEMPTS * 3);
    expect(await store.readProgress(SLAVE.node)).toEqual({ cursor: 0 });
    expect(await store.listParked(SLAVE.node)).toEqual([]);
  });

  it('parks an unreadable event of the log (nested beyond any bound) without stopping the batch for good', async () => {
    const h = harness();
    const deps = applyDeps(h);
    const [before] = await h.appendAll([add('workspace', 'topp')]);
    let deep = '1';
    for (let i = 0; i < 50_000; i += 1) deep = `{"a":${deep}}`;
    // As an older version might have logged and sent it: sequence 2, with a valid object.
    const unreadable = `{"sequence":2,"cluster":"${CLUSTER}","origin":"master-1","publishedAt":"2025-01-01T00:00:00.000Z","kind":"add","object":{"type":"layer","id":"topp:deep"},"properties":{"x":${deep}}}`;
    h.log.appendAsLogged(CLUSTER, JSON.parse(unreadable) as Record<string, unknown>);
    const after = await h.append(add('workspace', 'sf'));
    const batch = [JSON.stringify(before), unreadable, JSON.stringify(after)];
    const failures: number[] = [];
    for (let delivery = 1; delivery <= MAX_APPLY_ATTEMPTS; delivery += 1) {
      const result = await applyDeliveredBatch(deps, SLAVE, batch);
      if (result.failure) failures.push(result.failure.index);
      else break;
    }
    expect(failures).toEqual(Array(MAX_APPLY_ATTEMPTS - 1).fill(1));
    expect(await h.store.readCursor(SLAVE.node)).toBe(3);
    expect(await h.store.listParked(SLAVE.node)).toEqual([
      expect.objectContaining({ object: ref('layer', 'topp:deep'), sequences: [2], reason: expect.stringContaining('deeper than 64 levels') }),
    ]);
  });

  it('parks an event whose id no store key can hold (logged before ids were bounded in bytes) under a key of its sequence', async () => {
    const h = harness();
    const deps = applyDeps(h);
    const [before] = await h.appendAll([add('workspace', 'topp')]);
    // 512 characters, 1,024 bytes of UTF-8: as a node's object key or parking key, over DynamoDB's 1,024-byte sort keys.
    const tooLong = { ...(before as PublishedEvent), sequence: 2, object: ref('workspace', 'é'.repeat(512)), properties: { name: 'x' } } as PublishedEvent;
    h.log.appendAsLogged(CLUSTER, { ...tooLong });
    const after = await h.append(add('workspace', 'sf'));
    const batch = [JSON.stringify(before), JSON.stringify(tooLong), JSON.stringify(after)];
    for (let delivery = 1; delivery <= MAX_APPLY_ATTEMPTS; delivery += 1) {
      if (!(await applyDeliveredBatch(deps, SLAVE, batch)).failure) break;
    }
    expect(await h.store.readCursor(SLAVE.node)).toBe(3);
    const [record, ...others] = await h.store.listParked(SLAVE.node);
    expect(others).toEqual([]);
    expect(record).toMatchObject({ key: parkingKey(undefined, 2), sequences: [2], reason: expect.stringContaining('at most 512 bytes') });
    expect(record?.object).toBeUndefined();
  });

  it('records a failure reason without the AWS resource names its error carried, since anyone may read it', async () => {
    const h = harness();
    const [event] = await h.appendAll([add('workspace', 'topp')]);
    const denied = Object.assign(
      new Error(
        'User: arn:aws:sts::123456789012:assumed-role/ConfigSync-Apply/fn is not authorized to perform: dynamodb:TransactWriteItems on resource: arn:aws:dynamodb:eu-west-1:123456789012:table/NodeStore because no identity-based policy allows it',
      ),
      { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } },
    );
    const store = h.store;
    const deps = { ...applyDeps(h), store: Object.assign(Object.create(store) as typeof store, { commit: async () => Promise.reject(denied), commitBatch: async () => Promise.reject(denied) }) };
    await expect(applyDeliveredEvent(deps, SLAVE, event as PublishedEvent)).rejects.toBe(denied);
    const { failing } = await h.store.readProgress(SLAVE.node);
    expect(failing?.reason).toBe(
      'AccessDeniedException: User: arn:(left out) is not authorized to perform: dynamodb:TransactWriteItems on resource: arn:(left out) because no identity-based policy allows it',
    );
    expect(failing?.reason).not.toContain('123456789012');
  });

  it(`lists at most ${PARKED_LIST_MAX} sequences in a record and holds later ones as a range, which the redrive applies in order`, async () => {
    // Every later event of a parked object used to be listed: some 80,000 outgrew a DynamoDB
    // item, and the next park failed, stopping the node at that event.
    const h = harness();
    const changes: ConfigChange[] = [add('workspace', 'topp', { name: 'topp' }), add('layer', BAD.id, { title: 'v1' }), add('layer', 'topp:fine', { title: 'fine' })];
    for (let i = 0; i < 3_100; i += 1) changes.push(i % 4 === 3 ? modify('layer', 'topp:fine', { title: `fine ${i}` }) : modify('layer', BAD.id, { [`k${i}`]: i }));
    const events = await h.appendAll(changes);
    const ofBad = events.filter((event) => event.object?.id === BAD.id).map((event) => event.sequence);
    h.store.refuseWrites(SLAVE.node, BAD);
    const deps = applyDeps(h);
    await deliverUntilSettled(() => catchUp(deps, SLAVE));

    expect(await h.store.readProgress(SLAVE.node)).toEqual({ cursor: events.length });
    const [record] = await h.store.listParked(SLAVE.node);
    expect(record?.sequences).toEqual(ofBad.slice(0, PARKED_LIST_MAX));
    expect(record?.overflow).toEqual({ from: ofBad[PARKED_LIST_MAX], through: ofBad[ofBad.length - 1] });
    expect((await h.store.readObjects(SLAVE.node, [ref('layer', 'topp:fine')]))[0]?.properties).toEqual({ title: 'fine 3099' });

    // Still refused: nothing moves.
    expect((await retryParked(deps, SLAVE)).stillParked).toEqual([expect.objectContaining({ sequences: record?.sequences, overflow: record?.overflow })]);

    // Fixed. The object changes once more while the redrive reads its overflow back from the
    // log: that event joins the overflow, and the redrive applies it too.
    h.store.refuseWrites(SLAVE.node, BAD, false);
    const refill = h.store.refillParked.bind(h.store);
    const refills: { from: number; through: number; listed: number; outcome: string }[] = [];
    let late: PublishedEvent | undefined;
    jest.spyOn(h.store, 'refillParked').mockImplementation(async (node, asked) => {
      if (late === undefined && asked.next > asked.through) {
        [late] = await h.appendAll([modify('layer', BAD.id, { late: true })]);
        await catchUp(deps, SLAVE);
      }
      const outcome = await refill(node, asked);
      refills.push({ from: asked.from, through: asked.through, listed: asked.sequences.length, outcome });
      return outcome;
    });
    const fixed = await retryParked(deps, SLAVE);
    expect(late).toBeDefined();
    expect(fixed).toEqual({ cleared: [...ofBad, late?.sequence], stillParked: [] });
    const overflowed = ofBad.length - PARKED_LIST_MAX;
    expect(refills).toEqual([
      { from: ofBad[PARKED_LIST_MAX], through: ofBad[ofBad.length - 1], listed: PARKED_LIST_MAX, outcome: 'committed' },
      { from: ofBad[2 * PARKED_LIST_MAX], through: ofBad[ofBad.length - 1], listed: overflowed - PARKED_LIST_MAX, outcome: 'moved' },
      { from: ofBad[2 * PARKED_LIST_MAX], through: late?.sequence, listed: overflowed - PARKED_LIST_MAX + 1, outcome: 'committed' },
    ]);
    expect(await h.store.listParked(SLAVE.node)).toEqual([]);
    await catchUp(deps, OTHER);
    expect(h.store.allObjects(SLAVE.node)).toEqual(h.store.allObjects(OTHER.node));
    expect((await h.store.readObjects(SLAVE.node, [BAD]))[0]?.properties).toMatchObject({ k0: 0, k3098: 3098, late: true });
  });

  it.each([
    ['among the listed sequences', PARKED_LIST_MAX - 2],
    ['in the overflow', PARKED_LIST_MAX - 1],
  ])('drops modifies a GeoServer refuses when their object\'s add follows them, the add %s', async (_, modifiesBeforeAdd) => {
    // A modify of a workspace published before its add: the GeoServer has no object to PUT it on.
    const h = harness();
    const geoserver = new FakeGeoServer();
    const deps: ApplyDeps = { ...applyDeps(h), geoserver: { rest: geoserver, options: { sleep: async () => undefined } }, warn: () => undefined };
    const changes: ConfigChange[] = [modify('workspace', 'late', { isolated: false })];
    for (let i = 0; i < modifiesBeforeAdd; i += 1) changes.push(modify('workspace', 'late', { [`k${i}`]: i }));
    changes.push(add('workspace', 'late', { name: 'late', isolated: true }));
    const events = await h.appendAll(changes);
    await catchUp(deps, SLAVE);
    const [record] = await h.store.listParked(SLAVE.node);
    expect(record?.overflow !== undefined).toBe(modifiesBeforeAdd === PARKED_LIST_MAX - 1);
    expect(await retryParked(deps, SLAVE)).toEqual({ cleared: events.map((event) => event.sequence), stillParked: [] });
    expect(geoserver.objects.get('/workspaces/late')).toEqual({ workspace: { name: 'late', isolated: true } });
  });

  it.each([
    ['among the listed sequences', PARKED_LIST_MAX - 2],
    ['in the overflow', PARKED_LIST_MAX - 1],
  ])('drops an add a GeoServer refuses, and the modifies after it, when their object\'s remove follows them, the remove %s; the remove is still sent', async (_, modifiesBeforeRemove) => {
    // An add the GeoServer refuses for good (it names what a later change already took there).
    const h = harness();
    const geoserver = new FakeGeoServer();
    geoserver.refuse((request) => request.method !== 'DELETE' && request.path.startsWith('/workspaces'), 400, 'refused');
    const deps: ApplyDeps = { ...applyDeps(h), geoserver: { rest: geoserver, options: { sleep: async () => undefined, rejectionAttempts: 1 } }, warn: () => undefined };
    const changes: ConfigChange[] = [add('workspace', 'late', { name: 'late' })];
    for (let i = 0; i < modifiesBeforeRemove; i += 1) changes.push(modify('workspace', 'late', { [`k${i}`]: i }));
    changes.push(remove('workspace', 'late'));
    const events = await h.appendAll(changes);
    await catchUp(deps, SLAVE);
    const [record] = await h.store.listParked(SLAVE.node);
    expect(record?.overflow !== undefined).toBe(modifiesBeforeRemove === PARKED_LIST_MAX - 1);
    expect(await retryParked(deps, SLAVE)).toEqual({ cleared: events.map((event) => event.sequence), stillParked: [] });
    expect(geoserver.requests.filter((request) => request.startsWith('DELETE /workspaces/late'))).toEqual(['DELETE /workspaces/late?recurse=false']);
    expect((await h.store.readObjects(SLAVE.node, [ref('workspace', 'late')]))[0]).toMatchObject({ deleted: true, lastSequence: events[events.length - 1]?.sequence });
  });

  it('records why a refill of the list from the overflow failed, as it does for a head that fails again', async () => {
    const h = harness();
    const key = parkingKey(BAD, 0);
    const changes: ConfigChange[] = [add('layer', BAD.id, { title: 'v1' })];
    for (let i = 0; i < PARKED_LIST_MAX + 5; i += 1) changes.push(modify('layer', BAD.id, { [`k${i}`]: i }));
    await h.appendAll(changes);
    h.store.refuseWrites(SLAVE.node, BAD);
    const deps = applyDeps(h);
    await deliverUntilSettled(() => catchUp(deps, SLAVE));
    const parked = await h.store.readParked(SLAVE.node, key);
    expect(parked?.overflow).toBeDefined();
    // An earlier redrive applied the listed sequences and stopped (a timeout) before its refill;
    // then the log's retention passed over the overflow.
    h.store.refuseWrites(SLAVE.node, BAD, false);
    for (const sequence of parked?.sequences ?? []) expect(await h.store.applyParked(SLAVE.node, { key, sequence })).toBe('committed');
    h.log.trimThrough(CLUSTER, parked?.overflow?.through ?? 0);
    const retried = await retryParked(deps, SLAVE);
    const stored = await h.store.readParked(SLAVE.node, key);
    expect(retried.stillParked).toEqual([stored]);
    expect(stored).toMatchObject({ sequences: [], overflow: parked?.overflow, attempts: (parked?.attempts ?? 0) + 1, reason: expect.stringMatching(/^RESYNC_REQUIRED: Events 1001\.\.1006 .* are missing from the event log/) });
  });

  it('starts no step after its deadline, and says there is more: the next redrive goes on from there', async () => {
    const { h, events, deps } = await setUp();
    await deliverUntilSettled(() => applyDeliveredEvent(deps, SLAVE, events[7] as PublishedEvent));
    h.store.refuseWrites(SLAVE.node, BAD, false);
    const [record] = await h.store.listParked(SLAVE.node);
    expect(await retryParked(deps, SLAVE, Date.now() - 1)).toEqual({ cleared: [], stillParked: [record], more: true });
    // A deadline that falls after three steps: those applied, the rest left as they stand.
    let clock = 0;
    const now = jest.spyOn(Date, 'now').mockImplementation(() => clock++);
    const part = await retryParked(deps, SLAVE, 3);
    now.mockRestore();
    expect(part).toEqual({ cleared: [2, 4, 6], stillParked: [expect.objectContaining({ sequences: [7, 8] })], more: true });
    expect(await retryParked(deps, SLAVE)).toEqual({ cleared: [7, 8], stillParked: [] });
    await catchUp(deps, OTHER);
    expect(h.store.allObjects(SLAVE.node)).toEqual(h.store.allObjects(OTHER.node));
  });

  it('removes a record it emptied even when the deadline passed during the last apply: the object\'s next events apply', async () => {
    const h = harness();
    await h.appendAll([add('workspace', 'topp', { name: 'topp' }), add('layer', BAD.id, { title: 'v1' })]);
    h.store.refuseWrites(SLAVE.node, BAD);
    const deps = applyDeps(h);
    await deliverUntilSettled(() => catchUp(deps, SLAVE));
    expect(await h.store.listParked(SLAVE.node)).toEqual([expect.objectContaining({ sequences: [2] })]);
    h.store.refuseWrites(SLAVE.node, BAD, false);
    // The deadline falls during the one apply (a slow GeoServer, say).
    let clock = 0;
    const now = jest.spyOn(Date, 'now').mockImplementation(() => clock++);
    const redriven = await retryParked(deps, SLAVE, 1);
    now.mockRestore();
    expect(redriven).toEqual({ cleared: [2], stillParked: [] });
    await h.appendAll([modify('layer', BAD.id, { title: 'v2' })]);
    await catchUp(deps, SLAVE);
    expect(await h.store.listParked(SLAVE.node)).toEqual([]);
    expect((await h.store.readObjects(SLAVE.node, [BAD]))[0]?.properties).toEqual({ title: 'v2' });
  });

  it('ends a step started just before the deadline within the time a redrive request keeps to answer', async () => {
    // A head that fails again, whose modifies an add in the overflow supersedes: the step reads
    // the listed sequences and the overflow, and drops each. Every call takes 5 ms here.
    const h = harness();
    const geoserver = new FakeGeoServer();
    const deps: ApplyDeps = { ...applyDeps(h), geoserver: { rest: geoserver, options: { sleep: async () => undefined } }, warn: () => undefined };
    const changes: ConfigChange[] = [];
    for (let i = 0; i < PARKED_LIST_MAX + 50; i += 1) changes.push(modify('workspace', 'late', { [`k${i}`]: i }));
    changes.push(add('workspace', 'late', { name: 'late', isolated: true }));
    await h.appendAll(changes);
    await catchUp(deps, SLAVE);
    expect((await h.store.listParked(SLAVE.node))[0]?.overflow).toBeDefined();
    let clock = 0;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    const slow = <T extends object>(target: T, method: keyof T & string) => {
      const original = (target[method] as (...args: unknown[]) => Promise<unknown>).bind(target);
      jest.spyOn(target, method as never).mockImplementation((async (...args: unknown[]) => {
        clock += 5;
        return original(...args);
      }) as never);
    };
    slow(h.log, 'readRange');
    for (const method of ['applyParked', 'readParked', 'readObjects'] as const) slow(h.store, method);
    const result = await retryParked(deps, SLAVE, 1);
    expect(result.more).toBe(true);
    // redrive-node.ts keeps 5 s of the request's time to answer.
    expect(clock).toBeLessThan(5_000);
    jest.restoreAllMocks();
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    // Redriven until done, it ends with the add.
    let done = await retryParked(deps, SLAVE);
    while (done.more) done = await retryParked(deps, SLAVE);
    expect(done.stillParked).toEqual([]);
    expect(geoserver.objects.get('/workspaces/late')).toEqual({ workspace: { name: 'late', isolated: true } });
  });

  it('tells transient failures from the rest', () => {
    expect(isTransientFailure(Object.assign(new Error('x'), { name: 'ThrottlingException' }))).toBe(true);
    expect(isTransientFailure(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 503 } }))).toBe(true);
    expect(isTransientFailure(new TypeError('fetch failed', { cause: new Error('ECONNRESET') }))).toBe(true);
    expect(
      isTransientFailure(Object.assign(new Error('x'), { name: 'TransactionCanceledException', CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }] })),
    ).toBe(true);
    expect(
      isTransientFailure(Object.assign(new Error('x'), { name: 'TransactionCanceledException', CancellationReasons: [{ Code: 'ValidationError' }] })),
    ).toBe(false);
    expect(isTransientFailure(Object.assign(new Error('x'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }))).toBe(false);
    expect(isTransientFailure(new RangeError('Maximum call stack size exceeded'))).toBe(false);
    expect(isTransientFailure(Object.assign(new Error('GeoServer said 500'), { transient: false, $metadata: { httpStatusCode: 500 } }))).toBe(false);
  });
});
