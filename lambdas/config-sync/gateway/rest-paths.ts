/**
 * Which GeoServer REST paths the cluster replicates, and which object each one addresses: the
 * gateway (`ANY /geoserver/rest/{proxy+}`) forwards every call to the master's GeoServer, then
 * publishes what a successful write to a managed path changed. Paths are those of GeoServer's
 * REST reference (doc/en/api/1.0.0/*.yaml, copied in test/fixtures/geoserver-rest-api/),
 * relative to `<geoserver>/rest`; a representation extension (`.json`, `.xml`, `.sld`, `.html`)
 * on the last segment addresses the same object.
 *
 * Everything else (security, GeoWebCache, the importer, data-directory resources, reload/reset,
 * and any path not listed) is forwarded and answered with a header saying it was not replicated.
 * File uploads into stores (`upload`) are not replicated by path either: a successful one starts a
 * capture of the master (gateway.ts), since what GeoServer makes of the data is known only there.
 */
import { isDotSegment, objectId, type ObjectType } from '../events';

export type UnmanagedCategory =
  | 'security'
  | 'geowebcache'
  | 'importer'
  | 'resource'
  | 'reload'
  | 'upload'
  | 'about'
  | 'other';

/** A path of a replicated type: the object it addresses, or the collection a POST creates in. */
export interface ManagedPath {
  readonly managed: true;
  readonly type: ObjectType;
  /** The workspace the path is under, if any. */
  readonly workspace?: string;
  /** The addressed object's id; absent for a collection (a POST names the object in its body). */
  readonly id?: string;
  /** The path without its representation extension. */
  readonly path: string;
  /** `/layers/{layer}/styles`: a POST changes the layer's styles. */
  readonly layerStyles?: boolean;
}

export interface UnmanagedPath {
  readonly managed: false;
  readonly category: UnmanagedCategory;
  readonly path: string;
}

export type ClassifiedPath = ManagedPath | UnmanagedPath;

/**
 * The extensions every GeoServer release takes off a path's last segment as the representation
 * asked for (RestConfiguration.configureContentNegotiation registers them): the segment without
 * it names the object.
 */
const EXTENSIONS = /\.(json|xml|html|sld|xslt|ftl|css)$/;
/**
 * Extensions GeoServer releases read differently (geoserver/rest-mapping.ts): older ones register
 * the style formats' names (`ysld`, `mbstyle`), newer ones the handlers' file extensions
 * (`yaml`). A write ending in one could address another object on the master than here.
 */
const RELEASE_DEPENDENT_EXTENSIONS = /\.(yaml|ysld|mbstyle)$/;
const SERVICES = new Set(['wms', 'wfs', 'wcs', 'wmts']);

/** Collection segment -> object type, for `/workspaces/{ws}/<segment>[/{name}]` and deeper. */
const COLLECTIONS: Record<string, ObjectType> = {
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
const STORE_COLLECTIONS = new Set(['datastores', 'coveragestores', 'wmsstores', 'wmtsstores']);
const RESOURCE_UNDER_STORE: Record<string, ObjectType> = {
  featuretypes: 'featureType',
  coverages: 'coverage',
  wmslayers: 'wmsLayer',
  layers: 'wmtsLayer', // /workspaces/{ws}/wmtsstores/{store}/layers
};

/** The store type a store collection segment names (`datastores`: dataStore), or undefined for any other segment. */
export function storeCollectionType(segment: string): ObjectType | undefined {
  return STORE_COLLECTIONS.has(segment) ? COLLECTIONS[segment] : undefined;
}

/** Whether an HTTP method (any case) writes: the three GeoServer's REST API writes with. */
export function isWriteMethod(method: string): boolean {
  const upper = method.toUpperCase();
  return upper === 'POST' || upper === 'PUT' || upper === 'DELETE';
}

/**
 * A boolean query parameter (`recurse`) as GeoServer's REST controllers bind it (Spring's
 * conversion behind `@RequestParam boolean`): `true`, `on`, `yes` or `1`, `false`, `off`, `no`
 * or `0`, in any case and trimmed; absent or empty is the default, false. Undefined for any other
 * value, which GeoServer refuses.
 */
export function restBoolean(value: string | null): boolean | undefined {
  const word = (value ?? '').trim().toLowerCase();
  if (word === '' || word === 'false' || word === 'off' || word === 'no' || word === '0') return false;
  if (word === 'true' || word === 'on' || word === 'yes' || word === '1') return true;
  return undefined;
}

/**
 * `rawPath` with every character an encoded path never holds written as its UTF-8 escape: all but
 * RFC 3986's path characters (letters, digits, `-._~`, `!$&'()*+,;=:@`, `/`) and `%`. API
 * Gateway's HTTP APIs hand a function the path decoded, where REST APIs, function URLs and load
 * balancers hand it as sent (live captures of each, published with hotsock/voker's ingress probe:
 * `%20` arrives as " ", `%23` as "#", `%CE%BB` as "λ", `%2F` as "/"). Joined to the master's URL
 * as text, a decoded "#" or "?" would end the path there, so the master acted on another object
 * than the cluster; encoded again, the name is the one the client sent, for both. A path that
 * arrives as sent holds none of these characters (an HTTP request line cannot), so it passes
 * unchanged (the unit tests call the gateway with such paths; the local runtime decodes as an HTTP
 * API does, local/api-server.ts). What the decoding loses for good is left as it arrives, and
 * documented in docs/architecture.md ("The gateway behind an HTTP API"): a `%2F` that became "/",
 * a `%2B` that became "+" (refused as ambiguous), a `%` (HTTP APIs decode what follows it a
 * second time), and everything after a `%3F` (they end the path there).
 */
export function withDecodedCharactersEncoded(rawPath: string): string {
  return rawPath.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]+/gu, (run) => encodeURIComponent(run));
}

