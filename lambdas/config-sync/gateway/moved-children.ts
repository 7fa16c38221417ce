/**
 * What a workspace or store rename through the gateway moves besides the object itself, and who
 * refers to what moved: found in the master's store, which holds what the cluster holds (every
 * published change, as the master's GeoServer answered it), so exactly what the other nodes hold
 * under the old name.
 *
 * GeoServer renames a workspace or a store in place (WorkspaceController.workspacePut and
 * DataStoreController.dataStorePut, like the other store controllers: `CatalogBuilder.update*`,
 * then `catalog.save`), and everything in it belongs to it by reference (by id: XStreamPersister
 * persists a store's workspace, a resource's store and namespace, a layer's resource, a group's
 * layers and styles as references). So after the rename the master answers:
 * - for a workspace: its stores, styles, resources, layers, layer groups, workspace settings and
 *   service settings under the new name (`new:name`), its namespace with the new prefix and the
 *   same URI (NamespaceWorkspaceConsistencyListener.handleModifyEvent renames only the prefix),
 *   and every reference to them from outside it (a global layer group's entry `new:layer`);
 * - for a store: its resources (same ids: resources are named by namespace, not by store) naming
 *   the new store, with their layers unchanged.
 * The other nodes still hold all of it under the old name: gateway.ts's `parentRenamed` publishes
 * what moved, in an order every GeoServer accepts.
 */
import { isConfigurationType, RESOURCE_OF, RESOURCE_TYPES, splitObjectId, STORE_TYPES, type ObjectType, type StoreType } from '../events';
import { dependencyRank } from '../geoserver/drift';
import { REST_MAPPING, restTarget } from '../geoserver/rest-mapping';
import { isJsonObject, type JsonObject, type JsonValue } from '../merge-patch';
import { localName, referencedName } from '../representations';
import type { CatalogObject, MasterCatalog } from './master-catalog';
import { styleUserPath } from './style-users';

/** A workspace (`from` and `to` are names) or a store (`workspace:name` ids, same workspace) renamed. */
export interface ParentRename {
  readonly type: 'workspace' | StoreType;
  readonly from: string;
  readonly to: string;
}

/** An object that moved with its parent: its old id, its new id and its REST path on the master now. */
export interface MovedChild {
  readonly type: ObjectType;
  readonly oldId: string;
  readonly id: string;
  readonly path: string;
}

/** The types a workspace holds (its namespace, which keeps its URI, is published apart: see gateway.ts). */
const IN_WORKSPACE: readonly ObjectType[] = [...STORE_TYPES, 'style', ...RESOURCE_TYPES, 'layer', 'layerGroup', 'service'];

/**
 * What moved with the renamed workspace or store, in the order GeoServer creates them (a store
 * before its resources, a resource before its layer, a layer before the groups naming it, a
 * group after the groups it holds).
 */
export async function movedChildren(catalog: MasterCatalog, rename: ParentRename): Promise<MovedChild[]> {
  const moved: MovedChild[] = [];
  const groups: CatalogObject[] = [];
  if (rename.type === 'workspace') {
    for (const type of IN_WORKSPACE) {
      for (const object of await catalog.list(type, `${rename.from}:`)) {
        const id = `${rename.to}:${splitObjectId(object.id).name}`;
        if (type === 'layerGroup') groups.push(object);
        else moved.push({ type, oldId: object.id, id, path: childPath(type, id, movedStore(object.properties, rename.to)) });
      }
    }
    if (await catalog.get('workspaceSettings', rename.from)) {
      moved.push({ type: 'workspaceSettings', oldId: rename.from, id: rename.to, path: childPath('workspaceSettings', rename.to, {}) });
    }
  } else {
    const workspace = splitObjectId(rename.from).workspace!;
    const resourceType = RESOURCE_OF[rename.type];
    // Those naming the new store too: none after a rename through the gateway (the store is new),
    // the ones already moved when a recovery finishes a rename whose publish failed midway.
    const resources = (await catalog.list(resourceType, `${workspace}:`)).filter((resource) => [rename.from, rename.to].includes(storeIdOf(resource) ?? ''));
    const ids = new Set(resources.map((resource) => resource.id));
    for (const resource of resources) {
      const properties = { ...resource.properties, store: { ...(isJsonObject(resource.properties.store) ? resource.properties.store : {}), name: rename.to } };
      moved.push({ type: resourceType, oldId: resource.id, id: resource.id, path: childPath(resourceType, resource.id, properties) });
    }
    for (const layer of await catalog.list('layer', `${workspace}:`)) {
      if (ids.has(layer.id)) moved.push({ type: 'layer', oldId: layer.id, id: layer.id, path: childPath('layer', layer.id, {}) });
    }
  }
  moved.sort((a, b) => dependencyRank(a.type) - dependencyRank(b.type));
  // Groups after the layers, each after the groups it holds; settings after all of them.
  const settings = moved.filter((child) => isConfigurationType(child.type));
  const catalogObjects = moved.filter((child) => !isConfigurationType(child.type));
  const orderedGroups = nestedFirst(groups).map((group) => {
    const id = `${rename.to}:${splitObjectId(group.id).name}`;
    return { type: 'layerGroup' as const, oldId: group.id, id, path: childPath('layerGroup', id, {}) };
  });
  return [...catalogObjects, ...orderedGroups, ...settings];
}

