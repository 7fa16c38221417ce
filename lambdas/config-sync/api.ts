/**
 * What the config-sync routes take and answer, as manifest.ts declares them and api/openapi.ts
 * publishes them. The publish body and the published event are the zod schemas events.ts
 * validates with; the resync body and the query strings are the schemas their handlers validate with
 * (request-schemas.ts); the answers are
 * the handlers' shapes as zod schemas (test/unit/api-schemas.test.ts holds them to the types
 * and to real answers).
 */
import * as z from 'zod/mini';
import { dateTime, errorResponse, errorSchema, jsonContent, type OperationDeclaration, type ResponseDeclaration } from '../shared/api';
import { nodeNameSchema, NODE_ROLES } from '../shared/cluster-model';
import {
  CONFIGURATION_TYPES,
  OBJECT_TYPES,
  STYLE_BODY_PROPERTY,
  configChangeSchema,
  configEventSchema,
  objectRefSchema,
  offloadedEventSchema,
} from './events';
import {
  API_GATEWAY_MAX_BODY_BYTES,
  LEASE_WAIT_MS,
  MAX_READ_BACK_BYTES,
  MAX_REPLICATED_WRITE_BYTES,
  MAX_REQUEST_BODY_BYTES,
  MAX_RESPONSE_BODY_BYTES,
  REQUEST_BUDGET_MS,
} from './gateway/limits';
import { JOB_KINDS, JOB_STATES } from './jobs';
import { MAX_CHANGE_SET_BYTES, MAX_CHANGE_SET_ITEMS } from './change-set-limits';
import {
  catalogQuerySchema,
  deadLettersQuerySchema,
  discardRequestSchema,
  driftQuerySchema,
  eventLogQuerySchema,
  MAX_DISCARD_IDS,
  resyncRequestSchema,
} from './request-schemas';
import { DEAD_LETTER_BODY_PREVIEW_CHARS, SET_ASIDE_GROUP_PREFIX } from './adapters/sqs-queues';
import { PARKED_LIST_MAX } from './ports';

export { discardRequestSchema, resyncRequestSchema };

const described = <T extends z.ZodMiniType>(schema: T, description: string): T => schema.check(z.describe(description)) as T;
const count = () => z.int().check(z.minimum(0));
const objectType = z.enum(OBJECT_TYPES);

// ---- Requests ----


/**
 * A change set of POST /config/events, as publish.ts `parsePublishRequest` reads it (each item
 * with `configChangeSchema`); test/unit/api-schemas.test.ts holds the two in agreement.
 */
export const configChangeSetSchema = z.strictObject({
  changes: z.array(configChangeSchema()).check(z.minLength(1), z.maxLength(MAX_CHANGE_SET_ITEMS)),
});

// ---- Answers ----

const objectSummary = z.object({ type: z.string(), id: z.string() });

export const storedObjectSchema = z.object({
  type: objectType,
  id: z.string(),
  properties: described(z.record(z.string(), z.unknown()), 'The object as the master stated it'),
  lastSequence: described(z.int().check(z.minimum(1)), 'Sequence of the last event applied to the object'),
  lastOrigin: described(z.string(), 'The node that published that event'),
  updatedAt: described(dateTime(), 'When that event was published'),
  deleted: described(z.boolean(), 'A tombstone of a removed object (listed only with includeDeleted)'),
  incomplete: described(z.boolean(), 'Created by a modify of an object the node never saw added: holds only the patched properties'),
});

export const parkedEventsSchema = z.object({
  object: described(z.nullable(objectSummary), 'The object whose events wait; null for an unreadable event that names none'),
  sequences: described(z.array(z.int()), `The first failed; the later ones wait behind it (at most ${PARKED_LIST_MAX} listed)`),
  overflow: z.optional(
    described(
      z.object({ from: z.int(), through: z.int() }),
      'More of the object\'s events, parked after the listed ones: each of its events in the log from `from` through `through`. The redrive applies them after the listed ones',
    ),
  ),
  reason: described(z.string(), 'The last error of the first sequence'),
  attempts: count(),
  parkedAt: dateTime(),
});

const geoserverChange = { sequence: z.int(), type: objectType, id: z.string() };
export const geoserverStateSchema = described(
  z.object({
    url: described(z.string(), "The GeoServer's base URL (its REST API is under /rest)"),
    reachable: described(
      z.nullable(z.boolean()),
      'Whether it takes changes: false while unreachable, timing out, answering 5xx or refusing the credentials',
    ),
    version: described(z.nullable(z.string()), "GeoServer's version from /rest/about/version"),
    checkedAt: z.nullable(dateTime()),
    lastError: z.nullable(
      z.object({
        message: z.string(),
        status: described(z.nullable(z.int()), "GeoServer's HTTP status; null when it did not answer"),
        sequence: described(z.nullable(z.int()), 'The event being applied'),
        at: dateTime(),
      }),
    ),
    rejected: described(
      z.array(
        z.object({
          ...geoserverChange,
          request: described(z.string(), 'The refused call, e.g. POST /workspaces/topp/datastores'),
          status: described(
            z.nullable(z.int()),
            "GeoServer's HTTP status; null when no REST call could express the change, or when the GeoServer never answered its call (timed out on every attempt while it answered GET /about/version; 504 when a proxy before it answered so)",
          ),
          answer: described(z.string(), "GeoServer's answer, or why there is none"),
          at: dateTime(),
        }),
      ),
      "Changes the GeoServer refused (4xx), or never answered while it answered others (timed out, or a proxy's 504), as the queue delivered them or a resync's catch-up applied them, most recent first, at most 20; each is parked on the node (see parked)",
    ),
    unclearedProperties: described(
      z.array(
        z.object({
          ...geoserverChange,
          properties: described(z.array(z.string()), 'Dotted paths, e.g. metadata.cacheAgeMax'),
          at: dateTime(),
        }),
      ),
      'Properties a merge patch deleted that the GeoServer keeps (its PUT ignores nulls), most recent first, at most 20',
    ),
  }),
  "Only for a node with its own GeoServer: how the GeoServer is doing, as the node's apply function last saw it, " +
    "applying events or running the node's jobs (`reachable: null` before its first change or job reached it)",
);

