/**
 * The status service's environment variable names, apart from its manifest: the functions read
 * them, and the manifest (which also carries the API schemas, lambdas/status/api.ts) is for the
 * CDK side and the OpenAPI document, so no function bundles those schemas for a name.
 */
import { CORS_ENV } from '../shared/cors';

/** Environment variable names, shared by the constructs (which set them) and the functions (which read them). */
export const STATUS_ENV = {
  tableName: 'STATUS_TABLE_NAME',
  indexShards: 'STATUS_INDEX_SHARDS',
  retentionMinutes: 'STATUS_RETENTION_MINUTES',
  heartbeatTimeoutSeconds: 'HEARTBEAT_TIMEOUT_SECONDS',
  defaultRetryAfterSeconds: 'DEFAULT_RETRY_AFTER_SECONDS',
  /** The key page cursors are signed with (docs/architecture.md, "Page cursors"). */
  cursorKey: 'STATUS_CURSOR_KEY',
  /** JSON array of the origins browsers may poll from (lambdas/shared/cors.ts). */
  corsAllowedOrigins: CORS_ENV.allowedOrigins,
  requireAuthForReads: 'REQUIRE_AUTH_FOR_READS',
  /** Optional: the base URL documents link to, when clients reach the API through another name. */
  publicBaseUrl: 'PUBLIC_BASE_URL',
  /** JSON object path -> methods a browser may use there (the CORS preflight function). */
  corsPreflightMethods: CORS_ENV.preflightMethods,
} as const;
export type StatusEnv = (typeof STATUS_ENV)[keyof typeof STATUS_ENV];
