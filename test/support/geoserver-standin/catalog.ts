/**
 * The stand-in GeoServer's catalog: what a GeoServer holds after the REST calls it was sent, kept
 * as the JSON representations GeoServer answers (the object inside its wrapper), keyed by the
 * project's object types and ids (`workspace:name` for workspace-scoped objects, `WMS` or
 * `topp:WMS` for service settings).
 *
 * Behaviour the reference documents leave out is reproduced where the apply depends on it, each
 * with its source (geoserver/geoserver, src/restconfig/src/main/java/org/geoserver/rest/...):
 * - PUT is a partial update that ignores nulls: `CatalogBuilder.update*` copies with
 *   `OwsUtils.copy`, whose Javadoc says "Null values from the update object are ignored"
 *   (fixture README, "PUT is a partial update"). Top-level properties are replaced whole, so a
 *   map such as `connectionParameters` is replaced by the one sent (datastores.yaml says so).
 *   A JSON `null` is a Java null only for some fields: GeoServer's JSON reader makes a text field
 *   "" and a boolean false (readAsGeoServerDoes), which the copy stores and the catalog judges.
 * - A workspace POST also creates its namespace (`http://<name>`) when none exists
 *   (WorkspaceController.workspacePost); deleting an empty workspace removes that namespace.
 *   A namespace POST creates its workspace when none exists (NamespaceController.namespacePost),
 *   and deleting a namespace removes its workspace unless that holds a store
 *   (NamespaceWorkspaceConsistencyListener.handleRemoveEvent). A namespace and its workspace keep
 *   one isolation: a PUT changing either's changes the other's; every namespace save (its PUT,
 *   or a workspace PUT changing the isolation) sets the `namespace` connection parameter of the
 *   workspace's data stores that have one to the namespace's URI (handlePostModifyEvent).
 * - DELETE of a namespace any resource belongs to answers 401 "Namespace not empty"
 *   (NamespaceController.namespaceDelete: HttpStatus.UNAUTHORIZED), of the `default` one 405.
 * - DELETE of a workspace holding stores answers 403 "Workspace not empty" unless `recurse=true`
 *   (WorkspaceController.workspaceDelete); of a data store holding resources 403 (DataStoreController
 *   .dataStoreDelete maps the catalog's IllegalArgumentException to FORBIDDEN), of a coverage, WMS
 *   or WMTS store holding resources 401 "coveragestore not empty" (and so on: their controllers'
 *   DELETE answers HttpStatus.UNAUTHORIZED); of a style used by a layer 403 "Can't delete style referenced by
 *   existing layers." (StyleController.styleDelete); of a style a layer group names 500
 *   (CatalogImpl.remove(StyleInfo) throws IllegalArgumentException). `recurse=true` cascades
 *   (CascadeDeleteVisitor): stores, resources, their layers, and group entries naming them; but
 *   a resource's own DELETE (403 "feature type referenced by layer(s)" and so on without
 *   `recurse`) removes its layers with catalog.remove, no cascade, so with `recurse` it is refused
 *   (500) while a group names its layer (FeatureTypeController.featureTypeDelete,
 *   CoverageController.coverageDelete, the WMS and WMTS layer controllers; deleteResource).
 *   DELETE of a layer a group names answers 500 "Unable to delete layer referenced by layer
 *   group '<name>'" unless `recurse=true` (LayerController.layerDelete, CatalogImpl.remove).
 *   DELETE of a layer group another group holds answers 500 "Unable to delete layer group
 *   referenced by layer group '<name>'", global or of a workspace, and takes no `recurse`
 *   (LayerGroupController.layerGroupDelete, CatalogImpl.remove(LayerGroupInfo)). A workspace
 *   deleted with `recurse` takes its groups out of the groups holding them, a group left empty
 *   going too (CascadeDeleteVisitor.visit(WorkspaceInfo), visit(LayerGroupInfo)).
 * - A layer group PUT naming another name or workspace is refused (403), and so is a style PUT
 *   naming another workspace (LayerGroupController.layerGroupPut, StyleController.stylePut;
 *   refuseRenameOrMove): a group is renamed only in the web UI.
 * - Renaming a style (PUT of its info with a new name) moves every reference to it: a layer's
 *   `defaultStyle` and `styles`, a layer group's `styles` and `rootLayerStyle` name it by the new
 *   name. The catalog persists them as references to the style object by its id
 *   (src/main/src/main/java/org/geoserver/config/util/XStreamPersister.java registers them as
 *   `ReferenceConverter(StyleInfo.class)`), and StyleController.stylePut renames that object in
 *   place (`CatalogBuilder.updateStyle(original, info)`, `catalog.save(original)`). The save
 *   renames the style's file too, and its `filename` names it: `<newName>.<ext>`, numbered when
 *   taken (CatalogImpl.save(StyleInfo), renameStyle).
 * - Renaming a workspace (PUT of its info with a new name) moves everything in it and every
 *   reference to it: its stores, resources, layers, styles, layer groups and settings answer
 *   `new:name`, a global layer group's entry for one of its layers too (all held by reference,
 *   XStreamPersister), and its namespace takes the new prefix and keeps its URI
 *   (NamespaceWorkspaceConsistencyListener.handleModifyEvent, src/main/src/main/java/org/
 *   geoserver/catalog). Renaming a store moves its resources (their `store` names the new one);
 *   their ids and layers stay. So does a resource PUT naming another store of its workspace
 *   (movedToStore). A namespace that is not isolated may not take another one's URI
 *   (CatalogImpl.validate(NamespaceInfo), 500), so a renamed workspace's URI is not free for a
 *   new namespace while its namespace exists.
 * - A POST creating a data, WMS or WMTS store, or any resource, enables it whatever the body
 *   says (each controller's POST calls setEnabled(true)); a coverage store keeps the body's
 *   `enabled` (CoverageStoreController.coverageStorePost does not). A PUT disables it.
 * - Publishing a feature type, coverage, WMS or WMTS layer creates its layer (REFERENCE.md §4:
 *   "A layer is never POSTed"); deleting the resource needs `recurse` while the layer exists.
 * - Styles: the catalog entry and the document are separate (fixture README, "How a style body is
 *   uploaded"). An entry POSTed as info needs its `filename`, which nothing fills in (500
 *   without it, as catalog validation refuses it). A PUT with a style media type stores the document. A PUT of a document to a
 *   style with no catalog entry fails, since StyleController.stylePut (its InputStream form)
 *   uses the entry it looks up without a null check: with `?raw=true` with 500 (writeStyleRaw
 *   hands the null to ResourcePool.writeStyle), without it with 400 "Invalid style:..." (the
 *   NullPointerException is raised in writeStyle, inside the try whose catch answers BAD_REQUEST). The stand-in keeps the bytes as sent; a real GeoServer re-encodes an
 *   SLD 1.0 document unless `?raw=true` (StyleController.writeStyle), so the record says whether
 *   raw was asked for.
 * - Status codes: a missing object is 404 (ResourceNotFoundException ->
 *   RestControllerAdvice.handleResourceNotFound), except to a PUT of the info of a style or a
 *   layer group the catalog lacks, global or of a workspace, or of a layer it lacks: 500, as
 *   StyleController.stylePut (its StyleInfo form: CatalogBuilder.updateStyle on the null it looked
 *   up), LayerGroupController.layerGroupPut (`original.getName()`, or updateLayerGroup, on null)
 *   and LayerController.layerPut (`original.getResource()` on null) raise a NullPointerException
 *   that RestControllerAdvice.handleGeneralException answers so. A GET of
 *   either still answers 404, and so does any of them under a workspace that does not exist
 *   (checked first). An existing workspace on POST is 409
 *   (workspacePost); any other duplicate add fails catalog validation, which
 *   RestControllerAdvice.handleGeneralException answers with 500. A resource's name is unique in
 *   its namespace across stores and resource types (CatalogImpl.validate(ResourceInfo)).
 */

