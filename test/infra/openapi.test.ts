/**
 * The OpenAPI document is built at synth from the service manifests (api/openapi.ts) and bundled
 * with the function that serves GET /openapi.json. These tests read that bundled document and
 * hold it to the stack and to the handlers' validation:
 * - every route the stack deploys is an operation, and no operation is not deployed; every
 *   manifest route is there under its declared operation id (an `ANY` route, the GeoServer REST
 *   gateway's, as one operation per method), with and without the gateway switched on;
 * - each operation's security says what the route's authorizer does (reads open, and with
 *   `requireAuthForReads`), and the gateway's says GeoServer's HTTP Basic, passed through;
 * - the schemas in the document accept what the handlers' zod schemas accept (ajv on the
 *   document against zod on the same inputs), and every example is a publish the handler takes.
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import * as z from 'zod/mini';
import { ANY_METHODS, buildOpenApiDocument, routeOperations, servedManifests } from '../../api/openapi';
import { CHANGE_SET_EXAMPLE, CONFIG_CHANGE_EXAMPLES, configChangeSetSchema } from '../../lambdas/config-sync/api';
import { OBJECT_TYPES, configChangeSchema, parseConfigChange, type DeliveredEvent } from '../../lambdas/config-sync/events';
import { summarize } from '../../lambdas/config-sync/event-log-view';
import { parsePublishRequest } from '../../lambdas/config-sync/publish';
import { routesOf } from '../../lambdas/shared/manifest';
import { AppError } from '../../lambdas/shared/errors';
import { errorResponse } from '../../lambdas/shared/http';
import { GatewayBodyTooLargeError, MasterAnswerTooLargeError, MasterTimeoutError, ReplicatedWriteTooLargeError } from '../../lambdas/config-sync/gateway/limits';
import { SourceNotAllowedError } from '../../lambdas/config-sync/gateway/source-allow-list';
import { GatewayBusyError } from '../../lambdas/config-sync/gateway/write-lease';
import { assertGatewayMethod } from '../../lambdas/config-sync/gateway/gateway';
import { NodePausedError } from '../../lambdas/config-sync/pause';
import { statusWriteSchema } from '../../lambdas/status/schemas';
import { synthesize, type Synthesized } from '../support/synth';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

interface Route {
  method: string;
  path: string;
  authorized: boolean;
}

/** Every method each route of the stack answers (API Gateway's `ANY` answers them all). */
function stackRoutes(synth: Synthesized): Route[] {
  return Object.values(synth.json.Resources)
    .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
    .flatMap((r) => {
      const [method, path] = String(r.Properties.RouteKey).split(' ') as [string, string];
      const methods = method === 'ANY' ? ANY_METHODS.map((any) => any.toLowerCase()) : [method.toLowerCase()];
      return methods.map((one) => ({ method: one, path, authorized: r.Properties.AuthorizationType === 'CUSTOM' }));
    });
}

/** A cluster with the GeoServer REST gateway: a `both` node with a GeoServer, and a slave. */
const WITH_GATEWAY = {
  nodes: [
    { name: 'master-1', role: 'master' },
    { name: 'gs-main', role: 'both', geoserver: { url: 'http://10.0.3.20:8080/geoserver', credentialsSecret: 'geo/gs-main' } },
    { name: 'gs-1', role: 'slave', geoserver: { url: 'http://10.0.3.21:8080/geoserver', credentialsSecret: 'geo/gs-1' } },
  ],
  gateway: { enabled: true, allowedSourceIps: ['203.0.113.0/24'] },
};
const GATEWAY_PATH = '/geoserver/rest/{proxy+}';

interface Operation {
  operationId: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required: boolean; schema: unknown }[];
  requestBody?: { content: Record<string, { schema: unknown; examples?: Record<string, { value: unknown }> }> };
  responses: Record<string, unknown>;
}
type Doc = {
  openapi: string;
  info: { description: string };
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string }>; schemas: Record<string, unknown> } & Record<string, unknown>;
};

function operationsOf(doc: Doc): { method: string; path: string; operation: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, operation]) => ({ method, path, operation })),
  );
}

