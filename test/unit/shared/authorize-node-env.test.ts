// The node authorizer reads the declared nodes (CLUSTER_NODES) with the cluster model's reader,
// as every config-sync function does: a list the model refuses stops its cold start, naming why.
const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
  jest.resetModules();
});

function loadAuthorizer(clusterNodes: string, operators?: string): unknown {
  process.env.CREDENTIALS_TABLE_NAME = 'credentials';
  process.env.CLUSTER_NODES = clusterNodes;
  if (operators === undefined) delete process.env.CLUSTER_OPERATORS;
  else process.env.CLUSTER_OPERATORS = operators;
  process.env.AWS_REGION = 'us-east-1';
  let loaded: unknown;
  jest.isolateModules(() => {
    loaded = require('../../../lambdas/shared/handlers/authorize-node');
  });
  return loaded;
}

test('takes a valid node list', () => {
  expect(loadAuthorizer('{"master-1":"master","slave-1":"slave"}')).toHaveProperty('handler');
});

test.each([
  ['not JSON', '{master', /CLUSTER_NODES must be a JSON object of node names to roles/],
  ['an unknown role', '{"m":"primary"}', /CLUSTER_NODES gives node m the role "primary": expected one of master, slave, both/],
  ['a name the model refuses', '{"Master":"master"}', /CLUSTER_NODES declares a node 'Master': a node name must be 1-31 lowercase/],
  ['no publisher', '{"s":"slave"}', /CLUSTER_NODES is invalid: must include a master or both node/],
])('refuses %s', (_case, clusterNodes, message) => {
  expect(() => loadAuthorizer(clusterNodes)).toThrow(message);
});

// CLUSTER_OPERATORS, read by the same reader as the REST gateway's (cluster-nodes.ts operatorNamesFromJson).
test('takes operator names, or none', () => {
  expect(loadAuthorizer('{"m":"master"}', '["ops-1","watcher"]')).toHaveProperty('handler');
  expect(loadAuthorizer('{"m":"master"}')).toHaveProperty('handler');
});

test.each([['{"ops":1}'], ['["ops", 7]'], ['["Ops Team"]'], ['not json']])('refuses CLUSTER_OPERATORS %s, naming it', (operators) => {
  expect(() => loadAuthorizer('{"m":"master"}', operators)).toThrow(/CLUSTER_OPERATORS must be a JSON array of operator names \(a name must be 1-31 lowercase/);
});
