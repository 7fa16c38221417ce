/**
 * An in-memory fake of a GeoServer's REST API for the unit tests of the apply: it keeps
 * objects by path, answers 404 for what it does not hold, 201 on POST (409 if it exists),
 * ignores null and absent fields on PUT (GeoServer's CatalogBuilder), and can be told to be
 * down or to refuse a call, or to leave one unanswered. The stand-in GeoServer of the end-to-end tests
 * (test/support/geoserver-standin) checks requests against the REST reference; this fake only
 * records them.
 */
import { GeoServerUnreachableError } from '../../../../lambdas/config-sync/geoserver/errors';
import type { GeoServerRest, RestRequest, RestResponse } from '../../../../lambdas/config-sync/geoserver/ports';

/** The catalog-wide listings every GeoServer serves. */
const CATALOG_LISTINGS = new Set(['/workspaces.json', '/namespaces.json', '/styles.json', '/layergroups.json', '/layers.json']);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export class FakeGeoServer implements GeoServerRest {
  readonly url = 'http://geoserver.test/geoserver';
  /** Item path -> its JSON body as last written (wrapper included); style documents by path + '#document'. */
  readonly objects = new Map<string, Json>();
  readonly requests: string[] = [];
  down: 'refuse' | 503 | null = null;
  private readonly hangs: ((request: RestRequest) => boolean)[] = [];
  private refusals: { match: (request: RestRequest) => boolean; status: number; text: string; times: number }[] = [];

  refuse(match: (request: RestRequest) => boolean, status: number, text: string, times = Infinity): void {
    this.refusals.push({ match, status, text, times });
  }

  /** Calls matching `match` get no answer within their bound (the adapter's timeout). */
  hang(match: (request: RestRequest) => boolean): void {
    this.hangs.push(match);
  }

  /** Forgets every refusal not yet spent, and every hang. */
  clearRefusals(): void {
    this.refusals = [];
    this.hangs.length = 0;
  }

  async send(request: RestRequest): Promise<RestResponse> {
    const query = request.query && Object.keys(request.query).length ? `?${new URLSearchParams(request.query).toString()}` : '';
    this.requests.push(`${request.method} ${request.path}${query}`);
    if (this.down === 'refuse') throw new GeoServerUnreachableError('ECONNREFUSED');
    if (this.down === 503) return { status: 503, text: 'Service Unavailable' };
    if (this.hangs.some((match) => match(request))) throw new GeoServerUnreachableError('no answer before the timeout', true);
    const refusal = this.refusals.find((candidate) => candidate.times > 0 && candidate.match(request));
    if (refusal) {
      refusal.times -= 1;
      return { status: refusal.status, text: refusal.text };
    }
    const { path } = request;
    switch (request.method) {
      case 'GET':
        if (path === '/about/version') return { status: 200, text: JSON.stringify({ about: { resource: [{ '@name': 'GeoServer', Version: '2.25.2' }] } }) };
        // A catalog-wide listing, which every GeoServer serves (a job reads a 404 there as no
        // GeoServer answering): this fake lists nothing in it, as an empty catalog's (`""`).
        if (!this.objects.has(path) && CATALOG_LISTINGS.has(path)) return { status: 200, text: JSON.stringify({ [path.slice(1, -'.json'.length)]: '' }) };
        return this.objects.has(path) ? { status: 200, text: JSON.stringify(this.objects.get(path)) } : { status: 404, text: 'No such object' };
      case 'DELETE':
        if (!this.objects.has(path)) return { status: 404, text: `No such object: ${path}` };
        this.objects.delete(path);
        this.objects.delete(`${path}#document`);
        return { status: 200, text: '' };
      case 'PUT': {
        const body = request.body;
        if (body && 'text' in body) {
          if (!this.objects.has(path)) return { status: 404, text: 'No such style' };
          this.objects.set(`${path}#document`, `${body.contentType}\n${body.text}`);
          return { status: 200, text: '' };
        }
        if (!this.objects.has(path)) return { status: 404, text: `No such object: ${path}` };
        this.objects.set(path, putIgnoringNulls(this.objects.get(path) ?? {}, (body?.json ?? {}) as Json));
        return { status: 200, text: '' };
      }
      case 'POST': {
        const body = (request.body && 'json' in request.body ? request.body.json : {}) as Record<string, Record<string, Json>>;
        const [wrapper] = Object.keys(body);
        const inner = wrapper ? body[wrapper] : undefined;
        const name = inner?.name ?? inner?.prefix;
        // workspace settings are POSTed to their own path
        const item = path.endsWith('/settings') ? path : `${path}/${String(name)}`;
        if (this.objects.has(item)) return { status: 409, text: `${String(name)} already exists` };
        this.objects.set(item, body as Json);
        return { status: 201, text: String(name) };
      }
    }
  }
}

/** GeoServer's PUT: fields sent replace stored ones, except absent or null ones. */
function putIgnoringNulls(stored: Json, sent: Json): Json {
  if (typeof sent !== 'object' || sent === null || Array.isArray(sent)) return sent;
  const base = typeof stored === 'object' && stored !== null && !Array.isArray(stored) ? { ...stored } : {};
  for (const [key, value] of Object.entries(sent)) {
    if (value === null) continue;
    base[key] = putIgnoringNulls(base[key] ?? null, value);
  }
  return base;
}
