/**
 * Drift: what a node's GeoServer holds, read over its REST API (the same table,
 * rest-mapping.ts, the apply writes with), against what the node's store holds, for every
 * managed type: objects `missing` from the GeoServer, `extra` on it, or `different`, with the
 * dotted paths of the properties that differ.
 *
 * How two representations are compared:
 * - `href` members are ignored everywhere: GeoServer writes links with its own host name, so
 *   they differ between nodes that hold the same object.
 * - On a node that only consumes (a slave), only the properties the store states count:
 *   GeoServer fills in defaults (`enabled`, `nativeName`, `namespace`, ...) for what a master
 *   left out, and those are not drift. On a node that publishes (`master` or `both`), whose
 *   store holds what its own GeoServer answered (the gateway reads every write back),
 *   properties only the GeoServer has count too: that is how a change made in its web UI that
 *   sets a new property is found.
 * - A style's document (`body`), which GeoServer serves apart from the info, is read in the
 *   style's own format (the `Accept` media type of its format and version) and compared as
 *   text, exactly: the apply uploads it with `raw=true`, which keeps the bytes as sent, and a
 *   master's store holds what its GeoServer served (the gateway reads each style back the same
 *   way), so no whitespace is normalized. It is compared only where the store holds one.
 *
 * Only the objects the store holds (liveness.ts) are compared: what a recursive remove took is
 * gone from the GeoServer too (GeoServer's recursive DELETE cascades), not missing.
 */
import { isResourceType, pathSegmentProblem, isStoreType, RESOURCE_OF, REST_SERVICES, splitObjectId, type ObjectRef, type ObjectType, type StoreType } from '../events';
import { isJsonObject, type JsonObject, type JsonValue } from '../merge-patch';
import type { StoredObject } from '../ports';
import { layerGroupEntries, localName, referencedName, withRootLayerStyleByReference, withStylePerEntry, withStylesByReference } from '../representations';
import { REST_MAPPING, restTarget, seg, styleContentType, styleDocumentPath } from './rest-mapping';
import type { GeoServerRest, RestResponse } from './ports';
import { GeoServerReadRefusedError, GeoServerUnavailableError, GeoServerUnreachableError, meansUnavailable, truncate } from './errors';
import { mapConcurrently } from '../../shared/concurrency';

export type DriftKind = 'missing' | 'extra' | 'different';

export interface DriftEntry extends ObjectRef {
  readonly kind: DriftKind;
  /** `different` only: the dotted paths that differ (at most `MAX_PATHS`). */
  readonly properties?: readonly string[];
  /**
   * The GeoServer store a resource is in (its REST path goes through it): an `extra` one's, and a
   * `missing` one's that the GeoServer holds under another store of its workspace than the node's
   * store states (a move it missed), where a reconcile moves it from. Its name in the workspace,
   * except for a missing resource the GeoServer holds under a store of another workspace than its
   * own (`storeOfAnotherWorkspace`): that one's qualified name (`workspace:store`).
   */
  readonly store?: string;
  /**
   * A layer group's: the names its entries give the layer groups it holds (as its `publishables`
   * write them: qualified, or local inside its workspace), as the store (`missing`) or the
   * GeoServer (`extra`) held it at the scan; a `different` one's, as either held it (a reconcile
   * writes the store's, a capture publishes the GeoServer's). GeoServer refuses to remove a group
   * another group holds ("Unable to delete layer group referenced by layer group",
   * CatalogImpl.remove), so removals go outer first (`outerGroupsFirst`); it drops an entry naming
   * a group it lacks (saving the rest; CatalogImpl.validate), so adds and modifies go inner first
   * (`innerGroupsFirst`).
   */
  readonly holds?: readonly string[];
}

/**
 * The store (`workspace:store`) of another workspace than the resource's own that the GeoServer
 * holds a missing resource under, or undefined. GeoServer lets a resource PUT name another
 * workspace's store (the store reference resolves by qualified name, and the catalog's validation
 * checks only that the name is free in that store and namespace), so a resource can be held
 * there, still in its own namespace. Neither a reconcile nor a capture can fix that: the cluster
 * states a resource under a store of its own workspace, and no event moves one across
 * workspaces. It is reported unfixed, never taken for a removal (the GeoServer still holds it).
 */
export function storeOfAnotherWorkspace(entry: Pick<DriftEntry, 'id' | 'store'>): string | undefined {
  if (entry.store === undefined || !entry.store.includes(':')) return undefined;
  return splitObjectId(entry.store).workspace === splitObjectId(entry.id).workspace ? undefined : entry.store;
}

/** Why a resource held under a store of another workspace (`storeOfAnotherWorkspace`) is left unfixed. */
export function heldInAnotherWorkspace(id: string, store: string): string {
  const workspace = splitObjectId(id).workspace ?? '';
  return (
    `the GeoServer holds it under store ${store}, of another workspace than its own (${workspace}): neither a reconcile nor a capture ` +
    `moves a resource between workspaces; move it back to a store of workspace ${workspace} in that GeoServer (or remove it there), then run the job again`
  );
}

/**
 * The catalog-wide listings every GeoServer serves, an empty catalog's too (`{"workspaces": ""}`):
 * one answered 404 means the URL does not reach a GeoServer's REST API now (`assertServesCatalog`).
 */
