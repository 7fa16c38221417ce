/**
 * The configuration-change event model: what a master publishes (`ConfigChange`, the body of
 * `POST /config/events`) and what the event log stores and SNS carries (`PublishedEvent`,
 * the change plus the sequence, cluster, origin node and publish time the service assigns).
 *
 * Object types and ids are in objects.ts (re-exported here).
 *
 * References between objects (a layer's resource, a feature type's store) are ordinary
 * properties: the sync service carries them as the master states them and never resolves
 * them, exactly like GeoServer's JMS events.
 *
 * Properties are free JSON (GeoServer's objects have many, version-dependent fields); two
 * rules are enforced: configuration (`global`, `workspaceSettings`, `service`, `logging`)
 * always exists, so it is only ever modified; a style carries its document (the SLD, or the
 * format `properties.format` names) as the string `properties.body`.
 */
import { createHash } from 'node:crypto';
import stableStringify from 'fast-json-stable-stringify';
import * as z from 'zod/mini';
import { clusterNameSchema, nodeNameSchema } from '../shared/cluster-model';
import { InvalidConfigEventError, type FieldIssue } from './event-errors';
import type { JsonObject, JsonValue } from './merge-patch';
import { lazily } from '../shared/lazily';
import { isConfigurationType, objectRefSchema, objectStorageKey, type ObjectRef } from './objects';
import { patchIssues, representationIssues } from './representations';

export * from './objects';

/**
 * Store key of the parking record of an object's parked events on a node (see apply.ts), or,
 * for an unreadable event that names no valid object, of that one sequence. `#` sorts before
 * every object key, so catalog listings never see these records.
 */
export function parkingKey(object: ObjectRef | undefined, sequence: number): string {
  return object === undefined ? `${PARKING_KEY_PREFIX}#${sequence}` : `${PARKING_KEY_PREFIX}${objectStorageKey(object)}`;
}

export const PARKING_KEY_PREFIX = '#parked/';

// ---------------------------------------------------------------------------------------------
// The change a master publishes

export interface AddChange {
  readonly kind: 'add';
  readonly object: ObjectRef;
  /** The full object. */
  readonly properties: JsonObject;
}

export interface ModifyChange {
  readonly kind: 'modify';
  readonly object: ObjectRef;
  /** The changed properties, as a JSON Merge Patch (RFC 7386): `null` removes a property. */
  readonly patch: JsonObject;
}

export interface RemoveChange {
  readonly kind: 'remove';
  readonly object: ObjectRef;
  /**
   * Whether the remove cascades to what the object contains or what references it (a
   * workspace's stores, a store's resources, a style's use by layers), as GeoServer's
   * `DELETE ...?recurse=true` does. Without it, a GeoServer refuses to remove a non-empty
   * workspace or store. Data files are never purged on other nodes: they live in shared storage.
   */
  readonly recurse?: boolean;
}

/** Body of `POST /config/events`. */
export type ConfigChange = AddChange | ModifyChange | RemoveChange;
export type ChangeKind = ConfigChange['kind'];

/** The property of a style that holds its document (SLD unless `format` says otherwise). */
export const STYLE_BODY_PROPERTY = 'body';

// The schemas below are built on first use (lazily), not at import: every config-sync function
// imports this module, most for its types and helpers alone. A function that parses changes or
// events on every invocation builds them at cold start (buildEventSchemas).

/**
 * A value inside `properties` or `patch`. Not checked by the schema (as `z.json()` would, value
 * by value through a union: that made parsing a typical object over three times slower):
 * `assertWithinBounds` has already walked them and refused anything JSON cannot carry
 * (`firstNonJsonValue`). The OpenAPI document shows it as a JSON value (api/openapi.ts).
 */
export const propertyValueSchema = lazily(() => z.custom<JsonValue>());

