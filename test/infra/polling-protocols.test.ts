/**
 * The polling-protocol routes (WPS 1.0.0, WPS 2.0, OGC API - Processes, OpenAPI) in the
 * synthesized stack: which function serves each route, who may call it, what each function may
 * do to the status table, and the configuration that shapes their URLs.
 */
import { parseClusterConfig } from '../../cdk/cluster-config';
import { POSSIBLE_EXECUTION_ID } from '../../lambdas/status/protocols/http-edge';
import { EXECUTION_ID_PATTERN } from '../../lambdas/status/schemas';
import { functionId, statementsOf, synthesize, type Synthesized } from '../support/synth';
import { CORS_POLLING_PATHS } from '../../lambdas/status/manifest';

let open: Synthesized;
let locked: Synthesized;
beforeAll(() => {
  open = synthesize();
  locked = synthesize({ status: { requireAuthForReads: true, publicBaseUrl: 'https://geo.example.org/cluster' } });
});

const ROUTES: Record<string, string> = {
  'GET /ows': 'OwsEndpoint',
  'POST /ows': 'OwsEndpoint',
  'GET /jobs/{jobId}': 'JobStatus',
  'GET /jobs/{jobId}/results': 'JobResults',
  'DELETE /jobs/{jobId}': 'JobDismiss',
  'GET /conformance': 'ConformanceDocument',
  'GET /openapi.json': 'OpenApiDocument',
};

type Resources = Synthesized['json']['Resources'];

function routeOf(resources: Resources, routeKey: string) {
  return Object.values(resources).find((r) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties.RouteKey === routeKey)?.Properties;
}

/** The logical id of the function a route's integration invokes. */
function targetFunction(resources: Resources, routeKey: string): string | undefined {
  const integrationId = JSON.stringify(routeOf(resources, routeKey)?.Target ?? '').match(/"Ref":"([^"]+)"/)?.[1];
  const uri = integrationId ? resources[integrationId]?.Properties?.IntegrationUri : undefined;
  return uri?.['Fn::GetAtt']?.[0];
}

const dynamoStatements = (synth: Synthesized, fn: string) =>
  statementsOf(synth.json, functionId(synth.json, fn)).filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));

const actionsOf = (synth: Synthesized, fn: string) =>
  dynamoStatements(synth, fn)
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
    .sort();

const environmentOf = (synth: Synthesized, fn: string): Record<string, unknown> =>
  synth.json.Resources[functionId(synth.json, fn)]?.Properties?.Environment?.Variables ?? {};

describe('routes', () => {
  it('GET /jobs is served by JobList and needs a token whatever the switch: the list hands out job ids', () => {
    for (const synth of [open, locked]) {
      expect(targetFunction(synth.json.Resources, 'GET /jobs')).toBe(functionId(synth.json, 'JobList'));
      expect(routeOf(synth.json.Resources, 'GET /jobs')?.AuthorizationType).toBe('CUSTOM');
    }
  });

  it.each(Object.entries(ROUTES))('%s is served by %s', (routeKey, fn) => {
    expect(routeOf(open.json.Resources, routeKey)).toBeDefined();
    expect(targetFunction(open.json.Resources, routeKey)).toBe(functionId(open.json, fn));
  });

  it.each(Object.keys(ROUTES))('%s is open by default, like GeoServer statusLocation URLs', (routeKey) => {
    expect(routeOf(open.json.Resources, routeKey)?.AuthorizationType ?? 'NONE').toBe('NONE');
  });

  it.each(Object.keys(ROUTES))('%s needs a node token with requireAuthForReads', (routeKey) => {
    expect(routeOf(locked.json.Resources, routeKey)).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: expect.anything() });
  });

  it('client dismisses follow the read switch, node writes never do', () => {
    // Client-facing dismiss (WPS Dismiss on /ows, DELETE /jobs) is open like the polls beside it;
    // the node API's PUT and DELETE /executions always need a token.
    for (const key of ['DELETE /jobs/{jobId}', 'GET /ows', 'POST /ows']) {
      expect(routeOf(open.json.Resources, key)?.AuthorizationType ?? 'NONE').toBe('NONE');
    }
    for (const key of ['PUT /executions/{executionId}', 'DELETE /executions/{executionId}']) {
      expect(routeOf(open.json.Resources, key)).toMatchObject({ AuthorizationType: 'CUSTOM' });
    }
  });
});