const CATALOG_LISTINGS: readonly string[] = ['/workspaces', '/namespaces', '/styles', '/layergroups', '/layers'];

/** A catalog-wide listing answered 404: the GeoServer cannot be read now, which a job waits for as for one that is down. */
function notServingCatalog(url: string, request: string, response: RestResponse): GeoServerUnavailableError {
  return new GeoServerUnavailableError(
    url,
    request,
    response.status,
    `every GeoServer serves this listing, so this URL does not reach a GeoServer's REST API now (its web application being deployed, ` +
      `a proxy without a route to it, or a wrong context path in the node's geoserver.url); nothing is read as absent from it: ${truncate(response.text, 200)}`,
  );
}

/** Answers to a style document read that mean "not in the format asked for": 400, 406 Not Acceptable, 415. */
const NOT_IN_THIS_FORMAT: readonly number[] = [400, 406, 415];

/** An object a GeoServer lists; a resource with the store it is listed under. */
export type ListedObject = ObjectRef & { readonly store?: string };

/**
 * Where a listing of the GeoServer's catalog stands between two steps (`GeoServerReader.listCatalog`),
 * kept in a job's checkpoint (jobs.ts `JobCheckpoint.listing`) as JSON: what is listed and not yet
 * returned, of a few workspaces at most.
 */
export interface CatalogCursor {
  /** The GeoServer's workspaces, as the listing's first call named them. */
  readonly workspaces: readonly string[];
  /** Workspaces (of `workspaces`, in order) whose collections are listed. */
  readonly listed: number;
  /** Workspaces whose objects are all returned (at most `listed`). */
  readonly done: number;
  /** The collections of the workspaces from `done` to `listed`: for each, its styles, its layer groups and its stores of each kind (`CATALOG_STORES`). */
  readonly collections: readonly (readonly string[])[];
  /** The resources of those workspaces' stores listed so far, a listing per store, in the order of `collections`. */
  readonly resources: readonly (readonly string[])[];
}

/** A step of the catalog's listing: the objects it listed, and the cursor the next step starts from (none when the listing is done). */
export interface CatalogStep {
  readonly objects: ListedObject[];
  readonly next?: CatalogCursor;
}

/** A workspace's store collections: the store type and its REST segment, its resource type and theirs. */
const CATALOG_STORES: readonly (readonly [ObjectType, string, ObjectType, string])[] = [
  ['dataStore', 'datastores', 'featureType', 'featuretypes'],
  ['coverageStore', 'coveragestores', 'coverage', 'coverages'],
  ['wmsStore', 'wmsstores', 'wmsLayer', 'wmslayers'],
  ['wmtsStore', 'wmtsstores', 'wmtsLayer', 'layers'],
];
/** Collections listed per workspace: its styles, its layer groups, its stores of each kind. */
const PER_WORKSPACE = 2 + CATALOG_STORES.length;

/** Paths kept per different object: enough to see what changed, bounded for the report. */
export const MAX_PATHS = 20;

/**
 * Dependency order of the catalog: a workspace before its namespace, stores, styles; a store
 * before its resources; a resource before its layer; layers before the groups and settings
 * that name them. Adds and updates go in this order, removals in the reverse.
 */
export const DEPENDENCY_ORDER: readonly ObjectType[] = [
  'workspace',
  'namespace',
  'dataStore',
  'coverageStore',
  'wmsStore',
  'wmtsStore',
  'style',
  'featureType',
  'coverage',
  'wmsLayer',
  'wmtsLayer',
  'layer',
  'layerGroup',
  'global',
  'workspaceSettings',
  'service',
  'logging',
];

export function dependencyRank(type: ObjectType): number {
  return DEPENDENCY_ORDER.indexOf(type);
}

/**
 * A reconcile's fix as `fixOrder` orders it: `blocking` marks the removal of an extra that holds
 * the id of a missing object of another type (`fixOrder`), made ahead of that object's add; on a
 * layer (the GeoServer's, of a resource that blocks one), with `recurse`. `regroups` marks no
 * difference but the layers (their ids) the cascade of such a removal took out of the GeoServer's
 * layer groups: the stated groups that named them are written back once every layer is added.
 * `implied` marks an entry that is no difference of the scan's but follows from such a removal
 * (a blocking resource's layer, removed, and added again): not counted as fixed.
 */
export type FixEntry = DriftEntry & { readonly blocking?: true; readonly regroups?: readonly string[]; readonly implied?: true };

/**
 * Adds and updates in dependency order (a layer group after the groups it holds,
 * `innerGroupsFirst`), then removals in the reverse (extras last, deepest first; a layer group
 * before the groups it holds, `outerGroupsFirst`).
 *
 * Except an extra that blocks a missing object of another type under its id, which GeoServer
 * refuses to add while the extra is there (a store name is taken by a store of any type in a
 * workspace, a resource name by a resource of any type in a namespace): it is removed before that
 * object's add (`blocking`), so one reconcile converges. A store (a data store where the store
 * states a coverage store of its name) after the stores and styles are added and every resource
 * held under another store than the stated one is moved (out of it, so its removal, with
 * `recurse` where it still holds resources, takes none the store states); a resource (a feature
 * type where the store states a coverage of its name) after that, its layer removed before it (the
 * GeoServer refuses to delete a resource while its layer exists). The stated object and its layer
 * are then added at their places, and the stated layer groups those removals' cascades changed on
 * the GeoServer written back (a `regroups` entry per blocking extra) after the layers and before
 * the groups' own differences.
 */
