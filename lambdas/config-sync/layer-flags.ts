/**
 * The events API's side of the flags GeoServer holds once for a layer and its resource: a layer
 * keeps no `enabled` nor `advertised` of its own (LayerInfoImpl reads and writes its resource's),
 * so every GeoServer node's PUT of a change stating them on either object changes both, while
 * the stores hold the two objects apart. A change set through `POST /config/events` stating one
 * side's flags alone would leave every store with the partner's old flag: a slave's drift check
 * then finds its GeoServer apart from its store, and a reconcile PUTs the stale flag back,
 * undoing the master's change there.
 *
 * So, in a cluster with GeoServer nodes, the publish path adds a derived modify of the partner
 * right after each change that sets a flag the partner holds otherwise: the flags the change
 * states, and nothing else. That is what the gateway publishes for a layer or resource PUT
 * (gateway/namespace-link.ts, `linkedChanges`), and what GeoServer itself does with such a
 * request: an administrator scripting `{"enabled": false}` on a layer, as GeoServer's own REST
 * API takes it, gets the layer disabled everywhere, and the answer lists the derived events. A
 * refusal asking for the partner's change too would turn away a request GeoServer takes as it
 * is, for a link the administrator did not make.
 *
 * The partner: for a layer, the resource it names (in the change itself, else as the publisher's
 * store holds the layer; named by name alone, the resource of that name of whichever type is
 * held); for a resource, the layer of the same id. Either only where it exists
 * (the store holds it, or an earlier change of the set adds it, and no remove with `recurse` of
 * what it lives in took it since): a derived modify of an object no node holds would make a
 * patch-only object everywhere, and one of an object so taken would bring it back in every store.
 * The set's own changes are carried through in order, so a later change stating the partner's
 * flags itself is derived from in turn and the last one stated wins on every node, as it does on
 * a GeoServer.
 *
 * "Holds otherwise" is judged against the log: the publisher's store, plus the events of the log
 * it has not applied yet (a pure master's store follows its own publishes a delivery later, so a
 * script's next request would otherwise be judged against the state before its previous one).
 * Where that cannot be known (the store held by its resync, or further behind the log than
 * `MAX_WINDOW` events), every stated flag is carried to a partner the store holds: an extra event that
 * changes nothing is harmless, a missing one is the drift above. A flag a store does not state is
 * GeoServer's default, `true`.
 */
import { SHARED_LAYER_FLAGS } from './apply';
import { MAX_CHANGE_SET_ITEMS } from './change-set-limits';
import { isOffloaded, isResourceType, isUnreadable, isVoided, MAX_ID_BYTES, parseStoredChange, RESOURCE_TYPES, utf8Bytes, type ConfigChange, type DeliveredEvent, type ObjectRef, type ObjectType } from './events';
import { isJsonObject, mergePatchObject, type JsonObject } from './merge-patch';
import { Liveness, parentsOf } from './liveness';
import { eventsBetween, HELD_CURSOR, type EventBodyStore, type EventLog, type NodeStore } from './ports';
import { layerResource, layerResourceId, referencedName } from './representations';

/**
 * Log events a publisher's store may trail by and still be judged exactly (read 100 at a time):
 * a few full change sets, so a script's request right after a catalog reload of its own, which a
 * pure master's store applies a delivery later, is still judged against the reload.
 */
export const MAX_WINDOW = 5 * MAX_CHANGE_SET_ITEMS;
/** Objects `readObjects` answers at once. */
const READ_OBJECTS_MAX = 100;
/** What a GeoServer answers for a flag nobody set. */
const FLAG_DEFAULT = true;

/** A change of the set as published: a change of the request, or one derived right after it. */
export interface ExpandedChanges {
  readonly changes: readonly ConfigChange[];
  /** Per published change: the index in the request of the change it was derived from, or undefined for the request's own. */
  readonly derivedFrom: readonly (number | undefined)[];
}

type Flags = Partial<Record<(typeof SHARED_LAYER_FLAGS)[number], boolean>>;

/** The flags a change of a layer or resource states (booleans only: a removal states no value). */
function statedFlags(change: ConfigChange): Flags {
  if (change.kind === 'remove' || (change.object.type !== 'layer' && !isResourceType(change.object.type))) return {};
  const source = change.kind === 'add' ? change.properties : change.patch;
  const flags: Flags = {};
  for (const flag of SHARED_LAYER_FLAGS) {
    const value = source[flag];
    if (typeof value === 'boolean') flags[flag] = value;
  }
  return flags;
}

const keyOf = (type: string, id: string) => `${type}\n${id}`;

