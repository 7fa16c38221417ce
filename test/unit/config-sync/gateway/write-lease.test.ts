/**
 * The cluster's gateway write lease, as the gateway uses it: writes run one at a time, a dead
 * holder's lease is taken over once it expires, a waiter gives up with a 503 after a bounded wait,
 * and the lease is given back whatever the write did. The store here keeps the DynamoDB
 * adapter's contract (a conditional take, an owner-checked release); the adapter itself is tested
 * against DynamoDB Local in test/integration/config-sync/adapters.test.ts.
 */
import { GatewayBusyError, leaseSerializer, type LeaseAttempt, type LeaseHold, type LeaseStore } from '../../../../lambdas/config-sync/gateway/write-lease';
import { MemoryWriteLease } from '../../../../lambdas/config-sync/adapters/memory';
import { handleGatewayCall, type GatewayRequest, type Upstream, type UpstreamResponse } from '../../../../lambdas/config-sync/gateway/gateway';
import { masterView } from './master-view';

class MemoryLease implements LeaseStore {
  holder: { owner: string; until: number } | undefined;
  attempts = 0;

  async tryAcquire(owner: string, now: number, until: number): Promise<LeaseAttempt> {
    this.attempts += 1;
    await Promise.resolve();
    if (this.holder && this.holder.until >= now) return { acquired: false, heldUntil: this.holder.until };
    this.holder = { owner, until };
    return { acquired: true };
  }

  async release(owner: string): Promise<void> {
    await Promise.resolve();
    if (this.holder?.owner === owner) this.holder = undefined;
  }

  async renew(owner: string, until: number): Promise<boolean> {
    await Promise.resolve();
    if (this.holder?.owner !== owner) return false;
    this.holder = { owner, until };
    return true;
  }
}

/** A clock the sleeps move forward, so waits of seconds take no time. */
function fakeTime(start = 1_000_000) {
  let now = start;
  return { now: () => now, sleep: async (ms: number) => void (now += ms), advance: (ms: number) => void (now += ms) };
}

test('concurrent writes run one at a time, each until its work is done', async () => {
  const store = new MemoryLease();
  const writes = leaseSerializer(store, { waitMs: 5000, ttlMs: 30_000, backoff: { baseMs: 1, capMs: 5 } });
  let running = 0;
  let most = 0;
  const finished: number[] = [];
  await Promise.all(
    Array.from({ length: 8 }, (_, index) =>
      writes.run(async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 3));
        running -= 1;
        finished.push(index);
      }),
    ),
  );
  expect(most).toBe(1);
  expect(finished.sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(store.holder).toBeUndefined();
});

test("a dead holder's lease is taken over once it has expired, not before", async () => {
  const time = fakeTime();
  const store = new MemoryLease();
  store.holder = { owner: 'crashed', until: time.now() + 3000 };
  const writes = leaseSerializer(store, { waitMs: 8000, ttlMs: 30_000, now: time.now, sleep: time.sleep });
  let ranAt: number | undefined;
  await writes.run(async () => {
    ranAt = time.now();
  });
  expect(ranAt).toBeGreaterThan(1_000_000 + 3000);
  // it woke up close to the expiry rather than sleeping far past it
  expect(ranAt).toBeLessThan(1_000_000 + 3000 + 300);
  expect(store.holder).toBeUndefined();
});

