// The status, polling-protocol and node-authorizer manifests are what the stack builds: every
// declared route (and no other route on their paths) with its access, in both read-route modes;
// each function's environment exactly as declared; each function's DynamoDB actions exactly its
// grants. (The config-sync manifest has the same checks in config-sync-stack.test.ts.)
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { CfnRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { createClusterApp, withQuietBundling } from '../../cdk/app';
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
/** A cluster whose `both` node has a GeoServer: the gateway's master. */
const GATEWAY_NODES = [
  { name: 'master-1', role: 'master' },
  { name: 'gs-main', role: 'both', geoserver: { url: 'http://10.0.3.20:8080/geoserver', credentialsSecret: 'geo/gs-main' } },
];

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
    // A GET route that answers HEAD is two routes of the API.
    .flatMap((route) => (route.head ? [route, { ...route, method: 'HEAD' }] : [route]))
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

describe('open routes (cdk-nag AwsSolutions-APIG4)', () => {
  /** The stack as built, before synth: who acknowledges APIG4, and each route's authorization. */
  function acknowledgements(clusterOverrides: Record<string, unknown> = {}) {
    const base = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context;
    const { stack } = withQuietBundling(() =>
      createClusterApp({ context: { ...base, 'aws:cdk:bundling-stacks': [], cluster: { ...base.cluster, ...clusterOverrides } } }),
    );
    const acknowledgedBy = stack.node
      .findAll()
      .filter((child) =>
        child.node.metadata.some((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && Object.keys(entry.data as object).some((id) => id.endsWith('AwsSolutions-APIG4'))),
      );
    const routes = stack.node.findAll().filter((child): child is CfnRoute => child instanceof CfnRoute);
    return { stack, acknowledgedBy, routes };
  }

  it.each([
    ['reads open, gateway on', { gateway: { enabled: true, allowedSourceIps: ['203.0.113.0/24'] }, nodes: GATEWAY_NODES }],
    ['reads authorized', { status: { requireAuthForReads: true } }],
  ])('is acknowledged on each route without an authorizer, and on nothing else (%s)', (_mode, overrides) => {
    const { stack, acknowledgedBy, routes } = acknowledgements(overrides);
    const open = routes.filter((route) => (route.authorizationType ?? 'NONE') === 'NONE');
    expect(open.length).toBeGreaterThan(0);
    // A route a manifest adds without an authorizer is not covered by a stack-wide acknowledgement.
    expect(acknowledgedBy.map((scope) => scope.node.path)).not.toContain(stack.node.path);
    expect(acknowledgedBy.map((scope) => scope.node.path).sort()).toEqual(open.map((route) => route.node.path).sort());
  });
});
