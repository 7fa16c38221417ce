/**
 * The naming rules of nodes and clusters, part of the cluster model (./cluster-model.ts, which
 * re-exports them) but apart from its zod schemas: the token parser (./node-token.ts), and with
 * it every HTTP function and the authorizer, needs the node name rule alone, and importing
 * cluster-model for it built the model's schemas at the cold start of functions that never
 * use them (every status function).
 */

/**
 * Node names become parts of SQS queue names (at most 80 characters of letters, digits, `-`
 * and `_`, `.fifo` included), IAM conditions (`dynamodb:LeadingKeys`, S3 prefixes), SNS filter
 * policies, URL path segments and the `<node>.<secret>` token, whose parser relies on the name
 * holding no dot. `<cluster>-<node>-dlq.fifo` stays within 20 + 1 + 31 + 9 = 61 characters.
 */
export const NODE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,30}$/;
export const NODE_NAME_RULE = 'must be 1-31 lowercase letters, digits or dashes, starting with a letter or digit';
/**
 * The message group of a message a node's apply function set aside in its dead-letter queue (no
 * event of the cluster's log), followed by the message's id: a group of its own, which a redrive
 * leaves where it is and a discard may delete (config-sync/adapters/sqs-queues.ts `wasSetAside`).
 */
export const SET_ASIDE_GROUP_PREFIX = 'set-aside-';
/**
 * Cluster names prefix stack, table, topic and queue names, and are the message group of the
 * cluster's events and jobs. So no cluster name starts with `SET_ASIDE_GROUP_PREFIX`: each failed
 * event of such a cluster would read as set aside, never redriven and open to a discard.
 */
export const CLUSTER_NAME_PATTERN = new RegExp(`^(?!${SET_ASIDE_GROUP_PREFIX})[a-z][a-z0-9-]{0,19}$`);
export const CLUSTER_NAME_RULE = `must be 1-20 lowercase letters, digits or dashes, starting with a letter, and not with "${SET_ASIDE_GROUP_PREFIX}"`;
