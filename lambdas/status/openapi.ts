/**
 * The OpenAPI 3.0 description of the whole cluster API, served at `GET /openapi.json`.
 *
 * Kept true by construction where it can be and by test where it cannot:
 * - the node API's request body and list query come from the zod schemas that validate them;
 * - test/infra/openapi.test.ts synthesizes the stack and fails when a route of the stack is not
 *   described here (or an operation here is not a route), and when an operation's security does
 *   not match its route's authorizer, with reads open and with `requireAuthForReads`.
 * A route added to the stack therefore needs its operation added here.
 */
import * as z from 'zod/mini';
import { DISMISSED_EXCEPTION, PHASES } from './execution';
import { CONFORMANCE_CLASSES, DEFAULT_LIMIT, EXCEPTION_TYPES, MAX_LIMIT, OGC_STATUS_CODES, REL_RESULTS } from './protocols/ogcapi';
import { MAX_PAGE_SIZE } from './protocols/job-list';
import { executionIdSchema, listQuerySchema, statusWriteSchema } from './schemas';
import { nodeNameSchema, NODE_ROLES } from '../shared/cluster-model';
import { DEFAULT_EVENT_PAGE, MAX_EVENT_PAGE } from '../config-sync/event-log-view';
import { CORS_POLLING_PATHS } from '../shared/cors';
import {
  CONFIGURATION_TYPES,
  OBJECT_TYPES,
  STYLE_BODY_PROPERTY,
  configChangeSchema,
  configEventSchema,
  objectRefSchema,
  offloadedEventSchema,
} from '../config-sync/events';

export const OPENAPI_CONTENT_TYPE = 'application/vnd.oai.openapi+json;version=3.0';

export interface OpenApiOptions {
  /** Absolute base URL of the API, for `servers`. */
  serverUrl: string;
  /** cluster.status.requireAuthForReads: whether polls, listings and client dismisses need a node token. */
  requireAuthForReads: boolean;
}

type Json = Record<string, unknown>;
const ref = (kind: 'schemas' | 'responses' | 'parameters' | 'headers', name: string): Json => ({ $ref: `#/components/${kind}/${name}` });
const jsonContent = (schema: Json, type = 'application/json'): Json => ({ [type]: { schema } });

/** Who may call an operation: nodes only, or (by default) anyone who knows the ids. */
/**
 * Who may call an operation: `node` a node token (writes); `list` a node or operator token
 * (listings, always); `read` anyone, or a token when `requireAuthForReads` is set; `open` anyone,
 * always (CORS preflights, which browsers send without credentials).
 */
type Access = 'node' | 'list' | 'read' | 'open';

interface Operation {
  access: Access;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters?: Json[];
  requestBody?: Json;
  responses: Record<string, Json>;
}

const XML_TYPE = 'text/xml';
const xmlDocument = (description: string, schemaUrl: string): Json => ({
  type: 'string',
  description,
  externalDocs: { description: 'Official XML schema', url: schemaUrl },
});

const pollHeaders = { ETag: ref('headers', 'ETag'), 'Cache-Control': ref('headers', 'CacheControl'), 'Retry-After': ref('headers', 'RetryAfter') };
const notModified: Json = { description: 'Not modified: the If-None-Match tag is current', headers: { ETag: ref('headers', 'ETag') } };
const ifNoneMatch = ref('parameters', 'IfNoneMatch');

