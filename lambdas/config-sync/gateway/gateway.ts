/**
 * The cluster's GeoServer REST endpoint: every call to `/geoserver/rest/...` is forwarded, with
 * the caller's own HTTP Basic credentials, to the master's GeoServer, whose security decides; its
 * status, content type and body come back unchanged. After a successful write (POST, PUT, DELETE)
 * to a path of a replicated type, the gateway reads what the master now holds, with the master
 * node's own credentials (`readBack`), and publishes it to the cluster as the master's change:
 * - POST to a collection: `add` of the created object (GeoServer answers its name, or for a
 *   feature type names it in the `Location` alone), plus the
 *   layer GeoServer creates when a resource is published, the namespace it creates with a
 *   workspace, and the workspace it creates with a namespace (first: the namespace lives in it);
 * - PUT: `modify` carrying the whole object after the write, with null for each property the
 *   write removed (so every node ends with the master's object, whatever it held; a resource
 *   moved to another store of its workspace is read there, resource-store.ts), or, when the
 *   name changed, `remove` of the old id and `add` of the new one, with what GeoServer moved
 *   along (a style's users, a workspace's or store's contents: `styleRenamed`, `parentRenamed`);
 *   nothing when nothing changed;
 * - DELETE: `remove`, with `recurse` as the caller asked, once a read-back finds the object gone
 *   (none while the master still holds it); with `recurse`, first what GeoServer's cascade
 *   changed around the object (cascade.ts); after a namespace's, its workspace's, and after a
 *   workspace's, its namespace's, once gone (namespace-link.ts);
 * - with a PUT to a namespace or workspace, after its own change, what GeoServer changed along:
 *   the other one's isolation, the workspace's data stores' `namespace` parameter (namespace-link.ts).
 * An upload into a store (`PUT .../datastores/{ds}/{method}.{format}`, the coverage store's PUT
 * and harvesting POST) makes catalog objects on the master that only a read of its whole GeoServer
 * finds: a successful one starts a capture of the master (`captureUpload`, the job of POST
 * /nodes/{master}/capture), answered `X-Cluster-Replicated: capture` with the job's id.
 * A refused write (a 4xx) publishes nothing; one answered with a 5xx publishes what the master
 * holds of it, read back as recovery reads an unfinished write (`publishedAfterError`). A body with a DOCTYPE is refused on every path before
 * anything is forwarded (doctype.ts), and so is a zipped style package whose SLD has one, or that
 * cannot be read within bounds (style-package.ts). A path the cluster does not replicate is forwarded, logged
 * and answered with `X-Cluster-Replicated: false`. A write that carries something the cluster does
 * not replicate besides what it does (a zipped style package: the style is published, its icons
 * are data-directory resources) is published and answered `partial`, and logged with what was
 * left out.
 *
 * The route and its configuration (handlers/geoserver-gateway.ts, `cluster.gateway`) build on
 * the nodes' `geoserver` declaration and land with it.
 *
 * Writes to replicated paths are serialized per cluster (./write-lease.ts): each holds the
 * cluster's write lease from reading the object before the write until its changes are in the
 * log, so the log's order is the order in which the master applied them. An upload into a store
 * holds it from its forward until its capture is started or joined. Reads and other unmanaged
 * paths are not serialized.
 *
 * Every call to the master of one request shares one time budget (./limits.ts): a write's forward
 * leaves time for reading it back and publishing it.
 *
 * A process that dies between the master's answer and the log append (or whose append fails)
 * leaves the intent it recorded with the lease: the next holder of the lease (the next write, or
 * the schedule's sweep) publishes what the master holds of those objects first (recovery.ts).
 */
import { isUtf8 } from 'node:buffer';
import { AppError, MethodNotAllowedError, ValidationError } from '../../shared/errors';
import { duplicateMemberName } from '../../shared/json-names';
import { atMember, loneSurrogateAt } from '../../shared/i-json';
import { readXmlDocument, XmlReadError, type ParsedElement, type XmlReadLimits } from '../../shared/xml-reader';
import { addressed, styleContentType, styleExtension, styleFormat } from '../geoserver/rest-mapping';
import { isConfigurationType, isResourceType, isStoreType, jsonDepth, MAX_PROPERTIES_DEPTH, objectRefProblem, RESOURCE_TYPES, serializedBytes, splitObjectId, type ConfigChange, type ObjectType } from '../events';
import { isJsonObject, mergePatchBetween, wholeStatePatch, type JsonObject, type JsonValue } from '../merge-patch';
import { ambiguousManagedPathReason, classifyRestPath, isWriteMethod, memberPath, restBoolean, storeCollectionType, unsafePathReason, withDecodedCharactersEncoded, withUnreservedDecoded, type ClassifiedPath, type ManagedPath, type UnmanagedPath } from './rest-paths';
import { linkedBefore, linkedChanges, linkedPath, linkedRemoval } from './namespace-link';
import { MAX_REPLICATED_WRITE_BYTES, ReplicatedWriteTooLargeError, STYLE_FIELDS_ALLOWANCE_BYTES, StyleDocumentTooLargeError } from './limits';
import { describeRefused, UNSERIALIZED, type RefusedIntent, type RunOptions, type WriteIntent, type WriteSerializer } from './write-lease';
import { cascadedAfter, cascadedChanges, groupsOfRenamedGroup, groupsOfRenamedLayer } from './cascade';
import { styleUserPath, type StyleUsers } from './style-users';
import { movedChildren, referrersOf, type ParentRename } from './moved-children';
import type { MasterCatalog } from './master-catalog';
import { contentTypeCharset, xmlPrologProblem, XmlDoctypeError, XmlEncodingError } from './doctype';
import { packagedDoctypeIn, sldDocumentsOf, type PackagedDocument } from './style-package';
import { layerGroupEntriesProblem, layerGroupEntriesWithoutStylesProblem, layerGroupNoStylesProblem, layerGroupStylesProblem, nullMemberProblem, requiredMemberProblem } from './catalog-required';
import { movedResourcePath, resourceStoreProblem } from './resource-store';

export interface GatewayRequest {
  readonly method: string;
  /** Path under `/geoserver/rest`, e.g. `/workspaces/topp.json` (as received, still escaped). */
  readonly path: string;
  /** Raw query string without `?`. */
  readonly query: string;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** The master's GeoServer REST API (`<url>/rest`). */
export interface Upstream {
  /** @param timeoutMs how long this call may wait for the master's answer (the adapter's own cap otherwise) */
  send(request: GatewayRequest, timeoutMs?: number): Promise<UpstreamResponse>;
}

/** Whether the master accepts a write's caller, asked before the write takes the lease (./caller-check.ts). */
export interface Callers {
  /** The master's refusal of the caller, or `undefined` when the write may go on to the lease. */
  refusal(request: Pick<GatewayRequest, 'query' | 'headers'>, timeoutMs?: number): Promise<CallerRefusal | undefined>;
}

/** The master's answer refusing a caller, to pass on as the write's, and why (logged). */
export interface CallerRefusal {
  readonly answer: UpstreamResponse;
  readonly reason: string;
}

export interface GatewayOptions {
  /**
   * The master's GeoServer as the gateway reads it back, with the master node's own credentials
   * (its secret; the call's `authorization` is replaced): everything a write reads to decide what
   * to publish (the object before and after, what GeoServer changed along, a cascade's groups, a
   * style's users, the recovery of earlier writes). GeoServer's REST API serves its secured catalog:
   * with data security in its default HIDE mode, an object hidden from the caller answers 404 and a
   * layer group comes back without the entries the caller may not see, so a read with the caller's
   * credentials would publish those as removed on every node. The write itself is forwarded with
   * the caller's credentials, for GeoServer's security to decide (`upstream`).
   */
  readonly readBack: Upstream;
  /** Serializes the writes to replicated paths; default none. */
  readonly writes?: WriteSerializer;
  /**
   * Asks the master whether it accepts a write's caller before the write takes the lease
   * (./caller-check.ts): one it refuses gets the master's 401 and holds nothing. Default: none.
   */
  readonly callers?: Callers;
  /** When the request must be answered by (epoch ms); calls to the master get what is left. */
  readonly deadline?: number;
  /** Kept back from a write's forward for reading it back and publishing it. */
  readonly publishReserveMs?: number;
  readonly now?: () => number;
  /**
   * The layers and layer groups that name a style (the master's store): a style rename publishes
   * their new state between the new style's add and the old one's remove. Without it, a rename
   * publishes the style alone.
   */
  readonly styleUsers?: StyleUsers;
  /**
   * The master's store, read by type: a workspace or store rename publishes what moved with it
   * (moved-children.ts). Without it, a rename publishes the object alone.
   */
  readonly catalog?: MasterCatalog;
  /**
   * Closes the crash window (recovery.ts): each write records its intent with the lease, and
   * publishes the intents earlier writes left before its own; a write the master answers with a
   * 5xx publishes what the master holds of it through it (`publishedAfterError`). Without it,
   * nothing is recorded, and a 5xx publishes nothing.
   */
  readonly recovery?: GatewayRecovery;
  /**
   * The cluster's node names: a request carrying one's cluster token (`Bearer <node>.<secret>`,
   * sent to the gateway by mistake) is refused instead of handed to the master GeoServer.
   */
  readonly clusterNodes?: readonly string[];
  /** The cluster's read-only operators' names: their tokens are cluster tokens too, refused the same way. */
  readonly clusterOperators?: readonly string[];
  /**
   * Starts a capture of the master (or finds one not begun that covers it) after an upload into
   * a store the master took: the store, feature types, coverages and layers GeoServer made of the
   * data are published by it. Without it, an upload is answered as not replicated.
   */
  readonly captureUpload?: () => Promise<UploadCapture>;
  /**
   * Read once a write to a replicated path (or an upload into a store) holds the write lease, before anything is forwarded
   * (write-lease.ts, `RunOptions.refusal`): an error refuses the write (the master held by a
   * resync, which takes its hold under the same lease). Without it, nothing is read there.
   */
  readonly refusal?: () => Promise<Error | undefined>;
}

/** The capture that replicates an upload: `started` now, `covered` by one not begun, or `queued` after the node's running job. */
export interface UploadCapture {
  readonly job: string;
  readonly outcome: 'started' | 'covered' | 'queued';
}

/** What a write records before it is forwarded, and how leftover intents are published (recovery.ts). */
export interface GatewayRecovery {
  intentOf(target: ManagedPath, method: string, request: GatewayRequest): Omit<WriteIntent, 'owner' | 'at'>;
  /** What an upload into a store records before it is forwarded: the store, and its resource collection. */
  uploadIntentOf(target: UnmanagedPath, method: string): Omit<WriteIntent, 'owner' | 'at'>;
  /** Publishes what the master holds of the intents' objects, read with `read` (the master node's view, `readBack`); answers what it recovered. */
  recover(
    pending: readonly WriteIntent[],
    read: MasterReader,
  ): Promise<{ readonly owners: readonly string[]; readonly sequences: readonly number[]; readonly refused: readonly RefusedIntent[] }>;
}

/** Appends a change to the cluster's log as the master's; answers its sequence. */
export interface ChangePublisher {
  publish(change: ConfigChange): Promise<number>;
}

export interface GatewayResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /** What a log line should say about it. */
  readonly replication: 'not-replicated' | 'read' | 'refused' | 'published' | 'nothing-changed' | 'publish-failed' | 'capture';
  /** The capture an upload started or joined (`X-Cluster-Job`). */
  readonly capture?: UploadCapture;
  readonly sequences: number[];
  readonly category?: string;
  readonly error?: string;
  /** What the write carried that was not replicated (`X-Cluster-Replicated: partial`). */
  readonly notReplicated?: string;
  /** Something the master did that its answer did not say (a DELETE answered 2xx of an object it still holds): logged as a warning. */
  readonly warning?: string;
  /** Intents earlier writes left that this write published first (recovery.ts), and their sequences. */
  readonly recovered?: {
    readonly intents: number;
    readonly sequences: readonly number[];
    /** Intents given up: the cluster refuses what the master holds of them (recovery.ts). */
    readonly refused?: readonly { readonly method: string; readonly path: string; readonly at: string; readonly reason: string }[];
  };
}

