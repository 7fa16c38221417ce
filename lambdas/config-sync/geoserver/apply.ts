/**
 * Applying one change to a node's GeoServer through its REST API (rest-mapping.ts), so that
 * applying it again has the same effect (a crash between the GeoServer call and the store
 * commit applies it again):
 * - an add or a modify sends the whole object as the node's store now holds it (but a layer's or
 *   resource's `enabled` and `advertised` only where its event states them: the GeoServer holds them
 *   once for both, `unstated`): PUT, and
 *   when GeoServer answers 404, POST to create it (so an add of an existing object updates
 *   it, and a modify of an object a rebuilt GeoServer lost creates it again). A resource the
 *   master moved to another store (its `store` changed) is PUT to its new store's path first,
 *   and on 404 to its former store's, naming the new store: GeoServer moves it there, as the
 *   master's did (gateway/resource-store.ts), keeping its layer; only then POST. A GeoServer
 *   without the new store keeps it where it was and still answers 200: read back under the new
 *   store, that is refused, not taken for applied. An object the
 *   store holds only in part (a modify of an object never added) is only PUT: a partial
 *   object cannot create one;
 *   A caller that just found the object absent (a reconcile) may ask for the POST first,
 *   which saves the PUT; should the POST not succeed, the PUT-then-POST path follows;
 * - a remove DELETEs, and a 404 is success;
 * - a 500 to a PUT or DELETE of an object a read then finds absent counts as that 404 (GeoServer's
 *   style, layer group and layer controllers answer so for an object they lack);
 * - a style's document follows its info: PUT with its format's content type and `raw=true`.
 *
 * GeoServer ignores absent and null fields in a PUT, so a merge patch that deletes a property
 * cannot be one PUT. Where nothing refers to the object (workspace settings) it is deleted
 * and created again; elsewhere the property stays on the GeoServer and the outcome says
 * which ones (`uncleared`), which GET /nodes reports.
 *
 * Failures are told apart, because they call for opposite responses:
 * - no answer, a timeout (but see the last case), 5xx, 408, 429, or 401/403 (credentials: the
 *   GeoServer's setup, not the change): `GeoServerUnavailableError`, thrown. The change is not
 *   applied and the node waits (the caller keeps its cursor, and its queue retries with backoff). GeoServer also
 *   answers 403 to refuse a change (a workspace or store not empty, a style a layer uses, a
 *   name taken: its REST controllers' RestException with FORBIDDEN), and 401 to refuse the
 *   removal of a namespace that still holds resources, so a 401 or 403 counts as the
 *   credentials' only when a read with the same credentials (`GET /about/version`) is refused
 *   too; when that read succeeds, it is this change's refusal (below), and the node goes on.
 * - any other 4xx: GeoServer refuses this change. Retried `rejectionAttempts` times in all
 *   (a refusal can be a passing race), then returned as `rejected` with GeoServer's answer:
 *   the caller records it and moves on, so one bad change never stops the node.
 * - a call that times out (or that a proxy answers 504) while the GeoServer answers
 *   `GET /about/version` at once after it: this change keeps the GeoServer busy
 *   (`GeoServerCallTimedOutError`, thrown, not transient): the caller counts it as a failure of
 *   the event and parks it after its attempts, one per delivery, rather than waiting for it
 *   forever as for a GeoServer that is down (a job's fix: `timedOutAsRejected`).
 */
import { retry, type Backoff } from '../../shared/retry';
import { GeoServerCallTimedOutError, GeoServerUnavailableError, GeoServerUnreachableError, meansUnavailable, truncate } from './errors';
import { isResourceType, isStoreType, REST_SERVICES, type ObjectType } from '../events';
import type { JsonObject } from '../merge-patch';
import type { GeoServerRest, RestRequest, RestResponse } from './ports';
import { addressed, REST_MAPPING, restBody, restTarget, styleDocument, UnmappableError } from './rest-mapping';

export type GeoServerStep =
  | {
      readonly kind: 'upsert';
      readonly type: ObjectType;
      readonly id: string;
      /** The whole object as the node's store holds it after the event. */
      readonly properties: JsonObject;
      /** Only the patched properties of an object the node never saw added. */
      readonly incomplete: boolean;
      /** Dotted paths of properties the event's patch deleted. */
      readonly deleted: readonly string[];
      /**
       * The caller just found the GeoServer without the object (a reconcile's `missing`): POST
       * it first, saving the PUT that would answer 404. Any answer but success (it was created
       * since, and GeoServer refuses a second one) falls back to the PUT-then-POST path.
       */
      readonly absent?: boolean;
      /**
       * A resource the node's store held under another store (the master moved it there): its
       * GeoServer holds it at that store's path, where a PUT naming the new store moves it.
       */
      readonly formerStore?: string;
      /**
       * Top-level properties a PUT leaves out, so that the GeoServer keeps the values it holds (a
       * modify not stating a layer's `enabled` or `advertised`, which the GeoServer holds once for
       * the layer and its resource). A POST creating the object sends them.
       */
      readonly unstated?: readonly string[];
    }
  | {
      readonly kind: 'remove';
      readonly type: ObjectType;
      readonly id: string;
      readonly properties: JsonObject;
      readonly recurse: boolean;
      /**
       * False when the node's store did not hold the object (never added there, or removed
       * already): where its REST path needs what only its properties name (a resource's store),
       * there is nothing to address, and nothing of it on the GeoServer as far as the node knows.
       */
      readonly held?: boolean;
    };

