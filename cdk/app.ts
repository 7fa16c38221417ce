/**
 * CDK entry point: `npx cdk synth` / `npx cdk deploy`. The cluster configuration lives in
 * cdk.json context (`cluster`), or in a file chosen at synth with `-c clusterFile=path.json`
 * (one checkout, several clusters), validated here before anything is built.
 */
import { App, Validations } from 'aws-cdk-lib';
import { LambdaEnvironmentLimit } from './environment-limit';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BUNDLE_CACHE_CONTEXT } from './bundle-cache';
import { clusterConfigFromContext, ClusterConfigError } from './cluster-config';
import { ClusterStack } from './stacks/cluster-stack';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export interface ClusterAppOptions {
  /** Where the cloud assembly goes. @default the CLI's choice (cdk.out) */
  outdir?: string;
  /** Overrides cdk.json context, e.g. a test's own cluster. */
  context?: Record<string, unknown>;
  /**
   * Reuse the functions' bundles across synths from this directory (cdk/bundle-cache.ts): for
   * in-process synths (the local runtime, tests, benches). @default none (as `cdk synth` and
   * `cdk deploy`: CDK's own asset hashing)
   */
  bundleCacheDir?: string;
  /**
   * CDK's built-in CloudFormation validation of the templates (`App.builtinCloudFormationValidation`).
   * Off only for the local runtime's starts: it takes several seconds of CPU per synth, and
   * there it can only print warnings into a log (its errors fail a synth only with the
   * VALIDATE_AGAINST_DEFAULT_RULES context, which this app does not set); the CDK assertions
   * synthesize the same templates with it on and check its report. @default true
   */
  cloudFormationValidation?: boolean;
}

export function createClusterApp(options: ClusterAppOptions = {}): { app: App; stack: ClusterStack } {
  // The CLI passes cdk.json context in CDK_CONTEXT_JSON; in-process callers (tests, the local
  // runtime) get the same context from the file so that both see one configuration.
  const context = options.context ?? (process.env.CDK_CONTEXT_JSON ? undefined : cdkJsonContext());
  const bundleCache = options.bundleCacheDir ? { [BUNDLE_CACHE_CONTEXT]: options.bundleCacheDir } : {};
  const app = new App({ outdir: options.outdir, builtinCloudFormationValidation: options.cloudFormationValidation ?? true, context: { 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:enable-path-metadata': true, ...context, ...bundleCache } });
  const cluster = clusterConfigFromContext((key) => app.node.tryGetContext(key));
  const stack = new ClusterStack(app, `${cluster.name}-cluster`, {
    cluster,
    description: `GeoServer cluster services for '${cluster.name}' (serverless-geoserver-cluster)`,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }), new LambdaEnvironmentLimit());
  return { app, stack };
}

/**
 * Runs `build` (app construction and synth: CDK bundles each asset when its construct is
 * created) without the "Bundling asset ..." line CDK writes to stderr for each of the ~20
 * functions, which buries what a test run or `npm start` has to say. For in-process callers
 * (tests, the local runtime, the bench); `cdk synth` keeps them. Anything else written to
 * stderr (errors, esbuild warnings) passes through.
 */
export function withQuietBundling<T>(build: () => T): T {
  const write = process.stderr.write;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) =>
    typeof chunk === 'string' && /^Bundling asset [^\n]*\.\.\.\n$/.test(chunk)
      ? true
      : (write as (...args: unknown[]) => boolean).call(process.stderr, chunk, ...rest)) as typeof process.stderr.write;
  try {
    return build();
  } finally {
    process.stderr.write = write;
  }
}

/** The context of cdk.json, as `cdk synth` reads it: what in-process synths (the local runtime, the benches) start from. */
export function cdkJsonContext(): Record<string, unknown> {
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