const changeShapes = lazily(() => {
  const properties = z.record(z.string(), propertyValueSchema());
  return {
    add: { kind: z.literal('add'), object: objectRefSchema(), properties },
    modify: {
      kind: z.literal('modify'),
      object: objectRefSchema(),
      // Not empty: checked on the input's own keys (`withOriginalJson`), which zod's output lacks for `__proto__`.
      patch: properties,
    },
    remove: { kind: z.literal('remove'), object: objectRefSchema(), recurse: z.optional(z.boolean()) },
  };
});

type ChangeFields = Pick<ConfigChange, 'kind' | 'object'> & { properties?: JsonObject; patch?: JsonObject };

/** Rules that span fields, shared by the request and the stored-event schemas. */
const changeRules = lazily(() =>
  z.superRefine<ChangeFields>(({ kind, object, properties, patch }, ctx) => {
  if (kind !== 'modify' && isConfigurationType(object.type)) {
    ctx.addIssue({
      code: 'custom',
      path: ['kind'],
      message: `must be "modify" for ${object.type} configuration, which always exists`,
    });
  }
  if (object.type !== 'style') return;
  if (properties !== undefined && !isDocument(properties[STYLE_BODY_PROPERTY])) {
    ctx.addIssue({
      code: 'custom',
      path: ['properties', STYLE_BODY_PROPERTY],
      message: 'a style must carry its document (e.g. the SLD) as a non-empty string',
    });
  }
  if (patch !== undefined && STYLE_BODY_PROPERTY in patch && !isDocument(patch[STYLE_BODY_PROPERTY])) {
    ctx.addIssue({
      code: 'custom',
      path: ['patch', STYLE_BODY_PROPERTY],
      message: 'a style document can be replaced but not removed: expected a non-empty string',
    });
  }
}),
);

function isDocument(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0;
}

/**
 * What applying to a GeoServer needs from each type's representation (representations.ts).
 * Checked on what a master publishes; events already in the log, offloaded bodies included
 * (parseStoredChange), are not judged again by later rules.
 */
const representationRules = lazily(() =>
  z.superRefine<ChangeFields>(({ kind, object, properties, patch }, ctx) => {
    const issues =
      kind === 'add' && properties !== undefined
        ? representationIssues(object.type, object.id, properties).map((issue) => ({ ...issue, root: 'properties' }))
        : kind === 'modify' && patch !== undefined
          ? patchIssues(object.type, object.id, patch).map((issue) => ({ ...issue, root: 'patch' }))
          : [];
    for (const issue of issues) ctx.addIssue({ code: 'custom', path: [issue.root, ...issue.path], message: issue.message });
  }),
);

export const configChangeSchema = lazily(() => {
  const { add, modify, remove } = changeShapes();
  return z
    .discriminatedUnion('kind', [z.strictObject(add), z.strictObject(modify), z.strictObject(remove)])
    .check(changeRules(), representationRules());
});

// ---------------------------------------------------------------------------------------------
// The event as stored in the log and carried by SNS

export interface EventMetadata {
  /** Cluster-wide, gap-free, starting at 1: the one total order every node applies. */
  readonly sequence: number;
  readonly cluster: string;
  /** The node that published the change. */
  readonly origin: string;
  /**
   * ISO-8601 instant at which the publishing node accepted the change. Informational: with
   * several masters it need not grow with `sequence`, which alone orders events.
   */
  readonly publishedAt: string;
}

/** A change with everything a node needs to apply it. */
export type ConfigEvent = EventMetadata & ConfigChange;

/**
 * An event whose change is too large for an SNS message or a DynamoDB item (styles can be
 * large): the change itself is in the body store under `bodyRef`. `kind` and `object` stay
 * inline so logs, filters and the catalog API can describe the event without fetching it.
 */
export type OffloadedEvent = EventMetadata & {
  readonly kind: ChangeKind;
  readonly object: ObjectRef;
  readonly bodyRef: string;
};

/** What the event log stores and SNS carries. */
export type PublishedEvent = ConfigEvent | OffloadedEvent;