export const nodeJobSchema = described(
  z.object({
    id: z.string(),
    node: z.string(),
    kind: z.enum(JOB_KINDS),
    state: described(z.enum(JOB_STATES), '`cancelled`: ended by POST /nodes/{node}/jobs/{id}/cancel, `error` naming who cancelled it (`phase` and `progress` as it stopped)'),
    phase: z.enum(['bootstrap', 'scan-store', 'scan-geoserver', 'fix', 'done']),
    requestedBy: z.optional(z.string()),
    source: z.optional(described(z.string(), "A resync's source node")),
    progress: z.object({
      compared: z.optional(z.int()),
      missing: z.optional(z.int()),
      extra: z.optional(z.int()),
      different: z.optional(z.int()),
      toFix: z.optional(z.nullable(z.int())),
      fixed: z.optional(z.int()),
      failed: z.optional(z.int()),
      restCalls: z.optional(z.int()),
      published: z.optional(z.int()),
      copied: z.optional(described(z.int(), "Objects of the source's snapshot copied into the store so far (resync)")),
    }),
    failures: z.array(z.object({ type: z.optional(z.string()), id: z.optional(z.string()), message: z.optional(z.string()) })),
    slices: z.optional(z.int()),
    createdAt: dateTime(),
    updatedAt: dateTime(),
    finishedAt: z.nullable(dateTime()),
    error: z.nullable(z.string()),
    resync: z.optional(
      described(
        z.object({ snapshotSequence: count(), cursor: count(), appliedFromLog: count() }),
        "A resync's catch-up of the store: the snapshot's sequence, the cursor the log's events brought it to and how many it applied (as the catch-up goes, and where it stopped for a job that failed during it)",
      ),
    ),
  }),
  'A background job of a node, run in slices by its apply function from its queue (see docs/operations.md)',
);

export const nodeStateSchema = z.object({
  name: z.string(),
  role: z.enum(NODE_ROLES),
  lastAppliedSequence: count(),
  lag: described(count(), "Sequences after the node's cursor up to the log's last event: what it has yet to apply (voids and never-written sequences at the log's end, which hold nothing, are not counted)"),
  queueDepth: described(z.nullable(count()), 'Messages waiting in its queue; null for a pure master'),
  deadLetterDepth: described(
    z.nullable(count()),
    "Messages in its dead-letter queue: events it could not apply (redrive them after a fix) or messages set aside as no event of the cluster's log (discard them); GET /nodes/{node}/dead-letters lists them. Null for a pure master",
  ),
  failing: z.optional(
    described(
      z.nullable(z.object({ sequence: z.int().check(z.minimum(1)), attempts: z.int().check(z.minimum(1)), reason: z.string(), at: dateTime() })),
      'The event after its cursor that failed and is being retried',
    ),
  ),
  parked: z.optional(described(z.array(parkedEventsSchema), 'Events the node could not apply, per object (redrive after a fix, or resync)')),
  geoserver: z.optional(geoserverStateSchema),
  paused: described(z.boolean(), 'Paused: consumes nothing and may not publish (POST /nodes/{node}/resume)'),
  pausedSince: z.optional(described(dateTime(), 'When it was paused (only while paused)')),
  pausedBy: z.optional(described(z.string(), 'The node that paused it (only while paused)')),
  job: z.optional(
    described(
      z.nullable(nodeJobSchema),
      "The node's latest job (a resync; a GeoServer node's drift check, reconcile or capture), running or ended, or null: " +
        'a failed one (`state` failed, with its `error`) stays until the next job of the node replaces it',
    ),
  ),
  resync: z.optional(
    described(
      z.nullable(
        z.object({
          job: z.string(),
          state: described(z.enum(['running', 'incomplete']), '`incomplete`: the job failed or its slices stopped, and the node stays held until a resync finishes'),
          storeIncomplete: described(z.boolean(), 'The store holds part of the snapshot: the node applies no events until a resync finishes'),
          error: z.nullable(z.string()),
          resume: described(z.nullable(z.string()), 'The request that resumes the node (a new resync), when it needs one'),
        }),
      ),
      'The resync holding the node (its queue\'s events are acknowledged and applied by the resync from the log), or null',
    ),
  ),
});

export const driftEntrySchema = z.object({
  kind: z.enum(['missing', 'extra', 'different']),
  type: z.string(),
  id: z.string(),
  properties: z.optional(described(z.array(z.string()), 'Dotted paths that differ (`different` only)')),
  store: z.optional(described(z.string(), 'The GeoServer store a resource is in: an extra one, or a missing one the GeoServer holds under another store of its workspace (a reconcile moves it from there)')),
});

export const eventSummarySchema = z.object({
  sequence: z.int().check(z.minimum(1)),
  kind: described(z.nullable(z.enum(['add', 'modify', 'remove'])), 'null for an unreadable or voided stored event'),
  object: z.nullable(objectSummary),
  origin: described(z.string(), 'The node that published it'),
  publishedAt: dateTime(),
  offloaded: described(z.boolean(), 'Its change is kept in S3 (a large body)'),
  unreadable: z.optional(described(z.string(), 'Why the stored event cannot be read (only for such an event)')),
  voided: z.optional(described(z.literal(true), 'A sequence given up with nothing committed under it (kind and object null)')),
});

export const pauseOutcomeSchema = z.object({
  node: z.string(),
  paused: z.boolean(),
  since: z.optional(described(dateTime(), 'When the pause began (a repeated pause keeps the first)')),
  by: z.optional(described(z.string(), 'The node that paused it')),
  consumption: described(
    z.enum(['disabled', 'enabled', 'none']),
    "The node's queue consumption after the call; `none` for a pure master, which has no queue",
  ),
});

export const publishedEventSchema = described(
  z.union([configEventSchema(), offloadedEventSchema()]),
  'An event as the event log stores it and the topic carries it',
);

export const derivedEventSchema = described(
  z.object({
    sequence: described(z.int().check(z.minimum(1)), 'The sequence of the derived event, right after the change it follows'),
    derivedFrom: described(count(), "The index in the request's `changes` of the change it follows (0 for a single change)"),
    object: described(z.object({ type: objectType, id: z.string() }), 'The partner: a layer, or a feature type, coverage, WMS or WMTS layer'),
    patch: described(z.record(z.string(), z.unknown()), 'The flags taken along: `enabled` and/or `advertised`, as the change stated them'),
  }),
  "A modify the service added after a change stating a layer's or resource's `enabled` or `advertised` that its partner " +
    '(the resource the layer names; the layer of the same id) held otherwise: GeoServer holds those flags once for both, so ' +
    "every GeoServer node's PUT changes both, and the stores follow only by this event. Only in a cluster with GeoServer nodes",
);

/** Listed on an answer only when the request took partners' flags along. */
const derivedEvents = () => z.optional(described(z.array(derivedEventSchema), 'The events derived from the request, each right after its change (absent when none)'));

export const publishAnswerSchema = z.object({
  sequence: described(z.int().check(z.minimum(1)), 'The cluster-wide sequence of the event'),
  event: publishedEventSchema,
  published: described(z.boolean(), 'False when the topic refused it: the republish schedule sends it within a minute or so'),
  appliedLocally: described(
    z.boolean(),
    "Whether the publishing node's own store held the event when the answer was sent. Always false on a pure master in a cluster " +
      "with the master-stores queue (every cluster with a pure master): that queue's consumer applies the master's store after " +
      'the answer, within about a delivery. A `both` node applies it on the request only when its store is right before it; ' +
      "otherwise (other masters' events not applied there yet, a failed write, a resync holding the store) false, and its own " +
      'queue brings it after the events before it',
  ),
  derived: derivedEvents(),
});

