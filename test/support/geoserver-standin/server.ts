/**
 * A stand-in GeoServer for tests: a stateful HTTP server on 127.0.0.1 that answers GeoServer's REST
 * catalog and configuration calls (`/geoserver/rest/...`) from an in-memory catalog
 * (./catalog.ts), and checks every request against GeoServer's REST reference (./reference.ts).
 * A request the reference does not describe (path, method, query parameter, content type, JSON
 * body shape) is recorded in `violations` and answered as GeoServer fails it (404 unknown path,
 * 405 method, 415 media type, 400 body); tests assert `violations` is empty. OPTIONS, which the
 * reference lists nowhere but GeoServer answers on every path it serves, is answered as GeoServer
 * does (200 and `Allow`).
 *
 * TEST CODE ONLY: product code never imports it. GeoServer itself cannot run on this machine.
 * Hand-written because no library emulates GeoServer; Node's http server is all it needs.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import {
  GeoServerError,
  styleFileHeld,
  RESOURCE_TYPES,
  STYLE_MEDIA_TYPES,
  StandInCatalog,
  readAsGeoServerDoes,
  updateIgnoringNulls,
  type CatalogType,
  type Representation,
  type ResourceType,
  type StoreType,
} from './catalog';
import { sldDocumentsOf, StylePackageError, type PackagedDocument } from '../../../lambdas/config-sync/gateway/style-package';
import { acceptedMediaTypes, checkJsonBody, isJsonMediaType, mediaType, RestReference, type DocumentedOperation } from './reference';

export interface StandInRequest {
  method: string;
  /** the full path as received, e.g. `/geoserver/rest/workspaces/topp` */
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  /** the answer's status; 0 when the stand-in held the request without answering (`timeout`) */
  status: number;
}

export interface Violation {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  reason: string;
}

export interface RejectableRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  body: Buffer;
}

export type DownMode = 'refuse' | '503' | 'timeout' | null;

/** A write the stand-in applied to its catalog, in the order it applied them. */
export interface AppliedWrite {
  method: string;
  /** the full path as received */
  path: string;
  query: Record<string, string>;
  body: string;
}

export interface GeoServerStandIn {
  /** `http://127.0.0.1:PORT/geoserver` */
  url: string;
  /** `url + '/rest'` */
  restUrl: string;
  catalog: StandInCatalog;
  requests: StandInRequest[];
  violations: Violation[];
  /** Every write applied to the catalog, in the order it was applied (not the order answered). */
  applied: AppliedWrite[];
  /**
   * Holds the answer of each write for `delay(request)` ms after applying it (null: no delay), so
   * concurrent writes are answered in another order than the one they were applied in.
   */
  setWriteAnswerDelay(delay: ((request: AppliedWrite) => number) | null): void;
  /**
   * `refuse`: stop listening (connections are refused); `503`: answer every request 503;
   * `timeout`: accept and never answer; null: back to normal. Resolves once the mode is in force.
   */
  setDown(mode: DownMode): Promise<void>;
  /** The next request `predicate` accepts is answered `status` with `body` and changes nothing. */
  rejectNext(predicate: (request: RejectableRequest) => boolean, status: number, body: string): void;
  close(): Promise<void>;
}

export interface StandInOptions {
  /** default: any free port */
  port?: number;
  /** what /rest/about/version answers; default 2.26.2 */
  version?: string;
  /** HTTP Basic users; default admin/geoserver, GeoServer's own default */
  users?: { name: string; password: string }[];
}

/** Bodies larger than this are refused (413) before they are buffered: a test bound, not GeoServer's. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

const REFERENCE = RestReference.load();

/** The JSON wrapper (XStream alias) of each object in GeoServer's representations. */
const COLLECTION_SEGMENTS: Record<string, CatalogType> = {
  workspaces: 'workspace',
  namespaces: 'namespace',
  datastores: 'dataStore',
  coveragestores: 'coverageStore',
  wmsstores: 'wmsStore',
  wmtsstores: 'wmtsStore',
  featuretypes: 'featureType',
  coverages: 'coverage',
  wmslayers: 'wmsLayer',
  wmtslayers: 'wmtsLayer',
  layers: 'layer',
  layergroups: 'layerGroup',
  styles: 'style',
};

const SERVICE_ROOT: Record<string, string> = { wms: 'wms', wfs: 'wfs', wcs: 'wcs', wmts: 'wmts' };

/** The formats a data store upload names, with the store type each makes (DataStoreFileController's format table). */
const DATA_STORE_FORMATS: Record<string, string> = {
  shp: 'Shapefile',
  properties: 'Properties',
  h2: 'H2',
  spatialite: 'SpatiaLite',
  appschema: 'Application Schema DataAccess',
  gpkg: 'GeoPackage',
};
/** The single-file raster formats a coverage store upload names, with the store type each makes. */
const COVERAGE_STORE_FORMATS: Record<string, string> = { geotiff: 'GeoTIFF', worldimage: 'WorldImage', arcgrid: 'ArcGrid' };

