/**
 * What applying a change to a GeoServer needs from the object's representation, checked per
 * type when a master publishes, so that a change every node's GeoServer would have to refuse
 * is answered 400 at the source, naming the field, instead of failing on every node.
 *
 * A catalog object's `properties` are its GeoServer REST JSON representation: the object
 * inside the wrapper (the value of `dataStore` in `{"dataStore": {...}}`, as
 * `GET /rest/workspaces/{ws}/datastores/{ds}.json` answers it). Settings are the
 * representations of `/settings` (`global`), `/workspaces/{ws}/settings` (`settings`),
 * `/services/{service}/settings` (`wms`, `wfs`, ...) and `/logging` (`logging`).
 *
 * Only what the REST calls depend on is checked; every other field travels as the master
 * stated it and is GeoServer's to judge:
 * - the object's name (`prefix` for a namespace) agrees with its id, because the id is what
 *   names it in every URL; it may be omitted (the apply fills it in from the id);
 * - a `workspace` stated in the object agrees with the id's workspace;
 * - a feature type names its data store, a coverage its coverage store, a WMS or WMTS layer
 *   its store (`store.name`, `name` or `workspace:name`), since their REST paths go
 *   through the store;
 * - a layer names its resource (`resource.name`);
 * - a style states its `format` (sld, css, ysld, mbstyle) and carries its document as the
 *   string `body`, which the apply uploads with the content type the format needs.
 *   Its `filename`, if stated, is a string naming one file, not blank (GeoServer's catalog refuses a
 *   blank one), and a patch cannot remove it; left out, the apply names the file after the style
 *   when it creates it, and keeps the GeoServer's otherwise.
 * A patch may not rename (the id would no longer name the object: publish a remove and an
 * add) nor remove any of those fields.
 */
import { CATALOG_OBJECT_TYPES, isObjectName, isResourceType, namesOneStyleFile, NAME_RULE, splitObjectId, type ObjectType } from './objects';
import { isJsonObject, mergePatch, mergePatchObject, type JsonObject, type JsonValue } from './merge-patch';

/** One problem, `path` relative to `properties` (or `patch`). */
export interface RepresentationIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** The property that names an object of each catalog type. */
export function nameProperty(type: ObjectType): 'name' | 'prefix' {
  return type === 'namespace' ? 'prefix' : 'name';
}

/** The store a resource's REST path goes through, and what the store is called in messages. */
export const STORE_OF: Partial<Record<ObjectType, string>> = {
  featureType: 'data store',
  coverage: 'coverage store',
  wmsLayer: 'WMS store',
  wmtsLayer: 'WMTS store',
};

/** Style formats GeoServer's REST API uploads, and the document's content type for each. */
export const STYLE_FORMATS = ['sld', 'css', 'ysld', 'mbstyle'] as const;
export type StyleFormat = (typeof STYLE_FORMATS)[number];
export const SLD_VERSIONS = ['1.0.0', '1.1.0'] as const;

/** Every catalog type carries its name in its representation. */
const isNamedType = (type: ObjectType): boolean => (CATALOG_OBJECT_TYPES as readonly string[]).includes(type);

/** Types whose representation may state the workspace they belong to. */
const WORKSPACE_SCOPED: readonly ObjectType[] = [
  'dataStore',
  'coverageStore',
  'wmsStore',
  'wmtsStore',
  'layerGroup',
  'style',
];

/** Issues of a full representation (an `add`). */
export function representationIssues(type: ObjectType, id: string, properties: JsonObject): RepresentationIssue[] {
  const issues: RepresentationIssue[] = [];
  const { workspace, name } = splitObjectId(id);
  checkName(type, id, name, properties, issues);
  checkWorkspace(type, workspace, properties, issues);
  const store = STORE_OF[type];
  if (store !== undefined) {
    const named = referencedName(properties.store);
    if (named === undefined) {
      issues.push({ path: ['store'], message: `a ${type} must name its ${store}: expected {"name": "<store>"}` });
    } else {
      checkQualifier(['store', 'name'], named, workspace, issues);
    }
  }
  if (type === 'layer' && referencedName(properties.resource) === undefined) {
    issues.push({
      path: ['resource'],
      message: 'a layer must name its resource (feature type, coverage, WMS or WMTS layer): expected {"name": "<workspace:name>"}',
    });
  }
  if (type === 'style') checkStyle(properties, issues, false);
  if (type === 'layerGroup') checkGroupEntries(id, properties, issues, false);
  return issues;
}