/** ajv over the document's schemas and operations (ajv reads OpenAPI 3.0's `nullable` itself). */
function ajvOf(doc: Doc): Ajv {
  const ajv = new Ajv({ strict: false, unicodeRegExp: true, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema({ components: doc.components, paths: doc.paths }, 'doc');
  return ajv;
}

// One bundled synth (bundling ~30 functions is most of a synth's time, about a minute of CPU):
// with the gateway switched on, it reads the document from the function's bundle, which shows
// the synth's document is the one copied there. The other setting reads the document its synth
// wrote for that copy, without bundling: what differs between settings is the document's
// content, which both hold to api/openapi.ts.
describe.each([
  ['reads open and no gateway', {}, false],
  ['requireAuthForReads and the GeoServer REST gateway', { status: { requireAuthForReads: true }, ...WITH_GATEWAY }, true],
])('the OpenAPI document with %s', (_label, overrides, bundle) => {
  let routes: Route[];
  let doc: Doc;
  const requireAuthForReads = (overrides as { status?: { requireAuthForReads?: boolean } }).status?.requireAuthForReads ?? false;
  const gateway = 'gateway' in overrides;
  beforeAll(() => {
    const synth = synthesize(overrides, { bundle });
    routes = stackRoutes(synth);
    doc = synth.openApiDocument as Doc;
  });

  it('is the document api/openapi.ts builds for this setting, with a placeholder server the function fills in', () => {
    expect(doc).toEqual(buildOpenApiDocument({ requireAuthForReads, gateway }));
    expect(doc.servers).toHaveLength(1);
  });

  it(gateway ? 'has the gateway route, deployed, as an operation per method' : 'has no gateway route, which is not deployed', () => {
    expect(routes.some((route) => route.path === GATEWAY_PATH)).toBe(gateway);
    expect(Object.keys(doc.paths[GATEWAY_PATH] ?? {})).toEqual(gateway ? ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] : []);
    expect('geoserverBasic' in doc.components.securitySchemes).toBe(gateway);
  });

  it('describes every route of the stack with its method, and nothing else', () => {
    expect(routes.length).toBeGreaterThan(20);
    const missing = routes.filter((route) => doc.paths[route.path]?.[route.method] === undefined).map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(missing).toEqual([]);
    const routed = new Set(routes.map((route) => `${route.method} ${route.path}`));
    const extra = operationsOf(doc)
      .map(({ method, path }) => `${method} ${path}`)
      .filter((key) => !routed.has(key));
    expect(extra).toEqual([]);
  });

  it('has every manifest route under the operation id its manifest declares', () => {
    const declared = servedManifests({ gateway }).flatMap((manifest) => routesOf(manifest));
    expect(declared.length).toBeGreaterThan(20);
    for (const route of declared) {
      for (const { method, operationId } of routeOperations(route, route.api.operationId)) {
        expect({ route: `${method} ${route.path}`, id: doc.paths[route.path]?.[method.toLowerCase()]?.operationId }).toEqual({
          route: `${method} ${route.path}`,
          id: operationId,
        });
      }
    }
    if (gateway) expect(doc.paths[GATEWAY_PATH]?.delete?.operationId).toBe('geoserverRestDelete');
  });

  it("states each route's authorization: the node bearer token exactly where the authorizer sits", () => {
    expect(doc.components.securitySchemes.nodeToken).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    for (const route of routes) {
      const operation = doc.paths[route.path]?.[route.method];
      const security = operation?.security ?? [];
      expect({ route: `${route.method} ${route.path}`, secured: security.some((requirement) => 'nodeToken' in requirement) }).toEqual({
        route: `${route.method} ${route.path}`,
        secured: route.authorized,
      });
      if (route.authorized) expect(operation?.responses).toHaveProperty('401');
      // The gateway's route: no token of the cluster's, the caller's GeoServer credentials (HTTP Basic) passed through.
      if (route.path === GATEWAY_PATH) {
        expect(operation?.security).toEqual([{ geoserverBasic: [] }]);
        // Its 401 is the master GeoServer's, or its own refusal of a cluster token: no authorizer's.
        expect((operation?.responses?.['401'] as { description?: string } | undefined)?.description).toMatch(/^A cluster node's or operator's token .*CLUSTER_TOKEN.*or the master GeoServer's own 401( \(to a write [^)]*GET \/rest\/about\/version\.json[^)]*\))?(; or, to such a write carrying no credentials at all\b.*CREDENTIALS_REQUIRED.*)?$/);
      }
    }
    if (gateway) expect(doc.components.securitySchemes.geoserverBasic).toEqual(expect.objectContaining({ type: 'http', scheme: 'basic' }));
  });

  // The summary a reader of the document takes the access rules from: it named catalog reads
  // among the routes open to anyone, and with requireAuthForReads every route as needing a
  // token, where the catalog routes always have the authorizer and the preflights and the
  // console page never do.
  it("says in its summary which routes are open as the stack's routes are", () => {
    const description = doc.info.description;
    const catalog = routes.filter((route) => route.path.startsWith('/nodes/{node}/catalog'));
    expect(catalog.length).toBeGreaterThan(0);
    expect(catalog.every((route) => route.authorized)).toBe(true);
    expect(description).not.toMatch(/catalog reads[^.;]* open/);
    const open = routes.filter((route) => !route.authorized && route.path !== GATEWAY_PATH).map((route) => `${route.method.toUpperCase()} ${route.path}`);
    expect(open).toContain('GET /console');
    if (requireAuthForReads) {
      expect(open.every((route) => route.startsWith('OPTIONS ') || route === 'GET /console')).toBe(true);
      expect(description).not.toMatch(/Every route needs/);
      expect(description).toMatch(/CORS preflights and the console page/);
    }
  });

  it('is OpenAPI 3.0 with unique operation ids, path parameters that match the path, and no dangling $ref', () => {
    expect(doc.openapi).toMatch(/^3\.0\.\d+$/);
    const ids = operationsOf(doc).map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, operation } of operationsOf(doc)) {
      // A greedy parameter (`{proxy+}`) is named with its `+`, as API Gateway's own export names it.
      const inPath = [...path.matchAll(/\{(\w+\+?)\}/g)].map((match) => match[1]).sort();
      const declared = (operation.parameters ?? []).filter((parameter) => parameter.in === 'path').map((parameter) => parameter.name);
      // A preflight needs no parameters; every other operation declares exactly its path's.
      if (declared.length > 0 || !operation.operationId.startsWith('preflight')) expect({ path, params: declared.sort() }).toEqual({ path, params: inPath });
    }
    const dangling: string[] = [];
    const visit = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value !== null && typeof value === 'object') {
        for (const [key, inner] of Object.entries(value)) {
          if (key === '$ref' && typeof inner === 'string') {
            const target = inner
              .replace(/^#\//, '')
              .split('/')
              .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], doc);
            if (target === undefined) dangling.push(inner);
          } else visit(inner);
        }
      }
    };
    visit(doc);
    expect(dangling).toEqual([]);
  });
});

