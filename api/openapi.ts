/**
 * The OpenAPI 3.0 document of the whole cluster API, assembled from the service manifests: every
 * route a manifest declares becomes an operation, its parameters, bodies and answers converted
 * from the route's zod schemas by zod's own `toJSONSchema`, its security from the route's access.
 * Nothing here describes a route: a route added to a manifest is in the document.
 *
 * It runs at synth (cdk/constructs/polling-protocols.ts bundles the result with the function
 * that serves `GET /openapi.json`, which fills in the deployment's base URL) and in
 * tools/generate-api-types.ts; never inside a function.
 *
 * All schemas go through one conversion of one registry: the named ones (`components/schemas`)
 * under their names, every other body and parameter object under a temporary name that is put
 * back in place afterwards. So a named schema used anywhere becomes a `$ref`, never a copy.
 */
import * as z from 'zod/mini';
import type { Content, OperationDeclaration, ResponseDeclaration } from '../lambdas/shared/api';
import { routesOf, type RouteAccess, type ServiceManifest } from '../lambdas/shared/manifest';
import { CONFIG_SYNC_MANIFEST, GATEWAY_MANIFEST } from '../lambdas/config-sync/manifest';
import { CONFIG_SYNC_SCHEMA_DESCRIPTIONS, CONFIG_SYNC_SCHEMAS } from '../lambdas/config-sync/api';
import { CONSOLE_MANIFEST } from '../lambdas/console/manifest';
import { POLLING_MANIFEST, STATUS_MANIFEST } from '../lambdas/status/manifest';
import { documentedAs } from '../lambdas/shared/query';
import { propertyValueSchema } from '../lambdas/config-sync/events';
import { STATUS_SCHEMAS } from '../lambdas/status/api';

export const OPENAPI_CONTENT_TYPE = 'application/vnd.oai.openapi+json;version=3.0';
/** The `servers` URL of the built document; the serving function puts the deployment's base URL in its place. */
export const SERVER_URL_PLACEHOLDER = 'https://api.invalid';

type Json = Record<string, unknown>;
type AnyManifest = ServiceManifest<string, string, string, string>;

/** Every manifest whose routes the cluster's API serves. */
export const API_MANIFESTS: readonly AnyManifest[] = [STATUS_MANIFEST, POLLING_MANIFEST, CONFIG_SYNC_MANIFEST, CONSOLE_MANIFEST];
/** The manifests of routes a cluster serves only when its configuration switches them on: the GeoServer REST gateway (cluster.gateway). */
export const OPTIONAL_MANIFESTS = { gateway: GATEWAY_MANIFEST as AnyManifest } as const;

/** The named schemas of the document, by component name. */
export const NAMED_SCHEMAS: Readonly<Record<string, z.ZodMiniType>> = { ...STATUS_SCHEMAS, ...CONFIG_SYNC_SCHEMAS, JsonValue: z.json() };
/**
 * Schemas the document shows otherwise than zod would convert them: a query value parsed from
 * its text (lambdas/shared/query.ts) as what the text stands for (an integer, a boolean), not
 * the string pattern zod would derive; a value of a change's properties, which the functions
 * parse as anything JSON.parse made (events.ts), as the JSON value it is.
 */
function shownAs(schema: z.ZodMiniType): Readonly<Record<string, unknown>> | undefined {
  if (schema === propertyValueSchema()) return { $ref: '#/components/schemas/JsonValue' };
  return documentedAs.get(schema);
}
const NAMED_DESCRIPTIONS: Readonly<Record<string, string | undefined>> = { ...CONFIG_SYNC_SCHEMA_DESCRIPTIONS, JsonValue: 'Any JSON value' };

