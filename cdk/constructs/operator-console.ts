import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Construct } from 'constructs';
import { CONSOLE_MANIFEST } from '../../lambdas/console/manifest';
import type { ClusterFunction } from './cluster-function';
import { declaredFunction } from './declared-functions';

export interface OperatorConsoleProps {
  readonly api: HttpApi;
}

/**
 * GET /console (lambdas/console/manifest.ts): the operator console, a static page embedded in
 * one small function with no data access at all. Every action the page offers goes to an
 * authorized route with the token the operator entered.
 */
export class OperatorConsole extends Construct {
  readonly function: ClusterFunction;

  constructor(scope: Construct, id: string, props: OperatorConsoleProps) {
    super(scope, id);
    this.function = declaredFunction(this, 'ServeConsole', CONSOLE_MANIFEST.ServeConsole, {
      environment: () => undefined,
      grant: () => [],
      api: props.api,
      authorizers: { node: undefined, read: undefined, open: undefined },
    }, { memorySize: 128 });
  }
}
