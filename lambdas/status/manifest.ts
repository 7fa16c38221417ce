/**
 * The status service and the polling protocols over it, declared once: each function's handler,
 * routes with their access, schedule, the environment it reads and the IAM actions it needs. The
 * CDK constructs (cdk/constructs/status-service.ts, polling-protocols.ts) build exactly this;
 * the local runtime serves what they synthesize.
 */
import { corsPaths, type RouteDeclaration, type ServiceManifest } from '../shared/manifest';
import { preflightOperation, STATUS_API as API } from './api';
import { STATUS_ENV, type StatusEnv } from './env-names';

export { STATUS_ENV, type StatusEnv };

/**
 * - `table`: the Executions table (lambdas/status/adapters/status-table.ts);
 * - `listingIndexes`: every index of it (a listing's filters may pick any);
 * - `completionIndex`, `heartbeatIndex`: the one index the cleanup and the reaper read.
 */
export type StatusResource = 'table' | 'listingIndexes' | 'completionIndex' | 'heartbeatIndex';
export type StatusSchedule = 'cleanupSchedule' | 'reaperSchedule';

const ddb = (...actions: string[]) => actions.map((action) => `dynamodb:${action}`);
const STORE: readonly StatusEnv[] = [STATUS_ENV.tableName, STATUS_ENV.indexShards, STATUS_ENV.retentionMinutes, STATUS_ENV.heartbeatTimeoutSeconds];
const SERVICE: readonly StatusEnv[] = [...STORE, STATUS_ENV.defaultRetryAfterSeconds];
const PROTOCOL: readonly StatusEnv[] = [
  STATUS_ENV.defaultRetryAfterSeconds,
  STATUS_ENV.requireAuthForReads,
  STATUS_ENV.corsAllowedOrigins,
  STATUS_ENV.publicBaseUrl,
];
/** The listing paths (dynamo-status-store.ts): any index, the page's items by key, a scan only without filters. */
const LIST = [
  { on: 'listingIndexes', actions: ddb('Query') },
  { on: 'table', actions: ddb('Scan', 'BatchGetItem') },
] as const;
const READ_ITEM = [{ on: 'table', actions: ddb('GetItem') }] as const;
/** dismissExecution: read, then a conditional put (DISMISSING) or delete (a completed execution). */
const DISMISS_ITEM = [{ on: 'table', actions: ddb('GetItem', 'PutItem', 'DeleteItem') }] as const;

/**
 * The shared execution status map: the API that nodes write and clients poll, and the scheduled
 * cleanup and reaper. Listings hand out ids, and an id is what lets anyone poll or dismiss: they
 * always need a token (`node`), like writes.
 */
export const STATUS_MANIFEST = {
  PutStatus: {
    entry: 'status/handlers/put-status.ts',
    environment: SERVICE,
    grants: [{ on: 'table', actions: ddb('GetItem', 'PutItem', 'UpdateItem') }],
    routes: [{ method: 'PUT', path: '/executions/{executionId}', access: 'node', api: API.putExecution }],
  },
  GetStatus: {
    entry: 'status/handlers/get-status.ts',
    // Browsers may poll (lambdas/shared/cors.ts); the preflight route is the polling protocols'.
    environment: [...SERVICE, STATUS_ENV.corsAllowedOrigins],
    grants: READ_ITEM,
    routes: [{ method: 'GET', path: '/executions/{executionId}', access: 'read', api: API.getExecution, head: true, cors: true }],
  },
  ListStatuses: {
    entry: 'status/handlers/list-statuses.ts',
    environment: [...SERVICE, STATUS_ENV.cursorKey],
    grants: LIST,
    routes: [{ method: 'GET', path: '/executions', access: 'node', api: API.listExecutions }],
  },
  DismissStatus: {
    entry: 'status/handlers/dismiss-status.ts',
    environment: SERVICE,
    grants: DISMISS_ITEM,
    routes: [{ method: 'DELETE', path: '/executions/{executionId}', access: 'node', api: API.dismissExecution }],
  },
  ReindexStatuses: {
    entry: 'status/handlers/reindex-statuses.ts',
    environment: [...SERVICE, STATUS_ENV.cursorKey],
    // A scan of the table, and a conditional put of each stale status.
    grants: [{ on: 'table', actions: ddb('Scan', 'PutItem') }],
    routes: [{ method: 'POST', path: '/executions/reindex', access: 'node', api: API.reindexExecutions }],
  },
  CleanupExpired: {
    entry: 'status/handlers/cleanup.ts',
    environment: [...SERVICE, STATUS_ENV.cursorKey],
    grants: [
      { on: 'completionIndex', actions: ddb('Query') },
      { on: 'table', actions: ddb('DeleteItem') },
    ],
    schedule: { setting: 'cleanupSchedule', description: 'Removes completed execution statuses past their retention' },
  },
  ReapLostExecutions: {
    entry: 'status/handlers/reap-lost.ts',
    environment: [...SERVICE, STATUS_ENV.cursorKey],
    grants: [
      { on: 'heartbeatIndex', actions: ddb('Query') },
      { on: 'table', actions: ddb('PutItem') },
    ],
    schedule: { setting: 'reaperSchedule', description: 'Fails executions whose node stopped sending heartbeats' },
  },
} as const satisfies ServiceManifest<StatusEnv, StatusResource, never, StatusSchedule>;