function operations(): Record<string, Record<string, Operation>> {
  const executionId = ref('parameters', 'executionId');
  const jobId = ref('parameters', 'jobId');
  const error = (description: string): Json => ({ description, content: jsonContent(ref('schemas', 'Error')) });
  const ogcError = (description: string): Json => ({ description, content: jsonContent(ref('schemas', 'exception')) });
  const owsReport = (description: string): Json => ({
    description,
    content: {
      [XML_TYPE]: {
        schema: xmlDocument(
          'ows:ExceptionReport: OWS 1.1 for WPS 1.0.0 requests, OWS 2.0 for WPS 2.0 requests',
          'http://schemas.opengis.net/ows/2.0/owsExceptionReport.xsd',
        ),
      },
    },
  });
  const owsResponses: Record<string, Json> = {
    '200': {
      description:
        'GetExecutionStatus: wps:ExecuteResponse (WPS 1.0.0). GetStatus: wps:StatusInfo (WPS 2.0). ' +
        'Dismiss: the ExecuteResponse reporting the dismissal (1.0.0) or StatusInfo with status Dismissed (2.0). ' +
        'Every WPS 1.0.0 exception report (ows:ExceptionReport 1.1: a bad parameter, an unknown, expired or ' +
        'dismissed execution as NoApplicableCode with the id as locator, an operation served by the GeoServer nodes) ' +
        'is sent with 200 as well, as GeoServer does.',
      headers: pollHeaders,
      content: {
        [XML_TYPE]: {
          schema: xmlDocument(
            'wps:ExecuteResponse or wps:StatusInfo',
            'http://schemas.opengis.net/wps/2.0/wps.xsd',
          ),
        },
      },
    },
    '304': notModified,
    '400': owsReport(
      'WPS 2.0: MissingParameterValue or InvalidParameterValue naming the parameter, NoSuchJob for an unknown, expired or ' +
        'dismissed job (the id as locator), NoApplicableCode for a body that is not a well-formed request within the limits',
    ),
    '501': owsReport('WPS 2.0: OperationNotSupported: GetCapabilities, DescribeProcess, Execute, ... are served by the GeoServer nodes'),
  };
  const kvp = (name: string, description: string, required = false): Json => ({
    name,
    in: 'query',
    required,
    description: `${description} Key names are case-insensitive (OWS KVP).`,
    schema: { type: 'string' },
  });

  return {
    '/executions': {
      get: {
        access: 'list',
        operationId: 'listExecutions',
        summary: "List execution statuses (GeoServer's GetExecutions)",
        tags: ['Execution status'],
        parameters: listQueryParameters(),
        responses: {
          '200': {
            description: 'One page of statuses, newest first where an index serves the filter',
            content: jsonContent({
              type: 'object',
              required: ['executions'],
              properties: {
                executions: { type: 'array', items: ref('schemas', 'ExecutionStatus') },
                nextCursor: { type: 'string', description: 'Pass as `cursor` for the next page' },
              },
            }),
          },
          '400': error('A filter is invalid; `field` names it'),
        },
      },
    },
    '/executions/{executionId}': {
      get: {
        access: 'read',
        operationId: 'getExecution',
        summary: 'Poll one execution status',
        tags: ['Execution status'],
        parameters: [executionId, ifNoneMatch],
        responses: {
          '200': { description: 'The stored status', headers: pollHeaders, content: jsonContent(ref('schemas', 'ExecutionStatus')) },
          '304': notModified,
          '404': error('No such execution'),
        },
      },
      put: {
        access: 'node',
        operationId: 'putExecution',
        summary: 'Create or update an execution status (nodes only)',
        description:
          'The phase must follow the transition rules (QUEUED, RUNNING, SUCCEEDED | FAILED; DISMISSING is set by a dismiss). ' +
          'A write to a dismissed execution is refused while queued or running and turned to FAILED when it succeeds.',
        tags: ['Execution status'],
        parameters: [
          executionId,
          {
            name: 'If-Match',
            in: 'header',
            required: false,
            description: 'An ETag from this API: write only if the status is still at that version (strong comparison)',
            schema: { type: 'string' },
          },
        ],
        requestBody: { required: true, content: jsonContent(ref('schemas', 'StatusWrite')) },
        responses: {
          '200': { description: 'Updated', headers: { ETag: ref('headers', 'ETag') }, content: jsonContent(ref('schemas', 'ExecutionStatus')) },
          '201': { description: 'Created', headers: { ETag: ref('headers', 'ETag') }, content: jsonContent(ref('schemas', 'ExecutionStatus')) },
          '400': error('Invalid body; `field` names the offending member'),
          '409': error('Refused transition (INVALID_TRANSITION), immutable field, or the execution was dismissed (EXECUTION_DISMISSED)'),
          '412': error('If-Match names a version that is no longer current'),
          '413': error('Body too large'),
          '415': error('Body is not JSON'),
        },
      },
      delete: {
        access: 'node',
        operationId: 'dismissExecution',
        summary: 'Dismiss an execution (nodes only)',
        tags: ['Execution status'],
        parameters: [executionId],
        responses: {
          '200': {
            description: 'The execution had completed and its status was removed',
            content: jsonContent({
              type: 'object',
              required: ['removed', 'status'],
              properties: { removed: { type: 'boolean', enum: [true] }, status: ref('schemas', 'ExecutionStatus') },
            }),
          },
          '202': { description: 'The execution is DISMISSING until its node stops it', content: jsonContent(ref('schemas', 'ExecutionStatus')) },
          '404': error('No such execution'),
          '410': error('Already dismissed'),
        },
      },
    },
    '/ows': {
      get: {
        access: 'read',
        operationId: 'owsGet',
        summary: 'WPS 1.0.0 GetExecutionStatus and Dismiss; WPS 2.0 GetStatus and Dismiss (KVP)',
        description:
          "`request=GetExecutionStatus&executionId=ID` is the statusLocation URL GeoServer hands out (version 1.0.0). " +
          '`request=GetStatus&jobID=ID` and `request=Dismiss&jobID=ID` are WPS 2.0; `request=Dismiss&executionId=ID` is ' +
          "GeoServer's 1.0.0 vendor Dismiss. A dismissed execution reads as unknown in 1.0.0 and as Dismissed in 2.0.",
        tags: ['WPS'],
        parameters: [
          kvp('service', 'Must be WPS.', true),
          { ...kvp('version', '1.0.0 or 2.0.0; defaults from the operation.'), schema: { type: 'string', enum: ['1.0.0', '2.0.0'] } },
          { ...kvp('request', 'The operation.', true), schema: { type: 'string', enum: ['GetExecutionStatus', 'GetStatus', 'Dismiss'] } },
          kvp('executionId', 'Execution id (WPS 1.0.0 operations).'),
          kvp('jobID', 'Job id (WPS 2.0 operations).'),
          ifNoneMatch,
        ],
        responses: owsResponses,
      },
      post: {
        access: 'read',
        operationId: 'owsPost',
        summary: 'WPS 2.0 GetStatus and Dismiss as XML request documents (or the KVP form-encoded)',
        tags: ['WPS'],
        requestBody: {
          required: true,
          content: {
            [XML_TYPE]: { schema: xmlDocument('wps:GetStatus or wps:Dismiss', 'http://schemas.opengis.net/wps/2.0/wps.xsd') },
            'application/xml': { schema: xmlDocument('wps:GetStatus or wps:Dismiss', 'http://schemas.opengis.net/wps/2.0/wps.xsd') },
            'application/x-www-form-urlencoded': {
              schema: { type: 'object', additionalProperties: { type: 'string' }, description: 'The same keys as GET /ows' },
            },
          },
        },
        // Conditional requests are for GET: a POST is never answered 304.
        responses: Object.fromEntries(Object.entries(owsResponses).filter(([code]) => code !== '304')),
      },
    },
    '/jobs': {
      get: {
        access: 'list',
        operationId: 'getJobs',
        summary: 'List jobs (OGC API - Processes job-list)',
        tags: ['OGC API - Processes'],
        parameters: [
          {
            name: 'limit',
            in: 'query',
            required: false,
            description: `Jobs per page. At most ${MAX_PAGE_SIZE} are returned per page whatever the limit; follow the \`next\` link.`,
            schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
          },
          {
            name: 'processID',
            in: 'query',
            required: false,
            description: 'Only jobs of these processes (comma-separated or repeated)',
            schema: { type: 'array', items: { type: 'string' } },
            style: 'form',
            explode: false,
          },
          {
            name: 'status',
            in: 'query',
            required: false,
            description: 'Only jobs in these statuses (comma-separated or repeated)',
            schema: { type: 'array', items: ref('schemas', 'statusCode') },
            style: 'form',
            explode: false,
          },
          {
            name: 'cursor',
            in: 'query',
            required: false,
            description: 'Opaque page position, as found in a `next` link; signed by the server, any other value is a 400',
            schema: { type: 'string' },
          },
          ifNoneMatch,
        ],
        responses: {
          '200': { description: 'One page of jobs, with `self` and (when more exist) `next` links', content: jsonContent(ref('schemas', 'jobList')) },
          '304': notModified,
          '400': ogcError('Invalid limit, status or cursor'),
        },
      },
    },
    '/jobs/{jobId}': {
      get: {
        access: 'read',
        operationId: 'getStatus',
        summary: 'Status of a job (OGC API - Processes statusInfo)',
        tags: ['OGC API - Processes'],
        parameters: [jobId, ifNoneMatch],
        responses: {
          '200': { description: 'The job status', headers: pollHeaders, content: jsonContent(ref('schemas', 'statusInfo')) },
          '304': notModified,
          '404': ogcError(`No such job (${EXCEPTION_TYPES.noSuchJob})`),
        },
      },
      delete: {
        access: 'read',
        operationId: 'dismiss',
        summary: 'Dismiss a job (OGC API - Processes dismiss)',
        description:
          'A queued or running job is dismissed and stopped by its node; a finished job is removed, so dismissing it again is 404. ' +
          'Dismissing a job that is still stopping after a dismiss is 410.',
        tags: ['OGC API - Processes'],
        parameters: [jobId],
        responses: {
          '200': { description: 'The job, now dismissed', content: jsonContent(ref('schemas', 'statusInfo')) },
          '404': ogcError(`No such job (${EXCEPTION_TYPES.noSuchJob})`),
          '410': ogcError('The job was already dismissed'),
        },
      },
    },
    '/jobs/{jobId}/results': {
      get: {
        access: 'read',
        operationId: 'getResult',
        summary: 'Results of a job: a link to the recorded result location',
        tags: ['OGC API - Processes'],
        parameters: [jobId, ifNoneMatch],
        responses: {
          '200': { description: 'Output id to link', headers: pollHeaders, content: jsonContent(ref('schemas', 'results')) },
          '304': notModified,
          '400': ogcError("The job failed: the job's exception code and message"),
          '404': ogcError(`No such job (${EXCEPTION_TYPES.noSuchJob}) or not finished yet (${EXCEPTION_TYPES.resultNotReady}, with Retry-After)`),
          '410': ogcError('The job was dismissed; it has no results'),
        },
      },
    },
    '/conformance': {
      get: {
        access: 'read',
        operationId: 'getConformanceClasses',
        summary: 'OGC API conformance classes implemented',
        tags: ['OGC API - Processes'],
        responses: { '200': { description: 'Conformance classes', content: jsonContent(ref('schemas', 'confClasses')) } },
      },
    },
    ...configSyncOperations(error),
    '/console': {
      get: {
        access: 'open',
        operationId: 'getConsole',
        summary: 'The operator console (an HTML page that reads this API; actions need a node token entered in the page)',
        tags: ['Operations'],
        responses: { '200': { description: 'The console page', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    },
    '/openapi.json': {
      get: {
        access: 'read',
        operationId: 'getOpenApi',
        summary: 'This document',
        tags: ['API'],
        responses: { '200': { description: 'OpenAPI 3.0 document', content: jsonContent({ type: 'object' }, OPENAPI_CONTENT_TYPE) } },
      },
    },
  };
}

const CONFIG_TAG = 'Configuration sync';
/** Limits of the config-sync handlers (lambdas/config-sync/handlers), stated to clients. */
const CATALOG_DEFAULT_LIMIT = 100;
const CATALOG_MAX_LIMIT = 1000;
const MAX_CHANGE_BYTES = 1024 * 1024;

/**
 * POST /config/events and the node routes (lambdas/config-sync/handlers). The publish body and
 * the published event are the zod schemas that validate them (`configSyncSchemas`).
 */
function configSyncOperations(error: (description: string) => Json): Record<string, Record<string, Operation>> {
  const node = ref('parameters', 'node');
  const unknownNode = error('The cluster configuration declares no such node (NODE_NOT_FOUND)');
  const objectType = { type: 'string', enum: [...OBJECT_TYPES] };
  return {
    '/config/events': {
      post: {
        access: 'node',
        operationId: 'publishConfigEvent',
        summary: 'Publish a configuration change (master and `both` nodes only)',
        description:
          'The change gets the next cluster-wide sequence in the event log (the commit point), is published to the SNS FIFO ' +
          "topic for every consuming node's queue, and is applied to the publishing node's own store. Once the log has it, " +
          'the change is never lost: a publish or local write that fails afterwards is recovered automatically (see ' +
          '`published` and `appliedLocally`), so a 201 must not be retried. A change too large for a message (a large style) ' +
          'is carried through S3 transparently. A pure slave is refused (403 PURE_SLAVE) before its body is read; an ' +
          'invalid body is a 400 naming the field, and nothing is published.',
        tags: [CONFIG_TAG],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: ref('schemas', 'ConfigChange'), examples: CONFIG_CHANGE_EXAMPLES } },
        },
        responses: {
          '201': {
            description: 'Committed to the event log with its sequence',
            content: jsonContent({
              type: 'object',
              required: ['sequence', 'event', 'published', 'appliedLocally'],
              properties: {
                sequence: { type: 'integer', minimum: 1, description: 'The cluster-wide sequence of the event' },
                event: ref('schemas', 'PublishedEvent'),
                published: {
                  type: 'boolean',
                  description: 'False when the topic refused it: the republish schedule sends it within a minute or so',
                },
                appliedLocally: {
                  type: 'boolean',
                  description: "False when the node's own store could not be updated: its next catch-up applies it from the log",
                },
              },
            }),
          },
          '400': error('Invalid change (INVALID_REQUEST, `field` names the first offending member) or malformed JSON (INVALID_JSON)'),
          '403': error(
            'The calling node is a pure slave (PURE_SLAVE) or is not a member of the cluster (FORBIDDEN); nothing is published',
          ),
          '409': error('The publishing node is paused (NODE_PAUSED, with `pausedSince` and `pausedBy`): resume it first'),
          '413': error(`Body larger than ${MAX_CHANGE_BYTES} bytes`),
          '415': error('Body is not JSON'),
        },
      },
      get: {
        access: 'list',
        operationId: 'listConfigEvents',
        summary: 'The configuration event log, one page of event summaries oldest first (nodes and operators)',
        description:
          'Each summary names the change (kind, object, publishing node, time), never its properties: the object is one ' +
          '`GET /nodes/{node}/catalog/{type}/{id}` away. With `since`, the events after that sequence and `next` to continue; ' +
          'without it, the latest `limit` events.',
        tags: [CONFIG_TAG],
        parameters: [
          {
            name: 'since',
            in: 'query',
            required: false,
            description: 'Events after this sequence (0 for the first page of the whole log)',
            schema: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
          },
          {
            name: 'limit',
            in: 'query',
            required: false,
            description: `Events per page, at most ${MAX_EVENT_PAGE}`,
            schema: { type: 'integer', minimum: 1, maximum: MAX_EVENT_PAGE, default: DEFAULT_EVENT_PAGE },
          },
        ],
        responses: {
          '200': {
            description: 'One page of the log',
            content: jsonContent({
              type: 'object',
              required: ['head', 'events', 'next'],
              properties: {
                head: { type: 'integer', minimum: 0, description: 'Highest sequence in the event log when the page was read' },
                events: { type: 'array', items: ref('schemas', 'EventSummary') },
                next: { type: 'integer', nullable: true, description: 'Pass as `since` for the next page; null when the page reaches the head' },
              },
            }),
          },
          '400': error('`since` or `limit` out of range, or another query parameter (INVALID_REQUEST, `field` names it)'),
        },
      },
    },
    '/nodes': {
      get: {
        access: 'read',
        operationId: 'listNodes',
        summary: 'Every node of the cluster with its role, applied sequence, lag and queue depths',
        tags: [CONFIG_TAG],
        responses: {
          '200': {
            description: 'The event log head and every declared node',
            content: jsonContent({
              type: 'object',
              required: ['head', 'nodes'],
              properties: {
                head: { type: 'integer', minimum: 0, description: 'Highest sequence in the event log (0 when empty)' },
                nodes: { type: 'array', items: ref('schemas', 'NodeState') },
              },
            }),
          },
        },
      },
    },
    '/nodes/{node}/catalog': {
      get: {
        access: 'read',
        operationId: 'getNodeCatalog',
        summary: "What a node's store holds now, one page at a time",
        description: `Objects ordered by \`type/id\`. A page is cut short at about 5 MB (large styles); follow \`next\`.`,
        tags: [CONFIG_TAG],
        parameters: [
          node,
          { name: 'type', in: 'query', required: false, description: 'Only objects of this type', schema: objectType },
          {
            name: 'limit',
            in: 'query',
            required: false,
            description: 'Objects per page',
            schema: { type: 'integer', minimum: 1, maximum: CATALOG_MAX_LIMIT, default: CATALOG_DEFAULT_LIMIT },
          },
          {
            name: 'next',
            in: 'query',
            required: false,
            description: 'The `next` of the previous page (an object key, `type/id`)',
            schema: { type: 'string', maxLength: 1024 },
          },
          {
            name: 'includeDeleted',
            in: 'query',
            required: false,
            description: 'Include the tombstones of removed objects',
            schema: { type: 'boolean', default: false },
          },
        ],
        responses: {
          '200': {
            description: 'One page of objects',
            content: jsonContent({
              type: 'object',
              required: ['node', 'cursor', 'objects'],
              properties: {
                node: { type: 'string' },
                cursor: {
                  type: 'integer',
                  minimum: 0,
                  description: "The node's last applied sequence, read before the objects: the page reflects at least that much",
                },
                objects: { type: 'array', items: ref('schemas', 'StoredObject') },
                next: { type: 'string', description: 'Present when more objects follow: pass it as `next`' },
              },
            }),
          },
          '400': error('Invalid type, limit, next or includeDeleted; `field` names it'),
          '404': unknownNode,
        },
      },
    },
    '/nodes/{node}/catalog/{type}/{id}': {
      get: {
        access: 'read',
        operationId: 'getNodeCatalogObject',
        summary: 'One object as a node holds it now',
        tags: [CONFIG_TAG],
        parameters: [
          node,
          { name: 'type', in: 'path', required: true, schema: objectType },
          {
            name: 'id',
            in: 'path',
            required: true,
            description: 'The object id: `name`, `workspace:name`, a service such as `WMS` or `topp:WFS`, or the type name of a singleton',
            schema: { type: 'string', maxLength: 512 },
          },
        ],
        responses: {
          '200': { description: 'The object', content: jsonContent(ref('schemas', 'StoredObject')) },
          '400': error('Unknown object type; `field` is `type`'),
          '404': error('No such node (NODE_NOT_FOUND), or the node holds no such object or it was removed (OBJECT_NOT_FOUND)'),
        },
      },
    },
    '/nodes/{node}/resync': {
      post: {
        access: 'node',
        operationId: 'resyncNode',
        summary: "Bootstrap a node's store from a snapshot of another node's store plus the event log after it",
        description:
          'For a new node, one that was away longer than its queue retention, or one whose store is in doubt. The default ' +
          'source is the first master or `both` node other than the target. The node keeps following its queue meanwhile. ' +
          "A consuming node's resync is a background job run by its own apply function (202 with the job; progress in GET " +
          '/nodes/{node}/jobs/{id} and GET /nodes); for a node with a GeoServer it ends with a reconcile of that GeoServer. ' +
          'A pure master (no queue) is resynced within the request (200).',
        tags: [CONFIG_TAG],
        parameters: [node],
        requestBody: {
          required: false,
          content: jsonContent({
            type: 'object',
            properties: { source: { ...nodeNameJson(), description: 'The node whose store is copied; another node than the target' } },
            additionalProperties: false,
          }),
        },
        responses: {
          '202': {
            description: 'A consuming node: the resync job was started; `Location` names it',
            content: jsonContent({
              type: 'object',
              required: ['node', 'source', 'job'],
              properties: { node: { type: 'string' }, source: { type: 'string' }, job: ref('schemas', 'NodeJob') },
            }),
          },
          '200': {
            description: 'A pure master was resynced',
            content: jsonContent({
              type: 'object',
              required: ['node', 'source', 'sequence', 'snapshotSequence', 'appliedFromLog'],
              properties: {
                node: { type: 'string' },
                source: { type: 'string' },
                sequence: { type: 'integer', minimum: 0, description: "The node's cursor after catching up with the log" },
                snapshotSequence: { type: 'integer', minimum: 0, description: "The source's cursor when the snapshot was read" },
                appliedFromLog: { type: 'integer', minimum: 0, description: 'Events applied from the log after the snapshot' },
              },
            }),
          },
          '400': error('`source` is not another node of the cluster, the body is invalid (`field` names it) or malformed'),
          '404': unknownNode,
          '409': error(
            'No master other than the target to resync from (NO_RESYNC_SOURCE): name a source; events after the snapshot ' +
              'are missing from the log (RESYNC_REQUIRED); or the node runs another job (JOB_RUNNING, with that `job`)',
          ),
          '415': error('A body was sent that is not JSON'),
        },
      },
    },
    '/nodes/{node}/drift': {
      get: {
        access: 'node',
        operationId: 'getNodeDrift',
        summary: "The differences the node's latest drift check found between its GeoServer and its store",
        description:
          'The report of the latest drift, reconcile or capture job of the node (a check reads the whole GeoServer over REST, ' +
          'longer than a request may last for a large catalog: POST /nodes/{node}/drift starts one). `missing`: the store holds ' +
          'the object, the GeoServer does not; `extra`: the reverse; `different`: both hold it, `properties` name what differs. ' +
          'Paged: follow `next`. The node itself, a master or an operator may read it.',
        tags: [CONFIG_TAG],
        parameters: [
          node,
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          { name: 'after', in: 'query', required: false, description: 'The `next` of the previous page', schema: { type: 'string', pattern: '^\\d{1,9}$' } },
        ],
        responses: {
          '200': {
            description: 'The latest check and one page of its differences',
            content: jsonContent({
              type: 'object',
              required: ['node', 'job', 'complete', 'counts', 'differences'],
              properties: {
                node: { type: 'string' },
                job: ref('schemas', 'NodeJob'),
                complete: { type: 'boolean', description: 'False while the check is still reading (no differences shown yet)' },
                counts: {
                  type: 'object',
                  properties: { missing: { type: 'integer' }, extra: { type: 'integer' }, different: { type: 'integer' } },
                },
                differences: { type: 'array', items: ref('schemas', 'DriftEntry') },
                next: { type: 'string', description: 'Present when more differences follow: pass it as `after`' },
              },
            }),
          },
          '400': error('Invalid limit or after; `field` names it'),
          '403': error('A slave asking about another node'),
          '404': error('No such node (NODE_NOT_FOUND), or no drift check has run on it yet (NOT_FOUND)'),
        },
      },
      post: {
        access: 'node',
        operationId: 'checkNodeDrift',
        summary: "Start a drift check of the node's GeoServer against its store (a job)",
        tags: [CONFIG_TAG],
        parameters: [node],
        responses: jobStartResponses(error),
      },
    },
    '/nodes/{node}/reconcile': {
      post: {
        access: 'node',
        operationId: 'reconcileNode',
        summary: "Make the node's GeoServer match its store (a job): add what is missing, update what differs, remove extras",
        description:
          'Adds and updates go in dependency order (workspaces, stores, styles, resources, layers, groups, settings), removals ' +
          'in the reverse, without recurse. What the GeoServer refuses is counted in `progress.failed` and listed in `failures`.',
        tags: [CONFIG_TAG],
        parameters: [node],
        responses: jobStartResponses(error),
      },
    },
    '/nodes/{node}/capture': {
      post: {
        access: 'node',
        operationId: 'captureNode',
        summary: "Publish the differences between a master's GeoServer and its store as its events (a job)",
        description:
          "The master's GeoServer is the truth: what it holds that the store does not is added, what differs is modified " +
          "with its whole state, what it lacks is removed. Finds changes made in its web UI, and a gateway write whose " +
          'publish was lost.',
        tags: [CONFIG_TAG],
        parameters: [node],
        responses: jobStartResponses(error),
      },
    },
    '/nodes/{node}/jobs/{id}': {
      get: {
        access: 'node',
        operationId: 'getNodeJob',
        summary: 'A job of the node, with its progress and outcome',
        tags: [CONFIG_TAG],
        parameters: [node, { name: 'id', in: 'path', required: true, schema: { type: 'string', maxLength: 64 } }],
        responses: {
          '200': { description: 'The job', content: jsonContent({ type: 'object', required: ['job'], properties: { job: ref('schemas', 'NodeJob') } }) },
          '403': error('A slave asking about another node'),
          '404': error('No such node (NODE_NOT_FOUND) or job (NOT_FOUND)'),
        },
      },
    },
    '/nodes/{node}/redrive': {
      post: {
        access: 'node',
        operationId: 'redriveNode',
        summary: "Move the messages of a node's dead-letter queue back to its queue and retry its parked events",
        description:
          'Call once the cause of their failure is fixed. `more` is true when the time budget ran out first: call again. ' +
          'A pure master has no queue (`moved` 0); its parked events are retried all the same.',
        tags: [CONFIG_TAG],
        parameters: [node],
        responses: {
          '200': {
            description: 'Messages moved, parked events retried',
            content: jsonContent({
              type: 'object',
              required: ['node', 'moved', 'more', 'parked'],
              properties: {
                node: { type: 'string' },
                moved: { type: 'integer', minimum: 0 },
                more: { type: 'boolean', description: 'The dead-letter queue may still hold messages' },
                parked: {
                  type: 'object',
                  required: ['cleared', 'stillParked'],
                  properties: {
                    cleared: { type: 'array', items: { type: 'integer' }, description: 'Parked sequences now applied' },
                    stillParked: { type: 'array', items: { $ref: '#/components/schemas/ParkedEvents' } },
                  },
                },
              },
            }),
          },
          '404': unknownNode,
        },
      },
    },
    '/nodes/{node}/pause': {
      post: {
        access: 'node',
        operationId: 'pauseNode',
        summary: 'Pause a node: stop its queue consumption and refuse its publishes',
        description: "Its queue keeps every event meanwhile. While paused, the node's `POST /config/events` answers 409 NODE_PAUSED. Only the node itself or a master may; pausing again changes nothing.",
        tags: [CONFIG_TAG],
        parameters: [node],
        responses: {
          '200': { description: 'The node\'s state after the call', content: jsonContent(ref('schemas', 'PauseOutcome')) },
          '403': error('Neither the node itself nor a master'),
          '404': unknownNode,
        },
      },
    },
    '/nodes/{node}/resume': {
      post: {
        access: 'node',
        operationId: 'resumeNode',
        summary: 'Resume a paused node: restart its consumption and accept its publishes',
        description: 'The queue then delivers what accumulated, in order. Resuming a node that is not paused changes nothing.',
        tags: [CONFIG_TAG],
        parameters: [node],
        responses: {
          '200': { description: 'The node\'s state after the call', content: jsonContent(ref('schemas', 'PauseOutcome')) },
          '403': error('Neither the node itself nor a master'),
          '404': unknownNode,
        },
      },
    },
  };
}

