/**
 * The gateway's crash window, closed without anyone's help. A write through the gateway records
 * what it is about to change (its `WriteIntent`: the objects, and the collections where it may
 * create one it cannot name beforehand) with the cluster's write lease before it is forwarded to
 * the master, and clears it once its changes are in the log (or the master refused it, or it
 * changed nothing). An intent still there when someone next takes the lease belongs to a write
 * whose process died between forwarding it and the log append, or whose append failed
 * (`X-Cluster-Replicated: failed`): the master may hold a change the log does not.
 *
 * Whoever takes the lease next (the next gateway write, or the schedule's sweep,
 * handlers/recover-gateway-writes.ts) first publishes, for each such intent, what the master now
 * holds of its objects against what the master's store holds (the store is what the cluster
 * holds): an `add` for what the master has and the store does not, a `modify` carrying the
 * whole state for what differs, a `remove` for what the store holds and the master no longer
 * does (with the write's `recurse`, for the object a DELETE named); a resource the write moved to
 * another store is read under that store's path first (resource-store.ts). A style the master no longer
 * holds takes along the layers and layer groups that named it (style-users.ts), as a rename
 * through the gateway does; a recursive DELETE, what its cascade changed around the object
 * (cascade.ts), as the gateway publishes it; a layer PUT, its resource, which holds the layer's
 * `enabled` and `advertised` (namespace-link.ts). Adds and modifies go in dependency order, removals deepest first.
 * All of it under the lease, before the new holder's own write: so the recovered change is in
 * the log before any later write, in the master's order. Objects unchanged publish nothing (a
 * write that died before the master applied it, or a recovery done twice).
 *
 * An upload into a store is recovered as it is replicated: by a capture of the master
 * (`captureUpload`, the job the upload asks for itself), not by reading the master here. What an
 * upload changes is known only to GeoServer (a re-upload or a mosaic harvest changes resources the
 * store already holds; its answer may come after the request's budget, the master still reading the
 * file), and a capture compares all of the master with its store. The intent is kept until a
 * capture was asked for at least `UPLOAD_SETTLE_MS` after it was recorded (each holder that finds
 * it asks again; one not begun covers the next): so one scans the master after an upload that
 * outran its request lands, and a master's reconcile leaves what it made alone until then.
 */
import { cascadedAfter, cascadedChanges, groupsOfRenamedGroup, groupsOfRenamedLayer } from './cascade';
import { InvalidConfigEventError } from '../event-errors';
import { isConfigurationType, isResourceType, isStoreType, objectStorageKey, type ConfigChange, type ObjectRef } from '../events';
import { dependencyRank } from '../geoserver/drift';
import { mergePatchBetween, wholeStatePatch, type JsonObject } from '../merge-patch';
import type { StoredObject } from '../ports';
import {
  bodyMember,
  isStoreUpload,
  isStyleFile,
  jsonBodyObject,
  mediaTypeOf,
  parentRenamed,
  RENAMABLE_TYPES,
  styleNameParameter,
  type ChangePublisher,
  type GatewayRecovery,
  type GatewayRequest,
  type MasterReader,
  type UploadCapture,
} from './gateway';
import { STALE_INTENT_MS, UPLOAD_SETTLE_MS } from './limits';
import { classifyRestPath, memberPath, restBoolean, type ManagedPath, type UnmanagedPath } from './rest-paths';
import { styleUserPath, type StyleUsers } from './style-users';
import type { ParentRename } from './moved-children';
import { dataStoresOf, linkedPath, resourceOfLayer } from './namespace-link';
import { movedResourcePath } from './resource-store';
import type { MasterCatalog } from './master-catalog';
import { IntentsRecoveredPartWay, type IntentObject, type RefusedIntent, type WriteIntent } from './write-lease';