export function fixOrder(entries: readonly DriftEntry[]): FixEntry[] {
  const upserts = innerGroupsFirst(entries.filter((entry) => entry.kind !== 'extra').sort((a, b) => dependencyRank(a.type) - dependencyRank(b.type) || compare(a.id, b.id)));
  const removals = outerGroupsFirst(entries.filter((entry) => entry.kind === 'extra').sort((a, b) => dependencyRank(b.type) - dependencyRank(a.type) || compare(a.id, b.id)));
  // The types of the missing objects of each id: looked up, not scanned per extra (a reconcile
  // orders its differences in every slice, thousands of them).
  const missingTypes = new Map<string, ObjectType[]>();
  for (const entry of upserts) if (entry.kind === 'missing') missingTypes.set(entry.id, [...(missingTypes.get(entry.id) ?? []), entry.type]);
  // The extras of `isType` holding the id of a missing object of another such type.
  const blockingOf = (isType: (type: ObjectType) => boolean) =>
    removals.filter((extra) => isType(extra.type) && (missingTypes.get(extra.id) ?? []).some((type) => isType(type) && type !== extra.type));
  const stores = blockingOf(isStoreType);
  const resources = blockingOf(isResourceType);
  if (stores.length === 0 && resources.length === 0) return [...upserts, ...removals];
  const storeIds = new Set(stores.map((store) => store.id));
  const blockedStore = (entry: DriftEntry) => isStoreType(entry.type) && storeIds.has(entry.id);
  // Every move out of a store (a missing resource the GeoServer holds under another store).
  const moves = new Set(upserts.filter((entry) => isResourceType(entry.type) && entry.kind === 'missing' && entry.store !== undefined));
  const blocking = (entry: DriftEntry): FixEntry => ({ ...entry, blocking: true });
  const layerRemovals = resources.map((resource): FixEntry => ({ kind: 'extra', type: 'layer', id: resource.id, blocking: true, implied: true }) as FixEntry);
  const before = upserts.filter((entry) => dependencyRank(entry.type) < dependencyRank('featureType') && !blockedStore(entry));
  const published = upserts.filter((entry) => dependencyRank(entry.type) >= dependencyRank('featureType') && dependencyRank(entry.type) < dependencyRank('layerGroup') && !moves.has(entry));
  // The layer of a blocked resource, which its removal took: added again after its resource.
  const publishedLayers = new Set(published.filter((entry) => entry.type === 'layer').map((entry) => entry.id));
  const layersAgain = resources
    .filter((resource) => !publishedLayers.has(resource.id))
    .map((resource): FixEntry => ({ kind: 'missing', type: 'layer', id: resource.id, implied: true }) as FixEntry);
  // The extra resources by the store the GeoServer holds each in (`type store`).
  const inStore = new Map<string, string[]>();
  for (const entry of removals) {
    if (!isResourceType(entry.type) || entry.store === undefined) continue;
    const key = `${entry.type} ${entry.store}`;
    inStore.set(key, [...(inStore.get(key) ?? []), entry.id]);
  }
  const regroups = [
    ...stores.map((store): FixEntry => {
      const held = inStore.get(`${RESOURCE_OF[store.type as StoreType]} ${localName(store.id)}`) ?? [];
      return { kind: 'different', type: store.type, id: store.id, regroups: held, implied: true } as FixEntry;
    }),
    ...resources.map((resource): FixEntry => ({ kind: 'different', type: 'layer', id: resource.id, regroups: [resource.id], implied: true }) as FixEntry),
  ].filter((entry) => entry.regroups!.length > 0);
  const groups = upserts.filter((entry) => dependencyRank(entry.type) >= dependencyRank('layerGroup'));
  const blockingExtras = new Set([...stores, ...resources]);
  const rest = removals.filter((entry) => !blockingExtras.has(entry));
  return [
    ...before,
    ...moves,
    ...stores.map(blocking),
    ...upserts.filter(blockedStore),
    ...layerRemovals.flatMap((layer, index) => [layer, blocking(resources[index]!)]),
    ...published,
    ...layersAgain,
    ...regroups,
    ...groups,
    ...rest,
  ];
}

/** The names a layer group's entries give the layer groups it holds (`publishables.published`, `@type` layerGroup). */
export function heldGroupNames(group: JsonObject): string[] {
  return layerGroupEntries(group).flatMap((entry) => {
    const name = isJsonObject(entry) && entry['@type'] === 'layerGroup' ? referencedName(entry) : undefined;
    return name === undefined ? [] : [name];
  });
}

/**
 * Whether the layer group `holder` holds one of `groups` (their ids) as `holds` names them: by
 * id, or by local name inside the holder's workspace.
 */
