/**
 * Every object type events carry, mapped to GeoServer's REST calls: ONE table, to hold against
 * GeoServer's REST reference (doc/en/api/1.0.0/*.yaml in geoserver/geoserver; a copy is in
 * test/fixtures/geoserver-rest-api/). Paths are relative to `<geoserver>/rest`.
 *
 * Per type: the JSON wrapper of its representation (`{"dataStore": {...}}`), the item path
 * (GET/PUT/DELETE), the collection a POST creates it in (absent: GeoServer offers no create,
 * e.g. a layer comes into being when its resource is published, settings always exist), and
 * the DELETE query (absent: it cannot be removed); a resource also has its GET through its
 * workspace alone (`inWorkspace`), which finds it whichever store holds it.
 *
 * Stores, resources and layers live in a workspace: their id is `workspace:name`. A resource's
 * path goes through its store, named by the representation (`store.name`, which
 * representations.ts requires). A style also has its document, uploaded after its info with
 * the content type of its format (`styleDocument`).
 */
import { pathSegmentProblem, splitObjectId, type ObjectType } from '../events';
import { isJsonObject, type JsonObject } from '../merge-patch';
import { localName, referencedName, withStylePerEntry, type StyleFormat } from '../representations';

/** What the paths of one object are built from. */
export interface RestTarget {
  /** The id's workspace, if qualified. */
  readonly workspace?: string;
  /** The id's local name (a service's name for `service`, e.g. `WMS`). */
  readonly name: string;
  /** The store a resource's path goes through (feature types, coverages, WMS/WMTS layers). */
  readonly store?: string;
}

export interface TypeMapping {
  /** The representation's wrapper: `{"<wrapper>": properties}`. */
  readonly wrapper: (target: RestTarget) => string;
  /** GET, PUT and DELETE. */
  readonly item: (target: RestTarget) => string;
  /** Where POST creates the object; absent when GeoServer has no create for it. */
  readonly collection?: (target: RestTarget) => string;
  /**
   * A resource's GET through its workspace alone: GeoServer looks it up by name in the
   * workspace's namespace, whichever store holds it (how a reconcile finds a resource its
   * GeoServer holds under another store than the node's store states).
   */
  readonly inWorkspace?: (target: RestTarget) => string;
  /** Query of the DELETE; absent when the object cannot be removed. */
  readonly remove?: (recurse: boolean) => Record<string, string>;
  /**
   * The object can be deleted and created again without losing anything else (nothing refers
   * to it): how a merge patch that deletes a property reaches GeoServer, whose PUT ignores
   * absent and null fields.
   */
  readonly recreatable?: boolean;
}

/**
 * One path segment. A name `.` or `..` is refused: an HTTP client resolves such a dot segment
 * (also as `%2E%2E`) before sending, so the call would reach another object's path; so is one
 * holding a `/` or `\`, which a servlet container may read as more than one segment (`%2F`,
 * `%5C` read as `/`) and then resolve. Ids and store references are validated against these
 * (objects.ts), so only a name another source gives (a GeoServer's own listing, an event logged
 * before that rule) can meet this.
 */
export function seg(name: string): string {
  const problem = pathSegmentProblem(name);
  if (problem !== undefined) throw new UnmappableError(problem);
  return encodeURIComponent(name);
}

/**
 * The extensions GeoServer reads on a path's last segment as the representation asked for (its
 * REST reference: 'append an extension to the endpoint (example "/workspaces.xml")'):
 * RestConfiguration registers `json`, `xml`, `html`, `sld`, `xslt`, `ftl` and each style format;
 * newer releases strip each style handler's file extension instead (`yaml` for YSLD). Appending
 * one more where it is not needed is harmless: GeoServer takes off the one appended.
 */
const REPRESENTATION_EXTENSIONS = ['json', 'xml', 'html', 'sld', 'xslt', 'ftl', 'css', 'ysld', 'yaml', 'mbstyle'];