export const REPLICATED_HEADER = 'x-cluster-replicated';
export const SEQUENCE_HEADER = 'x-cluster-sequence';
/** The job that replicates the write (an upload's capture): GET /nodes/{master}/jobs/{id}. */
export const JOB_HEADER = 'x-cluster-job';

/** Headers a GeoServer REST call depends on; nothing else of the caller's is passed on. */
const FORWARDED_HEADERS = ['authorization', 'content-type', 'accept', 'if-match', 'if-none-match'];

export function forwardedHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = headers[name];
    if (value !== undefined) kept[name] = value;
  }
  return kept;
}

export async function handleGatewayCall(
  upstream: Upstream,
  publisher: ChangePublisher,
  sent: GatewayRequest,
  options: GatewayOptions,
): Promise<GatewayResponse> {
  assertGatewayMethod(sent.method);
  // Named as sent, with what an HTTP API decoded encoded again: a dot segment in any encoding is refused as such.
  const canonical = withDecodedCharactersEncoded(sent.path);
  const unsafe = unsafePathReason(canonical);
  if (unsafe !== undefined) throw new UnsafePathError(unsafe);
  // Read and forwarded with encoded unreserved characters decoded, as the master reads the path.
  const request: GatewayRequest = { ...sent, path: withUnreservedDecoded(canonical) };
  // A header HTTP cannot carry (a character past Latin-1, a line break) cannot be passed on:
  // the call to the master would fail before it is made, which reads as a master out of reach.
  const unsendable = Object.entries(forwardedHeaders(request.headers)).find(([, value]) => /[\0\r\n\u0100-\uffff]/.test(value));
  if (unsendable !== undefined) {
    throw new ValidationError(unsendable[0], 'the header holds a character HTTP cannot carry (past Latin-1, or a line break), so it cannot be passed on to the master; nothing was sent');
  }
  // Each bearer token the header holds, alone or among others: a cluster token in any of them would reach the master.
  const named = bearerNames(request.headers.authorization);
  const node = named.find((name) => options.clusterNodes?.includes(name));
  if (node !== undefined) throw new ClusterTokenError(`node ${node}`);
  const operator = named.find((name) => options.clusterOperators?.includes(name));
  if (operator !== undefined) throw new ClusterTokenError(`operator ${operator}`);
  // A browser keeps the Basic credentials it was asked for (the master's WWW-Authenticate is passed
  // on) and sends them with a form any site posts here. Browsers name an Origin on every write;
  // the clients of a REST API do not: a write that names one is refused before anything is sent.
  if (!BROWSABLE_METHODS.has(request.method.toUpperCase()) && request.headers.origin !== undefined) throw new BrowserWriteError();
  // On every path, read or write: the unreplicated ones reach the same master (doctype.ts); in
  // the charset its Content-Type names too, by which GeoServer decodes a style file.
  const prolog = xmlPrologProblem(request.body, mediaTypeOf(request), contentTypeCharset(request.headers['content-type']));
  if (prolog !== undefined) throw 'unscannable' in prolog ? new XmlEncodingError(prolog.unscannable) : new XmlDoctypeError(prolog.doctype);
  const classified = classifyRestPath(request.path);
  // A zipped style package's SLD is XML the master parses too (style-package.ts).
  if (request.body && classified.managed && classified.type === 'style' && mediaTypeOf(request) === 'application/zip') {
    const packaged = packagedDoctypeIn(request.body);
    if (packaged !== undefined) throw new XmlDoctypeError(packaged);
  }
  const method = request.method.toUpperCase();
  const ambiguous = classified.managed ? ambiguousManagedPathReason(request.path, isWriteMethod(method)) : undefined;
  if (ambiguous !== undefined) throw new UnsafePathError(ambiguous);
  const headers = forwardedHeaders(request.headers);
  const now = options.now ?? Date.now;
  /** What is left of the request's budget, less `reserve`; at least 1 ms so the call fails fast. */
  const remaining = (reserve = 0): number | undefined =>
    options.deadline === undefined ? undefined : Math.max(1, options.deadline - now() - reserve);
  // What a write reads back, and recovery reads: the master node's view, whoever the caller is.
  const read = readerFor({ send: (call) => options.readBack.send(call, remaining()) });
  const forward = (reserve = 0): Promise<UpstreamResponse> => upstream.send({ ...request, method, headers }, remaining(reserve));
  let recovered: GatewayResponse['recovered'];
  const refusal = options.refusal ? { refusal: options.refusal } : {};
  /**
   * How a write (an upload too) runs under the lease: its intent recorded with it when the
   * gateway has a recovery, kept when its changes did not reach the log or its capture was not
   * asked for (or the work threw), or the master answered it with a 5xx (`publishedAfterError`),
   * for the next holder to recover; the intents earlier holders left recovered first, reading
   * the master as the write reads it back (`readBack`).
   */
  const leased = (intent: Omit<WriteIntent, 'owner' | 'at'> | undefined): RunOptions<GatewayResponse> => {
    const recovery = options.recovery;
    if (!recovery || intent === undefined) return refusal;
    return {
      ...refusal,
      intent,
      finished: (result) => result.replication !== 'publish-failed' && !isServerError(result.status),
      recover: async (pending) => {
        const result = await recovery.recover(pending, read);
        recovered = {
          intents: result.owners.length,
          sequences: [...result.sequences],
          ...(result.refused.length > 0 ? { refused: describeRefused(result.refused) } : {}),
        };
        return result.owners;
      },
    };
  };
  const withRecovered = (answer: GatewayResponse): GatewayResponse => (recovered ? { ...answer, recovered } : answer);
  /** The master's refusal of the caller, asked before the lease is taken (./caller-check.ts). */
  const callerRefused = async (): Promise<GatewayResponse | undefined> => {
    const refused = await options.callers?.refusal(request, remaining());
    return refused ? { ...refused.answer, replication: 'refused', sequences: [], warning: refused.reason } : undefined;
  };

  if (!classified.managed) {
    const notReplicated = (answer: UpstreamResponse): GatewayResponse => ({
      ...answer,
      headers: { ...answer.headers, [REPLICATED_HEADER]: 'false' },
      replication: 'not-replicated',
      sequences: [],
      category: classified.category,
    });
    if (!isStoreUpload(classified, method)) return notReplicated(await forward());
    // An upload makes its store on the master under the path's names, which the capture then
    // publishes: one the cluster cannot hold would stay on the master alone.
    const ambiguousUpload = ambiguousManagedPathReason(request.path, false);
    if (ambiguousUpload !== undefined) throw new UnsafePathError(ambiguousUpload);
    const unnamed = uploadStoreNameProblem(classified);
    if (unnamed !== undefined) throw new UnreplicableWriteError(unnamed);
    const refusedCaller = await callerRefused();
    if (refusedCaller) return refusedCaller;
    // Forwarded under the cluster's write lease, as a write to a replicated path is, with the
    // resync hold read again under it (`refusal`): a resync takes its hold under the lease, so the
    // upload is either refused or wholly before the hold. Its capture is started (or joined)
    // before the lease is given back: a master's reconcile, whose fixes run under the lease, then
    // finds that capture waiting and leaves what the upload made for it to publish, rather than
    // removing it from the master as objects its store lacks (job-runner.ts, `reconcileStep`).
    // The forward shares the request's budget (./limits.ts), which ends before the lease does.
    // Its intent (the store, and the collection of the resources it makes) stays with the lease
    // when its capture is not asked for (the job store failed, or the writer died after the
    // forward): the next holder then publishes what the master made of it (recovery.ts).
    const answer = await (options.writes ?? UNSERIALIZED).run(
      async () => {
        const answer = await forward();
        // A 5xx does not say the master made nothing of the upload (`publishedAfterError`): the capture finds what it made.
        if (options.captureUpload && ((answer.status >= 200 && answer.status < 300) || isServerError(answer.status))) {
          return uploadCaptured(answer, classified, options.captureUpload);
        }
        return notReplicated(answer);
      },
      leased(options.recovery?.uploadIntentOf(classified, method)),
    );
    return withRecovered(answer);
  }
  if (!isWriteMethod(method)) {
    return { ...(await forward()), replication: 'read', sequences: [] };
  }
  // Refused before anything is forwarded: the master would apply what no other node could.
  if ((request.body?.length ?? 0) > MAX_REPLICATED_WRITE_BYTES) throw new ReplicatedWriteTooLargeError(request.body!.length);
  // A style's document travels as a JSON string in its properties, larger than as sent.
  if (request.body && isStyleFile(classified, request) && mediaTypeOf(request) !== 'application/zip') {
    const asJson = serializedBytes(request.body.toString('utf8'));
    if (asJson + STYLE_FIELDS_ALLOWANCE_BYTES > MAX_REPLICATED_WRITE_BYTES) throw new StyleDocumentTooLargeError(asJson);
  }
  const unreplicable = unreplicableWrite(classified, method, request);
  if (unreplicable !== undefined) throw new UnreplicableWriteError(unreplicable);
  // What GeoServer would refuse with a 500 that reads as its own failure: a namespace without its
  // URI, a style's info without its file name (catalog-required.ts).
  const required = requiredMemberProblem(classified, method, isRepresentation(request), (member) => bodyMember(request, member));
  if (required !== undefined) throw new ValidationError(required.member, required.problem);
  // A JSON null GeoServer stores as "" or false rather than ignoring (catalog-required.ts).
  const nulled = isRepresentation(request) && mediaTypeOf(request).includes('json') ? nullMemberProblem(classified, method, (member) => bodyMember(request, member)) : undefined;
  if (nulled !== undefined) throw new ValidationError(nulled.member, nulled.problem);
  if (classified.type === 'layerGroup' && isRepresentation(request)) {
    // A layer group's entries and styles, read alike from a JSON or an XML body (groupBodyMember).
    const groupMember = (member: string) => groupBodyMember(request, member);
    const groupEntries = layerGroupEntriesProblem(classified, method, groupMember);
    if (groupEntries !== undefined) throw new ValidationError(groupEntries.member, groupEntries.problem);
    const groupStyles = layerGroupStylesProblem(classified, method, groupMember);
    if (groupStyles !== undefined) throw new ValidationError('styles', groupStyles);
    const noStyles = layerGroupNoStylesProblem(classified, method, groupMember);
    if (noStyles !== undefined) throw new ValidationError('styles', noStyles);
    // A group's entries changed in number without their styles: GeoServer keeps the ones it holds.
    if (method === 'PUT' && options.catalog && classified.id !== undefined) {
      const held = (await options.catalog.get('layerGroup', classified.id))?.properties;
      const unstyled = layerGroupEntriesWithoutStylesProblem(classified, method, groupMember, held);
      if (unstyled !== undefined) throw new ValidationError('styles', unstyled);
    }
  }
  // A resource moved to another store the gateway cannot name, or renamed as it moves (resource-store.ts).
  const storeProblem = resourceStoreProblem(classified, method, bodyMember(request, 'store'));
  if (storeProblem !== undefined) throw new ValidationError('store', storeProblem);
  if (movedResourcePath(classified, method, bodyMember(request, 'store')) !== undefined && renamedTo(classified, request) !== undefined) {
    throw new ValidationError('store', `the body moves ${classified.type} ${JSON.stringify(classified.id)} to another store and renames it: move it and rename it in two writes`);
  }
  const intent = options.recovery?.intentOf(classified, method, request);
  const recovery = options.recovery;
  const afterError = recovery && intent ? (answer: UpstreamResponse) => publishedAfterError(answer, method, recovery, intent, read) : undefined;
  const refusedCaller = await callerRefused();
  if (refusedCaller) return refusedCaller;
  const answer = await (options.writes ?? UNSERIALIZED).run(
    () => write(read, () => forward(options.publishReserveMs ?? 0), publisher, classified, method, request, options, afterError),
    leased(intent),
  );
  return withRecovered(answer);
}