export type GeoServerOutcome =
  | { readonly kind: 'applied'; readonly calls: number; readonly uncleared: readonly string[] }
  | {
      readonly kind: 'rejected';
      readonly request: string;
      readonly status: number | null;
      readonly answer: string;
      readonly attempts: number;
    };

export interface GeoServerApplyOptions {
  /** Attempts at a change GeoServer refuses before it is given up as rejected. @default 3 */
  readonly rejectionAttempts?: number;
  /** For tests: how to wait between attempts. */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * A call that timed out while the GeoServer answers (`GeoServerCallTimedOutError`) is returned
   * as `rejected` rather than thrown: a job's fix, which reports it unfixed and goes on, where the
   * apply path counts it toward parking the event. @default false
   */
  readonly timedOutAsRejected?: boolean;
}

/**
 * Between attempts at a change GeoServer refused: a refusal can be a race inside GeoServer (a
 * store still being created) that passes within a second; up to 0.5 s, then up to 1 s.
 */
const REFUSAL_BACKOFF: Backoff = { baseMs: 500, capMs: 1000 };

/** Longest GeoServer answer kept (in errors, GET /nodes and dead-letter messages). */
export const MAX_ANSWER_CHARS = 2000;

class Refusal extends Error {
  constructor(
    readonly request: string,
    readonly status: number | null,
    readonly answer: string,
  ) {
    super(`${request}: ${status ?? 'not sent'} ${answer}`);
  }
}

export async function applyToGeoServer(
  rest: GeoServerRest,
  step: GeoServerStep,
  options: GeoServerApplyOptions = {},
): Promise<GeoServerOutcome> {
  let tried = 0;
  try {
    return await retry(
      async () => {
        tried += 1;
        try {
          return await applyOnce(rest, step);
        } catch (caught) {
          throw caught instanceof UnmappableError ? new Refusal(`${step.kind} ${step.type} ${step.id}`, null, caught.message) : caught;
        }
      },
      {
        maxAttempts: options.rejectionAttempts ?? 3,
        backoff: REFUSAL_BACKOFF,
        // A refusal without a status is ours (nothing to send): another attempt would be the same.
        retryable: (error) => error instanceof Refusal && error.status !== null,
        ...(options.sleep ? { sleep: options.sleep } : {}),
      },
    );
  } catch (error) {
    if (error instanceof GeoServerCallTimedOutError && options.timedOutAsRejected === true) return { ...error.outcome, attempts: tried };
    if (!(error instanceof Refusal)) throw error;
    return { kind: 'rejected', request: error.request, status: error.status, answer: error.answer, attempts: tried };
  }
}