test('a write that cannot get the lease within the wait is refused with 503 and Retry-After, and never runs', async () => {
  const time = fakeTime();
  const store = new MemoryLease();
  store.holder = { owner: 'slow-or-dead', until: time.now() + 20_000 };
  const writes = leaseSerializer(store, { waitMs: 8000, ttlMs: 30_000, now: time.now, sleep: time.sleep });
  let ran = false;
  const refused = await writes.run(async () => void (ran = true)).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(GatewayBusyError);
  const busy = refused as GatewayBusyError;
  expect(busy.status).toBe(503);
  expect(busy.code).toBe('GATEWAY_BUSY');
  expect(busy.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  expect(busy.retryAfterSeconds).toBeLessThanOrEqual(5);
  expect(busy.waitedMs).toBeLessThanOrEqual(8000);
  expect(busy.waitedMs).toBeGreaterThan(7000);
  expect(busy.message).toMatch(/write lease/);
  expect(ran).toBe(false);
  expect(store.holder?.owner).toBe('slow-or-dead');
  // bounded backoff: a few dozen attempts over 8 s, not thousands
  expect(store.attempts).toBeGreaterThan(8);
  expect(store.attempts).toBeLessThan(200);
});

test("a run its `refusal` refuses, read once the lease is held, runs neither the recovery nor its work, and clears its own intent, not an earlier holder's", async () => {
  const store = new MemoryWriteLease();
  const left = { owner: 'crashed', at: new Date(0).toISOString(), method: 'PUT', path: '/workspaces/a', objects: [] };
  store.intents.set('crashed', left);
  const writes = leaseSerializer(store, { waitMs: 1000, ttlMs: 30_000, newOwner: () => 'refused-write' });
  const done: string[] = [];
  const refused = new Error('held');
  const run = writes.run(async () => void done.push('work'), {
    intent: { method: 'PUT', path: '/workspaces/b', objects: [] },
    refusal: async () => {
      done.push(`refusal read, lease held by ${store.holder?.owner}`);
      return refused;
    },
    recover: async () => (done.push('recovery'), ['crashed']),
  });
  await expect(run).rejects.toBe(refused);
  expect(done).toEqual(['refusal read, lease held by refused-write']);
  expect(store.holder).toBeUndefined();
  expect([...store.intents.keys()]).toEqual(['crashed']);
});

test('the lease is given back when the write fails, and a failed release does not fail the write', async () => {
  const store = new MemoryLease();
  const writes = leaseSerializer(store, { waitMs: 1000, ttlMs: 30_000 });
  await expect(writes.run(async () => Promise.reject(new Error('master down')))).rejects.toThrow('master down');
  expect(store.holder).toBeUndefined();

  const failures: unknown[] = [];
  const broken: LeaseStore = { tryAcquire: (o, n, u) => store.tryAcquire(o, n, u), release: async () => Promise.reject(new Error('throttled')), renew: (o, u) => store.renew(o, u) };
  const result = await leaseSerializer(broken, { waitMs: 1000, ttlMs: 30_000, onReleaseFailure: (error) => failures.push(error) }).run(async () => 'done');
  expect(result).toBe('done');
  expect(failures).toHaveLength(1);
});

describe('which calls the gateway serializes, and their time budget', () => {
  const answers: Record<string, UpstreamResponse> = {
    'GET /about/version.json': { status: 200, headers: {}, body: Buffer.from('{}') },
    'POST /security/acl/layers': { status: 200, headers: {}, body: Buffer.alloc(0) },
    'GET /workspaces.json': { status: 200, headers: {}, body: Buffer.from('{"workspaces":""}') },
    'POST /workspaces': { status: 201, headers: {}, body: Buffer.from('topp') },
    'GET /workspaces/topp.json': { status: 200, headers: {}, body: Buffer.from('{"workspace":{"name":"topp"}}') },
    'GET /namespaces/topp.json': { status: 404, headers: {}, body: Buffer.alloc(0) },
    'PUT /workspaces/topp/datastores/roads/external.shp': { status: 201, headers: {}, body: Buffer.alloc(0) },
  };
  const calls: { call: string; timeoutMs?: number }[] = [];
  const upstream: Upstream = {
    async send(request: GatewayRequest, timeoutMs?: number) {
      const call = `${request.method} ${request.path}`;
      calls.push({ call, timeoutMs });
      const answer = answers[call];
      if (!answer) throw new Error(`unexpected ${call}`);
      return answer;
    },
  };
  const readBack = masterView(upstream);
  const serialized: string[] = [];
  const writes = { run: <T>(work: (hold: LeaseHold) => Promise<T>) => (serialized.push('run'), work({ keep: async () => undefined, unrecovered: [] })) };
  const publisher = { publish: async () => 7 };
  const request = (method: string, path: string): GatewayRequest => ({ method, path, query: '', headers: {}, body: Buffer.from(method === 'GET' ? '' : '{"workspace":{"name":"topp"}}') });

  beforeEach(() => {
    calls.length = 0;
    serialized.length = 0;
  });

  test('reads and unmanaged paths are not serialized; a write to a replicated path is, and so is an upload into a store', async () => {
    await handleGatewayCall(upstream, publisher, request('GET', '/about/version.json'), { writes, readBack });
    await handleGatewayCall(upstream, publisher, request('POST', '/security/acl/layers'), { writes, readBack });
    await handleGatewayCall(upstream, publisher, request('GET', '/workspaces.json'), { writes, readBack });
    expect(serialized).toEqual([]);
    const created = await handleGatewayCall(upstream, publisher, request('POST', '/workspaces'), { writes, readBack });
    expect(created.sequences).toEqual([7]);
    expect(serialized).toEqual(['run']);
    // The upload's capture is started inside the run, before the lease is given back.
    const captured: string[] = [];
    const captureUpload = async () => (captured.push(serialized.join()), { job: 'capture-1', outcome: 'started' as const });
    const uploaded = await handleGatewayCall(upstream, publisher, request('PUT', '/workspaces/topp/datastores/roads/external.shp'), { writes, captureUpload, readBack });
    expect(uploaded).toMatchObject({ status: 201, replication: 'capture', capture: { job: 'capture-1' } });
    expect(serialized).toEqual(['run', 'run']);
    expect(captured).toEqual(['run,run']);
  });

  test('a write to a replicated path larger than the cluster replicates is refused before anything is sent; an unmanaged one is not', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 'a');
    const refused = await handleGatewayCall(upstream, publisher, { ...request('POST', '/workspaces'), body: big }, { writes, readBack }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE', field: 'body', message: expect.stringContaining('at most 1048576 bytes') });
    expect(calls).toEqual([]);
    expect(serialized).toEqual([]);
    const unmanaged = await handleGatewayCall(upstream, publisher, { ...request('POST', '/security/acl/layers'), body: big }, { writes, readBack });
    expect(unmanaged.status).toBe(200);
  });

  test("every call gets what is left of the request's budget; a write's forward leaves the publish reserve", async () => {
    const now = 50_000;
    await handleGatewayCall(upstream, publisher, request('POST', '/workspaces'), { deadline: now + 10_000, publishReserveMs: 3000, now: () => now, readBack });
    expect(calls).toEqual([
      { call: 'POST /workspaces', timeoutMs: 7000 },
      { call: 'GET /workspaces/topp.json', timeoutMs: 10_000 },
      { call: 'GET /namespaces/topp.json', timeoutMs: 10_000 },
    ]);
    calls.length = 0;
    await handleGatewayCall(upstream, publisher, request('GET', '/about/version.json'), { deadline: now - 5, now: () => now, readBack });
    expect(calls).toEqual([{ call: 'GET /about/version.json', timeoutMs: 1 }]); // out of budget: fails fast
  });
});

