/**
 * The master GeoServer's REST API over HTTP (Node's fetch): the gateway's Upstream. A call that
 * cannot reach the GeoServer or outlasts `timeoutMs` throws UpstreamUnavailableError, which the
 * gateway answers 502/504 with a JSON error; GeoServer's own answers, errors included, are
 * returned as they are.
 */
import type { GatewayRequest, Upstream, UpstreamResponse } from '../gateway/gateway';

export class UpstreamUnavailableError extends Error {
  constructor(
    message: string,
    readonly timedOut: boolean,
  ) {
    super(message);
    this.name = 'UpstreamUnavailableError';
  }
}

/** Response headers worth returning to the caller; hop-by-hop and length headers are not. */
const RETURNED_HEADERS = ['content-type', 'location', 'etag', 'last-modified', 'www-authenticate'];

export class HttpUpstream implements Upstream {
  /** @param geoserverUrl the master GeoServer's base URL, e.g. `http://10.0.3.21:8080/geoserver` */
  constructor(
    private readonly geoserverUrl: string,
    private readonly timeoutMs: number,
    private readonly maxResponseBytes: number,
  ) {}

  async send(request: GatewayRequest): Promise<UpstreamResponse> {
    const url = `${this.geoserverUrl.replace(/\/+$/, '')}/rest${request.path}${request.query ? `?${request.query}` : ''}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: request.method,
        headers: request.headers,
        body: request.body && request.body.length > 0 ? request.body : undefined,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new UpstreamUnavailableError(
        timedOut ? `the master GeoServer did not answer within ${this.timeoutMs} ms` : 'the master GeoServer cannot be reached',
        timedOut,
      );
    }
    const body = Buffer.from(await response.arrayBuffer());
    if (body.length > this.maxResponseBytes) {
      throw new UpstreamUnavailableError(`the master GeoServer's answer (${body.length} bytes) is over the gateway's ${this.maxResponseBytes}-byte limit`, false);
    }
    const headers: Record<string, string> = {};
    for (const name of RETURNED_HEADERS) {
      const value = response.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    return { status: response.status, headers, body };
  }
}
