/**
 * What a recursive DELETE through the gateway changes besides what it removes, and so must be
 * published before the removal.
 *
 * GeoServer's `recurse=true` runs CascadeDeleteVisitor (src/main/src/main/java/org/geoserver/
 * catalog): removing a layer takes it out of every layer group, and removes a group it leaves
 * empty (and that group from the groups holding it); removing a style resets the default style
 * of the layers that had it and takes it out of their other styles and of the groups' styles.
 * A store or workspace removed with `recurse` removes its layers that way. A resource's own DELETE
 * does not: it removes its layers with catalog.remove, which GeoServer refuses for a layer a group
 * names (FeatureTypeController.featureTypeDelete, CoverageController.coverageDelete), so the master
 * refuses it and nothing is published; where no group names the layer there is nothing to publish
 * before it. The nodes
 * apply the removal with `recurse` too, so their GeoServers do the same; but every store (the
 * master's, which the gateway keeps as its GeoServer answers, and the DynamoDB copies) would keep
 * the groups and layers as they were, naming what is gone: a drift check of the master would
 * report them, and a reconcile of a node from its store would send them back.
 *
 * So each one is read back from the master after the DELETE, and published as the master holds
 * it now (a modify with its whole state), or removed when the master no longer has it. The
 * candidates are found in the master's store, which holds what the cluster holds.
 */
import { isResourceType, isStoreType, objectStorageKey, RESOURCE_OF, splitObjectId, type ConfigChange, type ObjectRef, type ObjectType } from '../events';
import { mergePatchBetween, wholeStatePatch, type JsonObject } from '../merge-patch';
import { parentsOf } from '../liveness';
import { REST_MAPPING, restTarget } from '../geoserver/rest-mapping';
import type { CatalogObject, MasterCatalog } from './master-catalog';
import { namesOneOf, nestedFirst, storeIdOf } from './moved-children';
import { styleUserPath, type StyleUsers } from './style-users';

/** Reads an object back from the master (gateway.ts `readerFor`): undefined when it has none. */
type ReadBack = (target: { type: ObjectType }, path: string) => Promise<JsonObject | undefined>;

/** The changes to publish before the removal of `target` with `recurse`, in the order to publish them. */
export async function cascadedChanges(
  target: { readonly type: ObjectType; readonly id: string },
  lookups: { readonly catalog?: MasterCatalog; readonly styleUsers?: StyleUsers },
  readBack: ReadBack,
): Promise<ConfigChange[]> {
  if (target.type === 'style') {
    if (!lookups.styleUsers) return [];
    const users = await lookups.styleUsers.of(target.id);
    return publishAsHeld(users, readBack);
  }
  const { catalog } = lookups;
  if (!catalog) return [];
  const removedLayers = await layersRemovedWith(catalog, target);
  if (removedLayers.size === 0) return [];
  // Groups inside a removed workspace go with it, and leave the groups outside it that held them.
  const inRemoved = (group: CatalogObject) => target.type === 'workspace' && group.id.startsWith(`${target.id}:`);
  const all = await catalog.list('layerGroup');
  const groups = all.filter((group) => !inRemoved(group));
  // A group left empty is removed, and with it its entries in other groups: a fixed point.
  const removed = new Set([...removedLayers, ...all.filter(inRemoved).map((group) => group.id)]);
  const affected = new Map<string, CatalogObject>();
  const held = new Map<string, JsonObject | undefined>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const group of groups) {
      if (affected.has(group.id) || !namesOneOf(group, removed)) continue;
      affected.set(group.id, group);
      const now = await readBack({ type: 'layerGroup' }, styleUserPath({ type: 'layerGroup', id: group.id }));
      held.set(group.id, now);
      if (!now) {
        removed.add(group.id);
        grew = true;
      }
    }
  }
  // The groups that stay first (they stop naming what goes), then those that go, outer ones first.
  const stay = [...affected.values()].filter((group) => held.get(group.id));
  const gone = [...affected.values()].filter((group) => !held.get(group.id));
  return [...stay, ...nestedFirst(gone).reverse()].flatMap((group) => asHeldNow(group, held.get(group.id)) ?? []);
}

/**
 * What to publish after the removal of `target` with `recurse`: a layer's resource, which
 * GeoServer removes with it (CascadeDeleteVisitor.visit(LayerInfo): "remove the layer and (for the
 * moment) its resource as well"), once the master answers it no more. After the layer's removal,
 * since a GeoServer refuses to remove a resource still published as a layer; on the other nodes
 * the layer's removal took it already, and its DELETE answers 404, which counts as done. With
 * `recurse` itself: a node whose redrive applied a parked change of the resource out of order
 * (which creates its layer again) has a layer to take with it.
 */
export async function cascadedAfter(
  target: { readonly type: ObjectType; readonly id: string },
  catalog: MasterCatalog | undefined,
  readBack: ReadBack,
): Promise<ConfigChange[]> {
  if (target.type !== 'layer' || !catalog) return [];
  const layer = await catalog.get('layer', target.id);
  const ref = layer ? resourceOf(layer) : undefined;
  const resource = ref ? await catalog.get(ref.type, ref.id) : undefined;
  if (!resource) return [];
  const { type, id } = resource;
  if (await readBack({ type }, REST_MAPPING[type].item(restTarget(type, id, resource.properties)))) return [];
  return [{ kind: 'remove', object: { type, id }, recurse: true } as ConfigChange];
}