/**
 * Whether a store can hold an object of `ref`'s id: a layer names its resource by any name, and
 * the key of a longer id than any object has is one DynamoDB refuses to read (a 500 for a publish).
 */
const storable = (ref: ObjectRef) => utf8Bytes(ref.id) <= MAX_ID_BYTES;

/**
 * The resources layer `id` may publish: the one its `resource` names with its `@class`, else (a
 * layer naming it by name alone, `{"name": "topp:roads"}`, as the events API takes it) the one of
 * that name of each resource type, in the layer's workspace: a GeoServer holds at most one of them,
 * resource names being unique in a namespace.
 */
function resourcesOf(id: string, layer: JsonObject | undefined): { readonly type: ObjectType; readonly id: string }[] {
  const typed = layerResource(id, layer);
  if (typed !== undefined) return [typed];
  const resource = layer?.resource;
  const name = referencedName(resource);
  if (!isJsonObject(resource) || resource['@class'] !== undefined || name === undefined) return [];
  const resourceId = layerResourceId(id, name);
  return RESOURCE_TYPES.map((type) => ({ type, id: resourceId }));
}

/** Where the partners' flags are read: the publishing node's store and the log it follows. */
export interface PartnerFlagDeps {
  readonly store: NodeStore;
  readonly log: EventLog;
  readonly bodies: EventBodyStore;
}

/**
 * `changes` with a modify of each flag-stating change's partner right after it where the partner
 * holds another value (module comment). Reads nothing for a set stating no flag.
 */
