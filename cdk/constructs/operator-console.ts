import { HttpMethod, type HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Construct } from 'constructs';
import { ClusterFunction } from './cluster-function';
import { addLambdaRoute } from './routes';

export interface OperatorConsoleProps {
  readonly api: HttpApi;
}

/**
 * GET /console: the operator console, a static page embedded in one small function (no data
 * access at all: the page calls the API itself with the operator's token). Open like the
 * polls it reads; every action it offers goes to a node-token route.
 */
export class OperatorConsole extends Construct {
  readonly function: ClusterFunction;

  constructor(scope: Construct, id: string, props: OperatorConsoleProps) {
    super(scope, id);
    this.function = new ClusterFunction(this, 'ServeConsole', { entry: 'console/handlers/serve-console.ts', memorySize: 128 });
    addLambdaRoute(props.api, '/console', HttpMethod.GET, this.function);
  }
}