export interface RecoveryDeps {
  /** The master's store: its objects by type and id. */
  readonly stored: (refs: readonly ObjectRef[]) => Promise<readonly StoredObject[]>;
  readonly styleUsers?: StyleUsers;
  /** The master's store by type: a recovered workspace or store rename publishes what moved with it. */
  readonly catalog?: MasterCatalog;
  readonly publisher: ChangePublisher;
  /**
   * Asks for a capture of the master (or finds one not begun that covers it), as an upload through
   * the gateway does: an upload's intent is recovered by it. Without it, an upload's intent is
   * recovered by reading the master like any other, which misses what the upload changed in
   * resources the store already held.
   */
  readonly captureUpload?: () => Promise<UploadCapture>;
  /** The clock an upload's intent is aged by (`UPLOAD_SETTLE_MS`); Date.now without it. */
  readonly now?: () => number;
}

export interface Recovered {
  /** The owners of the intents recovered or given up (to clear). */
  readonly owners: string[];
  /** The sequences published, in order. */
  readonly sequences: number[];
  /**
   * Intents given up: what the master holds of their objects is a change the cluster refuses
   * (a name its ids cannot carry, an object grown past the size one change may have), which no
   * later attempt could publish either. The master and the other nodes differ there until the
   * object is changed on the master again; the caller logs it as an error.
   */
  readonly refused: RefusedIntent[];
  /** The captures asked for uploads' intents (the jobs' ids), those intents kept while they settle. */
  readonly captures: string[];
}

/** A gateway write's recovery: what it records, and how it publishes what earlier writes left. */
export function gatewayRecovery(deps: RecoveryDeps): GatewayRecovery {
  return { intentOf, uploadIntentOf, recover: (pending, read) => recoverIntents({ ...deps, read }, pending) };
}

/**
 * How recovery reads the master: `read`, with the master node's own credentials, as the sweep and
 * the gateway function do (gateway.ts, `GatewayOptions.readBack`). GeoServer's REST API serves its
 * secured catalog: with data security in its default HIDE mode, an object a user may not read is
 * answered 404 and left out of collection listings, as one that does not exist is. So a gateway
 * caller's view would prove no absence: publishing an intent's object as removed, or clearing its
 * intent as if its write had made nothing, would take from every node (and, by a master's
 * reconcile, from the master) what the master still holds.
 */
export interface RecoveryReader {
  readonly read: MasterReader;
}

/**
 * Publishes what the master holds of each intent's objects, oldest intent first, reading the
 * master with `read` (the master node's credentials); throws (leaving that intent and the later ones for the next holder) when the master or
 * the log fails, as `IntentsRecoveredPartWay` once intents before it were recovered, so they are
 * cleared. An intent whose changes the cluster refuses is given up (`refused`), and the next one goes on.
 */
export async function recoverIntents(deps: RecoveryDeps & RecoveryReader, intents: readonly WriteIntent[]): Promise<Recovered> {
  const recovered: Recovered = { owners: [], sequences: [], refused: [], captures: [] };
  try {
    await recoverInOrder(deps, intents, recovered);
  } catch (error) {
    if (recovered.owners.length === 0) throw error;
    throw new IntentsRecoveredPartWay(recovered.owners, error);
  }
  return recovered;
}

async function recoverInOrder(deps: RecoveryDeps & RecoveryReader, intents: readonly WriteIntent[], recovered: Recovered): Promise<void> {
  const now = deps.now ?? Date.now;
  for (const intent of intents) {
    if (deps.captureUpload && isUploadIntent(intent)) {
      // Throws (the job store or the queue failing, a resync holding the master) like a master
      // that fails: this intent and the later ones stay for the next holder.
      recovered.captures.push((await deps.captureUpload()).job);
      // Kept while the upload may still be landing on the master, for a capture after it.
      // (An intent whose time does not parse is not kept for ever.)
      if (!(now() - Date.parse(intent.at) < UPLOAD_SETTLE_MS)) recovered.owners.push(intent.owner);
      continue;
    }
    try {
      for (const change of await changesOf(deps, intent)) recovered.sequences.push(await deps.publisher.publish(change));
    } catch (error) {
      // The master or the log failing passes: this intent and the later ones stay for the next holder. A refusal
      // would not pass, and kept it would stop every later intent's recovery behind it.
      if (!(error instanceof InvalidConfigEventError)) throw error;
      recovered.refused.push({ intent, reason: error.message });
    }
    recovered.owners.push(intent.owner);
  }
}