test('work longer than one lease keeps it by asking before each step: no other writer takes it while the holder works', async () => {
  const time = fakeTime();
  const store = new MemoryLease();
  const writes = leaseSerializer(store, { waitMs: 1000, ttlMs: 30_000, now: time.now, sleep: time.sleep, backoff: { baseMs: 1, capMs: 5 } });
  const other = leaseSerializer(store, { waitMs: 1, ttlMs: 30_000, now: time.now, sleep: time.sleep, backoff: { baseMs: 1, capMs: 1 } });
  const steps: number[] = [];
  await writes.run(async (hold) => {
    // Five steps of up to 12 s each, 60 s in all: twice the lease's time to live.
    for (let step = 0; step < 5; step += 1) {
      await hold.keep(12_000);
      // Another writer, at any moment of the step, finds the lease held.
      await expect(other.run(async () => 'taken')).rejects.toBeInstanceOf(GatewayBusyError);
      time.advance(12_000);
      steps.push(step);
    }
  });
  expect(steps).toEqual([0, 1, 2, 3, 4]);
  // Given back once the work is done.
  expect(store.holder).toBeUndefined();
  expect(await other.run(async () => 'taken')).toBe('taken');
});

test('a holder that outlived its lease, taken over meanwhile, stops at its next step with a transient error and frees nothing', async () => {
  const time = fakeTime();
  const store = new MemoryLease();
  const writes = leaseSerializer(store, { waitMs: 1000, ttlMs: 30_000, now: time.now, sleep: time.sleep });
  let after = false;
  const run = writes.run(async (hold) => {
    await hold.keep(10_000);
    // The step took longer than the lease (its calls outlived their own bounds): another writer took it over.
    time.advance(31_000);
    store.holder = { owner: 'other', until: time.now() + 30_000 };
    await hold.keep(10_000);
    after = true;
  });
  await expect(run).rejects.toMatchObject({ name: 'WriteLeaseLostError', transient: true });
  expect(after).toBe(false);
  expect(store.holder?.owner).toBe('other');
});