export const changeSetAnswerSchema = z.object({
  firstSequence: z.int().check(z.minimum(1)),
  lastSequence: z.int().check(z.minimum(1)),
  count: described(z.int().check(z.minimum(1)), "The events committed: the request's changes plus the derived ones (`derived`)"),
  origin: described(z.string(), 'The node that published the set (every event of the set carries it)'),
  publishedAt: dateTime(),
  published: z.boolean(),
  appliedLocally: described(z.boolean(), "Whether the publishing node's own store held the whole set when the answer was sent (as for one change)"),
  derived: derivedEvents(),
});

export const eventLogPageSchema = z.object({
  head: described(count(), 'Highest sequence in the event log when the page was read'),
  events: z.array(eventSummarySchema),
  next: described(z.nullable(count()), 'Pass as `since` for the next page; null when the page reaches the head. The `since` asked for itself when the sequence after it is allocated to a publisher and not yet written (a moment): ask again shortly'),
});

export const nodeListSchema = z.object({
  head: described(count(), 'Highest sequence in the event log (0 when empty)'),
  nodes: z.array(nodeStateSchema),
});

export const catalogPageSchema = z.object({
  node: z.string(),
  cursor: described(count(), "The node's last applied sequence, read before the objects: the page reflects at least that much"),
  objects: z.array(storedObjectSchema),
  next: z.optional(described(z.string(), 'Present when more objects follow: pass it as `next`')),
});

export const jobAnswerSchema = z.object({ job: nodeJobSchema });

export const driftReportSchema = z.object({
  node: z.string(),
  job: nodeJobSchema,
  complete: described(z.boolean(), 'False while the check is still reading (no differences shown yet)'),
  counts: z.object({ missing: z.optional(z.int()), extra: z.optional(z.int()), different: z.optional(z.int()) }),
  differences: z.array(driftEntrySchema),
  next: z.optional(described(z.string(), 'Present when more differences follow: pass it as `after`')),
});

export const resyncJobAnswerSchema = z.object({ node: z.string(), source: z.string(), job: nodeJobSchema });
export const resyncAnswerSchema = z.object({
  node: z.string(),
  source: z.string(),
  sequence: described(count(), "The node's cursor after catching up with the log"),
  snapshotSequence: described(count(), "The source's cursor when the snapshot was read"),
  appliedFromLog: described(count(), 'Events applied from the log after the snapshot'),
  job: z.optional(described(nodeJobSchema, 'The resync job, done')),
});

export const redriveAnswerSchema = z.object({
  node: z.string(),
  moved: count(),
  more: described(z.boolean(), 'The dead-letter queue may still hold messages'),
  parked: z.object({
    retriedBy: z.optional(
      described(z.literal('apply function'), "The node's apply function retries them after this answer (a node with a GeoServer): `cleared` is then empty"),
    ),
    cleared: described(z.array(z.int()), 'Parked sequences now applied'),
    stillParked: z.array(parkedEventsSchema),
    more: described(
      z.boolean(),
      'The time of this request ran out before every parked record was retried: redrive again to go on. Always false where `retriedBy` is set (the apply function logs when its retry stops short: GET /nodes shows what is still parked)',
    ),
  }),
});

export const deadLetterSchema = z.object({
  messageId: z.string(),
  setAside: described(
    z.boolean(),
    `Set aside by the node's apply function (message group \`${SET_ASIDE_GROUP_PREFIX}<message id>\`): no event of the cluster's log, which a redrive leaves where it is and a discard may delete. False: an event that failed, which a redrive moves back to the queue`,
  ),
  reason: described(z.nullable(z.string()), 'Why it was set aside, as the apply function recorded it; null for any other message, and for one set aside before reasons were recorded'),
  messageGroupId: z.nullable(z.string()),
  origin: described(z.nullable(z.string()), "The `origin` message attribute: the publishing node, as the message's sender said"),
  sentAt: described(z.nullable(dateTime()), 'When it was sent to the queue it was received from'),
  receiveCount: described(z.nullable(z.int()), "How many times it was received from the dead-letter queue, listings included"),
  size: described(count(), "The body's size in bytes (UTF-8)"),
  body: described(z.string(), `The first ${DEAD_LETTER_BODY_PREVIEW_CHARS} characters of the body`),
  bodyTruncated: described(z.boolean(), 'The body is longer than what `body` shows'),
  event: described(
    z.nullable(
      z.object({
        sequence: z.int().check(z.minimum(1)),
        kind: z.enum(['add', 'modify', 'remove']),
        object: z.object({ type: z.string(), id: z.string() }),
      }),
    ),
    "Of an event that failed (`setAside` false): its sequence, kind and object as its whole body gives them, unchecked against the log. Null for a message set aside, or a body that reads as no event",
  ),
});

export const deadLettersAnswerSchema = z.object({
  node: z.string(),
  deadLetterDepth: described(z.nullable(count()), 'Messages in the dead-letter queue, listed or not (approximate, as SQS counts them); null for a pure master'),
  messages: described(z.array(deadLetterSchema), 'Oldest sent first'),
  more: described(
    z.boolean(),
    "The listing stopped at `limit` or its time before the queue had no other message to show. Of the events that failed (which share one message group) only the oldest are shown: redrive them to see the rest",
  ),
});

export const discardAnswerSchema = z.object({
  node: z.string(),
  discarded: described(z.array(z.string()), 'The message ids deleted from the dead-letter queue'),
  kept: described(
    z.array(
      z.object({
        messageId: z.string(),
        cause: described(
          z.enum(['NOT_SET_ASIDE', 'NOT_FOUND']),
          'NOT_SET_ASIDE: an event that failed (redrive it instead); NOT_FOUND: not in the queue (discarded or redriven already), held by another reader at the time, or not reached in time (`more`)',
        ),
        reason: z.string(),
      }),
    ),
    'The message ids named and not deleted, each with why',
  ),
  more: described(z.boolean(), "The request's time ran out before the queue was read through: a message NOT_FOUND may still be in it (send the discard again)"),
});

/** Config sync's named schemas in the document (components/schemas). */
export const CONFIG_SYNC_SCHEMAS = {
  ObjectRef: objectRefSchema(),
  ConfigChange: configChangeSchema(),
  ConfigChangeSet: configChangeSetSchema,
  ConfigEvent: configEventSchema(),
  OffloadedEvent: offloadedEventSchema(),
  PublishedEvent: publishedEventSchema,
  StoredObject: storedObjectSchema,
  NodeState: nodeStateSchema,
  NodeJob: nodeJobSchema,
  DriftEntry: driftEntrySchema,
  EventSummary: eventSummarySchema,
  PauseOutcome: pauseOutcomeSchema,
  ParkedEvents: parkedEventsSchema,
  GeoServerState: geoserverStateSchema,
  DerivedEvent: derivedEventSchema,
  DeadLetter: deadLetterSchema,
} as const;

