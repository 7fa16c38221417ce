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
 * put 11 s in its `schemaLogFilter` against about 45 s in the SDK as a whole; on small calls
 * against a stub server a client keeps about 0.9 of its CPU per call without it (0.86-1.03 in
 * seven runs of `npm run bench -- --only sdk`; larger items save more). Removing the middleware by its name is the SDK's own API
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
