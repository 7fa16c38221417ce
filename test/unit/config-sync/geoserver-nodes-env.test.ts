// GEOSERVER_NODES, read by hand at cold start (from-env.ts): what it takes and what it refuses.
import { geoServerNodesFromEnv } from '../../../lambdas/config-sync/adapters/from-env';

const membership = { cluster: 'geo', nodes: [{ name: 'gs-main', role: 'both' as const }, { name: 'gs-1', role: 'slave' as const }] };
const saved = process.env.GEOSERVER_NODES;
afterEach(() => {
  if (saved === undefined) delete process.env.GEOSERVER_NODES;
  else process.env.GEOSERVER_NODES = saved;
});

test('node names to GeoServer URLs; none when unset', () => {
  delete process.env.GEOSERVER_NODES;
  expect(geoServerNodesFromEnv(membership)).toEqual({});
  process.env.GEOSERVER_NODES = JSON.stringify({ 'gs-main': 'http://10.0.0.1:8080/geoserver', 'gs-1': 'http://10.0.0.2:8080/geoserver' });
  expect(geoServerNodesFromEnv(membership)).toEqual({ 'gs-main': 'http://10.0.0.1:8080/geoserver', 'gs-1': 'http://10.0.0.2:8080/geoserver' });
});

test.each([
  ['{not json', /must be a JSON object of node names to GeoServer URLs, got '\{not json'/],
  ['["gs-1"]', /must be a JSON object/],
  ['{"gs-1": 8080}', /must be a JSON object/],
  ['null', /must be a JSON object/],
  ['{"gs-9": "http://x"}', /names gs-9, which CLUSTER_NODES does not declare/],
])('refuses %s', (value, message) => {
  process.env.GEOSERVER_NODES = value;
  expect(() => geoServerNodesFromEnv(membership)).toThrow(message);
});
