/**
 * The events API's dependency-order check (change-set-order.ts) looks references up in an index
 * of the set. Here it is held to the plain definition on seeded random change sets: for each
 * change, each object its properties name (parents, styles through the gateway's `namesStyle`,
 * group entries), the nearest earlier change of that object decides (a remove is a problem), and
 * with none, a later add is. The sets draw from a small universe so that references, repeats,
 * removes and re-adds meet often.
 */
import { dependencyOrderIssues } from '../../../lambdas/config-sync/change-set-order';
import type { ConfigChange, ObjectRef, ObjectType } from '../../../lambdas/config-sync/events';
import { namesStyle } from '../../../lambdas/config-sync/gateway/style-users';
import { parentsOf } from '../../../lambdas/config-sync/liveness';
import type { JsonObject, JsonValue } from '../../../lambdas/config-sync/merge-patch';
import { groupEntryName, layerGroupEntries } from '../../../lambdas/config-sync/representations';
import { pick as pickWith, seededRandom } from '../../support/random';
import { add, modify, remove } from './fixtures';

const UNIVERSE: readonly ObjectRef[] = [
  { type: 'workspace', id: 'topp' },
  { type: 'workspace', id: 'ws2' },
  { type: 'dataStore', id: 'topp:pg' },
  { type: 'dataStore', id: 'topp:pg2' },
  { type: 'featureType', id: 'topp:roads' },
  { type: 'featureType', id: 'topp:rivers' },
  { type: 'layer', id: 'topp:roads' },
  { type: 'layer', id: 'topp:rivers' },
  { type: 'layer', id: 'roads' },
  { type: 'layerGroup', id: 'topp:overview' },
  { type: 'layerGroup', id: 'rivers' },
  { type: 'style', id: 'line' },
  { type: 'style', id: 'topp:line' },
  { type: 'style', id: 'ws2:line' },
] as ObjectRef[];

function randomChange(next: () => number): ConfigChange {
  const pick = <T>(items: readonly T[]): T => pickWith(next, items);
  const object = pick(UNIVERSE);
  const kind = pick(['add', 'add', 'modify', 'remove'] as const);
  if (kind === 'remove') return remove(object.type, object.id);
  const styleRef = (): JsonValue =>
    pick<JsonValue>([{ name: 'line' }, { name: 'line', workspace: 'topp' }, { name: 'line', workspace: { name: 'ws2' } }, { name: 'topp:line' }, 'line', null]);
  const properties: JsonObject = {};
  if (object.type === 'featureType' && next() < 0.8) properties.store = { '@class': 'dataStore', name: pick(['pg', 'topp:pg2', 'topp:pg']) };
  if (object.type === 'layer') {
    if (next() < 0.8) properties.resource = { '@class': 'featureType', name: pick(['topp:roads', 'rivers', 'topp:rivers']) };
    if (next() < 0.5) properties.defaultStyle = styleRef();
    if (next() < 0.3) properties.styles = { style: [styleRef(), styleRef()] };
  }
  if (object.type === 'layerGroup') {
    const entry = (): JsonValue =>
      pick<JsonValue>([{ '@type': 'layer', name: 'topp:roads' }, { '@type': 'layerGroup', name: 'rivers' }, { name: 'rivers' }, 'roads', 'topp:rivers', { '@type': 'layer', name: 'rivers' }, null]);
    properties.publishables = { published: Array.from({ length: 1 + Math.floor(next() * 3) }, entry) };
    if (next() < 0.4) properties.styles = { style: [styleRef()] };
    if (next() < 0.3) properties.rootLayer = pick<JsonValue>([{ name: 'topp:roads' }, { name: 'rivers' }, 'roads']);
    if (next() < 0.3) properties.rootLayerStyle = styleRef();
  }
  return kind === 'add' ? add(object.type, object.id, properties) : modify(object.type, object.id, properties);
}

