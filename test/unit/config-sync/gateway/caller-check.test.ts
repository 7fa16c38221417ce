/**
 * A write's caller is shown to the master before the cluster's write lease is taken
 * (gateway/caller-check.ts): a caller the master refuses gets its 401 and holds no lease, however
 * long another write holds it; one it accepts is asked once a minute per instance, and a write
 * goes on as before whatever else the master answers.
 */
import { CallerCheck, CALLER_CHECK_PATH } from '../../../../lambdas/config-sync/gateway/caller-check';
import { handleGatewayCall, type GatewayRequest, type Upstream, type UpstreamResponse } from '../../../../lambdas/config-sync/gateway/gateway';
import { GatewayBusyError, leaseSerializer, type LeaseAttempt, type LeaseStore } from '../../../../lambdas/config-sync/gateway/write-lease';
import { masterView } from './master-view';

const ADMIN = 'Basic ' + Buffer.from('admin:geoserver').toString('base64');
const WRONG = 'Basic ' + Buffer.from('admin:wrong').toString('base64');
const REFUSED: UpstreamResponse = { status: 401, headers: { 'www-authenticate': 'Basic realm="GeoServer Realm"', 'content-type': 'text/html' }, body: Buffer.from('HTTP Status 401 - Unauthorized') };
/** The check's refusal of such a caller: the master's answer as it gave it, and why. */
const REFUSED_CALLER = { answer: REFUSED, reason: "the master refused the caller's credentials (GET /about/version.json answered 401): the write was not forwarded" };

/** A master that accepts ADMIN (and the key "k1") and refuses every other caller with 401, recording each call. */
function master(extra: Record<string, UpstreamResponse> = {}) {
  const calls: GatewayRequest[] = [];
  const upstream: Upstream = {
    async send(request) {
      calls.push(request);
      const accepted = request.headers.authorization === ADMIN || new URLSearchParams(request.query).get('authkey') === 'k1';
      const call = `${request.method} ${request.path}`;
      if (!accepted) return REFUSED;
      const answer = extra[call] ?? { 'GET /about/version.json': { status: 200, headers: {}, body: Buffer.from('{"about":{}}') } }[call];
      if (!answer) throw new Error(`unexpected ${call}`);
      return answer;
    },
  };
  return { upstream, calls };
}

const write = (authorization?: string, query = ''): GatewayRequest => ({
  method: 'POST',
  path: '/workspaces',
  query,
  headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
  body: Buffer.from('{"workspace":{"name":"topp"}}'),
});