/** A write to a replicated path, under the cluster's write lease: forward, read back, publish. */
async function write(
  read: MasterReader,
  forward: () => Promise<UpstreamResponse>,
  publisher: ChangePublisher,
  classified: ManagedPath,
  method: string,
  request: GatewayRequest,
  lookups: Pick<GatewayOptions, 'styleUsers' | 'catalog'>,
  /** What a 5xx answer publishes (`publishedAfterError`); without it (no recovery), nothing. */
  afterError?: (answer: UpstreamResponse) => Promise<GatewayResponse>,
): Promise<GatewayResponse> {
  // What the object was, to tell a change from nothing. A master that will not show it (its answer
  // is not the object's representation) is left to decide on the write itself.
  // `/layers/{layer}/styles` is a list, not the object: the layer is read after the write.
  const before =
    method !== 'DELETE' && classified.id && !classified.layerStyles
      ? await read.object(classified, classified.path).catch((error: unknown) => {
          if (error instanceof UnreadableError) return undefined;
          throw error;
        })
      : undefined;
  // What GeoServer's namespace/workspace consistency may change along (namespace-link.ts); a
  // rename publishes what moved with it instead.
  const linked = method !== 'PUT' || !classified.id || renamedTo(classified, request) ? [] : await linkedBefore(read, classified, method).catch((error: unknown) => {
    if (error instanceof UnreadableError) return [];
    throw error;
  });
  const answer = await forward();
  if (afterError && isServerError(answer.status)) return afterError(answer);
  if (answer.status < 200 || answer.status >= 300) {
    return { ...answer, replication: 'refused', sequences: [] };
  }

  let changes: ConfigChange[];
  let warning: string | undefined;
  try {
    if (method === 'DELETE') ({ changes, warning } = await deletionOf(read, classified, request, answer, lookups));
    else changes = [...(await changesOf(read, classified, method, request, answer, before, lookups)), ...(await linkedChanges(read, linked))];
  } catch (error) {
    return publishFailure(answer, error);
  }
  const leftOut = unreplicatedPart(classified, request);
  const replicated = leftOut ? { [REPLICATED_HEADER]: 'partial' } : { [REPLICATED_HEADER]: 'true' };
  const partial = { ...(leftOut ? { notReplicated: leftOut } : {}), ...(warning ? { warning } : {}) };
  if (changes.length === 0) {
    return { ...answer, headers: { ...answer.headers, ...replicated }, replication: 'nothing-changed', sequences: [], ...partial };
  }
  const sequences: number[] = [];
  try {
    for (const change of changes) sequences.push(await publisher.publish(change));
  } catch (error) {
    return { ...publishFailure(answer, error), sequences };
  }
  return {
    ...answer,
    headers: { ...answer.headers, ...replicated, [SEQUENCE_HEADER]: sequences.join(',') },
    replication: 'published',
    sequences,
    ...partial,
  };
}

/**
 * What a write to a replicated path carries that no other node receives. A style uploaded as a
 * zip (styles.yaml: an SLD 1.0 document with its icon files) becomes the style, which is
 * published with its document, and files in the master's data directory (`styles/`), which are
 * resources: the cluster does not replicate those (rest-paths.ts).
 */
function unreplicatedPart(classified: ManagedPath, request: GatewayRequest): string | undefined {
  const mediaType = mediaTypeOf(request);
  if (classified.type === 'style' && mediaType === 'application/zip') {
    return "the zipped style package's icons and other files (data-directory resources, not replicated)";
  }
  return undefined;
}

/** A 5xx: the master failed the call, which says nothing of what it applied before it failed. */
function isServerError(status: number): boolean {
  return status >= 500 && status < 600;
}

/** The owner a write's own intent is recovered under when its answer was a 5xx (`publishedAfterError`); its intent in the lease keeps the lease's owner. */
const OWN_INTENT = 'this-write';

/**
 * A write the master answered with a 5xx. GeoServer's REST controllers change the catalog step
 * by step (a resource, then its layer; an object, then what it cascades to) and answer 500 for an
 * exception after some of them: the master may hold all, part or none of the write. So what it
 * holds of the write's objects is published as recovery publishes an unfinished write's
 * (recovery.ts: read back with the master node's credentials, against the master's store), and
 * the caller gets the master's answer, with `X-Cluster-Replicated: true` and the sequences when
 * something was published (logged as a warning), as a refusal when nothing was. A 5xx may also
 * come from something between the gateway and the master (a proxy's 502 or 504) while the
 * master still works on the write: the write's intent is kept (`leased`, `finished`), and the
 * next holder of the lease reads those objects again and publishes what landed since. A master
 * that cannot be read back, or a log that fails, is answered `X-Cluster-Replicated: failed`.
 */
async function publishedAfterError(
  answer: UpstreamResponse,
  method: string,
  recovery: GatewayRecovery,
  intent: Omit<WriteIntent, 'owner' | 'at'>,
  read: MasterReader,
): Promise<GatewayResponse> {
  let result: Awaited<ReturnType<GatewayRecovery['recover']>>;
  try {
    result = await recovery.recover([{ ...intent, owner: OWN_INTENT, at: new Date().toISOString() }], read);
  } catch (error) {
    return publishFailure(answer, error);
  }
  const refused = result.refused[0];
  if (refused !== undefined) return publishFailure(answer, new Error(`the master answered ${answer.status} to the ${method}, and holds a change the cluster refuses: ${refused.reason}`));
  if (result.sequences.length === 0) return { ...answer, replication: 'refused', sequences: [] };
  return {
    ...answer,
    headers: { ...answer.headers, [REPLICATED_HEADER]: 'true', [SEQUENCE_HEADER]: result.sequences.join(',') },
    replication: 'published',
    sequences: [...result.sequences],
    warning: `the master answered ${answer.status} to the ${method} but holds a change it made (read back): published`,
  };
}

