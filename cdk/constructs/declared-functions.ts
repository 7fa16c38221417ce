import { HttpMethod, type HttpApi, type IHttpRouteAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Rule, Schedule as EventSchedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { AuthorizedAccess, FunctionDeclaration, Grant, ServiceManifest } from '../../lambdas/shared/manifest';
import { ClusterFunction, type ClusterFunctionProps } from './cluster-function';

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
    binding.api.addRoutes({ path: route.path, methods: [HttpMethod[route.method]], integration, authorizer });
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