/**
 * The standard polling protocols over the shared status table, so any WPS or OGC API client
 * polling any node's URL gets the standard document (lambdas/status/protocols/):
 * - `GET|POST /ows`: WPS 1.0.0 GetExecutionStatus and Dismiss, WPS 2.0 GetStatus, GetResult and Dismiss;
 * - `/jobs`, `/jobs/{jobId}`, `/jobs/{jobId}/results`, `DELETE /jobs/{jobId}`, `/conformance`:
 *   the job resources of OGC API - Processes - Part 1: Core 1.0 (not its `core` class: no
 *   landing page or /processes, which are the GeoServer nodes');
 * - `GET /openapi.json`: the OpenAPI description of the whole API, built from every manifest at
 *   synth (api/openapi.ts) and bundled with its function as a static document;
 * - `OPTIONS` on exactly the polling paths browsers may use (CORS preflight, always open: a
 *   browser sends no token with it), never on a write path.
 *
 * Every route but the job list follows the read-route switch, the client-facing dismisses
 * included: open by default (GeoServer lets whoever holds the statusLocation URL poll and
 * dismiss; ids are unguessable UUIDs), node-authorized when `requireAuthForReads` is set. The job
 * list hands out ids, so it always needs a token. Reads and dismisses are separate functions so
 * that only the dismissing ones can write; GET /ows carries the KVP Dismiss, so /ows dismisses.
 */
const POLLING_ROUTES = {
  OwsEndpoint: {
    entry: 'status/handlers/ows.ts',
    environment: [...STORE, ...PROTOCOL],
    grants: DISMISS_ITEM,
    routes: [
      {
        method: 'GET',
        path: '/ows',
        access: 'read',
        api: API.owsGet,
        cors: true,
        head: { refused: 'A Dismiss (WPS 2.0, or the 1.0.0 vendor Dismiss): it changes state, which HEAD never does; send it with GET or POST (`Allow`)' },
      },
      { method: 'POST', path: '/ows', access: 'read', api: API.owsPost, cors: true },
    ],
  },
  JobStatus: {
    entry: 'status/handlers/get-job.ts',
    environment: [...STORE, ...PROTOCOL],
    grants: READ_ITEM,
    routes: [{ method: 'GET', path: '/jobs/{jobId}', access: 'read', api: API.getStatus, head: true, cors: true }],
  },
  JobResults: {
    entry: 'status/handlers/get-job-results.ts',
    environment: [...STORE, ...PROTOCOL],
    grants: READ_ITEM,
    routes: [{ method: 'GET', path: '/jobs/{jobId}/results', access: 'read', api: API.getResult, head: true, cors: true }],
  },
  JobDismiss: {
    entry: 'status/handlers/dismiss-job.ts',
    environment: [...STORE, ...PROTOCOL],
    grants: DISMISS_ITEM,
    routes: [{ method: 'DELETE', path: '/jobs/{jobId}', access: 'read', api: API.dismiss }],
  },
  JobList: {
    entry: 'status/handlers/list-jobs.ts',
    environment: [...STORE, ...PROTOCOL, STATUS_ENV.cursorKey],
    grants: LIST,
    routes: [{ method: 'GET', path: '/jobs', access: 'node', api: API.getJobs }],
  },
  ConformanceDocument: {
    entry: 'status/handlers/conformance.ts',
    environment: PROTOCOL,
    grants: [],
    routes: [{ method: 'GET', path: '/conformance', access: 'read', api: API.getConformanceClasses, head: true, cors: true }],
  },
  OpenApiDocument: {
    entry: 'status/handlers/openapi-document.ts',
    environment: PROTOCOL,
    grants: [],
    routes: [{ method: 'GET', path: '/openapi.json', access: 'read', api: API.getOpenApi, head: true, cors: true }],
  },
} as const satisfies ServiceManifest<StatusEnv, StatusResource, never, never>;

/** The paths browsers may poll from other origins, with their methods: the routes that set `cors`. */
export const CORS_POLLING_PATHS = corsPaths({ ...STATUS_MANIFEST, ...POLLING_ROUTES });

export const POLLING_MANIFEST = {
  ...POLLING_ROUTES,
  CorsPreflight: {
    entry: 'shared/handlers/cors-preflight.ts',
    environment: [...PROTOCOL, STATUS_ENV.corsPreflightMethods],
    grants: [],
    routes: CORS_POLLING_PATHS.map(
      ({ path, methods }): RouteDeclaration => ({ method: 'OPTIONS', path, access: 'open', api: preflightOperation(path, methods) }),
    ),
  },
} as const satisfies ServiceManifest<StatusEnv, StatusResource, never, never>;