/** The definition, scanning the whole set for every reference. */
function plainIssues(changes: readonly ConfigChange[]): { field: string; message: string }[] {
  const issues: { field: string; message: string }[] = [];
  changes.forEach((change, index) => {
    if (change.kind === 'remove') return;
    const [properties, prefix] = change.kind === 'add' ? [change.properties, 'properties'] : [change.patch, 'patch'];
    const { type, id } = change.object;
    const references: { field: string; names: (object: ObjectRef) => boolean }[] = [];
    for (const parent of type === 'namespace' ? [] : parentsOf({ type, id, properties })) {
      const field = parent.type === 'workspace' ? 'object.id' : type === 'layer' ? `${prefix}.resource` : `${prefix}.store`;
      references.push({ field, names: (object) => object.type === parent.type && object.id === parent.id });
    }
    if (type === 'layer' || type === 'layerGroup') {
      for (const key of type === 'layer' ? ['defaultStyle', 'styles'] : ['styles', 'rootLayerStyle']) {
        const value = properties[key];
        if (value === undefined || value === null) continue;
        references.push({ field: `${prefix}.${key}`, names: (object) => object.type === 'style' && namesStyle(type, { [key]: value }, object.id) });
      }
    }
    if (type === 'layerGroup') {
      const workspace = id.includes(':') ? id.slice(0, id.indexOf(':')) : undefined;
      const entry = (value: JsonValue | undefined, stated?: ObjectType) => {
        const name = groupEntryName(value);
        if (name === undefined) return undefined;
        const typed = typeof value === 'object' && value !== null && !Array.isArray(value) ? value['@type'] : undefined;
        const kind = stated ?? (typed === 'layer' || typed === 'layerGroup' ? typed : undefined);
        return (object: ObjectRef) =>
          (kind === undefined ? object.type === 'layer' || object.type === 'layerGroup' : object.type === kind) &&
          (object.id === name || (workspace !== undefined && !name.includes(':') && object.id === `${workspace}:${name}`));
      };
      for (const value of layerGroupEntries(properties)) {
        const names = entry(value);
        if (names) references.push({ field: `${prefix}.publishables`, names });
      }
      const root = entry(properties.rootLayer, 'layer');
      if (root) references.push({ field: `${prefix}.rootLayer`, names: root });
    }
    const other = (object: ObjectRef) => !(object.type === change.object.type && object.id === change.object.id);
    for (const reference of references) {
      let message: string | undefined;
      let decided = false;
      for (let earlier = index - 1; earlier >= 0 && !decided; earlier -= 1) {
        const before = changes[earlier] as ConfigChange;
        if (!reference.names(before.object) || !other(before.object)) continue;
        decided = true;
        if (before.kind === 'remove') message = `names ${before.object.type} ${before.object.id}, which changes[${earlier}] removes before it`;
      }
      if (!decided) {
        const later = changes.findIndex((after, at) => at > index && after.kind === 'add' && reference.names(after.object) && other(after.object));
        if (later >= 0) message = `names ${(changes[later] as ConfigChange).object.type} ${(changes[later] as ConfigChange).object.id}, which changes[${later}] adds later`;
      }
      if (message !== undefined) {
        issues.push({ field: `changes[${index}].${reference.field}`, message });
        return;
      }
    }
  });
  return issues;
}

test('the indexed check finds exactly the issues of the plain definition on 3,000 random sets', () => {
  const next = seededRandom(20261206);
  let withIssues = 0;
  let withoutIssues = 0;
  for (let run = 0; run < 3000; run += 1) {
    const changes = Array.from({ length: 1 + Math.floor(next() * 12) }, () => randomChange(next));
    const expected = plainIssues(changes);
    const found = dependencyOrderIssues(changes);
    expect({ changes, issues: found.map((issue) => ({ field: issue.field, message: issue.message })) }).toEqual({
      changes,
      issues: expected.map((issue) => ({ field: issue.field, message: expect.stringContaining(issue.message) })),
    });
    if (expected.length > 0) withIssues += 1;
    else withoutIssues += 1;
  }
  // The sets exercise both answers, not only one.
  expect(withIssues).toBeGreaterThan(300);
  expect(withoutIssues).toBeGreaterThan(300);
});

test('a set of 1,000 changes whose groups name 160,000 entries: its one issue found', () => {
  const layers = Array.from({ length: 200 }, (_, at) => add('layer', `topp:l${at}`, { resource: { '@class': 'featureType', name: `topp:l${at}` } }));
  const groups = Array.from({ length: 800 }, (_, at) =>
    add('layerGroup', `topp:g${at}`, { publishables: { published: Array.from({ length: 200 }, (_, entry) => ({ '@type': 'layer', name: `topp:l${entry}` })) } }),
  );
  // Every group names every layer of the set, all listed before them; the one problem is the last group's extra entry.
  const late = add('layerGroup', 'topp:late', { publishables: { published: [{ '@type': 'layerGroup', name: 'topp:after' }] } });
  const issues = dependencyOrderIssues([...layers, ...groups, late, add('layerGroup', 'topp:after', {})]);
  expect(issues).toEqual([{ field: 'changes[1000].properties.publishables', message: expect.stringContaining('names layerGroup topp:after, which changes[1001] adds later') }]);
});