/** Descriptions of schemas owned by events.ts and objects.ts, which the document adds to them. */
export const CONFIG_SYNC_SCHEMA_DESCRIPTIONS: Readonly<Partial<Record<keyof typeof CONFIG_SYNC_SCHEMAS, string>>> = {
  ObjectRef:
    'A configuration object: its type and its stable id, derived from GeoServer names. `workspace`, `namespace`, ' +
    '`workspaceSettings`: a bare name; stores, resources and layers: `workspace:name`; `style`, `layerGroup`: `name` or ' +
    '`workspace:name`; `service`: the service in capitals, optionally qualified (`WMS`, `topp:WFS`); `global` and ' +
    '`logging` are singletons whose id may be omitted.',
  ConfigChange:
    'One change of POST /config/events: `add` (the full object as `properties`), `modify` (a JSON Merge Patch, RFC 7386, of the ' +
    'changed properties in `patch`: `null` removes a property), or `remove` (`recurse: true` cascades, as GeoServer\'s ' +
    'DELETE does). `properties` are GeoServer\'s REST JSON representation of the object, the value inside its wrapper ' +
    '(`{"dataStore": {...}}`); settings are the representations of `/settings`, `/workspaces/{ws}/settings`, ' +
    '`/services/{service}/settings` and `/logging`. Configuration ' +
    `(${CONFIGURATION_TYPES.join(', ')}) always exists and is only ever modified. What a GeoServer needs to apply it is ` +
    'checked (400 naming the field): the name (`prefix` for a namespace) agrees with the id; a feature type, coverage or ' +
    'WMS/WMTS layer names its store (`store.name`), a layer its resource (`resource.name`); a style states its `format` ' +
    `(sld, css, ysld, mbstyle) and carries its document as the non-empty string \`properties.${STYLE_BODY_PROPERTY}\`; ` +
    'a patch may not rename nor remove those.',
  ConfigChangeSet:
    `Up to ${MAX_CHANGE_SET_ITEMS} changes committed all or nothing under one contiguous range of sequences, in order. ` +
    'In a cluster with GeoServer nodes they must be in dependency order (400 naming the change that names an object a later change adds)',
  ConfigEvent: 'A change with the sequence, cluster, origin node and publish time the service assigned',
  OffloadedEvent: 'An event whose change was too large for a message: the change is stored under `bodyRef` and fetched by the nodes',
};

// ---- Examples: real GeoServer representations, as its REST API answers them (inside the wrapper) ----

const SLD_EXAMPLE =
  '<?xml version="1.0" encoding="UTF-8"?><StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" ' +
  'xmlns:ogc="http://www.opengis.net/ogc"><NamedLayer><Name>roads</Name><UserStyle><FeatureTypeStyle><Rule><LineSymbolizer>' +
  '<Stroke><CssParameter name="stroke">#333333</CssParameter><CssParameter name="stroke-width">2</CssParameter></Stroke>' +
  '</LineSymbolizer></Rule></FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>';

export const CONFIG_CHANGE_EXAMPLES = {
  workspace: {
    summary: 'A workspace',
    value: { kind: 'add', object: { type: 'workspace', id: 'topp' }, properties: { name: 'topp', isolated: false } },
  },
  postgisDataStore: {
    summary: 'A PostGIS data store',
    value: {
      kind: 'add',
      object: { type: 'dataStore', id: 'topp:roads_pg' },
      properties: {
        name: 'roads_pg',
        description: 'Road network',
        type: 'PostGIS',
        enabled: true,
        workspace: { name: 'topp' },
        connectionParameters: {
          entry: [
            { '@key': 'host', $: 'db.internal' },
            { '@key': 'port', $: '5432' },
            { '@key': 'database', $: 'gis' },
            { '@key': 'schema', $: 'public' },
            { '@key': 'user', $: 'geoserver' },
            { '@key': 'dbtype', $: 'postgis' },
          ],
        },
      },
    },
  },
  featureType: {
    summary: 'A feature type of that store',
    value: {
      kind: 'add',
      object: { type: 'featureType', id: 'topp:roads' },
      properties: {
        name: 'roads',
        nativeName: 'roads',
        title: 'Roads',
        keywords: { string: ['roads', 'transport'] },
        srs: 'EPSG:4326',
        nativeBoundingBox: { minx: -180, maxx: 180, miny: -90, maxy: 90, crs: 'EPSG:4326' },
        latLonBoundingBox: { minx: -180, maxx: 180, miny: -90, maxy: 90, crs: 'EPSG:4326' },
        projectionPolicy: 'FORCE_DECLARED',
        enabled: true,
        store: { '@class': 'dataStore', name: 'topp:roads_pg' },
      },
    },
  },
  layer: {
    summary: 'Its layer',
    value: {
      kind: 'add',
      object: { type: 'layer', id: 'topp:roads' },
      properties: {
        name: 'roads',
        type: 'VECTOR',
        defaultStyle: { name: 'topp:roads' },
        resource: { '@class': 'featureType', name: 'topp:roads' },
        queryable: true,
        opaque: false,
      },
    },
  },
  style: {
    summary: 'A style with its SLD',
    value: {
      kind: 'add',
      object: { type: 'style', id: 'topp:roads' },
      properties: {
        name: 'roads',
        workspace: { name: 'topp' },
        format: 'sld',
        languageVersion: { version: '1.0.0' },
        filename: 'roads.sld',
        [STYLE_BODY_PROPERTY]: SLD_EXAMPLE,
      },
    },
  },
  modify: {
    summary: 'A change of one field (JSON Merge Patch)',
    value: { kind: 'modify', object: { type: 'featureType', id: 'topp:roads' }, patch: { title: 'Main roads' } },
  },
  serviceSettings: {
    summary: 'WMS settings of a workspace',
    value: { kind: 'modify', object: { type: 'service', id: 'topp:WMS' }, patch: { enabled: true, maxRenderingTime: 60 } },
  },
  remove: {
    summary: 'A workspace removed with its contents',
    value: { kind: 'remove', object: { type: 'workspace', id: 'topp' }, recurse: true },
  },
} as const;

/** The same workspace, store, feature type, layer and style, published as one change set. */
export const CHANGE_SET_EXAMPLE = {
  summary: 'A workspace with its store, feature type, style and layer, all or nothing',
  value: {
    changes: [
      CONFIG_CHANGE_EXAMPLES.workspace.value,
      CONFIG_CHANGE_EXAMPLES.postgisDataStore.value,
      CONFIG_CHANGE_EXAMPLES.featureType.value,
      CONFIG_CHANGE_EXAMPLES.style.value,
      CONFIG_CHANGE_EXAMPLES.layer.value,
    ],
  },
};

// ---- Operations ----

const nodePath = z.object({ node: described(nodeNameSchema, 'A node declared in the cluster configuration') });
const unknownNode = errorResponse('The cluster configuration declares no such node (NODE_NOT_FOUND)');
const TAG = 'Configuration sync';

