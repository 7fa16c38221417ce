/**
 * What the status routes and the polling protocols take and answer, as the manifests
 * (manifest.ts) declare them and api/openapi.ts publishes them. The request schemas are the ones
 * the handlers validate with (schemas.ts); the answers are the shapes of execution.ts and
 * protocols/ogcapi.ts as zod schemas, held to those types by test/unit/api-schemas.test.ts.
 */
import * as z from 'zod/mini';
import {
  dateTime,
  errorResponse,
  errorSchema,
  ifNoneMatchHeader,
  jsonContent,
  NOT_MODIFIED,
  textDocument,
  type OperationDeclaration,
  type ResponseDeclaration,
} from '../shared/api';
import { DISMISSED_EXCEPTION, PHASES } from './execution';
import { CONFORMANCE_CLASSES, EXCEPTION_TYPES, OGC_STATUS_CODES, REL_RESULTS } from './protocols/ogcapi';
import { jobListQuerySchema } from './protocols/job-list-query';
import { executionIdSchema, listQuerySchema, reindexRequestSchema, statusWriteSchema } from './schemas';

const described = <T extends z.ZodMiniType>(schema: T, description: string): T => schema.check(z.describe(description)) as T;

// ---- The nodes' JSON API ----

export const executionStatusSchema = z.object({
  executionId: executionIdSchema,
  processName: z.string(),
  phase: z.enum(PHASES),
  progress: z.int().check(z.minimum(0), z.maximum(100)),
  task: z.optional(described(z.string(), 'Text of the current step')),
  nodeId: described(z.string(), 'The node running the execution: the writer of every write but a DISMISSING one another node records'),
  userName: z.optional(z.string()),
  creationTime: dateTime(),
  lastUpdated: described(dateTime(), "The node's heartbeat"),
  startTime: z.optional(
    described(
      dateTime(),
      'When the execution started running: the time of its first RUNNING write. Absent while queued, for an execution that ended without running, and for one stored before start times were recorded',
    ),
  ),
  completionTime: z.optional(dateTime()),
  expirationDate: z.optional(dateTime()),
  estimatedCompletion: z.optional(dateTime()),
  nextPoll: z.optional(dateTime()),
  exception: z.optional(z.object({ code: z.string().check(z.meta({ example: DISMISSED_EXCEPTION.code })), message: z.string() })),
  resultLocation: z.optional(z.url()),
  dismissed: z.optional(z.boolean()),
  version: described(z.int().check(z.minimum(1)), 'Incremented on every stored change; the ETag'),
});

export const executionListSchema = z.object({
  executions: z.array(executionStatusSchema),
  nextCursor: z.optional(described(z.string(), 'Pass as `cursor` for the next page')),
});

export const reindexAnswerSchema = z.object({
  scanned: described(z.int().check(z.minimum(0)), 'Statuses this request read'),
  rewritten: described(z.int().check(z.minimum(0)), 'Statuses whose index keys it rewrote (stored before an index existed, or under another shard count)'),
  skipped: described(z.int().check(z.minimum(0)), 'Stale statuses a node wrote meanwhile: that write keyed them, so they were left alone'),
  done: described(z.boolean(), 'The pass over the table is complete'),
  cursor: z.optional(described(z.string(), 'Send as `cursor` in the next request to go on (present while not done)')),
});

export const removedExecutionSchema = z.object({ removed: z.literal(true), status: executionStatusSchema });

// ---- OGC API - Processes - Part 1: Core 1.0 (schemas.opengis.net/ogcapi/processes/part1/1.0/openapi/schemas/) ----