export function holdsOneOf(holder: DriftEntry, groups: ReadonlySet<string>): boolean {
  if (holder.type !== 'layerGroup') return false;
  return (holder.holds ?? []).some((name) => idsNamedBy(holder.id, name).some((id) => groups.has(id)));
}

/**
 * The ids an entry `name` of the layer group `group` may refer to, as GeoServer resolves it: a
 * qualified name is that id; a bare name in a workspace's group is that workspace's (or a global
 * group of that name); a bare name in a global group is a global one (GeoServer writes a layer in a
 * global group qualified). Never a name of another workspace.
 */
export function idsNamedBy(group: string, name: string): readonly string[] {
  const workspace = splitObjectId(group).workspace;
  return workspace === undefined || name.includes(':') ? [name] : [name, `${workspace}:${name}`];
}

/**
 * Removals with the layer groups among them reordered so that each group comes before every
 * group of the list it holds (by how deep the list holds it: outermost first, then by the order
 * given), in the place of the first of them. GeoServer refuses to remove a group another group
 * still holds, with or without `recurse` (its layer group DELETE takes none), so a node removing
 * an inner group first would refuse it. Everything else keeps its place.
 */
export function outerGroupsFirst<T extends DriftEntry>(removals: readonly T[]): T[] {
  return groupsByNesting(removals, 1);
}

/**
 * Adds and modifies with the layer groups among them reordered so that each group comes after
 * every group of the list it holds (innermost first, then by the order given), in the place of the
 * first of them. GeoServer drops an entry of a layer group naming a group it lacks and saves the
 * rest (CatalogImpl.validate), so a node adding the outer group first would lose that entry.
 * Everything else keeps its place.
 */
export function innerGroupsFirst<T extends DriftEntry>(upserts: readonly T[]): T[] {
  return groupsByNesting(upserts, -1);
}

/**
 * The layer groups among `entries` sorted by how deep the others hold them (`holds`), outermost
 * first (`direction` 1) or innermost first (-1), in the place of the first of them. Groups that
 * hold one another in a loop (a malformed catalog: GeoServer refuses one) keep the order given.
 */
function groupsByNesting<T extends DriftEntry>(entries: readonly T[], direction: 1 | -1): T[] {
  const groups = entries.filter((entry) => entry.type === 'layerGroup');
  if (groups.length < 2) return [...entries];
  // The groups of the list holding each one (`holdsOneOf`), found by id in one pass over every
  // `holds`: a scan of all groups per group is quadratic in a catalog of thousands of them.
  const byId = new Map<string, T[]>();
  for (const group of groups) byId.set(group.id, [...(byId.get(group.id) ?? []), group]);
  const holdersOf = new Map<T, Set<T>>();
  for (const holder of groups) {
    for (const name of holder.holds ?? []) {
      for (const id of idsNamedBy(holder.id, name)) {
        for (const held of byId.get(id) ?? []) {
          if (held === holder) continue;
          const holders = holdersOf.get(held) ?? new Set<T>();
          holders.add(holder);
          holdersOf.set(held, holders);
        }
      }
    }
  }
  const depth = new Map<T, number>();
  const path = new Set<T>();
  let loop = false;
  const depthOf = (group: T): number => {
    const known = depth.get(group);
    if (known !== undefined) return known;
    path.add(group);
    let found = 0;
    for (const holder of holdersOf.get(group) ?? []) {
      if (path.has(holder)) loop = true;
      else found = Math.max(found, 1 + depthOf(holder));
    }
    path.delete(group);
    depth.set(group, found);
    return found;
  };
  const ordered = groups.map((group, index) => ({ group, index, depth: depthOf(group) }));
  if (loop) return [...entries];
  ordered.sort((a, b) => direction * (a.depth - b.depth) || a.index - b.index);
  const first = entries.indexOf(groups[0]!);
  const rest = entries.filter((entry) => entry.type !== 'layerGroup');
  return [...rest.slice(0, first), ...ordered.map(({ group }) => group), ...rest.slice(first)];
}

/**
 * The extra layer groups among `extras` with the groups each holds (`DriftEntry.holds`), read
 * from the GeoServer: a reconcile removes them outer first (`fixOrder`).
 */
export async function withHeldGroups(reader: GeoServerReader, extras: readonly DriftEntry[], concurrency = 8): Promise<DriftEntry[]> {
  return mapConcurrently(extras, concurrency, async (entry) => {
    if (entry.kind !== 'extra' || entry.type !== 'layerGroup') return entry;
    const held = await reader.object('layerGroup', entry.id);
    const holds = held === undefined ? [] : heldGroupNames(held);
    return holds.length === 0 ? entry : ({ ...entry, holds } as DriftEntry);
  });
}

/**
 * `withHeldGroups` for as many of `extras` as a step of the scan may read: one GET per extra layer
 * group, `concurrency` at a time, none started once `limits.calls` are made or past `limits.until`
 * (epoch ms), one round at least when `limits.progress` (a step that lists nothing must move on).
 * `done`: the extras up to the first group left unread, in order, read; `left`: the rest, in
 * order, for the next step. A listing step returns every layer group of the catalog (the global
 * ones in its first step) or of a few workspaces: read all at once, as many extras as the
 * GeoServer holds would be as many calls in one step, whatever the slice's time.
 */
