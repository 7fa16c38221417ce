/**
 * What GeoServer changes along with a namespace or its workspace, beyond the object written
 * (NamespaceWorkspaceConsistencyListener, geoserver/geoserver src/main/src/main/java/org/
 * geoserver/catalog): a namespace and the workspace of the same name keep one `isolated`, so a
 * PUT changing either's saves the other too; every save of a namespace sets the `namespace`
 * connection parameter of the workspace's data stores that have one to the namespace's URI; and
 * a workspace's DELETE removes its namespace (WorkspaceController.workspaceDelete, or
 * CascadeDeleteVisitor with `recurse`).
 *
 * A PUT to a namespace or workspace reads both objects and the workspace's data stores before it
 * is forwarded (`linkedBefore`), a few at a time (MASTER_READ_CONCURRENCY); after it, each that
 * the master changed is published as a modify carrying its whole state, after the object
 * written: the other object, then the data stores (`linkedChanges`). A node applies the written
 * object's change first, and its own GeoServer makes the same side effects there, so the
 * modifies that follow change nothing on it and bring its copy to the master's.
 *
 * A layer and its resource (feature type, coverage, WMS or WMTS layer) are linked the same way: a
 * layer keeps no `enabled` nor `advertised` of its own (LayerInfoImpl reads and writes its
 * resource's), so a PUT of either changing them changes the other, which is published after it.
 */
import { isResourceType, splitObjectId, type ConfigChange, type ObjectType } from '../events';
import { REST_MAPPING } from '../geoserver/rest-mapping';
import { mergePatchBetween, wholeStatePatch, type JsonObject } from '../merge-patch';
import { layerResource, localName } from '../representations';
import type { ManagedPath } from './rest-paths';
import { mapConcurrently } from '../../shared/concurrency';
import { MASTER_READ_CONCURRENCY } from './limits';

/** What the gateway reads the master with (gateway.ts's `readerFor`). */
export interface LinkReader {
  object(target: { type: ObjectType }, path: string): Promise<JsonObject | undefined>;
  names(path: string): Promise<string[]>;
}

/** An object GeoServer may change along with the one written, and what it was before the write. */
export interface LinkedObject {
  readonly type: ObjectType;
  readonly id: string;
  readonly path: string;
  readonly before: JsonObject | undefined;
}

/** The namespace of a workspace, or the workspace of a namespace: same name. */
export function linkedPath(type: ObjectType, id: string): { readonly type: ObjectType; readonly id: string; readonly path: string } | undefined {
  if (type === 'namespace') return { type: 'workspace', id, path: `/workspaces/${encodeURIComponent(id)}` };
  if (type === 'workspace') return { type: 'namespace', id, path: `/namespaces/${encodeURIComponent(id)}` };
  return undefined;
}

/** The data stores of workspace `name` on the master, as objects a namespace save may change. */
export async function dataStoresOf(read: LinkReader, name: string): Promise<{ readonly type: ObjectType; readonly id: string; readonly path: string }[]> {
  const collection = `/workspaces/${encodeURIComponent(name)}/datastores`;
  return (await read.names(collection)).map((store) => ({ type: 'dataStore' as ObjectType, id: `${name}:${store}`, path: `${collection}/${encodeURIComponent(store)}` }));
}

/**
 * The resource of a layer (named by the layer's `resource`, read through its workspace), or the
 * layer of a resource (of the same name): where a PUT's `enabled` or `advertised` lands too.
 */
async function layerPartner(read: LinkReader, target: ManagedPath & { readonly id: string }): Promise<{ readonly type: ObjectType; readonly id: string; readonly path: string }[]> {
  const { workspace, name } = splitObjectId(target.id);
  if (workspace === undefined) return [];
  if (isResourceType(target.type)) return [{ type: 'layer', id: target.id, path: REST_MAPPING.layer.item({ workspace, name }) }];
  if (target.type !== 'layer') return [];
  return resourceOfLayer(read, { ...target, id: target.id });
}

/**
 * The resource the master's layer `layer` names (read through its workspace), whose `enabled` and
 * `advertised` are the layer's: none where the layer is not held, or names no resource.
 */
export async function resourceOfLayer(
  read: LinkReader,
  layer: { readonly type: ObjectType; readonly id: string; readonly path: string },
): Promise<{ readonly type: ObjectType; readonly id: string; readonly path: string }[]> {
  const { workspace } = splitObjectId(layer.id);
  if (workspace === undefined) return [];
  const resource = layerResource(layer.id, await read.object(layer, layer.path));
  const inWorkspace = resource === undefined ? undefined : REST_MAPPING[resource.type]?.inWorkspace;
  if (!resource || !inWorkspace) return [];
  return [{ ...resource, path: inWorkspace({ workspace, name: localName(resource.id) }) }];
}

/**
 * Before a PUT to a namespace or workspace: the other one and the workspace's data stores, as the
 * master holds them; before one to a layer or resource, the other of the two.
 */
export async function linkedBefore(read: LinkReader, target: ManagedPath, method: string): Promise<LinkedObject[]> {
  if (method !== 'PUT' || !target.id || target.layerStyles) return [];
  const other = linkedPath(target.type, target.id);
  const objects = other ? [other, ...(await dataStoresOf(read, target.id))] : await layerPartner(read, { ...target, id: target.id });
  return mapConcurrently(objects, MASTER_READ_CONCURRENCY, async (object) => ({ ...object, before: await read.object(object, object.path) }));
}

/** After the PUT: a whole-state modify of each linked object the master changed, in the order given. */
export async function linkedChanges(read: LinkReader, linked: readonly LinkedObject[]): Promise<ConfigChange[]> {
  const held = linked.filter((object): object is LinkedObject & { readonly before: JsonObject } => object.before !== undefined);
  const afters = await mapConcurrently(held, MASTER_READ_CONCURRENCY, (object) => read.object(object, object.path));
  return held.flatMap((object, index) => {
    const after = afters[index];
    // Gone (the workspace was renamed, by an XML body the gateway does not read): what moved is the rename's to publish.
    if (!after || Object.keys(mergePatchBetween(object.before, after)).length === 0) return [];
    return [{ kind: 'modify', object: { type: object.type, id: object.id }, patch: wholeStatePatch(object.before, after) } as ConfigChange];
  });
}

/**
 * After a namespace's or workspace's removal: the other one's, once the master no longer holds it.
 * GeoServer removes the two together: a workspace's DELETE its namespace (WorkspaceController,
 * CascadeDeleteVisitor); a namespace's its workspace (the listener's handleRemoveEvent), unless
 * that workspace holds a store (CatalogImpl refuses to remove it, and the listener's failure is
 * only logged). Published after the object's own removal: the other nodes' GeoServers removed it
 * along already, and answer its DELETE with 404, which counts as done.
 */
export async function linkedRemoval(read: LinkReader, object: { readonly type: ObjectType; readonly id: string }): Promise<ConfigChange[]> {
  const other = linkedPath(object.type, object.id);
  if (!other || (await read.object(other, other.path))) return [];
  return [{ kind: 'remove', object: { type: other.type, id: other.id }, recurse: false } as ConfigChange];
}