describe('CallerCheck', () => {
  test('wrong credentials get the master\'s 401 as it answered it; the read carries the caller\'s Authorization and nothing else of the write', async () => {
    const { upstream, calls } = master();
    const check = new CallerCheck(upstream);
    expect(await check.refusal(write(WRONG), 900)).toEqual(REFUSED_CALLER);
    expect(calls).toEqual([{ method: 'GET', path: CALLER_CHECK_PATH, query: '', headers: { accept: 'application/json', authorization: WRONG } }]);
    // A refusal is not remembered: the same caller is asked again (its user may have been made since).
    expect(await check.refusal(write(WRONG))).toEqual(REFUSED_CALLER);
    expect(calls).toHaveLength(2);
  });

  test('an accepted caller is asked once per minute, by a digest of its credentials', async () => {
    const { upstream, calls } = master();
    let now = 1_000_000;
    const check = new CallerCheck(upstream, { now: () => now });
    expect(await check.refusal(write(ADMIN))).toBeUndefined();
    expect(await check.refusal(write(ADMIN))).toBeUndefined();
    expect(calls).toHaveLength(1);
    // Other credentials are other callers.
    expect(await check.refusal(write(WRONG))).toEqual(REFUSED_CALLER);
    expect(calls).toHaveLength(2);
    now += 60_001;
    expect(await check.refusal(write(ADMIN))).toBeUndefined();
    expect(calls).toHaveLength(3);
    // Kept as a digest: nothing of the credentials is held as sent.
    expect(JSON.stringify([...(check as unknown as { accepted: Map<string, number> }).accepted.keys()])).not.toContain(ADMIN.slice(6));
  });

  test('a key in the authkey parameter goes with the read, alone of the query', async () => {
    const { upstream, calls } = master();
    const check = new CallerCheck(upstream);
    expect(await check.refusal(write(undefined, 'authkey=k1&recurse=true'))).toBeUndefined();
    expect(calls[0]).toMatchObject({ path: CALLER_CHECK_PATH, query: 'authkey=k1', headers: { accept: 'application/json' } });
    expect(await check.refusal(write(undefined, 'authkey=k2'))).toEqual(REFUSED_CALLER);
  });

  test('a 403 (a user kept from that path only) or a 5xx lets the write go on; only a 403 or 2xx is remembered', async () => {
    for (const [status, remembered] of [
      [403, true],
      [500, false],
      [503, false],
    ] as const) {
      const calls: string[] = [];
      const check = new CallerCheck({ send: async (request) => (calls.push(request.path), { status, headers: {}, body: Buffer.alloc(0) }) });
      expect(await check.refusal(write(ADMIN))).toBeUndefined();
      expect(await check.refusal(write(ADMIN))).toBeUndefined();
      expect(calls).toHaveLength(remembered ? 1 : 2);
    }
  });

  test("a caller without credentials is refused 401 at once, the master not asked, also where it serves REST reads to anonymous callers (GeoServer's anonymous read-only rules)", async () => {
    // `/**;GET=IS_AUTHENTICATED_ANONYMOUSLY`: the read answers 200 to anyone, which says nothing of writes.
    const calls: GatewayRequest[] = [];
    const publicReads: Upstream = {
      async send(request) {
        calls.push(request);
        return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"about":{}}') };
      },
    };
    const check = new CallerCheck(publicReads);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const refused = await check.refusal(write(undefined));
      expect(refused?.answer).toMatchObject({ status: 401, headers: { 'www-authenticate': 'Basic realm="GeoServer Realm"', 'content-type': 'application/json' } });
      expect(JSON.parse(refused!.answer.body.toString())).toEqual({ code: 'CREDENTIALS_REQUIRED', message: expect.stringContaining('carries no credentials') });
      expect(refused?.reason).toContain('no credentials');
    }
    expect(calls).toHaveLength(0);
    // With credentials, the master's 200 lets the write go on as before.
    expect(await check.refusal(write(ADMIN))).toBeUndefined();
    expect(await check.refusal(write(undefined, 'authkey=k1'))).toBeUndefined();
  });

  test('a master out of reach fails the check as it would fail the write', async () => {
    const check = new CallerCheck({ send: async () => Promise.reject(new Error('connect ECONNREFUSED')) });
    await expect(check.refusal(write(ADMIN))).rejects.toThrow('ECONNREFUSED');
  });

  test('at most 1,000 callers are remembered; the oldest is forgotten first', async () => {
    const asked: string[] = [];
    const check = new CallerCheck({ send: async (request) => (asked.push(request.headers.authorization ?? ''), { status: 200, headers: {}, body: Buffer.alloc(0) }) });
    for (let index = 0; index <= 1000; index += 1) await check.refusal(write(`Basic user-${index}`));
    expect(asked).toHaveLength(1001);
    await check.refusal(write('Basic user-1000'));
    expect(asked).toHaveLength(1001);
    await check.refusal(write('Basic user-0'));
    expect(asked).toHaveLength(1002);
  });
});

/** A lease another write holds for the next minute. */
class HeldLease implements LeaseStore {
  attempts = 0;
  async tryAcquire(_owner: string, now: number): Promise<LeaseAttempt> {
    this.attempts += 1;
    return { acquired: false, heldUntil: now + 60_000 };
  }
  async release(): Promise<void> {}
  async renew(): Promise<boolean> {
    return false;
  }
}