export async function withHeldGroupsWithin(
  reader: GeoServerReader,
  extras: readonly DriftEntry[],
  limits: { readonly concurrency: number; readonly calls: number; readonly until?: number; readonly progress: boolean },
): Promise<{ done: DriftEntry[]; left: DriftEntry[] }> {
  const concurrency = Math.max(1, limits.concurrency);
  const groups = extras.flatMap((entry, index) => (entry.kind === 'extra' && entry.type === 'layerGroup' ? [index] : []));
  if (groups.length === 0) return { done: [...extras], left: [] };
  const done: DriftEntry[] = extras.slice(0, groups[0]);
  let from = groups[0]!;
  let read = 0;
  while (read < groups.length) {
    if ((read > 0 || !limits.progress) && (read >= limits.calls || (limits.until !== undefined && Date.now() >= limits.until))) break;
    const taken = Math.min(concurrency, groups.length - read);
    const end = read + taken < groups.length ? groups[read + taken]! : extras.length;
    done.push(...(await withHeldGroups(reader, extras.slice(from, end), concurrency)));
    from = end;
    read += taken;
  }
  return { done, left: extras.slice(from) };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Which side a comparison trusts: see the file comment. */
export type CompareMode = 'stored-properties' | 'both-ways';

/** Dotted paths where `held` (GeoServer's) differs from `stored` (the store's), ignoring `href`. */
export function differingPaths(stored: JsonObject, held: JsonObject, mode: CompareMode, prefix = ''): string[] {
  const paths: string[] = [];
  const keys = new Set(Object.keys(stored));
  if (mode === 'both-ways') for (const key of Object.keys(held)) keys.add(key);
  for (const key of keys) {
    if (key === 'href') continue;
    const a = stored[key];
    const b = held[key];
    if (isJsonObject(a) && isJsonObject(b)) {
      paths.push(...differingPaths(a, b, mode, `${prefix}${key}.`));
    } else if (!sameValue(a, b)) {
      paths.push(`${prefix}${key}`);
    }
  }
  return paths;
}

function sameValue(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((value, index) => sameValue(value, b[index]));
  }
  if (isJsonObject(a) && isJsonObject(b)) return differingPaths(a, b, 'both-ways').length === 0;
  // GeoServer answers some numbers as strings and the reverse (XStream): compare as text.
  if (typeof a !== 'object' && typeof b !== 'object' && a !== null && b !== null) return String(a) === String(b);
  return JSON.stringify(a) === JSON.stringify(b);
}

// ---------------------------------------------------------------------------------------------
// Reading the GeoServer

/** GeoServer's REST API, for reading (every answer but 200 and 404 is an error). */
export class GeoServerReader {
  /** REST calls made, for the job's progress. */
  calls = 0;

  constructor(private readonly rest: GeoServerRest) {}

  /** The representation inside its wrapper, or undefined when GeoServer has no such object. */
  async object(type: ObjectType, id: string, stored?: JsonObject): Promise<JsonObject | undefined> {
    const target = restTarget(type, id, stored ?? {});
    if (type === 'service' && !(REST_SERVICES as readonly string[]).includes(target.name)) return undefined;
    const response = await this.get(`${REST_MAPPING[type].item(target)}.json`);
    if (response.status === 404) return undefined;
    const parsed = parse(response, `${type} ${id}`);
    const inner = isJsonObject(parsed) ? Object.values(parsed)[0] : undefined;
    if (!isJsonObject(inner)) throw new Error(`GeoServer's ${type} ${id} has no representation inside its wrapper`);
    return inner;
  }

  /**
   * The store (qualified, `workspace:store`) the GeoServer holds a resource of `type` and `id` in,
   * found through the workspace alone (`inWorkspace`); undefined when it holds none of that name.
   * Kept qualified: the store may be of another workspace than the resource's
   * (`storeOfAnotherWorkspace`), and a store of that name in the resource's own would be another.
   */
  async heldStore(type: ObjectType, id: string): Promise<string | undefined> {
    const inWorkspace = REST_MAPPING[type].inWorkspace;
    if (!inWorkspace) return undefined;
    const response = await this.get(`${inWorkspace(restTarget(type, id, {}))}.json`);
    if (response.status === 404) return undefined;
    const parsed = parse(response, `${type} ${id}`);
    const inner = isJsonObject(parsed) ? Object.values(parsed)[0] : undefined;
    const store = isJsonObject(inner) ? referencedName(inner.store) : undefined;
    if (store === undefined) return undefined;
    // GeoServer answers it qualified; a name without its workspace is in the resource's own.
    return store.includes(':') ? store : `${splitObjectId(id).workspace ?? ''}:${store}`;
  }

  /**
   * A style's document in the style's own format (chosen by `Accept`, as styles.yaml lists:
   * `.sld` would give an SE 1.1 style converted to SLD 1.0, and nothing for CSS, YSLD or
   * MBStyle), or undefined when the GeoServer serves none (`styleDocument` says why). `info` is
   * the style's info (its `format` and `languageVersion`).
   */
  async styleBody(id: string, info: JsonObject): Promise<string | undefined> {
    const read = await this.styleDocument(id, info);
    return 'body' in read ? read.body : undefined;
  }