export function isOffloaded(event: PublishedEvent): event is OffloadedEvent {
  return 'bodyRef' in event;
}

const metadataShape = lazily(() => ({
  sequence: z.int().check(z.positive(), z.maximum(Number.MAX_SAFE_INTEGER)),
  cluster: clusterNameSchema,
  origin: nodeNameSchema,
  publishedAt: z.iso.datetime(),
}));

export const configEventSchema = lazily(() => {
  const { add, modify, remove } = changeShapes();
  return z
    .discriminatedUnion('kind', [
      z.strictObject({ ...metadataShape(), ...add }),
      z.strictObject({ ...metadataShape(), ...modify }),
      z.strictObject({ ...metadataShape(), ...remove }),
    ])
    .check(changeRules());
});

export const offloadedEventSchema = lazily(() =>
  z.strictObject({
    ...metadataShape(),
    kind: z.enum(['add', 'modify', 'remove']),
    object: objectRefSchema(),
    bodyRef: z.string().check(z.minLength(1, 'must not be empty')),
  }),
);

/**
 * Builds the schema of what a master publishes now. Called at cold start by the functions that
 * parse a change on every invocation (publish, the GeoServer gateway), so that their first
 * request does not pay for what their cold start would otherwise skip. The event schemas they
 * rarely need (reading back the log to bring their own store up) are built on that first use.
 */
export function buildChangeSchemas(): void {
  configChangeSchema();
}

/**
 * Builds the schema of an event in the log and on the queues now: called at cold start by the
 * functions that parse events on every invocation (apply, the event listing, the master stores'
 * catch-up). An offloaded event's schemas are built when the first one comes (large changes are
 * rare), as the change schema is in the functions that never parse what a master publishes.
 */
export function buildEventSchemas(): void {
  configEventSchema();
}

// ---------------------------------------------------------------------------------------------
// Bounds: what a stranger's JSON may cost before any recursive code touches it

/**
 * Deepest nesting of `properties` or `patch` (an object holding a scalar is 1 level). GeoServer's
 * deepest objects (a layer group's nested metadata maps, a store's connection parameters) stay
 * below 10; 64 leaves room and keeps every recursive step (schema check, merge patch,
 * `JSON.stringify`) thousands of frames away from the stack limit.
 */
export const MAX_PROPERTIES_DEPTH = 64;
/**
 * Largest `properties` or `patch` of one change, as JSON text. One change's object must fit
 * the body store (S3) and a node's store (DynamoDB items offload above 300 KB to S3); 1 MiB is
 * far above any real GeoServer object, SLD bodies included.
 */
export const MAX_PROPERTIES_BYTES = 1024 * 1024;
/** Depth of a whole event or request around its properties (the envelope adds 2 levels). */
const MAX_MESSAGE_DEPTH = MAX_PROPERTIES_DEPTH + 4;

/**
 * The nesting depth of a parsed JSON value, measured without recursion (an explicit stack), so
 * a hostile document cannot overflow the call stack here. Stops as soon as `limit` is exceeded
 * and returns `limit + 1` then. Primitives are 0, `{}` and `[]` are 1.
 */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop() as { value: unknown; depth: number };
    if (typeof current !== 'object' || current === null) continue;
    const level = depth + 1;
    if (level > limit) return limit + 1;
    if (level > deepest) deepest = level;
    const children = Array.isArray(current) ? current : Object.values(current);
    for (const child of children) if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: level });
  }
  return deepest;
}

/**
 * The first value inside `value` that JSON cannot carry, with its path: a number out of range
 * (JSON.parse reads a literal too large for a double, such as `1e999`, as Infinity, which
 * JSON.stringify would later write as `null`: a value silently changed), or anything but a
 * string, finite number, boolean, null, array or plain object (only callers other than
 * JSON.parse can make those). Walked without recursion, like `jsonDepth` (callers bound the
 * depth first); cheaper than checking every value with a schema (`propertyValueSchema`).
 * Each container keeps only the step that reached it (its parent's step and its key): the path
 * is built for the value refused alone. A path copied for every container cost time in the
 * depth times the number of containers: a 1 MiB publish of nested lists took a second here.
 */
