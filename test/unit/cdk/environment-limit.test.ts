// The synth's measure of a function's environment (cdk/environment-limit.ts) is Lambda's: the
// variables map serialized as JSON, so quotes, colons, commas and escapes within values count.
import { environmentBytes, environmentSizes } from '../../../cdk/environment-limit';

const UUID = '0f8fad5b-d9cb-469f-a165-70867728950e';

test('a literal environment measures as the bytes of its JSON', () => {
  const variables = {
    CLUSTER_NAME: 'prod',
    // JSON text in a value: each inner quote is escaped, two bytes.
    CLUSTER_NODES: JSON.stringify({ 'master-1': 'master', 'slave-1': 'slave' }),
    PATTERN: 'a\\b\t"c"',
    LABEL: 'Zürich ☃',
    EMPTY: '',
  };
  const template = { Resources: { Fn: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: variables } } } } };
  expect(environmentSizes(template)).toEqual([{ id: 'Fn', bytes: Buffer.byteLength(JSON.stringify(variables)) }]);
});

test("a Fn::Join's literal parts are escaped, and an event source mapping's Ref counts as a UUID", () => {
  const template = { Resources: { Mapping: { Type: 'AWS::Lambda::EventSourceMapping' } } };
  // As CDK writes a Lazy JSON string that holds a reference.
  const value = { 'Fn::Join': ['', ['["', { Ref: 'Mapping' }, '","', { Ref: 'Mapping' }, '"]']] };
  const deployed = { SOURCES: JSON.stringify([UUID, UUID]), NAME: 'x' };
  expect(environmentBytes({ SOURCES: value, NAME: 'x' }, template)).toBe(Buffer.byteLength(JSON.stringify(deployed)));
});

test('an empty environment is its braces', () => {
  expect(environmentBytes({}, { Resources: {} })).toBe(2);
});