function publishFailure(answer: UpstreamResponse, error: unknown): GatewayResponse {
  return {
    ...answer,
    headers: { ...answer.headers, [REPLICATED_HEADER]: 'failed' },
    replication: 'publish-failed',
    sequences: [],
    error: error instanceof Error ? error.message : String(error),
  };
}

/**
 * A `Location` the master answered, as the caller should follow it: GeoServer names the created
 * object on its own address (a private one in a deployment), and a client following that would
 * write to the master directly, past the gateway and so past the cluster. One under the master's
 * `<url>/rest` is rewritten to the same path under the gateway's; any other is left as it is.
 */
export function locationThroughGateway(location: string, masterUrl: string, gatewayRestUrl: string): string {
  const masterRest = `${masterUrl.replace(/\/+$/, '')}/rest`;
  return location === masterRest || location.startsWith(`${masterRest}/`) ? `${gatewayRestUrl}${location.slice(masterRest.length)}` : location;
}

/** The master answered a read of an object, but not with its representation. */
export class UnreadableError extends Error {}

/** 400: a write the cluster could not replicate, refused before it reaches the master. */
export class UnreplicableWriteError extends AppError {
  constructor(reason: string) {
    super(400, 'NOT_REPLICABLE', `The cluster cannot replicate this write, so it was not sent to the master: ${reason}`);
  }
}

/**
 * The names of every `Bearer <name>.<secret>` an Authorization header holds, alone or among other
 * credentials (a header sent twice arrives joined with a comma).
 */
function bearerNames(header: string | undefined): string[] {
  return [...(header ?? '').matchAll(/(?:^|[\s,])bearer\s+([^.\s,]+)\.[A-Za-z0-9_-]{20,}/gi)].map((match) => match[1] as string);
}

/**
 * A node's or operator's cluster token sent to the gateway, whose route passes credentials on to the master
 * GeoServer: refused before anything is forwarded, so that the secret never reaches the master
 * (its logs, a proxy in between). GeoServer takes its own users' credentials.
 */
export class ClusterTokenError extends AppError {
  /** @param holder whose token it is: `node <name>` or `operator <name>` */
  constructor(holder: string) {
    super(
      401,
      'CLUSTER_TOKEN',
      `The gateway passes the caller's credentials to the master GeoServer, which takes its own users' (HTTP Basic); this is ${holder}'s cluster token, which is never sent on: use a GeoServer user's credentials`,
    );
  }
}

/**
 * The methods the gateway forwards: those of GeoServer's REST reference (GET, HEAD, POST, PUT,
 * DELETE), and OPTIONS, which asks the master what a path takes and changes nothing. The
 * reference documents no PATCH (nor any other method): a GeoServer that took one could change
 * what the gateway never reads back and publishes, the master then differing from every other
 * node. So any other method is refused before anything is read or sent.
 */
export const GATEWAY_METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'DELETE'] as const;

/** 405 with `Allow`: a method the gateway does not forward (`GATEWAY_METHODS`); nothing was sent to the master. */
export function assertGatewayMethod(method: string): void {
  const upper = method.toUpperCase();
  if ((GATEWAY_METHODS as readonly string[]).includes(upper)) return;
  throw new MethodNotAllowedError(
    GATEWAY_METHODS,
    `${upper} is not a method of GeoServer's REST API, which documents ${GATEWAY_METHODS.filter((one) => one !== 'OPTIONS').join(', ')} only: ` +
      `the gateway forwards ${GATEWAY_METHODS.join(', ')}, and nothing was sent to the master. To change an object, PUT it`,
  );
}

/** Methods a browser may send through the gateway: reads, which change nothing. */
const BROWSABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export class BrowserWriteError extends AppError {
  constructor() {
    super(
      403,
      'BROWSER_WRITE',
      "The gateway takes no write from a browser (this request names an Origin): a browser sends the credentials it keeps with any site's form; write with a REST client",
    );
  }
}

/** 400: a path the master's servlet container would read as another (rest-paths.ts), refused before anything is sent. */
export class UnsafePathError extends AppError {
  constructor(reason: string) {
    super(400, 'INVALID_PATH', `The gateway does not forward this path, read differently by the master than by the cluster: ${reason}`);
  }
}

/**
 * Why a write to a replicated path could not be replicated, found before it is forwarded (the
 * master would apply it, and no other node would ever get it): a query parameter given twice
 * (the gateway and GeoServer could read different values, e.g. of `recurse`), a DELETE of
 * settings (which the cluster only ever modifies), or an object the
 * cluster's ids cannot name (objects.ts): the one in the path (`/layers/roads`, which GeoServer
 * finds in whichever workspace holds it, while the cluster names layers `workspace:name`), or
 * the one a JSON or XML body or `?name=` creates or renames it to.
 */
function unreplicableWrite(classified: ManagedPath, method: string, request: GatewayRequest): string | undefined {
  const keys = [...new URLSearchParams(request.query).keys()];
  const repeated = keys.find((key, index) => keys.indexOf(key) !== index);
  if (repeated !== undefined) return `the query parameter ${repeated} is given more than once`;
  const recurse = new URLSearchParams(request.query).get('recurse');
  if (restBoolean(recurse) === undefined) {
    return `the query parameter recurse is ${JSON.stringify(recurse)}, which GeoServer reads as neither true nor false (true, on, yes, 1; false, off, no, 0)`;
  }
  const encoding = textEncodingProblem(classified, request);
  if (encoding !== undefined) return encoding;
  const unread = unreadableRepresentation(method, request);
  if (unread !== undefined) return unread;
  const lone = loneSurrogateIn(request);
  if (lone !== undefined) return lone;
  const nested = nestedRepresentation(method, request);
  if (nested !== undefined) return nested;
  const twice = repeatedJsonMember(request);
  if (twice !== undefined) return `the body names the member ${JSON.stringify(twice)} twice in one object`;
  const problem = (type: ObjectType, id: string, named = '') => {
    const why = objectRefProblem({ type, id });
    return why === undefined ? undefined : `${type} ${JSON.stringify(id)}${named}: ${why}`;
  };
  const alias = defaultWorkspaceAlias(classified);
  if (alias !== undefined) return alias;
  if (classified.id !== undefined) {
    const inPath = problem(classified.type, classified.id);
    // `/layers/roads`: GeoServer finds it in any workspace; say how to name it as the cluster does.
    if (inPath !== undefined && classified.type === 'layer' && !classified.id.includes(':')) {
      return `${inPath}; name it with its workspace: /layers/<workspace>:${classified.id}`;
    }
    if (inPath !== undefined) return inPath;
  }
  // GeoServer drops a workspace's own (service) settings on DELETE; every other node holds them
  // as configuration that always exists (objects.ts), which the cluster only ever modifies.
  if (method === 'DELETE' && isConfigurationType(classified.type)) {
    return `a DELETE of ${classified.type} ${JSON.stringify(classified.id)}: the cluster holds settings as configuration every node always has, and only ever modifies it; PUT the values to change instead`;
  }
  const moved = workspaceMoveProblem(classified, method, request);
  if (moved !== undefined) return moved;
  const creates = method === 'POST' && classified.id === undefined;
  // workspaces.yaml: POST /workspaces?default=true also makes it the catalog's default workspace,
  // a setting of the master's catalog that no event carries.
  const makeDefault = new URLSearchParams(request.query).get('default');
  if (creates && classified.type === 'workspace' && restBoolean(makeDefault) !== false) {
    return `the query parameter default is ${JSON.stringify(makeDefault)}: which workspace is the default is not replicated, so only the master would change it; create the workspace without it`;
  }
  // LayerGroupController and StyleController set the path's workspace on what a POST creates only
  // when the path names one: POSTed to /layergroups or /styles, a representation naming a
  // workspace is created in it, while the gateway reads back and publishes a global object.
  if (creates && classified.workspace === undefined && (classified.type === 'layerGroup' || classified.type === 'style') && isRepresentation(request)) {
    const workspace = bodyMember(request, 'workspace');
    if (workspace.present && workspace.value !== null) {
      const collection = classified.path.split('/').filter(Boolean)[0];
      return `the body names a workspace for the ${classified.type} POSTed to /${collection}, the collection of global ones: GeoServer creates it in that workspace, where the cluster would read and publish a global one; POST it to /workspaces/<workspace>/${collection}, or leave the workspace out`;
    }
  }
  if (creates && isStyleFile(classified, request) && styleNameParameter(request) === undefined) {
    return 'a style file or package POSTed without ?name=: GeoServer would name the style from inside it, which the gateway does not read; name the style with ?name=';
  }
  const readsName = creates ? !isStyleFile(classified, request) : method === 'PUT' && classified.id !== undefined && RENAMABLE_TYPES.includes(classified.type);
  const field = creates ? createdNameField(classified, request) : 'name';
  const unreadable = readsName ? (jsonNameNotString(request, field) ?? xmlNameWithElements(request, field)) : undefined;
  if (unreadable !== undefined) return unreadable;
  const name = creates ? createdName(classified, request) : method === 'PUT' && classified.id !== undefined ? renamedTo(classified, request) : undefined;
  if (name === undefined) return undefined;
  const named = field === 'nativeName' ? ', named by its nativeName (GeoServer names a resource POSTed without a name after it)' : '';
  // GeoServer keeps a ":" in a global style's or layer group's name, while the cluster's id
  // `topp:x` is workspace topp's x: the other nodes would make that instead.
  if ((classified.type === 'style' || classified.type === 'layerGroup') && classified.workspace === undefined && name.includes(':')) {
    return `a global ${classified.type} named ${JSON.stringify(name)}: GeoServer keeps the ":" in the name, while the cluster reads ${JSON.stringify(name)} as ${name.slice(name.indexOf(':') + 1)} of workspace ${name.slice(0, name.indexOf(':'))}; name it without ":", or create it under /workspaces/{workspace}`;
  }
  const member = memberPath(classified.id === undefined ? classified.path : classified.path.slice(0, classified.path.lastIndexOf('/')), name);
  if (!member.managed || member.id === undefined) return `${classified.type} ${JSON.stringify(name)}${named} cannot be named in a REST path`;
  const refused = problem(member.type, member.id, named);
  if (refused !== undefined) return refused;
  // A name the cluster's ids carry but no path the gateway forwards can hold (a "\", refused
  // encoded): the object would stay on every node, never to be changed or removed through it.
  const unaddressable = unsafePathReason(encodeURIComponent(name));
  return unaddressable === undefined
    ? undefined
    : `${classified.type} ${JSON.stringify(name)}${named} could not be addressed again: its path would hold ${unaddressable}, which the gateway does not forward, so the object could never be changed or removed through it`;
}

