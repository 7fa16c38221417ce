/**
 * Object types and ids, apart from the event model (events.ts) because the representation
 * checks (representations.ts) need them and events.ts needs those checks.
 *
 * Every object has a stable, human-readable id derived from GeoServer's own names,
 * so the same object has the same id on every node and in URLs
 * (`/nodes/{node}/catalog/{type}/{id}`):
 * - `workspace`, `namespace` (its prefix), `workspaceSettings` (its workspace): a bare name,
 *   e.g. `topp`.
 * - stores and resources and layers live in a workspace, and GeoServer's names are unique only
 *   inside it: the id is qualified, `workspace:name`, e.g. `topp:states`.
 * - `style` and `layerGroup` may be global or belong to a workspace: `name` or `workspace:name`.
 * - `service`: the service name in capitals, optionally qualified by a workspace for
 *   per-workspace service settings: `WMS`, `topp:WFS`.
 * - `global` and `logging` are singletons whose id is the type name; the request may omit it.
 * Names contain no `:` (the qualifier separator), `/` (URL segments) or white space, and are
 * not `.` or `..` (dot segments, which a URL path resolves away).
 */
import * as z from 'zod/mini';
import { lazily } from '../shared/lazily';

export const CATALOG_OBJECT_TYPES = [
  'workspace',
  'namespace',
  'dataStore',
  'coverageStore',
  'wmsStore',
  'wmtsStore',
  'featureType',
  'coverage',
  'wmsLayer',
  'wmtsLayer',
  'layer',
  'layerGroup',
  'style',
] as const;

/** The resources: what a store holds and a layer publishes (a layer takes its resource's id). */
export const RESOURCE_TYPES = ['featureType', 'coverage', 'wmsLayer', 'wmtsLayer'] as const satisfies readonly CatalogObjectType[];

export function isResourceType(type: ObjectType): type is (typeof RESOURCE_TYPES)[number] {
  return (RESOURCE_TYPES as readonly string[]).includes(type);
}

/** The stores: what a workspace holds and a resource is held in. */
export const STORE_TYPES = ['dataStore', 'coverageStore', 'wmsStore', 'wmtsStore'] as const;
export type StoreType = (typeof STORE_TYPES)[number];

/** The resources each kind of store holds. */
export const RESOURCE_OF: Readonly<Record<StoreType, ObjectType>> = {
  dataStore: 'featureType',
  coverageStore: 'coverage',
  wmsStore: 'wmsLayer',
  wmtsStore: 'wmtsLayer',
};

export function isStoreType(type: ObjectType): type is StoreType {
  return (STORE_TYPES as readonly string[]).includes(type);
}

/** Configuration that exists whether or not anyone configured it: it can only be modified. */
export const CONFIGURATION_TYPES = ['global', 'workspaceSettings', 'service', 'logging'] as const;

export const OBJECT_TYPES = [...CATALOG_OBJECT_TYPES, ...CONFIGURATION_TYPES] as const;

export type CatalogObjectType = (typeof CATALOG_OBJECT_TYPES)[number];
export type ConfigurationType = (typeof CONFIGURATION_TYPES)[number];
export type ObjectType = (typeof OBJECT_TYPES)[number];

export function isConfigurationType(type: ObjectType): type is ConfigurationType {
  return (CONFIGURATION_TYPES as readonly ObjectType[]).includes(type);
}

export interface ObjectRef {
  readonly type: ObjectType;
  readonly id: string;
}

export const ID_SEPARATOR = ':';
/**
 * A name: no `:` (the qualifier), `/`, `\`, white space or control characters, nor U+FFFE or U+FFFF,
 * which XML 1.0 cannot hold (its `Char` production): GeoServer keeps its catalog as XML files,
 * and names every object in its XML answers. A `\` is sent as `%5C`, which a servlet container
 * may read as `/` (Tomcat's `allowBackslash`) before it resolves dot segments: a removal of style
 * `a\..\..\workspaces\topp` would remove workspace `topp` there. And not `.` or `..`. Those two are dot segments:
 * in a URL path they mean "this folder" and "the parent folder",
 * and every HTTP client resolves them (WHATWG URL, `%2E%2E` included) before GeoServer sees the
 * request, so `DELETE /rest/styles/..:point` would reach `/rest/styles/point`. No GeoServer
 * object so named could be addressed through its REST API.
 */
const NAME = String.raw`(?!\.\.?(?::|$))[^:/\\\s\p{Cc}\uFFFE\uFFFF]+`;
/** What NAME allows, for messages. */
export const NAME_RULE = 'without ":", "/", "\\", white space or a character XML cannot hold, and not "." or ".."';
const NAME_ONLY = new RegExp(`^${NAME}$`, 'u');

/** Whether `name` is `.` or `..`, the dot segments a URL path resolves away (see NAME). */
export function isDotSegment(name: string): boolean {
  return name === '.' || name === '..';
}

/**
 * Why `name` cannot be one segment of a REST path, or undefined: a dot segment, or a `/` or `\`
 * in it, which the path would read as more than one segment (see NAME). For names other sources
 * give (a GeoServer's own listing, an event logged before a rule of NAME).
 */
export function pathSegmentProblem(name: string): string | undefined {
  if (isDotSegment(name)) return `the name "${name}" is a dot segment, which a REST path cannot address`;
  const separator = /[/\\]/.exec(name)?.[0];
  if (separator !== undefined) {
    return `the name "${name}" holds ${separator === '/' ? 'a "/"' : 'a backslash, which a servlet container may read as "/"'}: a REST path would read it as more than one segment`;
  }
  return undefined;
}