/** Issues of a merge patch (a `modify`): it may not rename nor remove what applying needs. */
export function patchIssues(type: ObjectType, id: string, patch: JsonObject): RepresentationIssue[] {
  const issues: RepresentationIssue[] = [];
  const { workspace, name } = splitObjectId(id);
  const nameKey = isNamedType(type) ? nameProperty(type) : undefined;
  if (nameKey !== undefined && nameKey in patch) {
    if (patch[nameKey] === null) {
      issues.push({ path: [nameKey], message: `cannot be removed: it names the ${type}` });
    } else {
      checkName(type, id, name, patch, issues);
    }
  }
  if (WORKSPACE_SCOPED.includes(type) && 'workspace' in patch) {
    if (patch.workspace !== null) checkWorkspace(type, workspace, patch, issues);
  }
  const store = STORE_OF[type];
  if (store !== undefined && 'store' in patch) {
    const named = referencedName(patch.store);
    const removesName = isJsonObject(patch.store) && 'name' in patch.store && named === undefined;
    if (patch.store === null || removesName) {
      issues.push({ path: ['store'], message: `a ${type} must keep naming its ${store}` });
    } else if (!isJsonObject(patch.store)) {
      // A merge patch replaces a non-object whole: the reference would be gone.
      issues.push({ path: ['store'], message: `a ${type} names its ${store} with an object: expected {"name": "<store>"}, got ${JSON.stringify(patch.store)}` });
    } else if (named !== undefined) {
      checkQualifier(['store', 'name'], named, workspace, issues);
    }
  }
  if (type === 'layer' && 'resource' in patch) {
    const removesName = isJsonObject(patch.resource) && 'name' in patch.resource && referencedName(patch.resource) === undefined;
    if (patch.resource === null || removesName) {
      issues.push({ path: ['resource'], message: 'a layer must keep naming its resource' });
    } else if (!isJsonObject(patch.resource)) {
      issues.push({ path: ['resource'], message: `a layer names its resource with an object: expected {"name": "<workspace:name>"}, got ${JSON.stringify(patch.resource)}` });
    }
  }
  if (type === 'style') checkStyle(patch, issues, true);
  if (type === 'layerGroup') checkGroupEntries(id, patch, issues, true);
  return issues;
}

/**
 * A layer group's entries (`publishables.published`: a list, or one entry alone as GeoServer's
 * JSON writes a list of one), as GeoServer checks them (its REST controller and CatalogImpl):
 * some, stated ("layer group must not be empty", whatever the mode; a patch's `null` leaves GeoServer's
 * list as it was, since its PUT copies only what is stated), each naming a layer or layer group
 * (groupEntryName: GeoServer drops an entry naming nothing, or refuses the group), none of them the group itself
 * ("Layer group is in a loop"), a workspace's group no other workspace's layer or group, and
 * styles, where stated with the entries, one per entry.
 */
