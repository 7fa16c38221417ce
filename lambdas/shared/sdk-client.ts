/**
 * Every AWS SDK client a function creates goes through `withoutSdkLogging`.
 *
 * The SDK's logger middleware (`loggerMiddleware`, in every client's stack) builds a redacted
 * copy of each command's input and output, walking it against the operation's schema, and
 * only then calls the client's logger, even when that logger is the SDK's default no-op one:
 * the copies are the call's arguments, evaluated before the call. Our functions log through
 * Powertools and give the SDK no logger, so every request paid for two copies nobody read.
 * On the apply path that was about a quarter of the SDK's CPU time: a CPU profile of the
 * local cluster's functions over `npm run bench -- --only propagation --nodes 3` (2026-12-03)
 * put 11 s in its `schemaLogFilter` against about 45 s in the SDK as a whole; a three-item
 * `TransactWriteItems` and a ten-item `Query` against a stub server took 15-20% less CPU per
 * call without it. Removing the middleware by its name is the SDK's own API
 * (`middlewareStack.remove`); test/unit/shared/sdk-client.test.ts fails if an SDK release
 * renames it, so the saving cannot vanish unnoticed.
 */

/** The one part of an SDK client this module touches. */
interface WithMiddlewareStack {
  readonly middlewareStack: { remove(toRemove: string): boolean };
}

/** The name the SDK registers its logger middleware under. */
export const SDK_LOGGER_MIDDLEWARE = 'loggerMiddleware';

/** `client`, without the SDK's logger middleware (see the module comment). */
export function withoutSdkLogging<Client extends WithMiddlewareStack>(client: Client): Client {
  client.middlewareStack.remove(SDK_LOGGER_MIDDLEWARE);
  return client;
}
