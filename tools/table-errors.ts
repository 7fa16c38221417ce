/**
 * What the workstation tools (node-token, reindex-statuses) say when DynamoDB refuses them, in
 * the operator's terms: a table that is not there is named with the stack output that gives the
 * right one, and a missing region with the ways to give it. Anything else is the SDK's message.
 */
export function tableErrorText(error: unknown, table: string, output: string): string {
  const problem = error as { name?: string; message?: string };
  if (problem.name === 'ResourceNotFoundException') {
    return `no table '${table}' there: --table takes the stack output ${output} (cdk deploy prints it), and --region the stack's region`;
  }
  if (problem.message === 'Region is missing') {
    return 'no AWS region: pass --region (the stack\'s region) or set AWS_REGION';
  }
  return problem.message ?? String(error);
}