describe('the document agrees with the handlers validation', () => {
  const doc = buildOpenApiDocument({ requireAuthForReads: false }) as unknown as Doc;
  const ajv = ajvOf(doc);
  const publish = doc.paths['/config/events']?.post;

  it.each([
    { kind: 'add', object: { type: 'workspace', id: 'topp' }, properties: { name: 'topp', uri: 'http://topp', nested: [1, null, { a: true }] } },
    { kind: 'add', object: { type: 'style', id: 'topp:roads' }, properties: { format: 'sld', body: '<StyledLayerDescriptor/>' } },
    { kind: 'modify', object: { type: 'featureType', id: 'topp:states' }, patch: { title: 'States', abstract: null } },
    { kind: 'modify', object: { type: 'global' }, patch: { proxyBaseUrl: 'https://geo.example' } },
    { kind: 'modify', object: { type: 'service', id: 'topp:WFS' }, patch: { maxFeatures: 1000 } },
    { kind: 'remove', object: { type: 'layerGroup', id: 'basemap' } },
    { kind: 'remove', object: { type: 'layer', id: 'states' } },
    { kind: 'remove', object: { type: 'layer', id: 'topp:states' }, properties: {} },
    { kind: 'rename', object: { type: 'workspace', id: 'topp' } },
    { kind: 'add', object: { type: 'table', id: 'topp:x' }, properties: {} },
    { kind: 'add', object: { type: 'workspace', id: 'a/b' }, properties: {} },
    { kind: 'modify', object: { type: 'logging', id: 'global' }, patch: { level: 'DEBUG' } },
  ])('ConfigChange accepts what the publish schema accepts: %j', (body) => {
    const validate = ajv.getSchema('doc#/components/schemas/ConfigChange');
    expect(validate).toBeDefined();
    expect(validate!(body)).toBe(z.safeParse(configChangeSchema(), body).success);
  });

  it.each([
    ['an event', { sequence: 7, cluster: 'geo', origin: 'master-1', publishedAt: '2026-01-01T00:00:00.000Z', kind: 'add', object: { type: 'workspace', id: 'topp' }, properties: { name: 'topp' } }],
    ['a voided sequence', { sequence: 8, cluster: 'geo', origin: 'log', publishedAt: '2026-01-01T00:00:00.000Z', voided: true }],
    ['an unreadable event', { sequence: 9, cluster: 'geo', origin: 'master-1', publishedAt: '2026-01-01T00:00:00.000Z', unreadable: true, reason: 'properties: too deep' }],
  ] as const)('EventSummary accepts what GET /config/events answers for %s', (_label, event) => {
    const validate = ajv.getSchema('doc#/components/schemas/EventSummary');
    expect(validate).toBeDefined();
    expect(validate!(summarize(event as unknown as DeliveredEvent))).toBe(true);
  });

  it.each([
    { phase: 'RUNNING', progress: 40, task: 'Reading' },
    { phase: 'SUCCEEDED', resultLocation: 'https://maps.example/out.zip', completionTime: '2026-01-01T00:00:00Z' },
    { phase: 'QUEUED', creationTime: '2026-01-01T00:00:00+02:00', processName: 'gs:Buffer' },
    { phase: 'RUNNING', progress: 101 },
    { phase: 'RUNNING', version: 3 },
    { phase: 'PAUSED' },
    { phase: 'FAILED', exception: { code: 'X', message: 'm' } },
    { phase: 'FAILED', exception: { code: '', message: 'm' } },
  ])('StatusWrite accepts what PUT /executions/{executionId} accepts: %j', (body) => {
    const validate = ajv.getSchema('doc#/components/schemas/StatusWrite');
    expect(validate!(body)).toBe(z.safeParse(statusWriteSchema(), body).success);
  });

  it('shows real GeoServer representations as examples (workspace, PostGIS store, feature type, layer, SLD style), each one a publish the handler takes', () => {
    const examples = publish?.requestBody?.content['application/json']?.examples ?? {};
    const types = Object.values(CONFIG_CHANGE_EXAMPLES).map((example) => example.value.object.type);
    expect(types).toEqual(expect.arrayContaining(['workspace', 'dataStore', 'featureType', 'layer', 'style']));
    expect(Object.keys(examples).sort()).toEqual([...Object.keys(CONFIG_CHANGE_EXAMPLES), 'changeSet'].sort());
    const validate = ajv.compile({ $ref: 'doc#/paths/~1config~1events/post/requestBody/content/application~1json/schema' });
    for (const [name, example] of Object.entries(examples)) {
      expect({ name, parsed: (() => { parsePublishRequest(example.value); return true; })() }).toEqual({ name, parsed: true });
      expect({ name, valid: validate(example.value) }).toEqual({ name, valid: true });
    }
    for (const example of Object.values(CONFIG_CHANGE_EXAMPLES)) expect(() => parseConfigChange(example.value)).not.toThrow();
  });

  it.each([
    ['the example set', CHANGE_SET_EXAMPLE.value, true],
    ['an empty set', { changes: [] }, false],
    ['another member', { changes: [CONFIG_CHANGE_EXAMPLES.workspace.value], extra: 1 }, false],
    ['a bad item', { changes: [CONFIG_CHANGE_EXAMPLES.workspace.value, { kind: 'rename', object: { type: 'workspace', id: 'x' } }] }, false],
    ['not a list', { changes: 'all' }, false],
  ])('the change-set schema of the document agrees with parsePublishRequest: %s', (_label, body, accepted) => {
    const parses = (() => {
      try {
        parsePublishRequest(body);
        return true;
      } catch {
        return false;
      }
    })();
    expect(parses).toBe(accepted);
    expect(z.safeParse(configChangeSetSchema, body).success).toBe(accepted);
    expect(ajv.getSchema('doc#/components/schemas/ConfigChangeSet')!(body)).toBe(accepted);
  });

  it('lists every object type and is what POST /config/events takes', () => {
    expect(publish?.requestBody?.content['application/json']?.schema).toEqual({
      anyOf: [{ $ref: '#/components/schemas/ConfigChange' }, { $ref: '#/components/schemas/ConfigChangeSet' }],
    });
    const types = JSON.stringify(doc.components.schemas).match(/"enum":\["([A-Za-z]+)"\]/g) ?? [];
    for (const type of OBJECT_TYPES) expect(types).toContain(`"enum":["${type}"]`);
  });
});