  /**
   * A style's document as `styleBody` reads it, or why the GeoServer served none. GeoServer
   * answers the document from the file the style's info names: with no file (none uploaded
   * yet, or lost from its data directory) it answers 200 with nothing; a 404 means the style
   * itself is gone (since its info was read); a 400, 406 or 415, that it holds the style in
   * another format than `info` states and cannot serve it in this one. None of these is a
   * document removed on purpose: GeoServer's REST API has no call that removes a style's
   * document and keeps the style.
   */
  async styleDocument(id: string, info: JsonObject): Promise<{ readonly body: string } | { readonly unread: string }> {
    const target = restTarget('style', id, info);
    const path = styleDocumentPath(target, info);
    try {
      const response = await this.get(path, styleContentType(info));
      if (response.status !== 200) return { unread: `GET ${path} answered ${response.status}` };
      if (response.text.length === 0) return { unread: `GET ${path} answered 200 with no document` };
      return { body: response.text };
    } catch (error) {
      // The GeoServer holds the style in another format than `info` states and cannot serve
      // it in this one: no document to compare (it differs), not a GeoServer that is down.
      if (error instanceof GeoServerReadRefusedError && NOT_IN_THIS_FORMAT.includes(error.geoserverStatus)) {
        return { unread: `GET ${path} answered ${error.geoserverStatus}: not in the style's format ${styleContentType(info)}` };
      }
      throw error;
    }
  }

  /**
   * Names in a collection listing (`{"workspaces": {"workspace": [{"name": ...}]}}`, or `""` when
   * empty). A workspace's listing answered 404 is empty (the workspace went since it was listed);
   * a catalog-wide one (`CATALOG_LISTINGS`) never is: see `assertServesCatalog`.
   */
  async names(path: string): Promise<string[]> {
    const response = await this.get(`${path}.json`);
    if (response.status === 404) {
      if (CATALOG_LISTINGS.includes(path)) throw notServingCatalog(this.rest.url, `GET ${path}.json`, response);
      return [];
    }
    const parsed = parse(response, path);
    const outer = isJsonObject(parsed) ? Object.values(parsed)[0] : undefined;
    if (!isJsonObject(outer)) return [];
    const inner = Object.values(outer)[0];
    const items = Array.isArray(inner) ? inner : inner === undefined ? [] : [inner];
    // A name "." or "..", or one with a "/" or "\\", cannot be a segment of the paths below (rest-mapping.ts, `seg`).
    return items.flatMap((item) => (isJsonObject(item) && typeof item.name === 'string' && pathSegmentProblem(item.name) === undefined ? [item.name] : []));
  }

  /**
   * Every catalog object the GeoServer holds, by type and id (ids as the cluster writes them:
   * `workspace:name` inside a workspace). Settings are not listed: they always exist, and are
   * compared where the store states them. The listing of `listCatalog`, every step of it at once.
   */
  async catalog(concurrency = 8): Promise<ListedObject[]> {
    const refs: ListedObject[] = [];
    let cursor: CatalogCursor | undefined;
    do {
      const step = await this.listCatalog(cursor, { concurrency, calls: Number.POSITIVE_INFINITY });
      refs.push(...step.objects);
      cursor = step.next;
    } while (cursor !== undefined);
    return refs;
  }