/**
 * Whether a style's `filename` names one file of the styles folder, where GeoServer keeps the
 * style's document: no "/" or "\" in it, and not "." or ".." (its resource store refuses a path
 * out of the folder, "Contains invalid .. path", and files any other outside the style's name).
 */
export function namesOneStyleFile(filename: string): boolean {
  return !/[/\\]/.test(filename) && !isDotSegment(filename);
}

/** Whether `value` is one name (an unqualified id, a store's local name). */
export function isObjectName(value: string): boolean {
  return NAME_ONLY.test(value);
}

/**
 * The services whose settings GeoServer's REST API documents (owsservices.yaml): a service
 * object names one of them, since no GeoServer node could apply another's settings.
 */
export const REST_SERVICES = ['WMS', 'WFS', 'WCS', 'WMTS'] as const;
const SERVICE = `(?:${REST_SERVICES.join('|')})`;
/**
 * The longest id, in UTF-8 bytes (and so in characters). Every key built from an id must fit
 * its store: a node's object (`type/id`) and its parking record (`#parked/type/id`) are
 * DynamoDB sort keys, at most 1,024 bytes, and an event whose id did not fit could be neither
 * applied nor parked on any node. 512 leaves room for the longest prefix.
 */
export const MAX_ID_BYTES = 512;
/** The longest object key (`objectStorageKey`): the longest type, `/` and the longest id. */
export const MAX_OBJECT_KEY_BYTES = 'workspaceSettings/'.length + MAX_ID_BYTES;

/** The length of `value` in UTF-8 bytes. */
export function utf8Bytes(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/**
 * GeoServer reserves the workspace name and namespace prefix `default` (CatalogImpl.validate
 * refuses them: "default is a reserved keyword"), and its REST API reads `/workspaces/default`
 * and `/namespaces/default` as the default workspace's: an object in a workspace `default`
 * would address another workspace's on every GeoServer node.
 */
const RESERVED_WORKSPACE = 'default';
const RESERVED_RULE = `"${RESERVED_WORKSPACE}" is reserved by GeoServer for the default workspace, and cannot name one`;

function idSchema(pattern: RegExp, rule: string, workspaceOf: (id: string) => string | undefined = (id) => splitObjectId(id).workspace) {
  return z
    .string()
    .check(
      z.maxLength(MAX_ID_BYTES, `must be at most ${MAX_ID_BYTES} characters`),
      z.refine((id) => utf8Bytes(id) <= MAX_ID_BYTES, `must be at most ${MAX_ID_BYTES} bytes in UTF-8 (a character outside ASCII takes 2 to 4)`),
      z.regex(pattern, rule),
      z.refine((id) => workspaceOf(id) !== RESERVED_WORKSPACE, RESERVED_RULE),
    );
}

function ref<const T extends ObjectType, Id extends z.ZodMiniType<string, unknown>>(type: T, id: Id) {
  return z.strictObject({ type: z.literal(type), id });
}

function singletonRef<const T extends 'global' | 'logging'>(type: T) {
  return z.strictObject({
    type: z.literal(type),
    id: z._default(z.literal(type, `must be "${type}" (or omitted)`), type),
  });
}

/**
 * The schema of an object reference, built on first use (lazily): every config-sync function
 * imports this module, for its types and helpers at least, and only those that parse a
 * reference should pay for building its fifty-odd zod schema objects.
 */
export const objectRefSchema = lazily(() => {
  // A workspace's, a namespace's and workspace settings' id is the workspace's name itself.
  const nameId = idSchema(NAME_ONLY, `must be a name ${NAME_RULE}`, (id) => id);
  const qualifiedId = idSchema(new RegExp(`^${NAME}:${NAME}$`, 'u'), `must be "workspace:name" (names ${NAME_RULE})`);
  const optionallyQualifiedId = idSchema(
    new RegExp(`^(${NAME}:)?${NAME}$`, 'u'),
    `must be "name" or "workspace:name" (names ${NAME_RULE})`,
  );
  const serviceId = idSchema(
    new RegExp(`^(${NAME}:)?${SERVICE}$`, 'u'),
    `must be one of ${REST_SERVICES.join(', ')} (the services whose settings GeoServer's REST API has), optionally qualified by a workspace ("WMS", "topp:WFS")`,
  );
  return z.discriminatedUnion('type', [
    ref('workspace', nameId),
    ref('namespace', nameId),
    ref('dataStore', qualifiedId),
    ref('coverageStore', qualifiedId),
    ref('wmsStore', qualifiedId),
    ref('wmtsStore', qualifiedId),
    ref('featureType', qualifiedId),
    ref('coverage', qualifiedId),
    ref('wmsLayer', qualifiedId),
    ref('wmtsLayer', qualifiedId),
    ref('layer', qualifiedId),
    ref('layerGroup', optionallyQualifiedId),
    ref('style', optionallyQualifiedId),
    singletonRef('global'),
    ref('workspaceSettings', nameId),
    ref('service', serviceId),
    singletonRef('logging'),
  ]);
});

/** `workspace:name` from its parts; a global object's id is its bare name. */
export function objectId(workspace: string | undefined, name: string): string {
  return workspace === undefined ? name : `${workspace}${ID_SEPARATOR}${name}`;
}

/** The workspace (if the id is qualified) and the local name of an object id. */
export function splitObjectId(id: string): { readonly workspace?: string; readonly name: string } {
  const separator = id.indexOf(ID_SEPARATOR);
  return separator < 0 ? { name: id } : { workspace: id.slice(0, separator), name: id.slice(separator + 1) };
}

/**
 * One string per object, for map keys and DynamoDB sort keys: `type/id`. Neither part can
 * contain `/`, so the key is unambiguous.
 */
export function objectStorageKey(object: ObjectRef): string {
  return `${object.type}/${object.id}`;
}