/**
 * A body naming a workspace other than the path's (any, for the global service settings), or
 * none (JSON null), for what GeoServer copies a PUT's body onto, workspace included
 * (OwsUtils.copy): service settings (ServiceSettingsController sets no workspace back), stores
 * (CatalogBuilder.updateDataStore and its kin), and a resource's namespace (updateFeatureType and
 * its kin; the namespace is its workspace's). The master moves them to that workspace (or makes
 * the global settings a workspace's; a resource becomes `other:name`), while the gateway reads
 * back, and publishes, the path's. The path's own workspace, as a read of them answers it,
 * changes nothing.
 */
function workspaceMoveProblem(classified: ManagedPath, method: string, request: GatewayRequest): string | undefined {
  const resource = isResourceType(classified.type);
  if (classified.type !== 'service' && !isStoreType(classified.type) && !(resource && method === 'PUT')) return undefined;
  if ((method !== 'PUT' && method !== 'POST') || !isRepresentation(request)) return undefined;
  const member = resource ? 'namespace' : 'workspace';
  const given = bodyMember(request, member);
  if (!given.present) return undefined;
  const value = given.value as JsonValue | undefined;
  // An element in the <name> would have GeoServer read only the text before it (xmlNameWithElements).
  const nameElement = given.element?.children.find((child) => child.qualifiedName === 'name');
  const named = given.element
    ? nameElement?.children.length === 0 ? nameElement.text : undefined
    : isJsonObject(value) && typeof value.name === 'string'
      ? value.name
      : undefined;
  if (classified.workspace !== undefined && named === classified.workspace) return undefined;
  const what =
    classified.type !== 'service'
      ? `${classified.type}${classified.id === undefined ? '' : ` ${JSON.stringify(classified.id)}`}`
      : classified.workspace === undefined
        ? `the global ${classified.id} settings`
        : `the ${classified.id} settings of workspace ${JSON.stringify(classified.workspace)}`;
  const shown = (JSON.stringify(named ?? value ?? null) ?? 'null').slice(0, 80);
  return `the body gives ${what} the ${member} ${shown}, not the path's: GeoServer copies it on, moving it there, while the cluster reads back and publishes the path's; leave ${member} out of the body, or name the path's`;
}

/**
 * A path under the workspace (or namespace prefix) `default`: GeoServer reads it as the catalog's
 * default workspace of the moment (CatalogImpl.getWorkspaceByName and getNamespaceByPrefix map
 * `default` to it), while the cluster would publish the change as one to an object of the
 * workspace `default`, which no GeoServer can hold: the change would reach no node as the
 * master applied it.
 */
function defaultWorkspaceAlias(classified: ManagedPath): string | undefined {
  const { type, id } = classified;
  const named = type === 'workspace' || type === 'namespace' || type === 'workspaceSettings' ? id : undefined;
  const workspace = classified.workspace ?? named ?? (id === undefined ? undefined : splitObjectId(id).workspace);
  if (workspace !== 'default') return undefined;
  return `the path names the workspace "default", GeoServer's alias for whichever workspace is its default, which the cluster cannot tell apart from a workspace of that name; name the workspace itself`;
}

/**
 * Why a text body would be read as other text by the master than by the cluster: the gateway
 * checks its names, and reads a style's document back, as UTF-8 (the events carry text), while
 * GeoServer's XML reader decodes a document in the encoding its declaration names. A body that
 * is not UTF-8, or XML declaring another encoding and holding anything but ASCII (which reads
 * the same in all of them), could name on the master what the check never saw, or reach the
 * other nodes as other characters than the master stored. A zipped package is not text, but
 * its SLD is (`packagedEncodingProblem`).
 */
function textEncodingProblem(classified: ManagedPath, request: GatewayRequest): string | undefined {
  const body = request.body;
  if (!body || body.length === 0) return undefined;
  if (mediaTypeOf(request) === 'application/zip') return classified.type === 'style' ? packagedEncodingProblem(body) : undefined;
  const isXml = mediaTypeOf(request).includes('xml');
  // An XML body re-encoded as UTF-8 but still declaring its old encoding would be refused next (below): say both at once.
  if (!isUtf8(body)) return `the body is not UTF-8: the cluster reads and replicates text as UTF-8; send it in UTF-8${isXml ? ', with no other encoding declared in <?xml ...?>' : ''}`;
  if (!isXml || body.every((byte) => byte < 0x80)) return undefined;
  const declared = /^(?:\uFEFF)?<\?xml\s[^>]*?\bencoding\s*=\s*["']([^"']*)["']/.exec(body.toString('utf8'))?.[1];
  if (declared === undefined || /^utf-?8$/i.test(declared)) return undefined;
  return `the body declares the encoding ${JSON.stringify(declared)}, in which the master would read other characters than the cluster reads in UTF-8; send it in UTF-8, declared so`;
}

/**
 * Why a POSTed or PUT representation the gateway cannot read is not forwarded: GeoServer's
 * readers take more than JSON and XML. Jettison (its JSON reader) takes single-quoted strings,
 * bare words and comments, and stops after the first object; XStream stops reading XML at the end
 * of the root element. The master could so create or rename what the checks before forwarding
 * never saw, which no other node would follow. An XML body past REPRESENTATION_LIMITS is one too.
 */
function unreadableRepresentation(method: string, request: GatewayRequest): string | undefined {
  const body = request.body;
  if ((method !== 'POST' && method !== 'PUT') || !body || body.length === 0 || !isRepresentation(request)) return undefined;
  if (mediaTypeOf(request).includes('json')) {
    if (parsedJson(body) !== undefined) return undefined;
    let reason = '';
    try {
      JSON.parse(body.toString('utf8'));
    } catch (error) {
      reason = (error as Error).message;
    }
    return `the body is not JSON the gateway can read (${reason}), while GeoServer's JSON reader takes more (single quotes, bare words, text after the object), so the master could apply what the cluster never checked; send it as JSON`;
  }
  if (parsedXml(body) !== undefined) return undefined;
  let reason = '';
  try {
    readXmlDocument(body.toString('utf8'), REPRESENTATION_LIMITS);
  } catch (error) {
    reason = (error as Error).message;
  }
  return `the body is not XML the gateway can read (${reason}), while GeoServer's XML reader takes more (it stops at the end of the root element), so the master could apply what the cluster never checked; send one well-formed XML document`;
}

/**
 * A JSON representation holding a lone UTF-16 surrogate in a string or member name (an escape
 * such as `"\\ud800"` without its pair, in a body that is UTF-8 all the same): not Unicode text
 * (RFC 7493, which POST /config/events refuses too, shared/i-json.ts), so no UTF-8 the cluster
 * carries text in can hold it, and a name holding one cannot be put in a path at all. A style
 * file (an MBStyle's JSON) is kept as the text sent, escapes and all: not read.
 */
function loneSurrogateIn(request: GatewayRequest): string | undefined {
  const parsed = jsonRepresentation(request);
  const lone = parsed === undefined ? undefined : loneSurrogateAt(parsed.text, parsed.value);
  return lone === undefined
    ? undefined
    : `the body holds a lone UTF-16 surrogate${atMember(lone)} (a \\uD800-\\uDFFF escape that is not half of a pair), which is not Unicode text and no UTF-8 the cluster carries text in can hold; send the character whole (a surrogate pair) or not at all`;
}

/**
 * A JSON representation nested deeper than any object the cluster carries (MAX_PROPERTIES_DEPTH
 * levels, inside its wrapper): the master would apply it, and no event could carry what it then
 * holds (events.ts refuses it), so the master would differ from every other node. An XML one is
 * bounded alike where it is read (REPRESENTATION_LIMITS).
 */
function nestedRepresentation(method: string, request: GatewayRequest): string | undefined {
  if (method !== 'POST' && method !== 'PUT') return undefined;
  const parsed = jsonRepresentation(request);
  const limit = MAX_PROPERTIES_DEPTH + 1;
  if (parsed === undefined || jsonDepth(parsed.value, limit) <= limit) return undefined;
  return `the body is nested deeper than ${limit} levels (an object's ${MAX_PROPERTIES_DEPTH}, inside its wrapper), deeper than any object the cluster carries, so no other node could take what the master would hold`;
}

/**
 * A zipped style package's SLD that is not UTF-8: the master keeps the file's bytes as they are
 * (StyleController's package upload writes it raw), while the style's document reaches the other
 * nodes as the UTF-8 text read back from the master, in which such bytes are lost. Only the
 * package's style document is replicated; its icons are files no event carries.
 */
function packagedEncodingProblem(zip: Buffer): string | undefined {
  let documents: PackagedDocument[];
  try {
    documents = sldDocumentsOf(zip);
  } catch {
    return undefined; // refused before this, or the master's to refuse (style-package.ts)
  }
  const other = documents.find((document) => !isUtf8(document.data));
  if (other === undefined) return undefined;
  return `the package's ${JSON.stringify(other.name)} is not UTF-8: the master keeps its bytes as they are, while the other nodes receive the style's document as UTF-8 text; save it in UTF-8, with no other encoding declared in <?xml ...?>`;
}