  /**
   * One step of the catalog's listing, from `from` (none: the listing's start): the objects it
   * listed, and where the next step goes on (`next`; none when the listing is done). Listed in the
   * order one at a time lists them: the workspaces, namespaces, global styles and layer groups and
   * every layer first, then workspace by workspace its styles, its layer groups and its stores of
   * each kind, each followed by its resources. A listing call per workspace collection and per
   * GeoServer store, thousands in a large catalog: more than one invocation of the job's function
   * may make (its time), so a job lists it a step at a time, saving the cursor between steps. A step
   * makes `limits.calls` calls or so (a round of `concurrency` calls at a time, several rounds a
   * unit), and starts no unit past `limits.until` (epoch ms); it always makes one. A workspace's
   * objects are returned once all its stores' resources are listed, so the cursor holds what is
   * listed of at most a few workspaces (their collections, their stores' resources).
   */
  async listCatalog(from: CatalogCursor | undefined, limits: { readonly concurrency: number; readonly calls: number; readonly until?: number }): Promise<CatalogStep> {
    const { concurrency } = limits;
    const first = this.calls;
    const objects: ListedObject[] = [];
    const push = (type: ObjectType, id: string, store?: string) => objects.push({ type, id, ...(store === undefined ? {} : { store }) } as ListedObject);
    /** Calls per unit of a step: a few rounds of parallel calls, the most a step goes past `until`. */
    const unit = Math.max(1, concurrency) * 4;
    let cursor: CatalogCursor;
    if (from === undefined) {
      const workspaces = await this.names('/workspaces');
      for (const ws of workspaces) push('workspace', ws);
      // /layers lists every layer, qualified.
      const [namespaces, styles, groups, layers] = await mapConcurrently(['/namespaces', '/styles', '/layergroups', '/layers'], concurrency, (path) => this.names(path));
      for (const prefix of namespaces!) push('namespace', prefix);
      for (const name of styles!) push('style', name);
      for (const name of groups!) push('layerGroup', name);
      for (const name of layers!) if (name.includes(':')) push('layer', name);
      cursor = { workspaces, listed: 0, done: 0, collections: [], resources: [] };
    } else {
      cursor = from;
    }
    const base = (ws: string) => `/workspaces/${seg(ws)}`;
    /** The resource listings of the stores of the workspaces whose collections are listed and objects not yet returned, in order. */
    const storeListings = (at: CatalogCursor): string[] =>
      at.workspaces.slice(at.done, at.listed).flatMap((ws, w) =>
        CATALOG_STORES.flatMap(([, storeSegment, , resourceSegment], kind) =>
          at.collections[w * PER_WORKSPACE + 2 + kind]!.map((store) => `${base(ws)}/${storeSegment}/${seg(store)}/${resourceSegment}`),
        ),
      );
    /** Returns the objects of each workspace, in order, whose stores' resources are all listed. */
    const returnListed = (at: CatalogCursor): CatalogCursor => {
      let { done, collections, resources } = at;
      while (done < at.listed) {
        const ws = at.workspaces[done]!;
        const storeCount = CATALOG_STORES.reduce((sum, _, kind) => sum + collections[2 + kind]!.length, 0);
        if (resources.length < storeCount) break;
        for (const name of collections[0]!) push('style', `${ws}:${name}`);
        for (const name of collections[1]!) push('layerGroup', `${ws}:${name}`);
        let held = 0;
        CATALOG_STORES.forEach(([storeType, , resourceType], kind) => {
          for (const store of collections[2 + kind]!) {
            push(storeType, `${ws}:${store}`);
            for (const resource of resources[held]!) push(resourceType, `${ws}:${resource}`, store);
            held += 1;
          }
        });
        done += 1;
        collections = collections.slice(PER_WORKSPACE);
        resources = resources.slice(storeCount);
      }
      return { ...at, done, collections, resources };
    };
    for (let units = 0; ; units += 1) {
      cursor = returnListed(cursor);
      if (cursor.done === cursor.workspaces.length) return { objects };
      if (units > 0 && (this.calls - first >= limits.calls || (limits.until !== undefined && Date.now() >= limits.until))) return { objects, next: cursor };
      const pending = storeListings(cursor);
      if (cursor.resources.length < pending.length) {
        const page = pending.slice(cursor.resources.length, cursor.resources.length + unit);
        const listed = await mapConcurrently(page, concurrency, (path) => this.names(path));
        cursor = { ...cursor, resources: [...cursor.resources, ...listed] };
      } else {
        // Every workspace listed so far is returned: the collections of the next few.
        const batch = cursor.workspaces.slice(cursor.listed, cursor.listed + Math.max(1, Math.floor(unit / PER_WORKSPACE)));
        const listed = await mapConcurrently(
          batch.flatMap((ws) => [`${base(ws)}/styles`, `${base(ws)}/layergroups`, ...CATALOG_STORES.map(([, storeSegment]) => `${base(ws)}/${storeSegment}`)]),
          concurrency,
          (path) => this.names(path),
        );
        cursor = { ...cursor, listed: cursor.listed + batch.length, collections: [...cursor.collections, ...listed] };
      }
    }
  }

  /**
   * Throws `GeoServerUnavailableError` unless the GeoServer answers its catalog's workspace
   * listing. Every GeoServer serves it, an empty catalog included; a URL that answers 404 there
   * (and so to every object read) is a GeoServer that cannot be read now, not one whose objects
   * are gone: the servlet container while the GeoServer web application is redeployed, a proxy
   * without a route to it, a wrong context path. Asked before an object read as absent is taken
   * for removed (a capture publishes such a removal to every node), as the scan's own first read
   * (`names('/workspaces')`) is.
   */
  async assertServesCatalog(): Promise<void> {
    await this.names('/workspaces');
  }

  private async get(path: string, accept?: string): Promise<RestResponse> {
    this.calls += 1;
    let response: RestResponse;
    try {
      response = await this.rest.send({ method: 'GET', path, ...(accept ? { accept } : {}) });
    } catch (error) {
      if (error instanceof GeoServerUnreachableError) throw new GeoServerUnavailableError(this.rest.url, `GET ${path}`, null, error.message);
      throw error;
    }
    if (response.status === 200 || response.status === 404) return response;
    // Up and refusing this read (a 400, 406, 409...): not the GeoServer out of reach, and not retried.
    if (!meansUnavailable(response.status)) throw new GeoServerReadRefusedError(this.rest.url, `GET ${path}`, response.status, truncate(response.text, 500));
    throw new GeoServerUnavailableError(this.rest.url, `GET ${path}`, response.status, truncate(response.text, 500));
  }
}

function parse(response: RestResponse, what: string): JsonValue {
  try {
    return JSON.parse(response.text) as JsonValue;
  } catch {
    throw new Error(`GeoServer's answer for ${what} is not JSON`);
  }
}

// ---------------------------------------------------------------------------------------------
// Comparing

/**
 * Compares one page of live store objects with the GeoServer: a GET per object, except where
 * the GeoServer lacks the object's workspace (`heldWorkspaces`), which makes it missing outright.
 */