describe("the gateway's operations agree with the gateway's own answers", () => {
  const doc = buildOpenApiDocument({ requireAuthForReads: false, gateway: true }) as unknown as Doc;
  const ajv = ajvOf(doc);
  const pointer = (method: string, status: string, media: string) =>
    `doc#/paths/${GATEWAY_PATH.replace(/\//g, '~1')}/${method}/responses/${status}/content/${media.replace(/\//g, '~1')}/schema`;

  it.each([
    ['source not allowed', new SourceNotAllowedError('198.51.100.7')],
    ['body over the gateway limit', new GatewayBodyTooLargeError(6_000_000)],
    ['replicated write over the replication limit', new ReplicatedWriteTooLargeError(2_000_000)],
    ['master answer too large', new MasterAnswerTooLargeError(5_000_000)],
    ['master answer over what the gateway reads', new MasterAnswerTooLargeError({ method: 'GET', path: '/styles/big.sld' }, 'PUT')],
    ['write lease busy', new GatewayBusyError(10_000, 3, Date.now() + 3000)],
    ['master timed out', new MasterTimeoutError('the master did not answer POST /workspaces within 23000 ms', 'POST', 'gs-main')],
    ['master paused', new NodePausedError('gs-main', { since: '2026-12-02T07:00:00Z', by: 'gs-main' })],
    ['master unreachable', new AppError(502, 'GEOSERVER_UNAVAILABLE', 'connect ECONNREFUSED')],
    ['a method GeoServer has not (PATCH)', (() => {
      try {
        assertGatewayMethod('PATCH');
      } catch (error) {
        return error as AppError;
      }
      throw new Error('PATCH was not refused');
    })()],
  ])('%s: its status is documented on every method, and its JSON body is valid against that answer', (_label, error) => {
    const answer = errorResponse(error);
    for (const method of ANY_METHODS.map((one) => one.toLowerCase())) {
      const responses = doc.paths[GATEWAY_PATH]![method]!.responses as Record<string, { content?: Record<string, unknown> }>;
      expect({ method, status: answer.statusCode, documented: String(answer.statusCode) in responses }).toEqual({ method, status: answer.statusCode, documented: true });
      const validate = ajv.compile({ $ref: pointer(method, String(answer.statusCode), 'application/json') });
      expect({ method, valid: validate(JSON.parse(answer.body ?? "")), errors: validate.errors ?? null }).toEqual({ method, valid: true, errors: null });
    }
  });

  it("documents API Gateway's own answers (over 10 MB, the route's throttle), the busy write's Retry-After, and the pass-through's headers", () => {
    const post = doc.paths[GATEWAY_PATH]!.post!.responses as Record<string, { headers?: Record<string, unknown>; content?: Record<string, unknown> }>;
    expect(ajv.compile({ $ref: pointer('post', '413', 'application/json') })({ message: 'Request Entity Too Large' })).toBe(true);
    expect(ajv.compile({ $ref: pointer('post', '429', 'application/json') })({ message: 'Too Many Requests' })).toBe(true);
    expect(Object.keys(post['503']!.headers ?? {})).toEqual(['Retry-After']);
    expect(Object.keys((doc.paths[GATEWAY_PATH]!.patch!.responses as typeof post)['405']!.headers ?? {})).toEqual(['Allow']);
    expect(Object.keys(post.default!.headers ?? {})).toEqual(['X-Cluster-Replicated', 'X-Cluster-Sequence', 'X-Cluster-Job']);
    expect(Object.keys(post.default!.content ?? {})).toEqual(['*/*']);
    expect(doc.components.headers).toHaveProperty('XClusterReplicated');
    const replicated = ajv.compile((doc.components.headers as Record<string, { schema: object }>).XClusterReplicated!.schema);
    expect(['true', 'partial', 'capture', 'false', 'failed', 'yes'].map((value) => replicated(value))).toEqual([true, true, true, true, true, false]);
    const sequence = ajv.compile((doc.components.headers as Record<string, { schema: object }>).XClusterSequence!.schema);
    expect(['7', '7,8', '7,', 'a'].map((value) => sequence(value))).toEqual([true, true, false, false]);
    // A body goes with the methods that carry one; GeoServer's reads take none.
    expect(Object.keys(doc.paths[GATEWAY_PATH]!).filter((method) => doc.paths[GATEWAY_PATH]![method]!.requestBody)).toEqual(['put', 'post', 'patch']);
  });
});