async function applyOnce(rest: GeoServerRest, step: GeoServerStep): Promise<GeoServerOutcome> {
  const mapping = REST_MAPPING[step.type];
  const target = restTarget(step.type, step.id, step.properties);
  let calls = 0;
  const call = async (request: RestRequest, accept404 = false): Promise<RestResponse> => {
    calls += 1;
    const response = await send(rest, request);
    if (isSuccess(response.status)) return response;
    if (accept404 && response.status === 404) {
      // A removal answered 404 is done only where the GeoServer answers at all: a URL answering
      // 404 to everything (`notAnswering`) still holds the object behind it.
      if (request.method === 'DELETE') {
        calls += 1;
        await assertAnswering(rest, request, response);
      }
      return response;
    }
    // GeoServer answers a PUT or DELETE of a style or layer group it lacks with 500, not 404, and a
    // PUT of a layer it lacks: its controllers (StyleController.stylePut,
    // LayerGroupController.layerGroupPut and its DELETE, LayerController.layerPut) use the object
    // they look up without a null check. A read answering 404 tells it apart from a
    // refusal: the object is absent, as a 404 would have said.
    if (accept404 && response.status === 500 && request.method !== 'GET') {
      calls += 1;
      // Its answer names the exception (a NullPointerException), not the object: a refusal built on
      // this 404 says which object the GeoServer lacks instead.
      if ((await send(rest, { method: 'GET', path: request.path })).status === 404) return { status: 404, text: '' };
    }
    throw await classify(rest, request, response);
  };

  if (step.type === 'service' && !(REST_SERVICES as readonly string[]).includes(target.name)) {
    throw new Refusal(`settings of service ${target.name}`, null, `GeoServer's REST API has settings only for ${REST_SERVICES.join(', ')}`);
  }

  if (step.kind === 'remove') {
    if (!mapping.remove) throw new Refusal(`remove ${step.type}`, null, `a ${step.type} cannot be removed through GeoServer's REST API`);
    let path: string;
    try {
      path = addressed(mapping.item(target));
    } catch (error) {
      if (error instanceof UnmappableError && step.held === false) return { kind: 'applied', calls: 0, uncleared: [] };
      throw error;
    }
    await call({ method: 'DELETE', path, query: mapping.remove(step.recurse) }, true);
    return { kind: 'applied', calls, uncleared: [] };
  }

  const body = { json: restBody(step.type, target, withoutProperties(step.properties, step.unstated ?? []), false, step.incomplete) };
  const createBody = { json: restBody(step.type, target, step.properties, true) };
  const item = addressed(mapping.item(target));
  let uncleared: readonly string[] = [];
  let created = false;
  if (step.absent === true && mapping.collection && !step.incomplete && step.deleted.length === 0) {
    calls += 1;
    created = isSuccess((await send(rest, { method: 'POST', path: mapping.collection(target), body: createBody })).status);
  }
  if (created) {
    // Made whole by the POST: only the style's document (and a disabled object's `enabled`, below) is left to send.
  } else if (step.deleted.length > 0 && mapping.recreatable && mapping.collection && !step.incomplete) {
    await call({ method: 'DELETE', path: item }, true);
    await call({ method: 'POST', path: mapping.collection(target), body: createBody });
  } else {
    uncleared = step.deleted;
    let updated = await call({ method: 'PUT', path: item, body }, true);
    if (updated.status === 404 && step.formerStore !== undefined && step.formerStore !== target.store) {
      // Moved on the master: PUT to where this GeoServer holds it, naming the new store, moves it too.
      const former = addressed(mapping.item({ ...target, store: step.formerStore }));
      updated = await call({ method: 'PUT', path: former, body }, true);
      // GeoServer answers 200 and keeps the resource where it was when it has no such store (the
      // reference does not resolve, and the copy skips the null): that is no move.
      if (isSuccess(updated.status) && (await call({ method: 'GET', path: item }, true)).status === 404) {
        throw new Refusal(`PUT ${former}`, updated.status, `the GeoServer kept ${step.type} ${step.id} under store ${step.formerStore}: it has no store ${target.store} to move it to`);
      }
    }
    if (updated.status === 404) {
      if (!mapping.collection || step.incomplete) {
        calls += 1;
        await assertAnswering(rest, { method: 'PUT', path: item }, updated);
        throw new Refusal(
          `PUT ${item}`,
          404,
          truncate(updated.text, MAX_ANSWER_CHARS) ||
            (step.incomplete
              ? `the GeoServer has no ${step.type} ${step.id}, and this node holds only part of it (a modify of an object it never saw added)`
              : `the GeoServer has no ${step.type} ${step.id}`),
        );
      }
      await call({ method: 'POST', path: mapping.collection(target), body: createBody });
      created = true;
      uncleared = [];
    }
  }
  if (created && step.properties.enabled === false && (isStoreType(step.type) || isResourceType(step.type))) {
    // GeoServer enables what a POST creates whatever the body says (DataStoreController and
    // FeatureTypeController set `enabled` true): a PUT disables it, as the node's store holds it.
    await call({ method: 'PUT', path: item, body: { json: restBody(step.type, target, { enabled: false }, false, true) } });
  }
  if (step.type === 'style' && typeof step.properties.body === 'string') {
    const document = styleDocument(target, step.properties);
    await call({
      method: 'PUT',
      path: document.path,
      query: document.query,
      body: { text: step.properties.body, contentType: document.contentType },
    });
  }
  return { kind: 'applied', calls, uncleared };
}

function withoutProperties(properties: JsonObject, left: readonly string[]): JsonObject {
  if (left.length === 0) return properties;
  return Object.fromEntries(Object.entries(properties).filter(([key]) => !left.includes(key)));
}

async function send(rest: GeoServerRest, request: RestRequest): Promise<RestResponse> {
  try {
    return await rest.send(request);
  } catch (error) {
    if (error instanceof GeoServerUnreachableError) {
      if (error.timedOut && !isVersionRead(request) && (await answersVersion(rest))) throw new GeoServerCallTimedOutError(rest.url, describe(request));
      throw new GeoServerUnavailableError(rest.url, describe(request), null, error.message);
    }
    throw error;
  }
}

const VERSION_READ: RestRequest = { method: 'GET', path: '/about/version' };

