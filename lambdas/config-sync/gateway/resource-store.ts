/**
 * A resource PUT whose body names another store. GeoServer moves the resource there:
 * FeatureTypeController.featureTypePut (CoverageController.coveragePut likewise) copies the body
 * onto the resource with CatalogBuilder.update*, i.e. OwsUtils.copy, which sets every property the
 * body gives, `store` too (XStreamPersister's ReferenceConverter resolves the name against the
 * catalog), and CatalogImpl.validate(ResourceInfo) only checks the name is free in that store and
 * namespace. The master then serves the resource under the new store's path and 404 under the
 * old one, while its id (`workspace:name`), and so its layer, stay. The cluster publishes no such
 * move (a store rename is published as remove-and-add, moved-children.ts; a resource's is not),
 * so the gateway refuses the write with 400 naming `store` before anything reaches the master; a
 * user deletes the resource and creates it again under the other store instead.
 *
 * A body naming the store the path names, by `name` or `workspace:name`, is an ordinary update.
 * Under `/workspaces/{ws}/featuretypes/{name}` the path names no store, so any store the body
 * names is refused: the gateway does not guess which store GeoServer would take it to be.
 */
import type { ParsedElement } from '../../shared/xml-reader';
import { isResourceType } from '../events';
import type { ManagedPath } from './rest-paths';

/** The body's `store` member: its JSON value, or its XML element. */
export interface StoreMember {
  readonly present: boolean;
  readonly value?: unknown;
  readonly element?: ParsedElement;
}

/** Why the PUT would move its resource to another store, or undefined when it would not. */
export function resourceStoreProblem(target: ManagedPath, method: string, store: StoreMember): string | undefined {
  if (method !== 'PUT' || target.id === undefined || !isResourceType(target.type) || !store.present) return undefined;
  // OwsUtils.copy skips a null: the resource keeps its store.
  if (store.value === null && store.element === undefined) return undefined;
  const named = storeNamed(store);
  const inPath = pathStore(target);
  const refusal = (what: string) =>
    `${what}; GeoServer would move ${target.type} ${JSON.stringify(target.id)} to it, which the cluster does not replicate. Leave store out (or name the path's store), or delete the ${target.type} and create it again under the other store`;
  if (named === undefined) return refusal('the body names a store the gateway cannot read as a name (only by name or workspace:name)');
  if (inPath === undefined) return refusal(`the body names store ${JSON.stringify(named.name)} while the path names none`);
  const workspace = named.workspace ?? (named.name.includes(':') ? named.name.slice(0, named.name.indexOf(':')) : inPath.workspace);
  const name = named.name.includes(':') ? named.name.slice(named.name.indexOf(':') + 1) : named.name;
  if (workspace === inPath.workspace && name === inPath.store) return undefined;
  return refusal(`the body names store ${JSON.stringify(named.name)}, not the path's ${JSON.stringify(`${inPath.workspace}:${inPath.store}`)}`);
}

/** `/workspaces/{ws}/{stores}/{store}/{resources}/{name}`: the store the path names. */
function pathStore(target: ManagedPath): { readonly workspace: string; readonly store: string } | undefined {
  const segments = target.path.split('/').filter(Boolean).map((segment) => decodeURIComponent(segment));
  if (segments.length !== 6 || segments[0] !== 'workspaces') return undefined;
  return { workspace: segments[1]!, store: segments[3]! };
}

/** The store reference as ReferenceConverter reads it: a bare value, or `name` (with an optional `workspace`). */
function storeNamed(store: StoreMember): { readonly name: string; readonly workspace?: string } | undefined {
  if (store.element !== undefined) {
    const { children, text } = store.element;
    if (children.length === 0) return text.trim() === '' ? undefined : { name: text.trim() };
    const child = (tag: string) => children.find((element) => element.qualifiedName === tag);
    const name = child('name')?.text.trim();
    const workspace = child('workspace');
    const workspaceName = workspace === undefined ? undefined : (workspace.children.find((element) => element.qualifiedName === 'name') ?? workspace).text.trim();
    if (!name || child('id') !== undefined) return undefined;
    return workspaceName === undefined ? { name } : { name, workspace: workspaceName };
  }
  const { value } = store;
  if (typeof value === 'string' && value !== '') return { name: value };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const reference = value as Record<string, unknown>;
  if (typeof reference.name !== 'string' || reference.name === '' || reference.id !== undefined) return undefined;
  const workspace = reference.workspace;
  if (workspace === undefined) return { name: reference.name };
  const workspaceName = typeof workspace === 'string' ? workspace : typeof workspace === 'object' && workspace !== null ? (workspace as Record<string, unknown>).name : undefined;
  return typeof workspaceName === 'string' ? { name: reference.name, workspace: workspaceName } : undefined;
}