/**
 * The layers and layer groups outside what moved that name something that moved: GeoServer holds
 * those references by id, so the master answers them with the new names (a workspace rename), or
 * the other nodes change them when they remove the old store's layers with it (a store rename:
 * CascadeDeleteVisitor.visit(LayerInfo) takes a removed layer out of every group, and removes a
 * group it leaves empty), so each is published again as the master holds it. Groups come after
 * the groups they hold.
 */
export async function referrersOf(catalog: MasterCatalog, rename: ParentRename, moved: readonly MovedChild[]): Promise<CatalogObject[]> {
  const movedKeys = new Set(moved.map((child) => `${child.type}/${child.oldId}`));
  const movedLayers = new Set(moved.filter((child) => child.type === 'layer').map((child) => child.oldId));
  const refers = (object: CatalogObject): boolean =>
    rename.type === 'workspace' ? mentionsWorkspace(object.properties, rename.from) : namesOneOf(object, movedLayers);
  const layers = rename.type === 'workspace' ? (await catalog.list('layer')).filter((layer) => !movedKeys.has(`layer/${layer.id}`) && refers(layer)) : [];
  const groups = (await catalog.list('layerGroup')).filter(
    (group) => !movedKeys.has(`layerGroup/${group.id}`) && !(rename.type === 'workspace' && group.id.startsWith(`${rename.from}:`)) && refers(group),
  );
  return [...layers, ...nestedFirst(groups)];
}

/** The REST path of an object on the master, as the gateway reads it (a layer by its qualified name). */
export function childPath(type: ObjectType, id: string, properties: JsonObject): string {
  if (type === 'layer' || type === 'layerGroup') return styleUserPath({ type, id });
  return REST_MAPPING[type].item(restTarget(type, id, properties));
}

/** A resource's properties with its store reference moved to the workspace `to` (the path goes through it). */
function movedStore(properties: JsonObject, to: string): JsonObject {
  const store = referencedName(properties.store);
  if (store === undefined) return properties;
  return { ...properties, store: { ...(properties.store as JsonObject), name: `${to}:${localName(store)}` } };
}

export function storeIdOf(resource: CatalogObject): string | undefined {
  const store = referencedName(resource.properties.store);
  if (store === undefined) return undefined;
  return store.includes(':') ? store : `${splitObjectId(resource.id).workspace}:${store}`;
}

/** Whether a representation refers to something in workspace `ws` (`ws:name`, or a `workspace`/`namespace` reference to it). */
export function mentionsWorkspace(value: JsonValue, ws: string): boolean {
  if (Array.isArray(value)) return value.some((item) => mentionsWorkspace(item, ws));
  if (!isJsonObject(value)) return false;
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'name' && typeof inner === 'string' && inner.startsWith(`${ws}:`)) return true;
    if ((key === 'workspace' || key === 'namespace') && (inner === ws || (isJsonObject(inner) && inner.name === ws))) return true;
    if (typeof inner === 'object' && inner !== null && mentionsWorkspace(inner, ws)) return true;
  }
  return false;
}

/** Whether a layer group's entries (`publishables`, `rootLayer`) name one of `layers` (qualified ids of layers or groups). */
export function namesOneOf(group: CatalogObject, layers: ReadonlySet<string>): boolean {
  const workspace = splitObjectId(group.id).workspace;
  const names: string[] = [];
  collectNames(group.properties.publishables ?? null, names);
  collectNames(group.properties.rootLayer ?? null, names);
  return names.some((name) => layers.has(name) || (workspace !== undefined && layers.has(`${workspace}:${name}`)));
}

function collectNames(value: JsonValue, names: string[]): void {
  if (Array.isArray(value)) for (const item of value) collectNames(item, names);
  else if (isJsonObject(value)) {
    if (typeof value.name === 'string') names.push(value.name);
    for (const inner of Object.values(value)) if (typeof inner === 'object' && inner !== null) collectNames(inner, names);
  }
}

/** Layer groups ordered so that a group comes after every group of the list it holds. */
export function nestedFirst(groups: readonly CatalogObject[]): CatalogObject[] {
  const byId = new Map(groups.map((group) => [group.id, group]));
  const ordered: CatalogObject[] = [];
  const placed = new Set<string>();
  const visit = (group: CatalogObject, path: Set<string>): void => {
    if (placed.has(group.id) || path.has(group.id)) return;
    path.add(group.id);
    const names: string[] = [];
    collectNames(group.properties.publishables ?? null, names);
    const workspace = splitObjectId(group.id).workspace;
    for (const name of names) {
      const inner = byId.get(name) ?? (workspace === undefined ? undefined : byId.get(`${workspace}:${name}`));
      if (inner) visit(inner, path);
    }
    placed.add(group.id);
    ordered.push(group);
  };
  for (const group of groups) visit(group, new Set());
  return ordered;
}
