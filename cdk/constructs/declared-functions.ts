import { Validations } from 'aws-cdk-lib';
import { HttpMethod, type HttpApi, type IHttpRouteAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Rule, Schedule as EventSchedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { AuthorizedAccess, FunctionDeclaration, Grant, RouteAccess, ServiceManifest } from '../../lambdas/shared/manifest';
import { ClusterFunction, type ClusterFunctionProps } from './cluster-function';

/** Why a route of each access may have no authorizer (cdk-nag AwsSolutions-APIG4). */
const OPEN_ROUTE_REASONS: Readonly<Record<Exclude<RouteAccess, 'node'>, string>> = {
  open: 'Holds no data: the operator console page (static; it calls the API with the token its user enters) or a CORS preflight, which a browser sends without a token; never a write path.',
  read:
    'A read route, open unless cluster.status.requireAuthForReads is set: a poll or client dismiss of one execution by its id, which is an unguessable UUID (as GeoServer statusLocation URLs are), or the conformance and OpenAPI documents. Listings that hand out execution ids and node writes always have the authorizer.',
  geoserver:
    "The GeoServer REST gateway: the caller's HTTP Basic credentials go to the master GeoServer, whose security decides, and cluster.gateway.allowedSourceIps limits who may call; the cluster adds no other way in.",
};

/** How a service's construct resolves its manifest's names into this deployment's values. */
export interface ManifestBinding<Env extends string, Resource extends string, Scope extends string, Schedule extends string> {
  /** The value of an environment variable; `undefined` leaves it unset (an optional setting). */
  readonly environment: (name: Env) => string | undefined;
  /** The statements of one grant (ARNs of the named resource, narrowed by scope). */
  readonly grant: (grant: Grant<Resource, Scope>) => PolicyStatement[];
  /** The rate expression of a schedule setting. */
  readonly schedule?: (setting: Schedule) => string;
  /** Where routes go; a service without routes (the node authorizer) binds none. */
  readonly api?: HttpApi;
  /** The authorizer of each access; `open` and `geoserver` routes never have one. */
  readonly authorizers?: Readonly<Record<AuthorizedAccess, IHttpRouteAuthorizer | undefined>> & { readonly open?: undefined };
  /** Synth-built files a function reads beside its bundle (ClusterFunctionProps.bundledFiles), by function name. */
  readonly bundledFiles?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** One declared function: its bundle, environment, grants, routes and schedule. */
export function declaredFunction<Env extends string, Resource extends string, Scope extends string, Schedule extends string>(
  scope: Construct,
  id: string,
  declaration: FunctionDeclaration<Env, Resource, Scope, Schedule>,
  binding: ManifestBinding<Env, Resource, Scope, Schedule>,
  extra: Pick<ClusterFunctionProps, 'timeout' | 'memorySize'> & { readonly environment?: Record<string, string> } = {},
): ClusterFunction {
  const environment: Record<string, string> = {};
  for (const name of declaration.environment) {
    const value = binding.environment(name);
    if (value !== undefined) environment[name] = value;
  }
  const fn = new ClusterFunction(scope, id, {
    entry: declaration.entry,
    environment: { ...environment, ...extra.environment },
    timeout: extra.timeout,
    memorySize: extra.memorySize,
    bundledFiles: binding.bundledFiles?.[id],
  });
  for (const grant of declaration.grants) binding.grant(grant).forEach((statement) => fn.addToRolePolicy(statement));
  // One integration per function, shared by its routes (GET and POST /ows).
  let integration: HttpLambdaIntegration | undefined;
  for (const route of declaration.routes ?? []) {
    if (!binding.api || !binding.authorizers) throw new Error(`${id} declares routes, but its service binds no API`);
    integration ??= new HttpLambdaIntegration(`${id}Integration`, fn);
    const authorizer = route.access === 'open' || route.access === 'geoserver' ? undefined : binding.authorizers[route.access];
    if (route.access === 'node' && !authorizer) throw new Error(`${id}: ${route.method} ${route.path} is a node route, but its service binds no node authorizer`);
    // A GET route that answers HEAD too is a second route (API Gateway routes HEAD to no GET route).
    const methods = route.head ? [HttpMethod[route.method], HttpMethod.HEAD] : [HttpMethod[route.method]];
    const added = binding.api.addRoutes({ path: route.path, methods, integration, authorizer });
    // cdk-nag's finding for a route without an authorizer is acknowledged on that route alone,
    // with why its access leaves it open: a route added later is checked again.
    if (!authorizer) {
      for (const each of added) Validations.of(each.node.defaultChild ?? each).acknowledge({ id: 'AwsSolutions-APIG4', reason: OPEN_ROUTE_REASONS[route.access as Exclude<RouteAccess, 'node'>] });
    }
  }
  if (declaration.schedule) {
    if (!binding.schedule) throw new Error(`${id} declares a schedule, but its service binds none`);
    new Rule(scope, `${id}Schedule`, {
      description: declaration.schedule.description,
      schedule: EventSchedule.expression(binding.schedule(declaration.schedule.setting)),
      targets: [new LambdaFunction(fn)],
    });
  }
  return fn;
}

/** Every function of a manifest that needs no per-node copies, keyed by its name. */
export function declaredFunctions<Env extends string, Resource extends string, Scope extends string, Schedule extends string>(
  scope: Construct,
  manifest: ServiceManifest<Env, Resource, Scope, Schedule>,
  binding: ManifestBinding<Env, Resource, Scope, Schedule>,
): Record<string, ClusterFunction> {
  return Object.fromEntries(Object.entries(manifest).map(([name, declaration]) => [name, declaredFunction(scope, name, declaration, binding)]));
}
