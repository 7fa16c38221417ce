import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Architecture, ApplicationLogLevel, LoggingFormat, Runtime, SystemLogLevel, Tracing, type CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import * as path from 'node:path';

export interface ClusterFunctionProps {
  /** Handler file, relative to the repository's `lambdas/` folder, e.g. `status/handlers/get-status.ts`. */
  readonly entry: string;
  readonly environment?: Record<string, string>;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /**
   * Files built at synth that the function reads beside its bundle: name in the bundle ->
   * absolute path now (the OpenAPI document). Part of the bundle, so of its asset hash.
   */
  readonly bundledFiles?: Readonly<Record<string, string>>;
}

export const UNUSED_CREDENTIAL_PROVIDERS = [
  '@aws-sdk/nested-clients',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/token-providers',
];

/**
 * Modules a function requires only when it first needs them, by a `require()` of exactly this
 * specifier. The bundling leaves such a `require` in index.js (external) and bundles the module
 * into a file of its own beside it (`<name>.js`), so a function pays for parsing and running
 * it on first use instead of at every cold start. Each holds an SDK client most invocations
 * of some function never use: the S3 client for large bodies (lambdas/config-sync/adapters/s3-body-store.ts),
 * the Secrets Manager client for GeoServer credentials (secrets-manager-credentials.ts), the
 * SNS and SQS clients (deferred-sdk.ts: an apply function sends to them only for a failure or
 * a job, the republish schedule only when an event is pending; functions that send on every
 * invocation require them at cold start). A chunk is built only for a function whose
 * index.js requires it.
 */
export const DEFERRED_MODULES: readonly { readonly specifier: string; readonly entry: string }[] = [
  { specifier: './s3-sdk', entry: 'config-sync/adapters/s3-sdk.ts' },
  { specifier: './secrets-manager-sdk', entry: 'config-sync/adapters/secrets-manager-sdk.ts' },
  { specifier: './sns-sdk', entry: 'config-sync/adapters/sns-sdk.ts' },
  { specifier: './sqs-sdk', entry: 'config-sync/adapters/sqs-sdk.ts' },
];

/** The environment observe() sets on every function, whatever its service manifest declares. */
export const OBSERVABILITY_ENV = ['POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_LOG_LEVEL'] as const;

/** What every function's logger and metrics are told (cdk/stacks/cluster-stack.ts sets it once for all). */
export interface FunctionObservability {
  /** The `service` of every log line and the dimension of every metric: the cluster's name. */
  readonly serviceName: string;
  /** CloudWatch namespace of the custom metrics. */
  readonly metricsNamespace: string;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/** esbuild settings shared by a function's index.js and its deferred modules. */
const BUNDLE_SETTINGS = {
  minify: true,
  target: 'node22',
  format: OutputFormat.CJS,
  // Smithy packages publish ES module builds that tree-shake better than their CJS ones.
  mainFields: ['module', 'main'],
} as const;

/**
 * Every function of the cluster, with its defaults set once: Node.js 22 on arm64 (cheaper per
 * GB-second), JSON logs (Powertools Logger lines in Lambda's JSON log format), X-Ray active
 * tracing, and an esbuild bundle that includes the AWS SDK so cold starts don't pay for resolving the runtime's
 * copy and versions are pinned by our lockfile.
 */
export class ClusterFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: ClusterFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      entry: path.join(__dirname, '..', '..', 'lambdas', props.entry),
      handler: 'handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      environment: props.environment,
      tracing: Tracing.ACTIVE,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.WARN,
      logGroup,
      bundling: {
        ...BUNDLE_SETTINGS,
        mainFields: [...BUNDLE_SETTINGS.mainFields],
        sourceMap: false,
        // Warnings and errors only: esbuild's per-bundle size summary adds two lines per
        // function to every synth, test run and `npm start`.
        logLevel: LogLevel.WARNING,
        // Lambda always hands functions credentials in environment variables, so the SDK's
        // other credential providers (SSO, profiles, web identity, ...) never run there; the
        // Node.js 22 runtime ships them should they ever be reached. Leaving them out keeps
        // ~115 KB out of every bundle.
        externalModules: [...UNUSED_CREDENTIAL_PROVIDERS, ...DEFERRED_MODULES.map((deferred) => deferred.specifier)],
        // Static pages (the operator console) are embedded in their function's bundle as text.
        loader: { '.html': 'text' },
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir, outputDir) => [
            ...copyCommands(props.bundledFiles ?? {}, outputDir),
            ...DEFERRED_MODULES.map((deferred) => deferredBundleCommand(deferred, outputDir)),
          ],
        },
      },
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so CDK grants them on *; acknowledged on each function's own role only.",
    });
  }

  /**
   * Points the function's Powertools logger and metrics at the cluster and sets its log level,
   * both Powertools' own (read locally) and Lambda's log filter (which Powertools follows in AWS).
   */
  observe(settings: FunctionObservability): void {
    const [service, namespace, level] = OBSERVABILITY_ENV;
    this.addEnvironment(service, settings.serviceName);
    this.addEnvironment(namespace, settings.metricsNamespace);
    this.addEnvironment(level, settings.logLevel);
    const cfn = this.node.defaultChild as CfnFunction;
    cfn.loggingConfig = { ...(cfn.loggingConfig as CfnFunction.LoggingConfigProperty), applicationLogLevel: settings.logLevel };
  }
}

const quote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

/** The shell commands that copy synth-built files next to the bundle. */
function copyCommands(files: Readonly<Record<string, string>>, outputDir: string): string[] {
  return Object.entries(files).map(([name, source]) => {
    if (!/^[\w.-]+$/.test(name)) throw new Error(`Bundled file name ${name} must be a plain file name`);
    return `cp ${quote(source)} ${quote(path.join(outputDir, name))}`;
  });
}

/**
 * The shell command that bundles one deferred module beside the function's index.js, with the
 * function's own esbuild settings, when (and only when) index.js requires it.
 */
function deferredBundleCommand(deferred: (typeof DEFERRED_MODULES)[number], outputDir: string): string {
  const esbuild = require.resolve('esbuild/bin/esbuild');
  const entry = path.join(__dirname, '..', '..', 'lambdas', deferred.entry);
  const outfile = path.join(outputDir, `${path.posix.basename(deferred.specifier)}.js`);
  const args = [
    '--bundle',
    entry,
    '--platform=node',
    `--target=${BUNDLE_SETTINGS.target}`,
    `--format=${BUNDLE_SETTINGS.format}`,
    ...(BUNDLE_SETTINGS.minify ? ['--minify'] : []),
    `--main-fields=${BUNDLE_SETTINGS.mainFields.join(',')}`,
    ...UNUSED_CREDENTIAL_PROVIDERS.map((external) => `--external:${external}`),
    '--log-level=warning',
    `--outfile=${outfile}`,
  ];
  const required = `require("${deferred.specifier}")`;
  return `if grep -qF ${quote(required)} ${quote(path.join(outputDir, 'index.js'))}; then ${[esbuild, ...args].map(quote).join(' ')}; fi`;
}