export interface OpenApiOptions {
  /** cluster.status.requireAuthForReads: whether polls and client dismisses need a token (catalog reads always do). */
  readonly requireAuthForReads: boolean;
  /** Defaults to {@link SERVER_URL_PLACEHOLDER}. */
  readonly serverUrl?: string;
  /** cluster.gateway.enabled: whether the GeoServer REST gateway's route is served. @default false */
  readonly gateway?: boolean;
  /** Defaults to {@link API_MANIFESTS}, with the gateway's when `gateway` is set. */
  readonly manifests?: readonly AnyManifest[];
}

/** The manifests whose routes a cluster with these settings serves. */
export function servedManifests(options: Pick<OpenApiOptions, 'gateway'>): readonly AnyManifest[] {
  return options.gateway ? [...API_MANIFESTS, OPTIONAL_MANIFESTS.gateway] : API_MANIFESTS;
}

/** What API Gateway's `ANY` route answers: every method, each an operation of its own in the document. */
export const ANY_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH'] as const;
/** Methods whose operations declare the route's request body (the others carry none). */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The operations of one route: itself (and its HEAD, for a GET route that answers one: its
 * answers without content), or one per method of an `ANY` route, its operation id suffixed
 * with the method.
 */
export function routeOperations(
  route: { readonly method: string; readonly head?: true | { readonly refused: string } },
  operationId: string,
): { method: string; operationId: string; body: boolean; headersOnly?: true }[] {
  if (route.method !== 'ANY') {
    const own = { method: route.method, operationId, body: true };
    return route.head ? [own, { method: 'HEAD', operationId: `${operationId}Head`, body: false, headersOnly: true }] : [own];
  }
  return ANY_METHODS.map((method) => ({
    method,
    operationId: `${operationId}${method.charAt(0)}${method.slice(1).toLowerCase()}`,
    body: BODY_METHODS.has(method),
  }));
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;
const TAGS = [
  { name: 'Execution status', description: "The nodes' JSON API of the shared status" },
  { name: 'WPS', description: 'OGC Web Processing Service 1.0.0 and 2.0 status operations' },
  { name: 'OGC API - Processes', description: 'OGC API - Processes - Part 1: Core 1.0 jobs' },
  { name: 'Configuration sync', description: "GeoServer's JMS master/slave configuration clustering on SNS and SQS" },
  { name: 'GeoServer REST gateway', description: "The master GeoServer's REST API, each write it applies published to the cluster (cluster.gateway)" },
  { name: 'Operations', description: 'Pages for operators' },
  { name: 'API', description: 'This description' },
];

/** Response headers named by the manifests' answers. */
const HEADERS: Record<string, Json> = {
  ETag: { description: 'Validator of the stored state', schema: { type: 'string' } },
  CacheControl: {
    description: 'Finished jobs may be kept for a while; active ones must be revalidated (cheap, with If-None-Match)',
    schema: { type: 'string' },
  },
  RetryAfter: {
    description: "Seconds until the request is worth making again: an active job's next poll, or the retry an error answer asks for",
    schema: { type: 'integer' },
  },
  Allow: { description: 'The methods the resource takes, comma-separated', schema: { type: 'string' } },
  Location: { description: 'The URL of what was created (a job)', schema: { type: 'string' } },
  XClusterReplicated: {
    description:
      "`true`: the write was published to the cluster; `partial`: published, but part of what it carried is not replicated (a zipped style " +
      "package's icons); `false`: the path is of a type the cluster does not replicate; `failed`: the master applied it " +
      'but publishing failed (the next write through the gateway, or the gateway\'s sweep within a minute, publishes it; after an upload into a store: ' +
      'no capture could be started, run POST /nodes/{master}/capture); `capture`: an upload into a store the master took, which a capture of the master ' +
      '(named by `X-Cluster-Job`) replicates. Absent on reads of replicated types and on writes the master refused',
    schema: { type: 'string', enum: ['true', 'partial', 'capture', 'false', 'failed'] },
  },
  XClusterJob: {
    description: 'The capture of the master that replicates an upload into a store (`X-Cluster-Replicated: capture`): GET /nodes/{master}/jobs/{id}, or `geocluster job <master> <id>`',
    schema: { type: 'string' },
  },
  XClusterSequence: { description: "The sequences of the write's events in the cluster's log, comma-separated, in order", schema: { type: 'string', pattern: '^[0-9]+(,[0-9]+)*$' } },
};
const HEADER_NAMES: Record<string, string> = {
  CacheControl: 'Cache-Control',
  RetryAfter: 'Retry-After',
  XClusterReplicated: 'X-Cluster-Replicated',
  XClusterSequence: 'X-Cluster-Sequence',
  XClusterJob: 'X-Cluster-Job',
};

const SECURITY_SCHEMES: Record<string, Json> = {
  nodeToken: {
    type: 'http',
    scheme: 'bearer',
    description:
      'A node token or a read-only operator token (`npm run node-token`), checked by the authorizer against the credentials table; ' +
      'operators may list and read, and are refused (403) on every write',
  },
  geoserverBasic: {
    type: 'http',
    scheme: 'basic',
    description:
      "The caller's GeoServer credentials, passed through to the master GeoServer, whose own security decides; the cluster checks, " +
      'stores and logs none of them',
  },
};

/** The body of an answer API Gateway gives itself (its authorizer's, or its own), before any function. */
const AUTHORIZER_MESSAGE: Json = { type: 'object', properties: { message: { type: 'string' } } };
interface GatewayAnswer {
  readonly description: string;
  /** Who answers it, named where an operation has its own answer with the same status. */
  readonly by: string;
}
const AUTH_RESPONSES: Record<string, GatewayAnswer> = {
  '401': { description: 'No Authorization header', by: 'authorizer' },
  '403': { description: 'The token does not verify', by: 'authorizer' },
};
/** A path parameter whose %-escapes do not decode to UTF-8: refused before routing (`{"message":"Bad Request"}`). */
const MALFORMED_PATH_RESPONSES: Record<string, GatewayAnswer> = {
  '400': { description: 'The path holds a malformed %-escape', by: 'API Gateway' },
};

/** Parameter-level keys a parameter's schema may carry as metadata (lambdas/shared/api.ts). */
const PARAMETER_KEYS = ['description', 'style', 'explode'] as const;

/** Collects the schemas of all operations into one registry, each under an id; converts once. */
class SchemaSet {
  private readonly registry = z.registry<{ id: string }>();
  private readonly ids = new Map<z.ZodMiniType, string>();
  private counter = 0;

  constructor(named: Readonly<Record<string, z.ZodMiniType>>) {
    for (const [name, schema] of Object.entries(named)) this.add(schema, name);
  }

  /** A placeholder for the schema: its component `$ref` if named, else an inline marker resolved by `resolve`. */
  use(schema: z.ZodMiniType): Json {
    const existing = this.ids.get(schema);
    if (existing !== undefined) return { [MARK]: existing };
    return { [MARK]: this.add(schema, `__inline${this.counter++}`) };
  }

  private add(schema: z.ZodMiniType, id: string): string {
    const existing = this.ids.get(schema);
    if (existing !== undefined) {
      if (!existing.startsWith('__inline')) return existing;
    }
    this.ids.set(schema, id);
    this.registry.add(schema, { id });
    return id;
  }

  /** zod's conversion, as OpenAPI 3.0: named schemas as components, inline ones by id. */
  convert(): { components: Record<string, Json>; inline: Map<string, Json> } {
    const converted = z.toJSONSchema(this.registry, {
      target: 'openapi-3.0',
      io: 'input',
      unrepresentable: 'any',
      uri: (id) => `#/components/schemas/${id}`,
      override: (context) => {
        const shown = shownAs(context.zodSchema as unknown as z.ZodMiniType);
        if (shown === undefined) return;
        for (const key of Object.keys(context.jsonSchema)) delete (context.jsonSchema as Record<string, unknown>)[key];
        Object.assign(context.jsonSchema, shown);
      },
    }) as unknown as { schemas: Record<string, Json> };
    const { __shared: shared, ...byId } = converted.schemas;
    // zod shares a schema used in several places without a name of ours (a recursive one) as an
    // anonymous definition: every such schema gets a name in NAMED_SCHEMAS instead.
    const sharedDefinitions = Object.keys((shared as { definitions?: Record<string, Json> } | undefined)?.definitions ?? {});
    if (sharedDefinitions.length > 0) {
      throw new Error(`The OpenAPI document would share ${sharedDefinitions.join(', ')} without a name: add the schema to NAMED_SCHEMAS`);
    }
    const inlineIds = new Set([...this.ids.values()].filter((id) => id.startsWith('__inline')));
    const rewrite = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(rewrite);
      if (value === null || typeof value !== 'object') return value;
      const { nullable, allOf, ...rest } = value as Record<string, unknown>;
      if (nullable === true && !('type' in rest) && Array.isArray(allOf) && allOf.length === 1) {
        // zod writes a nullable reference as `nullable` beside `allOf: [$ref]`, but OpenAPI 3.0.3
        // gives `nullable` no effect without `type` (and validators refuse it): say "it, or null".
        return rewrite({ ...rest, anyOf: [allOf[0], { type: 'object', nullable: true, enum: [null] }] });
      }
      if (nullable === true && Array.isArray(rest.enum) && !rest.enum.includes(null)) {
        // OpenAPI 3.0.3: a value must also be in `enum`, so a nullable enum lists null itself
        // (zod writes `nullable` beside the values alone, which validators read as "never null").
        return rewrite({ ...(value as Record<string, unknown>), enum: [...rest.enum, null] });
      }
      return Object.fromEntries(
        Object.entries(value)
          .filter(([key]) => key !== '$id')
          .map(([key, inner]) => {
            if (key !== '$ref' || typeof inner !== 'string') return [key, rewrite(inner)];
            const id = /^#\/components\/schemas\/(.+)$/.exec(inner)?.[1];
            if (id !== undefined && inlineIds.has(id)) throw new Error(`An unnamed schema (${id}) is used inside another schema: name it in the service's schemas`);
            return [key, inner];
          }),
      );
    };
    const components: Record<string, Json> = {};
    const inline = new Map<string, Json>();
    for (const [id, schema] of Object.entries(byId)) {
      if (inlineIds.has(id)) inline.set(id, rewrite(schema) as Json);
      else components[id] = rewrite(schema) as Json;
    }
    return { components, inline };
  }
}

