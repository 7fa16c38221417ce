// GEOSERVER_NODES (or the file bundled in its place), read by hand at cold start (from-env.ts): what it takes and what it refuses.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { geoServerNodesFromEnv, nodeMapEnv } from '../../../lambdas/config-sync/adapters/from-env';
import { GEOSERVER_NODES_FILE } from '../../../lambdas/config-sync/env-names';

const membership = { cluster: 'geo', nodes: [{ name: 'gs-main', role: 'both' as const }, { name: 'gs-1', role: 'slave' as const }] };
const saved = process.env.GEOSERVER_NODES;
afterEach(() => {
  if (saved === undefined) delete process.env.GEOSERVER_NODES;
  else process.env.GEOSERVER_NODES = saved;
});

test('node names to GeoServer URLs; none when unset (outside Lambda)', () => {
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

describe('the GeoServer nodes file CDK bundles beside the function in place of GEOSERVER_NODES', () => {
  let bundle: string;
  beforeEach(() => {
    delete process.env.GEOSERVER_NODES;
    bundle = mkdtempSync(path.join(tmpdir(), 'geoserver-nodes-'));
  });
  afterEach(() => rmSync(bundle, { recursive: true, force: true }));

  test('is read when the variable is unset, and the variable wins when set', () => {
    writeFileSync(path.join(bundle, GEOSERVER_NODES_FILE), JSON.stringify({ 'gs-1': 'https://gs-1.example.org:8443/geoserver' }));
    expect(geoServerNodesFromEnv(membership, bundle)).toEqual({ 'gs-1': 'https://gs-1.example.org:8443/geoserver' });
    process.env.GEOSERVER_NODES = JSON.stringify({ 'gs-main': 'http://10.0.0.1:8080/geoserver' });
    expect(geoServerNodesFromEnv(membership, bundle)).toEqual({ 'gs-main': 'http://10.0.0.1:8080/geoserver' });
  });

  describe('when missing, with GEOSERVER_NODES unset', () => {
    const savedName = process.env.AWS_LAMBDA_FUNCTION_NAME;
    afterEach(() => {
      if (savedName === undefined) delete process.env.AWS_LAMBDA_FUNCTION_NAME;
      else process.env.AWS_LAMBDA_FUNCTION_NAME = savedName;
    });

    test('means no GeoServer nodes outside Lambda (a handler run from source)', () => {
      delete process.env.AWS_LAMBDA_FUNCTION_NAME;
      expect(geoServerNodesFromEnv(membership, bundle)).toEqual({});
    });

    test('fails the cold start in Lambda, where CDK always bundles it: read as none, GeoServer nodes could publish directly', () => {
      process.env.AWS_LAMBDA_FUNCTION_NAME = 'ConfigSyncPublishEvent';
      expect(() => geoServerNodesFromEnv(membership, bundle)).toThrow(
        /Function ConfigSyncPublishEvent has no geoserver-nodes.json beside its handler \(.*\) and GEOSERVER_NODES is unset: its bundle is broken/,
      );
      // Either source is enough.
      process.env.GEOSERVER_NODES = JSON.stringify({ 'gs-1': 'http://10.0.0.2:8080/geoserver' });
      expect(geoServerNodesFromEnv(membership, bundle)).toEqual({ 'gs-1': 'http://10.0.0.2:8080/geoserver' });
      delete process.env.GEOSERVER_NODES;
      writeFileSync(path.join(bundle, GEOSERVER_NODES_FILE), '{}');
      expect(geoServerNodesFromEnv(membership, bundle)).toEqual({});
    });
  });

  test.each([
    ['["gs-1"]', /The bundled file geoserver-nodes.json must be a JSON object of node names to GeoServer URLs/],
    ['{"gs-9": "http://x"}', /The bundled file geoserver-nodes.json names gs-9, which CLUSTER_NODES does not declare/],
  ])('refuses %s, naming the file', (text, message) => {
    writeFileSync(path.join(bundle, GEOSERVER_NODES_FILE), text);
    expect(() => geoServerNodesFromEnv(membership, bundle)).toThrow(message);
  });
});

// The node map reader itself, as GEOSERVER_NODES's text reaches it.
test.each([
  ['{"s-1": 7}', /GEOSERVER_NODES must be a JSON object of node names to GeoServer URLs, got '\{"s-1": 7\}'/],
  ['[]', /must be a JSON object/],
  ['', /must be a JSON object/],
])('a node map refuses %s, naming the variable and what its values are', (value, message) => {
  expect(() => nodeMapEnv('GEOSERVER_NODES', value, 'GeoServer URLs')).toThrow(message);
});

test('a node map reads node names to strings', () => {
  expect(nodeMapEnv('GEOSERVER_NODES', '{"s-1":"http://a","s-2":"http://b"}', 'GeoServer URLs')).toEqual({ 's-1': 'http://a', 's-2': 'http://b' });
});
