import type { HttpApi, HttpMethod, IHttpRouteAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';

/** One route to one function; `authorizer` undefined leaves the route open. */
export function addLambdaRoute(
  api: HttpApi,
  path: string,
  method: HttpMethod,
  target: IFunction & { node: { id: string } },
  authorizer?: IHttpRouteAuthorizer,
): void {
  api.addRoutes({
    path,
    methods: [method],
    integration: new HttpLambdaIntegration(`${target.node.id}Integration`, target),
    authorizer,
  });
}

/** A statement allowing exactly these actions on exactly these resources. */
export function allow(actions: string[], resources: string[], conditions?: Record<string, unknown>): PolicyStatement {
  return new PolicyStatement({ actions, resources, conditions });
}