/**
 * An item path as a call sends it. `PUT /workspaces/topp.json` addresses workspace `topp` (and
 * would rename it to the body's `topp.json`), so a last segment that ends in a representation
 * extension gets one of its own, which GeoServer takes off instead: `extension` is the
 * representation the call sends or wants (`json` for the infos). Other names are sent as they
 * are, so a style document is still chosen by its `Accept` header (SE 1.1 has no extension: `sld`
 * answers SLD 1.0).
 */
export function addressed(path: string, extension = 'json'): string {
  const last = path.slice(path.lastIndexOf('/') + 1);
  const suffix = last.slice(last.lastIndexOf('.') + 1).toLowerCase();
  return last.includes('.') && REPRESENTATION_EXTENSIONS.includes(suffix) ? `${path}.${extension}` : path;
}

const ws = (target: RestTarget) => `/workspaces/${seg(required(target.workspace, 'workspace'))}`;
const store = (target: RestTarget) => seg(required(target.store, 'store'));
const recurse = (value: boolean) => ({ recurse: String(value) });
const fixed = (name: string) => () => name;

export const REST_MAPPING: Readonly<Record<ObjectType, TypeMapping>> = {
  // workspaces.yaml
  workspace: {
    wrapper: fixed('workspace'),
    collection: () => '/workspaces',
    item: (t) => `/workspaces/${seg(t.name)}`,
    remove: recurse,
  },
  // namespaces.yaml (DELETE documents no recurse)
  namespace: {
    wrapper: fixed('namespace'),
    collection: () => '/namespaces',
    item: (t) => `/namespaces/${seg(t.name)}`,
    remove: () => ({}),
  },
  // datastores.yaml
  dataStore: {
    wrapper: fixed('dataStore'),
    collection: (t) => `${ws(t)}/datastores`,
    item: (t) => `${ws(t)}/datastores/${seg(t.name)}`,
    remove: recurse,
  },
  // coveragestores.yaml: purge=none, data files live in shared storage
  coverageStore: {
    wrapper: fixed('coverageStore'),
    collection: (t) => `${ws(t)}/coveragestores`,
    item: (t) => `${ws(t)}/coveragestores/${seg(t.name)}`,
    remove: (value) => ({ ...recurse(value), purge: 'none' }),
  },
  // wmsstores.yaml
  wmsStore: {
    wrapper: fixed('wmsStore'),
    collection: (t) => `${ws(t)}/wmsstores`,
    item: (t) => `${ws(t)}/wmsstores/${seg(t.name)}`,
    remove: recurse,
  },
  // wmtsstores.yaml
  wmtsStore: {
    wrapper: fixed('wmtsStore'),
    collection: (t) => `${ws(t)}/wmtsstores`,
    item: (t) => `${ws(t)}/wmtsstores/${seg(t.name)}`,
    remove: recurse,
  },
  // featuretypes.yaml
  featureType: {
    wrapper: fixed('featureType'),
    collection: (t) => `${ws(t)}/datastores/${store(t)}/featuretypes`,
    item: (t) => `${ws(t)}/datastores/${store(t)}/featuretypes/${seg(t.name)}`,
    inWorkspace: (t) => `${ws(t)}/featuretypes/${seg(t.name)}`,
    remove: recurse,
  },
  // coverages.yaml
  coverage: {
    wrapper: fixed('coverage'),
    collection: (t) => `${ws(t)}/coveragestores/${store(t)}/coverages`,
    item: (t) => `${ws(t)}/coveragestores/${store(t)}/coverages/${seg(t.name)}`,
    inWorkspace: (t) => `${ws(t)}/coverages/${seg(t.name)}`,
    remove: recurse,
  },
  // wmslayers.yaml
  wmsLayer: {
    wrapper: fixed('wmsLayer'),
    collection: (t) => `${ws(t)}/wmsstores/${store(t)}/wmslayers`,
    item: (t) => `${ws(t)}/wmsstores/${store(t)}/wmslayers/${seg(t.name)}`,
    inWorkspace: (t) => `${ws(t)}/wmslayers/${seg(t.name)}`,
    remove: recurse,
  },
  // wmtslayers.yaml: under a store the collection is `layers`, not `wmtslayers`
  wmtsLayer: {
    wrapper: fixed('wmtsLayer'),
    collection: (t) => `${ws(t)}/wmtsstores/${store(t)}/layers`,
    item: (t) => `${ws(t)}/wmtsstores/${store(t)}/layers/${seg(t.name)}`,
    inWorkspace: (t) => `${ws(t)}/wmtslayers/${seg(t.name)}`,
    remove: recurse,
  },
  // layers.yaml: no POST (405); a layer appears when its resource is published
  layer: {
    wrapper: fixed('layer'),
    item: (t) => `${ws(t)}/layers/${seg(t.name)}`,
    remove: recurse,
  },
  // layergroups.yaml: global or per workspace; DELETE documents no parameters
  layerGroup: {
    wrapper: fixed('layerGroup'),
    collection: (t) => `${t.workspace === undefined ? '' : ws(t)}/layergroups`,
    item: (t) => `${t.workspace === undefined ? '' : ws(t)}/layergroups/${seg(t.name)}`,
    remove: () => ({}),
  },
  // styles.yaml: info here, document by `styleDocument`; purge=false keeps other files
  style: {
    wrapper: fixed('style'),
    collection: (t) => `${t.workspace === undefined ? '' : ws(t)}/styles`,
    item: (t) => `${t.workspace === undefined ? '' : ws(t)}/styles/${seg(t.name)}`,
    remove: (value) => ({ ...recurse(value), purge: 'false' }),
  },
  // settings.yaml: GET/PUT /settings, {"global": {...}}
  global: {
    wrapper: fixed('global'),
    item: () => '/settings',
  },
  // settings.yaml: POST creates them (500 when they exist), PUT changes them, DELETE drops them
  workspaceSettings: {
    wrapper: fixed('settings'),
    collection: (t) => `/workspaces/${seg(t.name)}/settings`,
    item: (t) => `/workspaces/${seg(t.name)}/settings`,
    recreatable: true,
  },
  // owsservices.yaml: /services/{wms|wfs|wcs|wmts}/settings, per workspace under workspaces/{ws}
  service: {
    wrapper: (t) => t.name.toLowerCase(),
    item: (t) =>
      t.workspace === undefined
        ? `/services/${seg(t.name.toLowerCase())}/settings`
        : `/services/${seg(t.name.toLowerCase())}/workspaces/${seg(t.workspace)}/settings`,
  },
  // logging.yaml
  logging: {
    wrapper: fixed('logging'),
    item: () => '/logging',
  },
};