/** The changes that bring the cluster to what the master holds of one intent's objects, in the order they are published. */
export async function changesOf(deps: RecoveryDeps & RecoveryReader, intent: WriteIntent): Promise<ConfigChange[]> {
  const objects = new Map<string, IntentObject>();
  for (const object of intent.objects) objects.set(objectStorageKey(object), object);
  for (const collection of intent.collections ?? []) {
    for (const member of await newMembers(deps, collection)) objects.set(objectStorageKey(member), member);
  }
  const renamed = deps.catalog ? await parentRenameOf(deps, intent, [...objects.values()]) : undefined;
  if (renamed) return parentRenamed(deps.read, deps.catalog!, renamed.rename, renamed.after);
  for (const store of await linkedStores(deps, intent)) objects.set(objectStorageKey(store), store);
  for (const resource of await layerResource(deps, intent)) objects.set(objectStorageKey(resource), resource);
  const upserts: ConfigChange[] = [];
  /** What a recursive DELETE's cascade changed around its object (cascade.ts): before the removals. */
  const cascaded: ConfigChange[] = [];
  const removals: ConfigChange[] = [];
  /** What goes after the removals: a recursively deleted layer's resource (cascade.ts). */
  const after: ConfigChange[] = [];
  const readBack = (target: { type: ObjectRef['type'] }, path: string) => deps.read.object(target, path);
  for (const object of objects.values()) {
    const stored = await liveStored(deps, object);
    // A resource the write moved to another store is served there, or, not moved, where it was.
    const held = (object.movedTo === undefined ? undefined : await deps.read.object(object, object.movedTo)) ?? (await deps.read.object(object, object.path));
    if (held) {
      const change = upsert(object, stored, held);
      if (change) upserts.push(change);
      continue;
    }
    if (!stored) continue;
    const recurse = intent.method === 'DELETE' && intent.recurse === true && object.path === intent.path;
    removals.push({ kind: 'remove', object: { type: object.type, id: object.id }, recurse } as ConfigChange);
    if (recurse) {
      // As the gateway publishes it: the groups and layers the cascade changed, a layer's resource after.
      cascaded.push(...(await cascadedChanges(object, { catalog: deps.catalog, styleUsers: deps.styleUsers }, readBack)));
      after.push(...(await cascadedAfter(object, deps.catalog, readBack)));
    } else if (object.type === 'style' && deps.styleUsers) {
      // The layers and groups GeoServer moved off a renamed style.
      for (const user of await deps.styleUsers.of(object.id)) {
        if (objects.has(objectStorageKey(user))) continue;
        const now = await deps.read.object(user, styleUserPath(user));
        const change = now ? upsert(user, user, now) : undefined;
        if (change) upserts.push(change);
      }
    } else if (object.type === 'layer' && deps.catalog) {
      // A renamed resource's old layer: the groups that held it (as an entry or as their root layer) name the new one
      // first, as the gateway publishes them; a GeoServer refuses to remove a layer a group still names.
      const referrers = await groupsOfRenamedLayer(deps.catalog, object.id, readBack);
      cascaded.push(...referrers.filter((change) => !objects.has(objectStorageKey(change.object))));
    } else if (object.type === 'layerGroup' && deps.catalog) {
      // The groups GeoServer moved onto a renamed group's new name: after its add, before the old one's removal.
      const referrers = await groupsOfRenamedGroup(deps.catalog, object.id, readBack);
      cascaded.push(...referrers.filter((change) => !objects.has(objectStorageKey(change.object))));
    }
  }
  upserts.sort((a, b) => dependencyRank(a.object.type) - dependencyRank(b.object.type));
  removals.sort((a, b) => dependencyRank(b.object.type) - dependencyRank(a.object.type));
  // A workspace's DELETE publishes its namespace's removal after its own, as the gateway does
  // (namespace-link.ts): a node's GeoServer refuses to remove a namespace its resources still use.
  if (intent.method === 'DELETE' && [...objects.values()].some((object) => object.type === 'workspace' && object.path === intent.path)) {
    const first = removals.filter((change) => change.object.type !== 'namespace');
    removals.splice(0, removals.length, ...first, ...removals.filter((change) => change.object.type === 'namespace'));
  }
  return [...upserts, ...cascaded, ...removals, ...after];
}

