/**
 * The config-sync tables' keys, named once for the adapters, the CDK construct and the bench.
 * - Event log: partition `cluster`, sort `sequence` (number); sequence 0 holds the head counter.
 * - Node store: partition `node`, sort `key` (`<type>/<id>`, or the cursor item `#cursor` and
 *   the pause item `#paused`, which sort before every object key).
 */
export const EVENT_LOG_TABLE = { partitionKey: 'cluster', sortKey: 'sequence' } as const;
/**
 * The event log partition of an `Idempotency-Key` claim (adapters/dynamo-event-log.ts); with
 * `node` and `key` `*`, the pattern of every claim, which the publishing grants name (`dynamodb:LeadingKeys`).
 */
export function idempotencyClaimPartition(cluster: string, node: string, key: string): string {
  return `${cluster}#idempotency#${node}#${key}`;
}
/**
 * The node store's TTL attribute (epoch seconds): only job records and their differences carry
 * it (adapters/dynamo-jobs.ts), so jobs do not pile up; catalog objects never do.
 */
export const NODE_STORE_TABLE = { partitionKey: 'node', sortKey: 'key', cursorKey: '#cursor', pauseKey: '#paused', switchKey: '#switching', ttlAttribute: 'expiresAt' } as const;

/**
 * Every attribute of a void item of the event log (adapters/dynamo-event-log.ts `closeHoles`):
 * functions that may only close holes are granted writes of these attributes alone.
 */
export const VOID_ITEM_ATTRIBUTES = ['cluster', 'sequence', 'voided', 'committedAt', 'voidedBy'] as const;