/**
 * A resource renamed through the gateway: on the master every group that held its old layer (as
 * an entry or as its root layer) names the renamed one. So, after the new layer and before the
 * old id's removal with `recurse`, each group that held the old one, directly or through other
 * groups, is published as the master holds it: a modify with its whole state even where the
 * master's did not change, inner groups first; a removal where the master has it no more. By the
 * removal no group on the other nodes names the old layer, so their cascade takes nothing out of
 * a group, and none refuses it for a group whose root layer it is (CatalogImpl.remove(LayerInfo)).
 */
export async function groupsOfRenamedLayer(catalog: MasterCatalog, oldLayerId: string, readBack: ReadBack): Promise<ConfigChange[]> {
  const groups = await catalog.list('layerGroup');
  const held = new Set([oldLayerId]);
  const holding = new Map<string, CatalogObject>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const group of groups) {
      if (holding.has(group.id) || !namesOneOf(group, held)) continue;
      holding.set(group.id, group);
      held.add(group.id);
      grew = true;
    }
  }
  return publishAsHeld(nestedFirst([...holding.values()]), readBack, true);
}

/**
 * A layer group renamed through the gateway (which GeoServer's layer group PUT refuses, 403,
 * LayerGroupController.layerGroupPut: should a master take one): GeoServer holds a group's entries by reference, so on
 * the master every group that held the renamed one names the new name, while the other nodes'
 * still name the old one and would refuse its removal ("Unable to delete layer group referenced
 * by layer group", CatalogImpl.remove(LayerGroupInfo)). So, between the new group's add and the
 * old one's removal, each group that held it as an entry is published as the master holds it.
 * Groups holding those are unchanged: they hold them, not the renamed one.
 */
export async function groupsOfRenamedGroup(catalog: MasterCatalog, oldGroupId: string, readBack: ReadBack): Promise<ConfigChange[]> {
  const held = new Set([oldGroupId]);
  const holding = (await catalog.list('layerGroup')).filter((group) => group.id !== oldGroupId && namesOneOf(group, held));
  return publishAsHeld(holding, readBack);
}

/** Each object (a layer or a layer group) as the master holds it now, read back in turn (`asHeldNow`). */
async function publishAsHeld(objects: readonly CatalogObject[], readBack: ReadBack, always = false): Promise<ConfigChange[]> {
  const changes: ConfigChange[] = [];
  for (const object of objects) {
    const now = await readBack({ type: object.type }, styleUserPath({ type: object.type as 'layer' | 'layerGroup', id: object.id }));
    const change = asHeldNow(object, now, always);
    if (change) changes.push(change);
  }
  return changes;
}

/**
 * The change that leaves `object` as the master holds it now (`now`): its removal when the
 * master has it no more, else a modify with its whole state, where it changed unless `always`.
 */
function asHeldNow(object: CatalogObject, now: JsonObject | undefined, always = false): ConfigChange | undefined {
  const ref = { type: object.type, id: object.id };
  if (!now) return { kind: 'remove', object: ref, recurse: false } as ConfigChange;
  if (!always && Object.keys(mergePatchBetween(object.properties, now)).length === 0) return undefined;
  return { kind: 'modify', object: ref, patch: wholeStatePatch(object.properties, now) } as ConfigChange;
}

/** The qualified ids of the layers a recursive remove of `target` takes, as the master's store holds them. */
async function layersRemovedWith(catalog: MasterCatalog, target: { readonly type: ObjectType; readonly id: string }): Promise<Set<string>> {
  if (target.type === 'layer') return new Set([target.id]);
  const workspace = target.type === 'workspace' ? target.id : splitObjectId(target.id).workspace;
  if (workspace === undefined) return new Set();
  const layers = await catalog.list('layer', `${workspace}:`);
  if (target.type === 'workspace') return new Set(layers.map((layer) => layer.id));
  let resources: ReadonlySet<string>;
  if (isResourceType(target.type)) resources = new Set([objectStorageKey(target as ObjectRef)]);
  else if (isStoreType(target.type)) {
    const resourceType = RESOURCE_OF[target.type];
    const held = await catalog.list(resourceType, `${workspace}:`);
    resources = new Set(held.filter((resource) => storeIdOf(resource) === target.id).map((resource) => objectStorageKey(resource as ObjectRef)));
  } else return new Set();
  return new Set(
    layers.filter((layer) => {
      const resource = resourceOf(layer);
      return resource !== undefined && resources.has(objectStorageKey(resource));
    }).map((layer) => layer.id),
  );
}

/** The resource a layer publishes, as liveness.ts reads it (`parentsOf`). */
function resourceOf(layer: CatalogObject): ObjectRef | undefined {
  return parentsOf(layer).find((parent) => isResourceType(parent.type));
}