test('a step asking for more than the lease lasts is refused before it runs', async () => {
  const store = new MemoryLease();
  const writes = leaseSerializer(store, { waitMs: 1000, ttlMs: 30_000 });
  await expect(writes.run(async (hold) => hold.keep(30_001))).rejects.toThrow(/at most its 30000 ms/);
  expect(store.holder).toBeUndefined();
});

describe("the sweep's mark (`recoveryWantedUntil`): asked for by a sweep that found the lease held, honoured by the master's jobs", () => {
  const intent = { owner: 'died', at: '2026-12-06T11:00:00.000Z', method: 'DELETE', path: '/styles/old', objects: [{ type: 'style' as const, id: 'old', path: '/styles/old' }] };

  test("a job's take is refused while the mark stands, waiting for the mark's end rather than hammering the item, and gives up after its wait as for any holder", async () => {
    const lease = new MemoryWriteLease();
    const time = fakeTime();
    await lease.wantRecovery(time.now() + 90_000);
    const attempts = jest.spyOn(lease, 'tryAcquire');
    const job = leaseSerializer(lease, { waitMs: 10_000, ttlMs: 35_000, now: time.now, sleep: time.sleep, yieldsToRecovery: true });
    let ran = false;
    const refused = await job.run(async () => (ran = true)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(GatewayBusyError);
    expect(ran).toBe(false);
    expect(lease.holder).toBeUndefined();
    // Backed off as behind a holder (at most 251 ms a try), not retried every millisecond.
    expect(attempts.mock.calls.length).toBeGreaterThanOrEqual(10_000 / 251);
    expect(attempts.mock.calls.length).toBeLessThan(1_000);
    expect(attempts.mock.calls.every((call) => call[4]?.yields === true && call[4]?.recovers === undefined)).toBe(true);
    // Once it lapses (no sweep came to take the lease), the job takes it again.
    time.advance(90_001);
    expect(await job.run(async () => 'next difference')).toBe('next difference');
  });

  test('a take that recovers (the sweep, a gateway write) gets the lease whatever the mark and clears it; the job takes the lease after it', async () => {
    const lease = new MemoryWriteLease();
    const time = fakeTime();
    lease.intents.set(intent.owner, intent);
    await lease.wantRecovery(time.now() + 90_000);
    const recovered: string[][] = [];
    const recovering = leaseSerializer(lease, { waitMs: 1_000, ttlMs: 35_000, now: time.now, sleep: time.sleep, recover: async (pending) => (recovered.push(pending.map((one) => one.owner)), pending.map((one) => one.owner)) });
    await recovering.run(async () => undefined);
    expect(recovered).toEqual([['died']]);
    expect(lease.recoveryWantedUntil).toBeUndefined();
    expect(lease.intents.size).toBe(0);
    const job = leaseSerializer(lease, { waitMs: 1_000, ttlMs: 35_000, now: time.now, sleep: time.sleep, yieldsToRecovery: true });
    expect(await job.run(async () => 'next difference')).toBe('next difference');
  });

  test('a write that neither recovers nor yields (no recovery configured) takes the lease whatever the mark, and leaves it standing', async () => {
    const lease = new MemoryWriteLease();
    const time = fakeTime();
    await lease.wantRecovery(time.now() + 90_000);
    const plain = leaseSerializer(lease, { waitMs: 1_000, ttlMs: 35_000, now: time.now, sleep: time.sleep });
    expect(await plain.run(async () => 'written')).toBe('written');
    expect(lease.recoveryWantedUntil).toBe(time.now() + 90_000);
  });

  test('a run that finds the lease held is told once, before it waits; one that takes it at once is not told', async () => {
    const lease = new MemoryWriteLease();
    const time = fakeTime();
    const told: number[] = [];
    const writes = leaseSerializer(lease, { waitMs: 2_000, ttlMs: 35_000, now: time.now, sleep: time.sleep, onHeld: async (heldUntil) => void told.push(heldUntil) });
    await writes.run(async () => undefined);
    expect(told).toEqual([]);
    lease.holder = { owner: 'capture-entry', until: time.now() + 20_000 };
    const until = lease.holder.until;
    await expect(writes.run(async () => undefined)).rejects.toBeInstanceOf(GatewayBusyError);
    expect(told).toEqual([until]);
  });
});