export async function withPartnerFlags(deps: PartnerFlagDeps, cluster: string, node: string, changes: readonly ConfigChange[]): Promise<ExpandedChanges> {
  const own = { changes, derivedFrom: changes.map(() => undefined) };
  if (!changes.some((change) => Object.keys(statedFlags(change)).length > 0)) return own;

  const cursor = await deps.store.readCursor(node);
  const head = await deps.log.head(cluster);
  let exact = cursor !== HELD_CURSOR && head - cursor <= MAX_WINDOW;
  const window: ConfigChange[] = [];
  if (exact) {
    try {
      for await (const event of eventsBetween(deps.log, cluster, cursor + 1, head)) {
        const change = await changeOf(deps.bodies, event);
        if (change !== undefined) window.push(change);
      }
    } catch {
      // A body that cannot be read leaves the window unknown: carry every stated flag instead.
      exact = false;
    }
  }

  /** The objects as the log holds them, as far as read: undefined where none is held. */
  const view = new Map<string, JsonObject | undefined>();
  // A remove with `recurse` takes what the object holds (GeoServer's recursive DELETE), which the
  // stores keep as it was (liveness.ts): each object's last change and each such remove are placed
  // in one order, the window's events (by index) before the request's, so that what a remove took is
  // no partner, though a view still holds it, while what was added after the remove is one.
  const changedAt = new Map<string, number>();
  const cascadedAt = new Map<string, number>();
  for (const [index, change] of window.entries()) {
    if (change.kind === 'remove' && change.recurse === true) cascadedAt.set(keyOf(change.object.type, change.object.id), index);
  }
  const fold = (change: ConfigChange, at: number) => {
    const key = keyOf(change.object.type, change.object.id);
    changedAt.set(key, at);
    if (change.kind === 'add') view.set(key, change.properties);
    else if (change.kind === 'remove') view.set(key, undefined);
    else view.set(key, mergePatchObject(view.get(key), change.patch));
    if (change.kind === 'remove' && change.recurse === true) cascadedAt.set(key, at);
  };
  /** Whether something `object` lives in (liveness.ts `parentsOf`) was removed with `recurse` after `since`. */
  const takenAfter = (object: { readonly type: ObjectType; readonly id: string; readonly properties: JsonObject }, since: number, depth = 0): boolean =>
    depth <= 3 &&
    parentsOf(object).some((parent) => {
      const key = keyOf(parent.type, parent.id);
      const properties = view.get(key);
      return (cascadedAt.get(key) ?? -1) > since || (properties !== undefined && takenAfter({ ...parent, properties }, Math.min(since, changedAt.get(key) ?? -1), depth + 1));
    });
  /** An object as the view holds it, unless a remove with `recurse` took it. */
  const held = (type: ObjectType, id: string): JsonObject | undefined => {
    const key = keyOf(type, id);
    const properties = view.get(key);
    return properties === undefined || takenAfter({ type, id, properties }, changedAt.get(key) ?? -1) ? undefined : properties;
  };
  const liveness = new Liveness((refs) => deps.store.readObjects(node, refs.filter(storable)));
  const load = async (refs: readonly { readonly type: ObjectType; readonly id: string }[]) => {
    const wanted = [...new Map(refs.filter((ref) => !view.has(keyOf(ref.type, ref.id))).map((ref) => [keyOf(ref.type, ref.id), ref])).values()];
    for (const ref of wanted) view.set(keyOf(ref.type, ref.id), undefined);
    const read = wanted.filter(storable);
    for (let start = 0; start < read.length; start += READ_OBJECTS_MAX) {
      const objects = await deps.store.readObjects(node, read.slice(start, start + READ_OBJECTS_MAX));
      const taken = await liveness.taken(objects);
      for (const [index, object] of objects.entries()) {
        view.set(keyOf(object.type, object.id), object.deleted || taken[index] === true ? undefined : object.properties);
      }
    }
    const keys = new Set(wanted.map((ref) => keyOf(ref.type, ref.id)));
    for (const [index, change] of window.entries()) if (keys.has(keyOf(change.object.type, change.object.id))) fold(change, index);
  };

  // First the layers (a resource's partner, or the holder of a layer's resource reference), then
  // the resources they name, each as the store holds it carried through the log's later events.
  const flagged = changes.filter((change) => Object.keys(statedFlags(change)).length > 0);
  await load(flagged.map((change) => ({ type: 'layer' as ObjectType, id: change.object.id })));
  // A layer's resource as the store and the log name it, or as any change of the set names it
  // (a layer added earlier in the set, then flagged).
  const layerIds = new Set(flagged.filter((change) => change.object.type === 'layer').map((change) => change.object.id));
  await load([
    ...flagged.filter((change) => change.object.type !== 'layer').map((change) => change.object),
    ...[...layerIds].flatMap((id) => resourcesOf(id, view.get(keyOf('layer', id)))),
    ...changes.flatMap((change) =>
      change.object.type !== 'layer' || !layerIds.has(change.object.id) || change.kind === 'remove'
        ? []
        : resourcesOf(change.object.id, change.kind === 'add' ? change.properties : change.patch),
    ),
  ]);

  const expanded: ConfigChange[] = [];
  const derivedFrom: (number | undefined)[] = [];
  for (const [index, change] of changes.entries()) {
    expanded.push(change);
    derivedFrom.push(undefined);
    const key = keyOf(change.object.type, change.object.id);
    if (view.has(key) || (change.kind === 'remove' && change.recurse === true)) fold(change, window.length + index);
    const flags = statedFlags(change);
    if (Object.keys(flags).length === 0) continue;
    const partner = partnerOf(change.object.type, change.object.id, held);
    if (partner === undefined) continue;
    const patch: JsonObject = {};
    for (const [flag, value] of Object.entries(flags)) {
      if (!exact || (partner.held[flag] ?? FLAG_DEFAULT) !== value) patch[flag] = value;
    }
    if (Object.keys(patch).length === 0) continue;
    const derived: ConfigChange = { kind: 'modify', object: { type: partner.type, id: partner.id }, patch };
    expanded.push(derived);
    derivedFrom.push(index);
    fold(derived, window.length + index);
  }
  return expanded.length === changes.length ? own : { changes: expanded, derivedFrom };
}

/** The partner of a layer or resource where it is held (module comment), as held. */
function partnerOf(
  type: ObjectType,
  id: string,
  heldAs: (type: ObjectType, id: string) => JsonObject | undefined,
): { readonly type: ObjectType; readonly id: string; readonly held: JsonObject } | undefined {
  if (type === 'layer') {
    for (const resource of resourcesOf(id, heldAs('layer', id))) {
      const held = heldAs(resource.type, resource.id);
      if (held) return { ...resource, held };
    }
    return undefined;
  }
  const layer = heldAs('layer', id);
  // The layer of the same id, unless it names another resource (of another type).
  const named = resourcesOf(id, layer);
  if (layer === undefined || (named.length > 0 && !named.some((resource) => resource.type === type && resource.id === id))) return undefined;
  return { type: 'layer', id, held: layer };
}

/** A log event as the change it states, bodies read back; none for voids and unreadable items (nodes park those). */
async function changeOf(bodies: EventBodyStore, event: DeliveredEvent): Promise<ConfigChange | undefined> {
  if (isVoided(event) || isUnreadable(event)) return undefined;
  if (!isOffloaded(event)) return event;
  // Only layers and resources matter here: other large bodies (styles, mostly) are not read.
  if (event.object.type !== 'layer' && !isResourceType(event.object.type)) return undefined;
  return parseStoredChange(await bodies.get(event.bodyRef));
}
