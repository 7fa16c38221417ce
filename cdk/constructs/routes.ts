import { PolicyStatement } from 'aws-cdk-lib/aws-iam';

/** A statement allowing exactly these actions on exactly these resources. */
export function allow(actions: string[], resources: string[], conditions?: Record<string, unknown>): PolicyStatement {
  return new PolicyStatement({ actions, resources, conditions });
}

/**
 * The most resources `allowEach` puts in one statement. CDK moves a role's statements into
 * managed policies (IAM: 6,144 characters each) once its inline policy would pass IAM's 10,240,
 * estimating each referenced ARN at 150 characters, but it cannot split a statement: one that
 * names a resource of every node (a queue, an event source mapping, an object prefix, at most
 * about 130 characters each once deployed) would outgrow a managed policy of its own at about 45
 * nodes. Eighteen take under half of one by CDK's estimate (two to a managed policy), and
 * under a third of one deployed.
 */
export const RESOURCES_PER_STATEMENT = 18;

/** `allow` for a list that grows with the cluster: the same grant, in statements of at most RESOURCES_PER_STATEMENT resources. */
export function allowEach(actions: string[], resources: string[], conditions?: Record<string, unknown>): PolicyStatement[] {
  const statements: PolicyStatement[] = [];
  for (let start = 0; start < resources.length; start += RESOURCES_PER_STATEMENT) {
    statements.push(allow(actions, resources.slice(start, start + RESOURCES_PER_STATEMENT), conditions));
  }
  return statements;
}
