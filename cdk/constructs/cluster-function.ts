import { App, Duration, RemovalPolicy, Stack, Stage, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, ApplicationLogLevel, LoggingFormat, Runtime, SystemLogLevel, Tracing, type CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat, type BundlingOptions, type ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import { Construct, type IConstruct } from 'constructs';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BUNDLE_CACHE_CONTEXT, BundleCache, functionBundleKey, projectInputsDigest } from '../bundle-cache';

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
 * invocation require them at cold start). One holds code of ours: the job runner with the drift
 * comparison and job store it brings, which ResyncNode runs only for a pure master's resync and
 * a node's apply function only when its queue delivers a job's slice
 * (lambdas/config-sync/job-slices.ts). A chunk is built only for a function whose index.js
 * requires it.
 */
export const DEFERRED_MODULES: readonly { readonly specifier: string; readonly entry: string }[] = [
  { specifier: './s3-sdk', entry: 'config-sync/adapters/s3-sdk.ts' },
  { specifier: './secrets-manager-sdk', entry: 'config-sync/adapters/secrets-manager-sdk.ts' },
  { specifier: './sns-sdk', entry: 'config-sync/adapters/sns-sdk.ts' },
  { specifier: './sqs-sdk', entry: 'config-sync/adapters/sqs-sdk.ts' },
  { specifier: './job-slices', entry: 'config-sync/job-slices.ts' },
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
    // Its own role, without the AWSLambdaBasicExecutionRole managed policy CDK would attach:
    // that policy lets a function create and write any log group of the account. A function
    // writes only to its own log group.
    const role = new Role(scope, `${id}ServiceRole`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    const bundledFiles = props.bundledFiles ?? {};
    const code: BundleSpec = {
      entry: path.join(LAMBDAS_DIR, props.entry),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      bundledFiles,
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
        commandHooks: commandHooks(bundledFiles),
      },
    };
    // In-process synths (local runtime, tests) reuse bundles across synths; see cdk/bundle-cache.ts.
    const cached = cachedBundle(scope, code);
    super(scope, id, {
      entry: code.entry,
      handler: 'handler',
      runtime: code.runtime,
      architecture: code.architecture,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      environment: props.environment,
      tracing: Tracing.ACTIVE,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.WARN,
      logGroup,
      role,
      bundling: cached ? { ...code.bundling, assetHash: cached.key } : code.bundling,
    });
    cached?.storeBundleOf(this);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so CDK grants them on *; acknowledged on each function's own role only.",
    });
  }

  /**
   * Points the function's Powertools logger and metrics at the cluster and sets its log level:
   * Powertools' own (POWERTOOLS_LOG_LEVEL, which lambdas/shared/observability.ts holds the logger
   * to) and Lambda's log filter, which is never above INFO (lambdaLogFilter).
   */
  observe(settings: FunctionObservability): void {
    const [service, namespace, level] = OBSERVABILITY_ENV;
    this.addEnvironment(service, settings.serviceName);
    this.addEnvironment(namespace, settings.metricsNamespace);
    this.addEnvironment(level, settings.logLevel);
    const cfn = this.node.defaultChild as CfnFunction;
    cfn.loggingConfig = { ...(cfn.loggingConfig as CfnFunction.LoggingConfigProperty), applicationLogLevel: lambdaLogFilter(settings.logLevel) };
  }
}

/**
 * Lambda's application log filter for a cluster log level: the level itself up to INFO, INFO
 * above it. Powertools' metric lines (embedded metric format, written straight to stdout) carry
 * no `level`, and Lambda files a JSON line without one as INFO: a filter at WARN or ERROR drops
 * every custom metric, and with them the alarms on lag, parked events and the republish backlog,
 * which would then never fire. The logger keeps to the cluster's level itself.
 */
export function lambdaLogFilter(level: FunctionObservability['logLevel']): 'DEBUG' | 'INFO' {
  return level === 'DEBUG' ? 'DEBUG' : 'INFO';
}

/**
 * Writes `text`, a file for ClusterFunctionProps.bundledFiles, into the assembly's folder (a
 * temporary one outside an app), named by `kind` and its content's hash, and returns its path.
 */
export function writeSynthFile(scope: Construct, kind: string, text: string): string {
  const folder = path.join(Stage.of(scope)?.outdir ?? tmpdir(), kind);
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, `${kind}-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`);
  writeFileSync(file, text);
  return file;
}

const quote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

const LAMBDAS_DIR = path.join(__dirname, '..', '..', 'lambdas');

/** What a function's bundle is made of: NodejsFunction's props that reach its bundling. */
interface BundleSpec {
  readonly entry: string;
  readonly runtime: Runtime;
  readonly architecture: Architecture;
  readonly bundling: BundlingOptions & { readonly commandHooks: ICommandHooks };
  /** ClusterFunctionProps.bundledFiles */
  readonly bundledFiles: Readonly<Record<string, string>>;
}

