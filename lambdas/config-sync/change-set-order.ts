/**
 * Whether a change set's changes can reach a GeoServer in the order listed. Every GeoServer node
 * applies a set's events in sequence order, one REST call after another, and GeoServer resolves
 * each reference when it takes the call: a layer group naming a layer it lacks is saved without
 * that entry (the slave then differs from the master's store without a word), a store whose
 * workspace it lacks, a resource whose store it lacks, a layer before its resource (a layer has no
 * create of its own) or naming a style it lacks are refused and parked on every slave. So in a
 * cluster with GeoServer nodes the events API refuses (400) a set in which a change names an
 * object that a later change of the same set adds, or that an earlier change removes, naming both.
 *
 * A namespace before its workspace is in order (GeoServer's POST of a namespace makes its
 * workspace). Only the set itself is judged: a reference to an object neither added nor removed in the set
 * is left to the nodes (the master's store may hold it), as is the order across requests.
 */
import { splitObjectId, type ConfigChange, type ObjectRef, type ObjectType } from './events';
import type { FieldIssue } from './event-errors';
import { namesStyle } from './gateway/style-users';
import { parentsOf } from './liveness';
import { isJsonObject, type JsonValue } from './merge-patch';
import { groupEntryName, layerGroupEntries } from './representations';

/** One reference a change makes: the field naming it, and which object refs it can be. */
interface Reference {
  readonly field: string;
  readonly names: (object: ObjectRef) => boolean;
}

/** Every issue of a change set out of dependency order, one per change (its first). */
export function dependencyOrderIssues(changes: readonly ConfigChange[]): FieldIssue[] {
  const issues: FieldIssue[] = [];
  changes.forEach((change, index) => {
    for (const reference of referencesOf(change)) {
      const problem = orderProblem(changes, index, reference);
      if (problem !== undefined) {
        issues.push({ field: `changes[${index}].${reference.field}`, message: problem });
        return;
      }
    }
  });
  return issues;
}

function orderProblem(changes: readonly ConfigChange[], index: number, reference: Reference): string | undefined {
  // The nearest earlier change of the object decides: there it is added or changed, or gone.
  for (let earlier = index - 1; earlier >= 0; earlier -= 1) {
    const change = changes[earlier] as ConfigChange;
    if (!reference.names(change.object) || sameObject(change.object, changes[index] as ConfigChange)) continue;
    if (change.kind !== 'remove') return undefined;
    return `names ${describe(change.object)}, which changes[${earlier}] removes before it in this change set: a GeoServer node applies the changes in order and would lack it here`;
  }
  const later = changes.findIndex((change, at) => at > index && change.kind === 'add' && reference.names(change.object) && !sameObject(change.object, changes[index] as ConfigChange));
  if (later < 0) return undefined;
  return (
    `names ${describe((changes[later] as ConfigChange).object)}, which changes[${later}] adds later in this change set: ` +
    `a GeoServer node applies the changes in order and would lack it here; list it before changes[${index}]`
  );
}

function sameObject(object: ObjectRef, change: ConfigChange): boolean {
  return object.type === change.object.type && object.id === change.object.id;
}

function describe(object: ObjectRef): string {
  return `${object.type} ${object.id}`;
}

/** The objects an add or modify names: what it lives in, a layer's styles, a group's entries and styles. */
function referencesOf(change: ConfigChange): Reference[] {
  if (change.kind === 'remove') return [];
  const [properties, prefix] = change.kind === 'add' ? [change.properties, 'properties'] : [change.patch, 'patch'];
  const { type, id } = change.object;
  const references: Reference[] = [];
  for (const parent of type === 'namespace' ? [] : parentsOf({ type, id, properties })) {
    const field = parent.type === 'workspace' ? 'object.id' : type === 'layer' ? `${prefix}.resource` : `${prefix}.store`;
    references.push({ field, names: (object) => object.type === parent.type && object.id === parent.id });
  }
  if (type === 'layer' || type === 'layerGroup') {
    const styleFields = type === 'layer' ? ['defaultStyle', 'styles'] : ['styles', 'rootLayerStyle'];
    for (const key of styleFields) {
      const value = properties[key];
      if (value === undefined || value === null) continue;
      references.push({ field: `${prefix}.${key}`, names: (object) => object.type === 'style' && namesStyle(type, { [key]: value }, object.id) });
    }
  }
  if (type === 'layerGroup') {
    const { workspace } = splitObjectId(id);
    const entry = (value: JsonValue | undefined, stated?: ObjectType): ((object: ObjectRef) => boolean) | undefined => {
      const name = groupEntryName(value);
      if (name === undefined) return undefined;
      const kind = stated ?? (isJsonObject(value) && (value['@type'] === 'layer' || value['@type'] === 'layerGroup') ? (value['@type'] as ObjectType) : undefined);
      return (object) =>
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
  return references;
}