function checkGroupEntries(id: string, properties: JsonObject, issues: RepresentationIssue[], patch: boolean): void {
  const publishables = properties.publishables;
  // Left out of a patch, the entries stay as they are. Left out of a full representation, GeoServer
  // reads none, and refuses the group ("layer group must not be empty", its REST controller's POST).
  if (publishables === undefined) {
    if (!patch) {
      issues.push({
        path: ['publishables'],
        message: 'is missing: a layer group must hold at least one layer or layer group (GeoServer refuses one without entries); list them in publishables.published',
      });
    }
    return;
  }
  // Stated without `published` (null, "", {}), GeoServer's reader makes it an empty list, which a
  // group may not be. A merge patch's null removes the member and its {} changes nothing.
  if (!isJsonObject(publishables) || !('published' in publishables)) {
    if (patch && (publishables === null || isJsonObject(publishables))) return;
    issues.push({
      path: ['publishables'],
      message: `${JSON.stringify(publishables)} states no entries: GeoServer reads it as an empty list, and refuses a layer group holding no layer or layer group; list them in publishables.published`,
    });
    return;
  }
  const published = publishables.published;
  // A merge patch's null removes the member: it states no entries, and GeoServer's list is left
  // as it was. Anywhere else a null is an entry naming nothing (layerGroupEntries).
  const removed = patch && published === null;
  const entries = removed ? [] : layerGroupEntries(properties);
  if (entries.length === 0 && !removed) {
    issues.push({ path: ['publishables', 'published'], message: 'a layer group must hold at least one layer or layer group (GeoServer refuses an empty one)' });
  }
  entries.forEach((entry, index) => {
    if (groupEntryName(entry) !== undefined) return;
    issues.push({
      path: ['publishables', 'published', ...(Array.isArray(published) ? [index] : [])],
      message: `entry ${JSON.stringify(entry)} names no layer or layer group: GeoServer reads it as an empty entry, which it drops or refuses the group for; name one ({"@type": "layer", "name": "<workspace:name>"}) or leave the entry out`,
    });
  });
  // Styles stated beside the entries are one per entry ("Layer group has different number of
  // styles than layers", CatalogImpl's validation): a node would write the group as sent and
  // its GeoServer refuse it. None stated is GeoServer's null style for each. A patch's styles
  // are counted as it leaves them once merged: its null `style` removes the list, it states none.
  const styles = statedGroupStyleCount(patch && properties.styles !== undefined ? mergePatch({}, properties.styles) : properties.styles);
  if (styles > 0 && entries.length > 0 && styles !== entries.length) {
    issues.push({
      path: ['styles', 'style'],
      message: `states ${styles} style${styles === 1 ? '' : 's'} for ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}: GeoServer refuses a layer group whose styles are not one per entry; give one per entry ("null" or {} for an entry's default style), or leave styles out`,
    });
  }
  const { workspace } = splitObjectId(id);
  entries.forEach((entry, index) => {
    if (!isJsonObject(entry)) return;
    const named = referencedName(entry);
    const path = ['publishables', 'published', ...(Array.isArray(published) ? [index] : []), 'name'];
    // A group of a workspace holds only that workspace's layers and groups (and global groups):
    // "Layer group within a workspace can not contain resources from other workspace".
    const other = named === undefined || workspace === undefined ? undefined : splitObjectId(named).workspace;
    if (other !== undefined && other !== workspace) {
      issues.push({ path, message: `a layer group of workspace ${workspace} cannot hold ${JSON.stringify(named)}, of workspace ${other} (GeoServer refuses it)` });
    }
    if (entry['@type'] !== 'layerGroup') return;
    // By its id only: which group an unqualified name means inside a workspace is GeoServer's to say.
    if (named === id) {
      issues.push({ path, message: `a layer group cannot hold itself (GeoServer refuses a loop): ${JSON.stringify(named)}` });
    }
  });
}

/**
 * A layer group patch stating its entries or its styles but not both, judged against the group it
 * patches (`held`, complete): what every node writes is the merged group with one style per entry
 * (withStylePerEntry), so styles the group holds that are not one per entry after the patch are a
 * PUT every node's GeoServer refuses ("Layer group has different number of styles than layers")
 * and parks. A patch stating both is judged alone (checkGroupEntries); undefined when it fits.
 */
export function patchedGroupStylesIssue(held: JsonObject, patch: JsonObject): RepresentationIssue | undefined {
  const entriesStated = isJsonObject(patch.publishables) && 'published' in patch.publishables;
  const stylesStated = patch.styles !== undefined;
  if (entriesStated === stylesStated) return undefined;
  const written = withStylePerEntry(mergePatchObject(held, patch));
  const entries = layerGroupEntries(written).length;
  const styles = statedGroupStyleCount(written.styles);
  if (styles === 0 || entries === 0 || styles === entries) return undefined;
  const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;
  return entriesStated
    ? {
        path: ['publishables', 'published'],
        message: `states ${plural(entries, 'entry', 'entries')} and no styles, so the group keeps the ${plural(styles, 'style', 'styles')} it holds: GeoServer refuses a layer group whose styles are not one per entry (every node would park the change); state the styles too, one per entry in the same order ("null" or {} for an entry's default style), or "styles": null to give each its default`,
      }
    : {
        path: ['styles', 'style'],
        message: `states ${plural(styles, 'style', 'styles')} for the ${plural(entries, 'entry', 'entries')} the group holds: GeoServer refuses a layer group whose styles are not one per entry (every node would park the change); give one per entry, or state the entries too`,
      };
}