const MARK = '__schema';

/** Replaces every placeholder of `use` with the converted schema (inline) or its `$ref` (named). */
function resolvePlaceholders(value: unknown, inline: Map<string, Json>): unknown {
  if (Array.isArray(value)) return value.map((item) => resolvePlaceholders(item, inline));
  if (value === null || typeof value !== 'object') return value;
  const id = (value as Json)[MARK];
  if (typeof id === 'string') return inline.get(id) ?? { $ref: `#/components/schemas/${id}` };
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, resolvePlaceholders(inner, inline)]));
}

function contentOf(content: Content, schemas: SchemaSet): Json {
  return Object.fromEntries(
    Object.entries(content).map(([type, media]) => [
      type,
      { schema: schemas.use(media.schema), ...(media.examples ? { examples: media.examples } : {}) },
    ]),
  );
}

function responseOf(response: ResponseDeclaration, schemas: SchemaSet, withContent = true): Json {
  return {
    description: response.description,
    ...(response.headers ? { headers: Object.fromEntries(response.headers.map((name) => [headerName(name), { $ref: `#/components/headers/${name}` }])) } : {}),
    ...(response.content && withContent ? { content: contentOf(response.content, schemas) } : {}),
  };
}

const headerName = (name: string): string => HEADER_NAMES[name] ?? name;

