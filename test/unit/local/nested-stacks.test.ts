import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { flattenNestedStacks, type StackTemplate } from '../../../local/nested-stacks';

let assemblyDir: string;
beforeEach(() => {
  assemblyDir = mkdtempSync(path.join(tmpdir(), 'sgc-nested-'));
});
afterEach(() => rmSync(assemblyDir, { recursive: true, force: true }));

const write = (file: string, template: StackTemplate) => writeFileSync(path.join(assemblyDir, file), JSON.stringify(template));

/** Two nodes' stacks of the same shape (the same logical ids inside), as CDK writes them. */
function nodeStack(): StackTemplate {
  return {
    Parameters: { TopicArnParam: { Type: 'String' }, TableArnParam: { Type: 'String' } },
    Resources: {
      Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'q.fifo' } },
      Subscription: {
        Type: 'AWS::SNS::Subscription',
        Properties: { TopicArn: { Ref: 'TopicArnParam' }, Endpoint: { 'Fn::GetAtt': ['Queue', 'Arn'] }, Protocol: 'sqs' },
        DependsOn: 'Queue',
      },
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: { Region: { Ref: 'AWS::Region' }, Table: { Ref: 'TableArnParam' } },
        Metadata: { 'aws:cdk:path': 'geo/ConfigSync/n/Apply/Resource' },
      },
    },
    Outputs: { QueueArnOut: { Value: { 'Fn::GetAtt': ['Queue', 'Arn'] } }, FnOut: { Value: { Ref: 'Fn' } } },
  };
}

describe('flattenNestedStacks', () => {
  it("inlines each nested stack under its logical id, with the parent's values for its parameters", () => {
    write('a.nested.template.json', nodeStack());
    write('b.nested.template.json', nodeStack());
    const nested = (file: string) => ({
      Type: 'AWS::CloudFormation::Stack',
      Properties: { Parameters: { TopicArnParam: { Ref: 'Topic' }, TableArnParam: { 'Fn::GetAtt': ['Table', 'Arn'] } } },
      Metadata: { 'aws:asset:path': file },
    });
    const flat = flattenNestedStacks(
      {
        Resources: {
          Topic: { Type: 'AWS::SNS::Topic' },
          Table: { Type: 'AWS::DynamoDB::Table' },
          NodeA: nested('a.nested.template.json'),
          NodeB: nested('b.nested.template.json'),
          Redrive: {
            Type: 'AWS::IAM::Policy',
            Properties: { Resources: [{ 'Fn::GetAtt': ['NodeA', 'Outputs.QueueArnOut'] }, { 'Fn::GetAtt': ['NodeB', 'Outputs.QueueArnOut'] }] },
            DependsOn: ['NodeA', 'Topic'],
          },
        },
        Outputs: { Apply: { Value: { 'Fn::GetAtt': ['NodeB', 'Outputs.FnOut'] } } },
      },
      assemblyDir,
    );
    expect(Object.keys(flat.Resources).sort()).toEqual(['NodeAFn', 'NodeAQueue', 'NodeASubscription', 'NodeBFn', 'NodeBQueue', 'NodeBSubscription', 'Redrive', 'Table', 'Topic']);
    expect(flat.Resources.NodeBSubscription).toEqual({
      Type: 'AWS::SNS::Subscription',
      Properties: { TopicArn: { Ref: 'Topic' }, Endpoint: { 'Fn::GetAtt': ['NodeBQueue', 'Arn'] }, Protocol: 'sqs' },
      DependsOn: ['NodeBQueue'],
    });
    // Pseudo parameters stay; metadata (the construct path) is kept as it is.
    expect(flat.Resources.NodeAFn!.Properties).toEqual({ Region: { Ref: 'AWS::Region' }, Table: { 'Fn::GetAtt': ['Table', 'Arn'] } });
    expect(flat.Resources.NodeAFn!.Metadata).toEqual({ 'aws:cdk:path': 'geo/ConfigSync/n/Apply/Resource' });
    // Outputs read in the parent become the nested values, renamed; a dependency on a nested stack goes.
    expect(flat.Resources.Redrive!.Properties!.Resources).toEqual([{ 'Fn::GetAtt': ['NodeAQueue', 'Arn'] }, { 'Fn::GetAtt': ['NodeBQueue', 'Arn'] }]);
    expect(flat.Resources.Redrive!.DependsOn).toEqual(['Topic']);
    expect(flat.Outputs!.Apply!.Value).toEqual({ Ref: 'NodeBFn' });
  });

  it("follows an output passed on as a sibling's parameter, and nested stacks inside nested stacks", () => {
    write('inner.nested.template.json', { Resources: { Deep: { Type: 'AWS::SQS::Queue' } }, Outputs: { DeepUrl: { Value: { Ref: 'Deep' } } } });
    write('first.nested.template.json', {
      Resources: { Inner: { Type: 'AWS::CloudFormation::Stack', Metadata: { 'aws:asset:path': 'inner.nested.template.json' } } },
      Outputs: { Url: { Value: { 'Fn::GetAtt': ['Inner', 'Outputs.DeepUrl'] } } },
    });
    write('second.nested.template.json', {
      Parameters: { UrlParam: { Type: 'String' } },
      Resources: { User: { Type: 'AWS::Lambda::Function', Properties: { Url: { Ref: 'UrlParam' } } } },
    });
    const flat = flattenNestedStacks(
      {
        Resources: {
          First: { Type: 'AWS::CloudFormation::Stack', Metadata: { 'aws:asset:path': 'first.nested.template.json' } },
          Second: {
            Type: 'AWS::CloudFormation::Stack',
            Properties: { Parameters: { UrlParam: { 'Fn::GetAtt': ['First', 'Outputs.Url'] } } },
            Metadata: { 'aws:asset:path': 'second.nested.template.json' },
          },
        },
      },
      assemblyDir,
    );
    expect(Object.keys(flat.Resources).sort()).toEqual(['FirstInnerDeep', 'SecondUser']);
    expect(flat.Resources.SecondUser!.Properties).toEqual({ Url: { Ref: 'FirstInnerDeep' } });
  });

  it('names what it cannot follow', () => {
    const stack = (metadata: Record<string, string>, parameters: Record<string, unknown> = {}): StackTemplate => ({
      Resources: { Node: { Type: 'AWS::CloudFormation::Stack', Properties: { Parameters: parameters as never }, Metadata: metadata } },
    });
    expect(() => flattenNestedStacks(stack({}), assemblyDir)).toThrow('Nested stack Node names no template in the cloud assembly (aws:asset:path)');
    write('n.nested.template.json', nodeStack());
    expect(() => flattenNestedStacks(stack({ 'aws:asset:path': 'n.nested.template.json' }, { TopicArnParam: 'arn' }), assemblyDir)).toThrow(
      'Nested stack Node is passed no value for its parameter TableArnParam',
    );
    expect(() =>
      flattenNestedStacks(
        {
          Resources: {
            ...stack({ 'aws:asset:path': 'n.nested.template.json' }, { TopicArnParam: 'arn', TableArnParam: 'arn' }).Resources,
            User: { Type: 'AWS::IAM::Policy', Properties: { Resource: { 'Fn::GetAtt': ['Node', 'Outputs.Missing'] } } },
          },
        },
        assemblyDir,
      ),
    ).toThrow('Nested stack Node has no output Missing');
  });
});
