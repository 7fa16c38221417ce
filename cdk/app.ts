/**
 * CDK entry point: `npx cdk synth` / `npx cdk deploy`. The cluster configuration lives in
 * cdk.json context (`cluster`), validated here before anything is built.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseClusterConfig, ClusterConfigError } from './cluster-config';
import { ClusterStack } from './stacks/cluster-stack';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export interface ClusterAppOptions {
  /** Where the cloud assembly goes. @default the CLI's choice (cdk.out) */
  outdir?: string;
  /** Overrides cdk.json context, e.g. a test's own cluster. */
  context?: Record<string, unknown>;
}

export function createClusterApp(options: ClusterAppOptions = {}): { app: App; stack: ClusterStack } {
  // The CLI passes cdk.json context in CDK_CONTEXT_JSON; in-process callers (tests, the local
  // runtime) get the same context from the file so that both see one configuration.
  const context = options.context ?? (process.env.CDK_CONTEXT_JSON ? undefined : cdkJsonContext());
  const app = new App({ outdir: options.outdir, context: { 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:enable-path-metadata': true, ...context } });
  const cluster = parseClusterConfig(app.node.tryGetContext('cluster'));
  const stack = new ClusterStack(app, `${cluster.name}-cluster`, {
    cluster,
    description: `GeoServer cluster services for '${cluster.name}' (serverless-geoserver-cluster)`,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}

function cdkJsonContext(): Record<string, unknown> {
  const file = path.join(__dirname, '..', 'cdk.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { context?: Record<string, unknown> }).context ?? {};
}

if (require.main === module) {
  try {
    createClusterApp().app.synth();
  } catch (error) {
    if (error instanceof ClusterConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}