/** One placeholder per parameter location; split into parameters once converted. */
function parametersOf(operation: OperationDeclaration, schemas: SchemaSet): { in: string; schema: Json }[] {
  const locations = [
    ['path', operation.path],
    ['query', operation.query],
    ['header', operation.headers],
  ] as const;
  return locations.flatMap(([location, object]) => (object ? [{ in: location, schema: schemas.use(object) }] : []));
}

function splitParameters(groups: { in: string; schema: Json }[]): Json[] {
  return groups.flatMap((group) => {
    const object = group.schema as { properties?: Record<string, Json>; required?: string[] };
    return Object.entries(object.properties ?? {}).map(([name, property]) => {
      const schema: Json = { ...property };
      const lifted: Json = {};
      for (const key of PARAMETER_KEYS) {
        if (key in schema) {
          lifted[key] = schema[key];
          delete schema[key];
        }
      }
      return { name, in: group.in, required: group.in === 'path' || (object.required ?? []).includes(name), ...lifted, schema };
    });
  });
}

/** API Gateway's own answers (`gateway`), or the operation's own when it has one for the same status too. */
function withGatewayResponses(responses: Record<string, Json>, gateway: Record<string, GatewayAnswer>): Record<string, Json> {
  const merged = { ...responses };
  for (const [status, answer] of Object.entries(gateway)) {
    const own = responses[status] as { description: string; content?: Record<string, { schema: Json }> } | undefined;
    const ownSchema = own?.content?.['application/json']?.schema;
    merged[status] = own
      ? {
          description: `${answer.description} (${answer.by}); or: ${own.description}`,
          content: { ...own.content, 'application/json': { schema: ownSchema ? { anyOf: [AUTHORIZER_MESSAGE, ownSchema] } : AUTHORIZER_MESSAGE } },
        }
      : { description: answer.description, content: { 'application/json': { schema: AUTHORIZER_MESSAGE } } };
  }
  return merged;
}