const jobStartResponses: Readonly<Record<number, ResponseDeclaration>> = {
  202: {
    description: 'The job was started; `Location` names it. Its progress shows in GET /nodes and GET /nodes/{node}/jobs/{id}',
    headers: ['Location'],
    content: jsonContent(jobAnswerSchema),
  },
  400: errorResponse('A body: the route takes none (send none, or {})'),
  403: errorResponse('A slave acting on another node, or an operator (read-only)'),
  404: unknownNode,
  409: errorResponse(
    'The node declares no GeoServer (NO_GEOSERVER), is not a master (NOT_A_MASTER, capture only), runs another job ' +
      '(JOB_RUNNING, with that `job`), or a resync holds its store, running or left half-copied (NODE_HELD_BY_RESYNC, ' +
      'reconcile and capture only, with that `resync` as GET /nodes shows it)',
  ),
};
const pauseResponses: Readonly<Record<number, ResponseDeclaration>> = {
  200: { description: "The node's state after the call", content: jsonContent(pauseOutcomeSchema) },
  400: errorResponse('A body: the route takes none (send none, or {})'),
  403: errorResponse('Neither the node itself nor a master'),
  404: unknownNode,
  409: errorResponse(
    'SWITCH_IN_PROGRESS: another pause or resume of the node is in progress; nothing was changed, try again. CONSUMPTION_SWITCH_BUSY: the node\'s event source mapping is still changing state from an earlier pause or resume (Retry-After); repeat the call',
  ),
};

