// The status, polling-protocol and node-authorizer manifests are what the stack builds: every
// declared route (and no other route on their paths) with its access, in both read-route modes;
// each function's environment exactly as declared; each function's DynamoDB actions exactly its
// grants. (The config-sync manifest has the same checks in config-sync-stack.test.ts.)
import { OBSERVABILITY_ENV } from '../../cdk/constructs/cluster-function';
import { routesOf, type ServiceManifest } from '../../lambdas/shared/manifest';
import { NODE_AUTH_MANIFEST } from '../../lambdas/shared/node-auth-manifest';
import { POLLING_MANIFEST, STATUS_ENV, STATUS_MANIFEST } from '../../lambdas/status/manifest';
import { actionsOfStatement, functionId, logicalIdsOf, statementsOf, synthesize, type Synthesized } from '../support/synth';

type AnyManifest = ServiceManifest<string, string, string, string>;
const MANIFESTS: [string, AnyManifest][] = [
  ['status', STATUS_MANIFEST],
  ['polling protocols', POLLING_MANIFEST],
  ['node authorizer', NODE_AUTH_MANIFEST],
];
/** The paths these manifests own: everything but config sync's, the gateway's and the console's. */
const OWN_PATH = /^\w+ \/(executions|ows|jobs|conformance|openapi\.json)\b/;

const PUBLIC_BASE_URL = 'https://maps.example.org/api';

let open: Synthesized;
let authorized: Synthesized;
beforeAll(() => {
  open = synthesize();
  // One synth for both: reads behind the authorizer, and a public base URL the documents link to.
  authorized = synthesize({ status: { requireAuthForReads: true, publicBaseUrl: PUBLIC_BASE_URL } });
});

function templateRoutes(synth: Synthesized) {
  return logicalIdsOf(synth.json, 'AWS::ApiGatewayV2::Route')
    .map((id) => synth.json.Resources[id]!.Properties)
    .filter((route) => OWN_PATH.test(String(route.RouteKey)))
    .map((route) => ({ key: String(route.RouteKey), authorized: route.AuthorizationType === 'CUSTOM' }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

function declaredRoutes(requireAuthForReads: boolean) {
  return [STATUS_MANIFEST, POLLING_MANIFEST]
    .flatMap((manifest) => routesOf(manifest))
    .map((route) => ({
      key: `${route.method} ${route.path}`,
      authorized: route.access === 'node' || (route.access === 'read' && requireAuthForReads),
    }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

describe('the status, polling and authorizer manifests are what the stack builds', () => {
  it('every declared route, and no other route on their paths, is in the template with its access (reads open)', () => {
    expect(templateRoutes(open)).toEqual(declaredRoutes(false));
    // Not vacuous: writes and listings are authorized, polls are not, preflights never.
    expect(declaredRoutes(false)).toEqual(
      expect.arrayContaining([
        { key: 'PUT /executions/{executionId}', authorized: true },
        { key: 'GET /executions', authorized: true },
        { key: 'GET /jobs', authorized: true },
        { key: 'GET /executions/{executionId}', authorized: false },
        { key: 'OPTIONS /jobs/{jobId}', authorized: false },
      ]),
    );
  });

  it('with requireAuthForReads, every read route is authorized and the preflights stay open', () => {
    expect(templateRoutes(authorized)).toEqual(declaredRoutes(true));
    expect(declaredRoutes(true).filter((route) => !route.authorized).every((route) => route.key.startsWith('OPTIONS '))).toBe(true);
  });

  it.each(MANIFESTS)('each %s function gets exactly the environment variables its declaration names', (_name, manifest) => {
    for (const [fn, declaration] of Object.entries(manifest)) {
      // Besides the logger settings every function gets (ClusterFunction.observe).
      const variables = Object.keys(open.json.Resources[functionId(open.json, fn)]!.Properties.Environment.Variables)
        .filter((name) => !(OBSERVABILITY_ENV as readonly string[]).includes(name))
        .sort();
      // PUBLIC_BASE_URL is optional: set only when the cluster file gives one.
      expect(variables).toEqual([...declaration.environment].filter((name) => name !== STATUS_ENV.publicBaseUrl).sort());
    }
  });

  it.each(MANIFESTS)('each %s function may call exactly the DynamoDB actions its grants name', (_name, manifest) => {
    for (const [fn, declaration] of Object.entries(manifest)) {
      const granted = statementsOf(open.json, functionId(open.json, fn))
        .flatMap(actionsOfStatement)
        .filter((action) => action.startsWith('dynamodb:'))
        .sort();
      expect(granted).toEqual(declaration.grants.flatMap((grant) => [...grant.actions]).sort());
    }
  });

  it('sets PUBLIC_BASE_URL on the protocol functions when the cluster gives one', () => {
    for (const [fn, declaration] of Object.entries(POLLING_MANIFEST)) {
      const variables = authorized.json.Resources[functionId(authorized.json, fn)]!.Properties.Environment.Variables;
      expect(variables[STATUS_ENV.publicBaseUrl]).toBe((declaration.environment as readonly string[]).includes(STATUS_ENV.publicBaseUrl) ? PUBLIC_BASE_URL : undefined);
    }
  });
});

describe('every function of the cluster and of its nodes', () => {
  it('writes logs only to its own log group: its role attaches no managed policy (AWSLambdaBasicExecutionRole allows every log group)', () => {
    for (const json of [open.stacks.cluster, ...Object.values(open.stacks.nested)]) {
      const functions = logicalIdsOf(json, 'AWS::Lambda::Function');
      expect(functions.length).toBeGreaterThan(0);
      for (const fn of functions) {
        const properties = json.Resources[fn]!.Properties;
        const role = json.Resources[properties.Role['Fn::GetAtt'][0]]!;
        expect({ fn, managed: role.Properties.ManagedPolicyArns }).toEqual({ fn, managed: undefined });
        const logStatements = statementsOf(json, fn).filter((statement) => actionsOfStatement(statement).some((action) => action.startsWith('logs:')));
        expect({ fn, logStatements }).toEqual({
          fn,
          logStatements: [
            expect.objectContaining({
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: { 'Fn::GetAtt': [properties.LoggingConfig.LogGroup.Ref, 'Arn'] },
            }),
          ],
        });
      }
    }
  });
});