describe('the gateway asks before it takes the lease', () => {
  const publisher = { publish: async () => 7 };

  test("while another write holds the lease, a caller the master refuses is answered its 401 at once, with nothing leased, read or published", async () => {
    const { upstream, calls } = master();
    const lease = new HeldLease();
    const writes = leaseSerializer(lease, { waitMs: 50, ttlMs: 30_000, backoff: { baseMs: 1, capMs: 5 } });
    const published: unknown[] = [];
    const options = { writes, callers: new CallerCheck(upstream), readBack: masterView(upstream) };
    const answer = await handleGatewayCall(upstream, { publish: async (change) => (published.push(change), 1) }, write(WRONG), options);
    expect(answer).toMatchObject({ status: 401, replication: 'refused', sequences: [], headers: { 'www-authenticate': 'Basic realm="GeoServer Realm"' } });
    expect(answer.warning).toContain('GET /about/version.json answered 401');
    expect(answer.body.toString()).toBe('HTTP Status 401 - Unauthorized');
    expect(lease.attempts).toBe(0);
    expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual(['GET /about/version.json']);
    expect(published).toEqual([]);
    // An upload into a store is asked too.
    const upload = { ...write(undefined), method: 'PUT', path: '/workspaces/topp/datastores/roads/external.shp', headers: { 'content-type': 'text/plain' }, body: Buffer.from('file:///data/roads.shp') };
    expect((await handleGatewayCall(upstream, publisher, upload, options)).status).toBe(401);
    expect(lease.attempts).toBe(0);
    // A caller the master accepts waits for the lease as before, and is refused 503 when it stays busy.
    await expect(handleGatewayCall(upstream, publisher, write(ADMIN), options)).rejects.toBeInstanceOf(GatewayBusyError);
    expect(lease.attempts).toBeGreaterThan(0);
  });

  test("while another write holds the lease, a write without credentials is answered 401 at once even where the master serves REST reads to anyone; nothing leased or published", async () => {
    const calls: string[] = [];
    const publicReads: Upstream = {
      async send(request) {
        calls.push(`${request.method} ${request.path}`);
        if (request.method === 'GET') return { status: 200, headers: {}, body: Buffer.from('{"about":{}}') };
        return request.headers.authorization === undefined ? REFUSED : { status: 201, headers: {}, body: Buffer.from('topp') };
      },
    };
    const lease = new HeldLease();
    const writes = leaseSerializer(lease, { waitMs: 50, ttlMs: 30_000, backoff: { baseMs: 1, capMs: 5 } });
    const published: unknown[] = [];
    const options = { writes, callers: new CallerCheck(publicReads), readBack: masterView(publicReads) };
    const answer = await handleGatewayCall(publicReads, { publish: async (change) => (published.push(change), 1) }, write(undefined), options);
    expect(answer).toMatchObject({ status: 401, replication: 'refused', sequences: [] });
    expect(lease.attempts).toBe(0);
    expect(calls).toEqual([]);
    expect(published).toEqual([]);
  });

  test('reads and unreplicated paths are not asked: the master decides on them as it always did', async () => {
    const { upstream, calls } = master({ 'POST /security/acl/layers': { status: 200, headers: {}, body: Buffer.alloc(0) } });
    const options = { callers: new CallerCheck(upstream), readBack: masterView(upstream) };
    expect((await handleGatewayCall(upstream, publisher, { ...write(WRONG), method: 'GET', path: '/workspaces.json', body: Buffer.alloc(0) }, options)).status).toBe(401);
    expect((await handleGatewayCall(upstream, publisher, { ...write(ADMIN), path: '/security/acl/layers' }, options)).status).toBe(200);
    expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual(['GET /workspaces.json', 'POST /security/acl/layers']);
  });
});
