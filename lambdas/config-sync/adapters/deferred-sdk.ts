/**
 * The SNS and SQS clients, which a function either bundles and creates at cold start or
 * requires when it first sends with them. A loaded module (`loadSnsSdk`, `loadSqsSdk`) is
 * bundled into a file of its own beside the function's index.js (DEFERRED_MODULES in
 * cdk/constructs/cluster-function.ts), so a function that rarely sends with the client neither
 * parses nor runs it at cold start: an apply function sends to SQS only to delay a failed
 * batch or queue a job's next slice and publishes only in a capture job, the republish
 * schedule publishes only when an event is pending.
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
 * Where a function takes an SDK module from: the module itself, which the function imports
 * (`import * as sqsSdk from '../adapters/sqs-sdk'`: bundled into its index.js, the client
 * created at cold start), when every invocation sends with it; or its loader (`loadSqsSdk`:
 * required on first use), when few do. Deferring a client that every request uses would only
 * move its cost to the first request, and load it from a file that repeats the SDK's core
 * (each deferred file is bundled on its own): about 200 KB parsed instead of 25 KB.
 * The import must not name the module as `./sqs-sdk`: DEFERRED_MODULES match that specifier
 * as written and would leave it external.
 */
export type SdkSource<Sdk> = Sdk | (() => Sdk);

/** A client and the module its commands come from, created at cold start or by the first `connect()`. */
export class SdkClient<Sdk, Client> {
  private readonly load: () => Sdk;
  private connection: { readonly sdk: Sdk; readonly client: Client } | undefined;

  /**
   * @param source the module (client created now) or its loader (module required and client
   *   created on the first `connect()`)
   * @param create the client, from the module (or an existing client, in tests)
   */
  constructor(
    source: SdkSource<Sdk>,
    private readonly create: (sdk: Sdk) => Client,
  ) {
    if (typeof source === 'function') {
      this.load = source as () => Sdk;
    } else {
      this.load = () => source;
      this.connect();
    }
  }

  connect(): { readonly sdk: Sdk; readonly client: Client } {
    if (this.connection === undefined) {
      const sdk = this.load();
      this.connection = { sdk, client: this.create(sdk) };
    }
    return this.connection;
  }
}

export type Sqs = SdkClient<SqsSdk, SQSClient>;
export type Sns = SdkClient<SnsSdk, SNSClient>;

/** An existing SQS client (tests, tools); the commands' module is still required on first use. */
export function sqsWith(client: SQSClient): Sqs {
  return new SdkClient<SqsSdk, SQSClient>(loadSqsSdk, () => client);
}

/** An existing SNS client (tests, tools); the commands' module is still required on first use. */
export function snsWith(client: SNSClient): Sns {
  return new SdkClient<SnsSdk, SNSClient>(loadSnsSdk, () => client);
}