function jobStartResponses(error: (description: string) => Json): Record<string, Json> {
  return {
    '202': {
      description: 'The job was started; `Location` names it. Its progress shows in GET /nodes and GET /nodes/{node}/jobs/{id}',
      content: jsonContent({ type: 'object', required: ['job'], properties: { job: ref('schemas', 'NodeJob') } }),
    },
    '403': error('A slave acting on another node, or an operator (read-only)'),
    '404': error('The cluster configuration declares no such node (NODE_NOT_FOUND)'),
    '409': error(
      'The node declares no GeoServer (NO_GEOSERVER), is not a master (NOT_A_MASTER, capture only), or runs another job ' +
        '(JOB_RUNNING, with that `job`)',
    ),
  };
}

function nodeNameJson(): Json {
  return z.toJSONSchema(nodeNameSchema, { target: 'openapi-3.0' }) as Json;
}

const SLD_EXAMPLE =
  '<?xml version="1.0" encoding="UTF-8"?><StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" ' +
  'xmlns:ogc="http://www.opengis.net/ogc"><NamedLayer><Name>roads</Name><UserStyle><FeatureTypeStyle><Rule><LineSymbolizer>' +
  '<Stroke><CssParameter name="stroke">#333333</CssParameter><CssParameter name="stroke-width">2</CssParameter></Stroke>' +
  '</LineSymbolizer></Rule></FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>';

