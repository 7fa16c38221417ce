/**
 * `NODE_EVENT_SOURCES`, the pause switch's map of consuming node -> its apply function's SQS
 * event source mapping UUID, as one definition for the side that writes it (the config-sync
 * construct, at synth) and the side that reads it (adapters/pause-from-env.ts, at cold start).
 *
 * It is the mappings' UUIDs alone, comma-separated, in the order of the consuming nodes' names,
 * rather than a JSON object of node names to UUIDs: the switch's environment also lists every node
 * in `CLUSTER_NODES`, and Lambda measures an environment as JSON, where each inner quote of a JSON
 * value takes two bytes. Naming each node again (with its quotes escaped) took the worst case of
 * 30 consuming nodes of 31-character names past Lambda's 4 KB (docs/architecture.md). The order
 * is the names' rather than CLUSTER_NODES' own, since a JSON object does not keep the order of
 * integer-like keys (a node may be named `12`), and both sides can sort names alike.
 */

const SEPARATOR = ',';
/** A UUID in AWS; the mapping's logical id in the local runtime (local/template.ts). */
const MAPPING_ID_PATTERN = /^[A-Za-z0-9-]+$/;

/** The consuming nodes' names in the order NODE_EVENT_SOURCES lists their mappings (code-unit order, as both sides sort). */
export function eventSourceOrder(consumingNodes: readonly string[]): string[] {
  return [...consumingNodes].sort();
}

/**
 * The variable's value for these consuming nodes; `mappingOf` gives a node's mapping UUID (at
 * synth, a token that CloudFormation resolves: the result is then a token string too).
 */
export function nodeEventSourcesValue(consumingNodes: readonly string[], mappingOf: (node: string) => string): string {
  return eventSourceOrder(consumingNodes).map(mappingOf).join(SEPARATOR);
}

/**
 * Node -> mapping UUID from the value of the environment variable `variable`, for these
 * consuming nodes. Throws an Error naming the variable and what is wrong with the value: an
 * entry that is no mapping id, or a count other than the consuming nodes'.
 */
export function nodeEventSourcesFromValue(variable: string, raw: string, consumingNodes: readonly string[]): Readonly<Record<string, string>> {
  const ids = raw === '' ? [] : raw.split(SEPARATOR);
  if (!ids.every((id) => MAPPING_ID_PATTERN.test(id))) {
    throw new Error(`Environment variable ${variable} must be the event source mapping UUIDs of the consuming nodes, comma-separated, got '${raw}'`);
  }
  const nodes = eventSourceOrder(consumingNodes);
  if (ids.length !== nodes.length) {
    throw new Error(
      `Environment variable ${variable} lists ${ids.length} event source mapping UUIDs for the ${nodes.length} consuming nodes of the cluster ` +
        `(${nodes.join(', ')}, in that order), got '${raw}'`,
    );
  }
  return Object.fromEntries(nodes.map((node, i) => [node, ids[i]!]));
}