export function firstNonJsonValue(value: unknown): { readonly path: PropertyKey[]; readonly message: string } | undefined {
  const rootProblem = nonJsonProblem(value);
  if (rootProblem !== undefined) return { path: [], message: rootProblem };
  if (typeof value !== 'object' || value === null) return undefined;
  interface Step {
    readonly container: object;
    readonly parent?: Step;
    readonly key?: PropertyKey;
  }
  const pathTo = (step: Step, key: PropertyKey): PropertyKey[] => {
    const path = [key];
    for (let at: Step | undefined = step; at?.parent !== undefined; at = at.parent) path.push(at.key as PropertyKey);
    return path.reverse();
  };
  // Containers only go on the stack; every other value is checked in place.
  const stack: Step[] = [{ container: value }];
  while (stack.length > 0) {
    const step = stack.pop() as Step;
    const { container } = step;
    const keys: readonly string[] | undefined = Array.isArray(container) ? undefined : Object.keys(container);
    const count = keys === undefined ? (container as unknown[]).length : keys.length;
    for (let index = 0; index < count; index += 1) {
      const key = keys === undefined ? index : (keys[index] as string);
      const child: unknown = (container as Record<PropertyKey, unknown>)[key];
      const problem = nonJsonProblem(child);
      if (problem !== undefined) return { path: pathTo(step, key), message: problem };
      if (typeof child === 'object' && child !== null) stack.push({ container: child, parent: step, key });
    }
  }
  return undefined;
}

/** Why `value` itself (not what it holds) is not JSON, or undefined if it is. */
function nonJsonProblem(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : 'is a number out of range (a literal such as 1e999 reads as Infinity, which JSON cannot carry)';
    case 'object': {
      if (value === null || Array.isArray(value)) return undefined;
      const prototype = Object.getPrototypeOf(value);
      return prototype === Object.prototype || prototype === null ? undefined : 'expected a JSON value';
    }
    default:
      return 'expected a JSON value';
  }
}

/**
 * Refuses `properties`/`patch` deeper than `MAX_PROPERTIES_DEPTH`, holding a value JSON cannot
 * carry or larger than `MAX_PROPERTIES_BYTES`, and any other part of the message nested deeper
 * than an event can be, before the schema (which recurses) sees it. `prefix` names the change in a change set.
 */