export const CONFIG_SYNC_API = {
  publishConfigEvent: {
    operationId: 'publishConfigEvent',
    summary: 'Publish a configuration change, or a change set (master and `both` nodes only)',
    description:
      'The change gets the next cluster-wide sequence in the event log (the commit point), is published to the SNS FIFO ' +
      "topic for every consuming node's queue, and is applied to the publishing node's own store. Once the log has it, " +
      'the change is never lost: a publish or local write that fails afterwards is recovered automatically (see ' +
      '`published` and `appliedLocally`), so a 201 must not be retried without an `Idempotency-Key`. A change set ' +
      `(\`{"changes": [...]}\`, at most ${MAX_CHANGE_SET_ITEMS}) is validated whole and committed all or nothing under one ` +
      'contiguous range of sequences. A change too large for a message (a large style) is carried through S3 ' +
      'transparently. A pure slave is refused (403 PURE_SLAVE) before its body is read; an invalid body is a 400 naming ' +
      'the field (`changes[3].object.type` in a set), and nothing is published. In a cluster with GeoServer nodes, a change ' +
      "stating a layer's or resource's `enabled` or `advertised` that its partner (the resource the layer names, the layer of " +
      "the same id) holds otherwise takes the partner's along, as GeoServer does: a modify of the partner right after it, in " +
      'the same range, listed in `derived`.',
    tag: TAG,
    headers: z.object({
      'Idempotency-Key': z.optional(
        described(
          z.string().check(z.regex(/^[\x21-\x7e]{1,255}$/)),
          'Makes a retry safe: the same key with the same body within 24 hours gets the first answer again (with ' +
            '`Idempotent-Replayed: true`) and publishes nothing; the same key with another body is a 422',
        ),
      ),
    }),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z.union([configChangeSchema(), configChangeSetSchema]),
          examples: { ...CONFIG_CHANGE_EXAMPLES, changeSet: CHANGE_SET_EXAMPLE },
        },
      },
    },
    responses: {
      201: {
        description: 'Committed to the event log: one change with its sequence, or a change set with its range',
        content: jsonContent(z.union([publishAnswerSchema, changeSetAnswerSchema])),
      },
      400: errorResponse('Invalid change (INVALID_REQUEST, `field` names the first offending member) or malformed JSON (INVALID_JSON, also for a lone surrogate or a number a double cannot carry exactly; INVALID_ENCODING for a body not in UTF-8)'),
      403: errorResponse(
        'The calling node is a pure slave (PURE_SLAVE), has a GeoServer and so publishes through the REST gateway (GEOSERVER_NODE), ' +
          'or is not a member of the cluster (FORBIDDEN); nothing is published',
      ),
      409: {
        ...errorResponse(
          'The publishing node is paused (NODE_PAUSED, with `pausedSince` and `pausedBy`): resume it first; or a request ' +
            'with the same Idempotency-Key committed its `sequence` and has not answered yet (IDEMPOTENT_REQUEST_IN_PROGRESS): ' +
            'send it again after `Retry-After`, to get its answer',
        ),
        headers: ['RetryAfter'],
      },
      413: errorResponse(`One change larger than 1 MiB, or a change set larger than ${MAX_CHANGE_SET_BYTES} bytes`),
      415: errorResponse('Body is not JSON'),
      422: errorResponse('The Idempotency-Key was used with another body (IDEMPOTENCY_KEY_REUSED, with the `sequence` it committed)'),
      503: {
        ...errorResponse(
          'The sequences given to this request were closed as void before its write arrived (SEQUENCES_ABANDONED, with ' +
            '`first` and `last`): nothing was stored; send it again after `Retry-After`',
        ),
        headers: ['RetryAfter'],
      },
    },
  },
  listConfigEvents: {
    operationId: 'listConfigEvents',
    summary: 'The configuration event log, one page of event summaries oldest first (nodes and operators)',
    description:
      'Each summary names the change (kind, object, publishing node, time), never its properties: the object is one ' +
      '`GET /nodes/{node}/catalog/{type}/{id}` away. With `since`, the events after that sequence and `next` to continue; ' +
      'without it, the latest `limit` events.',
    tag: TAG,
    query: eventLogQuerySchema(),
    responses: {
      200: { description: 'One page of the log', content: jsonContent(eventLogPageSchema) },
      400: errorResponse('`since` or `limit` out of range, or another query parameter (INVALID_REQUEST, `field` names it)'),
    },
  },
  listNodes: {
    operationId: 'listNodes',
    summary: 'Every node of the cluster with its role, applied sequence, lag and queue depths',
    tag: TAG,
    responses: { 200: { description: 'The event log head and every declared node', content: jsonContent(nodeListSchema) } },
  },
  getNodeCatalog: {
    operationId: 'getNodeCatalog',
    summary: "What a node's store holds now, one page at a time",
    description:
      'Objects ordered by `type/id`. A page is cut short at about 5 MB (large styles); follow `next`, with the same `type`: a `next` ' +
      'that no page of this listing hands out (one from a listing of another type, or the key of no object) is a 400 naming `next`. What a remove with `recurse` took ' +
      '(the objects in a removed workspace, store or resource, last changed before that remove, even if it was created again since) ' +
      'is left out like a removed object, and shown with `deleted: true` with `includeDeleted`; a page may so hold fewer objects than `limit`.',
    tag: TAG,
    path: nodePath,
    query: catalogQuerySchema(),
    responses: {
      200: { description: 'One page of objects', content: jsonContent(catalogPageSchema) },
      400: errorResponse('Invalid type, limit, next or includeDeleted; `field` names it'),
      404: unknownNode,
    },
  },
  getNodeCatalogObject: {
    operationId: 'getNodeCatalogObject',
    summary: 'One object as a node holds it now',
    tag: TAG,
    path: z.object({
      node: nodePath.shape.node,
      type: objectType,
      id: described(
        z.string().check(z.maxLength(512)),
        'The object id: `name`, `workspace:name`, a service such as `WMS` or `topp:WFS`, or the type name of a singleton',
      ),
    }),
    responses: {
      200: { description: 'The object', content: jsonContent(storedObjectSchema) },
      400: errorResponse('Unknown object type; `field` is `type`'),
      404: errorResponse('No such node (NODE_NOT_FOUND), or the node holds no such object or it was removed, also with what contained it (OBJECT_NOT_FOUND)'),
    },
  },
  resyncNode: {
    operationId: 'resyncNode',
    summary: "Bootstrap a node's store from a snapshot of another node's store plus the event log after it",
    description:
      'For a new node, one that was away longer than its queue retention, or one whose store is in doubt. The default ' +
      'source is the first master or `both` node other than the target. The node keeps following its queue meanwhile. ' +
      "A consuming node's resync is a background job run by its own apply function (202 with the job; progress in GET " +
      '/nodes/{node}/jobs/{id} and GET /nodes); for a node with a GeoServer it ends with a reconcile of that GeoServer. ' +
      'A pure master has no queue: its resync is a job whose slices run within the requests asking for it, up to 20 s ' +
      'each: 200 once done, 202 with the job while it is not (send the same request again to go on from its checkpoint).',
    tag: TAG,
    path: nodePath,
    body: { required: false, content: jsonContent(resyncRequestSchema()) },
    responses: {
      200: { description: 'A pure master was resynced (its job done within this request)', content: jsonContent(resyncAnswerSchema) },
      202: {
        description: 'A consuming node: the resync job was started. A pure master: its job went on and is not done yet (send the request again). `Location` names the job',
        headers: ['Location'],
        content: jsonContent(resyncJobAnswerSchema),
      },
      400: errorResponse('`source` is not another node of the cluster, the body is invalid (`field` names it) or malformed'),
      403: errorResponse('A slave acting on another node, or an operator (read-only)'),
      404: unknownNode,
      409: errorResponse(
        'No master other than the target to resync from (NO_RESYNC_SOURCE): name a source; events after the snapshot ' +
          'are missing from the log (RESYNC_REQUIRED); the node runs another job (JOB_RUNNING, with that `job`); or a pure ' +
          "master's resync job failed (RESYNC_FAILED, with the `job` and its `error`)",
      ),
      413: errorResponse('The body is larger than 64 KiB (no job is started)'),
      415: errorResponse('A body was sent that is not JSON'),
    },
  },
  getNodeDrift: {
    operationId: 'getNodeDrift',
    summary: "The differences the node's latest drift check found between its GeoServer and its store",
    description:
      'The report of the latest drift, reconcile or capture job of the node (a check reads the whole GeoServer over REST, ' +
      'longer than a request may last for a large catalog: POST /nodes/{node}/drift starts one). `missing`: the store holds ' +
      'the object, the GeoServer does not; `extra`: the reverse; `different`: both hold it, `properties` name what differs. ' +
      'Paged: follow `next`. The node itself, a master or an operator may read it.',
    tag: TAG,
    path: nodePath,
    query: driftQuerySchema(),
    responses: {
      200: { description: 'The latest check and one page of its differences', content: jsonContent(driftReportSchema) },
      400: errorResponse('Invalid limit or after; `field` names it'),
      403: errorResponse('A slave asking about another node'),
      404: errorResponse('No such node (NODE_NOT_FOUND), or no drift check has run on it yet (NOT_FOUND)'),
    },
  },
  checkNodeDrift: {
    operationId: 'checkNodeDrift',
    summary: "Start a drift check of the node's GeoServer against its store (a job)",
    tag: TAG,
    path: nodePath,
    responses: jobStartResponses,
  },
  reconcileNode: {
    operationId: 'reconcileNode',
    summary: "Make the node's GeoServer match its store (a job): add what is missing, update what differs, remove extras",
    description:
      'Adds and updates go in dependency order (workspaces, stores, styles, resources, layers, groups, settings), removals ' +
      'in the reverse, without recurse. What the GeoServer refuses is counted in `progress.failed` and listed in `failures`.',
    tag: TAG,
    path: nodePath,
    responses: jobStartResponses,
  },
  captureNode: {
    operationId: 'captureNode',
    summary: "Publish the differences between a master's GeoServer and its store as its events (a job)",
    description:
      "The master's GeoServer is the truth: what it holds that the store does not is added, what differs is modified " +
      "with its whole state, what it lacks is removed. Finds changes made in its web UI, and a gateway write whose " +
      'publish was lost.',
    tag: TAG,
    path: nodePath,
    responses: jobStartResponses,
  },
  getNodeJob: {
    operationId: 'getNodeJob',
    summary: 'A job of the node, with its progress and outcome',
    tag: TAG,
    path: z.object({ node: nodePath.shape.node, id: z.string().check(z.maxLength(64)) }),
    responses: {
      200: { description: 'The job', content: jsonContent(jobAnswerSchema) },
      403: errorResponse('A slave asking about another node'),
      404: errorResponse('No such node (NODE_NOT_FOUND) or job (NOT_FOUND)'),
    },
  },
  cancelNodeJob: {
    operationId: 'cancelNodeJob',
    summary: 'Cancel a queued or running job of the node: it ends `cancelled`, and the node takes a new job at once',
    description:
      'One conditional write ends the job and gives the node back (to the capture waiting to follow it, if an upload asked for one, ' +
      'whose first slice is queued); a slice running then stops at its next checkpoint, saving nothing. What the job did before ' +
      '(each fix or publish a whole REST call or event) stays done: a drift check shows what is left. A resync is cancelled ' +
      'before its copy of the snapshot begins (its hold of the node given back) and during its catch-up or closing reconcile, ' +
      'never while the copy leaves the store half-copied (409 RESYNC_COPYING). Sent again, the same answer. The node itself or a master may cancel.',
    tag: TAG,
    path: z.object({ node: nodePath.shape.node, id: z.string().check(z.maxLength(64)) }),
    responses: {
      200: { description: 'The job, cancelled (now, or by an earlier cancel)', content: jsonContent(jobAnswerSchema) },
      400: errorResponse('A body: the route takes none (send none, or {})'),
      403: errorResponse('A slave acting on another node, or an operator (read-only)'),
      404: errorResponse('No such node (NODE_NOT_FOUND) or job (NOT_FOUND)'),
      409: errorResponse(
        'The job had already ended otherwise (JOB_ENDED, with that `job`); it is a resync copying its snapshot into the store ' +
          '(RESYNC_COPYING, with that `job`: cancelled, it would leave the store half-copied; wait for it to finish); or it is the capture ' +
          "an upload asked for, waiting to follow the node's running job (CAPTURE_WAITING, with that `job`: a reconcile leaves the upload " +
          'alone only while it waits; cancel the running job instead, or the capture once it runs). Nothing was written',
      ),
    },
  },
  redriveNode: {
    operationId: 'redriveNode',
    summary: "Move the messages of a node's dead-letter queue back to its queue and retry its parked events",
    description:
      'Call once the cause of their failure is fixed. `more` is true when the time budget ran out first: call again. ' +
      'A pure master has no queue (`moved` 0); its parked events are retried all the same.',
    tag: TAG,
    path: nodePath,
    responses: {
      200: { description: 'Messages moved, parked events retried', content: jsonContent(redriveAnswerSchema) },
      202: {
        description: "A node with a GeoServer: messages moved; its apply function retries the parked events next (they are listed as they stand)",
        content: jsonContent(redriveAnswerSchema),
      },
      400: errorResponse('A body: the route takes none (send none, or {})'),
      403: errorResponse('A slave acting on another node, or an operator (read-only)'),
      404: unknownNode,
    },
  },
  listNodeDeadLetters: {
    operationId: 'listNodeDeadLetters',
    summary: "The messages of a node's dead-letter queue, read without consuming them",
    description:
      'Each message is received, held for the request and made visible again: a redrive run meanwhile does not see it. ' +
      'Shown for each: whether the apply function set it aside as no event of the cluster\'s log (forged, of another cluster, ' +
      "past the log's head, or differing from the log's event) and why, or whether it is an event that failed (redrive it). " +
      'The node itself, a master or an operator may list.',
    tag: TAG,
    path: nodePath,
    query: deadLettersQuerySchema(),
    responses: {
      200: { description: 'Up to `limit` messages, oldest sent first', content: jsonContent(deadLettersAnswerSchema) },
      400: errorResponse('`limit` out of range, or another query parameter (INVALID_REQUEST, `field` names it)'),
      403: errorResponse('A slave asking about another node'),
      404: unknownNode,
    },
  },
  discardNodeDeadLetters: {
    operationId: 'discardNodeDeadLetters',
    summary: "Delete from a node's dead-letter queue the named messages its apply function set aside",
    description:
      'Only a message set aside as no event of the cluster\'s log is deleted (a redrive leaves those where they are, and its ' +
      "dead-letter alarm would stay on for the queue's 14-day retention); an event that failed is kept (NOT_SET_ASIDE): a redrive " +
      `moves it back to the queue, and deleting it could lose a change. At most ${MAX_DISCARD_IDS} ids per request. ` +
      'The node itself or a master may discard.',
    tag: TAG,
    path: nodePath,
    body: { required: true, content: jsonContent(discardRequestSchema()) },
    responses: {
      200: { description: 'What was discarded, and what was kept and why', content: jsonContent(discardAnswerSchema) },
      400: errorResponse('No body, malformed JSON, or `messageIds` missing, empty, too long, with an id twice or a value that is no message id (`field` names it)'),
      403: errorResponse('A slave acting on another node, or an operator (read-only)'),
      404: unknownNode,
      413: errorResponse('The body is larger than 64 KiB (nothing is deleted)'),
      415: errorResponse('The body is not JSON'),
    },
  },
  pauseNode: {
    operationId: 'pauseNode',
    summary: 'Pause a node: stop its queue consumption and refuse its publishes',
    description:
      "Its queue keeps every event meanwhile. While paused, the node's `POST /config/events` answers 409 NODE_PAUSED. Only the node itself or a master may; pausing again changes nothing.",
    tag: TAG,
    path: nodePath,
    responses: pauseResponses,
  },
  resumeNode: {
    operationId: 'resumeNode',
    summary: 'Resume a paused node: restart its consumption and accept its publishes',
    description: 'The queue then delivers what accumulated, in order. Resuming a node that is not paused changes nothing.',
    tag: TAG,
    path: nodePath,
    responses: pauseResponses,
  },
} as const satisfies Record<string, OperationDeclaration>;