/**
 * A PUT to a namespace or workspace: the workspace's data stores on the master, whose `namespace`
 * connection parameter GeoServer may have rewritten (namespace-link.ts), compared like the
 * intent's own objects (only those that differ from the store publish a change).
 */
async function linkedStores(deps: RecoveryDeps & { readonly read: MasterReader }, intent: WriteIntent): Promise<IntentObject[]> {
  const target = intent.objects.find((object) => object.path === intent.path);
  if (intent.method !== 'PUT' || !target || (target.type !== 'namespace' && target.type !== 'workspace')) return [];
  return dataStoresOf(deps.read, target.id);
}

/**
 * A PUT to a layer: its resource, whose `enabled` and `advertised` GeoServer changed with the
 * layer's (a layer keeps none of its own, namespace-link.ts), compared like the intent's own
 * objects, as the gateway publishes it. Without it, a dead PUT disabling a layer is recovered as
 * the layer alone, and the stores keep the resource's `enabled: true`, which a master's reconcile
 * would then PUT back, enabling the layer again. A PUT to a resource names its layer already.
 */
async function layerResource(deps: RecoveryDeps & { readonly read: MasterReader }, intent: WriteIntent): Promise<IntentObject[]> {
  const target = intent.objects.find((object) => object.path === intent.path);
  if (intent.method !== 'PUT' || !target || target.type !== 'layer') return [];
  return resourceOfLayer(deps.read, target);
}

/**
 * A PUT to a workspace or store that the master applied as a rename: the master no longer holds
 * the object written, and holds the one it was renamed to (named by the JSON body, or new in its
 * collection). Its recovery publishes what a rename through the gateway does (gateway.ts's
 * `parentRenamed`): the children, the references to them, the old one's removal. When part of
 * those events reached the log before the publish failed, the rest is found the same way (the
 * store's children still under the old name, or already under the new one without their layers
 * published), and what is published again is the same state again.
 */
async function parentRenameOf(
  deps: RecoveryDeps & RecoveryReader,
  intent: WriteIntent,
  objects: readonly IntentObject[],
): Promise<{ rename: ParentRename; after: JsonObject } | undefined> {
  const target = objects.find((object) => object.path === intent.path);
  if (intent.method !== 'PUT' || !target || (target.type !== 'workspace' && !isStoreType(target.type))) return undefined;
  if (await deps.read.object(target, target.path)) return undefined;
  for (const candidate of objects) {
    if (candidate.type !== target.type || candidate.id === target.id) continue;
    const after = await deps.read.object(candidate, candidate.path);
    if (after) return { rename: { type: target.type, from: target.id, to: candidate.id }, after };
  }
  return undefined;
}

/** The change that makes the store's object (if any) what the master holds, or none when they agree. */
function upsert(object: ObjectRef, stored: { readonly properties: JsonObject } | undefined, held: JsonObject): ConfigChange | undefined {
  const ref = { type: object.type, id: object.id };
  if (isConfigurationType(object.type)) {
    // Settings always exist on every node: only ever modified, with the whole of them.
    if (stored && Object.keys(mergePatchBetween(stored.properties, held)).length === 0) return undefined;
    return { kind: 'modify', object: ref, patch: wholeStatePatch(stored?.properties ?? {}, held) } as ConfigChange;
  }
  if (!stored) {
    // A style's info without its document yet (the first step of a two-step upload) is published with its document.
    if (object.type === 'style' && held.body === undefined) return undefined;
    return { kind: 'add', object: ref, properties: held } as ConfigChange;
  }
  if (Object.keys(mergePatchBetween(stored.properties, held)).length === 0) return undefined;
  return { kind: 'modify', object: ref, patch: wholeStatePatch(stored.properties, held) } as ConfigChange;
}

