/**
 * The shape of a service manifest: what each function of a service is, declared once and read
 * by the CDK constructs (functions, routes, schedules, environment, IAM), by the OpenAPI
 * document (api/openapi.ts: every operation, its schemas and security) and, through the synthesized template, by the local runtime.
 * No CDK or AWS SDK imports: the functions' own code may import the manifest's constants.
 */
import type { OperationDeclaration } from './api';

/**
 * Who may call a route: `node` needs a node token; `read` is open unless the cluster sets
 * `requireAuthForReads`; `open` never has an authorizer (a page that holds no data);
 * `geoserver` has no authorizer of the cluster's either: the caller's HTTP Basic credentials are
 * passed to the master GeoServer, whose own security decides (the REST gateway).
 */
export type RouteAccess = 'node' | 'read' | 'open' | 'geoserver';
/** The accesses a cluster authorizer decides; the others have none. */
export type AuthorizedAccess = Exclude<RouteAccess, 'open' | 'geoserver'>;

export interface RouteDeclaration {
  /** `ANY`: every method (API Gateway's catch-all; the document has one operation per method). */
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'OPTIONS' | 'ANY';
  /** API Gateway path, parameters in braces: `/executions/{executionId}`. */
  readonly path: string;
  readonly access: RouteAccess;
  /** What the route takes and answers (lambdas/shared/api.ts): the OpenAPI document is built from it at synth. */
  readonly api: OperationDeclaration;
  /**
   * A GET route that answers HEAD too, as RFC 9110 (9.3.2) asks of a resource GET serves: the
   * same function, whose answer keeps the GET's status and headers and drops its body
   * (`answersHead` in lambdas/shared/http.ts). API Gateway routes no HEAD to a GET route. A
   * GET route that also changes state (a KVP Dismiss) names when its HEAD answers 405 instead.
   */
  readonly head?: true | { readonly refused: string };
  /**
   * Browsers on other origins may use this route (a poll): the polling functions add the CORS
   * headers, and the preflight function answers `OPTIONS` on its path for this method (and HEAD
   * where `head` is set). Write routes never set it (lambdas/shared/cors.ts).
   */
  readonly cors?: true;
}

/**
 * Per path, the methods browsers may use there, from the routes that set `cors`: the paths the
 * preflight function answers and what it answers on each.
 */
export function corsPaths(manifest: Readonly<Record<string, { readonly entry: string; readonly routes?: readonly RouteDeclaration[] }>>): Array<{ path: string; methods: string[] }> {
  const methods = new Map<string, string[]>();
  for (const declaration of Object.values(manifest)) {
    for (const route of declaration.routes ?? []) {
      if (!route.cors) continue;
      const own = methods.get(route.path) ?? [];
      methods.set(route.path, [...own, route.method, ...(route.head ? ['HEAD'] : [])]);
    }
  }
  return [...methods].map(([path, list]) => ({ path, methods: [...new Set(list)] }));
}

/**
 * One IAM grant, named by the service's own resources (`on`), which the service's construct
 * turns into ARNs; `scope` narrows per-node resources where the service has them.
 */
export interface Grant<Resource extends string, Scope extends string = never> {
  readonly on: Resource;
  readonly actions: readonly string[];
  readonly scope?: Scope;
}

export interface FunctionDeclaration<Env extends string, Resource extends string, Scope extends string = never, Schedule extends string = never> {
  /** Handler file relative to `lambdas/`. */
  readonly entry: string;
  /** Environment variables the function reads (names shared with the function side). */
  readonly environment: readonly Env[];
  readonly grants: readonly Grant<Resource, Scope>[];
  readonly routes?: readonly RouteDeclaration[];
  /** An EventBridge schedule: which cluster setting holds its rate, and what it does. */
  readonly schedule?: { readonly setting: Schedule; readonly description: string };
  /** Consumes SQS messages (config sync: each consuming node's queue). */
  readonly queueConsumer?: true;
  /**
   * Files built at synth that the function reads beside its bundle, by name (data that grows with
   * the cluster, too large for Lambda's 4 KB environment): the service's construct writes each.
   */
  readonly bundledFiles?: readonly string[];
}

export type ServiceManifest<Env extends string, Resource extends string, Scope extends string = never, Schedule extends string = never> = Readonly<
  Record<string, FunctionDeclaration<Env, Resource, Scope, Schedule>>
>;

/** Every route of a manifest, with the function that serves it. */
export function routesOf(manifest: ServiceManifest<string, string, string, string>): (RouteDeclaration & { readonly function: string })[] {
  return Object.entries(manifest).flatMap(([name, declaration]) => (declaration.routes ?? []).map((route) => ({ ...route, function: name })));
}