function isVersionRead(request: RestRequest): boolean {
  return request.method === VERSION_READ.method && request.path === VERSION_READ.path;
}

/**
 * Whether the GeoServer answers `GET /about/version` (with success), asked after a call of it
 * timed out: then the call's change keeps it busy (`GeoServerCallTimedOutError`), not the
 * GeoServer being down. Any failure of the read itself is a no.
 */
async function answersVersion(rest: GeoServerRest): Promise<boolean> {
  return credentialsAccepted(rest).catch(() => false);
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/**
 * Whether the GeoServer accepts the node's credentials: a read every REST client of it may make.
 * Asked only after a 401 or 403, to tell a refused change from refused credentials, and after a 500, to
 * tell a GeoServer that fails from one that answers but refuses this change.
 */
async function credentialsAccepted(rest: GeoServerRest): Promise<boolean> {
  const probe = await send(rest, VERSION_READ);
  return isSuccess(probe.status);
}

/**
 * Why a 404 is no answer of the GeoServer's: its `GET /about/version`, which every GeoServer
 * serves, answered 404 (or failed) as well. A servlet container while the GeoServer web
 * application is being deployed, a proxy without a route to it, or a wrong context path in the
 * node's `geoserver.url` answers 404 to every path: taken as the GeoServer lacking the object, a
 * removal would be recorded done while the GeoServer keeps the object, and an add or modify
 * parked on every node, for each event of that window.
 */
function notAnswering(rest: GeoServerRest, request: RestRequest, response: RestResponse): GeoServerUnavailableError {
  return new GeoServerUnavailableError(
    rest.url,
    describe(request),
    response.status,
    `GET /about/version, which every GeoServer serves, is not answered either: the URL does not reach a GeoServer's REST API now ` +
      `(its web application being deployed, a proxy without a route to it, or a wrong context path in the node's geoserver.url): ` +
      truncate(response.text, 200),
  );
}

/** Throws `notAnswering` unless the GeoServer answers `GET /about/version`, after a 404 to `request`. */
async function assertAnswering(rest: GeoServerRest, request: RestRequest, response: RestResponse): Promise<void> {
  if (!(await credentialsAccepted(rest))) throw notAnswering(rest, request, response);
}

/** The GeoServer cannot take changes now (retry later), or refuses this one. */
async function classify(rest: GeoServerRest, request: RestRequest, response: RestResponse): Promise<Error> {
  const { status } = response;
  const answer = truncate(response.text, MAX_ANSWER_CHARS);
  // A 404 that GeoServer did not give (`notAnswering`): unavailable, as for a GeoServer that is down.
  if (status === 404) return (await credentialsAccepted(rest)) ? new Refusal(describe(request), status, answer) : notAnswering(rest, request, response);
  // GeoServer refuses some changes with 403 too (the credentials' fault only if a read is refused
  // as well), some with 401 (NamespaceController.namespaceDelete: "Namespace not empty" is an
  // UNAUTHORIZED RestException), and some with 500 (RestControllerAdvice answers a catalog's
  // IllegalArgumentException so: a name already taken, a style a group still names): this
  // change's refusal when the GeoServer answers a read meanwhile. Held as unavailable, such a 401
  // or 500 stopped its node for good.
  if ((status === 401 || status === 403 || status === 500) && (await credentialsAccepted(rest))) return new Refusal(describe(request), status, answer);
  // A proxy's timeout (504) while the GeoServer answers a read: this change keeps it busy, as a
  // timeout of the call itself would (`send`); held as unavailable, the node waited for it forever.
  if (status === 504 && (await credentialsAccepted(rest))) return new GeoServerCallTimedOutError(rest.url, describe(request), { status, answer });
  if (meansUnavailable(status)) {
    const why =
      status === 401 || status === 403
        ? `the GeoServer refused the node's credentials (${status}); check the secret`
        : answer;
    return new GeoServerUnavailableError(rest.url, describe(request), status, why);
  }
  return new Refusal(describe(request), status, answer);
}

export function describe(request: RestRequest): string {
  const query = request.query && Object.keys(request.query).length > 0 ? `?${new URLSearchParams(request.query).toString()}` : '';
  return `${request.method} ${request.path}${query}`;
}

/**
 * Dotted paths of the properties a merge patch deletes from `before` (`null` where `before`
 * has a value), e.g. `abstract`, `metadata.cacheAgeMax`.
 */
export function deletedPaths(before: JsonObject, patch: JsonObject, prefix = ''): string[] {
  const paths: string[] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (!Object.hasOwn(before, key)) continue;
    const previous = before[key];
    if (value === null) {
      paths.push(`${prefix}${key}`);
    } else if (isObject(value) && isObject(previous)) {
      paths.push(...deletedPaths(previous, value, `${prefix}${key}.`));
    }
  }
  return paths;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
