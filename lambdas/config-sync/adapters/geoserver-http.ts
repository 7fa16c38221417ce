/**
 * A GeoServer's REST API over HTTP(S) with Basic authentication (GeoServer's REST security:
 * an administrator's user and password). Hand-written on `fetch` because a GeoServer REST
 * client is a few lines of HTTP: no maintained npm library covers GeoServer's REST API as a
 * whole, and the mapping of object types to calls lives in geoserver/rest-mapping.ts.
 *
 * The credentials are asked for on each call (the provider caches them) and never logged or
 * put in an error message; a 401 drops the cached ones, so a rotated secret is picked up.
 */
import { GeoServerUnreachableError } from '../geoserver/errors';
import type { GeoServerRest, RestRequest, RestResponse } from '../geoserver/ports';

export interface GeoServerCredentials {
  readonly username: string;
  readonly password: string;
}

export interface CredentialsProvider {
  /** @param signal aborted when the caller gives up waiting (its call's time ran out): a read in progress is cancelled */
  get(signal?: AbortSignal): Promise<GeoServerCredentials>;
  /** Forget cached credentials (they were refused). */
  invalidate(): void;
}

export interface HttpGeoServerOptions {
  /** The GeoServer's base URL, e.g. `http://10.0.3.21:8080/geoserver` (its REST API is under `/rest`). */
  readonly url: string;
  readonly credentials: CredentialsProvider;
  /** Longest wait for one answer. @default 10 s */
  readonly timeoutMs?: number;
}

/** Longest answer to a write kept: GeoServer explains refusals in a line or two; the rest is cut. */
const MAX_WRITE_ANSWER_BYTES = 64 * 1024;
/**
 * Longest answer to a read: a drift check reads whole listings (`/layers.json` of a catalog of
 * 20,000 layers is about 2 MB) and style documents. A read answer longer than this fails
 * with an error naming the limit rather than being cut, since a cut listing or document would
 * be read as wrong.
 */
export const MAX_READ_ANSWER_BYTES = 32 * 1024 * 1024;

/** A GeoServer's answer to a read that is longer than this adapter reads. */
export class GeoServerAnswerTooLargeError extends Error {}

/** `promise`, or the signal's reason once it aborts first (the promise then settles unheard). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}

export class HttpGeoServer implements GeoServerRest {
  readonly url: string;
  private readonly base: string;

  constructor(private readonly options: HttpGeoServerOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.base = `${this.url}/rest`;
  }

  async send(request: RestRequest): Promise<RestResponse> {
    // One bound for the whole call, the credentials' read included (a Secrets Manager read on a
    // cold start has no timeout of its own): a write under the cluster's write lease keeps the
    // lease for this bound before it is sent (job-runner.ts, `LEASED_CALL_MS`), so no part of the
    // call may outlast it.
    const signal = AbortSignal.timeout(this.options.timeoutMs ?? 10_000);
    let credentials: GeoServerCredentials;
    try {
      credentials = await untilAborted(this.options.credentials.get(signal), signal);
    } catch (error) {
      if (signal.aborted) throw new GeoServerUnreachableError(`could not read the GeoServer credentials: ${describeFailure(error)}`);
      // The node's setup, not the change: the node waits (and says why) until it is fixed.
      throw new GeoServerUnreachableError(`could not read the GeoServer credentials: ${error instanceof Error ? error.message : String(error)}`);
    }
    const { username, password } = credentials;
    const query = request.query && Object.keys(request.query).length > 0 ? `?${new URLSearchParams(request.query).toString()}` : '';
    const headers: Record<string, string> = {
      authorization: `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`,
      accept: request.accept ?? 'application/json',
    };
    let body: string | undefined;
    if (request.body && 'json' in request.body) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.body.json);
    } else if (request.body) {
      headers['content-type'] = request.body.contentType;
      body = request.body.text;
    }
    let response: Response;
    try {
      response = await fetch(`${this.base}${request.path}${query}`, {
        method: request.method,
        headers,
        body,
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      throw new GeoServerUnreachableError(describeFailure(error), signal.aborted);
    }
    if (response.status === 401) this.options.credentials.invalidate();
    const read = request.method === 'GET';
    let answer: { text: string; cut: boolean };
    try {
      answer = await readLimited(response, read ? MAX_READ_ANSWER_BYTES : MAX_WRITE_ANSWER_BYTES);
    } catch (error) {
      // An answer begun and not finished within the bound (a body dripped slowly) times out as one never begun.
      throw new GeoServerUnreachableError(describeFailure(error), signal.aborted);
    }
    if (read && answer.cut) {
      throw new GeoServerAnswerTooLargeError(`the GeoServer's answer to GET ${request.path} is longer than ${MAX_READ_ANSWER_BYTES} bytes, more than this node reads`);
    }
    return { status: response.status, text: answer.text };
  }
}

/** The answer's text up to `limit` bytes, and whether there was more. */
async function readLimited(response: Response, limit: number): Promise<{ text: string; cut: boolean }> {
  if (!response.body) return { text: '', cut: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      break;
    }
  }
  return { text: Buffer.concat(chunks).subarray(0, limit).toString('utf8'), cut: size > limit };
}

function describeFailure(error: unknown): string {
  // AbortSignal.timeout rejects with a DOMException, which is not always an Error instance.
  const failure = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; message?: unknown; cause?: { code?: string; message?: string } };
  if (failure.name === 'TimeoutError') return 'no answer before the timeout';
  return failure.cause?.code ?? failure.cause?.message ?? (typeof failure.message === 'string' ? failure.message : String(error));
}

/**
 * Credentials cached for `ttlMs`: a Secrets Manager read per invocation would cost latency
 * and money, and a rotation is picked up within the TTL (or at once after a 401). Each read is
 * its caller's own (none is shared), so the caller's signal cancels it (`load`'s `signal`).
 */
export class CachedCredentials implements CredentialsProvider {
  private cached: { value: GeoServerCredentials; until: number } | undefined;

  constructor(
    private readonly load: (signal?: AbortSignal) => Promise<GeoServerCredentials>,
    private readonly ttlMs = 5 * 60_000,
  ) {}

  async get(signal?: AbortSignal): Promise<GeoServerCredentials> {
    if (this.cached && this.cached.until > Date.now()) return this.cached.value;
    const value = await this.load(signal);
    this.cached = { value, until: Date.now() + this.ttlMs };
    return value;
  }

  invalidate(): void {
    this.cached = undefined;
  }
}

/**
 * A secret's text: `{"username": "...", "password": "..."}` (Secrets Manager's convention for
 * credentials), or `user:password`. The error never quotes the text.
 */
export function parseCredentials(text: string, source: string): GeoServerCredentials {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const value = JSON.parse(trimmed) as { username?: unknown; password?: unknown };
      if (typeof value.username === 'string' && value.username && typeof value.password === 'string') {
        return { username: value.username, password: value.password };
      }
    } catch {
      // reported below
    }
    throw new Error(`${source} must be JSON {"username": "...", "password": "..."}`);
  }
  const separator = trimmed.indexOf(':');
  if (separator <= 0) throw new Error(`${source} must be {"username": "...", "password": "..."} or user:password`);
  return { username: trimmed.slice(0, separator), password: trimmed.slice(separator + 1) };
}