export function assertWithinBounds(message: unknown, prefix: readonly PropertyKey[] = []): void {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return;
  const record = message as Record<string, unknown>;
  for (const field of ['properties', 'patch'] as const) {
    if (!Object.hasOwn(record, field)) continue;
    const value = record[field];
    if (jsonDepth(value, MAX_PROPERTIES_DEPTH) > MAX_PROPERTIES_DEPTH) {
      throw new InvalidConfigEventError([
        { field: fieldPath([...prefix, field]), message: `nests deeper than ${MAX_PROPERTIES_DEPTH} levels, the limit` },
      ]);
    }
    const notJson = firstNonJsonValue(value);
    if (notJson !== undefined) {
      throw new InvalidConfigEventError([{ field: fieldPath([...prefix, field, ...notJson.path]), message: notJson.message }]);
    }
    const bytes = serializedBytes(value);
    if (bytes > MAX_PROPERTIES_BYTES) {
      throw new InvalidConfigEventError([
        { field: fieldPath([...prefix, field]), message: `is ${bytes} bytes of JSON, over the limit of ${MAX_PROPERTIES_BYTES}` },
      ]);
    }
  }
  // `properties` and `patch` were bounded above (one level below the message, so within
  // MAX_MESSAGE_DEPTH): only the rest of the message is walked again.
  const { properties: _properties, patch: _patch, ...rest } = record;
  if (jsonDepth(rest, MAX_MESSAGE_DEPTH) > MAX_MESSAGE_DEPTH) {
    throw new InvalidConfigEventError([{ field: fieldPath(prefix), message: `nests deeper than ${MAX_MESSAGE_DEPTH} levels, the limit` }]);
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing with errors that name the field

/** Parses a publish request body; throws `InvalidConfigEventError` naming the first bad field. */
export function parseConfigChange(body: unknown): ConfigChange {
  assertWithinBounds(body);
  const result = z.safeParse(configChangeSchema(), body, { error: describeIssue });
  if (!result.success) throw invalidEvent(result.error);
  return withOriginalJson(result.data, body);
}

/**
 * The parsed change with `properties`/`patch` exactly as the input held them. zod's record and
 * JSON schemas rebuild objects by assignment, which drops a key named `__proto__` (assigning it
 * sets the prototype instead); user data must never be dropped silently, so the validated
 * input itself is kept. It is JSON already (it came from `JSON.parse`, where `__proto__` is an
 * ordinary own key, and the schema accepted it), and every later step keeps such keys: spreads
 * and `JSON.stringify` copy own keys, merge patch rebuilds objects with `Object.fromEntries`.
 */
function withOriginalJson<T extends { readonly kind: ChangeKind }>(parsed: T, input: unknown): T {
  if (typeof input !== 'object' || input === null) return parsed;
  const record = input as Record<string, unknown>;
  if ('properties' in parsed && Object.hasOwn(record, 'properties')) return { ...parsed, properties: record.properties };
  if ('patch' in parsed && Object.hasOwn(record, 'patch')) {
    const patch = record.patch as JsonObject;
    // A patch that changes nothing is a mistake; one whose only key is `__proto__` changes that property.
    if (Object.keys(patch).length === 0) throw new InvalidConfigEventError([{ field: 'patch', message: 'must change at least one property' }]);
    return { ...parsed, patch };
  }
  return parsed;
}

/**
 * The change an event's offloaded body holds, parsed as an inline event's is (`changeRules`, not
 * the representation rules): the body was judged when it was published, and an event already in
 * the log is not judged again by rules added since (a layer group a node once took would
 * otherwise be refused, and parked, on every node applying it afterwards).
 */
const storedChangeSchema = lazily(() => {
  const { add, modify, remove } = changeShapes();
  return z.discriminatedUnion('kind', [z.strictObject(add), z.strictObject(modify), z.strictObject(remove)]).check(changeRules());
});

/** Parses an offloaded event's body (storedChangeSchema); throws `InvalidConfigEventError` naming the first bad field. */
export function parseStoredChange(body: unknown): ConfigChange {
  assertWithinBounds(body);
  const result = z.safeParse(storedChangeSchema(), body, { error: describeIssue });
  if (!result.success) throw invalidEvent(result.error);
  return withOriginalJson(result.data, body);
}

/**
 * Parses a message from a node's queue or an item of the event log. A message that does not
 * parse is poison: the caller lets it fail, and the queue moves it to the dead-letter queue.
 */
export function parsePublishedEvent(message: unknown): PublishedEvent {
  assertWithinBounds(message);
  const schema =
    typeof message === 'object' && message !== null && 'bodyRef' in message ? offloadedEventSchema() : configEventSchema();
  const result = z.safeParse(schema, message, { error: describeIssue });
  if (!result.success) throw invalidEvent(result.error);
  return withOriginalJson(result.data, message);
}

/**
 * An event in the log or a queue that carries a sequence but cannot be read as an event (one
 * written before a bound existed, a hand-edited log item). It still occupies its place in the
 * total order: the applier parks it (see apply.ts) instead of blocking every later sequence.
 */
export interface UnreadableEvent extends EventMetadata {
  readonly unreadable: true;
  /** The event's object, when that part at least is valid: its later events wait behind it. */
  readonly object?: ObjectRef;
  readonly reason: string;
}

/**
 * A sequence that was allocated to a publisher who never wrote its events (it died between
 * the allocation and the log write, or its write lost to this one): the log records it as
 * void so that the total order has no hole. A node applies it by moving its cursor past it;
 * nothing else changes. Voids exist only in the log, never on the topic.
 */
export interface VoidedEvent extends EventMetadata {
  readonly voided: true;
  /** `origin` is the node (or schedule) that closed the hole, `publishedAt` when. */
  readonly object?: undefined;
}

export type DeliveredEvent = PublishedEvent | UnreadableEvent | VoidedEvent;

export function isUnreadable(event: DeliveredEvent): event is UnreadableEvent {
  return 'unreadable' in event;
}

export function isVoided(event: DeliveredEvent): event is VoidedEvent {
  return 'voided' in event;
}

/**
 * Like `parsePublishedEvent`, but an invalid event whose sequence, cluster and origin are
 * readable comes back as an `UnreadableEvent` rather than an error. Only a message without
 * even those (no place in the order) throws: it is poison for the dead-letter queue.
 */
export function parseDeliveredEvent(message: unknown): DeliveredEvent {
  try {
    return parsePublishedEvent(message);
  } catch (error) {
    if (!(error instanceof InvalidConfigEventError)) throw error;
    const record = typeof message === 'object' && message !== null ? (message as Record<string, unknown>) : {};
    const metadata = z.safeParse(z.object(metadataShape()), {
      sequence: record.sequence,
      cluster: record.cluster,
      origin: record.origin,
      publishedAt: record.publishedAt,
    });
    if (!metadata.success) throw error;
    const object = z.safeParse(objectRefSchema(), record.object);
    return {
      ...metadata.data,
      unreadable: true,
      ...(object.success ? { object: object.data } : {}),
      reason: error.message,
    };
  }
}

/** Why `{type, id}` is not an object reference the cluster can carry (`field: message`), or undefined when it is. */
export function objectRefProblem(ref: { readonly type: string; readonly id: string }): string | undefined {
  const result = z.safeParse(objectRefSchema(), ref, { error: describeIssue });
  if (result.success) return undefined;
  const [first] = fieldIssues(result.error);
  return first === undefined ? 'is not an object reference' : `${first.field}: ${first.message}`;
}

/**
 * The digest of an event's content: SHA-256 (base64) of its canonical JSON (keys sorted, no
 * spacing). Two events as parsed (`parseDeliveredEvent`) have the same digest exactly when they
 * are the same JSON value, whatever the formatting of the text they were parsed from: the event
 * log stores it on the item of a lone event, and a node keeping up checks a delivered copy
 * against it inside its commit (apply.ts, `LogItemCheck`) instead of reading the log's event.
 */
export function eventDigest(event: DeliveredEvent): string {
  return createHash('sha256').update(stableStringify(event), 'utf8').digest('base64');
}

/** Parses the text of an SQS message (raw SNS delivery: the event's JSON). */
export function parseEventMessage(text: string): DeliveredEvent {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    throw new InvalidConfigEventError([{ field: 'body', message: 'is not valid JSON' }]);
  }
  return parseDeliveredEvent(message);
}

/** Every issue of a zod error as `{ field, message }`, the field as a dotted path. */
export function fieldIssues(error: z.core.$ZodError): FieldIssue[] {
  return error.issues.flatMap((issue): FieldIssue[] => {
    const field = fieldPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: fieldPath([...issue.path, key]), message: 'is not a known field' }));
    }
    return [{ field, message: issue.message }];
  });
}

