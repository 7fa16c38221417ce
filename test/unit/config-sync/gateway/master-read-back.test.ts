/**
 * The gateway function's read-backs (gateway/master-read-back.ts): made with the master node's
 * own credentials in place of the caller's, the secret read once per instance and again after a
 * 401, and a secret that cannot be read is the master out of reach, naming the variable.
 */
import { CachedCredentials } from '../../../../lambdas/config-sync/adapters/geoserver-http';
import { UpstreamUnavailableError } from '../../../../lambdas/config-sync/adapters/geoserver-upstream';
import { masterReadBack } from '../../../../lambdas/config-sync/gateway/master-read-back';
import type { GatewayRequest, Upstream } from '../../../../lambdas/config-sync/gateway/gateway';

const CALLER = 'Basic ' + Buffer.from('sf-editor:secret').toString('base64');
const read = (path: string): GatewayRequest => ({ method: 'GET', path, query: '', headers: { authorization: CALLER, accept: 'application/json' } });

/** A master that answers `status` and keeps the headers of each call it got. */
function master(status: () => number) {
  const got: Record<string, string>[] = [];
  const upstream: Upstream = {
    async send(call) {
      got.push({ ...call.headers });
      return { status: status(), headers: {}, body: Buffer.from('{}') };
    },
  };
  return { upstream, got };
}

test("each read goes with the master node's credentials in place of the caller's; the secret is read once", async () => {
  let loads = 0;
  const credentials = new CachedCredentials(async () => {
    loads += 1;
    return { username: 'gs-main-admin', password: 'pw:1' };
  });
  const { upstream, got } = master(() => 200);
  const readBack = masterReadBack(upstream, credentials);
  await readBack.send(read('/layergroups/secret.json'), 1000);
  await readBack.send(read('/layers/topp:states.json'), 1000);
  const expected = 'Basic ' + Buffer.from('gs-main-admin:pw:1').toString('base64');
  expect(got).toEqual([
    { authorization: expected, accept: 'application/json' },
    { authorization: expected, accept: 'application/json' },
  ]);
  expect(loads).toBe(1);
});

test('a 401 drops the cached credentials: the next read reads the secret again (rotated)', async () => {
  const passwords = ['old', 'new'];
  let loads = 0;
  const credentials = new CachedCredentials(async () => ({ username: 'admin', password: passwords[Math.min(loads++, 1)]! }));
  const statuses = [401, 200];
  const { upstream, got } = master(() => statuses.shift() ?? 200);
  const readBack = masterReadBack(upstream, credentials);
  expect((await readBack.send(read('/workspaces/topp.json'))).status).toBe(401);
  expect((await readBack.send(read('/workspaces/topp.json'))).status).toBe(200);
  expect(got.map((headers) => Buffer.from(headers.authorization!.slice('Basic '.length), 'base64').toString())).toEqual(['admin:old', 'admin:new']);
});

test("a secret that cannot be read is the master out of reach, naming the variable and nothing of the secret; nothing is sent", async () => {
  const { upstream, got } = master(() => 200);
  const failing = masterReadBack(upstream, new CachedCredentials(async () => Promise.reject(new Error('AccessDeniedException: not authorized'))));
  const error = await failing.send(read('/workspaces/topp.json'), 1000).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(UpstreamUnavailableError);
  expect(error).toMatchObject({ timedOut: false, message: expect.stringMatching(/GEOSERVER_CREDENTIALS_SECRET.*AccessDeniedException/) });

  const slow = masterReadBack(upstream, new CachedCredentials(() => new Promise(() => undefined)));
  await expect(slow.send(read('/workspaces/topp.json'), 20)).rejects.toMatchObject({ timedOut: true, message: expect.stringContaining('no answer within 20 ms') });
  expect(got).toEqual([]);
});

// The message is the gateway's 502 answer to its caller, any GeoServer user: AWS resource names
// (the function's role, the secret, the account) stay in the function's log (`cause`), as they stay
// out of what GET /nodes and the jobs show (withoutArns).
test("a secret refused by IAM names no AWS resource to the caller; the error's cause keeps them for the log", async () => {
  const { upstream } = master(() => 200);
  const denied = new Error(
    'User: arn:aws:sts::123456789012:assumed-role/geo-GatewayRole-X1/geo-Gateway is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:eu-west-1:123456789012:secret:geo/master-AbCdEf',
  );
  const failing = masterReadBack(upstream, new CachedCredentials(async () => Promise.reject(denied)));
  const error = (await failing.send(read('/workspaces/topp.json'), 1000).catch((caught: unknown) => caught)) as UpstreamUnavailableError;
  expect(error).toBeInstanceOf(UpstreamUnavailableError);
  expect(error.message).toContain('is not authorized to perform: secretsmanager:GetSecretValue');
  expect(error.message).not.toMatch(/arn:aws|123456789012/);
  expect(error.cause).toBe(denied);
});

test("a secret read that outlasts the call's time is cancelled, not left running past the request's deadline", async () => {
  const { upstream, got } = master(() => 200);
  let cancelled: unknown;
  // A Secrets Manager read that answers only when its signal aborts it (as the SDK's send does with `abortSignal`).
  const load = (signal?: AbortSignal) =>
    new Promise<never>((_, reject) => {
      signal?.addEventListener('abort', () => {
        cancelled = signal.reason;
        reject(new Error('Request aborted'));
      });
    });
  const slow = masterReadBack(upstream, new CachedCredentials(load));
  await expect(slow.send(read('/workspaces/topp.json'), 20)).rejects.toMatchObject({ timedOut: true, message: expect.stringContaining('no answer within 20 ms') });
  expect(cancelled).toBeInstanceOf(Error);
  expect(got).toEqual([]);
});
