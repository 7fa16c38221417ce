import { intEnv, requireEnv } from '../../shared/env';
import { CursorSigner } from '../../shared/signed-cursor';
import { STATUS_ENV } from '../env-names';
import { DynamoStatusStore } from './dynamo-status-store';

/**
 * The composition root's store, configured from the function's environment. Functions that list
 * or sweep pass `listing: true`: their cold start then fails, naming STATUS_CURSOR_KEY, when the
 * cursor key is missing, rather than their first listing.
 */
export function statusStoreFromEnv(options: { listing?: boolean } = {}): DynamoStatusStore {
  const retentionSeconds = intEnv(STATUS_ENV.retentionMinutes) * 60;
  const heartbeatTimeoutSeconds = intEnv(STATUS_ENV.heartbeatTimeoutSeconds);
  return new DynamoStatusStore({
    tableName: requireEnv(STATUS_ENV.tableName),
    shards: intEnv(STATUS_ENV.indexShards),
    // TTL is a backstop behind the reaper and cleanup: a day past when both should have acted.
    ttlBackstopSeconds: heartbeatTimeoutSeconds + retentionSeconds + 86_400,
    cursors: options.listing ? new CursorSigner(requireEnv(STATUS_ENV.cursorKey)) : undefined,
  });
}
