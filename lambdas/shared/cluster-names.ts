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
/** Cluster names prefix stack, table, topic and queue names. */
export const CLUSTER_NAME_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;
export const CLUSTER_NAME_RULE = 'must be 1-20 lowercase letters, digits or dashes, starting with a letter';
