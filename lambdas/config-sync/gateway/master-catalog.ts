/**
 * The master's store read as a catalog, for the gateway's lookups of what a rename moves
 * (moved-children.ts) and of who names a style (style-users.ts): what the cluster holds (every
 * published change, as the master's GeoServer answered it), which is what the other nodes hold.
 */
import type { ObjectRef, ObjectType } from '../events';
import type { JsonObject } from '../merge-patch';
import type { NodeStore } from '../ports';

/** An object as the master's store holds it. */
export interface CatalogObject {
  readonly type: ObjectType;
  readonly id: string;
  readonly properties: JsonObject;
  /** The sequence of its last event the store applied. */
  readonly lastSequence: number;
}

/** The master's store, read by type. */
export interface MasterCatalog {
  /** The live objects of `type` whose id starts with `prefix` (all of them without one). */
  list(type: ObjectType, prefix?: string): Promise<CatalogObject[]>;
  /** The live object of `type` and `id`, if any. */
  get(type: ObjectType, id: string): Promise<CatalogObject | undefined>;
}

/** Objects read per page of the master's store. */
const PAGE = 500;

/**
 * The master's store as a `MasterCatalog`. Its keys are `type/id` in order, so the objects of one
 * workspace (`ws:...`) are one range of each type, read from just below it until an id leaves it.
 * Tombstones are absent; what a recursive remove left in place (liveness.ts) is not: the recovery
 * of a store rename that died midway looks up the old store's resources after that store's
 * removal with `recurse` was published.
 */
export function catalogInStore(store: NodeStore, node: string): MasterCatalog {
  return {
    async list(type, prefix) {
      const found: CatalogObject[] = [];
      let after: string | undefined = prefix === undefined ? undefined : `${type}/${prefix}`;
      for (;;) {
        const page = await store.listObjects(node, { type, limit: PAGE, ...(after === undefined ? {} : { after }) });
        for (const object of page.objects) {
          if (prefix !== undefined && !object.id.startsWith(prefix)) return found;
          if (!object.deleted) found.push({ type: object.type, id: object.id, properties: object.properties, lastSequence: object.lastSequence });
        }
        if (page.next === undefined) return found;
        after = page.next;
      }
    },
    async get(type, id) {
      const [object] = await store.readObjects(node, [{ type, id } as ObjectRef]);
      return object && !object.deleted ? { type: object.type, id: object.id, properties: object.properties, lastSequence: object.lastSequence } : undefined;
    },
  };
}
