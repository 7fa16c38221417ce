import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, ApplicationLogLevel, LoggingFormat, Runtime, SystemLogLevel } from 'aws-cdk-lib/aws-lambda';
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
 * Every function of the cluster, with its defaults set once: Node.js 22 on arm64 (cheaper per
 * GB-second), JSON logs from Lambda's own runtime (no logging library in the bundle), and an
 * esbuild bundle that includes the AWS SDK so cold starts don't pay for resolving the runtime's
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
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.WARN,
      logGroup,
      bundling: {
        minify: true,
        target: 'node22',
        format: OutputFormat.CJS,
        sourceMap: false,
        // Warnings and errors only: esbuild's per-bundle size summary adds two lines per
        // function to every synth, test run and `npm start`.
        logLevel: LogLevel.WARNING,
        // Lambda always hands functions credentials in environment variables, so the SDK's
        // other credential providers (SSO, profiles, web identity, ...) never run there; the
        // Node.js 22 runtime ships them should they ever be reached. Leaving them out keeps
        // ~115 KB out of every bundle.
        externalModules: UNUSED_CREDENTIAL_PROVIDERS,
        // Smithy packages publish ES module builds that tree-shake better than their CJS ones.
        mainFields: ['module', 'main'],
      },
    });
  }
}
