/**
 * One template out of a stack and its nested stacks (`AWS::CloudFormation::Stack` resources whose
 * templates CDK writes into the cloud assembly), for the readers of the synthesized template:
 * the local runtime (local/template.ts), the synth's environment-size check (cdk/environment-limit.ts)
 * and the CDK tests. CloudFormation itself deploys the
 * nested stacks; these readers only need what is in them and how the pieces refer to each other.
 *
 * Hand-written because no library does this: CDK reads templates per stack, and the
 * CloudFormation tooling on npm parses or validates templates without inlining nested ones.
 *
 * What flattening does, following CloudFormation's semantics:
 * - each nested resource is renamed `<nested stack's logical id><its logical id>` (two nested
 *   stacks of one kind use the same logical ids inside);
 * - a `Ref` to one of the nested template's parameters becomes the value the parent passes for
 *   it (`Properties.Parameters`);
 * - `Fn::GetAtt [<nested stack>, Outputs.<name>]` anywhere becomes that output's value.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Resource {
  Type: string;
  Properties?: Record<string, Json>;
  Metadata?: Record<string, Json>;
  DependsOn?: string | string[];
  [key: string]: unknown;
}
export interface StackTemplate {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, { Value: Json; [key: string]: unknown }>;
  Parameters?: Record<string, unknown>;
  [key: string]: unknown;
}

const NESTED_STACK = 'AWS::CloudFormation::Stack';
const OUTPUT_ATTRIBUTE = /^Outputs\.(.+)$/;

/** Maps every value of a JSON tree through `visit`, which may replace a node or leave it (undefined). */
function mapJson(value: Json, visit: (node: { [key: string]: Json }) => Json | undefined): Json {
  if (Array.isArray(value)) return value.map((item) => mapJson(item, visit));
  if (value === null || typeof value !== 'object') return value;
  const replaced = visit(value);
  if (replaced !== undefined) return replaced;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, mapJson(inner, visit)]));
}

/**
 * The stack's template with every nested stack (at any depth) inlined. `assemblyDir` is the
 * cloud assembly the template was read from; nested templates are found by their resource's
 * `aws:asset:path` metadata, which CDK writes when asset metadata is on (cdk/app.ts sets it).
 */
export function flattenNestedStacks(template: StackTemplate, assemblyDir: string): StackTemplate {
  const resources: Record<string, Resource> = {};
  /** Nested stack logical id -> output name -> its value, in the flattened template's names. */
  const outputs = new Map<string, Record<string, Json>>();

  for (const [stackId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== NESTED_STACK) {
      resources[stackId] = resource;
      continue;
    }
    const file = resource.Metadata?.['aws:asset:path'];
    if (typeof file !== 'string') throw new Error(`Nested stack ${stackId} names no template in the cloud assembly (aws:asset:path)`);
    const nested = flattenNestedStacks(JSON.parse(readFileSync(path.join(assemblyDir, file), 'utf8')) as StackTemplate, assemblyDir);
    const passed = (resource.Properties?.Parameters ?? {}) as Record<string, Json>;
    const inner = new Set(Object.keys(nested.Resources));
    const rename = (value: Json): Json =>
      mapJson(value, (node) => {
        if ('Ref' in node && typeof node.Ref === 'string') {
          if (inner.has(node.Ref)) return { Ref: `${stackId}${node.Ref}` };
          if (nested.Parameters && Object.hasOwn(nested.Parameters, node.Ref)) {
            if (!Object.hasOwn(passed, node.Ref)) throw new Error(`Nested stack ${stackId} is passed no value for its parameter ${node.Ref}`);
            return passed[node.Ref] as Json;
          }
          return undefined; // a pseudo parameter (AWS::Region, ...)
        }
        if ('Fn::GetAtt' in node && Array.isArray(node['Fn::GetAtt'])) {
          const [id, attribute] = node['Fn::GetAtt'] as [string, Json];
          if (inner.has(id)) return { 'Fn::GetAtt': [`${stackId}${id}`, rename(attribute)] };
        }
        return undefined;
      });
    for (const [id, nestedResource] of Object.entries(nested.Resources)) {
      const { Properties, DependsOn, ...rest } = nestedResource;
      resources[`${stackId}${id}`] = {
        ...rest,
        ...(Properties === undefined ? {} : { Properties: rename(Properties as Json) as Record<string, Json> }),
        ...(DependsOn === undefined ? {} : { DependsOn: [DependsOn].flat().map((dependency) => `${stackId}${dependency}`) }),
      };
    }
    outputs.set(stackId, Object.fromEntries(Object.entries(nested.Outputs ?? {}).map(([name, output]) => [name, rename(output.Value)])));
  }

  // Outputs of nested stacks, wherever referenced: in the parent, or passed as a parameter to a
  // sibling (whose value may itself be another nested stack's output).
  const resolveOutputs = (value: Json): Json =>
    mapJson(value, (node) => {
      if (!('Fn::GetAtt' in node) || !Array.isArray(node['Fn::GetAtt'])) return undefined;
      const [id, attribute] = node['Fn::GetAtt'] as [string, Json];
      const name = typeof attribute === 'string' ? OUTPUT_ATTRIBUTE.exec(attribute)?.[1] : undefined;
      const ofStack = outputs.get(id);
      if (!ofStack || name === undefined) return undefined;
      if (!Object.hasOwn(ofStack, name)) throw new Error(`Nested stack ${id} has no output ${name}`);
      return resolveOutputs(ofStack[name] as Json);
    });
  const flattened: Record<string, Resource> = {};
  for (const [id, resource] of Object.entries(resources)) {
    const dependsOn = resource.DependsOn === undefined ? undefined : [resource.DependsOn].flat().filter((dependency) => !outputs.has(dependency));
    flattened[id] = {
      ...resource,
      ...(resource.Properties === undefined ? {} : { Properties: resolveOutputs(resource.Properties as Json) as Record<string, Json> }),
      ...(dependsOn === undefined ? {} : { DependsOn: dependsOn }),
    };
  }
  const parentOutputs =
    template.Outputs && Object.fromEntries(Object.entries(template.Outputs).map(([name, output]) => [name, { ...output, Value: resolveOutputs(output.Value) }]));
  return { ...template, Resources: flattened, ...(parentOutputs ? { Outputs: parentOutputs } : {}) };
}