export async function comparePage(
  reader: GeoServerReader,
  objects: readonly StoredObject[],
  heldWorkspaces: ReadonlySet<string>,
  mode: CompareMode,
  concurrency = 8,
): Promise<DriftEntry[]> {
  const entries = await mapConcurrently(objects, concurrency, async (object): Promise<DriftEntry | undefined> => {
    const workspace =
      object.type === 'workspace' || object.type === 'namespace' || object.type === 'workspaceSettings' ? object.id : splitObjectId(object.id).workspace;
    const heldGroups = object.type === 'layerGroup' ? heldGroupNames(object.properties) : [];
    const holds = heldGroups.length > 0 ? { holds: heldGroups } : {};
    if (workspace !== undefined && !heldWorkspaces.has(workspace)) return { kind: 'missing', type: object.type, id: object.id, ...holds } as DriftEntry;
    const held = await reader.object(object.type, object.id, object.properties);
    if (held === undefined) {
      // A resource may be held under another store of its workspace (a move its GeoServer missed):
      // a POST under the stated store would be refused (a resource name is unique in its
      // namespace), so the entry says where it is, for a reconcile to move it from there. A store
      // of another workspace is named qualified (`storeOfAnotherWorkspace`): nothing can fix that.
      const heldIn = workspace !== undefined && isResourceType(object.type) ? await reader.heldStore(object.type, object.id) : undefined;
      const stated = heldIn === undefined ? undefined : restTarget(object.type, object.id, object.properties).store;
      const store = heldIn === undefined ? undefined : splitObjectId(heldIn).workspace === workspace ? localName(heldIn) : heldIn;
      return { kind: 'missing', type: object.type, id: object.id, ...(store !== undefined && store !== stated ? { store } : {}), ...holds } as DriftEntry;
    }
    const heldBody = object.type === 'style' && typeof object.properties.body === 'string' ? await reader.styleBody(object.id, object.properties) : undefined;
    const paths = objectDifferences(object, held, heldBody, mode);
    if (paths.length === 0) return undefined;
    // Named by either side: the one the job writes (the store's, or the GeoServer's) is among them.
    const heldOrStored = object.type === 'layerGroup' ? [...new Set([...heldGroups, ...heldGroupNames(held)])] : [];
    return { kind: 'different', type: object.type, id: object.id, properties: paths.slice(0, MAX_PATHS), ...(heldOrStored.length > 0 ? { holds: heldOrStored } : {}) } as DriftEntry;
  });
  return entries.filter((entry): entry is DriftEntry => entry !== undefined);
}

/**
 * The dotted paths where an object the GeoServer holds (`held`, and a style's document read
 * apart, `heldBody`) differs from the stored one: the drift scan's rule, and a capture's for
 * what still differs. A style's document is compared only where the store holds one.
 */
export function objectDifferences(
  stored: Pick<StoredObject, 'type' | 'id' | 'properties'> & { readonly incomplete?: boolean },
  held: JsonObject,
  heldBody: string | undefined,
  mode: CompareMode,
): string[] {
  const { body, ...info } = stored.properties;
  // A group's styles left out, `{}`, "" or "null" are the null style GeoServer answers as "null": one thing.
  // A layer's style or a group's root layer style named as text, "roads", is the style GeoServer
  // answers as {"name": "roads"}. A group held only as a modify's patch not stating styles is
  // written without them (restBody), the GeoServer keeping its own: they are not the store's.
  const group = stored.type === 'layerGroup';
  const styled = group
    ? (object: JsonObject) => withRootLayerStyleByReference(withStylePerEntry(object))
    : stored.type === 'layer'
      ? withStylesByReference
      : (object: JsonObject) => object;
  const partial = group && stored.incomplete === true && stored.properties.styles === undefined;
  const mine = stored.type === 'style' ? info : partial ? withRootLayerStyleByReference(stored.properties) : styled(stored.properties);
  const theirs = comparable(stored.type, stored.id, styled(held), stored.properties);
  const paths = differingPaths(mine, theirs, mode);
  if (stored.type === 'style' && typeof body === 'string' && heldBody !== body) paths.push('body');
  return paths;
}

/**
 * GeoServer's representation as the store would hold it: named as the id names it, and with
 * the references a master may state unqualified (a resource's `store`, a layer's `resource`:
 * `{"name": "pg"}`) as stated where GeoServer answers them qualified with the object's
 * workspace (`ne:pg`): the same object, which no reconcile could make GeoServer answer otherwise.
 */
function comparable(type: ObjectType, id: string, held: JsonObject, stored: JsonObject): JsonObject {
  if (type === 'namespace') return { ...held, prefix: held.prefix ?? id };
  const workspace = splitObjectId(id).workspace;
  if (workspace === undefined) return held;
  let named = held;
  for (const key of ['store', 'resource'] as const) {
    const stated = referencedName(stored[key]);
    const reference = held[key];
    if (stated !== undefined && !stated.includes(':') && isJsonObject(reference) && reference.name === `${workspace}:${stated}`) {
      named = { ...named, [key]: { ...reference, name: stated } };
    }
  }
  return named;
}
