// NODE_EVENT_SOURCES (lambdas/config-sync/node-event-sources.ts): what the construct writes is what
// the pause switch reads back, node by node, and a malformed value fails its cold start, named.
import { createHash } from 'node:crypto';
import { eventSourceOrder, nodeEventSourcesFromValue, nodeEventSourcesValue } from '../../../lambdas/config-sync/node-event-sources';
import { environmentBytes } from '../../../cdk/environment-limit';

/** A UUID of Lambda's shape (36 characters), its own for each node. */
const uuidOf = (node: string) => createHash('md5').update(node).digest('hex').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');

test('reads back each node with its own mapping, whatever order the nodes come in', () => {
  // `12` is an integer-like name, which a JSON object would move to the front.
  const nodes = ['slave-2', 'hub', '12', 'slave-10'];
  const value = nodeEventSourcesValue(nodes, uuidOf);
  expect(value.split(',')).toHaveLength(4);
  const shuffled = ['12', 'slave-10', 'hub', 'slave-2'];
  expect(nodeEventSourcesFromValue('NODE_EVENT_SOURCES', value, shuffled)).toEqual(Object.fromEntries(nodes.map((node) => [node, uuidOf(node)])));
  expect(eventSourceOrder(nodes)).toEqual(['12', 'hub', 'slave-10', 'slave-2']);
});

test('reads the local runtime, whose mapping ids are logical ids', () => {
  expect(nodeEventSourcesFromValue('NODE_EVENT_SOURCES', 'ApplyEventSourceA1B2,ApplyEventSourceC3D4', ['b', 'a'])).toEqual({
    a: 'ApplyEventSourceA1B2',
    b: 'ApplyEventSourceC3D4',
  });
});

test.each([
  ['{"s-1":"uuid-1"}', /NODE_EVENT_SOURCES must be the event source mapping UUIDs of the consuming nodes, comma-separated, got '\{"s-1":"uuid-1"\}'/],
  ['a,,b', /must be the event source mapping UUIDs/],
  ['a, b', /must be the event source mapping UUIDs/],
  ['a', /NODE_EVENT_SOURCES lists 1 event source mapping UUIDs for the 2 consuming nodes of the cluster \(s-1, s-2, in that order\), got 'a'/],
  ['a,b,c', /lists 3 event source mapping UUIDs for the 2 consuming nodes/],
  ['', /lists 0 event source mapping UUIDs for the 2 consuming nodes/],
])('refuses %j, naming the variable and what is wrong', (value, message) => {
  expect(() => nodeEventSourcesFromValue('NODE_EVENT_SOURCES', value, ['s-2', 's-1'])).toThrow(message);
});

test('takes a UUID and its comma per node, less than half of naming each node again in JSON', () => {
  const nodes = Array.from({ length: 30 }, (_, i) => `geoserver-node-${String(i).padStart(2, '0')}-`.padEnd(31, 'x'));
  const template = { Resources: {} };
  const compact = environmentBytes({ NODE_EVENT_SOURCES: nodeEventSourcesValue(nodes, uuidOf) }, template);
  const asObject = environmentBytes({ NODE_EVENT_SOURCES: JSON.stringify(Object.fromEntries(nodes.map((node) => [node, uuidOf(node)]))) }, template);
  expect(compact).toBe('{"NODE_EVENT_SOURCES":""}'.length + 30 * 36 + 29);
  expect(compact * 2).toBeLessThan(asObject);
});