async function liveStored(deps: RecoveryDeps, object: ObjectRef): Promise<StoredObject | undefined> {
  const [stored] = await deps.stored([{ type: object.type, id: object.id } as ObjectRef]);
  return stored && !stored.deleted ? stored : undefined;
}

/**
 * What a collection on the master holds that the store does not: a POST whose created name was
 * not known beforehand, a rename to a name in a body the gateway does not read. With a
 * workspace comes its namespace, with a resource its layer, as GeoServer creates them.
 */
async function newMembers(deps: RecoveryDeps & { readonly read: MasterReader }, collection: string): Promise<IntentObject[]> {
  const listed: IntentObject[] = [];
  for (const name of await deps.read.names(collection)) {
    const member = memberPath(collection, name);
    if (member.managed && member.id) listed.push({ type: member.type, id: member.id, path: member.path });
  }
  const members: IntentObject[] = [];
  for (let i = 0; i < listed.length; i += 100) {
    const chunk = listed.slice(i, i + 100);
    const live = new Set((await deps.stored(chunk)).filter((stored) => !stored.deleted).map(objectStorageKey));
    for (const member of chunk) {
      if (live.has(objectStorageKey(member))) continue;
      members.push(member, ...impliedBy(member));
    }
  }
  return members;
}

/**
 * What GeoServer creates along with an object: a workspace's namespace, a namespace's workspace
 * (which it also removes with the namespace), a resource's layer.
 */
export function impliedBy(object: IntentObject): IntentObject[] {
  const linked = linkedPath(object.type, object.id);
  if (linked) return [linked];
  if (isResourceType(object.type)) return [{ type: 'layer', id: object.id, path: `/layers/${encodeURIComponent(object.id)}` }];
  return [];
}

/**
 * What a write to a replicated path may change, known before it is forwarded: the object it
 * addresses (with a resource's layer, which a PUT may rename with it), the object a POST creates
 * when its body or `?name=` names it (with the namespace or layer GeoServer creates along), the
 * object a JSON body renames it to. When the name is not known beforehand (a POST whose body
 * names it in XML or not at all, a PUT whose XML body may rename it), the collection it lands in.
 */