/**
 * `rawPath` with each percent-encoded letter, digit, `-`, `.`, `_` or `~` (RFC 3986's unreserved
 * characters) written as itself, which RFC 3986 (6.2.2.2) makes the same URI. Some clients encode
 * them (Java's URLEncoder encodes `~`), and GeoServer decodes the whole path before it routes it
 * and takes a representation extension or an upload's format off it (RestConfiguration's path
 * helper), where the classifier reads extensions, formats and literal segments as written: so the
 * gateway reads, and forwards, the path with them decoded (`DELETE .../datastores/pg%2Ejson`
 * removes store `pg` on the master and in the cluster alike). Other escapes are kept as sent.
 */
export function withUnreservedDecoded(rawPath: string): string {
  return rawPath.replace(/%(?:[46][1-9a-f]|[57][0-9a]|3[0-9]|2d|2e|5f|7e)/gi, (escape) => String.fromCharCode(Number.parseInt(escape.slice(1), 16)));
}

/**
 * Why the gateway will not forward `rawPath` (as it arrived, percent-encoded), or `undefined`.
 * Each of these reaches the master's servlet container as another path than the one classified
 * here, so a write could land on the master unreplicated, or a call leave `/rest` altogether:
 * - a path parameter (`/workspaces;x=1`, `..;`): Tomcat strips `;...` from a segment before
 *   GeoServer routes the request, and resolves what is left;
 * - a dot segment, in any encoding (`..`, `%2e%2E`): the HTTP client resolves it before sending
 *   (WHATWG URL), so `/rest/workspaces/%2e%2e/%2e%2e/manager` leaves GeoServer's REST API;
 * - a `#` or `?` as itself (an escaped path holds them only as `%23`, `%3F`; one that arrives
 *   decoded has them encoded again first, withDecodedCharactersEncoded): the HTTP client ends the
 *   path there, so `DELETE .../datastores/pg#old` would remove store `pg` on the master while the
 *   cluster published the removal of `pg#old`;
 * - an encoded `/` or `\`, a control character, or a malformed `%` escape: read differently by
 *   the container than by this classifier.
 * A letter, digit, `-`, `.`, `_` or `~` percent-encoded is not among them: the gateway reads the
 * path with those decoded first (withUnreservedDecoded), as the master does.
 */
export function unsafePathReason(rawPath: string): string | undefined {
  for (const raw of rawPath.split('/')) {
    if (raw.includes(';')) return `a ";" (a path parameter, which the master's servlet container strips) in "${raw}"`;
    const delimiter = /[#?]/.exec(raw)?.[0];
    if (delimiter !== undefined) return `a "${delimiter}" as itself in "${raw}", where the master's path would end (send it as ${delimiter === '#' ? '%23' : '%3F'} in a name)`;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return `a malformed percent-encoding in "${raw}"`;
    }
    if (isDotSegment(segment)) return `a dot segment ("${raw}"), which would be resolved before the master sees the path`;
    if (/[/\\\p{Cc}]/u.test(segment)) return `an encoded "/" or "\\" or a control character in "${raw}"`;
  }
  return undefined;
}

/**
 * Why the gateway will not forward a call to a replicated path, or `undefined`: a `+` in it,
 * which GeoServer decodes as a space (RestConfiguration's path helper uses java.net.URLDecoder,
 * "compatibility with old Restlet based config") while a URL path, and so the cluster, reads it as
 * itself: `/workspaces/topp/datastores/a+b` would be store `a b` on the master and `topp:a+b`
 * in the cluster (`%2B` would be `+` for both, but API Gateway's HTTP API hands it on decoded, as
 * `+`: withDecodedCharactersEncoded); or a write ending in an extension GeoServer releases
 * read differently (RELEASE_DEPENDENT_EXTENSIONS).
 */
export function ambiguousManagedPathReason(rawPath: string, write: boolean): string | undefined {
  const segment = rawPath.split('/').find((raw) => raw.includes('+'));
  if (segment !== undefined) return `a "+" in "${segment}", which the master decodes as a space and the cluster as "+" (send a space as %20; a name holding "+" cannot be addressed through the gateway, as API Gateway hands %2B on as "+")`;
  const extension = write ? RELEASE_DEPENDENT_EXTENSIONS.exec(rawPath.replace(/\/+$/, ''))?.[0] : undefined;
  return extension === undefined
    ? undefined
    : `a write ending in "${extension}", which some GeoServer releases take off as a representation extension and others keep in the name: address the object without it, or with ".json" after it`;
}