// ---- The GeoServer REST gateway (built only with cluster.gateway switched on) ----

/** A body or answer of GeoServer's own, in any of its media types (XML, JSON, SLD, CSS, HTML, text). */
const geoserverDocument = z.string().check(z.meta({ format: 'binary', description: "A GeoServer REST representation in the call's media type, passed through unchanged" }));
/** API Gateway's own refusals (a body over its 10 MB, its throttle) carry only a message. */
const apiGatewayMessageSchema = z.object({ message: z.string() }).check(z.describe("API Gateway's own answer, before the gateway function runs"));
/** The gateway's `{code, message, field}`, or API Gateway's own `{message}` (a body over its limit). */
const gatewayOrApiGatewayErrorSchema = z
  .looseObject({ code: z.optional(z.string()), message: z.string(), field: z.optional(z.string()) })
  .check(z.describe("The gateway's error `{code, message, field}`, or API Gateway's own `{message}` when it refused the request itself"));
/** A gateway error (JSON, `{code, message}`), or the same status answered by the master GeoServer itself. */
const gatewayOrGeoServer = (description: string, apiGateway = false): ResponseDeclaration => ({
  description,
  content: {
    'application/json': { schema: apiGateway ? gatewayOrApiGatewayErrorSchema : errorSchema },
    '*/*': { schema: geoserverDocument },
  },
});

/**
 * `ANY /geoserver/rest/{proxy+}`: one declaration for every method of the catch-all route (the
 * document has one operation per method, each id suffixed with it). Its errors are those of
 * handlers/geoserver-gateway.ts and gateway/limits.ts; every other answer is the master's.
 */