export function intentOf(target: ManagedPath, method: string, request: GatewayRequest): Omit<WriteIntent, 'owner' | 'at'> {
  const query = new URLSearchParams(request.query);
  const base = { method, path: target.path, ...(method === 'DELETE' ? { recurse: restBoolean(query.get('recurse')) === true } : {}) };
  if (target.layerStyles) return { ...base, objects: [{ type: 'layer', id: target.id!, path: `/layers/${encodeURIComponent(target.id!)}` }] };
  const member = (name: string): IntentObject | undefined => {
    const path = target.id ? target.path.slice(0, target.path.lastIndexOf('/')) : target.path;
    // As the gateway names it (memberPath): `w.xml` is all name, not `w` asked for as XML.
    const found = memberPath(path, name);
    return found.managed && found.id && !found.layerStyles ? { type: found.type, id: found.id, path: found.path } : undefined;
  };
  // `?name=` names a style file or package POSTed, which never renames a style; a representation is named by its body (gateway.ts).
  const named = isStyleFile(target, request) ? (target.id ? undefined : styleNameParameter(request)) : jsonName(request);
  if (!target.id) {
    const created = named === undefined ? undefined : member(named);
    return created ? { ...base, objects: [created, ...impliedBy(created)] } : { ...base, objects: [], collections: [target.path] };
  }
  const movedTo = movedResourcePath(target, method, bodyMember(request, 'store'));
  const object: IntentObject = { type: target.type, id: target.id, path: target.path, ...(movedTo === undefined ? {} : { movedTo }) };
  // A namespace's DELETE removes its workspace too (impliedBy), unless that holds a store; a
  // workspace's its namespace. A PUT to either may change the other's isolation (namespace-link.ts;
  // the workspace's data stores are looked up when recovered: `linkedStores`).
  const linked = target.type === 'namespace' || target.type === 'workspace' ? impliedBy(object) : [];
  if (method === 'DELETE' || !RENAMABLE_TYPES.includes(target.type)) return { ...base, objects: [object, ...linked] };
  const objects = [object, ...(isResourceType(target.type) ? impliedBy(object) : linked)];
  const current = target.id.slice(target.id.indexOf(':') + 1);
  const renamed = named !== undefined && named !== current ? member(named) : undefined;
  if (renamed) return { ...base, objects: [...objects, renamed, ...(isResourceType(renamed.type) ? impliedBy(renamed) : [])] };
  // An info body the gateway does not read (XML) may rename it: the new name is listed in its collection.
  const mediaType = mediaTypeOf(request);
  const info = /[/+]xml$/.test(mediaType) && !mediaType.startsWith('application/vnd.');
  return info ? { ...base, objects, collections: [target.path.slice(0, target.path.lastIndexOf('/'))] } : { ...base, objects };
}

/**
 * The intents older than STALE_INTENT_MS at `now`: their recovery keeps failing (an upload's
 * intent is kept UPLOAD_SETTLE_MS on purpose, less than that), and nothing gives them up. The
 * sweep reports them; one whose time does not parse counts as stale.
 */
export function staleIntents(intents: readonly WriteIntent[], now: number): WriteIntent[] {
  return intents.filter((intent) => !(now - Date.parse(intent.at) < STALE_INTENT_MS));
}

/** An upload into a store's intent (`uploadIntentOf`), known by its path as the gateway knows the upload. */
function isUploadIntent(intent: WriteIntent): boolean {
  const classified = classifyRestPath(intent.path);
  return !classified.managed && isStoreUpload(classified, intent.method);
}

/**
 * What an upload into a store (`/workspaces/{ws}/{datastores|coveragestores}/{store}/{method}.{format}`,
 * gateway.ts) may change on the master: the store, and the resources it makes in it (with their
 * layers), named only once GeoServer has read the file, so listed in the store's resource
 * collection. Left behind (its writer died after the forward, its answer came after the request's
 * budget, or its capture could not be asked for), the next holder asks for the capture it lacks
 * (`recoverIntents`): a master's reconcile would otherwise find what it made an extra, and nothing
 * would publish it. The objects named here are what that reconcile leaves alone meanwhile.
 */
export function uploadIntentOf(target: UnmanagedPath, method: string): Omit<WriteIntent, 'owner' | 'at'> {
  const [, workspace, collection, store] = target.path.split('/').filter(Boolean);
  const storePath = `/workspaces/${workspace}/${collection}/${store}`;
  const found = classifyRestPath(storePath);
  const objects = found.managed && found.id ? [{ type: found.type, id: found.id, path: found.path }] : [];
  const resources = collection === 'coveragestores' ? 'coverages' : 'featuretypes';
  return { method, path: target.path, objects, collections: [`${storePath}/${resources}`] };
}

/** The name (or a namespace's prefix) a JSON body gives its object, if it states one. */
function jsonName(request: GatewayRequest): string | undefined {
  const mediaType = mediaTypeOf(request);
  if ((mediaType !== 'application/json' && mediaType !== 'text/json') || !request.body) return undefined;
  const inner = jsonBodyObject(request.body);
  const name = inner?.name ?? inner?.prefix;
  return typeof name === 'string' && name !== '' ? name : undefined;
}
