/**
 * The OpenAPI document is built at synth from the service manifests (api/openapi.ts) and bundled
 * with the function that serves GET /openapi.json. These tests read that bundled document and
 * hold it to the stack and to the handlers' validation:
 * - every route the stack deploys is an operation, and no operation is not deployed; every
 *   manifest route is there under its declared operation id;
 * - each operation's security says what the route's authorizer does (reads open, and with
 *   `requireAuthForReads`);
 * - the schemas in the document accept what the handlers' zod schemas accept (ajv on the
 *   document against zod on the same inputs), and every example is a publish the handler takes.
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import * as z from 'zod/mini';
import { API_MANIFESTS, buildOpenApiDocument } from '../../api/openapi';
import { CHANGE_SET_EXAMPLE, CONFIG_CHANGE_EXAMPLES, configChangeSetSchema } from '../../lambdas/config-sync/api';
import { OBJECT_TYPES, configChangeSchema, parseConfigChange } from '../../lambdas/config-sync/events';
import { parsePublishRequest } from '../../lambdas/config-sync/publish';
import { routesOf } from '../../lambdas/shared/manifest';
import { statusWriteSchema } from '../../lambdas/status/schemas';
import { synthesize, type Synthesized } from '../support/synth';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

interface Route {
  method: string;
  path: string;
  authorized: boolean;
}

function stackRoutes(synth: Synthesized): Route[] {
  return Object.values(synth.json.Resources)
    .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
    .map((r) => {
      const [method, path] = String(r.Properties.RouteKey).split(' ') as [string, string];
      return { method: method.toLowerCase(), path, authorized: r.Properties.AuthorizationType === 'CUSTOM' };
    });
}

interface Operation {
  operationId: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required: boolean; schema: unknown }[];
  requestBody?: { content: Record<string, { schema: unknown; examples?: Record<string, { value: unknown }> }> };
  responses: Record<string, unknown>;
}
type Doc = {
  openapi: string;
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

describe.each([
  ['reads open', {}],
  ['requireAuthForReads', { status: { requireAuthForReads: true } }],
])('the bundled OpenAPI document with %s', (_label, overrides) => {
  let routes: Route[];
  let doc: Doc;
  beforeAll(() => {
    const synth = synthesize(overrides, { bundle: true });
    routes = stackRoutes(synth);
    doc = synth.openApiDocument as Doc;
  });

  it('is the document api/openapi.ts builds for this setting, with a placeholder server the function fills in', () => {
    const requireAuthForReads = (overrides as { status?: { requireAuthForReads?: boolean } }).status?.requireAuthForReads ?? false;
    expect(doc).toEqual(buildOpenApiDocument({ requireAuthForReads }));
    expect(doc.servers).toHaveLength(1);
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
    const declared = API_MANIFESTS.flatMap((manifest) => routesOf(manifest));
    expect(declared.length).toBeGreaterThan(20);
    for (const route of declared) {
      expect({ route: `${route.method} ${route.path}`, id: doc.paths[route.path]?.[route.method.toLowerCase()]?.operationId }).toEqual({
        route: `${route.method} ${route.path}`,
        id: route.api.operationId,
      });
    }
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
    }
  });

  it('is OpenAPI 3.0 with unique operation ids, path parameters that match the path, and no dangling $ref', () => {
    expect(doc.openapi).toMatch(/^3\.0\.\d+$/);
    const ids = operationsOf(doc).map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, operation } of operationsOf(doc)) {
      const inPath = [...path.matchAll(/\{(\w+)\+?\}/g)].map((match) => match[1]).sort();
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
    expect(validate!(body)).toBe(z.safeParse(statusWriteSchema, body).success);
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