/** Real GeoServer representations, as its REST API answers them (inside the wrapper). */
export const CONFIG_CHANGE_EXAMPLES: Record<string, { summary: string; value: Json }> = {
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
        body: SLD_EXAMPLE,
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
};

let configSyncSchemaCache: Record<string, Json> | undefined;

/**
 * The publish body (`ConfigChange`), the stored and published event (`PublishedEvent`) and
 * the object reference they share, from the zod schemas of lambdas/config-sync/events.ts,
 * plus the hand-written shapes of what the config-sync handlers answer.
 */
function configSyncSchemas(): Record<string, Json> {
  if (configSyncSchemaCache) return configSyncSchemaCache;
  const registry = z.registry<{ id: string }>();
  registry.add(objectRefSchema, { id: 'ObjectRef' });
  registry.add(configChangeSchema, { id: 'ConfigChange' });
  registry.add(configEventSchema, { id: 'ConfigEvent' });
  registry.add(offloadedEventSchema, { id: 'OffloadedEvent' });
  const converted = z.toJSONSchema(registry, {
    target: 'openapi-3.0',
    io: 'input',
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Json> };
  const generated = openApiComponents(converted.schemas);

  const describe = (schema: Json | undefined, description: string): Json => ({ ...(schema ?? {}), description });
  const schemas: Record<string, Json> = {
    ...generated,
    ObjectRef: describe(
      generated.ObjectRef,
      'A configuration object: its type and its stable id, derived from GeoServer names. `workspace`, `namespace`, ' +
        '`workspaceSettings`: a bare name; stores, resources and layers: `workspace:name`; `style`, `layerGroup`: `name` or ' +
        '`workspace:name`; `service`: the service in capitals, optionally qualified (`WMS`, `topp:WFS`); `global` and ' +
        '`logging` are singletons whose id may be omitted.',
    ),
    ConfigChange: describe(
      generated.ConfigChange,
      'Body of POST /config/events: `add` (the full object as `properties`), `modify` (a JSON Merge Patch, RFC 7386, of the ' +
        'changed properties in `patch`: `null` removes a property), or `remove` (`recurse: true` cascades, as GeoServer\'s ' +
        'DELETE does). `properties` are GeoServer\'s REST JSON representation of the object, the value inside its wrapper ' +
        '(`{"dataStore": {...}}`); settings are the representations of `/settings`, `/workspaces/{ws}/settings`, ' +
        '`/services/{service}/settings` and `/logging`. Configuration ' +
        `(${CONFIGURATION_TYPES.join(', ')}) always exists and is only ever modified. What a GeoServer needs to apply it is ` +
        'checked (400 naming the field): the name (`prefix` for a namespace) agrees with the id; a feature type, coverage or ' +
        'WMS/WMTS layer names its store (`store.name`), a layer its resource (`resource.name`); a style states its `format` ' +
        `(sld, css, ysld, mbstyle) and carries its document as the non-empty string \`properties.${STYLE_BODY_PROPERTY}\`; ` +
        'a patch may not rename nor remove those.',
    ),
    ConfigEvent: describe(generated.ConfigEvent, 'A change with the sequence, cluster, origin node and publish time the service assigned'),
    OffloadedEvent: describe(
      generated.OffloadedEvent,
      'An event whose change was too large for a message: the change is stored under `bodyRef` and fetched by the nodes',
    ),
    PublishedEvent: {
      description: 'An event as the event log stores it and the topic carries it',
      oneOf: [ref('schemas', 'ConfigEvent'), ref('schemas', 'OffloadedEvent')],
    },
    StoredObject: {
      type: 'object',
      required: ['type', 'id', 'properties', 'lastSequence', 'lastOrigin', 'updatedAt', 'deleted', 'incomplete'],
      properties: {
        type: { type: 'string', enum: [...OBJECT_TYPES] },
        id: { type: 'string' },
        properties: { type: 'object', additionalProperties: true, description: 'The object as the master stated it' },
        lastSequence: { type: 'integer', minimum: 1, description: 'Sequence of the last event applied to the object' },
        lastOrigin: { type: 'string', description: 'The node that published that event' },
        updatedAt: { type: 'string', format: 'date-time', description: 'When that event was published' },
        deleted: { type: 'boolean', description: 'A tombstone of a removed object (listed only with includeDeleted)' },
        incomplete: {
          type: 'boolean',
          description: 'Created by a modify of an object the node never saw added: holds only the patched properties',
        },
      },
    },
    NodeState: {
      type: 'object',
      required: ['name', 'role', 'lastAppliedSequence', 'lag', 'queueDepth', 'deadLetterDepth', 'paused'],
      properties: {
        name: { type: 'string' },
        role: { type: 'string', enum: [...NODE_ROLES] },
        lastAppliedSequence: { type: 'integer', minimum: 0 },
        lag: { type: 'integer', minimum: 0, description: 'Events in the log the node has not applied yet' },
        queueDepth: { type: 'integer', minimum: 0, nullable: true, description: 'Messages waiting in its queue; null for a pure master' },
        deadLetterDepth: {
          type: 'integer',
          minimum: 0,
          nullable: true,
          description: 'Messages it could not read as events (redrive them); null for a pure master',
        },
        failing: {
          type: 'object',
          nullable: true,
          description: 'The event after its cursor that failed and is being retried',
          required: ['sequence', 'attempts', 'reason', 'at'],
          properties: {
            sequence: { type: 'integer', minimum: 1 },
            attempts: { type: 'integer', minimum: 1 },
            reason: { type: 'string' },
            at: { type: 'string', format: 'date-time' },
          },
        },
        parked: {
          type: 'array',
          description: 'Events the node could not apply, per object (redrive after a fix, or resync)',
          items: { $ref: '#/components/schemas/ParkedEvents' },
        },
        geoserver: ref('schemas', 'GeoServerState'),
        paused: { type: 'boolean', description: 'Paused: consumes nothing and may not publish (POST /nodes/{node}/resume)' },
        pausedSince: { type: 'string', format: 'date-time', description: 'When it was paused (only while paused)' },
        pausedBy: { type: 'string', description: 'The node that paused it (only while paused)' },
        job: { ...ref('schemas', 'NodeJob'), nullable: true, description: "The node's latest job (GeoServer nodes), running or not" },
      },
    },
    NodeJob: {
      type: 'object',
      description: 'A background job of a node, run in slices by its apply function from its queue (see docs/operations.md)',
      required: ['id', 'node', 'kind', 'state', 'phase', 'progress', 'failures', 'createdAt', 'updatedAt', 'finishedAt', 'error'],
      properties: {
        id: { type: 'string' },
        node: { type: 'string' },
        kind: { type: 'string', enum: ['drift', 'reconcile', 'capture', 'resync'] },
        state: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed'] },
        phase: { type: 'string', enum: ['bootstrap', 'scan-store', 'scan-geoserver', 'fix', 'done'] },
        requestedBy: { type: 'string' },
        progress: {
          type: 'object',
          properties: {
            compared: { type: 'integer' },
            missing: { type: 'integer' },
            extra: { type: 'integer' },
            different: { type: 'integer' },
            toFix: { type: 'integer', nullable: true },
            fixed: { type: 'integer' },
            failed: { type: 'integer' },
            restCalls: { type: 'integer' },
            published: { type: 'integer' },
          },
        },
        failures: {
          type: 'array',
          items: { type: 'object', properties: { type: { type: 'string' }, id: { type: 'string' }, message: { type: 'string' } } },
        },
        slices: { type: 'integer' },
        createdAt: { type: 'string', format: 'date-time' },
        updatedAt: { type: 'string', format: 'date-time' },
        finishedAt: { type: 'string', format: 'date-time', nullable: true },
        error: { type: 'string', nullable: true },
      },
    },
    DriftEntry: {
      type: 'object',
      required: ['kind', 'type', 'id'],
      properties: {
        kind: { type: 'string', enum: ['missing', 'extra', 'different'] },
        type: { type: 'string' },
        id: { type: 'string' },
        properties: { type: 'array', items: { type: 'string' }, description: 'Dotted paths that differ (`different` only)' },
        store: { type: 'string', description: 'The GeoServer store an extra resource is listed under' },
      },
    },
    EventSummary: {
      type: 'object',
      required: ['sequence', 'kind', 'object', 'origin', 'publishedAt', 'offloaded'],
      properties: {
        sequence: { type: 'integer', minimum: 1 },
        kind: { type: 'string', enum: ['add', 'modify', 'remove'], nullable: true, description: 'null for an unreadable or voided stored event' },
        object: {
          type: 'object',
          nullable: true,
          required: ['type', 'id'],
          properties: { type: { type: 'string' }, id: { type: 'string' } },
        },
        origin: { type: 'string', description: 'The node that published it' },
        publishedAt: { type: 'string', format: 'date-time' },
        offloaded: { type: 'boolean', description: 'Its change is kept in S3 (a large body)' },
        unreadable: { type: 'string', description: 'Why the stored event cannot be read (only for such an event)' },
        voided: { type: 'boolean', enum: [true], description: 'A sequence given up with nothing committed under it (kind and object null)' },
      },
    },
    PauseOutcome: {
      type: 'object',
      required: ['node', 'paused', 'consumption'],
      properties: {
        node: { type: 'string' },
        paused: { type: 'boolean' },
        since: { type: 'string', format: 'date-time', description: 'When the pause began (a repeated pause keeps the first)' },
        by: { type: 'string', description: 'The node that paused it' },
        consumption: {
          type: 'string',
          enum: ['disabled', 'enabled', 'none'],
          description: "The node's queue consumption after the call; `none` for a pure master, which has no queue",
        },
      },
    },
    ParkedEvents: {
      type: 'object',
      required: ['object', 'sequences', 'reason', 'attempts', 'parkedAt'],
      properties: {
        object: {
          type: 'object',
          nullable: true,
          description: 'The object whose events wait; null for an unreadable event that names none',
          required: ['type', 'id'],
          properties: { type: { type: 'string' }, id: { type: 'string' } },
        },
        sequences: { type: 'array', items: { type: 'integer' }, description: 'The first failed; the later ones wait behind it' },
        reason: { type: 'string', description: 'The last error of the first sequence' },
        attempts: { type: 'integer', minimum: 0 },
        parkedAt: { type: 'string', format: 'date-time' },
      },
    },
    GeoServerState: {
      type: 'object',
      description:
        "Only for a node with its own GeoServer: how the GeoServer is doing, as the node's apply function last saw it " +
        '(`reachable: null` before its first change)',
      required: ['url', 'reachable', 'version', 'checkedAt', 'lastError', 'rejected', 'unclearedProperties'],
      properties: {
        url: { type: 'string', description: "The GeoServer's base URL (its REST API is under /rest)" },
        reachable: { type: 'boolean', nullable: true, description: 'Whether it takes changes: false while unreachable, timing out, answering 5xx or refusing the credentials' },
        version: { type: 'string', nullable: true, description: "GeoServer's version from /rest/about/version" },
        checkedAt: { type: 'string', format: 'date-time', nullable: true },
        lastError: {
          type: 'object',
          nullable: true,
          required: ['message', 'status', 'sequence', 'at'],
          properties: {
            message: { type: 'string' },
            status: { type: 'integer', nullable: true, description: "GeoServer's HTTP status; null when it did not answer" },
            sequence: { type: 'integer', nullable: true, description: 'The event being applied' },
            at: { type: 'string', format: 'date-time' },
          },
        },
        rejected: {
          type: 'array',
          description: 'Changes the GeoServer refused (4xx), most recent first, at most 20; each is parked on the node (see parked)',
          items: {
            type: 'object',
            required: ['sequence', 'type', 'id', 'request', 'status', 'answer', 'at'],
            properties: {
              sequence: { type: 'integer' },
              type: { type: 'string', enum: [...OBJECT_TYPES] },
              id: { type: 'string' },
              request: { type: 'string', description: 'The refused call, e.g. POST /workspaces/topp/datastores' },
              status: { type: 'integer', nullable: true },
              answer: { type: 'string', description: "GeoServer's answer" },
              at: { type: 'string', format: 'date-time' },
            },
          },
        },
        unclearedProperties: {
          type: 'array',
          description: 'Properties a merge patch deleted that the GeoServer keeps (its PUT ignores nulls), most recent first, at most 20',
          items: {
            type: 'object',
            required: ['sequence', 'type', 'id', 'properties', 'at'],
            properties: {
              sequence: { type: 'integer' },
              type: { type: 'string', enum: [...OBJECT_TYPES] },
              id: { type: 'string' },
              properties: { type: 'array', items: { type: 'string' }, description: 'Dotted paths, e.g. metadata.cacheAgeMax' },
              at: { type: 'string', format: 'date-time' },
            },
          },
        },
      },
    },
  };
  configSyncSchemaCache = schemas;
  return schemas;
}

/**
 * zod's registry conversion as OpenAPI 3.0 components: no `$id` (not an OpenAPI keyword), and
 * the shared recursive definitions it emits under `__shared` (zod's JSON value, for object
 * properties and patches) as components of their own, `JsonValue` for the first.
 */
function openApiComponents(converted: Record<string, Json>): Record<string, Json> {
  const { __shared: shared, ...named } = converted;
  const sharedDefinitions = ((shared as { definitions?: Record<string, Json> } | undefined)?.definitions ?? {}) as Record<string, Json>;
  const sharedNames = Object.fromEntries(
    Object.keys(sharedDefinitions).map((name, index) => [name, index === 0 ? 'JsonValue' : `JsonValue${index}`]),
  );
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== '$id')
        .map(([key, inner]) => {
          if (key !== '$ref' || typeof inner !== 'string') return [key, rewrite(inner)];
          const match = /^#\/components\/schemas\/__shared#\/definitions\/(.+)$/.exec(inner);
          const name = match ? sharedNames[match[1] as string] : undefined;
          return [key, name ? `#/components/schemas/${name}` : inner];
        }),
    );
  };
  const components: Record<string, Json> = {};
  for (const [name, schema] of Object.entries(named)) components[name] = rewrite(schema) as Json;
  for (const [definition, name] of Object.entries(sharedNames)) {
    components[name] = { ...(rewrite(sharedDefinitions[definition]) as Json), description: 'Any JSON value' };
  }
  return components;
}