/** `['object', 'type']` → `object.type`; `['keywords', 0]` → `keywords[0]`; `[]` → `body`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'body';
  return path
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      return index === 0 ? String(segment) : `.${String(segment)}`;
    })
    .join('');
}

function invalidEvent(error: z.core.$ZodError): InvalidConfigEventError {
  const [first, ...rest] = fieldIssues(error);
  return new InvalidConfigEventError(first ? [first, ...rest] : [{ field: 'body', message: 'is invalid' }]);
}

/**
 * Readable messages for zod's built-in checks. zod/mini ships no locale (that keeps Lambda
 * bundles small), so without this every message would be "Invalid input". Checks that carry
 * their own message keep it: a schema-level message wins over this per-parse map.
 */
function describeIssue(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `expected ${issue.expected === 'record' ? 'object' : issue.expected}, got ${describeInput(issue.input)}`;
    case 'invalid_union':
      if (issue.input === undefined) return 'is required';
      if (issue.discriminator !== undefined) {
        // zod reports a bad discriminator with the whole object as input.
        if (typeof issue.input === 'object' && issue.input !== null && !(issue.discriminator in issue.input)) {
          return 'is required';
        }
        const options: unknown = 'options' in issue ? issue.options : undefined;
        if (Array.isArray(options)) return `must be one of: ${options.map(String).join(', ')}`;
      }
      // The only plain (non-discriminated) union in these schemas is zod's JSON value.
      return 'expected a JSON value';
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of: ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'datetime' ? 'must be an ISO-8601 date-time' : `must match ${issue.format}`;
    case 'too_small':
      return `must be ${issue.inclusive === false ? 'greater than' : 'at least'} ${String(issue.minimum)}`;
    case 'too_big':
      return `must be ${issue.inclusive === false ? 'less than' : 'at most'} ${String(issue.maximum)}`;
    default:
      return 'is invalid';
  }
}