/**
 * Classifies a REST path (`/workspaces/topp/datastores/pg.json`, already percent-decoded per
 * segment by the caller or not: segments are decoded here).
 */
export function classifyRestPath(rawPath: string): ClassifiedPath {
  const path = rawPath.replace(/\/+$/, '').replace(EXTENSIONS, '') || '/';
  const unmanaged = (category: UnmanagedCategory): UnmanagedPath => ({ managed: false, category, path });
  let segments: string[];
  try {
    segments = path.split('/').filter(Boolean).map((segment) => decodeURIComponent(segment));
  } catch {
    return unmanaged('other');
  }
  const [first, second, third, fourth, fifth, sixth, seventh] = segments;
  const n = segments.length;
  const managed = (type: ObjectType, workspace: string | undefined, name?: string, extra: Partial<ManagedPath> = {}): ManagedPath => ({
    managed: true,
    type,
    path,
    ...(workspace === undefined ? {} : { workspace }),
    ...(name === undefined ? {} : { id: idFor(type, workspace, name) }),
    ...extra,
  });

  switch (first) {
    case 'security':
    case 'usergroup':
    case 'roles':
      return unmanaged('security');
    case 'gwc':
      return unmanaged('geowebcache');
    case 'imports':
      return unmanaged('importer');
    case 'resource':
      return unmanaged('resource');
    case 'reload':
    case 'reset':
      return unmanaged('reload');
    case 'about':
      return unmanaged('about');
    case 'settings':
      if (n === 1) return managed('global', undefined, 'global');
      // the contact is part of the global settings: read back (and published) as a whole
      if (n === 2 && second === 'contact') return { ...managed('global', undefined, 'global'), path: '/settings' };
      return unmanaged('other');
    case 'logging':
      return n === 1 ? managed('logging', undefined, 'logging') : unmanaged('other');
    case 'namespaces':
      if (n === 1) return managed('namespace', undefined);
      if (n === 2) return managed('namespace', undefined, second);
      return unmanaged('other');
    case 'layergroups':
      if (n === 1) return managed('layerGroup', undefined);
      if (n === 2) return managed('layerGroup', undefined, second);
      return unmanaged('other');
    case 'styles':
      if (n === 1) return managed('style', undefined);
      if (n === 2) return managed('style', undefined, second);
      return unmanaged('other');
    case 'layers':
      if (n === 1) return managed('layer', undefined);
      if (n === 2) return managed('layer', undefined, second);
      if (n === 3 && third === 'styles') return managed('layer', undefined, second, { layerStyles: true });
      return unmanaged('other');
    case 'services':
      if (second && SERVICES.has(second)) {
        const service = second.toUpperCase();
        if (n === 3 && third === 'settings') return managed('service', undefined, service);
        if (n === 5 && third === 'workspaces' && fifth === 'settings') return managed('service', fourth, service);
      }
      return unmanaged('other');
    case 'workspaces': {
      if (n === 1) return managed('workspace', undefined);
      if (n === 2) return managed('workspace', undefined, second);
      const ws = second!;
      if (n === 3 && third === 'settings') return managed('workspaceSettings', ws, ws);
      const collection = third!;
      const type = COLLECTIONS[collection];
      if (!type) return unmanaged('other');
      if (n === 3) return managed(type, ws);
      if (n === 4) return managed(type, ws, fourth);
      if (STORE_COLLECTIONS.has(collection)) {
        // /workspaces/{ws}/datastores/{ds}/{method}.{format}: uploads whose data lands on the master
        // (a trailing slash addresses the same upload, as it does every other path)
        if (n === 5 && /\./.test(rawPath.replace(/\/+$/, '').split('/').pop() ?? '') && !RESOURCE_UNDER_STORE[fifth!]) return unmanaged('upload');
        const resource = RESOURCE_UNDER_STORE[fifth!];
        if (!resource || (fifth === 'layers' && collection !== 'wmtsstores')) return unmanaged('other');
        if (n === 5) return managed(resource, ws);
        if (n === 6) return managed(resource, ws, sixth);
        if (n === 7 && seventh === 'reset') return unmanaged('reload');
      }
      if (n === 5 && fifth === 'reset') return unmanaged('reload');
      return unmanaged('other');
    }
    default:
      return unmanaged('other');
  }
}

/**
 * The path of the member `name` of `collection`, classified: `.json` is appended so that only
 * it is taken for a format suffix, and a name ending in one (`w.xml`) is kept whole.
 */
export function memberPath(collection: string, name: string): ClassifiedPath {
  return classifyRestPath(`${collection}/${encodeURIComponent(name)}.json`);
}

function idFor(type: ObjectType, workspace: string | undefined, name: string): string {
  if (type === 'global' || type === 'logging') return type;
  if (type === 'workspace' || type === 'namespace' || type === 'workspaceSettings') return name;
  if (type === 'layer' && name.includes(':')) return name;
  return workspace === undefined ? name : objectId(workspace, name);
}