export const CATALOG_TYPES = [
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
export const SETTINGS_TYPES = ['global', 'workspaceSettings', 'service', 'logging'] as const;
export type CatalogType = (typeof CATALOG_TYPES)[number];
export type SettingsType = (typeof SETTINGS_TYPES)[number];
export type StandInType = CatalogType | SettingsType;

export type Representation = Record<string, unknown>;

export interface StyleBody {
  bytes: Buffer;
  contentType: string;
  /** `?raw=true` was sent: a real GeoServer keeps these bytes exactly */
  raw: boolean;
}

export class GeoServerError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const STORE_TYPES = ['dataStore', 'coverageStore', 'wmsStore', 'wmtsStore'] as const;
export const RESOURCE_TYPES = ['featureType', 'coverage', 'wmsLayer', 'wmtsLayer'] as const;
export type StoreType = (typeof STORE_TYPES)[number];
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** How each resource controller's DELETE names its type when a layer still publishes it ("<this> referenced by layer(s)"). */
const REFERENCED_BY_LAYERS: Record<ResourceType, string> = { featureType: 'feature type', coverage: 'coverage', wmsLayer: 'wms layer', wmtsLayer: 'wmts layer' };

/** Which store type holds each resource type. */
export const STORE_OF: Record<ResourceType, StoreType> = {
  featureType: 'dataStore',
  coverage: 'coverageStore',
  wmsLayer: 'wmsStore',
  wmtsLayer: 'wmtsStore',
};

const qualified = (workspace: string | undefined, name: string): string => (workspace ? `${workspace}:${name}` : name);
const workspaceOf = (id: string): string | undefined => (id.includes(':') ? id.slice(0, id.indexOf(':')) : undefined);
const localName = (id: string): string => id.slice(id.indexOf(':') + 1);

/**
 * What GeoServer's JSON reader makes of a JSON `null` in a body, before anything copies it. The
 * body goes through Jettison (its current MappedXMLStreamReader gives a JSONObject.NULL value an
 * element with no text; an older one gave it the text "null", which the stand-in does not model)
 * and XStream, which reads an element without text as "": a text field
 * (a name, a namespace's `uri`, a style's `filename` or `format`, a title) becomes "", a boolean
 * (`isolated`, `enabled`) false (XStream's BooleanConverter takes anything but "true" as false).
 * Neither is a Java null, so CatalogBuilder's copy stores it, and the catalog's validation
 * judges it (CatalogImpl.isNull counts "" as absent: a blank `uri` or `filename` is refused).
 * A reference (`workspace`, `store`, `namespace`, `resource`, a style) names nothing with an
 * empty element: XStreamPersister's ReferenceConverter resolves it to null, which the copy
 * skips, so those (and every field not listed here) stay null and are ignored.
 * Read in jettison-json/jettison MappedXMLStreamReader.processElement (JSONObject.NULL gives no
 * text), x-stream/xstream BooleanConverter.fromString ("true" only is true), and XStream's pull
 * reader, whose getValue answers "" for an element without text.
 */
const NULL_READ_AS_TEXT = new Set(['name', 'prefix', 'uri', 'filename', 'format', 'title', 'abstract', 'nativeName', 'description']);
const NULL_READ_AS_FALSE = new Set(['isolated', 'enabled', 'advertised', 'queryable', 'opaque']);

export function readAsGeoServerDoes(body: Representation): Representation {
  const read = { ...body };
  for (const [key, value] of Object.entries(body)) {
    // Text in a boolean the reference leaves undeclared for the object (a feature type's
    // `enabled`): BooleanConverter, as for the declared ones (reference.ts checkJsonBody).
    if ((typeof value === 'string' || typeof value === 'number') && NULL_READ_AS_FALSE.has(key)) read[key] = String(value).toLowerCase() === 'true';
    if (value !== null) continue;
    if (NULL_READ_AS_TEXT.has(key)) read[key] = '';
    else if (NULL_READ_AS_FALSE.has(key)) read[key] = false;
  }
  return read;
}

/** OwsUtils.copy as CatalogBuilder.update uses it: every non-null top-level value replaces. */
export function updateIgnoringNulls(original: Representation, update: Representation): Representation {
  const result = { ...original };
  for (const [key, value] of Object.entries(update)) {
    if (value !== null && value !== undefined) result[key] = value;
  }
  return result;
}

export class StandInCatalog {
  /** Live maps, type -> id -> the representation GeoServer would answer inside its wrapper. */
  readonly objects: Record<StandInType, Map<string, Representation>>;
  /** Style documents by style id, exactly as received. */
  readonly styleBodies = new Map<string, StyleBody>();

  constructor() {
    this.objects = Object.fromEntries(
      [...CATALOG_TYPES, ...SETTINGS_TYPES].map((type) => [type, new Map<string, Representation>()]),
    ) as Record<StandInType, Map<string, Representation>>;
    // Configuration that exists in every GeoServer before anyone changes it (a fresh data
    // directory's global.xml, logging.xml, wms.xml, wfs.xml, wcs.xml, wmts.xml).
    this.objects.global.set('global', {
      settings: { charset: 'UTF-8', numDecimals: 8, verbose: false, verboseExceptions: false },
      updateSequence: 0,
      globalServices: true,
    });
    this.objects.logging.set('logging', { level: 'DEFAULT_LOGGING', location: 'logs/geoserver.log', stdOutLogging: true });
    for (const service of ['WMS', 'WFS', 'WCS', 'WMTS']) {
      this.objects.service.set(service, { name: service, enabled: true });
    }
  }

  get(type: StandInType, id: string): Representation | undefined {
    return this.objects[type].get(id);
  }

  private require(type: StandInType, id: string, what: string = type): Representation {
    const found = this.objects[type].get(id);
    if (!found) throw new GeoServerError(404, `No such ${what}: ${id}`);
    return found;
  }

  requireWorkspace(name: string): void {
    this.require('workspace', name);
  }

  // -------------------------------------------------------------------------------------------
  // Workspaces and namespaces

  addWorkspace(body: Representation): string {
    const name = String(body.name ?? '');
    if (!name) throw new GeoServerError(400, 'Workspace name is required');
    if (this.objects.workspace.has(name)) throw new GeoServerError(409, `Workspace '${name}' already exists`);
    this.objects.workspace.set(name, { ...body, name });
    if (!this.objects.namespace.has(name)) {
      this.objects.namespace.set(name, { prefix: name, uri: `http://${name}`, isolated: body.isolated === true });
    }
    return name;
  }

  addNamespace(body: Representation): string {
    const prefix = String(body.prefix ?? '');
    if (!prefix) throw new GeoServerError(400, 'Namespace prefix is required');
    requireUri(body);
    if (this.objects.namespace.has(prefix)) throw new GeoServerError(500, `Namespace with prefix '${prefix}' already exists`);
    this.requireUniqueUri(prefix, body);
    this.objects.namespace.set(prefix, { ...body, prefix });
    // NamespaceController.namespacePost creates the matching workspace too, as isolated as the namespace.
    if (!this.objects.workspace.has(prefix)) this.objects.workspace.set(prefix, { name: prefix, isolated: body.isolated === true });
    return prefix;
  }

  deleteWorkspace(name: string, recurse: boolean): void {
    this.require('workspace', name);
    const stores = STORE_TYPES.flatMap((type) => [...this.objects[type].keys()].filter((id) => workspaceOf(id) === name));
    if (!recurse && stores.length > 0) throw new GeoServerError(403, 'Workspace not empty');
    // CascadeDeleteVisitor.visit(WorkspaceInfo): its stores (their layers leave every group, a
    // group left empty goes), then its styles, then its layer groups, each leaving the groups
    // that hold it (a group it leaves empty goes too); one already gone with another is skipped.
    for (const type of STORE_TYPES) {
      for (const id of [...this.objects[type].keys()]) if (workspaceOf(id) === name) this.deleteStore(type, id, true);
    }
    for (const id of [...this.objects.style.keys()]) if (workspaceOf(id) === name) this.deleteStyle(id, true);
    for (const id of [...this.objects.layerGroup.keys()]) {
      if (workspaceOf(id) === name && this.objects.layerGroup.has(id)) this.cascadeDeleteLayerGroup(id);
    }
    this.objects.workspaceSettings.delete(name);
    for (const id of [...this.objects.service.keys()]) if (workspaceOf(id) === name) this.objects.service.delete(id);
    this.objects.namespace.delete(name);
    this.objects.workspace.delete(name);
  }

  /**
   * CatalogImpl.validate(NamespaceInfo) on add and save: a namespace that is not isolated may not
   * take a URI another namespace has ("Namespace with URI '...' already exists.", an
   * IllegalArgumentException that RestControllerAdvice answers with 500). A renamed workspace's
   * namespace keeps its URI, so a GeoServer refuses a second namespace with it while the first exists.
   */
  private requireUniqueUri(prefix: string, namespace: Representation): void {
    if (namespace.isolated === true) return;
    for (const [other, existing] of this.objects.namespace) {
      if (other !== prefix && existing.uri === namespace.uri) throw new GeoServerError(500, `Namespace with URI '${String(namespace.uri)}' already exists.`);
    }
  }

  /**
   * NamespaceController.namespaceDelete: a namespace any resource (of any type) still belongs to
   * is refused with 401 "Namespace not empty" (a RestException with HttpStatus.UNAUTHORIZED, after
   * catalog.getResourcesByNamespace), not 403; its stores alone do not count.
   */
  deleteNamespace(prefix: string): void {
    this.require('namespace', prefix);
    const used = RESOURCE_TYPES.some((type) => [...this.objects[type].values()].some((resource) => nameOf(resource.namespace) === prefix));
    if (used) throw new GeoServerError(401, 'Namespace not empty');
    this.objects.namespace.delete(prefix);
    // NamespaceWorkspaceConsistencyListener.handleRemoveEvent removes the workspace of that name
    // too; CatalogImpl.remove(WorkspaceInfo) refuses one holding a store, and the listener's
    // failure is only logged (CatalogImpl.event): the namespace is gone, the workspace stays.
    const holdsStore = STORE_TYPES.some((type) => [...this.objects[type].keys()].some((id) => workspaceOf(id) === prefix));
    if (!holdsStore) this.objects.workspace.delete(prefix);
  }

  /**
   * A workspace rename moves everything in it (WorkspaceController.workspacePut renames the
   * object in place: `CatalogBuilder.updateWorkspace(wks, workspace)`, `catalog.save(wks)`):
   * stores, resources, layers, styles, layer groups and settings belong to it by reference, so
   * each answers the new name (`to:name`), and so does every reference to them from outside it,
   * such as a global layer group's entry for one of its layers (XStreamPersister registers those
   * as references by id). NamespaceWorkspaceConsistencyListener.handleModifyEvent renames the
   * namespace with it (its prefix), keeping its URI.
   */
  renameWorkspace(from: string, to: string): void {
    if (from === to) return;
    if (this.objects.workspace.has(to)) throw new GeoServerError(500, `Workspace '${to}' already exists`);
    const workspace = this.objects.workspace.get(from)!;
    this.objects.workspace.delete(from);
    this.objects.workspace.set(to, { ...workspace, name: to });
    for (const type of [...CATALOG_TYPES, ...SETTINGS_TYPES]) {
      const map = this.objects[type];
      for (const [id, value] of [...map.entries()]) {
        if (workspaceOf(id) === from) {
          map.delete(id);
          map.set(qualified(to, localName(id)), this.rewriteReferences(value, from, to));
        } else if (type !== 'workspace') {
          map.set(id, this.rewriteReferences(value, from, to));
        }
      }
    }
    for (const [id, body] of [...this.styleBodies.entries()]) {
      if (workspaceOf(id) === from) {
        this.styleBodies.delete(id);
        this.styleBodies.set(qualified(to, localName(id)), body);
      }
    }
    const settings = this.objects.workspaceSettings.get(from);
    if (settings) {
      this.objects.workspaceSettings.delete(from);
      this.objects.workspaceSettings.set(to, settings);
    }
    const namespace = this.objects.namespace.get(from);
    if (namespace) {
      this.objects.namespace.delete(from);
      this.objects.namespace.set(to, { ...namespace, prefix: to });
    }
  }

  private rewriteReferences(value: Representation, from: string, to: string): Representation {
    const text = JSON.stringify(value)
      .split(`"name":"${from}:`)
      .join(`"name":"${to}:`)
      .split(`"workspace":{"name":"${from}"}`)
      .join(`"workspace":{"name":"${to}"}`)
      .split(`"namespace":{"name":"${from}"}`)
      .join(`"namespace":{"name":"${to}"}`);
    return JSON.parse(text) as Representation;
  }

  // -------------------------------------------------------------------------------------------
  // Stores

  addStore(type: StoreType, workspace: string, body: Representation): string {
    this.requireWorkspace(workspace);
    const name = String(body.name ?? '');
    if (!name) throw new GeoServerError(500, 'Store name must not be null');
    const id = qualified(workspace, name);
    // CatalogImpl.validate(StoreInfo) looks the name up among the stores of every type in the
    // workspace: a coverage store cannot take the name of a data store there, nor any other pair.
    if (STORE_TYPES.some((storeType) => this.objects[storeType].has(id))) {
      throw new GeoServerError(500, `Store '${name}' already exists in workspace '${workspace}'`);
    }
    // DataStoreController.dataStorePost, WMSStoreController.wmsStorePost and
    // WMTSStoreController.postStore call setEnabled(true) on what they add, whatever the body says;
    // CoverageStoreController.coverageStorePost adds the store as read, so it keeps the body's.
    const enabled = type === 'coverageStore' ? {} : { enabled: true };
    this.objects[type].set(id, { enabled: true, ...body, ...enabled, name, workspace: { name: workspace } });
    return id;
  }

  deleteStore(type: StoreType, id: string, recurse: boolean): void {
    this.require(type, id);
    const resourceType = RESOURCE_TYPES.find((resource) => STORE_OF[resource] === type)!;
    const resources = [...this.objects[resourceType].entries()].filter(([, value]) => storeIdOf(value) === id);
    if (!recurse && resources.length > 0) {
      // DataStoreController.dataStoreDelete answers the catalog's refusal with FORBIDDEN; the
      // coverage, WMS and WMTS store controllers look for resources first and answer UNAUTHORIZED
      // (coverageStoreDelete, wmsStoreDelete, WMTSStoreController.deleteStore).
      if (type === 'dataStore') throw new GeoServerError(403, 'Unable to delete non-empty store.');
      throw new GeoServerError(401, `${type.toLowerCase()} not empty`);
    }
    for (const [resourceId] of resources) this.deleteResource(resourceType, resourceId, true);
    this.objects[type].delete(id);
  }

  // -------------------------------------------------------------------------------------------
  // File uploads into stores (`PUT .../datastores/{ds}/{method}.{format}`, the coverage store's)

  /**
   * An upload whose data file is already known (`external`: its path on the server; `url`: the
   * copy GeoServer makes of it in its data directory): creates the store when it does not exist
   * (a data store of the format's type, or a coverage store), points it at the file, and, unless
   * `configure` is `none`, configures the first resource the file holds (one per file here) with
   * its layer, as DataStoreFileController.dataStorePut and CoverageStoreFileController do. A new
   * feature type whose name another resource of the namespace has takes the first free `name1` ..
   * `name9` (dataStorePut). Everything is checked before anything is written.
   */
  upload(type: 'dataStore' | 'coverageStore', workspace: string, storeName: string, file: { url: string; resourceName: string; storeType: string }, configure: string | undefined): void {
    this.requireWorkspace(workspace);
    const storeId = qualified(workspace, storeName);
    const existing = this.objects[type].get(storeId);
    const other = STORE_TYPES.find((storeType) => storeType !== type && this.objects[storeType].has(storeId));
    if (!existing && other) throw new GeoServerError(500, `Store '${storeName}' already exists in workspace '${workspace}'`);
    const resourceType = type === 'dataStore' ? 'featureType' : 'coverage';
    const held = [...this.objects[resourceType].values()].find((value) => storeIdOf(value) === storeId && value.nativeName === file.resourceName);
    let resourceName: string | undefined;
    if (configure?.toLowerCase() !== 'none' && !held) {
      const taken = (name: string) => RESOURCE_TYPES.some((t) => this.objects[t].has(qualified(workspace, name))) || this.objects.layer.has(qualified(workspace, name));
      resourceName = [file.resourceName, ...Array.from({ length: 9 }, (_, i) => `${file.resourceName}${i + 1}`)].find((name) => !taken(name));
      if (resourceName === undefined) throw new GeoServerError(500, `Resource named '${file.resourceName}' already exists in namespace: '${workspace}'`);
    }
    const namespaceUri = this.objects.namespace.get(workspace)?.uri;
    const located =
      type === 'dataStore'
        ? { connectionParameters: { entry: [{ '@key': 'url', $: file.url }, ...(namespaceUri ? [{ '@key': 'namespace', $: String(namespaceUri) }] : [])] } }
        : { url: file.url };
    if (existing) this.objects[type].set(storeId, { ...existing, ...located });
    else this.addStore(type, workspace, { name: storeName, type: file.storeType, ...located });
    if (resourceName !== undefined) this.addResource(resourceType, workspace, storeName, { name: resourceName, nativeName: file.resourceName });
  }

  // -------------------------------------------------------------------------------------------
  // Resources and their layers

  addResource(type: ResourceType, workspace: string, storeName: string | undefined, body: Representation): string {
    this.requireWorkspace(workspace);
    // Without a name it takes its native name (CatalogBuilder.initResourceInfo, run by every resource POST).
    const name = String(body.name ?? body.nativeName ?? '');
    if (!name) throw new GeoServerError(500, 'Resource name must not be null');
    const storeRef = storeName ?? nameOf(body.store);
    if (!storeRef) throw new GeoServerError(400, `No store named for ${type} ${name}`);
    const storeId = storeRef.includes(':') ? storeRef : qualified(workspace, storeRef);
    this.require(STORE_OF[type], storeId, STORE_OF[type]);
    const id = qualified(workspace, name);
    // CatalogImpl.validate(ResourceInfo): the name is looked up among every resource type of the
    // namespace (getResourceByName with ResourceInfo.class), whichever store holds it. The native
    // name is not looked at: a second resource over a table or coverage one already publishes, under
    // another name, is taken (how a rename reaches other nodes: the new one first, the old removed last).
    if (RESOURCE_TYPES.some((resourceType) => this.objects[resourceType].has(id)) || this.objects.layer.has(id)) {
      throw new GeoServerError(500, `Resource named '${name}' already exists in namespace: '${workspace}'`);
    }
    this.objects[type].set(id, {
      ...body,
      // Every resource POST enables what it adds, whatever the body says: FeatureTypeController
      // .featureTypePost, and the handleObjectPost of CoverageController, WMSLayerController and
      // WMTSLayerController call setEnabled(true).
      enabled: true,
      name,
      nativeName: body.nativeName ?? name,
      namespace: { name: workspace },
      store: { '@class': STORE_OF[type], name: storeId },
    });
    this.objects.layer.set(id, {
      name,
      type: type === 'featureType' ? 'VECTOR' : type === 'coverage' ? 'RASTER' : type === 'wmsLayer' ? 'WMS' : 'WMTS',
      defaultStyle: { name: type === 'featureType' ? 'generic' : 'raster' },
      resource: { '@class': type, name: id },
      enabled: true,
    });
    return id;
  }

  /**
   * FeatureTypeController.featureTypePost under a store's path: a body whose `store` names another
   * data store than the path's, or whose `namespace` another namespace than the workspace's, is
   * refused with 403 ("Expected datastore ... but client specified ..."), before anything is added.
   * Each is a reference the reader resolves against the catalog (as movedToStore reads a store:
   * `store` or `workspace:store`; a namespace by its prefix); one naming nothing there reads as null
   * and the path's is taken.
   */
  requireOwnStoreAndNamespace(workspace: string, storeName: string, body: Representation): void {
    const store = nameOf(body.store);
    if (store) {
      const storeId = store.includes(':') ? store : qualified(workspace, store);
      if (this.objects.dataStore.has(storeId) && localName(storeId) !== storeName) {
        throw new GeoServerError(403, `Expected datastore ${storeName} but client specified ${localName(storeId)}`);
      }
    }
    const namespace = nameOf(body.namespace);
    if (namespace && this.objects.namespace.has(namespace) && namespace !== workspace) {
      throw new GeoServerError(403, `Expected workspace ${workspace} but client specified ${namespace}`);
    }
  }

  /**
   * A resource and, with `recurse`, its layers. `layersGo` says how: `cascade` as
   * CascadeDeleteVisitor.visitStore takes them (out of the groups holding them first), for a store
   * or workspace removed with `recurse`; `removed` as the resource controllers' own DELETE does
   * (FeatureTypeController.featureTypeDelete, CoverageController.coverageDelete,
   * WMSLayerController and WMTSLayerController): `catalog.remove(layer)` for each, no cascade, so
   * CatalogImpl.remove(LayerInfo) refuses a layer a group names, as an entry or its root layer
   * (500, "Unable to delete layer referenced by layer group '<name>'"), and nothing changes.
   */
  deleteResource(type: ResourceType, id: string, recurse: boolean, layersGo: 'cascade' | 'removed' = 'cascade'): void {
    this.require(type, id);
    const layers = [...this.objects.layer.entries()].filter(([, layer]) => nameOf(layer.resource) === id);
    if (!recurse && layers.length > 0) throw new GeoServerError(403, `${REFERENCED_BY_LAYERS[type]} referenced by layer(s)`);
    for (const [layerId] of layers) this.deleteLayer(layerId, layersGo === 'cascade');
    this.objects[type].delete(id);
  }

  renameResource(type: ResourceType, from: string, toName: string): string {
    const to = qualified(workspaceOf(from), toName);
    if (from === to) return from;
    if (this.objects[type].has(to)) throw new GeoServerError(500, `Resource named '${toName}' already exists`);
    const value = this.objects[type].get(from)!;
    this.objects[type].delete(from);
    this.objects[type].set(to, { ...value, name: toName });
    // A layer takes its resource's name (LayerInfo.getName delegates to the resource).
    const layer = this.objects.layer.get(from);
    if (layer) {
      this.objects.layer.delete(from);
      this.objects.layer.set(to, { ...layer, name: toName, resource: { '@class': type, name: to } });
      this.renameInGroups('layer', from, to);
    }
    return to;
  }

  /**
   * Without `recurse`, LayerController.layerDelete calls catalog.remove(layer), which refuses a
   * layer a group names (as an entry or as its root layer) with an IllegalArgumentException that
   * RestControllerAdvice answers with 500; with it, CascadeDeleteVisitor.visit(LayerInfo), which
   * takes the layer out of the groups holding it as an entry (saving each, removing one it
   * empties) and only then calls catalog.remove(layer). The cascade never looks at a group's root
   * layer, so a layer some group keeps as its root layer is refused with the same 500 even with
   * `recurse`, after the cascade's changes to the other groups are saved; layer and resource stay.
   */
  deleteLayer(id: string, recurse: boolean): void {
    const layer = this.require('layer', id, 'layer');
    if (recurse) this.removeFromGroups('layer', id);
    for (const [groupId, group] of this.objects.layerGroup) {
      // CatalogImpl finds the groups holding the layer itself: a group of another workspace naming its own layer of that name does not.
      const names = (entry: unknown): boolean => entryNames(entry, groupId, 'layer', id);
      if ((publishedList(group) ?? []).some(names) || (group.rootLayer !== undefined && names(group.rootLayer))) {
        throw new GeoServerError(500, `Unable to delete layer referenced by layer group '${String(group.name)}'`);
      }
    }
    this.objects.layer.delete(id);
    if (recurse) {
      const resource = layer.resource as { '@class'?: string; name?: string } | undefined;
      const type = resource?.['@class'] as ResourceType | undefined;
      if (type && resource?.name) this.objects[type]?.delete(resource.name);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Layer groups

  addLayerGroup(workspace: string | undefined, body: Representation): string {
    if (workspace) this.requireWorkspace(workspace);
    const name = String(body.name ?? '');
    if (!name) throw new GeoServerError(500, 'Layer group name must not be null');
    const id = qualified(workspace, name);
    if (this.objects.layerGroup.has(id)) throw new GeoServerError(500, `Layer group named '${name}' already exists`);
    // GeoServer's LayerGroupController, in every mode: by the entries its reader made, one naming
    // nothing included (publishedList; such an entry fails in withoutUnresolvedEntries).
    if ((publishedList(body) ?? []).length === 0) throw new GeoServerError(400, 'layer group must not be empty');
    for (const member of publishedNames(body)) {
      const memberId = member.includes(':') || !workspace ? member : qualified(workspace, member);
      // CatalogImpl.checkLayerGroupResourceIsInWorkspace.
      const memberWorkspace = memberId.includes(':') ? memberId.slice(0, memberId.indexOf(':')) : undefined;
      if (workspace && memberWorkspace !== undefined && memberWorkspace !== workspace) {
        throw new GeoServerError(500, `Layer group within a workspace (${workspace}) can not contain resources from other workspace: ${memberWorkspace}`);
      }
    }
    const read = this.withGroupStylesRead(body);
    const kept = withStylePerEntry(this.withoutUnresolvedEntries(workspace, read, statedStyleCount(read.styles)));
    this.objects.layerGroup.set(id, { ...kept, name, ...(workspace ? { workspace: { name: workspace } } : {}) });
    return id;
  }

  /**
   * A layer group as GeoServer saves it when its `publishables` name layers or layer groups the
   * catalog lacks. XStreamPersister's ReferenceConverter reads such an entry as null
   * (ResolvingProxy.resolve finds nothing); CatalogImpl.validate(LayerGroupInfo), which the POST
   * runs before catalog.add and catalog.save runs after a PUT's copy, drops every entry that is
   * null with a null style (the style with it), then refuses a group left with none ("Layer group
   * must not be empty", an IllegalArgumentException RestControllerAdvice answers with 500). It
   * reads the style at the entry's index, so styles stopping short of a missing entry fail there
   * (500, nothing saved). `styles` is how many styles the group has: a PUT without `styles` keeps
   * the stored ones, one per entry (CatalogImpl.add gives a group without styles a null one each):
   * XStreamPersister's AbstractCatalogInfoConverter makes the body's group without running its
   * constructor, so a body without styles leaves them null, and OwsUtils.copy skips a null.
   * Stand-in limitation: a missing entry with a named style is a style group to GeoServer (its SLD
   * validated); the stand-in refuses it (500) rather than model that.
   */
  private withoutUnresolvedEntries(workspace: string | undefined, group: Representation, styles: number): Representation {
    const entries = publishedList(group);
    if (!entries) return group;
    const styleEntries = styleList(group.styles);
    const keep = entries.map((entry) => this.resolvesEntry(workspace, entry));
    if (keep.every(Boolean)) {
      requireStylePerEntry(styles, entries.length);
      return group;
    }
    keep.forEach((kept, index) => {
      if (kept) return;
      if (index >= styles) throw new GeoServerError(500, `Index ${index} out of bounds for length ${styles}`);
      // A style naming nothing (`{}`, "", "null") reads as null too (groupStyleName).
      if (groupStyleName(styleEntries[index]) !== undefined) {
        throw new GeoServerError(500, `Layer group entry ${index} names no layer or layer group the catalog holds (${String(nameOf(entries[index]))}) but a style: a style group, which the stand-in does not model`);
      }
    });
    const published = entries.filter((_, index) => keep[index]);
    if (published.length === 0) throw new GeoServerError(500, 'Layer group must not be empty');
    requireStylePerEntry(styles - keep.filter((kept) => !kept).length, published.length);
    const keptStyles = styleEntries.length === entries.length ? { styles: { style: styleEntries.filter((_, index) => keep[index]) } } : {};
    return { ...group, publishables: { published }, ...keptStyles };
  }

  /**
   * A layer group body with each style given as text read as GeoServer reads it: XStreamPersister's
   * ReferenceConverter takes an element without children by its text, as the style's name, and
   * ResolvingProxy.resolve looks the style up by it. One the catalog holds is that style, stored
   * and answered as a reference with its name (`{"name": "roads"}`); one naming a style it lacks
   * resolves to nothing and the reader hands on null, a null style (answered "null", as "" and
   * "null" are). Its `rootLayerStyle` given as text is read the same way (the same converter): one
   * naming a style the catalog lacks is null, which a POST stores as no root layer style and a
   * PUT's copy skips. Stand-in limitation: a style given as `{"name": ...}` naming one the catalog
   * lacks is kept as given, not read as null.
   */
  private withGroupStylesRead(group: Representation): Representation {
    const named = (entry: string): string | undefined => {
      const name = groupStyleName(entry);
      return name !== undefined && this.holdsStyle(name) ? name : undefined;
    };
    let read = group;
    if (typeof group.rootLayerStyle === 'string') {
      const { rootLayerStyle, ...rest } = group;
      const name = named(rootLayerStyle);
      read = name === undefined ? rest : { ...rest, rootLayerStyle: { name } };
    }
    const styles = read.styles;
    if (typeof styles !== 'object' || styles === null || !('style' in styles)) return read;
    const style = (styles as { style?: unknown }).style;
    const readEntry = (entry: unknown): unknown => {
      if (typeof entry !== 'string') return entry;
      const name = named(entry);
      return name !== undefined ? { name } : 'null';
    };
    return { ...read, styles: { ...(styles as Representation), style: Array.isArray(style) ? style.map(readEntry) : readEntry(style) } };
  }

  /** Whether the catalog holds a style of that id, or it is one GeoServer creates itself. */
  private holdsStyle(name: string): boolean {
    return this.objects.style.has(name) || BUILT_IN_STYLES.includes(name);
  }

  /** Whether an entry of a group of `workspace` names a layer (`@type` layer) or layer group the catalog holds. */
  private resolvesEntry(workspace: string | undefined, entry: unknown): boolean {
    const member = nameOf(entry);
    if (member === undefined) return false;
    const memberId = member.includes(':') || !workspace ? member : qualified(workspace, member);
    const stated = (entry as Representation | undefined)?.['@type'];
    const layer = this.objects.layer.has(memberId) || this.objects.layer.has(member);
    const group = this.objects.layerGroup.has(memberId) || this.objects.layerGroup.has(member);
    return stated === 'layer' ? layer : stated === 'layerGroup' ? group : layer || group;
  }

  /**
   * DELETE of a layer group (LayerGroupController.layerGroupDelete, on /layergroups/{g} and
   * /workspaces/{ws}/layergroups/{g} alike): it takes no `recurse` (a `recurse=true` sent changes
   * nothing) and calls catalog.remove, which refuses a group another group holds as an entry of
   * its publishables with an IllegalArgumentException, "Unable to delete layer group referenced
   * by layer group '<name>'" (CatalogImpl.remove(LayerGroupInfo)), that RestControllerAdvice
   * answers with 500. A group is never a root layer (LayerGroupInfo.getRootLayer is a LayerInfo).
   */
  deleteLayerGroup(id: string): void {
    this.require('layerGroup', id, 'layer group');
    for (const [holderId, holder] of this.objects.layerGroup) {
      if ((publishedList(holder) ?? []).some((entry) => entryNames(entry, holderId, 'layerGroup', id))) {
        throw new GeoServerError(500, `Unable to delete layer group referenced by layer group '${String(holder.name ?? localName(holderId))}'`);
      }
    }
    this.objects.layerGroup.delete(id);
  }

  /**
   * CascadeDeleteVisitor.visit(LayerGroupInfo), as a recursive delete of its workspace runs it:
   * the group leaves every group holding it (with the entry's style), a group it leaves empty is
   * removed the same way, then the group itself.
   */
  private cascadeDeleteLayerGroup(id: string): void {
    this.removeFromGroups('layerGroup', id);
    this.objects.layerGroup.delete(id);
  }

  /**
   * CascadeDeleteVisitor.visit(LayerInfo) and visit(LayerGroupInfo): the layer (or group) leaves
   * every group holding it as an entry; a group it leaves empty is removed, and leaves the groups
   * holding it the same way. A group's root layer is no entry and stays as it is.
   */
  private removeFromGroups(type: 'layer' | 'layerGroup', removedId: string): void {
    for (const id of [...this.objects.layerGroup.keys()]) {
      // Read each time: a cascade before it in this loop may have changed or removed it.
      const group = this.objects.layerGroup.get(id);
      if (!group) continue;
      const published = publishedList(group);
      if (!published) continue;
      const keep = published.map((entry) => !entryNames(entry, id, type, removedId));
      const kept = published.filter((_, index) => keep[index]);
      if (kept.length === published.length) continue;
      // The entry's style goes with it (the group's styles parallel its entries).
      const styles = styleList(group.styles);
      const keptStyles = styles.length === published.length ? { styles: { style: styles.filter((_, index) => keep[index]) } } : {};
      if (kept.length > 0) this.objects.layerGroup.set(id, { ...group, publishables: { published: kept }, ...keptStyles });
      else this.cascadeDeleteLayerGroup(id);
    }
  }

  /**
   * A layer or layer group renamed: a group holds its entries and its root layer by reference
   * (XStreamPersister writes a group's publishables and rootLayer as references by id), so every
   * group holding it answers the new name, qualified as its entry was.
   */
  private renameInGroups(type: 'layer' | 'layerGroup', from: string, to: string): void {
    const renamedEntry = (entry: unknown) => ({ ...(entry as Representation), name: nameOf(entry)!.includes(':') ? to : localName(to) });
    for (const [id, group] of this.objects.layerGroup) {
      const published = publishedList(group) ?? [];
      const root = type === 'layer' && group.rootLayer !== undefined && entryNames(group.rootLayer, id, 'layer', from);
      if (!root && !published.some((entry) => entryNames(entry, id, type, from))) continue;
      this.objects.layerGroup.set(id, {
        ...group,
        ...(publishedList(group) === undefined ? {} : { publishables: { published: published.map((entry) => (entryNames(entry, id, type, from) ? renamedEntry(entry) : entry)) } }),
        ...(root ? { rootLayer: renamedEntry(group.rootLayer) } : {}),
      });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Styles

  addStyleInfo(workspace: string | undefined, body: Representation): string {
    if (workspace) this.requireWorkspace(workspace);
    const name = String(body.name ?? '');
    if (!name) throw new GeoServerError(500, 'Style name must not be null');
    requireStyleFilename(body);
    const id = qualified(workspace, name);
    // catalog.add of a duplicate fails validation -> RestControllerAdvice 500
    if (this.objects.style.has(id)) throw new GeoServerError(500, `Style named '${name}' already exists`);
    this.objects.style.set(id, {
      format: 'sld',
      ...body,
      name,
      ...(workspace ? { workspace: { name: workspace } } : {}),
    });
    return id;
  }

  /** One-step upload: the entry and its document (StyleController.styleSLDPost). */
  addStyleWithBody(workspace: string | undefined, name: string, body: StyleBody): string {
    if (workspace) this.requireWorkspace(workspace);
    const id = qualified(workspace, name);
    // checkStyleNotExists: "Style <name> already exists" (FORBIDDEN)
    if (this.objects.style.has(id)) throw new GeoServerError(403, `Style ${name} already exists.`);
    this.objects.style.set(id, {
      name,
      format: styleFormat(body.contentType),
      languageVersion: { version: styleVersion(body.contentType) },
      filename: `${name}.${styleExtension(body.contentType)}`,
      ...(workspace ? { workspace: { name: workspace } } : {}),
    });
    this.styleBodies.set(id, body);
    return id;
  }

  putStyleBody(id: string, body: StyleBody): void {
    const info = this.objects.style.get(id);
    // StyleController.stylePut (InputStream form) uses the entry without a null check: with raw,
    // writeStyleRaw's NullPointerException escapes (500); without, writeStyle raises it inside the
    // try that answers any exception as BAD_REQUEST "Invalid style:" (400).
    if (!info) throw body.raw ? new GeoServerError(500, 'java.lang.NullPointerException') : new GeoServerError(400, 'Invalid style:java.lang.NullPointerException');
    this.objects.style.set(id, {
      ...info,
      format: styleFormat(body.contentType),
      languageVersion: { version: styleVersion(body.contentType) },
    });
    this.styleBodies.set(id, body);
  }

  deleteStyle(id: string, recurse: boolean): void {
    this.require('style', id, 'style');
    const users = [...this.objects.layer.entries()].filter(([, layer]) => layerUsesStyle(layer, id));
    if (!recurse && users.length > 0) {
      throw new GeoServerError(403, "Can't delete style referenced by existing layers.");
    }
    const group = [...this.objects.layerGroup.entries()].find(
      ([, candidate]) => nameOf(candidate.rootLayerStyle) === id || styleList(candidate.styles).some((style) => nameOf(style) === id),
    );
    if (!recurse && group) {
      // CatalogImpl.remove(StyleInfo): IllegalArgumentException -> RestControllerAdvice 500
      throw new GeoServerError(500, `Unable to delete style referenced by layer group '${nameOf(group[1])}'`);
    }
    // CascadeDeleteVisitor: extra styles lose it; a layer whose default it is takes its first
    // remaining extra style (out of the list), or its resource's default when none is left.
    for (const [layerId, layer] of users) {
      const styles = styleList(layer.styles).filter((s) => nameOf(s) !== id);
      const resetDefault = nameOf(layer.defaultStyle) === id;
      const defaultStyle = resetDefault ? (styles.shift() ?? resourceDefaultStyle(layer)) : layer.defaultStyle;
      this.objects.layer.set(layerId, {
        ...layer,
        defaultStyle,
        ...(layer.styles !== undefined ? { styles: { style: styles } } : {}),
      });
    }
    // ... a group's root layer style named by it becomes its root layer's resource default, and an
    // entry styled with it takes its layer's default style (removeStyleInLayerGroup).
    for (const [groupId, group] of this.objects.layerGroup) {
      const styles = styleList(group.styles);
      const rootStyled = nameOf(group.rootLayerStyle) === id;
      if (!rootStyled && !styles.some((style) => nameOf(style) === id)) continue;
      const entries = publishedList(group) ?? [];
      const replaced = styles.map((style, index) => {
        if (nameOf(style) !== id) return style;
        const layer = this.objects.layer.get(nameOf(entries[index]) ?? '');
        return layer?.defaultStyle ?? { name: 'generic' };
      });
      const rootLayer = this.objects.layer.get(nameOf(group.rootLayer) ?? '');
      this.objects.layerGroup.set(groupId, {
        ...group,
        ...(group.styles !== undefined ? { styles: { style: replaced } } : {}),
        ...(rootStyled ? { rootLayerStyle: rootLayer ? resourceDefaultStyle(rootLayer) : { name: 'point' } } : {}),
      });
    }
    this.objects.style.delete(id);
    this.styleBodies.delete(id);
  }

  renameStyle(from: string, toName: string): string {
    const to = qualified(workspaceOf(from), toName);
    if (from === to) return from;
    if (this.objects.style.has(to)) throw new GeoServerError(500, `Style named '${toName}' already exists`);
    const info = this.objects.style.get(from)!;
    this.objects.style.delete(from);
    this.objects.style.set(to, { ...info, name: toName });
    const body = this.styleBodies.get(from);
    if (body) {
      this.styleBodies.delete(from);
      this.styleBodies.set(to, body);
    }
    // Layers and layer groups hold the style by reference (its id), so they answer the new name.
    const moved = (reference: unknown) => (nameOf(reference) === from ? { ...(reference as Representation), name: to } : reference);
    // A layer names it as its `defaultStyle`, a layer group as its `rootLayerStyle`; both in `styles`.
    for (const [objects, single] of [
      [this.objects.layer, 'defaultStyle'],
      [this.objects.layerGroup, 'rootLayerStyle'],
    ] as const) {
      for (const [id, object] of objects) {
        const styles = styleList(object.styles);
        if (nameOf(object[single]) !== from && !styles.some((style) => nameOf(style) === from)) continue;
        objects.set(id, {
          ...object,
          ...(object[single] === undefined ? {} : { [single]: moved(object[single]) }),
          ...(object.styles === undefined ? {} : { styles: { ...(object.styles as Representation), style: styles.map(moved) } }),
        });
      }
    }
    return to;
  }

  /**
   * CatalogImpl.save(StyleInfo), after the PUT's copy: a renamed style's file is renamed too,
   * to `<newName>.<ext>` of its format (StyleHandler.getFileExtension), or `<newName>1.<ext>`,
   * `<newName>2.<ext>`, ... when a file of that name is already in the styles folder
   * (Resources.uniqueResource), and the style's filename names the renamed file, whatever the
   * body gave.
   */
  private renamedStyleFile(id: string, style: Representation): string {
    const name = localName(id);
    const extension = STYLE_EXTENSIONS[String(style.format)] ?? 'sld';
    const folder = workspaceOf(id);
    const taken = new Set(
      [...this.objects.style.entries()].filter(([other]) => workspaceOf(other) === folder).map(([, other]) => other.filename),
    );
    let candidate = `${name}.${extension}`;
    for (let n = 1; taken.has(candidate); n += 1) candidate = `${name}${n}.${extension}`;
    return candidate;
  }

  // -------------------------------------------------------------------------------------------
  // Generic update (PUT) and rename

  update(type: CatalogType, id: string, body: Representation): string {
    const original = this.require(type, id, type);
    // Validated before anything is saved; what the body leaves out is kept. A JSON null reaches
    // here as GeoServer reads it (readAsGeoServerDoes): "" for these, so refused too.
    if (type === 'namespace' && body.uri !== undefined && body.uri !== null) requireUri(body);
    if (type === 'style' && body.filename !== undefined && body.filename !== null) requireStyleFilename(body);
    const nameKey = type === 'namespace' ? 'prefix' : 'name';
    const newName = body[nameKey];
    if (type === 'layerGroup' || type === 'style') refuseRenameOrMove(type, id, body, (workspace) => this.objects.workspace.has(workspace));
    let currentId = id;
    if (typeof newName === 'string' && newName !== localName(id)) {
      if (newName === '') throw new GeoServerError(403, `The ${type} name cannot be empty`);
      currentId = this.rename(type, id, newName);
    }
    const current = this.objects[type].get(currentId) ?? original;
    // references come from the path, never from the body (they are re-set after the copy),
    // except a resource's store, which GeoServer copies from the body (movedToStore)
    const { workspace: _w, store: _s, namespace: _n, resource: _r, ...rest } = body;
    const keep = { ...pick(current, ['workspace', 'store', 'namespace', 'resource']), ...this.movedToStore(type, currentId, body) };
    const read = type === 'layerGroup' ? this.withGroupStylesRead(rest) : type === 'layer' ? withLayerStylesRead(rest) : rest;
    let updated = updateIgnoringNulls(current, read);
    if (type === 'layerGroup') {
      // A stated `publishables` (null and "" too: GeoServer's reader makes an element of each) is
      // read as a list, which the copy puts in place of the held one; catalog.save refuses it empty.
      if ('publishables' in body && (publishedList(body) ?? []).length === 0) throw new GeoServerError(500, 'Layer group must not be empty');
      // A stated `styles` naming none ({"style": []}, {}, "") is read as an empty list too, which
      // the copy puts in place of the held styles, and catalog.save takes: the group is left
      // without styles, answered as GeoServer writes an empty list (""). A null is left as it was.
      if (body.styles !== undefined && body.styles !== null && statedStyleCount(body.styles) === 0) updated.styles = '';
      // Validated as catalog.save validates it (withoutUnresolvedEntries), before anything is saved.
      const styles = body.styles !== undefined && body.styles !== null ? statedStyleCount(body.styles) : statedStyleCount(current.styles) || (publishedList(current) ?? []).length;
      updated = withStylePerEntry(this.withoutUnresolvedEntries(workspaceOf(currentId), updated, styles), false);
    }
    if (type === 'style' && currentId !== id) updated.filename = this.renamedStyleFile(currentId, updated);
    if (type === 'namespace') this.requireUniqueUri(currentId, updated);
    this.objects[type].set(currentId, { ...updated, ...keep, [nameKey]: current[nameKey] });
    this.shareLayerFlags(type, currentId, read);
    if (type === 'namespace') this.namespaceSaved(currentId);
    if (type === 'workspace' && (updated.isolated === true) !== (current.isolated === true)) this.workspaceIsolationChanged(currentId);
    if (type === 'layer' && typeof read.defaultStyle === 'object' && read.defaultStyle !== null) {
      const styleName = nameOf(read.defaultStyle);
      if (styleName && !this.holdsStyle(styleName)) {
        this.objects[type].set(currentId, current);
        throw new GeoServerError(500, `No such style: ${styleName}`);
      }
    }
    return currentId;
  }

  /**
   * A layer keeps no `enabled` nor `advertised` of its own: LayerInfoImpl's isEnabled and
   * isAdvertised read its resource's, and setEnabled and setAdvertised write them there. So a PUT
   * stating either on a layer changes its resource, and one on a resource changes what its layer
   * answers. A PUT stating neither keeps both (the REST reader starts from the object held:
   * XStreamPersister's AbstractCatalogInfoConverter copies it before reading the body).
   */
  private shareLayerFlags(type: CatalogType, id: string, read: Representation): void {
    const stated = (['enabled', 'advertised'] as const).filter((flag) => typeof read[flag] === 'boolean');
    if (stated.length === 0) return;
    const values = Object.fromEntries(stated.map((flag) => [flag, read[flag]]));
    if (type === 'layer') {
      const resource = this.objects.layer.get(id)?.resource as { '@class'?: string; name?: string } | undefined;
      const resourceType = resource?.['@class'] as ResourceType | undefined;
      const held = resourceType && resource?.name ? this.objects[resourceType]?.get(resource.name) : undefined;
      if (held) this.objects[resourceType!].set(resource!.name!, { ...held, ...values });
    } else if ((RESOURCE_TYPES as readonly string[]).includes(type)) {
      for (const [layerId, layer] of this.objects.layer) {
        if (nameOf(layer.resource) === id) this.objects.layer.set(layerId, { ...layer, ...values });
      }
    }
  }

  /**
   * NamespaceWorkspaceConsistencyListener.handlePostModifyEvent, after every save of a namespace:
   * each data store of its workspace whose `namespace` connection parameter is set to another URI
   * takes the namespace's URI (stores without one are left alone), then the workspace takes the
   * namespace's isolation (syncWorkspaceIsolation) when it differs.
   */
  private namespaceSaved(prefix: string): void {
    const namespace = this.objects.namespace.get(prefix)!;
    const workspace = this.objects.workspace.get(prefix);
    if (!workspace) return;
    for (const [id, store] of this.objects.dataStore) {
      if (workspaceOf(id) !== prefix) continue;
      const rewritten = withNamespaceParameter(store.connectionParameters, String(namespace.uri));
      if (rewritten) this.objects.dataStore.set(id, { ...store, connectionParameters: rewritten });
    }
    if ((workspace.isolated === true) !== (namespace.isolated === true)) this.objects.workspace.set(prefix, { ...workspace, isolated: namespace.isolated === true });
  }

  /**
   * The listener after a workspace save whose isolation differs from its namespace's
   * (syncNamespaceIsolation): the namespace takes it and is saved, which runs namespaceSaved.
   */
  private workspaceIsolationChanged(name: string): void {
    const namespace = this.objects.namespace.get(name);
    const isolated = this.objects.workspace.get(name)!.isolated === true;
    if (!namespace || (namespace.isolated === true) === isolated) return;
    this.objects.namespace.set(name, { ...namespace, isolated });
    this.namespaceSaved(name);
  }

  /**
   * A resource PUT whose body names another store moves the resource there: featureTypePut (and
   * coveragePut) copies the body onto the resource with CatalogBuilder.update*, i.e. OwsUtils.copy,
   * which sets every non-null property, `store` too (XStreamPersister's ReferenceConverter resolves
   * the name against the catalog); CatalogImpl.validate(ResourceInfo) only checks the name is free
   * in that store and namespace, and save keeps it. Its id and layer stay; the old path answers 404.
   * A store of another workspace is taken too, named `workspace:store`: the reference is declared
   * as a StoreInfo (XStreamPersister registers `ReferenceConverter(StoreInfo.class)` for a
   * resource's `store`), which ResolvingProxy.resolve looks up by that qualified name
   * (getStoreByName(workspace, name)); featureTypePut checks no workspace, and the validation none
   * either. The resource stays in its namespace: its id, its layer, and its read through its own
   * workspace (/workspaces/{ws}/featuretypes/{name}) stay, which answers that store.
   * Reproduced for a store named `store` (of the resource's own workspace) or `workspace:store`; a
   * store that does not exist is left out (the body's is ignored). Stand-in limitation: GeoServer
   * would also list and serve such a resource under the other workspace's store path; the
   * stand-in serves it only through its own workspace.
   */
  private movedToStore(type: CatalogType, id: string, body: Representation): Representation {
    if (!(RESOURCE_TYPES as readonly string[]).includes(type)) return {};
    const named = nameOf(body.store);
    if (!named) return {};
    const storeType = STORE_OF[type as ResourceType];
    const storeId = named.includes(':') ? named : qualified(workspaceOf(id), named);
    if (!this.objects[storeType].has(storeId)) return {};
    // CatalogImpl.validate(ResourceInfo): no other resource of its name in that store.
    const name = String(this.objects[type].get(id)?.name ?? '');
    for (const [otherId, other] of this.objects[type as ResourceType]) {
      if (otherId !== id && storeIdOf(other) === storeId && other.name === name) {
        throw new GeoServerError(500, `Resource named '${name}' already exists in store: '${storeId.slice(storeId.indexOf(':') + 1)}'`);
      }
    }
    return { store: { '@class': storeType, name: storeId } };
  }

  private rename(type: CatalogType, id: string, newName: string): string {
    switch (type) {
      case 'workspace':
        this.renameWorkspace(id, newName);
        return newName;
      case 'featureType':
      case 'coverage':
      case 'wmsLayer':
      case 'wmtsLayer':
        return this.renameResource(type, id, newName);
      case 'style':
        return this.renameStyle(id, newName);
      case 'dataStore':
      case 'coverageStore':
      case 'wmsStore':
      case 'wmtsStore': {
        const to = qualified(workspaceOf(id), newName);
        if (this.objects[type].has(to)) throw new GeoServerError(500, `${type} named '${newName}' already exists`);
        const value = this.objects[type].get(id)!;
        this.objects[type].delete(id);
        this.objects[type].set(to, { ...value, name: newName });
        const resourceType = RESOURCE_TYPES.find((resource) => STORE_OF[resource] === type)!;
        for (const [resourceId, resource] of this.objects[resourceType]) {
          if (storeIdOf(resource) === id) this.objects[resourceType].set(resourceId, { ...resource, store: { '@class': type, name: to } });
        }
        return to;
      }
      default:
        // a layer's name is its resource's; a namespace prefix follows its workspace; a layer
        // group's PUT refuses another name first (refuseRenameOrMove)
        throw new GeoServerError(403, `Renaming a ${type} through REST is not supported`);
    }
  }
}

/**
 * A store's `connectionParameters` (`{"entry": [{"@key": ..., "$": ...}]}`, one entry or a list)
 * with its `namespace` entry set to `uri`: undefined when it has none, or has that one already.
 */
function withNamespaceParameter(parameters: unknown, uri: string): Representation | undefined {
  const entry = (parameters as { entry?: unknown } | undefined)?.entry;
  if (entry === undefined || entry === null) return undefined;
  const entries = (Array.isArray(entry) ? entry : [entry]) as Representation[];
  const found = entries.find((item) => item['@key'] === 'namespace');
  if (!found || found.$ === undefined || found.$ === uri) return undefined;
  const rewritten = entries.map((item) => (item === found ? { ...item, $: uri } : item));
  return { ...(parameters as Representation), entry: Array.isArray(entry) ? rewritten : rewritten[0] };
}

function pick(value: Representation, keys: string[]): Representation {
  return Object.fromEntries(keys.filter((key) => value[key] !== undefined).map((key) => [key, value[key]]));
}

export function nameOf(reference: unknown): string | undefined {
  if (typeof reference === 'string') return reference;
  if (typeof reference === 'object' && reference !== null && typeof (reference as Representation).name === 'string') {
    return (reference as Representation).name as string;
  }
  return undefined;
}

function storeIdOf(resource: Representation): string | undefined {
  return nameOf(resource.store);
}

/**
 * A layer group's entries as GeoServer's reader makes them (one per item, or one for a `published`
 * alone, null and "" included), or undefined when `publishables` states none (left out, null, "",
 * or without `published`). Counted as the product counts them (representations.ts, layerGroupEntries).
 */
function publishedList(group: Representation): unknown[] | undefined {
  const publishables = group.publishables;
  if (typeof publishables !== 'object' || publishables === null) return undefined;
  const published = (publishables as { published?: unknown }).published;
  if (published === undefined) return undefined;
  return Array.isArray(published) ? published : [published];
}

/**
 * Whether an entry of the publishables of the group `holderId` names the layer or layer group
 * `id`: by its qualified name, or, inside the holder's own workspace, by its local name (a
 * global group by its name). An entry whose `@type` says the other kind names something else.
 */
function entryNames(entry: unknown, holderId: string, type: 'layer' | 'layerGroup', id: string): boolean {
  const stated = (entry as Representation | undefined)?.['@type'];
  if (typeof stated === 'string' && stated !== type) return false;
  const name = nameOf(entry);
  if (name === undefined) return false;
  if (name === id) return true;
  return !name.includes(':') && workspaceOf(id) !== undefined && workspaceOf(id) === workspaceOf(holderId) && name === localName(id);
}

function publishedNames(group: Representation): string[] {
  return (publishedList(group) ?? []).map(nameOf).filter((name): name is string => name !== undefined);
}

/**
 * The style GeoServer's catalog builder gives a layer's resource, as the stand-in creates layers
 * (generic for vector data, raster otherwise): what a recursive style delete falls back to.
 */
function resourceDefaultStyle(layer: Representation): Representation {
  return { name: layer.type === 'VECTOR' ? 'generic' : 'raster' };
}

function layerUsesStyle(layer: Representation, styleId: string): boolean {
  if (nameOf(layer.defaultStyle) === styleId) return true;
  return styleList(layer.styles).some((style) => nameOf(style) === styleId);
}

/**
 * CatalogImpl.validate(LayerGroupInfo), after dropping the entries it drops: a group stating
 * styles states one per entry ("Layer group has different number of styles than layers", an
 * IllegalArgumentException RestControllerAdvice answers with 500). A group without styles passes:
 * CatalogImpl.add gives it a null one per entry.
 */
function requireStylePerEntry(styles: number, entries: number): void {
  if (styles > 0 && styles !== entries) throw new GeoServerError(500, 'Layer group has different number of styles than layers');
}

/**
 * How many styles a layer group body states, as GeoServer's JSON reader counts them: each item of
 * a `style` list, or one for a single `style` (even "", "null" or null, which read as a null
 * style); none for `styles` absent, null or "".
 */
export function statedStyleCount(styles: unknown): number {
  if (typeof styles !== 'object' || styles === null || !('style' in styles)) return 0;
  const style = (styles as { style?: unknown }).style;
  return Array.isArray(style) ? style.length : style === undefined ? 0 : 1;
}

/**
 * A layer group as GeoServer stores and answers it: one style per entry. CatalogImpl.add gives a
 * group added without styles a null style per entry (`fill`; catalog.save after a PUT does not),
 * and a style naming nothing reads as a null style too (nullGroupStyle). GeoServer writes a null
 * in the list as `<style/>` in XML and as the string "null" in JSON (XStreamPersister's
 * ReferenceCollectionConverter.writeCompleteItem sets the text "null" for a Jettison writer; the
 * layergroups.yaml examples show it): a group of two entries added without styles answers
 * `"styles":{"style":["null","null"]}`.
 */
function withStylePerEntry(group: Representation, fill = true): Representation {
  const entries = publishedList(group);
  if (!entries) return group;
  const style = (group.styles as { style?: unknown } | null | undefined)?.style;
  const stated = statedStyleCount(group.styles) === 0 ? [] : Array.isArray(style) ? style : [style];
  if (stated.length === 0 && !fill) return group;
  const styles = stated.length > 0 ? stated : entries.map(() => null);
  return { ...group, styles: { style: styles.map((entry) => (groupStyleName(entry) === undefined ? 'null' : entry)) } };
}

/**
 * The style a layer group's style entry names, undefined for a null style. GeoServer reads an
 * entry as a reference (XStreamPersister's ReferenceConverter.unmarshal): its `name` child, or its
 * text when it has no children, so "dem" names the style dem, and "", "null", {}, `{"name":""}`
 * and a JSON null name none the catalog holds: ResolvingProxy.resolve finds no style by that id
 * or name, and the reader hands on null. Stand-in limitation: GeoServer would take "null" for a
 * style named "null" if the catalog held one; the stand-in reads it as null always.
 */
export function groupStyleName(entry: unknown): string | undefined {
  const name = nameOf(entry);
  return name === undefined || name === '' || name === 'null' ? undefined : name;
}

/** The default styles GeoServer creates in a catalog lacking them (point, line, polygon, raster, generic); the stand-in holds them without entries. */
const BUILT_IN_STYLES = ['generic', 'raster', 'point', 'line', 'polygon'];

/**
 * A layer body with its `defaultStyle` and `styles` entries given as text read as GeoServer reads
 * them (XStreamPersister's ReferenceConverter, ReferenceCollectionConverter): a text is the style's
 * name, so "roads" is read as `{"name": "roads"}` is, and judged the same way after. "" and "null"
 * are left as given.
 */
function withLayerStylesRead(layer: Representation): Representation {
  const read = (entry: unknown): unknown => (typeof entry === 'string' && groupStyleName(entry) !== undefined ? { name: entry } : entry);
  const styles = layer.styles;
  const style = typeof styles === 'object' && styles !== null ? (styles as { style?: unknown }).style : undefined;
  return {
    ...layer,
    ...(layer.defaultStyle === undefined ? {} : { defaultStyle: read(layer.defaultStyle) }),
    ...(style === undefined ? {} : { styles: { ...(styles as Representation), style: Array.isArray(style) ? style.map(read) : read(style) } }),
  };
}

/** A layer's or layer group's `styles.style`, one entry or a list. */
function styleList(styles: unknown): unknown[] {
  const style = (styles as { style?: unknown } | undefined)?.style;
  return Array.isArray(style) ? style : style ? [style] : [];
}

/** Style media types (fixture README, "How a style body is uploaded"). */
export const STYLE_MEDIA_TYPES: Record<string, { format: string; version: string; extension: string }> = {
  'application/vnd.ogc.sld+xml': { format: 'sld', version: '1.0.0', extension: 'sld' },
  'application/vnd.ogc.se+xml': { format: 'sld', version: '1.1.0', extension: 'sld' },
  'application/vnd.geoserver.geocss+css': { format: 'css', version: '1.0.0', extension: 'css' },
  'application/vnd.geoserver.ysld+yaml': { format: 'ysld', version: '1.0.0', extension: 'yaml' },
  'application/vnd.geoserver.mbstyle+json': { format: 'mbstyle', version: '1.0.0', extension: 'json' },
};

/** A style format's file extension (StyleHandler.getFileExtension). */
const STYLE_EXTENSIONS: Record<string, string> = Object.fromEntries(
  Object.values(STYLE_MEDIA_TYPES).map(({ format, extension }) => [format, extension]),
);

const styleFormat = (contentType: string): string => STYLE_MEDIA_TYPES[contentType]?.format ?? 'sld';
const styleVersion = (contentType: string): string => STYLE_MEDIA_TYPES[contentType]?.version ?? '1.0.0';
const styleExtension = (contentType: string): string => STYLE_MEDIA_TYPES[contentType]?.extension ?? 'sld';

/**
 * LayerGroupController.layerGroupPut refuses, before it copies anything, a body naming the group
 * otherwise ("ensure not a name change": a stated name other than the held one, "" included) or
 * naming another workspace ("ensure not a workspace change"), each a RestException with
 * FORBIDDEN. So a layer group cannot be renamed or moved through REST: its web UI does it.
 * StyleController.stylePut refuses another workspace alike ("ensure no workspace change") but
 * takes a new name. (Read in geoserver/geoserver src/restconfig/.../rest/catalog/
 * LayerGroupController.java layerGroupPut and StyleController.java stylePut, alike in every
 * version stored, the Restlet LayerGroupResource and StyleResource before them too.)
 */
function refuseRenameOrMove(type: 'layerGroup' | 'style', id: string, body: Representation, held: (workspace: string) => boolean): void {
  const what = type === 'style' ? 'a style' : 'a layer group';
  if (type === 'layerGroup' && typeof body.name === 'string' && body.name !== localName(id)) throw new GeoServerError(403, "Can't change name of a layer group");
  // A workspace the catalog lacks is read as none (XStreamPersister's ReferenceConverter), so not checked.
  const workspace = nameOf(body.workspace);
  if (workspace !== undefined && held(workspace) && workspace !== workspaceOf(id)) {
    throw new GeoServerError(403, `Can't change the workspace of ${what}, instead DELETE from existing workspace and POST to new workspace`);
  }
}

/**
 * CatalogImpl.validate(NamespaceInfo): a namespace without a URI, or with a blank one, is refused
 * with a NullPointerException ("Namespace uri must not be null"), which RestControllerAdvice
 * answers with 500. A PUT copies only what its body gives, so it fails only with a blank one,
 * which a JSON null is (readAsGeoServerDoes).
 */
function requireUri(namespace: Representation): void {
  if (typeof namespace.uri !== 'string' || namespace.uri.trim() === '') throw new GeoServerError(500, 'Namespace uri must not be null');
}

/**
 * CatalogImpl.validate(StyleInfo): a style without a filename, or with a blank one, is refused
 * with a NullPointerException ("Style fileName must not be null"), which RestControllerAdvice
 * answers with 500. StyleController.stylePost adds the info as the body gives it: only the
 * one-step upload (createStyleInfo) names the file after the style. A PUT copies only what its
 * body gives (CatalogBuilder.updateStyle skips Java nulls), so it fails only with a blank one; a
 * JSON `null` is blank there, since Jettison gives its element no text and XStream reads an
 * element without text as "" (readAsGeoServerDoes).
 */
function requireStyleFilename(style: Representation): void {
  if (typeof style.filename !== 'string' || style.filename.trim() === '') throw new GeoServerError(500, 'Style fileName must not be null');
}

/**
 * The file GeoServer holds for a style file POSTed or PUT to a style path (StyleController's
 * styleSLDPost and stylePut). It first reads the whole body as text in the charset its
 * `Content-Type` names (getCharsetFromContentType: the value after the `=` of the header's second
 * `;`-separated part, as given, whatever the parameter is called; the JVM's default, UTF-8, when
 * there is none), for `?raw=true` too: a name Java cannot take fails the request with 500 before
 * anything is stored. Then it keeps the bytes as sent (`?raw=true`, and any style but an SLD 1.0
 * of one layer: writeStyle writes those raw), or, for an SLD 1.0 of one layer uploaded without
 * `raw`, writes the style parsed from that text anew (ResourcePool.writeStyle, UTF-8): the
 * characters the charset read, whatever the body's own XML declaration or byte order mark said.
 * The stand-in keeps that text as read, in UTF-8 behind a UTF-8 declaration, rather than writing
 * it out from a parsed style. `unsupported` for a charset the stand-in cannot read as Java would.
 */
export function styleFileHeld(bytes: Buffer, contentType: string, raw: boolean): Buffer | { unsupported: string } {
  const parts = contentType.split(';');
  const value = parts.length > 1 && parts[1]!.includes('=') ? parts[1]!.split('=')[1] : undefined;
  const text = javaDecoded(bytes, value || 'UTF-8');
  if (typeof text !== 'string') return text;
  const mediaType = parts[0]!.trim().toLowerCase();
  const layers = text.match(/<(?:[\w.-]+:)?(?:NamedLayer|UserLayer)\b/g)?.length ?? 0;
  if (raw || mediaType !== 'application/vnd.ogc.sld+xml' || layers > 1) return bytes;
  const body = text.replace(/^\uFEFF?(?:<\?xml\s[^>]*\?>)?/, '');
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>${body}`, 'utf8');
}

/**
 * `new String(bytes, charset)`: 500 for a name Java refuses (java.nio.charset.Charset: a letter or
 * digit, then letters, digits, `-`, `+`, `:`, `_` and `.`; blanks and quotes are not trimmed) or
 * does not know. ISO-8859-1 and US-ASCII are read as Java reads them (the Encoding Standard reads
 * both as windows-1252), UTF-16 by its byte order mark, else big-endian; any other by the Encoding
 * Standard's label, with a byte order mark kept as U+FEFF as Java keeps it. A name that standard
 * does not know may still be one Java knows (IBM037, UTF-32): `unsupported` rather than a guess.
 */
function javaDecoded(bytes: Buffer, charset: string): string | { unsupported: string } {
  if (!/^[A-Za-z0-9][A-Za-z0-9+:_.-]*$/.test(charset)) throw new GeoServerError(500, `java.nio.charset.IllegalCharsetNameException: ${charset}`);
  const label = charset.toLowerCase().replace(/_/g, '-');
  if (/^(iso-?8859-1|latin1|l1|cp819|ibm819|iso-ir-100|csisolatin1|819)$/.test(label)) return bytes.toString('latin1');
  if (/^(us-ascii|ascii|iso646-us|ascii7|646|default|cp367|ibm367|csascii|us|iso-ir-6)$/.test(label)) return Array.from(bytes, (byte) => (byte < 0x80 ? String.fromCharCode(byte) : '\uFFFD')).join('');
  if (label === 'utf-16' || label === 'utf16' || label === 'unicode') {
    const little = bytes[0] === 0xff && bytes[1] === 0xfe;
    const marked = little || (bytes[0] === 0xfe && bytes[1] === 0xff);
    return new TextDecoder(little ? 'utf-16le' : 'utf-16be', { ignoreBOM: true }).decode(bytes.subarray(marked ? 2 : 0));
  }
  try {
    return new TextDecoder(label, { ignoreBOM: true }).decode(bytes);
  } catch {
    return { unsupported: `a style file in the charset ${JSON.stringify(charset)}, which the stand-in cannot read as Java would (it reads the Encoding Standard's labels only)` };
  }
}

/** How many entries a layer group body states, as GeoServer's reader makes them (publishedList). */
export function statedEntryCount(group: Representation): number {
  return (publishedList(group) ?? []).length;
}
