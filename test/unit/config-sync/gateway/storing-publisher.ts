/**
 * A publisher for the gateway's unit tests that keeps what it publishes in a master's store, as
 * a `both` master's publish does (the store follows each publish): the style users and the
 * recovery read that store.
 */
import { MemoryNodeStore } from '../../../../lambdas/config-sync/adapters/memory';
import { parseConfigChange, type ConfigChange } from '../../../../lambdas/config-sync/events';
import { mergePatchObject, type JsonObject } from '../../../../lambdas/config-sync/merge-patch';
import type { StoredObject } from '../../../../lambdas/config-sync/ports';

export const MASTER_NODE = 'gs-main';

export function storingPublisher(store = new MemoryNodeStore()) {
  const published: ConfigChange[] = [];
  let sequence = 0;
  return {
    store,
    published,
    get sequence() {
      return sequence;
    },
    /** Fails every publish while set (a log append refused). */
    failing: undefined as Error | undefined,
    async publish(change: ConfigChange): Promise<number> {
      // As the publish path does: a change the cluster refuses is a 400 before anything is appended.
      parseConfigChange(JSON.parse(JSON.stringify(change)));
      if (this.failing) throw this.failing;
      published.push(change);
      sequence += 1;
      const [held] = await store.readObjects(MASTER_NODE, [change.object]);
      const properties: JsonObject | undefined =
        change.kind === 'add' ? change.properties : change.kind === 'modify' ? mergePatchObject(held?.properties, change.patch) : undefined;
      const object: StoredObject = {
        ...change.object,
        properties: properties ?? held?.properties ?? {},
        lastSequence: sequence,
        lastOrigin: MASTER_NODE,
        updatedAt: new Date().toISOString(),
        deleted: change.kind === 'remove',
        incomplete: false,
      };
      await store.putSnapshotObjects(MASTER_NODE, [object]);
      return sequence;
    },
  };
}
