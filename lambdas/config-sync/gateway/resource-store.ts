/**
 * A resource PUT whose body names another store. GeoServer moves the resource there:
 * FeatureTypeController.featureTypePut (CoverageController.coveragePut likewise) copies the body
 * onto the resource with CatalogBuilder.update*, i.e. OwsUtils.copy, which sets every property the
 * body gives, `store` too (XStreamPersister's ReferenceConverter resolves the name against the
 * catalog), and CatalogImpl.validate(ResourceInfo) only checks the name is free in that store and
 * namespace. The master then serves the resource under the new store's path and 404 under the
 * old one, while its id (`workspace:name`), and so its layer and the groups that list it, stay.
 *
 * The gateway publishes such a move as the ordinary `modify` of the resource, read back from the
 * new store's path (`moved`): its `store` names the new one. A node's GeoServer applies it by a
 * PUT to the old store's path naming the new store, which moves it there as on the master
 * (geoserver/apply.ts, `formerStore`); the recovery of a move that was not published reads the
 * new path first, then the old one (recovery.ts).
 *
 * Refused with 400 naming `store`, before anything reaches the master: a move the gateway cannot
 * tell the destination of (a store named by id, or by an element it cannot read, or a path that
 * names no store: `/workspaces/{ws}/featuretypes/{name}`), a store of another workspace, and a
 * move that renames the resource too (gateway.ts: two writes instead).
 *
 * A body naming the store the path names, by `name` or `workspace:name`, is an ordinary update.
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

/** A PUT that moves its resource to another store (`moved`: the new store's path of it), or one the gateway refuses. */
export type ResourceStoreVerdict = { readonly kind: 'moved'; readonly path: string } | { readonly kind: 'refused'; readonly reason: string };

/** What the PUT does to its resource's store: undefined when it keeps it. */
export function resourceStoreMove(target: ManagedPath, method: string, store: StoreMember): ResourceStoreVerdict | undefined {
  if (method !== 'PUT' || target.id === undefined || !isResourceType(target.type) || !store.present) return undefined;
  // OwsUtils.copy skips a null: the resource keeps its store.
  if (store.value === null && store.element === undefined) return undefined;
  const named = storeNamed(store);
  const inPath = pathStore(target);
  const refused = (what: string): ResourceStoreVerdict => ({
    kind: 'refused',
    reason: `${what}; the gateway publishes a move of ${target.type} ${JSON.stringify(target.id)} only to another store of its workspace, named by name or workspace:name under the path of its current store. Name the store so, or leave store out`,
  });
  if (named === undefined) return refused('the body names a store the gateway cannot read as a name (only by name or workspace:name)');
  if (inPath === undefined) return refused(`the body names store ${JSON.stringify(named.name)} while the path names none`);
  const workspace = named.workspace ?? (named.name.includes(':') ? named.name.slice(0, named.name.indexOf(':')) : inPath.workspace);
  const name = named.name.includes(':') ? named.name.slice(named.name.indexOf(':') + 1) : named.name;
  if (workspace !== inPath.workspace) return refused(`the body names store ${JSON.stringify(named.name)} of another workspace than ${JSON.stringify(inPath.workspace)}`);
  if (name === inPath.store || name === '') return name === '' ? refused('the body names a store without a name') : undefined;
  const segments = target.path.split('/');
  segments[4] = encodeURIComponent(name);
  return { kind: 'moved', path: segments.join('/') };
}

/** Why the gateway refuses the PUT's store, or undefined when it does not. */
export function resourceStoreProblem(target: ManagedPath, method: string, store: StoreMember): string | undefined {
  const verdict = resourceStoreMove(target, method, store);
  return verdict?.kind === 'refused' ? verdict.reason : undefined;
}

/** The new store's path of the resource the PUT moves, or undefined when it does not move it. */
export function movedResourcePath(target: ManagedPath, method: string, store: StoreMember): string | undefined {
  const verdict = resourceStoreMove(target, method, store);
  return verdict?.kind === 'moved' ? verdict.path : undefined;
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
    const workspaceElement = workspace === undefined ? undefined : (workspace.children.find((element) => element.qualifiedName === 'name') ?? workspace);
    const workspaceName = workspaceElement?.text.trim();
    // GeoServer's XML reader takes a name's text up to the first element in it, not all of it.
    if ((child('name')?.children.length ?? 0) > 0 || (workspaceElement !== workspace && (workspaceElement?.children.length ?? 0) > 0)) return undefined;
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
