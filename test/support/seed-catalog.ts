/**
 * A large catalog for the reconcile tests and the GeoServer bench: `count` objects in
 * dependency-consistent groups (a workspace, its PostGIS data store, then up to 99 feature types
 * each with its layer), stored as published by `origin` at sequence 1.
 */
import type { JsonObject } from '../../lambdas/config-sync/merge-patch';
import type { StoredObject } from '../../lambdas/config-sync/ports';

export function seedObjects(count: number, origin: string): StoredObject[] {
  const objects: StoredObject[] = [];
  const stored = (type: StoredObject['type'], id: string, properties: JsonObject): StoredObject =>
    ({ type, id, properties, lastSequence: 1, lastOrigin: origin, updatedAt: '2026-12-01T00:00:00.000Z', deleted: false, incomplete: false }) as StoredObject;
  for (let w = 0; objects.length < count; w += 1) {
    const ws = `big${w}`;
    objects.push(stored('workspace', ws, { name: ws }));
    objects.push(stored('dataStore', `${ws}:pg`, { name: 'pg', type: 'PostGIS', workspace: { name: ws } }));
    for (let t = 0; t < 99 && objects.length + 2 <= count; t += 1) {
      const id = `${ws}:t${t}`;
      objects.push(stored('featureType', id, { name: `t${t}`, title: `t${t}`, store: { '@class': 'dataStore', name: `${ws}:pg` } }));
      objects.push(stored('layer', id, { name: `t${t}`, resource: { '@class': 'featureType', name: id } }));
    }
  }
  return objects.slice(0, count);
}
