/**
 * The composition root of the config-sync functions: cluster membership and adapters,
 * configured from the environment and validated at cold start. Each handler asks only for
 * what it uses, so a function never needs (or is granted) more than that.
 *
 * Environment:
 * - `CLUSTER_NAME`; `CLUSTER_NODES`: JSON object node name -> role (`master`, `slave`, `both`)
 * - `EVENT_LOG_TABLE_NAME`, `NODE_STORE_TABLE_NAME`
 * - `CONFIG_TOPIC_ARN` (SNS FIFO topic)
 * - `EVENT_BODY_BUCKET_NAME` (large event bodies and object properties)
 * - `NODE_QUEUES`: JSON object node -> `{ queueUrl, deadLetterQueueUrl }` for consuming nodes
 * - `NODE_NAME`: the node whose queue an apply function consumes
 * - Locally: `AWS_ENDPOINT_URL_<SERVICE>` and `AWS_S3_FORCE_PATH_STYLE=true`
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import { requireEnv } from '../../shared/env';
import type { ApplyDeps } from '../apply';
import { clusterMembershipSchema, consumingNodes, findNode, type ClusterMembership, type ClusterNode } from '../cluster';
import { fieldIssues } from '../events';
import { SignedFetch, endpointOverride } from './aws-fetch';
import { DynamoEventLog } from './dynamo-event-log';
import { DynamoNodeStore } from './dynamo-node-store';
import { S3Bucket, S3EventBodyStore, S3ObjectBodies } from './s3-body-store';
import { SnsEventTopic } from './sns-event-topic';
import { SqsQueueDepths, SqsRedrive, type NodeQueueMap, type QueuePair } from './sqs-queues';

/** The cluster's name and declared nodes (`CLUSTER_NAME`, `CLUSTER_NODES`). */
export function membershipFromEnv(): ClusterMembership {
  const cluster = requireEnv('CLUSTER_NAME');
  const roles = parseJsonEnv('CLUSTER_NODES', z.record(z.string(), z.string()));
  const result = z.safeParse(clusterMembershipSchema, {
    cluster,
    nodes: Object.entries(roles).map(([name, role]) => ({ name, role })),
  });
  if (!result.success) {
    const [issue] = fieldIssues(result.error);
    throw new Error(`Environment variables CLUSTER_NAME/CLUSTER_NODES are invalid: ${issue?.field ?? 'value'} ${issue?.message ?? 'is invalid'}`);
  }
  return result.data;
}

/** `NODE_NAME`, which must be a declared node. */
export function ownNodeFromEnv(membership: ClusterMembership): ClusterNode {
  const name = requireEnv('NODE_NAME');
  try {
    return findNode(membership, name);
  } catch {
    throw new Error(`Environment variable NODE_NAME names ${name}, which CLUSTER_NODES does not declare`);
  }
}

let dynamo: DynamoDBClient | undefined;

/** One DynamoDB client per function; its credentials and region also sign the S3 and SNS requests. */
function dynamoClient(): DynamoDBClient {
  dynamo ??= new DynamoDBClient({});
  return dynamo;
}

function signedFetch(service: string): SignedFetch {
  const { config } = dynamoClient();
  return new SignedFetch({ service, region: config.region, credentials: config.credentials });
}

let bucket: S3Bucket | undefined;

function bodyBucket(): S3Bucket {
  bucket ??= new S3Bucket(signedFetch('s3'), {
    bucket: requireEnv('EVENT_BODY_BUCKET_NAME'),
    region: dynamoClient().config.region,
    endpoint: endpointOverride('S3'),
    forcePathStyle: process.env.AWS_S3_FORCE_PATH_STYLE === 'true',
  });
  return bucket;
}

export function eventLogFromEnv(): DynamoEventLog {
  return new DynamoEventLog({ tableName: requireEnv('EVENT_LOG_TABLE_NAME'), client: dynamoClient() });
}

export function nodeStoreFromEnv(): DynamoNodeStore {
  return new DynamoNodeStore({
    tableName: requireEnv('NODE_STORE_TABLE_NAME'),
    client: dynamoClient(),
    bodies: new S3ObjectBodies(bodyBucket()),
  });
}

export function eventBodiesFromEnv(): S3EventBodyStore {
  return new S3EventBodyStore(bodyBucket());
}

/** What applying events to a store needs: the store, the log, the event bodies. */
export function applyDepsFromEnv(): ApplyDeps {
  return { store: nodeStoreFromEnv(), log: eventLogFromEnv(), bodies: eventBodiesFromEnv() };
}

export function eventTopicFromEnv(): SnsEventTopic {
  return new SnsEventTopic(signedFetch('sns'), { topicArn: requireEnv('CONFIG_TOPIC_ARN'), endpoint: endpointOverride('SNS') });
}

const queuePairSchema = z.strictObject({ queueUrl: z.string(), deadLetterQueueUrl: z.string() });

/** `NODE_QUEUES`: every consuming node must have its queues, and only declared nodes may. */
export function nodeQueuesFromEnv(membership: ClusterMembership): NodeQueueMap {
  const queues: Record<string, QueuePair> = parseJsonEnv('NODE_QUEUES', z.record(z.string(), queuePairSchema));
  for (const node of consumingNodes(membership)) {
    if (!Object.hasOwn(queues, node.name)) throw new Error(`Environment variable NODE_QUEUES has no queues for node ${node.name}`);
  }
  for (const name of Object.keys(queues)) {
    if (!membership.nodes.some((node) => node.name === name)) {
      throw new Error(`Environment variable NODE_QUEUES names ${name}, which CLUSTER_NODES does not declare`);
    }
  }
  return queues;
}

export function queueDepthsFromEnv(membership: ClusterMembership): SqsQueueDepths {
  return new SqsQueueDepths(nodeQueuesFromEnv(membership), signedFetch('sqs'));
}

/** The redrive needs no DynamoDB client: it uses the SDK's SQS client alone. */
export function redriveFromEnv(membership: ClusterMembership): SqsRedrive {
  return new SqsRedrive(nodeQueuesFromEnv(membership));
}

function parseJsonEnv<T extends z.ZodMiniType>(name: string, schema: T): z.infer<T> {
  const raw = requireEnv(name);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error(`Environment variable ${name} must be JSON, got '${raw}'`);
  }
  const result = z.safeParse(schema, value);
  if (!result.success) {
    const [issue] = fieldIssues(result.error);
    throw new Error(`Environment variable ${name} is invalid at ${issue?.field ?? 'value'}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}
