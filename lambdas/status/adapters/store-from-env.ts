import { intEnv, requireEnv } from '../../shared/env';
import { DynamoStatusStore } from './dynamo-status-store';

/** The composition root's store, configured from the function's environment. */
export function statusStoreFromEnv(): DynamoStatusStore {
  const retentionSeconds = intEnv('STATUS_RETENTION_MINUTES') * 60;
  const heartbeatTimeoutSeconds = intEnv('HEARTBEAT_TIMEOUT_SECONDS');
  return new DynamoStatusStore({
    tableName: requireEnv('STATUS_TABLE_NAME'),
    shards: intEnv('STATUS_INDEX_SHARDS'),
    // TTL is a backstop behind the reaper and cleanup: a day past when both should have acted.
    ttlBackstopSeconds: heartbeatTimeoutSeconds + retentionSeconds + 86_400,
  });
}