/**
 * A member name a JSON body repeats within one object (`{"workspace": {"name": "a", "name": "b c"}}`):
 * which one the master's JSON reader takes is its own affair, so the gateway could check one
 * name and the master create another. A body that does not parse is refused before this (unreadableRepresentation).
 */
function repeatedJsonMember(request: GatewayRequest): string | undefined {
  if (!request.body || request.body.length === 0 || !mediaTypeOf(request).includes('json')) return undefined;
  const parsed = parsedJson(request.body);
  return parsed && duplicateMemberName(parsed.text, parsed.value);
}

/** A JSON representation's text and value (not a style file's JSON, kept as sent); undefined for anything else. */
function jsonRepresentation(request: GatewayRequest): { readonly text: string; readonly value: JsonValue } | undefined {
  if (!request.body || request.body.length === 0 || !isRepresentation(request) || !mediaTypeOf(request).includes('json')) return undefined;
  return parsedJson(request.body);
}

/** Each body parsed as JSON once (null: it does not parse), for the checks, the names and the intent. */
const parsedBodies = new WeakMap<Buffer, { readonly text: string; readonly value: JsonValue } | null>();

/** A body's text and its JSON value, parsed on first use; undefined when it is not JSON. */
function parsedJson(body: Buffer): { readonly text: string; readonly value: JsonValue } | undefined {
  let parsed = parsedBodies.get(body);
  if (parsed === undefined) {
    const text = body.toString('utf8');
    try {
      parsed = { text, value: JSON.parse(text) as JsonValue };
    } catch {
      parsed = null;
    }
    parsedBodies.set(body, parsed);
  }
  return parsed ?? undefined;
}

/**
 * The name a POST to a collection gives the object it creates, when its body or `?name=` states
 * it. GeoServer reads `?name=` only for a style file or zipped package (styles.yaml: "Used only
 * when POSTing a style file or ZIP bundle"); a representation is named by its body alone.
 */
function createdName(target: ManagedPath, request: GatewayRequest): string | undefined {
  if (isStyleFile(target, request)) return styleNameParameter(request);
  return bodyName(request, createdNameField(target, request));
}

/** The member of a representation GeoServer names a created object after. */
type NameField = 'name' | 'prefix' | 'nativeName';

/**
 * Which member of a POSTed representation names the object: a namespace's `prefix`; for a
 * resource (feature type, coverage, WMS or WMTS layer) whose body has no `name`, its
 * `nativeName` (CatalogBuilder.initResourceInfo, run by each of their POSTs, sets the name from
 * it); else `name`. A `name` that is there but empty or null is the master's to refuse.
 */
function createdNameField(target: ManagedPath, request: GatewayRequest): NameField {
  if (target.type === 'namespace') return 'prefix';
  return isResourceType(target.type) && !bodyMember(request, 'name').present ? 'nativeName' : 'name';
}

/** `?name=`, unless absent or empty. */
export function styleNameParameter(request: GatewayRequest): string | undefined {
  const name = new URLSearchParams(request.query).get('name');
  return name === null || name === '' ? undefined : name;
}

/**
 * The media types of GeoServer's representations (an object in its wrapper), which its REST
 * controllers read as the object; any other body of a style write is a style file (SLD, SE,
 * CSS, YSLD, MBStyle) or a zipped package.
 */
const REPRESENTATION_MEDIA_TYPES = new Set(['application/json', 'text/json', 'application/xml', 'text/xml']);

export function isRepresentation(request: GatewayRequest): boolean {
  return REPRESENTATION_MEDIA_TYPES.has(mediaTypeOf(request));
}

/** A write of a style's file or zipped package rather than of its representation. */
export function isStyleFile(target: ManagedPath, request: GatewayRequest): boolean {
  return target.type === 'style' && !isRepresentation(request);
}

/**
 * A JSON body's name (or prefix) that is there but not a string: GeoServer's JSON reader
 * (Jettison, under XStream) takes the text inside an object (`{"$": "a b"}`) or the entries of a
 * list as the element's text, so the master would create a name the check never saw.
 */
function jsonNameNotString(request: GatewayRequest, field: NameField): string | undefined {
  if (!request.body || request.body.length === 0 || !isRepresentation(request) || !mediaTypeOf(request).includes('json')) return undefined;
  const value = jsonBodyObject(request.body)?.[field];
  if (value === undefined || typeof value === 'string') return undefined;
  const shown = JSON.stringify(value);
  return `the body's ${field} is not a JSON string (${shown.length > 80 ? `${shown.slice(0, 80)}...` : shown}): GeoServer's JSON reader would take the text inside it, which the cluster does not check`;
}

/**
 * An XML body's name (or prefix) element holding elements (`<name>to<x/>pp</name>`): GeoServer's
 * XML reader (XStream's pull reader) takes the text before the first of them ("to"), the check
 * the element's own text ("topp"), so the master could create or rename to a name the check
 * never saw.
 */
function xmlNameWithElements(request: GatewayRequest, field: NameField): string | undefined {
  if (!request.body || request.body.length === 0 || !isRepresentation(request) || mediaTypeOf(request).includes('json')) return undefined;
  const element = bodyMember(request, field).element;
  if (element === undefined || element.children.length === 0) return undefined;
  return `the body's <${field}> holds elements (<${element.children[0]!.qualifiedName}>): GeoServer's XML reader takes only the text before the first of them, which the cluster does not check; give the ${field} as text alone`;
}

/**
 * Bounds for reading a GeoServer XML representation's name before forwarding it: the body is
 * already bounded in bytes (MAX_REPLICATED_WRITE_BYTES); the largest objects (a layer group of
 * thousands of layers, a store's connection parameters) stay far below these.
 */
const REPRESENTATION_LIMITS: XmlReadLimits = {
  maxChars: MAX_REPLICATED_WRITE_BYTES,
  maxElements: 100_000,
  maxDepth: 64,
  maxAttributesPerElement: 64,
  maxNamespaceDeclarations: 64,
};

/**
 * The name (or namespace prefix, or native name) a JSON or XML representation in the body states
 * (`{"dataStore": {"name": ...}}`, `<dataStore><name>...</name>`), or undefined: no such body,
 * no name, or a body that does not parse (a POST or PUT of one is refused, unreadableRepresentation).
 */