interface Route {
  kind: 'collection' | 'item' | 'layerStyles' | 'settings' | 'contact' | 'workspaceSettings' | 'service' | 'logging' | 'about' | 'upload';
  /** an upload's `{method}` and `{format}` */
  upload?: { method: string; format: string };
  type?: CatalogType;
  workspace?: string;
  store?: string;
  name?: string;
  service?: string;
}

/** Reads what a documented template addresses: its object type and the names in the path. */
function routeOf(operation: DocumentedOperation, params: Record<string, string>): Route | undefined {
  const template = operation.template;
  const workspace = params.workspaceName ?? params.workspace;
  if (template === '/about/version') return { kind: 'about' };
  if (template === '/settings') return { kind: 'settings' };
  if (template === '/settings/contact') return { kind: 'contact' };
  if (template === '/logging') return { kind: 'logging' };
  if (template === '/workspaces/{workspace}/settings') return { kind: 'workspaceSettings', workspace };
  const service = /^\/services\/(\w+)\//.exec(template)?.[1];
  if (service) return { kind: 'service', service, workspace };
  if (template === '/layers/{layer}/styles') return { kind: 'layerStyles', name: params.layer };
  if (template.endsWith('/{method}.{format}')) {
    const type = template.includes('/datastores/') ? 'dataStore' : 'coverageStore';
    return { kind: 'upload', type, workspace, store: params.storeName ?? params.store, upload: { method: params.method!, format: params.format! } };
  }
  const segments = template.split('/').filter(Boolean);
  const last = segments[segments.length - 1]!;
  const isItem = last.startsWith('{');
  const collection = isItem ? segments[segments.length - 2]! : last;
  let type = COLLECTION_SEGMENTS[collection];
  if (!type) return undefined;
  if (collection === 'layers' && segments.includes('wmtsstores')) type = 'wmtsLayer';
  const store = params.storeName ?? params.store ?? params.wmsstore ?? params.wmtsstore;
  return {
    kind: isItem ? 'item' : 'collection',
    type,
    workspace,
    // the enclosing store of a resource path (.../datastores/{storeName}/featuretypes/...)
    store: (RESOURCE_TYPES as readonly string[]).includes(type) ? store : undefined,
    name: isItem ? params[last.slice(1, -1)] : undefined,
  };
}

/**
 * The path as sent without its representation extension; where the extension was sent encoded
 * (`pg.j%73on`), the routed path, each segment encoded again.
 */
function routedPath(sent: string, match: { path: string; extension: string | undefined }): string {
  const suffix = match.extension === undefined ? '' : `.${match.extension}`;
  if (sent.endsWith(suffix)) return sent.slice(0, sent.length - suffix.length);
  return match.path.split('/').map((segment) => encodeURIComponent(segment)).join('/');
}

/**
 * A name as the Location of a created object writes it: GeoServer's controllers expand it into the
 * path with UriComponentsBuilder, whose unencoded URI is built by java.net.URI's multi-argument
 * constructor (it quotes every character a path cannot hold, keeping an escape `%XX` as it is),
 * and HttpHeaders.setLocation writes URI.toASCIIString() (each character outside ASCII as its
 * UTF-8 escapes). So `main roads` is `main%20roads` and `道路` `%E9%81%93%E8%B7%AF`.
 */
