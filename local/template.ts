/**
 * Reads the synthesized CloudFormation template into what the local runtime serves: tables,
 * functions (with their bundled code and resolved environment), HTTP routes and their
 * authorizers, schedules, topics, queues, subscriptions and queue event sources. The stack is the
 * one source of truth: a resource added there is served here without touching local/.
 */
import * as path from 'node:path';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './account';
import type { PolicyStatement } from './iam';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Resource {
  Type: string;
  Properties?: Record<string, Json>;
  Metadata?: Record<string, Json>;
}
export interface CfnTemplate {
  Resources: Record<string, Resource>;
}

export interface LocalTable {
  logicalId: string;
  tableName: string;
  keySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  attributeDefinitions: { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
  globalSecondaryIndexes?: {
    IndexName: string;
    KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
    Projection: { ProjectionType?: 'ALL' | 'KEYS_ONLY' | 'INCLUDE'; NonKeyAttributes?: string[] };
  }[];
  ttlAttribute?: string;
}

export interface LocalFunction {
  logicalId: string;
  /** Readable name from the construct path, e.g. `Status/GetStatus`. */
  name: string;
  bundleFile: string;
  handlerExport: string;
  environment: Record<string, string>;
  timeoutMs: number;
  /** Its role's policy statements (inline and attached policies), resolved to local ARNs. */
  policy: PolicyStatement[];
}

export interface LocalRoute {
  method: string;
  /** Path template such as `/executions/{executionId}`, or `$default`. */
  path: string;
  functionId: string;
  authorizer?: LocalAuthorizer;
}

export interface LocalAuthorizer {
  functionId: string;
  /** e.g. `$request.header.Authorization` */
  identitySource: string[];
  cacheTtlSeconds: number;
}

export interface LocalSchedule {
  name: string;
  expression: string;
  functionIds: string[];
}

export interface LocalTopic {
  logicalId: string;
  topicName: string;
  fifo: boolean;
  contentBasedDeduplication: boolean;
}

export interface LocalQueue {
  logicalId: string;
  queueName: string;
  fifo: boolean;
  attributes: Record<string, string>;
  /** Logical id of the dead-letter queue, when one is configured. */
  deadLetterQueueId?: string;
  maxReceiveCount?: number;
}

export interface LocalSubscription {
  topicId: string;
  queueId: string;
  rawMessageDelivery: boolean;
  filterPolicy?: unknown;
}

export interface LocalQueueSource {
  /** The mapping's logical id, which is also its UUID locally (what its Ref resolves to). */
  logicalId: string;
  queueId: string;
  functionId: string;
  batchSize: number;
  reportBatchItemFailures: boolean;
}

export interface LocalBucket {
  logicalId: string;
  bucketName: string;
}

export interface LocalTopology {
  tables: LocalTable[];
  functions: Map<string, LocalFunction>;
  routes: LocalRoute[];
  schedules: LocalSchedule[];
  topics: LocalTopic[];
  queues: LocalQueue[];
  subscriptions: LocalSubscription[];
  queueSources: LocalQueueSource[];
  buckets: LocalBucket[];
}

export interface LocalEndpoints {
  /** Used to build queue URLs the way the SQS emulator names them. */
  queueUrl(queueName: string): string;
  /**
   * The value of a generated Secrets Manager secret (by logical id), where the template resolves
   * one at deploy time with a `{{resolve:secretsmanager:...}}` dynamic reference.
   */
  secretString(logicalId: string): string;
}

/** CloudFormation's dynamic reference to a whole secret string, as CDK's `secretValue` renders it. */
const SECRET_REFERENCE = /\{\{resolve:secretsmanager:([A-Za-z0-9]+):SecretString:::\}\}/g;

/** Physical names: logical ids are stable across synths, so persisted local data survives. */
function physicalName(logicalId: string, resource: Resource): string {
  const props = resource.Properties ?? {};
  switch (resource.Type) {
    case 'AWS::DynamoDB::Table':
      return typeof props.TableName === 'string' ? props.TableName : logicalId;
    case 'AWS::SQS::Queue':
      return typeof props.QueueName === 'string' ? props.QueueName : `${logicalId}${props.FifoQueue ? '.fifo' : ''}`;
    case 'AWS::SNS::Topic':
      return typeof props.TopicName === 'string' ? props.TopicName : `${logicalId}${props.FifoTopic ? '.fifo' : ''}`;
    case 'AWS::S3::Bucket':
      return typeof props.BucketName === 'string' ? props.BucketName : logicalId.toLowerCase();
    default:
      return logicalId;
  }
}

function arnOf(logicalId: string, resource: Resource): string {
  const name = physicalName(logicalId, resource);
  switch (resource.Type) {
    case 'AWS::DynamoDB::Table':
      return `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:table/${name}`;
    case 'AWS::SQS::Queue':
      return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${name}`;
    case 'AWS::SNS::Topic':
      return `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${name}`;
    case 'AWS::S3::Bucket':
      return `arn:aws:s3:::${name}`;
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${logicalId}`;
    default:
      return `arn:aws:local:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${logicalId}`;
  }
}

/** Resolves the intrinsic functions CDK emits for names, ARNs and URLs to local values. */
export function resolver(template: CfnTemplate, endpoints: LocalEndpoints) {
  const resources = template.Resources;
  const resolve = (value: Json): Json => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    if ('Ref' in value) {
      const id = value.Ref as string;
      if (id === 'AWS::Region') return LOCAL_REGION;
      if (id === 'AWS::AccountId') return LOCAL_ACCOUNT_ID;
      if (id === 'AWS::Partition') return 'aws';
      if (id === 'AWS::URLSuffix') return 'amazonaws.com';
      const resource = resources[id];
      if (!resource) return id;
      // SQS's Ref is the queue URL, SNS's the topic ARN; the rest return their name.
      if (resource.Type === 'AWS::SQS::Queue') return endpoints.queueUrl(physicalName(id, resource));
      if (resource.Type === 'AWS::SNS::Topic') return arnOf(id, resource);
      return physicalName(id, resource);
    }
    if ('Fn::GetAtt' in value) {
      const [id, attribute] = value['Fn::GetAtt'] as [string, string];
      const resource = resources[id];
      if (!resource) throw new Error(`Template references unknown resource ${id}`);
      if (attribute === 'Arn') return arnOf(id, resource);
      if (attribute === 'QueueName' || attribute === 'TopicName') return physicalName(id, resource);
      if (attribute === 'QueueUrl') return endpoints.queueUrl(physicalName(id, resource));
      return `${id}.${attribute}`;
    }
    if ('Fn::Join' in value) {
      const [separator, parts] = value['Fn::Join'] as [string, Json[]];
      return parts.map((part) => String(resolve(part))).join(separator);
    }
    if ('Fn::Select' in value) {
      const [index, list] = value['Fn::Select'] as [number, Json];
      return (resolve(list) as Json[])[Number(index)] ?? null;
    }
    if ('Fn::Split' in value) {
      const [separator, source] = value['Fn::Split'] as [string, Json];
      return String(resolve(source)).split(separator);
    }
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, resolve(inner)]));
  };
  return resolve;
}