function securityOf(access: RouteAccess, requireAuthForReads: boolean): Json[] {
  if (access === 'open') return [];
  if (access === 'geoserver') return [{ geoserverBasic: [] }];
  return access === 'node' || requireAuthForReads ? [{ nodeToken: [] }] : [];
}

/** The whole document, for one setting of `requireAuthForReads`. */
export function buildOpenApiDocument(options: OpenApiOptions): Json {
  const schemas = new SchemaSet(NAMED_SCHEMAS);
  const pending: { path: string; method: string; operation: Json; parameters: { in: string; schema: Json }[]; secured: boolean }[] = [];
  const seen = new Set<string>();
  for (const manifest of options.manifests ?? servedManifests(options)) {
    for (const route of routesOf(manifest)) {
      const api = route.api;
      for (const { method: upper, operationId, body, headersOnly } of routeOperations(route, api.operationId)) {
        const method = upper.toLowerCase();
        const key = `${method} ${route.path}`;
        if (seen.has(key)) throw new Error(`Two manifests declare ${upper} ${route.path}`);
        seen.add(key);
        const security = securityOf(route.access, options.requireAuthForReads);
        const operation: Json = {
          operationId,
          summary: api.summary,
          ...(api.description ? { description: api.description } : {}),
          tags: [api.tag],
          ...(api.body && body ? { requestBody: { required: api.body.required, content: contentOf(api.body.content, schemas) } } : {}),
          responses: Object.fromEntries(
            // A HEAD answer is the GET's without its content (or a 405, for what only GET may do).
            [
              ...Object.entries(api.responses).map(([status, response]) => [status, responseOf(response as ResponseDeclaration, schemas, !headersOnly)]),
              ...(headersOnly && typeof route.head === 'object' ? [['405', { description: route.head.refused }]] : []),
            ],
          ),
          security,
        };
        // Only the cluster's authorizer answers 401 and 403 of its own (a GeoServer's Basic authentication is GeoServer's).
        const secured = security.some((requirement) => 'nodeToken' in requirement);
        pending.push({ path: route.path, method, operation, parameters: parametersOf(api, schemas), secured });
      }
    }
  }

  const { components, inline } = schemas.convert();
  for (const [name, description] of Object.entries(NAMED_DESCRIPTIONS)) {
    if (description !== undefined && components[name]) components[name] = { ...components[name], description };
  }
  const paths: Record<string, Record<string, Json>> = {};
  for (const { path, method, operation, parameters, secured } of pending) {
    const resolved = resolvePlaceholders(operation, inline) as Json;
    const resolvedParameters = splitParameters(resolvePlaceholders(parameters, inline) as { in: string; schema: Json }[]);
    const item = (paths[path] ??= {});
    item[method] = {
      ...resolved,
      ...(resolvedParameters.length > 0 ? { parameters: resolvedParameters } : {}),
      responses: withGatewayResponses(resolved.responses as Record<string, Json>, {
        ...(path.includes('{') ? MALFORMED_PATH_RESPONSES : {}),
        ...(secured ? AUTH_RESPONSES : {}),
      }),
    };
  }
  // Methods in a stable order within each path.
  const orderedPaths = Object.fromEntries(
    Object.entries(paths).map(([path, item]) => [
      path,
      Object.fromEntries(HTTP_METHODS.filter((method) => item[method]).map((method) => [method, item[method]])),
    ]),
  );

  const used = usedBy(pending.map(({ operation }) => operation));
  return {
    openapi: '3.0.3',
    info: {
      title: 'GeoServer cluster API',
      version: '1.0.0',
      description:
        'Cluster services for GeoServer-style nodes: the shared WPS execution status, written by nodes and polled by clients ' +
        'through WPS 1.0.0, WPS 2.0 and OGC API - Processes; and configuration sync, where master nodes publish catalog and ' +
        "configuration changes that every other node's store applies in one total order. " +
        (options.requireAuthForReads
          ? 'Every route but the CORS preflights and the console page needs a token: writes a node token; polls, client dismisses, listings and catalog reads a node or operator token.'
          : "Writes need a node token, and listings and catalog reads a node or operator token; polls and client dismisses are open to whoever knows the ids, as GeoServer's statusLocation URLs are.") +
        (used.tags.has('GeoServer REST gateway')
          ? " `/geoserver/rest/...` is the master GeoServer's REST API, authenticated by that GeoServer (cluster.gateway)."
          : ''),
    },
    servers: [{ url: options.serverUrl ?? SERVER_URL_PLACEHOLDER }],
    // Only what the operations use: a cluster without the gateway documents none of its tag, scheme or headers.
    tags: TAGS.filter((tag) => used.tags.has(tag.name)),
    paths: orderedPaths,
    components: {
      securitySchemes: pickKeys(SECURITY_SCHEMES, used.schemes),
      headers: pickKeys(HEADERS, used.headers),
      schemas: components,
    },
  };
}

/** The tags, security schemes and response headers the operations name. */
function usedBy(operations: readonly Json[]): { tags: Set<string>; schemes: Set<string>; headers: Set<string> } {
  const used = { tags: new Set<string>(), schemes: new Set<string>(), headers: new Set<string>() };
  for (const operation of operations) {
    for (const tag of operation.tags as string[]) used.tags.add(tag);
    for (const requirement of operation.security as Json[]) for (const scheme of Object.keys(requirement)) used.schemes.add(scheme);
    for (const response of Object.values(operation.responses as Record<string, Json>)) {
      for (const header of Object.values((response.headers ?? {}) as Record<string, { $ref: string }>)) used.headers.add(header.$ref.split('/').pop()!);
    }
  }
  return used;
}

function pickKeys(record: Record<string, Json>, keys: ReadonlySet<string>): Record<string, Json> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => keys.has(key)));
}