function locationSegment(name: string): string {
  let written = '';
  for (let i = 0; i < name.length; i++) {
    const char = name[i]!;
    if (/[A-Za-z0-9_\-!.~'()*,;:$&+=@/]/.test(char) || (char === '%' && /^[0-9A-Fa-f]{2}$/.test(name.slice(i + 1, i + 3)))) {
      written += char;
      continue;
    }
    const codePoint = name.codePointAt(i)!;
    const whole = String.fromCodePoint(codePoint);
    if (whole.length === 2) i++;
    written += [...Buffer.from(whole, 'utf8')].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  }
  return written;
}

function idOf(workspace: string | undefined, name: string): string {
  return workspace ? `${workspace}:${name}` : name;
}

export async function startGeoServerStandIn(options: StandInOptions = {}): Promise<GeoServerStandIn> {
  const users = options.users ?? [{ name: 'admin', password: 'geoserver' }];
  const version = options.version ?? '2.26.2';
  const catalog = new StandInCatalog();
  const requests: StandInRequest[] = [];
  const violations: Violation[] = [];
  const applied: AppliedWrite[] = [];
  let writeAnswerDelay: ((request: AppliedWrite) => number) | null = null;
  const rejections: { predicate: (request: RejectableRequest) => boolean; status: number; body: string }[] = [];
  const sockets = new Set<Socket>();
  const held = new Set<ServerResponse>();
  let mode: DownMode = null;
  let port = options.port ?? 0;

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(error instanceof Error ? error.message : String(error));
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        const address = server.address();
        if (address && typeof address === 'object') port = address.port;
        resolve();
      });
    });

  const stopListening = (): Promise<void> =>
    new Promise((resolve) => {
      for (const response of held) response.destroy();
      held.clear();
      for (const socket of sockets) socket.destroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });

  await listen();
  const base = (): string => `http://127.0.0.1:${port}/geoserver`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const query = Object.fromEntries(url.searchParams.entries());
    const contentType = req.headers['content-type'];
    const entry: StandInRequest = { method, path: url.pathname, query, contentType, status: 0 };
    requests.push(entry);

    if (mode === 'timeout') {
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    const answer = (status: number, body: string | Buffer = '', headers: Record<string, string> = {}): void => {
      entry.status = status;
      const type = headers['content-type'] ?? (body.length > 0 ? 'text/plain' : undefined);
      res.writeHead(status, { ...(type ? { 'content-type': type } : {}), ...headers });
      res.end(body);
    };
    const json = (status: number, value: unknown): void =>
      answer(status, JSON.stringify(value), { 'content-type': 'application/json' });
    if (mode === '503') {
      req.resume();
      return answer(503, 'Service Unavailable');
    }

    const declaredLength = Number(req.headers['content-length'] ?? 0);
    if (declaredLength > MAX_BODY_BYTES) {
      req.resume();
      return answer(413, 'Request body too large for the stand-in');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) return answer(413, 'Request body too large for the stand-in');
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);

    const violate = (reason: string): void => {
      violations.push({ method, path: url.pathname, query, contentType, reason });
    };

    const prefix = '/geoserver/rest';
    if (!url.pathname.startsWith(prefix + '/') && url.pathname !== prefix) {
      violate('outside the REST base path /geoserver/rest');
      return answer(404, 'Not Found');
    }
    const restPath = url.pathname.slice(prefix.length) || '/';

    // OPTIONS: no REST controller of GeoServer's declares it, and the reference lists it nowhere;
    // Spring MVC answers it (reference.ts, allowedMethods), reading neither query nor body.
    // GeoServer's REST security rules (rest.properties) take GET, PUT, DELETE, POST and HEAD
    // only, so none covers an OPTIONS and it passes without credentials; wrong credentials are
    // still refused by the Basic filter, before any rule is read.
    if (method === 'OPTIONS') {
      const allowed = REFERENCE.allowedMethods(restPath);
      if (!allowed.ok) violate(allowed.reason);
      if (req.headers.authorization !== undefined && !authorized(req.headers.authorization, users)) {
        return answer(401, 'HTTP Status 401 - Unauthorized', { 'www-authenticate': 'Basic realm="GeoServer Realm"' });
      }
      if (!allowed.ok) return answer(allowed.status, allowed.reason);
      return answer(200, '', { allow: allowed.allow.join(',') });
    }

    // 1. Is it described by the reference?
    const match = REFERENCE.match(method, restPath);
    let problem: { status: number; reason: string } | undefined;
    if (!match.ok) problem = { status: match.status, reason: match.reason };
    let inner: Representation | undefined;
    let bodyMediaType = mediaType(contentType);
    if (match.ok) {
      const { operation } = match;
      const unknown = Object.keys(query).filter((name) => !operation.queryParameters.has(name));
      if (unknown.length > 0) {
        problem = { status: 400, reason: `query parameter(s) ${unknown.join(', ')} not documented for ${method} ${operation.template} (${operation.file})` };
      } else if ((method === 'POST' || method === 'PUT') && (operation.consumes || operation.bodySchema)) {
        const accepted = acceptedMediaTypes(operation);
        if (!bodyMediaType || !accepted.includes(bodyMediaType)) {
          problem = { status: 415, reason: `content type ${contentType ?? '(none)'} not among ${accepted.join(', ')} for ${method} ${operation.template} (${operation.file})` };
        } else if (isJsonMediaType(bodyMediaType)) {
          const root = jsonRoot(operation, match.params);
          let parsed: unknown;
          try {
            parsed = JSON.parse(body.toString('utf8'));
          } catch {
            problem = { status: 400, reason: `the body is not JSON (${operation.file} ${method} ${operation.template})` };
          }
          if (!problem && root) {
            const checked = checkJsonBody(parsed, root, operation);
            if (checked.problems.length > 0) {
              problem = { status: 400, reason: `${operation.file} ${method} ${operation.template}: ${checked.problems.join('; ')}` };
            } else if (checked.unreadable.length > 0) {
              problem = { status: 500, reason: `${operation.file} ${method} ${operation.template}: ${checked.unreadable.join('; ')}` };
            }
            inner = checked.inner;
          }
        } else if (bodyMediaType.endsWith('xml') && !STYLE_MEDIA_TYPES[bodyMediaType]) {
          problem = { status: 415, reason: 'stand-in limitation: XML object bodies are documented but not parsed here; send JSON' };
        }
      }
    }
    if (problem) violate(problem.reason);

    // 2. GeoServer's security: HTTP Basic as a known user.
    if (!authorized(req.headers.authorization, users)) {
      return answer(401, 'HTTP Status 401 - Unauthorized', { 'www-authenticate': 'Basic realm="GeoServer Realm"' });
    }
    if (problem) return answer(problem.status, problem.reason);
    if (!match.ok) return answer(500, 'unreachable');

    // 3. Injected rejections.
    const rejection = rejections.findIndex((candidate) =>
      candidate.predicate({ method, path: url.pathname, query, contentType, body }),
    );
    if (rejection >= 0) {
      const [chosen] = rejections.splice(rejection, 1);
      return answer(chosen!.status, chosen!.body);
    }

    // 4. The catalog.
    try {
      const route = routeOf(match.operation, match.params);
      if (!route) {
        violate(`stand-in limitation: ${method} ${match.operation.template} (${match.operation.file}) is documented but not emulated`);
        return answer(501, 'Not emulated by the stand-in');
      }
      const styleMediaType = requestedStyleMediaType(match.extension, req.headers.accept);
      const wantsStyleBody = styleMediaType !== undefined;
      const result = serve({
        method,
        route,
        restPath: routedPath(restPath, match),
        query,
        body,
        bodyMediaType,
        contentType,
        // A catalog object's body as GeoServer's JSON reader hands it on (a null is not always absent).
        inner: inner && (route.kind === 'item' || route.kind === 'collection') ? readAsGeoServerDoes(inner) : inner,
        wantsStyleBody,
        styleMediaType,
      });
      if ((method === 'POST' || method === 'PUT' || method === 'DELETE') && result.kind !== 'unsupported') {
        const write: AppliedWrite = { method, path: url.pathname, query, body: body.toString('utf8') };
        applied.push(write);
        const delay = writeAnswerDelay?.(write) ?? 0;
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      }
      if (result.kind === 'json') return json(result.status, result.value);
      if (result.kind === 'created') {
        return answer(201, result.name, { 'content-type': 'text/plain', location: `${base()}/rest${result.location}` });
      }
      if (result.kind === 'bytes') return answer(200, result.bytes, { 'content-type': result.contentType });
      if (result.kind === 'status') return answer(result.status);
      if (result.kind === 'unsupported') {
        violate(`stand-in limitation: ${result.reason}`);
        return answer(501, result.reason);
      }
      return answer(200);
    } catch (error) {
      if (error instanceof GeoServerError) return answer(error.status, error.message);
      throw error;
    }
  }

  type Outcome =
    | { kind: 'json'; status: number; value: unknown }
    | { kind: 'created'; /** the answer's body */ name: string; location: string }
    | { kind: 'bytes'; bytes: Buffer; contentType: string }
    | { kind: 'ok' }
    | { kind: 'status'; status: number }
    | { kind: 'unsupported'; reason: string };

  function serve(request: {
    method: string;
    route: Route;
    /** the request's path after /geoserver/rest, without a representation extension (routedPath) */
    restPath: string;
    query: Record<string, string>;
    body: Buffer;
    bodyMediaType: string | undefined;
    /** the `Content-Type` header as sent, parameters and all */
    contentType: string | undefined;
    inner: Representation | undefined;
    wantsStyleBody: boolean;
    /** the style media type a GET asks for (by extension or `Accept`) */
    styleMediaType: string | undefined;
  }): Outcome {
    const { method, route, query, inner } = request;
    const recurse = booleanParameter(query, 'recurse');
    const href = (name: string): string => `${base()}/rest${request.restPath}/${encodeURIComponent(name)}.json`;
    /** 201 at the object's Location, answering `body` (the name, as most of GeoServer's POSTs answer). */
    const created = (name: string, body = name): Outcome => ({ kind: 'created', name: body, location: `${request.restPath}/${locationSegment(name)}` });

    switch (route.kind) {
      case 'about':
        return {
          kind: 'json',
          status: 200,
          value: {
            about: {
              resource: [
                { '@name': 'GeoServer', 'Build-Timestamp': '01-Dec-2026 00:00', Version: version, 'Git-Revision': 'stand-in' },
              ],
            },
          },
        };
      case 'settings':
      case 'logging': {
        const type = route.kind === 'settings' ? 'global' : 'logging';
        if (method === 'GET') return { kind: 'json', status: 200, value: { [type]: catalog.get(type, type) } };
        catalog.objects[type].set(type, updateIgnoringNulls(catalog.get(type, type)!, inner!));
        return { kind: 'ok' };
      }
      case 'contact': {
        const global = catalog.get('global', 'global')!;
        const settings = (global.settings ?? {}) as Representation;
        const contact = (settings.contact ?? {}) as Representation;
        if (method === 'GET') return { kind: 'json', status: 200, value: { contact } };
        catalog.objects.global.set('global', { ...global, settings: { ...settings, contact: updateIgnoringNulls(contact, inner!) } });
        return { kind: 'ok' };
      }
      case 'workspaceSettings': {
        const ws = route.workspace!;
        catalog.requireWorkspace(ws);
        const existing = catalog.get('workspaceSettings', ws);
        if (method === 'GET') {
          if (!existing) throw new GeoServerError(404, `No settings for workspace ${ws}`);
          return { kind: 'json', status: 200, value: { settings: existing } };
        }
        if (method === 'POST') {
          // settings.yaml documents 500 when they already exist
          if (existing) throw new GeoServerError(500, `Settings already exist for workspace '${ws}'`);
          catalog.objects.workspaceSettings.set(ws, { ...inner!, workspace: { name: ws } });
          return { kind: 'created', name: ws, location: `/workspaces/${locationSegment(ws)}/settings` };
        }
        if (method === 'PUT') {
          // The reference documents PUT as modifying existing settings: none yet is a 404 here
          // (conservative: an apply that creates with POST works against either reading).
          if (!existing) throw new GeoServerError(404, `No settings for workspace ${ws}`);
          catalog.objects.workspaceSettings.set(ws, { ...updateIgnoringNulls(existing, inner!), workspace: { name: ws } });
          return { kind: 'ok' };
        }
        if (!existing) throw new GeoServerError(404, `No settings for workspace ${ws}`);
        catalog.objects.workspaceSettings.delete(ws);
        return { kind: 'ok' };
      }
      case 'service': {
        const serviceName = route.service!.toUpperCase();
        const id = idOf(route.workspace, serviceName);
        const root = SERVICE_ROOT[route.service!]!;
        if (route.workspace) catalog.requireWorkspace(route.workspace);
        const existing = catalog.get('service', id);
        if (method === 'GET') {
          if (!existing) throw new GeoServerError(404, `No ${serviceName} settings for workspace ${route.workspace}`);
          return { kind: 'json', status: 200, value: { [root]: existing } };
        }
        if (method === 'PUT') {
          // Per-workspace service settings are created by the first PUT (ServiceSettingsController
          // adds them when the workspace has none).
          const updated = updateIgnoringNulls(existing ?? { name: serviceName }, inner!);
          catalog.objects.service.set(id, route.workspace ? { ...updated, workspace: { name: route.workspace } } : updated);
          return { kind: 'ok' };
        }
        if (!existing) throw new GeoServerError(404, `No ${serviceName} settings for workspace ${route.workspace}`);
        catalog.objects.service.delete(id);
        return { kind: 'ok' };
      }
      case 'layerStyles': {
        const layerId = resolveLayerId(route.name!);
        const layer = catalog.get('layer', layerId);
        if (!layer) throw new GeoServerError(404, `No such layer: ${route.name}`);
        const styles = (layer.styles as { style?: unknown[] } | undefined)?.style ?? [];
        if (method === 'GET') {
          return { kind: 'json', status: 200, value: listOf('styles', 'style', styles.map((s) => ({ name: (s as Representation).name }))) };
        }
        const styleName = String(inner!.name ?? '');
        if (!catalog.get('style', styleName)) throw new GeoServerError(404, `No such style: ${styleName}`);
        catalog.objects.layer.set(layerId, {
          ...layer,
          styles: { style: [...styles, { name: styleName }] },
          ...(booleanParameter(query, 'default') ? { defaultStyle: { name: styleName } } : {}),
        });
        return { kind: 'created', name: styleName, location: request.restPath };
      }
      case 'upload':
        return upload(method, route, request.query, request.body);
      case 'collection':
        return collection(method, route, request);
      case 'item':
        return item(method, route, request, recurse);
    }

    /**
     * An upload into a store (datastores.yaml `putDataStoreUpload`, coveragestores.yaml
     * `putCoverageStoreUpload`, `postCoverageStoreUpload`). `external` names a file on the server
     * by its absolute path, `url` a file GeoServer fetches into `data/` under the store's name
     * (AbstractStoreUploadController.handleFileUpload); either is stored as the store's file
     * URL. `file` (the bytes themselves) and `remote` are not emulated. GeoServer answers 201 once
     * it configured (dataStorePut), and so does the stand-in, with no body.
     */
    function upload(method: string, route: Route, query: Record<string, string>, body: Buffer): Outcome {
      const type = route.type as 'dataStore' | 'coverageStore';
      const ws = route.workspace!;
      const storeName = route.store!;
      const { method: uploadMethod, format } = route.upload!;
      if (method === 'POST') {
        // Harvesting needs a structured coverage reader (an image mosaic), which the stand-in has
        // none of: the reference answers 405 for any other store.
        if (!catalog.get('coverageStore', idOf(ws, storeName))) throw new GeoServerError(404, `No such coverage store: ${ws}:${storeName}`);
        throw new GeoServerError(405, `Store ${storeName} is not a structured grid coverage store: granules cannot be harvested into it`);
      }
      // The upload methods of both references (AbstractStoreUploadController.UploadMethod); a data store takes no `remote`.
      if (!['file', 'url', 'external', 'remote'].includes(uploadMethod) || (type === 'dataStore' && uploadMethod === 'remote')) {
        throw new GeoServerError(400, `Unrecognized file upload method: ${uploadMethod}`);
      }
      if (uploadMethod === 'file' || uploadMethod === 'remote') return { kind: 'unsupported', reason: `${uploadMethod} uploads are not emulated (external and url are)` };
      const formats = type === 'dataStore' ? DATA_STORE_FORMATS : COVERAGE_STORE_FORMATS;
      const storeType = formats[format.toLowerCase()];
      if (storeType === undefined) throw new GeoServerError(400, `Unsupported format: ${format}`);
      if (query.target !== undefined && query.target.toLowerCase() !== format.toLowerCase()) {
        return { kind: 'unsupported', reason: 'an upload copied into a store of another type (target) is not emulated' };
      }
      const text = body.toString('utf8').trim();
      let fileUrl: string;
      if (uploadMethod === 'external') {
        // "the absolute path to the existing file" (the references)
        const path = text.startsWith('file:') ? text.slice('file:'.length) : text;
        if (!path.startsWith('/')) throw new GeoServerError(400, `The external upload names no absolute path to a file on the server: '${text}'`);
        fileUrl = `file:${path}`;
      } else {
        // "a URL pointing to the file to upload", fetched into the data directory as <store>.<format>
        if (!URL.canParse(text)) throw new GeoServerError(400, `The url upload's body is not a URL: '${text}'`);
        fileUrl = `file:data/${storeName}.${format}`;
      }
      const fileName = fileUrl.slice(fileUrl.lastIndexOf('/') + 1);
      const baseName = fileName.includes('.') ? fileName.slice(0, fileName.lastIndexOf('.')) : fileName;
      // A feature type is named after the file (its type name); a coverage after `coverageName`, else its store.
      const resourceName = type === 'dataStore' ? baseName : (query.coverageName ?? storeName);
      catalog.upload(type, ws, storeName, { url: fileUrl, resourceName, storeType }, query.configure);
      return { kind: 'status', status: 201 };
    }

    function listOf(outer: string, element: string, items: unknown[]): unknown {
      // GeoServer answers an empty list as {"<outer>": ""} (XStreamCatalogListConverter).
      return { [outer]: items.length === 0 ? '' : { [element]: items } };
    }

    function collection(method: string, route: Route, request: { bodyMediaType: string | undefined; contentType: string | undefined; body: Buffer; inner: Representation | undefined; query: Record<string, string> }): Outcome {
      const type = route.type!;
      const ws = route.workspace;
      if (ws) catalog.requireWorkspace(ws);
      if (method === 'GET') {
        const wrapper = `${type}s`;
        const entries = [...catalog.objects[type].entries()].filter(([id, value]) => {
          if (type === 'workspace' || type === 'namespace') return true;
          const inWorkspace = ws ? id.startsWith(`${ws}:`) : !(type === 'style' || type === 'layerGroup') || !id.includes(':');
          if (!inWorkspace) return false;
          if (route.store && (RESOURCE_TYPES as readonly string[]).includes(type)) {
            return (value.store as Representation | undefined)?.name === idOf(ws, route.store);
          }
          return true;
        });
        const items = entries.map(([id, value]) => {
          // /layers lists qualified names (topp:roads); everything else its own name
          const name = type === 'layer' && !ws ? id : String(value.name ?? value.prefix ?? id);
          return { name, href: href(name) };
        });
        return { kind: 'json', status: 200, value: listOf(wrapper, type, items) };
      }
      // POST
      if (type === 'style') {
        if (request.bodyMediaType && STYLE_MEDIA_TYPES[request.bodyMediaType]) {
          const name = request.query.name;
          if (!name) return { kind: 'unsupported', reason: 'one-step style upload without ?name= (GeoServer reads the name from the document; the stand-in does not parse it)' };
          const raw = booleanParameter(request.query, 'raw');
          // styleSLDPost: the workspace is checked before the body is read in its charset.
          if (ws) catalog.requireWorkspace(ws);
          const held = styleFileHeld(request.body, request.contentType ?? request.bodyMediaType, raw);
          if (!Buffer.isBuffer(held)) return { kind: 'unsupported', reason: held.unsupported };
          catalog.addStyleWithBody(ws, name, { bytes: held, contentType: request.bodyMediaType, raw });
          return created(name);
        }
        if (request.bodyMediaType === 'application/zip') {
          // A package is read as the gateway takes the master to read it (gateway/style-package.ts):
          // a real GeoServer's reading, which depends on its JDK, is what the opt-in suite checks.
          const name = request.query.name;
          if (!name) return { kind: 'unsupported', reason: 'zipped style package without ?name= (GeoServer reads the name from the SLD; the stand-in does not parse it)' };
          let documents: PackagedDocument[];
          try {
            documents = sldDocumentsOf(request.body);
          } catch (error) {
            if (error instanceof StylePackageError) throw new GeoServerError(500, error.message);
            throw error;
          }
          if (documents.length !== 1) throw new GeoServerError(400, `the package holds ${documents.length} SLD documents, not one`);
          catalog.addStyleWithBody(ws, name, { bytes: documents[0]!.data, contentType: 'application/vnd.ogc.sld+xml', raw: false });
          return created(name);
        }
        catalog.addStyleInfo(ws, request.inner!);
        return created(String(request.inner!.name));
      }
      const inner = request.inner!;
      switch (type) {
        case 'workspace': {
          return created(catalog.addWorkspace(inner));
        }
        case 'namespace': {
          return created(catalog.addNamespace(inner));
        }
        case 'dataStore':
        case 'coverageStore':
        case 'wmsStore':
        case 'wmtsStore': {
          catalog.addStore(type, ws!, inner);
          return created(String(inner.name));
        }
        case 'featureType':
        case 'coverage':
        case 'wmsLayer':
        case 'wmtsLayer': {
          if (type === 'featureType' && route.store) catalog.requireOwnStoreAndNamespace(ws!, route.store, inner);
          // Named as GeoServer names it: by its nativeName when the body has no name.
          const id = catalog.addResource(type, ws!, route.store, inner);
          const name = id.slice(id.indexOf(':') + 1);
          // FeatureTypeController.featureTypePost answers an empty body: its Location alone names
          // what it created. The other resource controllers answer the name.
          return created(name, type === 'featureType' ? '' : name);
        }
        case 'layerGroup': {
          catalog.addLayerGroup(ws, inner);
          return created(String(inner.name));
        }
        default:
          return { kind: 'unsupported', reason: `POST of ${type}` };
      }
    }

    function item(
      method: string,
      route: Route,
      request: { bodyMediaType: string | undefined; contentType: string | undefined; body: Buffer; inner: Representation | undefined; query: Record<string, string>; wantsStyleBody: boolean; styleMediaType: string | undefined },
      recurse: boolean,
    ): Outcome {
      const type = route.type!;
      const ws = route.workspace;
      const name = route.name!;
      if (ws) catalog.requireWorkspace(ws);
      let id = type === 'workspace' || type === 'namespace' ? name : type === 'layer' && !ws ? resolveLayerId(name) : idOf(ws, name);
      if (type === 'namespace' && name === 'default') id = [...catalog.objects.namespace.keys()][0] ?? name;
      const existing = catalog.get(type, id);
      if (existing && route.store && (RESOURCE_TYPES as readonly string[]).includes(type)) {
        const storeId = idOf(ws, route.store);
        if ((existing.store as Representation | undefined)?.name !== storeId) throw new GeoServerError(404, `No such ${type} ${name} in store ${route.store}`);
      }
      if (method === 'GET') {
        if (!existing) throw new GeoServerError(404, `No such ${type}: ${name}`);
        if (type === 'style' && request.wantsStyleBody) {
          const styleBody = catalog.styleBodies.get(id);
          if (!styleBody) {
            // No document uploaded yet (the first step of a two-step upload). GeoServer's
            // StyleWriterConverter streams the file the info names when the style is asked for in
            // its own format, and the file-based resource store creates a missing file, empty, when
            // it is opened for reading (FileSystemResourceStore: Resource.in() goes through file()):
            // 200 with nothing. In another format it parses that empty file instead.
            const asked = request.styleMediaType!;
            if (!inOwnFormat(existing, asked)) {
              return { kind: 'unsupported', reason: `style ${name} has no document, asked for as ${asked} rather than in its own format (GeoServer would parse an empty file)` };
            }
            return { kind: 'bytes', bytes: Buffer.alloc(0), contentType: asked };
          }
          return { kind: 'bytes', bytes: styleBody.bytes, contentType: styleBody.contentType };
        }
        return { kind: 'json', status: 200, value: { [type]: existing } };
      }
      if (method === 'PUT') {
        if (type === 'style' && request.bodyMediaType && STYLE_MEDIA_TYPES[request.bodyMediaType]) {
          const raw = booleanParameter(request.query, 'raw');
          const held = styleFileHeld(request.body, request.contentType ?? request.bodyMediaType, raw);
          if (!Buffer.isBuffer(held)) return { kind: 'unsupported', reason: held.unsupported };
          catalog.putStyleBody(id, { bytes: held, contentType: request.bodyMediaType, raw });
          return { kind: 'ok' };
        }
        if (type === 'style' && request.bodyMediaType === 'application/zip') return { kind: 'unsupported', reason: 'zipped style packages' };
        // StyleController.stylePut, LayerGroupController.layerGroupPut and LayerController.layerPut
        // (`original.getResource()`) use what they look up without a null check: a
        // NullPointerException, which RestControllerAdvice answers with 500.
        if (!existing && (type === 'style' || type === 'layerGroup' || type === 'layer')) throw new GeoServerError(500, 'java.lang.NullPointerException');
        if (!existing) throw new GeoServerError(404, `No such ${type}: ${name}`);
        catalog.update(type, id, request.inner!);
        return { kind: 'ok' };
      }
      // DELETE
      // NamespaceController.namespaceDelete refuses the default namespace (405) before looking further.
      if (type === 'namespace' && name === 'default') throw new GeoServerError(405, "Can't delete the default namespace");
      if (!existing) throw new GeoServerError(404, `No such ${type}: ${name}`);
      switch (type) {
        case 'workspace':
          catalog.deleteWorkspace(id, recurse);
          break;
        case 'namespace':
          catalog.deleteNamespace(id);
          break;
        case 'dataStore':
        case 'coverageStore':
        case 'wmsStore':
        case 'wmtsStore':
          catalog.deleteStore(type as StoreType, id, recurse);
          break;
        case 'featureType':
        case 'coverage':
        case 'wmsLayer':
        case 'wmtsLayer':
          catalog.deleteResource(type as ResourceType, id, recurse, 'removed');
          break;
        case 'layer':
          catalog.deleteLayer(id, recurse);
          break;
        case 'layerGroup':
          catalog.deleteLayerGroup(id);
          break;
        case 'style':
          catalog.deleteStyle(id, recurse);
          break;
      }
      return { kind: 'ok' };
    }
  }

  /** `/layers/{name}` takes `ws:name`, or a bare name GeoServer resolves when it is unique. */
  function resolveLayerId(name: string): string {
    if (name.includes(':') || catalog.objects.layer.has(name)) return name;
    const matches = [...catalog.objects.layer.keys()].filter((id) => id.endsWith(`:${name}`));
    return matches.length === 1 ? matches[0]! : name;
  }

  const standIn: GeoServerStandIn = {
    get url() {
      return base();
    },
    get restUrl() {
      return `${base()}/rest`;
    },
    catalog,
    requests,
    violations,
    applied,
    setWriteAnswerDelay(delay) {
      writeAnswerDelay = delay;
    },
    async setDown(next: DownMode) {
      const previous = mode;
      mode = next;
      if (next === 'refuse' && previous !== 'refuse') await stopListening();
      if (next !== 'refuse' && previous === 'refuse') await listen();
      if (next === null && previous === 'timeout') {
        for (const response of held) response.destroy();
        held.clear();
      }
    },
    rejectNext(predicate, status, body) {
      rejections.push({ predicate, status, body });
    },
    async close() {
      mode = 'refuse';
      await stopListening();
    },
  };
  return standIn;
}

