/**
 * Lambda's limit on a function's environment (4 KB of its variables serialized as JSON, which is
 * how Lambda measures them: `{"NAME":"value",...}`, quotes, colons, commas and escapes included),
 * checked at synth on the cluster's template with its nested stacks inlined: lists that grow with
 * the cluster (the nodes and their roles, the pause switch's event source mappings) would
 * otherwise pass it unnoticed until CloudFormation's deployment of the function fails. A function
 * over it fails the synth, named with its size and the limit (a policy validation plugin, so
 * `cdk synth` reports it as it reports cdk-nag's findings).
 *
 * A value that CloudFormation fills in at deployment is counted at its longest: a pseudo
 * parameter as its longest value, an event source mapping's `Ref` as a UUID, any other reference
 * (a generated name or ARN) as REFERENCE_LENGTH.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { IPolicyValidationContextBeta1, IPolicyValidationPluginBeta1, PolicyValidationPluginReportBeta1, PolicyViolatingResourceBeta1 } from 'aws-cdk-lib';
import { flattenNestedStacks, type StackTemplate } from '../local/nested-stacks';

/** Lambda's environment variables per function, as the JSON of the variables map (AWS Lambda quotas). */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4 * 1024;
const UUID_LENGTH = 36;
/** At most, as CloudFormation would fill them in (region `ap-southeast-2`, suffix `amazonaws.com.cn`). */
const PSEUDO_LENGTHS: Record<string, number> = { 'AWS::Region': 14, 'AWS::AccountId': 12, 'AWS::URLSuffix': 16, 'AWS::Partition': 10 };
/** A generated name or ARN (CloudFormation's generated names stop well short of this). */
const REFERENCE_LENGTH = 160;

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

/** The bytes `text` takes inside a JSON string: a quote or backslash takes two, a control character its escape. */
function jsonStringBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text), 'utf8') - 2;
}

/**
 * The bytes a template value takes once deployed, at its longest, as the value of a JSON string
 * (escaped, without its quotes): how Lambda measures it. A reference CloudFormation fills in (a
 * generated name, an ARN, a UUID, a pseudo parameter) has nothing to escape; a literal, such as a
 * Fn::Join's parts around them (JSON text itself, for the node maps), is escaped.
 */
export function deployedLength(value: unknown, template: Template): number {
  if (typeof value === 'string') return jsonStringBytes(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value).length;
  if (value === null || typeof value !== 'object') return 0;
  const node = value as Record<string, unknown>;
  if ('Ref' in node) {
    const ref = String(node.Ref);
    if (ref in PSEUDO_LENGTHS) return PSEUDO_LENGTHS[ref]!;
    // An event source mapping's Ref is its UUID.
    return template.Resources[ref]?.Type === 'AWS::Lambda::EventSourceMapping' ? UUID_LENGTH : REFERENCE_LENGTH;
  }
  if ('Fn::GetAtt' in node) return REFERENCE_LENGTH;
  if ('Fn::Join' in node) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.reduce<number>((sum, part) => sum + deployedLength(part, template), 0) + jsonStringBytes(separator) * Math.max(0, parts.length - 1);
  }
  throw new Error(`No length estimate for ${JSON.stringify(value).slice(0, 200)}`);
}

/**
 * The size of a function's environment as Lambda measures it against its limit: the variables
 * map serialized as JSON (`{"NAME":"value",...}`), so the braces, each name's and value's quotes,
 * the colons, the commas and the escaping within values all count, each value at its longest.
 */
export function environmentBytes(variables: Record<string, unknown>, template: Template): number {
  const entries = Object.entries(variables).map(([name, value]) => jsonStringBytes(name) + deployedLength(value, template) + '"":""'.length);
  return '{}'.length + entries.reduce((sum, bytes) => sum + bytes, 0) + Math.max(0, entries.length - 1);
}

/** Each function of `template` with an environment, and that environment's size once deployed (environmentBytes). */
export function environmentSizes(template: Template): { id: string; bytes: number }[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .flatMap(([id, resource]) => {
      const variables = (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
      if (!variables) return [];
      return [{ id, bytes: environmentBytes(variables, template) }];
    });
}

/** Fails the synth for a function whose environment would pass LAMBDA_ENVIRONMENT_LIMIT_BYTES. */
export class LambdaEnvironmentLimit implements IPolicyValidationPluginBeta1 {
  readonly name = 'LambdaEnvironmentLimit';
  readonly ruleIds = ['LambdaEnvironment4KB'];

  validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    const violating: PolicyViolatingResourceBeta1[] = [];
    const sizes: string[] = [];
    // The stacks' own templates; a nested one is read inlined into its parent's.
    for (const templatePath of context.templatePaths.filter((file) => !file.endsWith('.nested.template.json'))) {
      const template = flattenNestedStacks(JSON.parse(readFileSync(templatePath, 'utf8')) as StackTemplate, path.dirname(templatePath)) as unknown as Template;
      for (const { id, bytes } of environmentSizes(template)) {
        if (bytes <= LAMBDA_ENVIRONMENT_LIMIT_BYTES) continue;
        violating.push({ resourceLogicalId: id, templatePath, locations: ['Properties/Environment/Variables'] });
        sizes.push(`${id}: ${bytes} bytes`);
      }
    }
    if (violating.length === 0) return { success: true, violations: [] };
    return {
      success: false,
      violations: [
        {
          ruleName: 'LambdaEnvironment4KB',
          description:
            `A function's environment would be larger than Lambda's ${LAMBDA_ENVIRONMENT_LIMIT_BYTES} bytes (4 KB, the variables as JSON; ` +
            `references counted at their longest), so CloudFormation could not deploy it: ${sizes.join(', ')}`,
          violatingResources: violating,
          fix:
            "Shorten the node names or split the nodes over more than one cluster (the node list and the pause switch's event source mappings grow by each node); " +
            'for the GeoServer gateway, list fewer addresses in cluster.gateway.allowedSourceIps (wider CIDR blocks).',
        },
      ],
    };
  }
}