/** The target of an object of `type` and `id` with the representation `properties`. */
export function restTarget(type: ObjectType, id: string, properties: JsonObject): RestTarget {
  const { workspace, name } = splitObjectId(id);
  const storeName = referencedName(properties.store);
  return {
    ...(workspace === undefined ? {} : { workspace }),
    name,
    ...(storeName === undefined ? {} : { store: localName(storeName) }),
  };
}

/**
 * The JSON body of a POST or PUT: the representation in its wrapper, named as the id names
 * it (a master may leave the name out), a style without its document.
 *
 * A style created (`creates`: the body of a POST) without a filename is given `<name>.<ext>`, as
 * GeoServer names a style's file when it is uploaded in one step (StyleController.createStyleInfo):
 * its catalog refuses a style without one. A PUT leaves a missing filename out, so the GeoServer
 * keeps the file name it holds (CatalogBuilder.updateStyle copies only what is given) rather than
 * taking one the master never had.
 *
 * `partial` properties are a modify's patch alone (a node that never saw the object added): a
 * group's styles, not stated there, are left out, so that the GeoServer keeps the ones it holds
 * as the master's did on that PUT, rather than taking a null style for each entry.
 */
export function restBody(type: ObjectType, target: RestTarget, properties: JsonObject, creates = false, partial = false): JsonObject {
  // A group stating its entries states their styles too, one each (representations.ts).
  const perEntry = type === 'layerGroup' && !(partial && properties.styles === undefined);
  const representation: JsonObject = perEntry ? { ...withStylePerEntry(properties) } : { ...properties };
  if (type === 'style') delete representation.body;
  if (type === 'namespace') representation.prefix = target.name;
  else if (type !== 'global' && type !== 'workspaceSettings' && type !== 'service' && type !== 'logging') {
    representation.name = target.name;
  }
  if (type === 'style' && creates && typeof representation.filename !== 'string') {
    representation.filename = `${target.name}.${STYLE_FILE_EXTENSION[styleFormat(properties)]}`;
  }
  return { [REST_MAPPING[type].wrapper(target)]: representation };
}