function authorized(header: string | undefined, users: { name: string; password: string }[]): boolean {
  if (!header?.startsWith('Basic ')) return false;
  const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const name = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  return users.some((user) => user.name === name && user.password === password);
}

/**
 * The style media type a GET of a style asks for: by its extension (`.sld` is SLD 1.0), else by
 * `Accept`; undefined when it asks for the style's info.
 */
function requestedStyleMediaType(extension: string | undefined, accept: string | undefined): string | undefined {
  const byExtension: Record<string, string> = {
    sld: 'application/vnd.ogc.sld+xml',
    css: 'application/vnd.geoserver.geocss+css',
    ysld: 'application/vnd.geoserver.ysld+yaml',
    mbstyle: 'application/vnd.geoserver.mbstyle+json',
  };
  if (extension !== undefined && byExtension[extension]) return byExtension[extension];
  return Object.keys(STYLE_MEDIA_TYPES).find((type) => (accept ?? '').includes(type));
}

/**
 * Whether a media type is the style's own format, as StyleWriterConverter decides to stream its
 * file: the same format, and the same version unless the info states none.
 */
function inOwnFormat(info: Representation, mediaType: string): boolean {
  const asked = STYLE_MEDIA_TYPES[mediaType];
  if (!asked) return false;
  const format = typeof info.format === 'string' ? info.format : 'sld';
  const version = (info.languageVersion as Representation | undefined)?.version;
  return format.toLowerCase() === asked.format && (version === undefined || version === asked.version);
}

