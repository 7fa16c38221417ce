import { intEnv, requireEnv } from '../../shared/env';
import { CursorSigner } from '../../shared/signed-cursor';
import { DynamoStatusStore } from './dynamo-status-store';

/**
 * The composition root's store, configured from the function's environment. Functions that list
 * or sweep pass `listing: true`: their cold start then fails, naming STATUS_CURSOR_KEY, when the
 * cursor key is missing, rather than their first listing.
 */
export function statusStoreFromEnv(options: { listing?: boolean } = {}): DynamoStatusStore {
  const retentionSeconds = intEnv('STATUS_RETENTION_MINUTES') * 60;
  const heartbeatTimeoutSeconds = intEnv('HEARTBEAT_TIMEOUT_SECONDS');
  return new DynamoStatusStore({
    tableName: requireEnv('STATUS_TABLE_NAME'),
    shards: intEnv('STATUS_INDEX_SHARDS'),
    // TTL is a backstop behind the reaper and cleanup: a day past when both should have acted.
    ttlBackstopSeconds: heartbeatTimeoutSeconds + retentionSeconds + 86_400,
    cursors: options.listing ? new CursorSigner(requireEnv('STATUS_CURSOR_KEY')) : undefined,
  });
}
