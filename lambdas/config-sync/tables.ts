/**
 * The config-sync tables' keys, named once for the adapters, the CDK construct and the bench.
 * - Event log: partition `cluster`, sort `sequence` (number); sequence 0 holds the head counter.
 * - Node store: partition `node`, sort `key` (`<type>/<id>`, or the cursor item `#cursor` and
 *   the pause item `#paused`, which sort before every object key).
 */
export const EVENT_LOG_TABLE = { partitionKey: 'cluster', sortKey: 'sequence' } as const;
export const NODE_STORE_TABLE = { partitionKey: 'node', sortKey: 'key', cursorKey: '#cursor', pauseKey: '#paused' } as const;