const asList = (value: Json | undefined): Json[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** A statement's `Condition` block with every value as a list of strings, as IAM reads it. */
function conditionOf(condition: Json): PolicyStatement['condition'] {
  return Object.fromEntries(
    Object.entries((condition ?? {}) as Record<string, Record<string, Json>>).map(([operator, keys]) => [
      operator,
      Object.fromEntries(Object.entries(keys).map(([key, values]) => [key, asList(values).map(String)])),
    ]),
  );
}

/** The statements of every policy a role has: its inline policies and the policy resources (inline and managed) attached to it. */
function rolePolicy(template: CfnTemplate, roleId: string | undefined, resolve: (value: Json) => Json): PolicyStatement[] {
  if (roleId === undefined) return [];
  const documents: Json[] = [];
  const role = template.Resources[roleId];
  for (const inline of asList(role?.Properties?.Policies)) documents.push((inline as { PolicyDocument?: Json }).PolicyDocument ?? null);
  for (const resource of Object.values(template.Resources)) {
    // CDK adds AWS::IAM::ManagedPolicy resources when a role's statements outgrow its inline policy.
    if (resource.Type !== 'AWS::IAM::Policy' && resource.Type !== 'AWS::IAM::ManagedPolicy') continue;
    const roles = asList(resource.Properties?.Roles).map((ref) => referencedResource(ref));
    if (roles.includes(roleId)) documents.push(resource.Properties?.PolicyDocument ?? null);
  }
  return documents.flatMap((document) =>
    asList((document as { Statement?: Json } | null)?.Statement).flatMap((statement) => {
      const s = statement as { Effect?: string; Action?: Json; Resource?: Json; Condition?: Json };
      // NotAction / NotResource statements are not used by this stack; skipping one can only deny.
      if (s.Action === undefined || s.Resource === undefined) return [];
      return [
        {
          effect: s.Effect === 'Deny' ? ('Deny' as const) : ('Allow' as const),
          actions: asList(s.Action).map(String),
          resources: asList(resolve(s.Resource)).map(String),
          ...(s.Condition ? { condition: conditionOf(resolve(s.Condition)) } : {}),
        },
      ];
    }),
  );
}

/** The logical id of the first `Fn::GetAtt [X, 'Arn']` of a function inside a value. */
function referencedFunction(template: CfnTemplate, value: Json): string | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = referencedFunction(template, item);
      if (found) return found;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  if ('Fn::GetAtt' in value) {
    const [id] = value['Fn::GetAtt'] as [string, string];
    return template.Resources[id]?.Type === 'AWS::Lambda::Function' ? id : undefined;
  }
  if ('Ref' in value) {
    const id = value.Ref as string;
    return template.Resources[id]?.Type === 'AWS::Lambda::Function' ? id : undefined;
  }
  for (const inner of Object.values(value)) {
    const found = referencedFunction(template, inner);
    if (found) return found;
  }
  return undefined;
}

