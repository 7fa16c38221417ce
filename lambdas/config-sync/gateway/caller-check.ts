/**
 * A write's caller is asked to the master before the cluster's write lease is taken.
 *
 * Writes through the gateway hold one lease per cluster (./write-lease.ts) from their read of the
 * object before the write until their changes are in the log, and the master's GeoServer decides
 * only once the write is forwarded under it. A caller whose credentials the master refuses (none,
 * or wrong ones) would hold the lease for that whole time, longer when GeoServer's brute-force
 * protection delays its answer to a failed login by seconds: a stranger sending such writes in a
 * loop would keep every administrator's writes waiting until they gave up with 503.
 *
 * So before its first write, a caller's credentials are shown to the master with a read every
 * GeoServer serves, `GET /about/version` (a REST path its default security keeps for
 * administrators). A 401 is the master refusing the credentials themselves: GeoServer's HTTP
 * Basic filter answers it to wrong credentials before any rule is read, so the write would be
 * refused the same way. It is passed on as the
 * write's answer, and nothing was leased, read or written. Anything else lets the write go on to
 * the lease, where the master's security decides on the write itself as before: a 403 (a user
 * the rules keep from that path but who may write elsewhere) and a 2xx, or a 5xx, which says
 * nothing of the credentials. A master out of reach fails the write as its forward would (502,
 * 504), nothing leased. A caller the master accepted is not asked again within
 * `ttlMs`, per function instance: its credentials are kept as a SHA-256 digest, never as sent.
 *
 * A caller with no credentials at all (no `Authorization`, no `authkey`) is refused with 401 at
 * once, the master not asked (its read could not say more): GeoServer's default REST security
 * refuses such a caller every path, and its rules may let anonymous callers read
 * (`/**;GET=IS_AUTHENTICATED_ANONYMOUSLY`, its documentation's "anonymous read-only access") while
 * keeping writes for administrators, and such a caller's writes would otherwise hold the lease
 * each until the master refused them, as strangers with wrong credentials did. The answer asks
 * for credentials as GeoServer does (`WWW-Authenticate: Basic realm="GeoServer Realm"`), so a
 * client that sends them only when challenged sends them next. A GeoServer that takes anonymous
 * REST writes has them refused through the gateway. On a master that serves the read to anyone,
 * credentials GeoServer ignores rather than refuses (a scheme it has no filter for, an unknown
 * `authkey`) read as anonymous and are answered 200 too: such writes still go on to the lease.
 *
 * The read carries what the write would authenticate with: its `Authorization` header (the only
 * header of the caller's the gateway passes on, gateway.ts `forwardedHeaders`) and an `authkey`
 * query parameter (the name GeoServer's key authentication reads by default). A GeoServer whose
 * key authentication reads another parameter name refuses such a read: its callers use HTTP Basic
 * through the gateway. Anonymous writes are refused whatever the master's rules (above).
 */
import { createHash } from 'node:crypto';
import { AppError } from '../../shared/errors';
import type { CallerRefusal, Callers, GatewayRequest, Upstream, UpstreamResponse } from './gateway';

/** The read every GeoServer serves (its REST API's version), under `<geoserver>/rest`. */
export const CALLER_CHECK_PATH = '/about/version.json';
/** The query parameter GeoServer's key authentication reads unless configured otherwise. */
export const AUTH_KEY_PARAMETER = 'authkey';
/** How long a caller the master accepted is not asked again (per function instance). */
export const CALLER_CHECK_TTL_MS = 60_000;
/** Callers remembered per instance; the oldest is forgotten first. */
const MAX_REMEMBERED = 1000;

/** 401: a write without credentials (answered with GeoServer's HTTP Basic challenge, `credentialsRequired`). */
export class CredentialsRequiredError extends AppError {
  constructor() {
    super(
      401,
      'CREDENTIALS_REQUIRED',
      "The write carries no credentials, and the gateway forwards writes only with a GeoServer user's (HTTP Basic, or an authkey parameter); nothing was sent to the master",
    );
  }
}

/** The answer to a write without credentials: the error's JSON, asking for HTTP Basic as GeoServer does. */
function credentialsRequired(): UpstreamResponse {
  const error = new CredentialsRequiredError();
  return {
    status: error.status,
    headers: { 'www-authenticate': 'Basic realm="GeoServer Realm"', 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ code: error.code, message: error.message })),
  };
}

export interface CallerCheckOptions {
  readonly ttlMs?: number;
  readonly now?: () => number;
}

export class CallerCheck implements Callers {
  /** Digest of the caller's credentials -> until when it is not asked again. */
  private readonly accepted = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly upstream: Upstream,
    options: CallerCheckOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? CALLER_CHECK_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /**
   * The master's refusal of the caller (its 401 answer, to pass on), or `undefined` when the write
   * may go on to the lease.
   * @param timeoutMs what is left of the request's budget for the read
   */
  async refusal(request: Pick<GatewayRequest, 'query' | 'headers'>, timeoutMs?: number): Promise<CallerRefusal | undefined> {
    const authorization = request.headers.authorization;
    const key = new URLSearchParams(request.query).get(AUTH_KEY_PARAMETER) ?? undefined;
    // Refused whatever the master's rules (above): nothing to ask it.
    if (authorization === undefined && key === undefined) {
      return { answer: credentialsRequired(), reason: 'the write carries no credentials: it was not forwarded' };
    }
    const digest = createHash('sha256')
      .update(JSON.stringify([authorization ?? null, key ?? null]))
      .digest('base64');
    const until = this.accepted.get(digest);
    if (until !== undefined && until > this.now()) return undefined;
    this.accepted.delete(digest);
    const answer = await this.upstream.send(
      {
        method: 'GET',
        path: CALLER_CHECK_PATH,
        query: key === undefined ? '' : new URLSearchParams({ [AUTH_KEY_PARAMETER]: key }).toString(),
        headers: { accept: 'application/json', ...(authorization === undefined ? {} : { authorization }) },
      },
      timeoutMs,
    );
    if (answer.status === 401) {
      return { answer, reason: `the master refused the caller's credentials (GET ${CALLER_CHECK_PATH} answered ${answer.status}): the write was not forwarded` };
    }
    // Remembered only when the master accepted the credentials: a 5xx says nothing of them.
    if ((answer.status >= 200 && answer.status < 300) || answer.status === 403) this.remember(digest);
    return undefined;
  }

  private remember(digest: string): void {
    if (this.accepted.size >= MAX_REMEMBERED) {
      const oldest = this.accepted.keys().next();
      if (!oldest.done) this.accepted.delete(oldest.value);
    }
    this.accepted.set(digest, this.now() + this.ttlMs);
  }
}