/**
 * A layer group's entries (`publishables.published`), each one GeoServer reads as an entry of the
 * group's list: the one definition of that count, used by the publish check (checkGroupEntries),
 * the apply (withStylePerEntry), the gateway (layerGroupStylesProblem, layerGroupEntriesProblem)
 * and the stand-in. GeoServer's JSON reader (Jettison's mapped convention, then XStreamPersister's
 * ReferenceCollectionConverter) makes one `<published>` element per item of a list and one for a
 * `published` given alone, a JSON null and "" included, and adds one entry per element: an entry
 * naming nothing is a null entry (groupEntryName). So `"published": null`, `""`, `[null]` and `{}`
 * each state one entry; `[]`, `published` left out, and `publishables` null or "" state none.
 */
export function layerGroupEntries(group: JsonObject): JsonValue[] {
  const publishables = group.publishables;
  const published = isJsonObject(publishables) ? publishables.published : undefined;
  return published === undefined ? [] : Array.isArray(published) ? published : [published];
}

/**
 * The layer or layer group a group entry names, as GeoServer's reader takes it (its ReferenceConverter):
 * the `name` (or `id`) of an object, or the text of an entry given as text. Undefined for an entry
 * naming nothing (null, "", {}, `{"name": ""}`), which GeoServer reads as a null entry: its catalog
 * drops one whose style is null too and refuses a group left with none ("Layer group must not be
 * empty"), and fails on one whose style it cannot read (a 500 either way, or an entry silently gone).
 */
export function groupEntryName(entry: JsonValue | undefined): string | undefined {
  if (typeof entry === 'string') return entry.length > 0 ? entry : undefined;
  if (!isJsonObject(entry)) return undefined;
  const id = entry.id;
  return referencedName(entry) ?? (typeof id === 'string' && id.length > 0 ? id : undefined);
}

/**
 * The styles a layer group's `styles` states, each one GeoServer reads as an entry of the group's
 * style list: the one definition of that count, used by the publish check (checkGroupEntries),
 * the apply (withStylePerEntry) and the gateway (layerGroupStylesProblem); a layer's `styles` list
 * has the same shape, and the gateway's style-user lookup (style-users.ts) reads it with this too.
 *
 * GeoServer reads a JSON body through Jettison's mapped convention, then XStream: each item of a
 * `style` list, and a `style` given alone, becomes one `<style>` element (a JSON null one without
 * text, "" one with empty text), and XStreamPersister's ReferenceCollectionConverter adds one
 * entry per element, a null style for one naming nothing. So `{"style": null}`, `{"style": ""}`,
 * `{"style": [null]}` and `{"style": {}}` each state one (null) style. `{"style": []}` gives no
 * element, and `styles` left out, null, "" or without `style` none: an empty list, which the
 * catalog reads as no styles (CatalogImpl.add gives each entry a null one).
 */
export function statedGroupStyles(styles: unknown): JsonValue[] {
  const style = isJsonObject(styles as JsonValue) ? (styles as JsonObject).style : undefined;
  return style === undefined ? [] : Array.isArray(style) ? style : [style];
}

/** How many styles a layer group's `styles` states (statedGroupStyles). */
export function statedGroupStyleCount(styles: unknown): number {
  return statedGroupStyles(styles).length;
}

/**
 * A layer group stating its entries, with one style per entry as GeoServer holds and answers it:
 * a group added without styles gets a null style per entry (CatalogImpl.add), which GeoServer's
 * JSON answers write as "null". GeoServer reads a style entry as a reference, by its `name` or,
 * given as text, by the text (XStreamPersister's ReferenceConverter): "roads" names the style
 * roads, and one naming nothing ("", "null", {}, a JSON null) is that null style. So for two
 * entries `styles` left out, `{"style": [{}, {}]}`, `[null, null]`, `["null", "null"]` and
 * `["", ""]` are one group (and for one entry `{"style": null}` too), written here as the last (GeoServer reads "" as no style, and "null" as a style of that
 * name were there one), and a style named as text is written `{"name": ...}`. A PUT stating entries
 * without styles would keep the styles GeoServer holds, and be refused when their number differs
 * ("Layer group has different number of styles than layers"). Styles stated in another number are
 * left as stated (GeoServer refuses them); a group not stating its entries is returned as it is.
 */
