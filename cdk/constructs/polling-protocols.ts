import { HttpMethod, type HttpApi, type IHttpRouteAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { ClusterConfig } from '../cluster-config';
import { CORS_POLLING_PATHS } from '../../lambdas/shared/cors';
import { ClusterFunction } from './cluster-function';


export interface PollingProtocolsProps {
  readonly cluster: ClusterConfig;
  readonly api: HttpApi;
  /** Used on every route when `cluster.status.requireAuthForReads` is set; otherwise the routes are open. */
  readonly nodeAuthorizer: IHttpRouteAuthorizer;
  /** The shared execution status table (StatusService.table), with its two sharded indexes. */
  readonly statusTable: ITable;
  /** Every index of the status table (StatusService.listingIndexArns): the job list uses them all. */
  readonly listingIndexArns: string[];
  /** The cursor key's environment (StatusService.cursorKeyEnvironment), for the job list's `next` links. */
  readonly cursorKeyEnvironment: Record<string, string>;
}

/**
 * The standard polling protocols over the shared status table, so any WPS or OGC API client
 * polling any node's URL gets the standard document (lambdas/status/protocols/):
 * - `GET|POST /ows`: WPS 1.0.0 GetExecutionStatus and Dismiss, WPS 2.0 GetStatus and Dismiss;
 * - `/jobs`, `/jobs/{jobId}`, `/jobs/{jobId}/results`, `DELETE /jobs/{jobId}`, `/conformance`:
 *   OGC API - Processes - Part 1: Core 1.0;
 * - `GET /openapi.json`: the OpenAPI description of the whole API.
 *
 * Every route but the job list follows the read-route switch, the client-facing dismisses included: open by default
 * (GeoServer lets whoever holds the statusLocation URL poll and dismiss; ids are unguessable
 * UUIDs), node-authorized when `requireAuthForReads` is set. Reads and dismisses are separate
 * functions so that only the dismissing ones can write.
 */
export class PollingProtocols extends Construct {
  readonly functions: Record<string, ClusterFunction> = {};

  constructor(scope: Construct, id: string, props: PollingProtocolsProps) {
    super(scope, id);
    const settings = props.cluster.status;
    const protocolEnvironment: Record<string, string> = {
      DEFAULT_RETRY_AFTER_SECONDS: String(settings.defaultRetryAfterSeconds),
      REQUIRE_AUTH_FOR_READS: String(settings.requireAuthForReads),
      CORS_ALLOWED_ORIGINS: JSON.stringify(settings.corsAllowedOrigins),
      ...(settings.publicBaseUrl !== undefined ? { PUBLIC_BASE_URL: settings.publicBaseUrl } : {}),
    };
    // What lambdas/status/adapters/store-from-env.ts reads.
    const storeEnvironment: Record<string, string> = {
      STATUS_TABLE_NAME: props.statusTable.tableName,
      STATUS_INDEX_SHARDS: String(settings.indexShards),
      STATUS_RETENTION_MINUTES: String(settings.retentionMinutes),
      HEARTBEAT_TIMEOUT_SECONDS: String(settings.heartbeatTimeoutSeconds),
    };
    const tableArn = props.statusTable.tableArn;
    const allow = (actions: string[], resources: string[]) => new PolicyStatement({ actions, resources });
    const fn = (name: string, entry: string, statements: PolicyStatement[], extra: Record<string, string> = {}) => {
      const created = new ClusterFunction(this, name, {
        entry,
        environment: { ...(statements.length > 0 ? storeEnvironment : {}), ...protocolEnvironment, ...extra },
      });
      statements.forEach((statement) => created.addToRolePolicy(statement));
      this.functions[name] = created;
      return created;
    };
    const readItem = allow(['dynamodb:GetItem'], [tableArn]);
    // dismissExecution: read, then a conditional put (DISMISSING) or delete (a completed job).
    const dismissItem = allow(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'], [tableArn]);

    // GET /ows carries the KVP Dismiss too, so the /ows function is a dismissing one.
    const ows = fn('OwsEndpoint', 'status/handlers/ows.ts', [dismissItem]);
    const jobStatus = fn('JobStatus', 'status/handlers/get-job.ts', [readItem]);
    const jobResults = fn('JobResults', 'status/handlers/get-job-results.ts', [readItem]);
    const jobDismiss = fn('JobDismiss', 'status/handlers/dismiss-job.ts', [dismissItem]);
    // The same listing paths as GET /executions (dynamo-status-store.ts): any index, the page's
    // items by key, a scan only without filters.
    const jobList = fn(
      'JobList',
      'status/handlers/list-jobs.ts',
      [allow(['dynamodb:Query'], props.listingIndexArns), allow(['dynamodb:Scan', 'dynamodb:BatchGetItem'], [tableArn])],
      props.cursorKeyEnvironment,
    );
    const conformance = fn('ConformanceDocument', 'status/handlers/conformance.ts', []);
    const openApi = fn('OpenApiDocument', 'status/handlers/openapi-document.ts', []);

    const readAuthorizer = settings.requireAuthForReads ? props.nodeAuthorizer : undefined;
    const integrations = new Map<ClusterFunction, HttpLambdaIntegration>();
    /** `read`: the read-route switch; `token`: always a node or operator token; `open`: never. */
    const route = (path: string, method: HttpMethod, target: ClusterFunction, access: 'read' | 'token' | 'open' = 'read') => {
      const authorizer = access === 'read' ? readAuthorizer : access === 'token' ? props.nodeAuthorizer : undefined;
      // One integration per function, shared by its routes (GET and POST /ows).
      let integration = integrations.get(target);
      if (integration === undefined) {
        integration = new HttpLambdaIntegration(`${target.node.id}Integration`, target);
        integrations.set(target, integration);
      }
      props.api.addRoutes({ path, methods: [method], integration, authorizer });
    };
    route('/ows', HttpMethod.GET, ows);
    route('/ows', HttpMethod.POST, ows);
    // The job list hands out ids: it always needs a node or operator token.
    route('/jobs', HttpMethod.GET, jobList, 'token');
    route('/jobs/{jobId}', HttpMethod.GET, jobStatus);
    route('/jobs/{jobId}', HttpMethod.DELETE, jobDismiss);
    route('/jobs/{jobId}/results', HttpMethod.GET, jobResults);
    route('/conformance', HttpMethod.GET, conformance);
    route('/openapi.json', HttpMethod.GET, openApi);

    // CORS preflight on exactly the polling paths, never on a write path, always open (a browser
    // sends no token with it). Per path, the methods a browser may use there.
    const corsMethods: Record<string, string[]> = Object.fromEntries(CORS_POLLING_PATHS.map(({ path, methods }) => [path, methods]));
    const preflight = fn('CorsPreflight', 'shared/handlers/cors-preflight.ts', []);
    preflight.addEnvironment('CORS_PREFLIGHT_METHODS', JSON.stringify(corsMethods));
    for (const { path } of CORS_POLLING_PATHS) route(path, HttpMethod.OPTIONS, preflight, 'open');
  }
}
