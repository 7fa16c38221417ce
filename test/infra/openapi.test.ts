/**
 * Keeps the OpenAPI document (GET /openapi.json, lambdas/status/openapi.ts) true to the stack:
 * every route the stack deploys is described with its method, nothing is described that is not
 * deployed, and each operation's security says what the route's authorizer does, with reads open
 * and with `requireAuthForReads`. A route added to the stack fails here until it is documented.
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import * as z from 'zod/mini';
import { OBJECT_TYPES, configChangeSchema, parseConfigChange } from '../../lambdas/config-sync/events';
import { CONFIG_CHANGE_EXAMPLES, openApiDocument } from '../../lambdas/status/openapi';
import { synthesize, type Synthesized } from '../support/synth';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

interface Route {
  method: string;
  path: string;
  authorized: boolean;
}

function routesOf(synth: Synthesized): Route[] {
  return Object.values(synth.json.Resources)
    .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
    .map((r) => {
      const [method, path] = String(r.Properties.RouteKey).split(' ') as [string, string];
      return { method: method.toLowerCase(), path, authorized: r.Properties.AuthorizationType === 'CUSTOM' };
    });
}

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { operationId: string; security?: Record<string, string[]>[]; responses: Record<string, unknown> }>>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string }>; schemas: Record<string, unknown> } & Record<string, unknown>;
};

function operationsOf(doc: Doc): { method: string; path: string; operation: Doc['paths'][string][string] }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, operation]) => ({ method, path, operation })),
  );
}

describe.each([
  ['reads open', {}],
  ['requireAuthForReads', { status: { requireAuthForReads: true } }],
])('the OpenAPI document with %s', (_label, overrides) => {
  let routes: Route[];
  let doc: Doc;
  beforeAll(() => {
    const synth = synthesize(overrides);
    routes = routesOf(synth);
    const requireAuthForReads = (overrides as { status?: { requireAuthForReads?: boolean } }).status?.requireAuthForReads ?? false;
    doc = openApiDocument({ serverUrl: 'https://api.example', requireAuthForReads }) as unknown as Doc;
  });

  it('describes every route of the stack with its method', () => {
    expect(routes.length).toBeGreaterThan(0);
    const missing = routes.filter((route) => doc.paths[route.path]?.[route.method] === undefined).map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(missing).toEqual([]);
  });

  it('describes no operation the stack does not route', () => {
    const routed = new Set(routes.map((route) => `${route.method} ${route.path}`));
    const extra = operationsOf(doc)
      .map(({ method, path }) => `${method} ${path}`)
      .filter((key) => !routed.has(key));
    expect(extra).toEqual([]);
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

  it('is OpenAPI 3.0 with unique operation ids and no dangling $ref', () => {
    expect(doc.openapi).toMatch(/^3\.0\.\d+$/);
    const ids = operationsOf(doc).map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
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

describe('the configuration-sync publish body', () => {
  // The document's ConfigChange is generated from the zod schema the publish handler validates
  // with; ajv (OpenAPI 3.0's `nullable` aside, plain JSON Schema) must agree with zod on it.
  const doc = openApiDocument({ serverUrl: 'https://api.example', requireAuthForReads: false }) as unknown as Doc;
  const ajv = new Ajv({ strict: false, unicodeRegExp: true, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema({ components: doc.components }, 'doc');
  const validate = ajv.getSchema('doc#/components/schemas/ConfigChange');

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
  ])('accepts what the publish schema accepts: %j', (body) => {
    expect(validate).toBeDefined();
    expect(validate!(body)).toBe(z.safeParse(configChangeSchema, body).success);
  });

  it('shows real GeoServer representations as examples, each one a valid publish', () => {
    const examples = Object.values(CONFIG_CHANGE_EXAMPLES).map((example) => example.value);
    expect(examples.map((example) => (example as { object: { type: string } }).object.type)).toEqual(
      expect.arrayContaining(['workspace', 'dataStore', 'featureType', 'layer', 'style']),
    );
    for (const example of examples) {
      expect(() => parseConfigChange(example)).not.toThrow();
      expect(validate!(example)).toBe(true);
    }
  });

  it('lists every object type and is what POST /config/events takes', () => {
    expect(doc.paths['/config/events']?.post).toMatchObject({
      requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ConfigChange' } } } },
    });
    const types = JSON.stringify(doc.components.schemas).match(/"enum":\["([A-Za-z]+)"\]/g) ?? [];
    for (const type of OBJECT_TYPES) expect(types).toContain(`"enum":["${type}"]`);
  });
});
