/**
 * Which of a node's stored objects the node holds: what the drift and reconcile jobs count as
 * there (`live`), and what the catalog routes leave out (`taken`). (The gateway's lookups in the
 * master's store use neither: gateway/master-catalog.ts says why.)
 *
 * A `remove` tombstones the one object it names. With `recurse`, GeoServer removes everything
 * the object contains too (a workspace's stores, styles, resources, layers and groups; a
 * store's resources; a resource's layer), and so must the node; but that can be thousands of
 * objects, more than the one commit that moves the node's cursor can write. So the store
 * keeps them as they were and records on the removed object the sequence of that remove
 * (`cascadedAt`, kept when the object is added again). An object is held when it is not a
 * tombstone and everything it lives in (`parentsOf`, transitively) is held and was not removed
 * with `recurse` after the object's last change: an old layer stays gone when its workspace
 * is created again, and a layer added to the new workspace is there.
 */
import { splitObjectId, type ObjectRef, type ObjectType } from './events';
import { isJsonObject, type JsonObject } from './merge-patch';
import { objectStorageKey } from './objects';
import type { StoredObject } from './ports';
import { localName, referencedName } from './representations';

/** What `taken` reads of an object: where it lives (`parentsOf`) and when it last changed. */
type Changed = Pick<StoredObject, 'type' | 'id' | 'properties' | 'lastSequence'>;

/** Refs read per lookup: DynamoDB's BatchGetItem takes 100 keys. */
const LOOKUP_CHUNK = 100;

/** Whether store objects are held by the node, reading what they live in once per instance. */
export class Liveness {
  constructor(private readonly lookup: (refs: readonly ObjectRef[]) => Promise<readonly StoredObject[]>) {}
  /** Containers read so far: the stored object, or null where the store has none. */
  private readonly containers = new Map<string, StoredObject | null>();

  /** Whether each object counts as held by the node. */
  async live(objects: readonly StoredObject[]): Promise<boolean[]> {
    await this.readContainers(objects);
    return objects.map((object) => this.isHeld(object));
  }

  /**
   * Whether each object was taken by a remove with `recurse` of something it lives in
   * (transitively) after its last change, whatever else its containers are (absent, or removed
   * without `recurse`, an object still counts as the node's here). What the catalog routes leave
   * out, and what a redrive applying a parked event out of order must not send to the GeoServer,
   * which removed it with that container.
   */
  async taken(objects: readonly Changed[]): Promise<boolean[]> {
    await this.readContainers(objects);
    return objects.map((object) => this.takenAfter(object, object.lastSequence, 0));
  }

  private takenAfter(object: Changed, since: number, depth: number): boolean {
    return (
      depth <= 3 &&
      parentsOf(object).some((parent) => {
        const container = this.containers.get(objectStorageKey(parent));
        return container != null && ((container.cascadedAt ?? 0) > since || this.takenAfter(container, Math.min(since, container.lastSequence), depth + 1));
      })
    );
  }

  /** Reads what the objects live in, then what those live in (a layer, its resource, its store). */
  private async readContainers(objects: readonly Pick<StoredObject, 'type' | 'id' | 'properties'>[]): Promise<void> {
    let wanted = objects;
    while (wanted.length > 0) {
      const unread = new Map<string, ObjectRef>();
      for (const object of wanted) {
        for (const parent of parentsOf(object)) {
          const key = objectStorageKey(parent);
          if (!this.containers.has(key)) unread.set(key, parent);
        }
      }
      const refs = [...unread.values()];
      const found: StoredObject[] = [];
      for (let i = 0; i < refs.length; i += LOOKUP_CHUNK) {
        const chunk = refs.slice(i, i + LOOKUP_CHUNK);
        const read = new Map((await this.lookup(chunk)).map((object) => [objectStorageKey(object), object]));
        for (const ref of chunk) {
          const object = read.get(objectStorageKey(ref));
          this.containers.set(objectStorageKey(ref), object ?? null);
          if (object) found.push(object);
        }
      }
      wanted = found;
    }
  }

  private isHeld(object: StoredObject): boolean {
    return !object.deleted && this.containersHold(object, object.lastSequence, 0);
  }

  /**
   * Whether everything `object` lives in is held, none of it removed with `recurse` after
   * `since` (the last change of the object asked about). parentsOf climbs at most workspace,
   * store, resource, layer; the depth bound guards a cycle that properties naming each other
   * could make.
   */
  private containersHold(object: StoredObject, since: number, depth: number): boolean {
    if (depth > 3) return false;
    return parentsOf(object).every((parent) => {
      const container = this.containers.get(objectStorageKey(parent));
      return container != null && !container.deleted && since > (container.cascadedAt ?? 0) && this.containersHold(container, Math.min(since, container.lastSequence), depth + 1);
    });
  }
}

const STORE_TYPE_OF: Partial<Record<ObjectType, ObjectType>> = {
  featureType: 'dataStore',
  coverage: 'coverageStore',
  wmsLayer: 'wmsStore',
  wmtsLayer: 'wmtsStore',
};

/** What an object lives in: its workspace, the store of a resource, the resource of a layer. */
export function parentsOf(object: { readonly type: ObjectType; readonly id: string; readonly properties: JsonObject }): ObjectRef[] {
  if (object.type === 'workspace' || object.type === 'global' || object.type === 'logging') return [];
  if (object.type === 'namespace' || object.type === 'workspaceSettings') return [{ type: 'workspace', id: object.id } as ObjectRef];
  const { workspace } = splitObjectId(object.id);
  const parents: ObjectRef[] = workspace === undefined ? [] : [{ type: 'workspace', id: workspace } as ObjectRef];
  const storeType = STORE_TYPE_OF[object.type];
  const storeName = referencedName(object.properties.store);
  if (storeType && storeName !== undefined && workspace !== undefined) {
    parents.push({ type: storeType, id: storeName.includes(':') ? storeName : `${workspace}:${localName(storeName)}` } as ObjectRef);
  }
  if (object.type === 'layer') {
    const resource = object.properties.resource;
    const resourceClass = isJsonObject(resource) && typeof resource['@class'] === 'string' ? (resource['@class'] as ObjectType) : undefined;
    const resourceName = referencedName(resource);
    if (resourceClass && STORE_TYPE_OF[resourceClass] && resourceName !== undefined) {
      parents.push({ type: resourceClass, id: resourceName.includes(':') || workspace === undefined ? resourceName : `${workspace}:${resourceName}` } as ObjectRef);
    }
  }
  return parents;
}