export const GATEWAY_API = {
  geoserverRest: {
    operationId: 'geoserverRest',
    summary: "The master GeoServer's REST API: forwarded, and every write it applies to a replicated type published to the cluster",
    description:
      "Behaves as the REST API (`<geoserver>/rest/...`) of the master node's GeoServer (cluster.gateway): the call's query string, " +
      "content type and body are forwarded unchanged, with the caller's HTTP Basic credentials, and the master's status, content type " +
      'and body come back unchanged. After a successful POST, PUT or DELETE to a path of a replicated type (workspaces, namespaces, ' +
      'stores, resources, layers, layer groups, styles, global, service and workspace settings, logging) the gateway reads the object ' +
      'back from the master and publishes it as the master\'s events, with what GeoServer created, changed or removed along with it (a workspace\'s namespace, ' +
      'a namespace\'s workspace, the isolation they share, the namespace connection parameter of the workspace\'s data stores, a resource\'s layer): `X-Cluster-Replicated: true` and `X-Cluster-Sequence` name them. ' +
      'A POST, PUT or DELETE the master answers with a 5xx (GeoServer may fail part way through a write) is read back too, and what the master holds of it published, the 5xx passed on. ' +
      'A successful upload into a store (PUT .../datastores/{store}/{method}.{format}, the coverage store equivalents) starts a capture of ' +
      'the master, which publishes what GeoServer made of it: `X-Cluster-Replicated: capture` and `X-Cluster-Job` name that job. ' +
      'Other paths (security, GeoWebCache, the importer, resources, reload) are forwarded and answered with ' +
      '`X-Cluster-Replicated: false`. Writes to replicated paths are applied one at a time per cluster (a write lease), so the log ' +
      "holds them in the master's order. The route has the cluster's own throttle (cluster.gateway.rateLimit, burstLimit) and, " +
      'with cluster.gateway.allowedSourceIps, answers only those addresses. See docs/operations.md, "The GeoServer REST gateway".',
    tag: 'GeoServer REST gateway',
    path: z.object({
      'proxy+': described(z.string(), 'The GeoServer REST path under `/geoserver/rest`, as in GeoServer\'s REST reference, e.g. `workspaces/topp/datastores.json`'),
    }),
    body: { required: false, content: { '*/*': { schema: geoserverDocument } } },
    responses: {
      400: gatewayOrGeoServer(
        'A write the cluster could not replicate (NOT_REPLICABLE: a name its ids cannot carry, or one holding a `\\` its paths cannot, a resource\'s `nativeName` when it is POSTed without a `name`, a layer named without its workspace, ' +
          'a query parameter given twice or a `recurse` GeoServer reads as neither true nor false, a JSON body naming a member twice in one object ' +
          'or a name that is not a string, a JSON body nested deeper than 65 levels or holding a lone UTF-16 surrogate, a style file POSTed without `?name=`, `POST /workspaces?default=true`, a write under the workspace `default` (GeoServer\'s alias for its default workspace), a DELETE of settings, a body that is not UTF-8 ' +
          'or XML declaring another encoding), or a path the master would read as another (INVALID_PATH: a `;` path parameter, a dot ' +
          "segment in any encoding, a `#` or `?` not escaped, an encoded `/` or `\\`, a `+` in a replicated path, a write ending in `.yaml`, `.ysld` or `.mbstyle`), or a body with " +
          'a DOCTYPE declaration, on any path, or a zipped style package whose SLD has one (XML_DOCTYPE, field `body`: its entities could be fetched or expanded by the master), ' +
          'or an XML body, on any path, in an encoding the DOCTYPE check cannot read (XML_ENCODING, field `body`: EBCDIC, or a declared encoding whose markup is not ASCII bytes), ' +
          'or a namespace POSTed without a `uri` or PUT with a blank one, which GeoServer would refuse with a 500 (INVALID_REQUEST, field `uri`), ' +
          'or a style\'s info (JSON or XML) POSTed without a `filename` or PUT with a blank or null one, which GeoServer would refuse with a 500, or with a `filename` that is not a JSON string or not one file of the styles folder (INVALID_REQUEST, field `filename`), ' +
          'or a zipped style package the gateway cannot read within its bounds to check (STYLE_PACKAGE, field `body`: not a plain zip, over 1000 entries, an SLD over 1 MiB, ' +
          'compressed over 100 to 1, or not what its headers declare); nothing was forwarded. ' +
          "Or the master GeoServer's own 400",
      ),
      401: gatewayOrGeoServer(
        "A cluster node's or operator's token (`Bearer <name>.<secret>`) instead of a GeoServer user's credentials (CLUSTER_TOKEN; nothing was forwarded, " +
          "the token never reaches the master); or the master GeoServer's own 401 (to a write to a replicated path or an upload, its answer to " +
          "`GET /rest/about/version.json` with the caller's `Authorization`, asked before the write waits for the write lease: the write was not forwarded); " +
          'or, to such a write carrying no credentials at all, CREDENTIALS_REQUIRED with `WWW-Authenticate: Basic` (the master was not asked, nothing was forwarded)',
      ),
      403: gatewayOrGeoServer(
        "The caller's address is not in cluster.gateway.allowedSourceIps (SOURCE_NOT_ALLOWED; nothing was forwarded), or a write a browser sent, which names an `Origin` " +
          "(BROWSER_WRITE; nothing was forwarded: a browser sends the credentials it keeps with any site's form); or the master GeoServer's own 403",
      ),
      409: gatewayOrGeoServer(
        'A write (uploads included) while the master node is paused (NODE_PAUSED), or while a resync holds it, running or left half-copied ' +
          "(NODE_HELD_BY_RESYNC, with that `resync`; its message says to wait for it or to resync the master again); nothing was forwarded; or the master GeoServer's own 409",
      ),
      405: {
        ...gatewayOrGeoServer(
          "PATCH, or any method but GET, HEAD, OPTIONS, POST, PUT and DELETE (METHOD_NOT_ALLOWED, `Allow` naming those): GeoServer's REST API documents no other, " +
            "and a change the gateway does not read back would reach no other node; nothing was forwarded. Or the master GeoServer's own 405 (a method a path does not take)",
        ),
        headers: ['Allow'],
      },
      413: gatewayOrGeoServer(
        `A body over ${MAX_REQUEST_BODY_BYTES} bytes, or a write to a replicated path over ${MAX_REPLICATED_WRITE_BYTES} bytes (PAYLOAD_TOO_LARGE, ` +
          `with field \`body\`; nothing was forwarded), or a style document over that as a JSON string; over ${API_GATEWAY_MAX_BODY_BYTES} bytes API Gateway answers itself`,
        true,
      ),
      429: { description: "API Gateway's throttle of the route (cluster.gateway.rateLimit, burstLimit)", content: jsonContent(apiGatewayMessageSchema) },
      502: gatewayOrGeoServer(
        `The master GeoServer cannot be reached or broke off its answer (GEOSERVER_UNAVAILABLE), ` +
          `or answered more than ${MAX_RESPONSE_BODY_BYTES} bytes (GEOSERVER_ANSWER_TOO_LARGE; a write it applied is still published, and the message gives the master's status and the sequences published), ` +
          `or more than the ${MAX_READ_BACK_BYTES} bytes the gateway reads of any answer (GEOSERVER_ANSWER_TOO_LARGE, naming the call; a write it may have applied is left to recovery); or the master GeoServer's own 502`,
      ),
      503: {
        ...gatewayOrGeoServer(
          `A write that waited ${LEASE_WAIT_MS / 1000} s for the cluster's write lease (GATEWAY_BUSY; nothing was forwarded): retry after \`Retry-After\`; ` +
            "or the master GeoServer's own 503",
        ),
        headers: ['RetryAfter'],
      },
      504: gatewayOrGeoServer(
        `The master did not answer within the request's ${REQUEST_BUDGET_MS / 1000} s (GEOSERVER_TIMEOUT); a write may still be applied there, unpublished: ` +
          'compare with GET /nodes/{master}/drift before retrying',
      ),
      default: {
        description:
          "The master GeoServer's answer, its status, content type and body unchanged (GeoServer's REST reference). " +
          '`X-Cluster-Replicated` says whether a write was published (`true`, with `X-Cluster-Sequence`; `partial` when part of it is not ' +
          "replicated, a zipped style package's icons), is of a type the cluster does not replicate (`false`), or was applied by the master " +
          'but could not be published yet (`failed`: the next write through the gateway, or the gateway\'s sweep within a minute, publishes it), ' +
          'or is an upload into a store that a capture of the master replicates (`capture`, the job named by `X-Cluster-Job`)',
        headers: ['XClusterReplicated', 'XClusterSequence', 'XClusterJob'],
        content: { '*/*': { schema: geoserverDocument } },
      },
    },
  },
} as const satisfies Record<string, OperationDeclaration>;
