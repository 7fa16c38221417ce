/**
 * POST /executions/reindex, body optional `{ "cursor"?, "limit"? }`: the upgrade step that keys
 * statuses stored before a listing index existed (or under another shard count), so listings
 * find them. Each request scans on from the cursor for a few seconds, under the function's
 * timeout, and answers 202 with the next cursor, or 200 once the pass is done; every rewrite is
 * conditional on the version read (DynamoStatusStore.reindex), so it is safe while nodes write,
 * and a pass can be stopped, resumed from its last cursor, or run again. Any node token may run
 * it: it changes no status, only where the indexes find one.
 */
import type { Context } from 'aws-lambda';
import { callerIdentity, httpHandler, json, parseJsonBody } from '../../shared/http';
import { logger } from '../../shared/observability';
import { parseWith } from '../../shared/validation';
import { statusStoreFromEnv } from '../adapters/store-from-env';
import { MAX_REINDEX_ITEMS, reindexRequestSchema } from '../schemas';

const store = statusStoreFromEnv({ listing: true });
const requestSchema = reindexRequestSchema();

/** How long one request scans at most (API Gateway ends a request at 30 s; the function's own timeout comes first). */
const REQUEST_SLICE_MS = 20_000;
/** Time kept back from the function's timeout: the last page started and the answer. */
const REQUEST_RESERVE_MS = 3_000;

export const handler = httpHandler(async (event, context?: Pick<Context, 'getRemainingTimeInMillis'>) => {
  // The route has the authorizer; should it ever lose it, this fails closed.
  const caller = callerIdentity(event);
  const request = (event.body ?? '').trim() === '' ? {} : parseWith(requestSchema, parseJsonBody(event));
  const remaining = context ? context.getRemainingTimeInMillis() - REQUEST_RESERVE_MS : REQUEST_SLICE_MS;
  const run = await store.reindex({
    cursor: request.cursor,
    maxItems: request.limit ?? MAX_REINDEX_ITEMS,
    deadline: Date.now() + Math.max(1_000, Math.min(REQUEST_SLICE_MS, remaining)),
  });
  logger.info('reindex request ran', { by: caller.nodeId, scanned: run.scanned, rewritten: run.rewritten, skipped: run.skipped, done: run.cursor === undefined });
  return json(run.cursor === undefined ? 200 : 202, { ...run, done: run.cursor === undefined });
});