/**
 * The commands run around esbuild: after it, copying the synth-built files beside the bundle
 * and bundling the deferred modules index.js requires.
 */
function commandHooks(bundledFiles: Readonly<Record<string, string>>): ICommandHooks {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir, outputDir) => [
      ...copyCommands(bundledFiles, outputDir),
      ...DEFERRED_MODULES.map((deferred) => deferredBundleCommand(deferred, outputDir)),
    ],
  };
}

/**
 * With a bundle cache (context BUNDLE_CACHE_CONTEXT, set by in-process synths only) and bundling
 * on: the function's cache key, to be its custom asset hash. A cached bundle of that key is
 * copied now to where CDK will stage the asset, which makes CDK skip bundling it;
 * `storeBundleOf` then stores a bundle esbuild made. Without a cache (`cdk synth`, `cdk
 * deploy`): undefined, and the asset is hashed by its output as CDK does by default.
 */
function cachedBundle(scope: Construct, spec: BundleSpec): { key: string; storeBundleOf(fn: NodejsFunction): void } | undefined {
  const dir: unknown = scope.node.tryGetContext(BUNDLE_CACHE_CONTEXT);
  if (typeof dir !== 'string' || !Stack.of(scope).bundlingRequired) return undefined;
  const stage = Stage.of(scope);
  if (!stage) return undefined;
  const cache = new BundleCache(dir);
  // The hooks as the commands they run; a copied file by its bytes (functionBundleKey), not its
  // path, which is in each synth's own output directory.
  const placeholders = Object.fromEntries(Object.keys(spec.bundledFiles).map((name) => [name, `/bundled-file/${name}`]));
  const hooks = commandHooks(placeholders);
  const [input, output] = ['/asset-input', '/asset-output'];
  const keyWith = (project: string) =>
    functionBundleKey({
      project,
      entry: spec.entry,
      runtime: spec.runtime.name,
      architecture: spec.architecture.name,
      bundling: {
        ...spec.bundling,
        commandHooks: {
          beforeBundling: hooks.beforeBundling(input, output),
          beforeInstall: hooks.beforeInstall(input, output),
          afterBundling: hooks.afterBundling(input, output),
        },
      },
      bundledFiles: spec.bundledFiles,
      featureFlags: featureFlagsOf(scope),
    });
  const key = keyWith(projectDigestOf(scope));
  const staged = path.join(stage.assetOutdir, `asset.${stagedAssetHash(scope, spec, key)}`);
  if (!existsSync(staged)) cache.restore(key, staged);
  return {
    key,
    storeBundleOf: (fn) => {
      const bundle = path.join(stage.assetOutdir, `asset.${(fn.node.findChild('Code') as Asset).assetHash}`);
      if (cache.has(key) || !existsSync(bundle)) return;
      // Stored only if the inputs read now still give the key: a file edited while esbuild ran
      // (`npm start` during an edit) must not leave a bundle of the new text under the old key.
      if (keyWith(projectInputsDigest()) === key) cache.store(key, bundle);
    },
  };
}

const projectDigests = new WeakMap<IConstruct, string>();

/** projectInputsDigest(), once per app (it reads every source file). */
function projectDigestOf(scope: Construct): string {
  const root = scope.node.root;
  let digest = projectDigests.get(root);
  if (digest === undefined) {
    digest = projectInputsDigest();
    projectDigests.set(root, digest);
  }
  return digest;
}

function featureFlagsOf(scope: Construct): Record<string, unknown> {
  return Object.fromEntries(Object.entries(scope.node.getAllContext() as Record<string, unknown>).filter(([name]) => name.startsWith('@aws-cdk/')));
}

const probeStacks = new WeakMap<IConstruct, Stack>();

/**
 * The asset hash CDK will give the function's bundle: with a custom hash, a digest of it and
 * of the bundling's own settings, which CDK computes inside NodejsFunction. Read from a probe:
 * the same function in a scratch app of the same output directory that bundles nothing
 * (hashing is the same with bundling off; a custom hash is not replaced then).
 */
function stagedAssetHash(scope: Construct, spec: BundleSpec, key: string): string {
  const root = scope.node.root;
  let stack = probeStacks.get(root);
  if (!stack) {
    const app = new App({ outdir: Stage.of(scope)?.outdir, autoSynth: false, context: { ...featureFlagsOf(scope), [BUNDLING_STACKS]: [] } });
    stack = new Stack(app, 'BundleCacheProbe');
    probeStacks.set(root, stack);
  }
  const probe = new NodejsFunction(stack, `Probe${stack.node.children.length}`, {
    entry: spec.entry,
    runtime: spec.runtime,
    architecture: spec.architecture,
    bundling: { ...spec.bundling, assetHash: key },
  });
  return (probe.node.findChild('Code') as Asset).assetHash;
}

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
