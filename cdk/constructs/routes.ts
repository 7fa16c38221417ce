import { PolicyStatement } from 'aws-cdk-lib/aws-iam';

/** A statement allowing exactly these actions on exactly these resources. */
export function allow(actions: string[], resources: string[], conditions?: Record<string, unknown>): PolicyStatement {
  return new PolicyStatement({ actions, resources, conditions });
}