describe('least privilege', () => {
  it.each([
    ['OwsEndpoint', ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']],
    ['JobDismiss', ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']],
    ['JobStatus', ['dynamodb:GetItem']],
    ['JobResults', ['dynamodb:GetItem']],
    ['JobList', ['dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan']],
    ['ConformanceDocument', []],
    ['OpenApiDocument', []],
  ])('%s may only %j', (fn, actions) => {
    expect(actionsOf(open, fn)).toEqual(actions);
  });

  it.each(['OwsEndpoint', 'JobDismiss', 'JobStatus', 'JobResults'])('%s acts on the status table item only, not its indexes', (fn) => {
    const resources = dynamoStatements(open, fn).map((s) => JSON.stringify(s.Resource));
    expect(resources).toHaveLength(1);
    expect(resources[0]).toContain('StatusExecutions');
    expect(resources[0]).not.toContain('/index/');
  });

  it('the job list queries exactly the six status indexes, and scans and batch-reads only the status table', () => {
    const statements = dynamoStatements(open, 'JobList');
    const query = statements.find((s) => s.Action === 'dynamodb:Query' || (Array.isArray(s.Action) && s.Action.includes('dynamodb:Query')));
    const scan = statements.find((s) => s.Action === 'dynamodb:Scan' || (Array.isArray(s.Action) && s.Action.includes('dynamodb:Scan')));
    const queried = (Array.isArray(query?.Resource) ? query.Resource : [query?.Resource]).map((resource: unknown) =>
      JSON.stringify(resource).match(/\/index\/(\w+)/)?.[1],
    );
    expect(queried.sort()).toEqual(['byCompletionTime', 'byHeartbeat', 'byNode', 'byProcess', 'byUser', 'byUserProcess']);
    expect(scan?.Action).toEqual(['dynamodb:Scan', 'dynamodb:BatchGetItem']);
    expect(JSON.stringify(scan?.Resource)).toContain('StatusExecutions');
    expect(JSON.stringify(scan?.Resource)).not.toContain('/index/');
  });

  it('the job list signs its next links with the cluster cursor key; no other protocol function gets the key', () => {
    expect(JSON.stringify(environmentOf(open, 'JobList').STATUS_CURSOR_KEY)).toMatch(/resolve:secretsmanager:.*SecretString/);
    for (const fn of ['OwsEndpoint', 'JobStatus', 'JobResults', 'JobDismiss', 'ConformanceDocument', 'OpenApiDocument']) {
      expect(environmentOf(open, fn)).not.toHaveProperty('STATUS_CURSOR_KEY');
    }
  });

  it('functions without table access get no table settings', () => {
    for (const fn of ['ConformanceDocument', 'OpenApiDocument']) {
      expect(environmentOf(open, fn)).not.toHaveProperty('STATUS_TABLE_NAME');
    }
  });
});

describe('configuration', () => {
  it('URLs follow the request by default; a configured public base URL reaches every protocol function', () => {
    for (const fn of new Set(Object.values(ROUTES))) {
      expect(environmentOf(open, fn)).not.toHaveProperty('PUBLIC_BASE_URL');
      expect(environmentOf(open, fn)).toMatchObject({ REQUIRE_AUTH_FOR_READS: 'false', DEFAULT_RETRY_AFTER_SECONDS: '5' });
      expect(environmentOf(locked, fn)).toMatchObject({
        PUBLIC_BASE_URL: 'https://geo.example.org/cluster',
        REQUIRE_AUTH_FOR_READS: 'true',
      });
    }
  });

  const valid = { name: 'geo', nodes: [{ name: 'master-1', role: 'master' }] };

  it.each(['https://geo.example.org', 'https://geo.example.org/cluster/', 'http://localhost:3000'])(
    'publicBaseUrl accepts %s',
    (publicBaseUrl) => {
      expect(parseClusterConfig({ ...valid, status: { publicBaseUrl } }).status.publicBaseUrl).toBe(publicBaseUrl);
    },
  );

  it('publicBaseUrl is optional', () => {
    expect(parseClusterConfig(valid).status.publicBaseUrl).toBeUndefined();
  });

  it.each(['geo.example.org', 'ftp://geo.example.org', 'https://geo.example.org/?a=1', 'https://geo.example.org/#x', 42])(
    'publicBaseUrl refuses %p, naming the key',
    (publicBaseUrl) => {
      expect(() => parseClusterConfig({ ...valid, status: { publicBaseUrl } })).toThrow('cluster.status.publicBaseUrl');
    },
  );

  it('the protocols recognise exactly the ids the node API accepts', () => {
    expect(POSSIBLE_EXECUTION_ID.source).toBe(EXECUTION_ID_PATTERN.source);
    expect(POSSIBLE_EXECUTION_ID.flags).toBe(EXECUTION_ID_PATTERN.flags);
  });
});

describe('security checks', () => {
  it('cdk-nag AwsSolutions reports no unacknowledged finding, reads open or locked', () => {
    for (const synth of [open, locked]) {
      expect(synth.validationReport.pluginReports.filter((report) => report.conclusion === 'failure')).toEqual([]);
    }
  });
});

describe('CORS', () => {
  const allRouteKeys = (synth: Synthesized) =>
    Object.values(synth.json.Resources)
      .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
      .map((r) => r.Properties.RouteKey as string);

  it.each(CORS_POLLING_PATHS.map(({ path }) => path))('OPTIONS %s is an open preflight route, even with requireAuthForReads', (path) => {
    for (const synth of [open, locked]) {
      expect(targetFunction(synth.json.Resources, `OPTIONS ${path}`)).toBe(functionId(synth.json, 'CorsPreflight'));
      expect(routeOf(synth.json.Resources, `OPTIONS ${path}`)?.AuthorizationType ?? 'NONE').toBe('NONE');
    }
  });

  it('has a preflight route on no other path: writes and listings stay closed to browsers', () => {
    const preflights = allRouteKeys(open).filter((key) => key.startsWith('OPTIONS ')).map((key) => key.slice(8)).sort();
    expect(preflights).toEqual(CORS_POLLING_PATHS.map(({ path }) => path).sort());
    // API Gateway's API-wide CORS would open every route.
    for (const api of Object.values(open.json.Resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Api')) {
      expect(api.Properties.CorsConfiguration).toBeUndefined();
    }
  });

  it('gives the polling functions the configured origins', () => {
    const configured = synthesize({ status: { corsAllowedOrigins: ['https://maps.example.org'] } });
    for (const fn of ['OwsEndpoint', 'JobStatus', 'JobResults', 'ConformanceDocument', 'OpenApiDocument', 'CorsPreflight', 'GetStatus']) {
      expect(environmentOf(configured, fn).CORS_ALLOWED_ORIGINS).toBe('["https://maps.example.org"]');
      expect(environmentOf(open, fn).CORS_ALLOWED_ORIGINS).toBe('["*"]');
    }
  });

  it('refuses an origin that is not one', () => {
    expect(() => parseClusterConfig({ name: 'geo', nodes: [{ name: 'm', role: 'master' }], status: { corsAllowedOrigins: ['maps.example.org/'] } })).toThrow(
      'cluster.status.corsAllowedOrigins[0]',
    );
  });
});