function referencedResource(value: Json | undefined): string | undefined {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    if ('Ref' in value) return value.Ref as string;
    if ('Fn::GetAtt' in value) return (value['Fn::GetAtt'] as [string, string])[0];
  }
  return undefined;
}

function constructName(resource: Resource, fallback: string): string {
  const cdkPath = resource.Metadata?.['aws:cdk:path'];
  if (typeof cdkPath !== 'string') return fallback;
  // `stack/Status/GetStatus/Resource` -> `Status/GetStatus`
  return cdkPath.split('/').slice(1, -1).join('/') || fallback;
}

export function readTopology(template: CfnTemplate, assemblyDir: string, endpoints: LocalEndpoints): LocalTopology {
  const resolve = resolver(template, endpoints);
  const entries = Object.entries(template.Resources);
  const ofType = (type: string) => entries.filter(([, resource]) => resource.Type === type);
  const props = (resource: Resource) => resource.Properties ?? {};

  const tables: LocalTable[] = ofType('AWS::DynamoDB::Table').map(([id, resource]) => {
    const p = props(resource);
    const ttl = p.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
    return {
      logicalId: id,
      tableName: physicalName(id, resource),
      keySchema: p.KeySchema as unknown as LocalTable['keySchema'],
      attributeDefinitions: p.AttributeDefinitions as unknown as LocalTable['attributeDefinitions'],
      globalSecondaryIndexes: p.GlobalSecondaryIndexes as unknown as LocalTable['globalSecondaryIndexes'],
      ttlAttribute: ttl?.Enabled ? ttl.AttributeName : undefined,
    };
  });

  const functions = new Map<string, LocalFunction>();
  for (const [id, resource] of ofType('AWS::Lambda::Function')) {
    const assetPath = resource.Metadata?.['aws:asset:path'];
    if (typeof assetPath !== 'string') continue; // not one of our bundled functions
    const p = props(resource);
    const [file, handlerExport] = String(p.Handler ?? 'index.handler').split(/\.(?=[^.]+$)/) as [string, string];
    const variables = ((p.Environment as { Variables?: Json } | undefined)?.Variables ?? {}) as Json;
    functions.set(id, {
      logicalId: id,
      name: constructName(resource, id),
      bundleFile: path.join(assemblyDir, assetPath, `${file}.js`),
      handlerExport,
      environment: Object.fromEntries(
        Object.entries(resolve(variables) as Record<string, Json>).map(([key, value]) => [
          key,
          // What CloudFormation does on deploy: the secret's value in place of the reference.
          String(value).replace(SECRET_REFERENCE, (reference, secretId: string) => {
            if (template.Resources[secretId]?.Type !== 'AWS::SecretsManager::Secret') {
              throw new Error(`Function ${id} refers to ${reference}, which is no secret of the template`);
            }
            return endpoints.secretString(secretId);
          }),
        ]),
      ),
      timeoutMs: Number(p.Timeout ?? 3) * 1000,
      policy: rolePolicy(template, referencedResource(p.Role), resolve),
    });
  }

  const authorizers = new Map<string, LocalAuthorizer>();
  for (const [id, resource] of ofType('AWS::ApiGatewayV2::Authorizer')) {
    const p = props(resource);
    const functionId = referencedFunction(template, p.AuthorizerUri ?? null);
    if (!functionId) continue;
    authorizers.set(id, {
      functionId,
      identitySource: (p.IdentitySource as string[] | undefined) ?? [],
      cacheTtlSeconds: Number(p.AuthorizerResultTtlInSeconds ?? 0),
    });
  }
  const integrations = new Map<string, string>();
  for (const [id, resource] of ofType('AWS::ApiGatewayV2::Integration')) {
    const functionId = referencedFunction(template, props(resource).IntegrationUri ?? null);
    if (functionId) integrations.set(id, functionId);
  }
  const routes: LocalRoute[] = [];
  for (const [, resource] of ofType('AWS::ApiGatewayV2::Route')) {
    const p = props(resource);
    const integrationId = JSON.stringify(p.Target ?? '').match(/"Ref":"([^"]+)"/)?.[1];
    const functionId = integrationId ? integrations.get(integrationId) : undefined;
    if (!functionId) continue;
    const routeKey = String(p.RouteKey);
    const [method, routePath] = routeKey === '$default' ? ['ANY', '$default'] : (routeKey.split(' ') as [string, string]);
    let authorizer: LocalAuthorizer | undefined;
    if (p.AuthorizationType === 'CUSTOM') {
      // Never fail open: a route the template protects is not served without its authorizer.
      const authorizerId = referencedResource(p.AuthorizerId);
      authorizer = authorizerId ? authorizers.get(authorizerId) : undefined;
      if (!authorizer) throw new Error(`Route ${routeKey} needs an authorizer the local runtime cannot resolve`);
    } else if (p.AuthorizationType !== undefined && p.AuthorizationType !== 'NONE') {
      throw new Error(`Route ${routeKey} uses ${String(p.AuthorizationType)} authorization, which the local runtime does not serve`);
    }
    routes.push({ method, path: routePath, functionId, authorizer });
  }

  const schedules: LocalSchedule[] = ofType('AWS::Events::Rule')
    .filter(([, resource]) => typeof props(resource).ScheduleExpression === 'string' && props(resource).State !== 'DISABLED')
    .map(([id, resource]) => ({
      name: constructName(resource, id).split('/').pop() ?? id,
      expression: String(props(resource).ScheduleExpression),
      functionIds: ((props(resource).Targets as Json[] | undefined) ?? [])
        .map((target) => referencedFunction(template, target))
        .filter((functionId): functionId is string => functionId !== undefined),
    }));

  const topics: LocalTopic[] = ofType('AWS::SNS::Topic').map(([id, resource]) => ({
    logicalId: id,
    topicName: physicalName(id, resource),
    fifo: props(resource).FifoTopic === true,
    contentBasedDeduplication: props(resource).ContentBasedDeduplication === true,
  }));

  const queues: LocalQueue[] = ofType('AWS::SQS::Queue').map(([id, resource]) => {
    const p = props(resource);
    const redrive = p.RedrivePolicy as { deadLetterTargetArn?: Json; maxReceiveCount?: number } | undefined;
    const attributes: Record<string, string> = {};
    for (const [key, attribute] of [
      ['MessageRetentionPeriod', 'MessageRetentionPeriod'],
      ['VisibilityTimeout', 'VisibilityTimeout'],
      ['ContentBasedDeduplication', 'ContentBasedDeduplication'],
      ['FifoQueue', 'FifoQueue'],
      ['DeduplicationScope', 'DeduplicationScope'],
      ['FifoThroughputLimit', 'FifoThroughputLimit'],
    ] as const) {
      if (p[key] !== undefined) attributes[attribute] = String(p[key]);
    }
    return {
      logicalId: id,
      queueName: physicalName(id, resource),
      fifo: p.FifoQueue === true,
      attributes,
      deadLetterQueueId: referencedResource(redrive?.deadLetterTargetArn),
      maxReceiveCount: redrive?.maxReceiveCount,
    };
  });

  const subscriptions: LocalSubscription[] = ofType('AWS::SNS::Subscription')
    .filter(([, resource]) => props(resource).Protocol === 'sqs')
    .map(([, resource]) => {
      const p = props(resource);
      return {
        topicId: referencedResource(p.TopicArn) ?? '',
        queueId: referencedResource(p.Endpoint) ?? '',
        rawMessageDelivery: p.RawMessageDelivery === true,
        filterPolicy: p.FilterPolicy,
      };
    });

  const queueSources: LocalQueueSource[] = ofType('AWS::Lambda::EventSourceMapping')
    .map(([logicalId, resource]) => {
      const p = props(resource);
      return {
        logicalId,
        queueId: referencedResource(p.EventSourceArn) ?? '',
        functionId: referencedResource(p.FunctionName) ?? '',
        batchSize: Number(p.BatchSize ?? 10),
        reportBatchItemFailures: ((p.FunctionResponseTypes as string[] | undefined) ?? []).includes('ReportBatchItemFailures'),
      };
    })
    .filter((source) => template.Resources[source.queueId]?.Type === 'AWS::SQS::Queue');

  const buckets: LocalBucket[] = ofType('AWS::S3::Bucket').map(([id, resource]) => ({
    logicalId: id,
    bucketName: physicalName(id, resource),
  }));

  return { tables, functions, routes, schedules, topics, queues, subscriptions, queueSources, buckets };
}
