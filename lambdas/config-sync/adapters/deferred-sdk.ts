/**
 * SDK clients whose module is required when the function first sends with it, not at cold
 * start. Each module named here is bundled into a file of its own beside the function's
 * index.js (DEFERRED_MODULES in cdk/constructs/cluster-function.ts), so a function that
 * rarely sends with the client neither parses nor runs it at cold start: the SQS and SNS
 * clients added 0.15-0.25x of a bare GetItem handler's cold import each to the apply function
 * (`npm run bench -- --only bundles`), which sends to SQS only after a failure or for a job and
 * publishes only in a capture job.
 *
 * A function whose every invocation sends with the client loads it at cold start instead
 * (`'at cold start'`): deferring would only move the cost to its first request.
 *
 * `require`, not `import()`: the bundles are CommonJS, and Jest runs the sources without ES
 * module support. The specifiers are DEFERRED_MODULES': keep them alike.
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';

export type SnsSdk = typeof import('./sns-sdk');
export type SqsSdk = typeof import('./sqs-sdk');

export function loadSnsSdk(): SnsSdk {
  return require('./sns-sdk') as SnsSdk;
}

export function loadSqsSdk(): SqsSdk {
  return require('./sqs-sdk') as SqsSdk;
}

/**
 * When a function loads a deferred client: at cold start when every invocation sends with it,
 * on first use when few do.
 */
export type SdkLoading = 'at cold start' | 'on first use';

/** A client and the module its commands come from, loaded by the first `connect()`. */
export class DeferredSdk<Sdk, Client> {
  private connection: { readonly sdk: Sdk; readonly client: Client } | undefined;

  /**
   * @param load requires the module (Node keeps it for the process)
   * @param create the client, from the module (or an existing client, in tests)
   */
  constructor(
    private readonly load: () => Sdk,
    private readonly create: (sdk: Sdk) => Client,
    loading: SdkLoading = 'on first use',
  ) {
    if (loading === 'at cold start') this.connect();
  }

  connect(): { readonly sdk: Sdk; readonly client: Client } {
    if (this.connection === undefined) {
      const sdk = this.load();
      this.connection = { sdk, client: this.create(sdk) };
    }
    return this.connection;
  }
}

/** SQS through a deferred client. */
export type Sqs = DeferredSdk<SqsSdk, SQSClient>;
/** SNS through a deferred client. */
export type Sns = DeferredSdk<SnsSdk, SNSClient>;

/** An existing SQS client (tests, tools); the commands' module is still required on first use. */
export function sqsWith(client: SQSClient): Sqs {
  return new DeferredSdk(loadSqsSdk, () => client);
}

/** An existing SNS client (tests, tools); the commands' module is still required on first use. */
export function snsWith(client: SNSClient): Sns {
  return new DeferredSdk(loadSnsSdk, () => client);
}
