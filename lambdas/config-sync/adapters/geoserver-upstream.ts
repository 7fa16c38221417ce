/**
 * The master GeoServer's REST API over HTTP (Node's fetch): the gateway's Upstream. A call that
 * cannot reach the GeoServer or outlasts its timeout (the call's own, at most the adapter's
 * `timeoutMs`) throws UpstreamUnavailableError, which the gateway answers 502/504 with a JSON
 * error; one whose answer is over the adapter's `maxResponseBytes` throws
 * UpstreamAnswerTooLargeError (502 GEOSERVER_ANSWER_TOO_LARGE). GeoServer's own answers, errors
 * included, are returned as they are.
 */
import type { GatewayRequest, Upstream, UpstreamResponse } from '../gateway/gateway';

export class UpstreamUnavailableError extends Error {
  /**
   * @param message the gateway's answer to its caller: names no AWS resource
   * @param cause what failed, whole, for the function's log alone
   */
  constructor(
    message: string,
    readonly timedOut: boolean,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'UpstreamUnavailableError';
  }
}

/**
 * The master answered more than the adapter reads (`maxResponseBytes`): its Content-Length said
 * so (`bytes`), or its body went past the cap as it was read (`bytes` unknown). Not a master out
 * of reach: the gateway answers it 502 GEOSERVER_ANSWER_TOO_LARGE, naming the call.
 */
export class UpstreamAnswerTooLargeError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly limit: number,
    readonly bytes?: number,
  ) {
    super(`the master GeoServer's answer to ${method} ${path} (${bytes === undefined ? `more than ${limit}` : bytes} bytes) is over the gateway's ${limit}-byte limit`);
    this.name = 'UpstreamAnswerTooLargeError';
  }
}

/**
 * Response headers worth returning to the caller; hop-by-hop and length headers are not. `Allow`
 * is what an OPTIONS asks for, and what the master's own 405 names.
 */
const RETURNED_HEADERS = ['content-type', 'location', 'etag', 'last-modified', 'www-authenticate', 'allow'];

/** Methods fetch sends without a body. */
const BODILESS_METHODS = new Set(['GET', 'HEAD']);

/**
 * A fetch, or the reading of its body, ended by the call's `AbortSignal.timeout`: read by name, as
 * the DOMException it throws is not an `Error` of every realm (Jest's, for one).
 */
function isTimeout(error: unknown): boolean {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  return name === 'TimeoutError' || name === 'AbortError';
}

export class HttpUpstream implements Upstream {
  /** @param geoserverUrl the master GeoServer's base URL, e.g. `http://10.0.3.21:8080/geoserver` */
  constructor(
    private readonly geoserverUrl: string,
    private readonly timeoutMs: number,
    private readonly maxResponseBytes: number,
  ) {}

  async send(request: GatewayRequest, timeoutMs = this.timeoutMs): Promise<UpstreamResponse> {
    const limit = Math.min(timeoutMs, this.timeoutMs);
    const url = `${this.geoserverUrl.replace(/\/+$/, '')}/rest${request.path}${request.query ? `?${request.query}` : ''}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: request.method,
        headers: request.headers,
        // A GET or HEAD may arrive with a body, which GeoServer never reads and fetch refuses to send.
        body: request.body && request.body.length > 0 && !BODILESS_METHODS.has(request.method.toUpperCase()) ? request.body : undefined,
        redirect: 'manual',
        signal: AbortSignal.timeout(limit),
      });
    } catch (error) {
      const timedOut = isTimeout(error);
      throw new UpstreamUnavailableError(
        timedOut
          ? `the master GeoServer did not answer ${request.method} ${request.path} within ${limit} ms`
          : 'the master GeoServer cannot be reached',
        timedOut,
      );
    }
    // The timeout covers the body too: a master silent part way through its answer times out as one
    // that never answered (504), and one that breaks the connection off is out of reach (502),
    // rather than either escaping as an unexpected error (500).
    const body = await this.readCapped(response, request).catch((error: unknown) => {
      if (error instanceof UpstreamAnswerTooLargeError) throw error;
      if (isTimeout(error)) {
        throw new UpstreamUnavailableError(`the master GeoServer did not finish its answer to ${request.method} ${request.path} within ${limit} ms`, true);
      }
      throw new UpstreamUnavailableError(`the master GeoServer broke off its answer to ${request.method} ${request.path}`, false);
    });
    const headers: Record<string, string> = {};
    for (const name of RETURNED_HEADERS) {
      const value = response.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    return { status: response.status, headers, body };
  }

  /** The answer's body, refused as soon as it passes the cap rather than buffered whole. */
  private async readCapped(response: Response, request: GatewayRequest): Promise<Buffer> {
    const tooLarge = (bytes?: number) => new UpstreamAnswerTooLargeError(request.method, request.path, this.maxResponseBytes, bytes);
    // A HEAD's Content-Length is the size of the GET it stands for: it carries no body to cap.
    const declared = request.method.toUpperCase() === 'HEAD' ? 0 : Number(response.headers.get('content-length'));
    if (declared > this.maxResponseBytes) {
      await response.body?.cancel();
      throw tooLarge(declared);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    if (response.body) {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        size += chunk.length;
        if (size > this.maxResponseBytes) {
          await response.body.cancel().catch(() => undefined);
          throw tooLarge();
        }
        chunks.push(Buffer.from(chunk));
      }
    }
    return Buffer.concat(chunks);
  }
}
