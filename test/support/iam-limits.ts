/**
 * IAM's size quotas on a role's policies, checked on a synthesized template (nested stacks
 * inlined): what CloudFormation's deployment of a role or policy would be refused for. From the
 * IAM user guide ("IAM and AWS STS quotas"): a role's inline policies together at most 10,240
 * characters, a managed policy at most 6,144, and at most 10 managed policies attached to a role
 * (20 with a quota increase); whitespace does not count.
 *
 * CDK moves a role's statements into managed policies once its inline policy would pass the
 * first, estimating every reference as 150 characters; it cannot split a statement, so one
 * statement naming a resource of every node can outgrow a managed policy by itself.
 *
 * Each reference is counted at its longest once deployed (cdk/environment-limit.ts,
 * deployedLength), a queue's ARN by its name (the template names every queue) and a bucket's by
 * the longest name S3 takes.
 */
import { deployedLength } from '../../cdk/environment-limit';

export const IAM_MAX_ROLE_INLINE_POLICY_CHARS = 10_240;
export const IAM_MAX_MANAGED_POLICY_CHARS = 6_144;
export const IAM_MAX_MANAGED_POLICIES_PER_ROLE = 10;

type Template = { Resources: Record<string, { Type: string; Properties?: any }> };

/** `arn:<partition>:sqs:<region>:<account>:`, each pseudo parameter at its longest (as deployedLength counts them). */
const QUEUE_ARN_PREFIX_LENGTH = 'arn:'.length + 10 + ':sqs:'.length + 14 + ':'.length + 12 + ':'.length;
/** `arn:<partition>:s3:::<bucket>`, the partition and a generated bucket name at their longest (S3: 63 characters). */
const BUCKET_ARN_LENGTH = 'arn:'.length + 10 + ':s3:::'.length + 63;

function isIntrinsic(value: object): boolean {
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'));
}

/** The characters a deployed string value takes, references at their longest. */
function stringLength(value: unknown, template: Template): number {
  if (value !== null && typeof value === 'object' && 'Fn::GetAtt' in value) {
    const [id, attribute] = (value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
    const resource = template.Resources[id];
    if (attribute === 'Arn' && resource?.Type === 'AWS::SQS::Queue' && typeof resource.Properties?.QueueName === 'string') {
      return QUEUE_ARN_PREFIX_LENGTH + resource.Properties.QueueName.length;
    }
    if (attribute === 'Arn' && resource?.Type === 'AWS::S3::Bucket' && resource.Properties?.BucketName === undefined) return BUCKET_ARN_LENGTH;
  }
  if (value !== null && typeof value === 'object' && 'Fn::Join' in value) {
    const [separator, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    return parts.reduce<number>((sum, part) => sum + stringLength(part, template), 0) + separator.length * Math.max(0, parts.length - 1);
  }
  return deployedLength(value, template);
}

/** The characters of a policy document as IAM counts them: its JSON without whitespace, each reference at its longest. */
export function policyLength(document: unknown, template: Template): number {
  if (typeof document === 'string' || typeof document === 'number' || typeof document === 'boolean') return JSON.stringify(document).length;
  if (document === null || typeof document !== 'object') return 4;
  if (isIntrinsic(document)) return 2 + stringLength(document, template);
  if (Array.isArray(document)) return 2 + document.reduce<number>((sum, item) => sum + policyLength(item, template), 0) + Math.max(0, document.length - 1);
  const entries = Object.entries(document);
  return 2 + entries.reduce((sum, [key, value]) => sum + JSON.stringify(key).length + 1 + policyLength(value, template), 0) + Math.max(0, entries.length - 1);
}

/** Every role's policies that break IAM's size quotas once deployed, one line each (none: within them). */
export function iamPolicyProblems(template: Template): string[] {
  const problems: string[] = [];
  const inline = new Map<string, number>();
  const managed = new Map<string, number>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy' && resource.Type !== 'AWS::IAM::ManagedPolicy') continue;
    const length = policyLength(resource.Properties.PolicyDocument, template);
    const roles = ((resource.Properties.Roles ?? []) as { Ref?: string }[]).map((role) => role.Ref ?? JSON.stringify(role));
    if (resource.Type === 'AWS::IAM::ManagedPolicy') {
      if (length > IAM_MAX_MANAGED_POLICY_CHARS) problems.push(`${id}: a managed policy of ${length} characters, over ${IAM_MAX_MANAGED_POLICY_CHARS}`);
      for (const role of roles) managed.set(role, (managed.get(role) ?? 0) + 1);
    } else {
      for (const role of roles) inline.set(role, (inline.get(role) ?? 0) + length);
    }
  }
  for (const [role, length] of inline) {
    if (length > IAM_MAX_ROLE_INLINE_POLICY_CHARS) problems.push(`${role}: inline policies of ${length} characters, over ${IAM_MAX_ROLE_INLINE_POLICY_CHARS}`);
  }
  for (const [role, count] of managed) {
    if (count > IAM_MAX_MANAGED_POLICIES_PER_ROLE) problems.push(`${role}: ${count} managed policies, over ${IAM_MAX_MANAGED_POLICIES_PER_ROLE}`);
  }
  return problems;
}
