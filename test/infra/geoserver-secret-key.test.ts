/**
 * A GeoServer node's secret under a customer managed KMS key (cluster.nodes[].geoserver.credentialsSecretKey):
 * every function that reads that secret (the node's apply function; for the gateway's master, the
 * gateway and its sweep too) may decrypt with that key alone, only through Secrets Manager and
 * only for that secret; a secret under the AWS managed key adds no KMS grant. The local runtime
 * reads the same statements without refusing a call AWS would allow.
 */
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../../local/account';
import { isAllowed, tableArn, type PolicyStatement } from '../../local/iam';
import { readTopology } from '../../local/template';
import { actionsOfStatement, functionId, logicalIdsOf, statementsOf, synthesize, type Synthesized } from '../support/synth';

const MAIN_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const GS1_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab';
const GS1_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:geo/gs-1-AbCdEf';
const NODES = [
  { name: 'master-1', role: 'master' },
  { name: 'gs-main', role: 'both', geoserver: { url: 'http://10.0.3.20:8080/geoserver', credentialsSecret: 'geo/gs-main', credentialsSecretKey: MAIN_KEY } },
  { name: 'gs-1', role: 'slave', geoserver: { url: 'http://10.0.3.21:8080/geoserver', credentialsSecret: GS1_SECRET, credentialsSecretKey: GS1_KEY } },
  { name: 'gs-2', role: 'slave', geoserver: { url: 'http://10.0.3.22:8080/geoserver', credentialsSecret: 'geo/gs-2' } },
];

type Json = Synthesized['json'];
type Statement = ReturnType<typeof statementsOf>[number];

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize({ nodes: NODES, gateway: { enabled: true, allowedSourceIps: ['203.0.113.0/24'] } });
});

/** The apply function of a node (the sweep carries the master's NODE_NAME too, but no event source). */
function applyOf(json: Json, node: string): string {
  const id = logicalIdsOf(json, 'AWS::Lambda::Function').find(
    (candidate) => json.Resources[candidate]!.Properties.Environment?.Variables?.NODE_NAME === node && !candidate.includes('RecoverGatewayWrites'),
  );
  if (!id) throw new Error(`no apply function for ${node}`);
  return id;
}

const kmsStatements = (id: string): Statement[] => statementsOf(synth.json, id).filter((statement) => actionsOfStatement(statement).some((action) => action.startsWith('kms:')));

/** `Fn::Join` of strings and pseudo parameters, as a string with `${AWS::Region}`-style placeholders. */
function joined(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) return join[1].map(joined).join(join[0]);
  const ref = (value as { Ref?: string }).Ref;
  if (ref) return `\${${ref}}`;
  throw new Error(`not a joined string: ${JSON.stringify(value)}`);
}

function expectDecryptGrant(id: string, key: string, secret: string): void {
  const statements = kmsStatements(id);
  expect(statements).toHaveLength(1);
  const [statement] = statements as [Statement];
  expect(statement.Effect).toBe('Allow');
  expect(actionsOfStatement(statement)).toEqual(['kms:Decrypt']);
  expect(statement.Resource).toBe(key);
  // Through Secrets Manager in the stack's Region only, and for this secret only (its encryption context).
  expect(Object.keys(statement.Condition ?? {}).sort()).toEqual(['StringEquals', 'StringLike']);
  expect(Object.keys(statement.Condition!.StringEquals!)).toEqual(['kms:ViaService']);
  expect(joined(statement.Condition!.StringEquals!['kms:ViaService'])).toBe('secretsmanager.${AWS::Region}.${AWS::URLSuffix}');
  expect(Object.keys(statement.Condition!.StringLike!)).toEqual(['kms:EncryptionContext:SecretARN']);
  expect(joined(statement.Condition!.StringLike!['kms:EncryptionContext:SecretARN'])).toBe(secret);
}

test("each reader of a secret under a customer managed key may decrypt with that key, through Secrets Manager, for that secret alone", () => {
  const mainSecret = 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:geo/gs-main-??????';
  expectDecryptGrant(applyOf(synth.json, 'gs-main'), MAIN_KEY, mainSecret);
  expectDecryptGrant(functionId(synth.json, 'GeoServerGateway'), MAIN_KEY, mainSecret);
  expectDecryptGrant(functionId(synth.json, 'RecoverGatewayWrites'), MAIN_KEY, mainSecret);
  expectDecryptGrant(applyOf(synth.json, 'gs-1'), GS1_KEY, GS1_SECRET);
});

test('a secret under the AWS managed key adds no KMS grant, and no other function may use a KMS key', () => {
  const readers = [applyOf(synth.json, 'gs-main'), applyOf(synth.json, 'gs-1'), functionId(synth.json, 'GeoServerGateway'), functionId(synth.json, 'RecoverGatewayWrites')];
  expect(applyOf(synth.json, 'gs-2')).toBeDefined();
  for (const id of logicalIdsOf(synth.json, 'AWS::Lambda::Function').filter((candidate) => !readers.includes(candidate))) expect(kmsStatements(id)).toEqual([]);
});

test("the local runtime reads the grant with its condition resolved, and still decides the functions' DynamoDB calls", () => {
  const topology = readTopology(synth.json, '/nowhere', { queueUrl: (name) => `http://sqs.local/${LOCAL_ACCOUNT_ID}/${name}`, secretString: () => 'secret' });
  const policy = (id: string): readonly PolicyStatement[] => {
    const fn = topology.functions.get(id);
    if (!fn) throw new Error(`no function ${id} in the local topology`);
    return fn.policy;
  };
  const apply = policy(applyOf(synth.json, 'gs-1'));
  expect(apply.filter((statement) => statement.actions.includes('kms:Decrypt'))).toEqual([
    {
      effect: 'Allow',
      actions: ['kms:Decrypt'],
      resources: [GS1_KEY],
      condition: { StringEquals: { 'kms:ViaService': [`secretsmanager.${LOCAL_REGION}.amazonaws.com`] }, StringLike: { 'kms:EncryptionContext:SecretARN': [GS1_SECRET] } },
    },
  ]);
  // The gate evaluates DynamoDB calls: the KMS statement grants none of them.
  expect(isAllowed(apply.filter((statement) => statement.actions.includes('kms:Decrypt')), { action: 'dynamodb:GetItem', resource: tableArn('anything') })).toBe(false);
  expect(isAllowed(policy(functionId(synth.json, 'GeoServerGateway')), { action: 'kms:Decrypt', resource: MAIN_KEY })).toBe(true);
  expect(isAllowed(policy(functionId(synth.json, 'GeoServerGateway')), { action: 'kms:Decrypt', resource: GS1_KEY })).toBe(false);
});