function bodyName(request: GatewayRequest, field: NameField): string | undefined {
  const { value } = bodyMember(request, field);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Whether a JSON or XML representation in the body has the member `field` (in JSON, even null),
 * and its value (an XML element's text, and the element). Neither for a body that is no representation (a style
 * file: an MBStyle's JSON, an SLD, is a document) or does not parse.
 */
export function bodyMember(request: GatewayRequest, field: string): { readonly present: boolean; readonly value?: unknown; readonly element?: ParsedElement } {
  if (!request.body || request.body.length === 0 || !isRepresentation(request)) return { present: false };
  if (mediaTypeOf(request).includes('json')) {
    const inner = jsonBodyObject(request.body);
    return inner !== undefined && Object.hasOwn(inner, field) ? { present: true, value: inner[field] } : { present: false };
  }
  // By the tag as written: GeoServer's XML reader (XStream's XPP driver) is namespace-unaware,
  // so <name> is the name under any default namespace, and <x:name> is not.
  const element = parsedXml(request.body)?.children.find((child) => child.qualifiedName === field);
  return element === undefined ? { present: false } : { present: true, value: element.text, element };
}

/**
 * A layer group body's `publishables` or `styles` as a JSON body states them, from a JSON or an XML
 * body alike, so the gateway's checks of a group's entries and styles read both forms one way. In
 * XML each `<published>` (`<style>`) child is one item, as GeoServer's XML reader adds one entry per
 * element (XStreamPersister's ReferenceCollectionConverter): an element with children is given as
 * an object of their text (`<name>`, `<id>`) with its `type` attribute as `@type`, one without as
 * its text, which GeoServer reads as the name (`{"@type": ..., "name": text}` when it has a type).
 * Other members, and JSON bodies, as bodyMember gives them.
 */
export function groupBodyMember(request: GatewayRequest, field: string): { readonly present: boolean; readonly value?: unknown } {
  const member = bodyMember(request, field);
  if (!member.present || member.element === undefined || (field !== 'publishables' && field !== 'styles')) return member;
  const item = field === 'publishables' ? 'published' : 'style';
  return { present: true, value: { [item]: member.element.children.filter((child) => child.qualifiedName === item).map(xmlReference) } };
}

/** One `<published>` or `<style>` element as its JSON form (groupBodyMember). */
function xmlReference(element: ParsedElement): JsonValue {
  const type = element.attributes.get('type');
  const typed: JsonObject = type === undefined ? {} : { '@type': type };
  if (element.children.length === 0) return type === undefined ? element.text : { ...typed, name: element.text };
  return { ...typed, ...Object.fromEntries(element.children.map((child) => [child.qualifiedName, child.text])) };
}

/** Each XML body parsed once (null: it does not parse, or is past a limit). */
const parsedXmlBodies = new WeakMap<Buffer, ParsedElement | null>();

/** An XML body's root element, parsed on first use within REPRESENTATION_LIMITS; undefined when it does not parse. */
function parsedXml(body: Buffer): ParsedElement | undefined {
  let root = parsedXmlBodies.get(body);
  if (root === undefined) {
    try {
      root = readXmlDocument(body.toString('utf8'), REPRESENTATION_LIMITS);
    } catch (error) {
      if (!(error instanceof XmlReadError)) throw error;
      root = null;
    }
    parsedXmlBodies.set(body, root);
  }
  return root ?? undefined;
}

export type MasterReader = ReturnType<typeof readerFor>;

/**
 * The master's JSON representation of what a path addresses, or undefined when it has none, read
 * through `upstream`, which gives each call its credentials (the master node's own, `readBack`).
 */
export function readerFor(upstream: Upstream) {
  const get = (path: string, accept: string) => upstream.send({ method: 'GET', path, query: '', headers: { accept } });
  return {
    async object(target: { type: ObjectType }, path: string): Promise<JsonObject | undefined> {
      const answer = await get(`${path}.json`, 'application/json');
      if (answer.status === 404) return undefined;
      if (answer.status !== 200) throw new UnreadableError(`reading ${path} back from the master answered ${answer.status}`);
      let parsed: JsonValue;
      try {
        parsed = JSON.parse(answer.body.toString('utf8')) as JsonValue;
      } catch {
        throw new UnreadableError(`the master's ${path} is not JSON`);
      }
      if (!isJsonObject(parsed)) throw new UnreadableError(`the master's ${path} is not a JSON object`);
      const inner = Object.values(parsed)[0];
      if (!isJsonObject(inner)) throw new UnreadableError(`the master's ${path} has no ${target.type} inside its wrapper`);
      if (target.type !== 'style') return inner;
      return { ...inner, ...(await styleDocument(get, path, inner)) };
    },
    /** The names a collection lists (`{"workspaces": {"workspace": [{"name": ...}]}}`, or `""` when empty). */
    async names(path: string): Promise<string[]> {
      const answer = await get(`${path}.json`, 'application/json');
      if (answer.status === 404) return [];
      if (answer.status !== 200) throw new UnreadableError(`listing ${path} on the master answered ${answer.status}`);
      let parsed: JsonValue;
      try {
        parsed = JSON.parse(answer.body.toString('utf8')) as JsonValue;
      } catch {
        throw new UnreadableError(`the master's listing of ${path} is not JSON`);
      }
      const outer = isJsonObject(parsed) ? Object.values(parsed)[0] : undefined;
      const inner = isJsonObject(outer) ? Object.values(outer)[0] : undefined;
      const items = Array.isArray(inner) ? inner : inner === undefined ? [] : [inner];
      return items.flatMap((item) => (isJsonObject(item) && typeof item.name === 'string' ? [item.name] : []));
    },
  };
}

/**
 * A style's properties carry its document (`body`). It is read in its own format, chosen by the
 * `Accept` header (styles.yaml: the media type of SLD 1.0, SE 1.1, CSS, YSLD or MBStyle): the
 * `.sld` extension would give an SE 1.1 style converted to SLD 1.0, and nothing for the others.
 */
async function styleDocument(
  get: (path: string, accept: string) => Promise<UpstreamResponse>,
  path: string,
  info: JsonObject,
): Promise<JsonObject> {
  // A name with a dot in it needs an extension to be read as itself (rest-mapping.ts, `addressed`).
  const answer = await get(addressed(path, styleExtension(info)), styleContentType(info));
  // No document yet (the first step of a two-step upload): GeoServer streams the file the info
  // names, which its resource store creates empty when it is missing, so it answers 200 with
  // nothing (drift.ts, `styleDocument`); other GeoServers, or a lost info, answer otherwise.
  if (answer.status !== 200 || answer.body.length === 0) return {};
  return { format: styleFormat(info), body: answer.body.toString('utf8') };
}

/**
 * The created object's name as the `Location` of a POST's answer gives it: its last path segment,
 * decoded. GeoServer answers a feature type's POST with an empty body (FeatureTypeController), so
 * the Location (percent-encoded, a name outside ASCII included) is all that names it there.
 */
function nameInLocation(location: string | undefined): string | undefined {
  if (location === undefined) return undefined;
  let path: string;
  try {
    path = new URL(location, 'http://geoserver.invalid').pathname;
  } catch {
    return undefined;
  }
  const segment = path.slice(path.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(segment) || undefined;
  } catch {
    return undefined;
  }
}

/** What a POST or PUT the master applied changed, read back from the master: the changes to publish, in order. */
async function changesOf(
  read: ReturnType<typeof readerFor>,
  target: ManagedPath,
  method: string,
  request: GatewayRequest,
  answer: UpstreamResponse,
  before: JsonObject | undefined,
  { styleUsers, catalog }: Pick<GatewayOptions, 'styleUsers' | 'catalog'> = {},
): Promise<ConfigChange[]> {
  if (target.layerStyles) {
    const layer = await read.object({ type: 'layer' }, `/layers/${encodeURIComponent(target.id!)}`);
    return layer ? [add('layer', target.id!, layer)] : [];
  }
  if (method === 'POST' && !target.id) {
    const name = answer.body.toString('utf8').trim() || nameInLocation(answer.headers.location);
    if (!name) throw new Error('the master answered the POST without the created name, in its body or its Location');
    const created = memberPath(target.path, name);
    if (!created.managed || !created.id) throw new Error(`cannot tell what ${target.path}/${name} is`);
    const properties = await read.object(created, created.path);
    if (!properties) throw new Error(`the master has no ${created.path} after creating it`);
    if (created.type === 'style' && properties.body === undefined) return []; // published with its document
    const changes: ConfigChange[] = [add(created.type, created.id, properties)];
    if (created.type === 'namespace') {
      // NamespaceController.namespacePost creates the workspace of that name too, which the
      // namespace lives in: published first, as a workspace and its namespace are.
      const linked = linkedPath('namespace', name)!;
      const workspace = await read.object(linked, linked.path);
      if (workspace) changes.unshift(add('workspace', name, workspace));
    }
    if (created.type === 'workspace') {
      const namespace = await read.object({ type: 'namespace' }, `/namespaces/${encodeURIComponent(name)}`);
      if (namespace) changes.push(add('namespace', name, namespace));
    }
    if (isResourceType(created.type)) {
      const layerId = created.id;
      const layer = await read.object({ type: 'layer' }, `/layers/${encodeURIComponent(layerId)}`);
      if (layer) changes.push(add('layer', layerId, layer));
    }
    return changes;
  }
  // PUT (or POST to an item path GeoServer accepts, such as workspace settings)
  if (!target.id) return [];
  const renamed = renamedTo(target, request);
  if (renamed) {
    const moved = memberPath(target.path.slice(0, target.path.lastIndexOf('/')), renamed);
    if (!moved.managed || !moved.id) throw new Error(`cannot tell what ${target.path} was renamed to`);
    const after = await read.object(moved, moved.path);
    if (!after) throw new Error(`the master has no ${moved.path} after the rename`);
    if (target.type === 'style') return styleRenamed(read, target.id, moved.id, after, styleUsers);
    if (catalog && (target.type === 'workspace' || isStoreType(target.type))) {
      return parentRenamed(read, catalog, { type: target.type, from: target.id, to: moved.id }, after);
    }
    if (target.type === 'layerGroup') {
      // GeoServer's layer group PUT refuses another name (403, LayerGroupController.layerGroupPut):
      // no GeoServer known answers such a PUT with success. Should a master take one all the same,
      // the new group first, then the groups that held the old one naming the new one (as the
      // master's now do), then the old one's removal, which by then no group names on any node.
      return [
        add(moved.type, moved.id, after),
        ...(catalog ? await groupsOfRenamedGroup(catalog, target.id, read.object) : []),
        { kind: 'remove', object: { type: target.type, id: target.id }, recurse: false } as ConfigChange,
      ];
    }
    const isResource = isResourceType(target.type);
    const changes: ConfigChange[] = [add(moved.type, moved.id, after)];
    if (isResource) {
      // A resource's layer takes its name: the new one comes with the new resource, and the groups
      // holding the old one (as an entry or as their root layer) name it as the master's now do,
      // before the old resource goes with its layer (recurse). A GeoServer refuses to remove a
      // layer that is a group's root layer, even with recurse (its cascade clears only entries).
      const layer = await read.object({ type: 'layer' }, `/layers/${encodeURIComponent(moved.id)}`);
      if (layer) changes.push(add('layer', moved.id, layer));
      if (catalog) changes.push(...(await groupsOfRenamedLayer(catalog, target.id, read.object)));
    }
    changes.push({ kind: 'remove', object: { type: target.type, id: target.id }, recurse: isResource } as ConfigChange);
    return changes;
  }
  // A resource moved to another store is served under that store's path (resource-store.ts);
  // should the master have kept it where it was, the old path serves it.
  const moved = movedResourcePath(target, method, bodyMember(request, 'store'));
  const after = (moved === undefined ? undefined : await read.object(target, moved)) ?? (await read.object(target, target.path));
  if (!after) throw new Error(`the master has no ${moved ?? target.path} after the write`);
  // What the other nodes hold (the master's store): the master's GeoServer may have lost a
  // property outside the gateway, which the modify must take from them too.
  const held = catalog ? (await catalog.get(target.type, target.id))?.properties : undefined;
  const unchanged = (base: JsonObject | undefined) => base === undefined || Object.keys(mergePatchBetween(base, after)).length === 0;
  const modify = () =>
    [{ kind: 'modify', object: { type: target.type, id: target.id }, patch: wholeStatePatch(keysOfBoth(before ?? {}, held ?? {}), after) } as ConfigChange];
  if (isConfigurationType(target.type)) {
    // Settings always exist on every node: only ever modified, with the whole of them.
    if (before && unchanged(before) && unchanged(held)) return [];
    return modify();
  }
  if (!before) {
    if (target.type === 'style' && after.body === undefined) return [];
    return [add(target.type, target.id, after)];
  }
  if (target.type === 'style' && before.body === undefined && after.body !== undefined) {
    return [add(target.type, target.id, after)]; // second step of a two-step upload: the first published nothing
  }
  if (unchanged(before) && unchanged(held)) return [];
  return modify();
}

/**
 * A DELETE the master answered with success, read back like every other write: the removal is
 * published once the master no longer holds the object. A master that still holds it (its
 * answer said otherwise) removed nothing the cluster may remove: no removal is published, and
 * the answer carries a `warning` to log. With `recurse`, what GeoServer's cascade changed around
 * the object goes first (cascade.ts: each group read back, published only where the master's
 * changed), held or not; a removed layer's resource after the removal.
 */
async function deletionOf(
  read: MasterReader,
  target: ManagedPath,
  request: GatewayRequest,
  answer: UpstreamResponse,
  { styleUsers, catalog }: Pick<GatewayOptions, 'styleUsers' | 'catalog'>,
): Promise<{ changes: ConfigChange[]; warning?: string }> {
  if (!target.id) return { changes: [] };
  // However GeoServer spells it (`recurse=yes` cascades there too).
  const recurse = restBoolean(new URLSearchParams(request.query).get('recurse')) === true;
  const object = { type: target.type, id: target.id };
  const held = (await read.object(target, target.path)) !== undefined;
  const cascaded = recurse ? await cascadedChanges(object, { styleUsers, catalog }, read.object) : [];
  if (held) {
    const warning = `the master answered ${answer.status} to the DELETE but still holds ${target.type} ${JSON.stringify(target.id)} (read back): no removal was published`;
    return { changes: cascaded, warning };
  }
  const removal = { kind: 'remove', object, recurse } as ConfigChange;
  return { changes: [...cascaded, removal, ...(recurse ? await cascadedAfter(object, catalog, read.object) : []), ...(await linkedRemoval(read, object))] };
}

/**
 * An object with every key of `a` and of `b`, objects under the same key merged alike: the base
 * of a whole-state patch that nulls what either held and the new state lacks (the values are
 * the new state's, or null).
 */
function keysOfBoth(a: JsonObject, b: JsonObject): JsonObject {
  const merged: JsonObject = { ...b, ...a };
  for (const key of Object.keys(a)) {
    const [left, right] = [a[key], b[key]];
    if (isJsonObject(left) && isJsonObject(right)) merged[key] = keysOfBoth(left, right);
  }
  return merged;
}

/**
 * A style renamed: GeoServer moved every layer and layer group that named it to the new name
 * (style-users.ts), while the other nodes still hold the old one and would refuse to remove a
 * style something names. So: the new style first, then each of those objects as the master now
 * holds it (read back: a modify carrying its whole state), then the old style's removal, which
 * nothing names any more on any node.
 */
async function styleRenamed(
  read: ReturnType<typeof readerFor>,
  from: string,
  to: string,
  after: JsonObject,
  styleUsers: StyleUsers | undefined,
): Promise<ConfigChange[]> {
  const changes: ConfigChange[] = [add('style', to, after)];
  for (const user of styleUsers ? await styleUsers.of(from) : []) {
    const now = await read.object({ type: user.type }, styleUserPath(user));
    if (!now || Object.keys(mergePatchBetween(user.properties, now)).length === 0) continue; // gone or unchanged: nothing to move
    changes.push({ kind: 'modify', object: { type: user.type, id: user.id }, patch: wholeStatePatch(user.properties, now) } as ConfigChange);
  }
  changes.push({ kind: 'remove', object: { type: 'style', id: from }, recurse: false } as ConfigChange);
  return changes;
}

/**
 * A workspace or store renamed: GeoServer moved everything in it with it, and the references to
 * that from outside it (moved-children.ts), while the other nodes hold all of it under the old
 * name. Each moved object is read back from the master under its new path and published in an
 * order every GeoServer accepts:
 * - a workspace: the new workspace; what moved, top-down, as adds (settings as modifies carrying
 *   their whole state: settings are only ever modified); the layers and groups elsewhere that
 *   name something that moved (a modify with the whole object); then the old workspace's removal
 *   with `recurse`, which on the other nodes takes whatever is still under the old name
 *   (CascadeDeleteVisitor: its stores with their resources and layers, its namespace); last, the
 *   old namespace's removal (gone with the workspace already: a no-op there, it leaves the stores
 *   exact) and the new namespace. The namespace keeps its URI through the rename, and a GeoServer
 *   refuses a second namespace with a URI another one has (CatalogImpl.validate(NamespaceInfo)),
 *   so the new one can take it only once the old one is gone.
 * - a store: the new store, then the old store's removal with `recurse` (taking its resources, their
 *   layers and their entries in groups on the other nodes), then its resources and their layers
 *   under the new store, then every group that lists one of those layers (re-published even when
 *   the master's is unchanged: the removal changed it, or removed it when it left it empty,
 *   elsewhere). The resources keep their ids, and GeoServer refuses a second resource of the same
 *   name in a namespace (CatalogImpl.validate(ResourceInfo)), so the old ones must go first: the
 *   other nodes go without these layers between the two events.
 * A child the master no longer holds (a stale record of the store) is left out.
 */
export async function parentRenamed(read: MasterReader, catalog: MasterCatalog, rename: ParentRename, after: JsonObject): Promise<ConfigChange[]> {
  const children = await movedChildren(catalog, rename);
  const moved: ConfigChange[] = [];
  for (const child of children) {
    const now = await read.object(child, child.path);
    if (!now) continue;
    moved.push(
      isConfigurationType(child.type)
        ? ({ kind: 'modify', object: { type: child.type, id: child.id }, patch: wholeStatePatch({}, now) } as ConfigChange)
        : add(child.type, child.id, now),
    );
  }
  const referrers: ConfigChange[] = [];
  for (const referrer of await referrersOf(catalog, rename, children)) {
    const now = await read.object(referrer, styleUserPath(referrer as { type: 'layer' | 'layerGroup'; id: string }));
    if (!now) continue;
    if (rename.type === 'workspace' && Object.keys(mergePatchBetween(referrer.properties, now)).length === 0) continue;
    referrers.push({ kind: 'modify', object: { type: referrer.type, id: referrer.id }, patch: wholeStatePatch(referrer.properties, now) } as ConfigChange);
  }
  const removeOld = { kind: 'remove', object: { type: rename.type, id: rename.from }, recurse: true } as ConfigChange;
  if (rename.type !== 'workspace') return [add(rename.type, rename.to, after), removeOld, ...moved, ...referrers];
  const oldNamespace = (await catalog.get('namespace', rename.from)) !== undefined;
  const namespace = await read.object({ type: 'namespace' }, `/namespaces/${encodeURIComponent(rename.to)}`);
  return [
    add('workspace', rename.to, after),
    ...moved,
    ...referrers,
    removeOld,
    ...(oldNamespace ? [{ kind: 'remove', object: { type: 'namespace', id: rename.from }, recurse: false } as ConfigChange] : []),
    ...(namespace ? [add('namespace', rename.to, namespace)] : []),
  ];
}

function add(type: ObjectType, id: string, properties: JsonObject): ConfigChange {
  return { kind: 'add', object: { type, id }, properties } as ConfigChange;
}

/**
 * An upload into a store, as GeoServer's REST reference has them: PUT of a data or coverage store's
 * files (datastores.yaml `putDataStoreUpload`, coveragestores.yaml `putCoverageStoreUpload`), and
 * POST harvesting granules into a coverage store (`postCoverageStoreUpload`). A GET there reads.
 */
export function isStoreUpload(classified: ClassifiedPath, method: string): boolean {
  if (classified.managed || classified.category !== 'upload') return false;
  // By its segments as the classifier reads them (empty ones dropped, as the master collapses `//`).
  return method === 'PUT' || (method === 'POST' && classified.path.split('/').filter(Boolean)[2] === 'coveragestores');
}

/**
 * Why the cluster could not hold the store an upload makes (`/workspaces/{ws}/{stores}/{store}/...`),
 * or undefined: its workspace's or its own name breaks the cluster's name rule (objects.ts), as
 * the same store POSTed through the gateway would.
 */
function uploadStoreNameProblem(classified: UnmanagedPath): string | undefined {
  const [, workspace, collection, store] = classified.path.split('/').filter(Boolean).map((segment) => decodeURIComponent(segment));
  const type = storeCollectionType(collection!) ?? 'dataStore';
  for (const ref of [{ type: 'workspace' as const, id: workspace! }, { type, id: `${workspace}:${store}` }]) {
    const why = objectRefProblem(ref);
    if (why !== undefined) return `an upload makes ${ref.type} ${JSON.stringify(ref.id)} on the master, which no other node could hold: ${why}`;
  }
  return undefined;
}

/**
 * The master took an upload: a capture of it (started, joined or queued) replicates what GeoServer
 * made of it. One that cannot be started leaves the answer as the master gave it, marked `failed`
 * (the master holds what the cluster does not: POST /nodes/{master}/capture brings it over).
 */
async function uploadCaptured(answer: UpstreamResponse, classified: UnmanagedPath, captureUpload: () => Promise<UploadCapture>): Promise<GatewayResponse> {
  try {
    const capture = await captureUpload();
    return {
      ...answer,
      headers: { ...answer.headers, [REPLICATED_HEADER]: 'capture', [JOB_HEADER]: capture.job },
      replication: 'capture',
      sequences: [],
      category: classified.category,
      capture,
    };
  } catch (error) {
    return {
      ...answer,
      headers: { ...answer.headers, [REPLICATED_HEADER]: 'failed' },
      replication: 'publish-failed',
      sequences: [],
      category: classified.category,
      error: `the upload was applied by the master, but no capture could be started: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

/** A request's media type, without parameters, lower case (`''` without a content type). */
export function mediaTypeOf(request: GatewayRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The types a PUT may rename, by the name in its body. */
export const RENAMABLE_TYPES: readonly ObjectType[] = ['workspace', 'dataStore', 'coverageStore', 'wmsStore', 'wmtsStore', ...RESOURCE_TYPES, 'layerGroup', 'style'];

/** The object inside a JSON body's wrapper (`{"workspace": {...}}`), if the body is one. */
export function jsonBodyObject(body: Buffer): JsonObject | undefined {
  const parsed = parsedJson(body)?.value;
  const inner = isJsonObject(parsed) ? Object.values(parsed)[0] : undefined;
  return isJsonObject(inner) ? inner : undefined;
}

/** The new name a PUT gives the object, when its body (a representation, never a style file) renames it. */
function renamedTo(target: ManagedPath, request: GatewayRequest): string | undefined {
  if (!RENAMABLE_TYPES.includes(target.type)) return undefined;
  const name = bodyName(request, 'name');
  const current = target.id!.slice(target.id!.indexOf(':') + 1);
  return name !== undefined && name !== current ? name : undefined;
}