export function withStylePerEntry(group: JsonObject): JsonObject {
  if (!isJsonObject(group.publishables) || !('published' in group.publishables)) return group;
  const entries = layerGroupEntries(group);
  const lone = isJsonObject(group.styles) ? group.styles.style : undefined;
  // Counted as GeoServer counts them (statedGroupStyles). A lone null `style` for several entries
  // is a group the publish once took for one without styles: the publish check refuses it now,
  // but one stored before is still written as its nodes' GeoServers took it, a null style each.
  const stated = lone === null && entries.length > 1 ? [] : statedGroupStyles(group.styles);
  if (entries.length === 0 || (stated.length > 0 && stated.length !== entries.length)) return group;
  const style = entries.map((_, index): JsonValue => {
    const entry = stated[index];
    if (typeof entry === 'string') return isNullStyleName(entry) ? '' : { name: entry };
    return isNullStyleName(referencedName(entry)) ? '' : entry!;
  });
  return { ...group, styles: { style } };
}

/**
 * A layer with the styles it names as text (`defaultStyle`, `styles.style` entries) written as
 * the references GeoServer answers for them: GeoServer reads such text as the style's name
 * (XStreamPersister's ReferenceConverter), so `"roads"` and `{"name": "roads"}` are one style.
 * `styles.style` is written as a list (one entry alone is a list of one to GeoServer's reader).
 * Text naming no style ("", "null") is left as it is.
 */
export function withStylesByReference(layer: JsonObject): JsonObject {
  const read: JsonObject = { ...layer };
  if (layer.defaultStyle !== undefined) read.defaultStyle = byReference(layer.defaultStyle);
  const styles = layer.styles;
  if (isJsonObject(styles) && styles.style !== undefined && styles.style !== null) {
    const stated = Array.isArray(styles.style) ? styles.style : [styles.style];
    read.styles = { ...styles, style: stated.map(byReference) };
  }
  return read;
}

/**
 * A layer group with the `rootLayerStyle` it names as text written as the reference GeoServer
 * answers for it: GeoServer reads it as it reads a layer's `defaultStyle` (XStreamPersister's
 * ReferenceConverter), so `"roads"` and `{"name": "roads"}` are one style. Text naming no style
 * ("", "null") is left as it is.
 */
export function withRootLayerStyleByReference(group: JsonObject): JsonObject {
  return group.rootLayerStyle === undefined ? group : { ...group, rootLayerStyle: byReference(group.rootLayerStyle) };
}

/** A style named as text as the reference GeoServer reads it as; anything else as it is. */
function byReference(entry: JsonValue): JsonValue {
  return typeof entry === 'string' && !isNullStyleName(entry) ? { name: entry } : entry;
}

/** A layer group style's name that names no style: none, "", or the "null" GeoServer answers for a null style. */
function isNullStyleName(name: string | undefined): boolean {
  return name === undefined || name === '' || name === 'null';
}

/** `{"name": "x"}` or `{"@class": ..., "name": "ws:x", "href": ...}` → its non-empty name. */
export function referencedName(value: JsonValue | undefined): string | undefined {
  if (!isJsonObject(value)) return undefined;
  const name = value.name;
  return typeof name === 'string' && name.length > 0 ? name : undefined;
}

/** A reference's local name: `topp:states` → `states`. */
export function localName(qualified: string): string {
  const separator = qualified.indexOf(':');
  return separator < 0 ? qualified : qualified.slice(separator + 1);
}

/**
 * The resource layer `layerId` publishes, named by its `resource` (`@class` and name) in the
 * layer's workspace: the object whose `enabled` and `advertised` are the layer's (GeoServer holds
 * them once for both). Read by the gateway (namespace-link.ts) and the events API (layer-flags.ts).
 */
export function layerResource(layerId: string, layer: JsonObject | undefined): { readonly type: ObjectType; readonly id: string } | undefined {
  const resource = layer?.resource;
  if (!isJsonObject(resource) || typeof resource['@class'] !== 'string' || !isResourceType(resource['@class'] as ObjectType)) return undefined;
  const name = referencedName(resource);
  if (name === undefined) return undefined;
  return { type: resource['@class'] as ObjectType, id: layerResourceId(layerId, name) };
}

/** The id of the resource a layer names `name`: in the layer's workspace, whatever prefix the name carries. */
export function layerResourceId(layerId: string, name: string): string {
  const { workspace } = splitObjectId(layerId);
  return workspace === undefined ? name : `${workspace}:${localName(name)}`;
}