/** The node API's list filters, from the zod schema that validates them. */
function listQueryParameters(): Json[] {
  const schema = z.toJSONSchema(listQuerySchema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as {
    properties: Record<string, Json>;
  };
  const descriptions: Record<string, string> = {
    phase: `Comma-separated phases: ${PHASES.join(', ')}`,
    limit: 'Statuses per page, 1-1000 (default 100)',
    cursor: 'The `nextCursor` of the previous page, with the same filters; signed by the server, any other value is a 400',
    userName: 'Only executions of this owner (served by an index)',
    processName: 'Only executions of this process (served by an index)',
    nodeId: 'Only executions last written by this node (served by an index)',
    completedBefore: 'Only executions completed before this instant',
    completedAfter: 'Only executions completed after this instant',
  };
  return Object.entries(schema.properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: false,
    ...(descriptions[name] ? { description: descriptions[name] } : {}),
    schema: property,
  }));
}

function schemas(): Record<string, Json> {
  const toOpenApi = (schema: z.ZodMiniType): Json => z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' }) as Json;
  const dateTime = { type: 'string', format: 'date-time' };
  return {
    Error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', example: 'INVALID_TRANSITION' },
        message: { type: 'string' },
        field: { type: 'string', description: 'The request field the error is about' },
      },
      additionalProperties: true,
    },
    ExecutionStatus: {
      type: 'object',
      required: ['executionId', 'processName', 'phase', 'progress', 'nodeId', 'creationTime', 'lastUpdated', 'version'],
      properties: {
        executionId: toOpenApi(executionIdSchema),
        processName: { type: 'string' },
        phase: { type: 'string', enum: [...PHASES] },
        progress: { type: 'integer', minimum: 0, maximum: 100 },
        task: { type: 'string' },
        nodeId: { type: 'string', description: 'The node that last wrote the status' },
        userName: { type: 'string' },
        creationTime: dateTime,
        lastUpdated: { ...dateTime, description: "The node's heartbeat" },
        completionTime: dateTime,
        expirationDate: dateTime,
        estimatedCompletion: dateTime,
        nextPoll: dateTime,
        exception: {
          type: 'object',
          required: ['code', 'message'],
          properties: { code: { type: 'string', example: DISMISSED_EXCEPTION.code }, message: { type: 'string' } },
        },
        resultLocation: { type: 'string', format: 'uri' },
        dismissed: { type: 'boolean' },
        version: { type: 'integer', minimum: 1 },
      },
    },
    StatusWrite: toOpenApi(statusWriteSchema),
    // OGC API - Processes - Part 1: Core 1.0 schemas (schemas.opengis.net/ogcapi/processes/part1/1.0/openapi/schemas/).
    link: {
      type: 'object',
      required: ['href'],
      properties: { href: { type: 'string' }, rel: { type: 'string', example: REL_RESULTS }, type: { type: 'string' }, hreflang: { type: 'string' }, title: { type: 'string' } },
    },
    statusCode: { type: 'string', enum: [...OGC_STATUS_CODES] },
    statusInfo: {
      type: 'object',
      required: ['jobID', 'status', 'type'],
      properties: {
        processID: { type: 'string' },
        type: { type: 'string', enum: ['process'] },
        jobID: { type: 'string' },
        status: ref('schemas', 'statusCode'),
        message: { type: 'string' },
        created: dateTime,
        started: dateTime,
        finished: dateTime,
        updated: dateTime,
        progress: { type: 'integer', minimum: 0, maximum: 100 },
        links: { type: 'array', items: ref('schemas', 'link') },
      },
    },
    jobList: {
      type: 'object',
      required: ['jobs', 'links'],
      properties: { jobs: { type: 'array', items: ref('schemas', 'statusInfo') }, links: { type: 'array', items: ref('schemas', 'link') } },
    },
    exception: {
      type: 'object',
      required: ['type'],
      properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, instance: { type: 'string' } },
      additionalProperties: true,
    },
    confClasses: {
      type: 'object',
      required: ['conformsTo'],
      properties: { conformsTo: { type: 'array', items: { type: 'string' }, example: [...CONFORMANCE_CLASSES] } },
    },
    results: { type: 'object', additionalProperties: ref('schemas', 'link') },
    ...configSyncSchemas(),
  };
}