function jsonRoot(operation: DocumentedOperation, params: Record<string, string>): string | undefined {
  const route = routeOf(operation, params);
  if (!route) return undefined;
  switch (route.kind) {
    case 'settings':
      return 'global';
    case 'contact':
      return 'contact';
    case 'logging':
      return 'logging';
    case 'workspaceSettings':
      return 'settings';
    case 'service':
      return SERVICE_ROOT[route.service!];
    case 'layerStyles':
      return 'style';
    case 'about':
      return undefined;
    default:
      return route.type;
  }
}

/**
 * A boolean query parameter as GeoServer's controllers bind it (Spring's StringToBooleanConverter
 * behind `@RequestParam boolean`): `true`, `on`, `yes`, `1` and `false`, `off`, `no`, `0`, in
 * any case and trimmed; absent or empty is false. Anything else fails the binding: a 400.
 */
function booleanParameter(query: Record<string, string>, name: string): boolean {
  const value = (query[name] ?? '').trim().toLowerCase();
  if (value === '') return false;
  if (['true', 'on', 'yes', '1'].includes(value)) return true;
  if (['false', 'off', 'no', '0'].includes(value)) return false;
  throw new GeoServerError(400, `Failed to convert value of type 'java.lang.String' to required type 'boolean'; Invalid boolean value [${query[name]}] for ${name}`);
}