export const linkSchema = z.object({
  href: z.string(),
  rel: z.optional(z.string().check(z.meta({ example: REL_RESULTS }))),
  type: z.optional(z.string()),
  hreflang: z.optional(z.string()),
  title: z.optional(z.string()),
});
export const statusCodeSchema = z.enum(OGC_STATUS_CODES);
export const statusInfoSchema = z.object({
  processID: z.optional(z.string()),
  type: z.literal('process'),
  jobID: z.string(),
  status: statusCodeSchema,
  message: z.optional(z.string()),
  created: z.optional(dateTime()),
  started: z.optional(dateTime()),
  finished: z.optional(dateTime()),
  updated: z.optional(dateTime()),
  progress: z.optional(z.int().check(z.minimum(0), z.maximum(100))),
  links: z.optional(z.array(linkSchema)),
});
export const jobListSchema = z.object({ jobs: z.array(statusInfoSchema), links: z.array(linkSchema) });
export const ogcExceptionSchema = z.looseObject({
  type: z.string(),
  title: z.optional(z.string()),
  status: z.optional(z.int()),
  detail: z.optional(z.string()),
  instance: z.optional(z.string()),
});
export const confClassesSchema = z.object({ conformsTo: z.array(z.string()).check(z.meta({ example: [...CONFORMANCE_CLASSES] })) });
export const resultsSchema = z.record(z.string(), linkSchema);

/** The status service's named schemas in the document (components/schemas). */
export const STATUS_SCHEMAS = {
  Error: errorSchema,
  ExecutionStatus: executionStatusSchema,
  StatusWrite: statusWriteSchema(),
  link: linkSchema,
  statusCode: statusCodeSchema,
  statusInfo: statusInfoSchema,
  jobList: jobListSchema,
  exception: ogcExceptionSchema,
  confClasses: confClassesSchema,
  results: resultsSchema,
} as const;

// ---- Operations ----

const executionIdPath = z.object({ executionId: executionIdSchema });
const jobIdPath = z.object({ jobId: z.string() });
const pollHeaders = ['ETag', 'CacheControl', 'RetryAfter'] as const;
const ogcError = (description: string): ResponseDeclaration => ({ description, content: jsonContent(ogcExceptionSchema) });
const XML_TYPE = 'text/xml';
const WPS_SCHEMA = 'http://schemas.opengis.net/wps/2.0/wps.xsd';
const owsReport = (description: string): ResponseDeclaration => ({
  description,
  content: {
    [XML_TYPE]: {
      schema: textDocument(
        'ows:ExceptionReport: OWS 1.1 for WPS 1.0.0 requests, OWS 2.0 for WPS 2.0 requests',
        'http://schemas.opengis.net/ows/2.0/owsExceptionReport.xsd',
      ),
    },
  },
});
const owsResponses = {
  200: {
    description:
      'GetExecutionStatus: wps:ExecuteResponse (WPS 1.0.0). GetStatus: wps:StatusInfo (WPS 2.0). ' +
      'GetResult: wps:Result with the recorded result location as output `result` (WPS 2.0). ' +
      'Dismiss: the ExecuteResponse reporting the dismissal (1.0.0) or StatusInfo with status Dismissed (2.0). ' +
      'Every WPS 1.0.0 exception report (ows:ExceptionReport 1.1: a bad parameter, an unknown, expired or ' +
      'dismissed execution as NoApplicableCode with the id as locator, an operation served by the GeoServer nodes) ' +
      'is sent with 200 as well, as GeoServer does.',
    headers: pollHeaders,
    content: { [XML_TYPE]: { schema: textDocument('wps:ExecuteResponse, wps:StatusInfo or wps:Result', WPS_SCHEMA) } },
  },
  400: owsReport(
    'WPS 2.0: MissingParameterValue or InvalidParameterValue naming the parameter, NoSuchJob for an unknown, expired or ' +
      'dismissed job (the id as locator), NoApplicableCode for a body that is not a well-formed request within the limits; ' +
      'GetResult: ResultNotReady while the job is accepted or running, NoApplicableCode with the exception of a failed job',
  ),
  501: owsReport('WPS 2.0: OperationNotSupported: GetCapabilities, DescribeProcess, Execute, ... are served by the GeoServer nodes'),
} satisfies Record<number, ResponseDeclaration>;
const kvp = <T extends z.ZodMiniType>(schema: T, description: string) =>
  schema.check(z.describe(`${description} Key names are case-insensitive (OWS KVP).`)) as T;