function describeInput(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'array';
  return typeof input;
}

// ---------------------------------------------------------------------------------------------
// Transport

/**
 * Largest event sent inline. An SNS message (raw delivery to SQS) is at most 256 KiB
 * including its attributes, and a DynamoDB log item at most 400 KB; 240 KiB leaves room
 * for attributes and the item's own keys.
 */
export const MAX_INLINE_EVENT_BYTES = 240 * 1024;

export function serializedBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/**
 * Whether a change must go to the body store. Measured with the largest metadata the event
 * can carry, so the decision does not depend on the sequence the log will assign.
 */
export function mustOffload(change: ConfigChange, metadata: Omit<EventMetadata, 'sequence'>): boolean {
  return serializedBytes({ ...change, ...metadata, sequence: Number.MAX_SAFE_INTEGER }) > MAX_INLINE_EVENT_BYTES;
}

/** One message group per cluster, so every node sees one total order. */
export function messageGroupId(cluster: string): string {
  return cluster;
}

/**
 * SNS FIFO deduplication id: the cluster, the sequence and a digest of the event's canonical JSON
 * (128 bits of SHA-256, base64url; at most 59 characters of SNS's 128). The same event gives the
 * same id, so a republished one is recognised as the same message. The digest binds it to the
 * event's content: an id of the sequence alone could be taken ahead by anyone else allowed to
 * publish to the topic or send to a queue (a message numbered as the log's next event, sent
 * first), and the topic and every queue would then drop the real event for five minutes as its
 * duplicate, leaving a node that keeps up without it until a later message came.
 */
export function deduplicationId(event: PublishedEvent): string {
  const digest = createHash('sha256').update(stableStringify(event), 'utf8').digest('base64url').slice(0, 22);
  return `${event.cluster}-${event.sequence}-${digest}`;
}

/**
 * `items`, ascending by sequence, split into runs of consecutive sequences (each run one range
 * of the log: published as one batch, marked published as one range), in order.
 */
export function consecutiveRuns<T>(items: readonly T[], sequenceOf: (item: T) => number): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  for (const item of items) {
    const previous = run[run.length - 1];
    if (previous !== undefined && sequenceOf(item) !== sequenceOf(previous) + 1) {
      runs.push(run);
      run = [];
    }
    run.push(item);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}