function checkName(type: ObjectType, id: string, name: string, properties: JsonObject, issues: RepresentationIssue[]): void {
  if (!isNamedType(type)) return;
  const key = nameProperty(type);
  const stated = properties[key];
  if (stated === undefined) return;
  if (stated !== name) {
    issues.push({
      path: [key],
      message: `must agree with the object id ${id}: expected "${name}", got ${JSON.stringify(stated)}`,
    });
  }
}

function checkWorkspace(
  type: ObjectType,
  workspace: string | undefined,
  properties: JsonObject,
  issues: RepresentationIssue[],
): void {
  if (!WORKSPACE_SCOPED.includes(type) || !('workspace' in properties)) return;
  const stated = properties.workspace;
  const statedName = typeof stated === 'string' ? stated : referencedName(stated);
  if (statedName !== workspace) {
    issues.push({
      path: ['workspace'],
      message:
        workspace === undefined
          ? `the id names no workspace, so the ${type} is global: leave "workspace" out or qualify the id`
          : `must agree with the id's workspace: expected {"name": "${workspace}"}, got ${JSON.stringify(stated)}`,
    });
  }
}

function checkQualifier(
  path: readonly string[],
  named: string,
  workspace: string | undefined,
  issues: RepresentationIssue[],
): void {
  const separator = named.indexOf(':');
  if (separator >= 0 && named.slice(0, separator) !== workspace) {
    issues.push({ path, message: `names a store of workspace ${named.slice(0, separator)}, not of the object's workspace ${workspace}` });
  } else if (!isObjectName(localName(named))) {
    // The store's name is a segment of the resource's REST path (rest-mapping.ts).
    issues.push({ path, message: `must be a store name ${NAME_RULE}, optionally "workspace:name"; got ${JSON.stringify(named)}` });
  }
}

function checkStyle(properties: JsonObject, issues: RepresentationIssue[], patch: boolean): void {
  if (!patch || 'format' in properties) {
    const format = properties.format;
    if (!(STYLE_FORMATS as readonly JsonValue[]).includes(format ?? null)) {
      issues.push({
        path: ['format'],
        message: `a style must state its format, one of: ${STYLE_FORMATS.join(', ')}${format === undefined ? '' : `; got ${JSON.stringify(format)}`}`,
      });
    }
  }
  const { filename } = properties;
  // GeoServer answers a style's filename as a string and holds one always (CatalogImpl.validate:
  // "Style fileName must not be null"). A patch's null would drop it from the node's copy, and a
  // value of another type could only be sent on as the text GeoServer's JSON reader makes of it:
  // either way no node's GeoServer would hold the master's file name.
  if (patch && filename === null) {
    issues.push({
      path: ['filename'],
      message: 'a style always has a filename, which a patch cannot remove (GeoServer refuses a style without one: "Style fileName must not be null"); leave filename out to keep it, or give a new one',
    });
  } else if (filename !== undefined && typeof filename !== 'string') {
    issues.push({ path: ['filename'], message: `a style's filename is a JSON string naming its document's file, e.g. "<name>.sld"; got ${JSON.stringify(filename)}` });
  }
  // GeoServer's catalog refuses a style whose filename is blank ("Style fileName must not be
  // null", a 500 on every node). Left out, an add's file is named after the style when it is
  // created (restBody) and a modify keeps the node's.
  if (typeof filename === 'string' && filename.trim() === '') {
    issues.push({
      path: ['filename'],
      message: `a style's filename names its document's file and cannot be blank: give a file name, e.g. "<name>.sld", or leave filename out (an add names the file after the style, a modify keeps it); got ${JSON.stringify(filename)}`,
    });
  }
  // GeoServer keeps the document under this name in the styles folder, and its resource store
  // refuses a path out of it ("Contains invalid .. path").
  if (typeof filename === 'string' && !namesOneStyleFile(filename)) {
    issues.push({ path: ['filename'], message: `a style's filename is one file's name, without "/" or "\\", and not "." or "..": got ${JSON.stringify(filename)}` });
  }
  if ('languageVersion' in properties && properties.languageVersion !== null) {
    const version = isJsonObject(properties.languageVersion) ? properties.languageVersion.version : undefined;
    const format = properties.format;
    if (format === 'sld' && version !== undefined && !(SLD_VERSIONS as readonly JsonValue[]).includes(version)) {
      issues.push({
        path: ['languageVersion', 'version'],
        message: `an SLD style is version ${SLD_VERSIONS.join(' or ')}, got ${JSON.stringify(version)}`,
      });
    }
  }
}