// ---------------------------------------------------------------------------------------------
// Style documents (styles.yaml: PUT /styles/{style} with the document's media type)

const STYLE_FILE_EXTENSION: Record<StyleFormat, string> = { sld: 'sld', css: 'css', ysld: 'yaml', mbstyle: 'json' };

export function styleFormat(properties: JsonObject): StyleFormat {
  const format = properties.format;
  return format === 'css' || format === 'ysld' || format === 'mbstyle' ? format : 'sld';
}

/**
 * The content type a style document is uploaded with: SLD 1.0 `application/vnd.ogc.sld+xml`,
 * SLD 1.1 / SE `application/vnd.ogc.se+xml`, and the types of the CSS, YSLD and MBStyle
 * extensions. `raw=true` stores the bytes as sent (no parse and re-encode), so every node
 * holds the same document.
 */
export function styleDocument(target: RestTarget, properties: JsonObject): { path: string; query: Record<string, string>; contentType: string } {
  return { path: styleDocumentPath(target, properties), query: { raw: 'true' }, contentType: styleContentType(properties) };
}

/**
 * Where a style's document is read and written: its item path, with the extension GeoServer
 * registers for its format where the name ends in one (`addressed`). SLD 1.1 has none of its
 * own: `sld` is SLD 1.0 there, which still addresses the style for a PUT (its body's type is the
 * `Content-Type`), but a GET answers it as SLD 1.0: an SE 1.1 style named `x.sld` or `x.json` is
 * read back converted.
 */
export function styleDocumentPath(target: RestTarget, properties: JsonObject): string {
  return addressed(REST_MAPPING.style.item(target), styleExtension(properties));
}

/** The extension GeoServer registers for a style's format (SLD 1.1 shares SLD 1.0's). */
export function styleExtension(properties: JsonObject): string {
  const format = styleFormat(properties);
  return format === 'css' || format === 'ysld' || format === 'mbstyle' ? format : 'sld';
}

/** The media type of a style's document, from its `format` and `languageVersion` (read and written alike). */
export function styleContentType(properties: JsonObject): string {
  const format = styleFormat(properties);
  const version = isJsonObject(properties.languageVersion) ? properties.languageVersion.version : undefined;
  return format === 'css'
      ? 'application/vnd.geoserver.geocss+css'
      : format === 'ysld'
        ? 'application/vnd.geoserver.ysld+yaml'
        : format === 'mbstyle'
          ? 'application/vnd.geoserver.mbstyle+json'
          : version === '1.1.0'
            ? 'application/vnd.ogc.se+xml'
            : 'application/vnd.ogc.sld+xml';
}

/** A path needs what the object does not state (e.g. a feature type removed before this node saw it added). */
export class UnmappableError extends Error {}

function required(value: string | undefined, what: string): string {
  if (value === undefined) throw new UnmappableError(`the object names no ${what}, which its REST path needs`);
  return value;
}