export function openApiDocument(options: OpenApiOptions): Json {
  const nodeOnly = [{ nodeToken: [] }];
  const securityOf = (access: Access) => (access === 'open' ? [] : access !== 'read' || options.requireAuthForReads ? nodeOnly : []);
  const authorizerMessage: Json = { type: 'object', properties: { message: { type: 'string' } } };
  const authResponses: Record<string, Json> = {
    '401': { description: 'No Authorization header', content: jsonContent(authorizerMessage) },
    '403': { description: 'The token does not verify', content: jsonContent(authorizerMessage) },
  };
  /** The authorizer's answer, or the operation's own when it has one for the same status too. */
  const withAuthResponses = (responses: Record<string, Json>): Record<string, Json> => {
    const merged = { ...responses };
    for (const [status, auth] of Object.entries(authResponses)) {
      const own = responses[status] as { description: string; content?: Record<string, { schema: Json }> } | undefined;
      const ownSchema = own?.content?.['application/json']?.schema;
      merged[status] = own
        ? {
            description: `${auth.description as string} (authorizer); or: ${own.description}`,
            content: jsonContent(ownSchema ? { anyOf: [authorizerMessage, ownSchema] } : authorizerMessage),
          }
        : auth;
    }
    return merged;
  };

  const paths: Record<string, Json> = {};
  const withPreflights = operations();
  for (const { path, methods } of CORS_POLLING_PATHS) {
    withPreflights[path] = {
      ...withPreflights[path],
      options: {
        access: 'open',
        operationId: `preflight${path.replace(/[^A-Za-z0-9]+(.)?/g, (_match: string, c: string | undefined) => (c ?? '').toUpperCase())}`,
        summary: `CORS preflight: browsers on allowed origins (cluster.status.corsAllowedOrigins) may ${methods.join(' and ')} here`,
        tags: ['API'],
        responses: {
          '204': { description: 'Allowed: Access-Control-Allow-Origin, -Methods, -Headers and -Max-Age' },
          '403': { description: 'The origin or the requested method is not allowed from a browser' },
        },
      },
    };
  }
  for (const [path, methods] of Object.entries(withPreflights)) {
    paths[path] = Object.fromEntries(
      Object.entries(methods).map(([method, { access, responses, ...operation }]) => {
        const security = securityOf(access);
        return [method, { ...operation, security, responses: security.length > 0 ? withAuthResponses(responses) : responses }];
      }),
    );
  }

  return {
    openapi: '3.0.3',
    info: {
      title: 'GeoServer cluster API',
      version: '1.0.0',
      description:
        'Cluster services for GeoServer-style nodes: the shared WPS execution status, written by nodes and polled by clients ' +
        'through WPS 1.0.0, WPS 2.0 and OGC API - Processes; and configuration sync, where master nodes publish catalog and ' +
        "configuration changes that every other node's store applies in one total order. " +
        (options.requireAuthForReads
          ? 'Every route needs a node token.'
          : 'Writes need a node token and listings a node or operator token; polls, catalog reads and client dismisses are open to whoever knows the ids, as GeoServer\'s statusLocation URLs are.'),
    },
    servers: [{ url: options.serverUrl }],
    tags: [
      { name: 'Execution status', description: "The nodes' JSON API of the shared status" },
      { name: 'WPS', description: 'OGC Web Processing Service 1.0.0 and 2.0 status operations' },
      { name: 'OGC API - Processes', description: 'OGC API - Processes - Part 1: Core 1.0 jobs' },
      { name: CONFIG_TAG, description: "GeoServer's JMS master/slave configuration clustering on SNS and SQS" },
      { name: 'API', description: 'This description' },
    ],
    paths,
    components: {
      securitySchemes: {
        nodeToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A node token or a read-only operator token (`npm run node-token`), checked by the authorizer against the credentials table; ' +
            'operators may list and read, and are refused (403) on every write',
        },
      },
      parameters: {
        executionId: { name: 'executionId', in: 'path', required: true, schema: z.toJSONSchema(executionIdSchema, { target: 'openapi-3.0' }) },
        jobId: { name: 'jobId', in: 'path', required: true, schema: { type: 'string' } },
        node: { name: 'node', in: 'path', required: true, description: 'A node declared in the cluster configuration', schema: nodeNameJson() },
        IfNoneMatch: {
          name: 'If-None-Match',
          in: 'header',
          required: false,
          description: 'An ETag from an earlier answer: 304 with no body while it is current',
          schema: { type: 'string' },
        },
      },
      headers: {
        ETag: { description: 'Validator of the stored state', schema: { type: 'string' } },
        CacheControl: {
          description: 'Finished jobs may be kept for a while; active ones must be revalidated (cheap, with If-None-Match)',
          schema: { type: 'string' },
        },
        RetryAfter: { description: 'Seconds until the next poll is worth making; only while the job is active', schema: { type: 'integer' } },
      },
      schemas: schemas(),
    },
  };
}