/** The KVP of GET /ows (and of a form-encoded POST). Parsed case-insensitively by protocols/kvp.ts. */
const owsQuery = z.object({
  service: kvp(z.string(), 'Must be WPS.'),
  version: z.optional(kvp(z.enum(['1.0.0', '2.0.0']), '1.0.0 or 2.0.0; defaults from the operation.')),
  request: kvp(z.enum(['GetExecutionStatus', 'GetStatus', 'GetResult', 'Dismiss']), 'The operation.'),
  executionId: z.optional(kvp(z.string(), 'Execution id (WPS 1.0.0 operations).')),
  jobID: z.optional(kvp(z.string(), 'Job id (WPS 2.0 operations).')),
});
export const STATUS_API = {
  listExecutions: {
    operationId: 'listExecutions',
    summary: "List execution statuses (GeoServer's GetExecutions)",
    tag: 'Execution status',
    // The very schema the handler validates with; its filters carry their descriptions (schemas.ts).
    query: listQuerySchema(),
    responses: {
      200: { description: 'One page of statuses, newest first where an index serves the filter', content: jsonContent(executionListSchema) },
      400: errorResponse('A filter is invalid; `field` names it'),
    },
  },
  reindexExecutions: {
    operationId: 'reindexExecutions',
    summary: 'Key the statuses stored before a listing index existed, so listings find them (run once after such an upgrade)',
    description:
      'Scans the status table and rewrites the index keys of every status keyed differently from what this version ' +
      'writes (stored before an index existed, or under another `indexShards`), each conditional on the version it ' +
      'read, so a status a node writes meanwhile is never overwritten. A request runs for a few seconds: 202 with a ' +
      '`cursor` while the pass is not done (send it in the next request), 200 once it is. Idempotent: a new pass ' +
      'rewrites nothing that is current. `npx geocluster reindex` repeats the request until 200.',
    tag: 'Execution status',
    body: { required: false, content: jsonContent(reindexRequestSchema()) },
    responses: {
      200: { description: 'The pass is done (this request read the rest of the table)', content: jsonContent(reindexAnswerSchema) },
      202: { description: 'More to read: send `cursor` in the next request', content: jsonContent(reindexAnswerSchema) },
      400: errorResponse('The body is invalid (`field` names it) or the cursor was not issued by this pass'),
      413: errorResponse('Body too large'),
      415: errorResponse('A body was sent that is not JSON'),
    },
  },
  getExecution: {
    operationId: 'getExecution',
    summary: 'Poll one execution status',
    tag: 'Execution status',
    path: executionIdPath,
    headers: z.object({ 'If-None-Match': ifNoneMatchHeader }),
    responses: {
      200: { description: 'The stored status', headers: pollHeaders, content: jsonContent(executionStatusSchema) },
      304: NOT_MODIFIED,
      400: errorResponse('The execution id is malformed (INVALID_REQUEST, `field` executionId)'),
      404: errorResponse('No such execution'),
    },
  },
  putExecution: {
    operationId: 'putExecution',
    summary: 'Create or update an execution status (nodes only)',
    description:
      'The phase must follow the transition rules (QUEUED, RUNNING, SUCCEEDED | FAILED; DISMISSING is set by a dismiss). ' +
      'A write to a dismissed execution is refused while queued or running and turned to FAILED when it succeeds.',
    tag: 'Execution status',
    path: executionIdPath,
    headers: z.object({
      'If-Match': z.optional(
        described(
          z.string(),
          'An ETag from this API, or a comma-separated list of them: write only if the stored status still has one of them (strong comparison: a tag from before the id was removed and used again does not hold, nor one made weak, `W/"..."`, as a proxy may pass it on); `*`: only if the execution exists',
        ),
      ),
      'If-None-Match': z.optional(
        described(
          z.string(),
          '`*`: write only if no execution is stored under this id (create, never overwrite another node\'s); a list of ETags: only if the stored status has none of them',
        ),
      ),
    }),
    body: { required: true, content: jsonContent(statusWriteSchema()) },
    responses: {
      200: { description: 'Updated', headers: ['ETag'], content: jsonContent(executionStatusSchema) },
      201: { description: 'Created', headers: ['ETag'], content: jsonContent(executionStatusSchema) },
      400: errorResponse('Invalid body; `field` names the offending member'),
      409: {
        description:
          'Refused transition (INVALID_TRANSITION), immutable field, the execution was dismissed (EXECUTION_DISMISSED, with the stored `status` the node should stop), or the status kept changing under concurrent writes (WRITE_CONTENTION): retry',
        content: jsonContent(z.extend(errorSchema, { status: z.optional(described(executionStatusSchema, 'EXECUTION_DISMISSED: the stored status')) })),
      },
      412: errorResponse('A precondition does not hold: If-Match (the stored status has none of its ETags, or does not exist) or If-None-Match (the execution exists, or has one of its ETags)'),
      413: errorResponse('Body too large'),
      415: errorResponse('Body is not JSON'),
    },
  },
  dismissExecution: {
    operationId: 'dismissExecution',
    summary: 'Dismiss an execution (nodes only)',
    tag: 'Execution status',
    path: executionIdPath,
    responses: {
      200: { description: 'The execution had completed and its status was removed', content: jsonContent(removedExecutionSchema) },
      202: { description: 'The execution is DISMISSING until its node stops it', content: jsonContent(executionStatusSchema) },
      400: errorResponse('The execution id is malformed (INVALID_REQUEST, `field` executionId), or a body was sent: the dismiss takes none (send none, or {}; `field` body); nothing is dismissed'),
      404: errorResponse('No such execution'),
      409: errorResponse('The status kept changing under concurrent writes (WRITE_CONTENTION): retry'),
      410: errorResponse('Already dismissed'),
    },
  },
  owsGet: {
    operationId: 'owsGet',
    summary: 'WPS 1.0.0 GetExecutionStatus and Dismiss; WPS 2.0 GetStatus, GetResult and Dismiss (KVP)',
    description:
      '`request=GetExecutionStatus&executionId=ID` is the statusLocation URL GeoServer hands out (version 1.0.0). ' +
      '`request=GetStatus&jobID=ID`, `request=GetResult&jobID=ID` and `request=Dismiss&jobID=ID` are WPS 2.0; `request=Dismiss&executionId=ID` is ' +
      "GeoServer's 1.0.0 vendor Dismiss. A dismissed execution reads as unknown in 1.0.0 and as Dismissed in 2.0.",
    tag: 'WPS',
    query: owsQuery,
    headers: z.object({ 'If-None-Match': ifNoneMatchHeader }),
    responses: { ...owsResponses, 304: NOT_MODIFIED },
  },
  owsPost: {
    operationId: 'owsPost',
    summary: 'WPS 2.0 GetStatus, GetResult and Dismiss as XML request documents (or the KVP form-encoded)',
    tag: 'WPS',
    body: {
      required: true,
      content: {
        [XML_TYPE]: { schema: textDocument('wps:GetStatus, wps:GetResult or wps:Dismiss', WPS_SCHEMA) },
        'application/xml': { schema: textDocument('wps:GetStatus, wps:GetResult or wps:Dismiss', WPS_SCHEMA) },
        'application/x-www-form-urlencoded': { schema: owsQuery },
      },
    },
    // Conditional requests are for GET: a POST is never answered 304.
    // A form-encoded body is read as WPS 1.0.0 until it says otherwise, so one over the limit gets
    // its report with the 200 every WPS 1.0.0 report has (protocols/wps1.ts wps1HttpStatus).
    responses: {
      ...owsResponses,
      413: owsReport('NoApplicableCode: the XML request document is over 256 KiB (a form-encoded body over it gets its OWS 1.1 report with 200, as every WPS 1.0.0 report)'),
    },
  },
  getJobs: {
    operationId: 'getJobs',
    summary: 'List jobs (OGC API - Processes job-list)',
    tag: 'OGC API - Processes',
    // The very schema the handler parses with (protocols/job-list-query.ts).
    query: jobListQuerySchema,
    headers: z.object({ 'If-None-Match': ifNoneMatchHeader }),
    responses: {
      200: { description: 'One page of jobs, with `self` and (when more exist) `next` links', content: jsonContent(jobListSchema) },
      304: NOT_MODIFIED,
      400: ogcError('Invalid limit, status, datetime, duration or cursor, or a parameter the list does not take (names are case-sensitive: `processId` is not `processID`)'),
    },
  },
  getStatus: {
    operationId: 'getStatus',
    summary: 'Status of a job (OGC API - Processes statusInfo)',
    tag: 'OGC API - Processes',
    path: jobIdPath,
    headers: z.object({ 'If-None-Match': ifNoneMatchHeader }),
    responses: {
      200: { description: 'The job status', headers: pollHeaders, content: jsonContent(statusInfoSchema) },
      304: NOT_MODIFIED,
      404: ogcError(`No such job (${EXCEPTION_TYPES.noSuchJob})`),
    },
  },
  dismiss: {
    operationId: 'dismiss',
    summary: 'Dismiss a job (OGC API - Processes dismiss)',
    description:
      'A queued or running job is dismissed and stopped by its node; a finished job is removed, so dismissing it again is 404. ' +
      'Dismissing a job that is still stopping after a dismiss is 410.',
    tag: 'OGC API - Processes',
    path: jobIdPath,
    responses: {
      200: { description: 'The job, now dismissed', content: jsonContent(statusInfoSchema) },
      400: ogcError('A body was sent: the dismiss takes none (or `{}`)'),
      404: ogcError(`No such job (${EXCEPTION_TYPES.noSuchJob})`),
      410: ogcError('The job was already dismissed'),
    },
  },
  getResult: {
    operationId: 'getResult',
    summary: 'Results of a job: a link to the recorded result location',
    tag: 'OGC API - Processes',
    path: jobIdPath,
    headers: z.object({ 'If-None-Match': ifNoneMatchHeader }),
    responses: {
      200: { description: 'Output id to link', headers: pollHeaders, content: jsonContent(resultsSchema) },
      304: NOT_MODIFIED,
      400: ogcError("The job failed: the job's exception code and message"),
      404: ogcError(`No such job (${EXCEPTION_TYPES.noSuchJob}) or not finished yet (${EXCEPTION_TYPES.resultNotReady}, with Retry-After)`),
      410: ogcError('The job was dismissed; it has no results'),
    },
  },
  getConformanceClasses: {
    operationId: 'getConformanceClasses',
    summary: 'OGC API conformance classes implemented',
    tag: 'OGC API - Processes',
    responses: { 200: { description: 'Conformance classes', content: jsonContent(confClassesSchema) } },
  },
  getOpenApi: {
    operationId: 'getOpenApi',
    summary: 'This document',
    tag: 'API',
    responses: {
      200: {
        description: 'OpenAPI 3.0 document, built from the service manifests when the stack is synthesized',
        content: { 'application/vnd.oai.openapi+json;version=3.0': { schema: z.record(z.string(), z.unknown()) } },
      },
    },
  },
} as const satisfies Record<string, OperationDeclaration>;

/** The CORS preflight of one polling path (lambdas/shared/cors.ts). */
export function preflightOperation(path: string, methods: readonly string[]): OperationDeclaration {
  return {
    operationId: `preflight${path.replace(/[^A-Za-z0-9]+(.)?/g, (_match: string, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: `CORS preflight: browsers on allowed origins (cluster.status.corsAllowedOrigins) may ${methods.join(' and ')} here`,
    tag: 'API',
    responses: {
      204: { description: 'Allowed: Access-Control-Allow-Origin, -Methods, -Headers and -Max-Age' },
      403: errorResponse('The origin or the requested method is not allowed from a browser (CORS_REFUSED)'),
    },
  };
}
