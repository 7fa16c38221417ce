import type { HttpApi, IHttpRouteAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Stage } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildOpenApiDocument } from '../../api/openapi';
import { OPENAPI_DOCUMENT_FILE } from '../../lambdas/shared/openapi-file';
import { CORS_POLLING_PATHS, POLLING_MANIFEST, STATUS_ENV, type StatusResource } from '../../lambdas/status/manifest';
import type { ClusterConfig } from '../cluster-config';
import type { ClusterFunction } from './cluster-function';
import { declaredFunctions } from './declared-functions';
import { statusEnvironment } from './status-service';

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
 * The standard polling protocols over the shared status table, declared in
 * lambdas/status/manifest.ts (POLLING_MANIFEST, which says which route is open to whom), and
 * the OpenAPI document of every manifest, built here at synth.
 */
export class PollingProtocols extends Construct {
  readonly functions: Record<keyof typeof POLLING_MANIFEST, ClusterFunction>;

  constructor(scope: Construct, id: string, props: PollingProtocolsProps) {
    super(scope, id);
    const settings = props.cluster.status;
    // Per path, the methods a browser may use there (the preflight's answer).
    const corsMethods: Record<string, string[]> = Object.fromEntries(CORS_POLLING_PATHS.map(({ path, methods }) => [path, methods]));
    const resources: Record<StatusResource, string[]> = {
      table: [props.statusTable.tableArn],
      listingIndexes: props.listingIndexArns,
      completionIndex: [],
      heartbeatIndex: [],
    };
    this.functions = declaredFunctions(this, POLLING_MANIFEST, {
      environment: statusEnvironment(props.cluster, {
        [STATUS_ENV.tableName]: props.statusTable.tableName,
        [STATUS_ENV.corsPreflightMethods]: JSON.stringify(corsMethods),
        ...props.cursorKeyEnvironment,
      }),
      grant: (grant) => [new PolicyStatement({ actions: [...grant.actions], resources: resources[grant.on] })],
      api: props.api,
      authorizers: { node: props.nodeAuthorizer, read: settings.requireAuthForReads ? props.nodeAuthorizer : undefined },
      // The OpenAPI document, built now from every manifest, travels inside its function's bundle.
      bundledFiles: { OpenApiDocument: { [OPENAPI_DOCUMENT_FILE]: this.writeOpenApiDocument(settings.requireAuthForReads, props.cluster.gateway.enabled) } },
    });
  }

  /** Writes the document into the assembly's folder (a temporary one outside an app) and returns its path. */
  private writeOpenApiDocument(requireAuthForReads: boolean, gateway: boolean): string {
    // The gateway's route is in the document exactly when the stack builds it (cluster.gateway).
    const text = JSON.stringify(buildOpenApiDocument({ requireAuthForReads, gateway }));
    const folder = path.join(Stage.of(this)?.outdir ?? tmpdir(), 'openapi');
    mkdirSync(folder, { recursive: true });
    const file = path.join(folder, `openapi-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`);
    writeFileSync(file, text);
    return file;
  }
}
