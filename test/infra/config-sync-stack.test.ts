/**
 * Configuration sync in the synthesized stack (cdk/constructs/config-sync-service.ts): the
 * virtual topic (an SNS FIFO topic fanned out to one durable SQS FIFO queue per consuming
 * node, each with its dead-letter queue and filter policy), the apply function per node and
 * what each function may do, the storage, the routes, and what adding a node changes.
 *
 * The cluster here has every role: a pure master (no queue), a `both` node and two slaves.
 */
import { readFileSync } from 'node:fs';
import { VOID_ITEM_ATTRIBUTES } from '../../lambdas/config-sync/tables';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { OBSERVABILITY_ENV } from '../../cdk/constructs/cluster-function';
import { CONFIG_SYNC_MANIFEST, GEOSERVER_GATEWAY } from '../../lambdas/config-sync/manifest';
import { nodeEventSourcesFromValue } from '../../lambdas/config-sync/node-event-sources';
import { routesOf } from '../../lambdas/shared/manifest';
import { XRAY_ACTIONS, actionsOfStatement, functionId, logicalIdsOf, statementsOf, synthesize, type Synthesized } from '../support/synth';

const CLUSTER: string = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context.cluster.name;
const NODES = [
  { name: 'master-a', role: 'master' },
  { name: 'hub', role: 'both' },
  { name: 'edge-1', role: 'slave' },
  { name: 'edge-2', role: 'slave' },
];
const CONSUMERS = ['hub', 'edge-1', 'edge-2'];
const PUBLISHERS = ['master-a', 'hub'];
const PURE_MASTERS = ['master-a'];
const ADDED = { name: 'edge-3', role: 'slave' };

const RETENTION_SECONDS = 14 * 24 * 3600;
const MAX_RECEIVE_COUNT = 5;
/** The event log grant of a function that may only close holes: void items of the cluster's own log partition. */
const VOIDS_ONLY = { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...VOID_ITEM_ATTRIBUTES], 'dynamodb:LeadingKeys': [CLUSTER] } };

let synth: Synthesized;
let grown: Synthesized;
beforeAll(() => {
  synth = synthesize({ nodes: NODES });
  grown = synthesize({ nodes: [...NODES, ADDED] });
});

type Json = Synthesized['json'];
type Statement = ReturnType<typeof statementsOf>[number];

const arnOf = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

function queueNamed(json: Json, queueName: string): string | undefined {
  const ids = logicalIdsOf(json, 'AWS::SQS::Queue').filter((id) => json.Resources[id]!.Properties.QueueName === queueName);
  if (ids.length > 1) throw new Error(`${ids.length} queues are named ${queueName}`);
  return ids[0];
}
const queueOf = (json: Json, node: string) => queueNamed(json, `${CLUSTER}-${node}.fifo`);
const dlqOf = (json: Json, node: string) => queueNamed(json, `${CLUSTER}-${node}-dlq.fifo`);
const must = (id: string | undefined, what: string): string => {
  if (id === undefined) throw new Error(`No ${what} in the template`);
  return id;
};

/** Apply functions by the node they serve (their NODE_NAME). */
function applyFunctions(json: Json): Record<string, string> {
  const byNode: Record<string, string> = {};
  for (const id of logicalIdsOf(json, 'AWS::Lambda::Function')) {
    const node = json.Resources[id]!.Properties.Environment?.Variables?.NODE_NAME;
    if (node === undefined) continue;
    if (byNode[node]) throw new Error(`Two functions apply node ${node}`);
    byNode[node] = id;
  }
  return byNode;
}
const applyOf = (json: Json, node: string) => must(applyFunctions(json)[node], `apply function of ${node}`);

/** The configuration topic (the other topic of the stack is the alarm topic, test/infra/monitoring.test.ts). */
function topicId(json: Json): string {
  const topics = logicalIdsOf(json, 'AWS::SNS::Topic').filter((id) => id.startsWith('ConfigSync'));
  expect(topics).toHaveLength(1);
  return topics[0]!;
}
const tableId = (json: Json, name: 'EventLog' | 'NodeStore') =>
  must(logicalIdsOf(json, 'AWS::DynamoDB::Table').find((id) => id.startsWith(`ConfigSync${name}`)), `${name} table`);
const bucketId = (json: Json) =>
  must(logicalIdsOf(json, 'AWS::S3::Bucket').find((id) => id.startsWith('ConfigSyncEventBodies')), 'event body bucket');

/** Statements of a function's role that touch a resource (by logical id). */
const statementsOn = (json: Json, fn: string, resourceId: string) =>
  statementsOf(json, fn).filter((statement) => JSON.stringify(statement.Resource).includes(`"${resourceId}"`));

/** The key patterns an S3 statement grants in the event body bucket, e.g. `objects/hub/*`. */
function bucketKeys(json: Json, statement: Statement): string[] {
  const bucket = bucketId(json);
  return asArray(statement.Resource as unknown).map((resource) => {
    const parts = (resource as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join']?.[1];
    if (!parts || JSON.stringify(parts[0]) !== JSON.stringify(arnOf(bucket)) || typeof parts[1] !== 'string') {
      throw new Error(`Unexpected S3 resource ${JSON.stringify(resource)}`);
    }
    return parts[1].replace(/^\//, '');
  });
}
const s3Statements = (json: Json, fn: string) => statementsOf(json, fn).filter((s) => actionsOfStatement(s).some((a) => a.startsWith('s3:')));
const S3_WRITES = ['s3:PutObject', 's3:DeleteObject'];

/** The node-store statements of a function: each must name the nodes whose items it may touch. */
function storeNodesOf(json: Json, fn: string): string[][] {
  return statementsOn(json, fn, tableId(json, 'NodeStore')).map((statement) => {
    expect(Object.keys(statement.Condition ?? {})).toEqual(['ForAllValues:StringEquals']);
    expect(Object.keys(statement.Condition!['ForAllValues:StringEquals']!)).toEqual(['dynamodb:LeadingKeys']);
    return statement.Condition!['ForAllValues:StringEquals']!['dynamodb:LeadingKeys'] as string[];
  });
}

/** The keys of a policy resource (queue or topic policy) that applies to the resource. */
function policiesOf(json: Json, type: 'AWS::SQS::QueuePolicy' | 'AWS::SNS::TopicPolicy', resourceId: string): Statement[] {
  const listKey = type === 'AWS::SQS::QueuePolicy' ? 'Queues' : 'Topics';
  return logicalIdsOf(json, type)
    .map((id) => json.Resources[id]!.Properties)
    .filter((properties) => (properties[listKey] as unknown[]).some((entry) => JSON.stringify(entry) === JSON.stringify({ Ref: resourceId })))
    .flatMap((properties) => properties.PolicyDocument.Statement);
}

function routeOf(json: Json, routeKey: string) {
  return Object.values(json.Resources).find((r) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties.RouteKey === routeKey)?.Properties;
}

/** The logical id of the function a route's integration invokes. */
function targetFunction(json: Json, routeKey: string): string | undefined {
  const integrationId = JSON.stringify(routeOf(json, routeKey)?.Target ?? '').match(/"Ref":"([^"]+)"/)?.[1];
  return integrationId ? json.Resources[integrationId]?.Properties?.IntegrationUri?.['Fn::GetAtt']?.[0] : undefined;
}

describe('per-node queues (the virtual topic)', () => {
  it('one FIFO queue and one FIFO dead-letter queue per consuming node, none for a pure master', () => {
    for (const node of CONSUMERS) {
      for (const id of [must(queueOf(synth.json, node), `queue of ${node}`), must(dlqOf(synth.json, node), `DLQ of ${node}`)]) {
        expect(synth.json.Resources[id]!.Properties).toMatchObject({ FifoQueue: true });
      }
    }
    // Besides them, the pure masters' stores' pair (below).
    expect(logicalIdsOf(synth.json, 'AWS::SQS::Queue')).toHaveLength(2 * CONSUMERS.length + 2);
    for (const master of PURE_MASTERS) {
      const names = logicalIdsOf(synth.json, 'AWS::SQS::Queue').map((id) => String(synth.json.Resources[id]!.Properties.QueueName));
      expect(names.filter((name) => name.includes(master))).toEqual([]);
    }
  });

  it('keeps messages 14 days in every queue and dead-letter queue, the SQS maximum', () => {
    for (const id of logicalIdsOf(synth.json, 'AWS::SQS::Queue')) {
      expect(synth.json.Resources[id]!.Properties.MessageRetentionPeriod).toBe(RETENTION_SECONDS);
    }
  });

  it("moves an event to the node's own dead-letter queue after 5 receives", () => {
    for (const node of CONSUMERS) {
      const queue = synth.json.Resources[must(queueOf(synth.json, node), node)]!.Properties;
      expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: arnOf(must(dlqOf(synth.json, node), node)), maxReceiveCount: MAX_RECEIVE_COUNT });
      expect(synth.json.Resources[must(dlqOf(synth.json, node), node)]!.Properties.RedrivePolicy).toBeUndefined();
    }
  });

  it('encrypts every queue (SSE-SQS)', () => {
    for (const id of logicalIdsOf(synth.json, 'AWS::SQS::Queue')) {
      expect(synth.json.Resources[id]!.Properties).toMatchObject({ SqsManagedSseEnabled: true });
    }
  });

  it('dedups by the id the publisher derives from the sequence, not by content', () => {
    for (const node of CONSUMERS) {
      expect(synth.json.Resources[must(queueOf(synth.json, node), node)]!.Properties.ContentBasedDeduplication).toBe(false);
    }
  });

  it("hides a message for at least six times the apply function's timeout", () => {
    for (const node of CONSUMERS) {
      const visibility = synth.json.Resources[must(queueOf(synth.json, node), node)]!.Properties.VisibilityTimeout as number;
      const timeout = synth.json.Resources[applyOf(synth.json, node)]!.Properties.Timeout as number;
      expect(visibility).toBeGreaterThanOrEqual(6 * timeout);
    }
  });

  it('every queue is TLS-only; only the topic may send to a node queue, and nobody to a dead-letter queue', () => {
    const topic = topicId(synth.json);
    for (const id of logicalIdsOf(synth.json, 'AWS::SQS::Queue')) {
      const statements = policiesOf(synth.json, 'AWS::SQS::QueuePolicy', id);
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 'sqs:*',
          Principal: { AWS: '*' },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Resource: arnOf(id),
        }),
      );
      const allows = statements.filter((statement) => statement.Effect === 'Allow');
      const isDeadLetter = String(synth.json.Resources[id]!.Properties.QueueName).endsWith('-dlq.fifo');
      expect(allows).toEqual(
        isDeadLetter
          ? []
          : [
              expect.objectContaining({
                Action: 'sqs:SendMessage',
                Principal: { Service: 'sns.amazonaws.com' },
                Condition: { ArnEquals: { 'aws:SourceArn': { Ref: topic } } },
                Resource: arnOf(id),
              }),
            ],
      );
    }
  });
});

describe('the topic and its subscriptions', () => {
  it('is one SNS FIFO topic per cluster, encrypted with KMS, deduplicated by explicit ids', () => {
    const topic = synth.json.Resources[topicId(synth.json)]!.Properties;
    expect(topic).toMatchObject({ FifoTopic: true, ContentBasedDeduplication: false, TopicName: `${CLUSTER}-config-changes.fifo` });
    expect(JSON.stringify(topic.KmsMasterKeyId)).toContain('alias/aws/sns');
  });

  it('is TLS-only', () => {
    const statements = policiesOf(synth.json, 'AWS::SNS::TopicPolicy', topicId(synth.json));
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        Resource: { Ref: topicId(synth.json) },
      }),
    );
  });

  it("subscribes each consuming node's queue to every event (a both node's own too) with raw delivery", () => {
    const topic = topicId(synth.json);
    const subscriptions = logicalIdsOf(synth.json, 'AWS::SNS::Subscription').map((id) => synth.json.Resources[id]!.Properties);
    // And the pure masters' stores' queue (below).
    expect(subscriptions).toHaveLength(CONSUMERS.length + 1);
    for (const node of CONSUMERS) {
      const queue = must(queueOf(synth.json, node), node);
      const own = subscriptions.filter((s) => JSON.stringify(s.Endpoint) === JSON.stringify(arnOf(queue)));
      expect(own).toHaveLength(1);
      expect(own[0]).toMatchObject({ Protocol: 'sqs', TopicArn: { Ref: topic }, RawMessageDelivery: true });
      expect(own[0].FilterPolicy).toBeUndefined();
    }
  });
});

describe("the pure masters' stores' queue", () => {
  const masterStores = (json: Json) => must(queueNamed(json, `${CLUSTER}_master-stores.fifo`), 'master-stores queue');

  it('is a FIFO queue with a dead-letter queue, subscribed to every event of the topic with raw delivery (no filter: a pure master’s own events too)', () => {
    const queue = masterStores(synth.json);
    const dlq = must(queueNamed(synth.json, `${CLUSTER}_master-stores-dlq.fifo`), 'master-stores DLQ');
    expect(synth.json.Resources[queue]!.Properties).toMatchObject({
      FifoQueue: true,
      RedrivePolicy: { deadLetterTargetArn: arnOf(dlq), maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    const subscriptions = logicalIdsOf(synth.json, 'AWS::SNS::Subscription')
      .map((id) => synth.json.Resources[id]!.Properties)
      .filter((subscription) => JSON.stringify(subscription.Endpoint) === JSON.stringify(arnOf(queue)));
    expect(subscriptions).toEqual([{ Protocol: 'sqs', TopicArn: { Ref: topicId(synth.json) }, Endpoint: arnOf(queue), RawMessageDelivery: true }]);
  });

  it("feeds one function, in batches of 10, that writes only the pure masters' stores and reads the log", () => {
    const fn = functionId(synth.json, 'CatchUpMasterStores');
    const mappings = logicalIdsOf(synth.json, 'AWS::Lambda::EventSourceMapping')
      .map((id) => synth.json.Resources[id]!.Properties)
      .filter((mapping) => JSON.stringify(mapping.FunctionName) === JSON.stringify({ Ref: fn }));
    expect(mappings).toEqual([expect.objectContaining({ EventSourceArn: arnOf(masterStores(synth.json)), BatchSize: 10 })]);
    const visibility = synth.json.Resources[masterStores(synth.json)]!.Properties.VisibilityTimeout as number;
    expect(visibility).toBeGreaterThanOrEqual(6 * (synth.json.Resources[fn]!.Properties.Timeout as number));
    for (const nodes of storeNodesOf(synth.json, fn)) expect(nodes).toEqual(PURE_MASTERS);
    for (const statement of s3Statements(synth.json, fn)) {
      if (!actionsOfStatement(statement).some((action) => S3_WRITES.includes(action))) continue;
      for (const key of bucketKeys(synth.json, statement)) expect(PURE_MASTERS.map((node) => `objects/${node}/*`)).toContain(key);
    }
    const everything = statementsOf(synth.json, fn).flatMap(actionsOfStatement);
    expect(everything.filter((action) => action.startsWith('sns:'))).toEqual([]);
    // It applies events only: no deletes; of SQS, only what the event source consumes its own queue with.
    expect(everything).not.toContain('dynamodb:DeleteItem');
    const sqs = statementsOf(synth.json, fn).filter((statement) => actionsOfStatement(statement).some((action) => action.startsWith('sqs:')));
    expect(sqs.map((statement) => statement.Resource)).toEqual([arnOf(masterStores(synth.json))]);
    expect(sqs.flatMap(actionsOfStatement)).not.toContain('sqs:SendMessage');
  });

  it('is not built for a cluster without pure masters', () => {
    const withoutPureMaster = synthesize({ nodes: NODES.filter((node) => node.role !== 'master') });
    expect(queueNamed(withoutPureMaster.json, `${CLUSTER}_master-stores.fifo`)).toBeUndefined();
    expect(() => functionId(withoutPureMaster.json, 'CatchUpMasterStores')).toThrow('No function CatchUpMasterStores');
  });
});

describe('apply functions', () => {
  it('one per consuming node, none for a pure master', () => {
    expect(Object.keys(applyFunctions(synth.json)).sort()).toEqual([...CONSUMERS].sort());
  });

  it('each is fed by its own queue only: batches of 10, partial batch failures reported', () => {
    const mappings = logicalIdsOf(synth.json, 'AWS::Lambda::EventSourceMapping').map((id) => synth.json.Resources[id]!.Properties);
    // And the pure masters' stores' consumer (below).
    expect(mappings).toHaveLength(CONSUMERS.length + 1);
    for (const node of CONSUMERS) {
      const fn = applyOf(synth.json, node);
      const own = mappings.filter((m) => JSON.stringify(m.FunctionName) === JSON.stringify({ Ref: fn }));
      expect(own).toEqual([
        expect.objectContaining({
          EventSourceArn: arnOf(must(queueOf(synth.json, node), node)),
          BatchSize: 10,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        }),
      ]);
    }
  });

  it("may consume its own queue, send to its own dead-letter queue only (a message set aside), and touch no other node's queue or dead-letter queue", () => {
    const allQueues = logicalIdsOf(synth.json, 'AWS::SQS::Queue');
    for (const node of CONSUMERS) {
      const fn = applyOf(synth.json, node);
      const queue = must(queueOf(synth.json, node), node);
      const dlq = must(dlqOf(synth.json, node), node);
      const sqs = statementsOf(synth.json, fn).filter((s) => actionsOfStatement(s).some((a) => a.startsWith('sqs:')));
      expect(sqs.length).toBeGreaterThan(0);
      for (const statement of sqs) {
        if (JSON.stringify(statement.Resource) === JSON.stringify(arnOf(dlq))) expect(actionsOfStatement(statement)).toEqual(['sqs:SendMessage']);
        else expect(statement.Resource).toEqual(arnOf(queue));
      }
      expect(sqs.map((statement) => statement.Resource)).toContainEqual(arnOf(dlq));
      const everything = JSON.stringify(statementsOf(synth.json, fn));
      for (const other of allQueues.filter((id) => id !== queue && id !== dlq)) expect(everything).not.toContain(`"${other}"`);
    }
  });

  it("writes only its own node's items of the node store (dynamodb:LeadingKeys); reads any node's (a resync job's source)", () => {
    for (const node of CONSUMERS) {
      const fn = applyOf(synth.json, node);
      const statements = statementsOn(synth.json, fn, tableId(synth.json, 'NodeStore'));
      const conditions = storeNodesOf(synth.json, fn);
      expect(conditions.length).toBeGreaterThan(0);
      statements.forEach((statement, index) => {
        const nodes = conditions[index]!;
        if (nodes.length === 1) expect(nodes).toEqual([node]);
        // Beyond its own partition: every node's, to read only.
        else {
          expect([...nodes].sort()).toEqual([...NODES.map((declared) => declared.name)].sort());
          expect(actionsOfStatement(statement).sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query']);
        }
        expect(actionsOfStatement(statement)).not.toContain('dynamodb:Scan');
      });
      expect(conditions).toContainEqual([node]);
    }
  });

  it("every void writer may put void items in the cluster's log partition only: never the gateway's write lease or an Idempotency-Key claim", () => {
    // A put replaces a whole item: a grant of void attributes alone would still let it overwrite
    // an item of another partition of the table (`<cluster>#gateway-lease`, `<cluster>#idempotency#...`).
    const writers = [...CONSUMERS.map((node) => applyOf(synth.json, node)), ...['ResyncNode', 'RedriveNode', 'RepublishPending', 'CatchUpMasterStores'].map((name) => functionId(synth.json, name))];
    for (const fn of writers) {
      const voids = statementsOn(synth.json, fn, tableId(synth.json, 'EventLog')).filter((statement) => JSON.stringify(statement.Condition ?? {}).includes('dynamodb:Attributes'));
      expect({ fn, count: voids.length }).toEqual({ fn, count: 1 });
      expect({ fn, leadingKeys: (voids[0]!.Condition as Record<string, Record<string, unknown>>)['ForAllValues:StringEquals']!['dynamodb:LeadingKeys'] }).toEqual({ fn, leadingKeys: [CLUSTER] });
    }
  });

  it("the republish schedule and the master stores' consumer update the log only in the cluster's partition (marks, the watermark): never the gateway's write lease or a claim", () => {
    for (const fn of ['RepublishPending', 'CatchUpMasterStores'].map((name) => functionId(synth.json, name))) {
      const updates = statementsOn(synth.json, fn, tableId(synth.json, 'EventLog')).filter((statement) => actionsOfStatement(statement).includes('dynamodb:UpdateItem'));
      expect({ fn, count: updates.length }).toEqual({ fn, count: 1 });
      expect({ fn, condition: updates[0]!.Condition }).toEqual({ fn, condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [CLUSTER] } } });
      expect({ fn, actions: actionsOfStatement(updates[0]!) }).toEqual({ fn, actions: ['dynamodb:UpdateItem'] });
    }
  });

  it('reads the event log and checks its items in a commit, and writes nothing to it but void items (closing a hole)', () => {
    for (const node of CONSUMERS) {
      const statements = statementsOn(synth.json, applyOf(synth.json, node), tableId(synth.json, 'EventLog'));
      const reads = statements.filter((statement) => statement.Condition === undefined).flatMap(actionsOfStatement);
      // ConditionCheckItem writes nothing: a delivery to a node keeping up is committed on condition of its log item's digest.
      expect(reads).toContain('dynamodb:ConditionCheckItem');
      for (const action of reads) expect(['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem']).toContain(action);
      const writes = statements.filter((statement) => statement.Condition !== undefined);
      expect(writes.flatMap(actionsOfStatement)).toEqual(['dynamodb:PutItem']);
      for (const statement of writes) {
        expect(statement.Condition).toEqual(VOIDS_ONLY);
      }
    }
  });

  it("reads event bodies and any node's object bodies, and writes object bodies under its own node's prefix only", () => {
    for (const node of CONSUMERS) {
      const statements = s3Statements(synth.json, applyOf(synth.json, node));
      expect(statements.length).toBeGreaterThan(0);
      for (const statement of statements) {
        const keys = bucketKeys(synth.json, statement);
        const writes = actionsOfStatement(statement).some((action) => S3_WRITES.includes(action));
        for (const key of keys) {
          if (writes) expect(key).toBe(`objects/${node}/*`);
          // `objects/*`: a resync job reads its source node's offloaded objects.
          else expect([`events/${CLUSTER}/*`, `objects/${node}/*`, 'objects/*']).toContain(key);
        }
      }
      const keys = statements.flatMap((statement) => bucketKeys(synth.json, statement));
      expect(keys).toContain(`objects/${node}/*`);
    }
  });

  it('knows which node it applies and has no access to the topic', () => {
    for (const node of CONSUMERS) {
      const fn = applyOf(synth.json, node);
      expect(synth.json.Resources[fn]!.Properties.Environment.Variables.NODE_NAME).toBe(node);
      expect(statementsOf(synth.json, fn).flatMap(actionsOfStatement)).not.toContain('sns:Publish');
    }
  });
});

describe('the other functions', () => {
  it("publishing writes only publisher nodes' store items and object bodies", () => {
    const fn = functionId(synth.json, 'PublishEvent');
    const conditions = storeNodesOf(synth.json, fn);
    expect(conditions.length).toBeGreaterThan(0);
    for (const nodes of conditions) expect([...nodes].sort()).toEqual([...PUBLISHERS].sort());
    for (const statement of s3Statements(synth.json, fn)) {
      if (!actionsOfStatement(statement).some((action) => S3_WRITES.includes(action))) continue;
      for (const key of bucketKeys(synth.json, statement)) {
        expect([`events/${CLUSTER}/*`, ...PUBLISHERS.map((node) => `objects/${node}/*`)]).toContain(key);
      }
    }
    const sns = statementsOf(synth.json, fn).filter((s) => actionsOfStatement(s).some((a) => a.startsWith('sns:')));
    expect(sns).toEqual([expect.objectContaining({ Action: 'sns:Publish', Resource: { Ref: topicId(synth.json) } })]);
    expect(JSON.stringify(statementsOf(synth.json, fn))).not.toContain('sqs:');
  });

  it("publishing writes the log only in the cluster's partition and Idempotency-Key claims: never the gateway's write lease", () => {
    const fn = functionId(synth.json, 'PublishEvent');
    const writes = statementsOn(synth.json, fn, tableId(synth.json, 'EventLog')).filter((statement) =>
      actionsOfStatement(statement).some((action) => ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'].includes(action)),
    );
    expect(writes).toHaveLength(1);
    expect(actionsOfStatement(writes[0]!).sort()).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    // The claims' partitions: `<cluster>#idempotency#<node>#<key>` (dynamo-event-log.ts claimPartition).
    expect(writes[0]!.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [CLUSTER, `${CLUSTER}#idempotency#*#*`] } });
  });

  it('publishing may delete its own event bodies (one whose append stored nothing), under events/<cluster>/ only', () => {
    const fn = functionId(synth.json, 'PublishEvent');
    const deletes = s3Statements(synth.json, fn).filter((statement) => actionsOfStatement(statement).includes('s3:DeleteObject'));
    expect(deletes.flatMap((statement) => bucketKeys(synth.json, statement))).toContain(`events/${CLUSTER}/*`);
    // The gateway (and its recovery, and a capture) publishes as its master with the same grants.
    expect(GEOSERVER_GATEWAY.grants).toContainEqual({ on: 'eventBodies', actions: expect.arrayContaining(['s3:PutObject', 's3:DeleteObject']) });
  });

  it("the republish schedule writes only pure masters' stores (the others have queues)", () => {
    const fn = functionId(synth.json, 'RepublishPending');
    for (const nodes of storeNodesOf(synth.json, fn)) expect(nodes).toEqual(PURE_MASTERS);
    for (const statement of s3Statements(synth.json, fn)) {
      if (!actionsOfStatement(statement).some((action) => S3_WRITES.includes(action))) continue;
      for (const key of bucketKeys(synth.json, statement)) expect(PURE_MASTERS.map((node) => `objects/${node}/*`)).toContain(key);
    }
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: arnOf(fn) })],
    });
  });

  it("the resync rewrites only pure masters' stores and object bodies (a consuming node's resync is its apply function's job); it reads any node's", () => {
    const fn = functionId(synth.json, 'ResyncNode');
    const statements = statementsOn(synth.json, fn, tableId(synth.json, 'NodeStore'));
    const conditions = storeNodesOf(synth.json, fn);
    const everyNode = [...NODES.map((node) => node.name)].sort();
    statements.forEach((statement, index) => {
      const nodes = [...conditions[index]!].sort();
      const actions = actionsOfStatement(statement);
      // Beyond pure masters: reading a source, a consuming node's job lock and job items, and a
      // cancel's checks of any node's job lock and resync hold (ConditionCheckItem).
      if (actions.includes('dynamodb:DeleteItem')) expect(nodes).toEqual([...PURE_MASTERS].sort());
      else expect(nodes).toEqual(everyNode);
    });
    // Not vacuous: it does delete a pure master's items, and starts jobs on any node.
    const actionsFor = (nodes: string[]) => statements.filter((_, index) => [...conditions[index]!].sort().join() === [...nodes].sort().join()).flatMap(actionsOfStatement);
    expect(actionsFor(PURE_MASTERS)).toContain('dynamodb:DeleteItem');
    expect(actionsFor(everyNode)).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem']));
    expect(actionsFor(everyNode)).not.toContain('dynamodb:DeleteItem');
    const s3 = s3Statements(synth.json, fn);
    const writes = s3.filter((statement) => actionsOfStatement(statement).some((action) => S3_WRITES.includes(action)));
    expect(writes.length).toBeGreaterThan(0);
    for (const statement of writes) expect(bucketKeys(synth.json, statement)).toEqual(PURE_MASTERS.map((node) => `objects/${node}/*`));
    // Reading any source's bodies.
    expect(s3.flatMap((statement) => bucketKeys(synth.json, statement))).toContain('objects/*');
  });

  it('redrive moves messages from dead-letter queues to node queues, and applies parked events to node stores read from the log', () => {
    const statements = statementsOf(synth.json, functionId(synth.json, 'RedriveNode'));
    const resourcesOf = (action: string) =>
      statements.filter((s) => actionsOfStatement(s).includes(action)).flatMap((s) => asArray(s.Resource as unknown));
    const sorted = (values: unknown[]) => values.map((v) => JSON.stringify(v)).sort();
    const dlqs = CONSUMERS.map((node) => arnOf(must(dlqOf(synth.json, node), node)));
    const queues = CONSUMERS.map((node) => arnOf(must(queueOf(synth.json, node), node)));
    expect(sorted(resourcesOf('sqs:ReceiveMessage'))).toEqual(sorted(dlqs));
    expect(sorted(resourcesOf('sqs:DeleteMessage'))).toEqual(sorted(dlqs));
    expect(sorted(resourcesOf('sqs:SendMessage'))).toEqual(sorted(queues));
    expect([...new Set(statements.flatMap(actionsOfStatement).filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:')))].sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      's3:DeleteObject',
      's3:GetObject',
      's3:PutObject',
      'sqs:DeleteMessage',
      'sqs:ReceiveMessage',
      'sqs:SendMessage',
    ]);
    // The event log is only read, but for void items (a hole closed by a catch-up); store writes
    // are limited to the declared nodes' partitions.
    const logWrites = statements.filter(
      (s) => JSON.stringify(s.Resource).includes('EventLog') && actionsOfStatement(s).some((a) => /Put|Update|Delete/.test(a)),
    );
    for (const statement of logWrites) {
      expect(actionsOfStatement(statement)).toEqual(['dynamodb:PutItem']);
      expect(statement.Condition).toEqual(VOIDS_ONLY);
    }
  });

  it("the lag measure reads the tables, and of the queues only the consuming nodes' depths, sending only to their own queues (a catch-up nudge)", () => {
    const statements = statementsOf(synth.json, functionId(synth.json, 'MeasureLag'));
    const own = statements.filter((s) => actionsOfStatement(s).some((action) => !action.startsWith('logs:') && !XRAY_ACTIONS.includes(action)));
    const resourcesOf = (action: string) => own.filter((s) => actionsOfStatement(s).includes(action)).flatMap((s) => asArray(s.Resource as unknown));
    const sorted = (values: unknown[]) => values.map((v) => JSON.stringify(v)).sort();
    const dlqs = CONSUMERS.map((node) => arnOf(must(dlqOf(synth.json, node), node)));
    const queues = CONSUMERS.map((node) => arnOf(must(queueOf(synth.json, node), node)));
    expect([...new Set(own.flatMap(actionsOfStatement))].sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 'sqs:GetQueueAttributes', 'sqs:SendMessage']);
    expect(sorted(resourcesOf('sqs:SendMessage'))).toEqual(sorted(queues));
    expect(sorted(resourcesOf('sqs:GetQueueAttributes'))).toEqual(sorted([...queues, ...dlqs]));
  });

  it.each([
    ['ListDeadLetters', ['sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage']],
    ['DiscardDeadLetters', ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:ReceiveMessage']],
  ])('%s acts on the consuming nodes\' dead-letter queues only, with exactly %j', (name, expected) => {
    const statements = statementsOf(synth.json, functionId(synth.json, name));
    const own = statements.filter((s) => actionsOfStatement(s).some((action) => !action.startsWith('logs:') && !XRAY_ACTIONS.includes(action)));
    expect([...new Set(own.flatMap(actionsOfStatement))].sort()).toEqual(expected);
    const dlqs = CONSUMERS.map((node) => JSON.stringify(arnOf(must(dlqOf(synth.json, node), node)))).sort();
    // Every statement of its own names the dead-letter queues, and no other queue, table or bucket.
    for (const statement of own) expect(asArray(statement.Resource as unknown).map((resource) => JSON.stringify(resource)).sort()).toEqual(dlqs);
    const queues = CONSUMERS.map((node) => JSON.stringify(arnOf(must(queueOf(synth.json, node), node))));
    expect(own.flatMap((s) => asArray(s.Resource as unknown)).map((resource) => JSON.stringify(resource)).filter((resource) => queues.includes(resource))).toEqual([]);
  });

  it.each(['ListNodes', 'GetCatalog', 'GetCatalogObject'])('%s only reads', (name) => {
    const actions = statementsOf(synth.json, functionId(synth.json, name))
      .flatMap(actionsOfStatement)
      .filter((action) => !action.startsWith('logs:') && !XRAY_ACTIONS.includes(action));
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) {
      expect(action).toMatch(/^(dynamodb:(GetItem|BatchGetItem|Query)|s3:GetObject|sqs:GetQueueAttributes)$/);
    }
  });

  it('no statement grants a wildcard action', () => {
    for (const id of logicalIdsOf(synth.json, 'AWS::Lambda::Function')) {
      for (const action of statementsOf(synth.json, id).flatMap(actionsOfStatement)) expect(action).not.toContain('*');
    }
  });
});

describe('storage', () => {
  it.each([
    ['EventLog', 'cluster', 'sequence'],
    ['NodeStore', 'node', 'key'],
  ] as const)('the %s table is keyed by %s, encrypted, with PITR and deletion protection, and retained', (name, hash, range) => {
    const table = synth.json.Resources[tableId(synth.json, name)]!;
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: hash, KeyType: 'HASH' },
        { AttributeName: range, KeyType: 'RANGE' },
      ],
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it('the node store expires job records by its TTL attribute (expiresAt), which the event log uses for Idempotency-Key claims', () => {
    for (const name of ['NodeStore', 'EventLog'] as const) {
      expect({ name, ttl: synth.json.Resources[tableId(synth.json, name)]!.Properties.TimeToLiveSpecification }).toEqual({
        name,
        ttl: { AttributeName: 'expiresAt', Enabled: true },
      });
    }
  });

  it('the event body bucket blocks public access, is encrypted, enforces TLS and is retained', () => {
    const id = bucketId(synth.json);
    const bucket = synth.json.Resources[id]!;
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: expect.stringMatching(/^(AES256|aws:kms|aws:kms:dsse)$/) } }],
      },
    });
    synth.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('pause and resume', () => {
  const mappingOf = (node: string) =>
    logicalIdsOf(synth.json, 'AWS::Lambda::EventSourceMapping').find(
      (id) => JSON.stringify(synth.json.Resources[id]!.Properties.FunctionName) === JSON.stringify({ Ref: applyFunctions(synth.json)[node] }),
    )!;

  it('may update exactly the consuming nodes\' event source mappings, and their UUIDs are in its environment', () => {
    const fn = functionId(synth.json, 'SwitchConsumption');
    const statements = statementsOf(synth.json, fn).filter((statement) => actionsOfStatement(statement).some((a) => a.startsWith('lambda:')));
    expect(statements).toHaveLength(1);
    expect(actionsOfStatement(statements[0]!)).toEqual(['lambda:UpdateEventSourceMapping']);
    const resources = asArray(statements[0]!.Resource as unknown).map((r) => JSON.stringify(r));
    expect(resources).toHaveLength(CONSUMERS.length);
    for (const node of CONSUMERS) expect(resources.some((r) => r.includes(`"Ref":"${mappingOf(node)}"`) && r.includes(':event-source-mapping:'))).toBe(true);
    // Read as the function reads it, each mapping's Ref standing for its UUID: every consumer gets its own mapping.
    const resolve = (value: unknown): string => {
      if (typeof value === 'string') return value;
      const node = value as { Ref?: string; 'Fn::Join'?: [string, unknown[]] };
      if (node.Ref !== undefined) return node.Ref;
      if (node['Fn::Join']) return node['Fn::Join'][1].map(resolve).join(node['Fn::Join'][0]);
      throw new Error(`unexpected ${JSON.stringify(value)}`);
    };
    const environment = resolve(synth.json.Resources[fn]!.Properties.Environment.Variables.NODE_EVENT_SOURCES);
    expect(nodeEventSourcesFromValue('NODE_EVENT_SOURCES', environment, CONSUMERS)).toEqual(Object.fromEntries(CONSUMERS.map((node) => [node, mappingOf(node)])));
  });

  it('writes only store items of declared nodes, and no other DynamoDB, SQS or S3 action', () => {
    const fn = functionId(synth.json, 'SwitchConsumption');
    const actions = statementsOf(synth.json, fn)
      .flatMap(actionsOfStatement)
      .filter((a) => !a.startsWith('logs:') && !XRAY_ACTIONS.includes(a))
      .sort();
    expect(actions).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'lambda:UpdateEventSourceMapping']);
    const dynamo = statementsOf(synth.json, fn).find((statement) => actionsOfStatement(statement).includes('dynamodb:PutItem'))!;
    expect(dynamo.Condition?.['ForAllValues:StringEquals']?.['dynamodb:LeadingKeys']).toEqual(NODES.map((node) => node.name));
  });
});

describe('routes', () => {
  const ROUTES: [string, string, boolean][] = [
    ['POST /config/events', 'PublishEvent', true],
    ['POST /nodes/{node}/resync', 'ResyncNode', true],
    // Its function holds the grants a cancel needs on any node: a function of its own would cost the cluster's stack seven resources more.
    ['POST /nodes/{node}/jobs/{id}/cancel', 'ResyncNode', true],
    ['POST /nodes/{node}/redrive', 'RedriveNode', true],
    ['GET /nodes/{node}/dead-letters', 'ListDeadLetters', true],
    ['POST /nodes/{node}/dead-letters/discard', 'DiscardDeadLetters', true],
    ['GET /nodes', 'ListNodes', true],
    ['GET /nodes/{node}/catalog', 'GetCatalog', true],
    ['GET /nodes/{node}/catalog/{type}/{id}', 'GetCatalogObject', true],
    ['POST /nodes/{node}/pause', 'SwitchConsumption', true],
    ['POST /nodes/{node}/resume', 'SwitchConsumption', true],
  ];

  it.each(ROUTES)('%s is served by %s; node token required: %s', (routeKey, fn, authorized) => {
    expect(targetFunction(synth.json, routeKey)).toBe(functionId(synth.json, fn));
    if (authorized) expect(routeOf(synth.json, routeKey)).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: expect.anything() });
    else expect(routeOf(synth.json, routeKey)?.AuthorizationType ?? 'NONE').toBe('NONE');
  });
});

describe('security checks', () => {
  it('cdk-nag AwsSolutions reports no unacknowledged finding', () => {
    // synthesize() would have thrown on an error; the report must also hold no failure.
    const failures = synth.validationReport.pluginReports.filter((report) => report.conclusion === 'failure');
    expect(failures).toEqual([]);
    expect(grown.validationReport.pluginReports.filter((report) => report.conclusion === 'failure')).toEqual([]);
  });
});

describe('adding a node', () => {
  it("keeps every other node's queue, dead-letter queue, subscription, event source and apply function", () => {
    for (const node of CONSUMERS) {
      const ids = (json: Json) => {
        const queue = must(queueOf(json, node), node);
        const apply = applyOf(json, node);
        return {
          queue,
          dlq: must(dlqOf(json, node), node),
          apply,
          subscription: logicalIdsOf(json, 'AWS::SNS::Subscription').find(
            (id) => JSON.stringify(json.Resources[id]!.Properties.Endpoint) === JSON.stringify(arnOf(queue)),
          ),
          mapping: logicalIdsOf(json, 'AWS::Lambda::EventSourceMapping').find(
            (id) => JSON.stringify(json.Resources[id]!.Properties.FunctionName) === JSON.stringify({ Ref: apply }),
          ),
        };
      };
      const before = ids(synth.json);
      expect(ids(grown.json)).toEqual(before);
      // Queues, subscriptions and event sources are not even updated; the apply function's
      // configuration changes only in its environment (the member list), an in-place update.
      for (const id of [before.queue, before.dlq, before.subscription!, before.mapping!]) {
        expect(grown.json.Resources[id]).toEqual(synth.json.Resources[id]);
      }
      const { Environment: _before, ...applyBefore } = synth.json.Resources[before.apply]!.Properties;
      const { Environment: _after, ...applyAfter } = grown.json.Resources[before.apply]!.Properties;
      expect(applyAfter).toEqual(applyBefore);
    }
  });

  it('only adds resources, all of them for the new node, and removes none', () => {
    const before = new Set(Object.keys(synth.json.Resources));
    const after = new Set(Object.keys(grown.json.Resources));
    expect([...before].filter((id) => !after.has(id))).toEqual([]);
    const added = [...after].filter((id) => !before.has(id));
    // Everything of the new node is in its own nested stack (inlined here, under its logical id).
    const prefix = `ConfigSync${ADDED.name.replace(/[^A-Za-z0-9]/g, '')}`;
    expect(added.length).toBeGreaterThan(0);
    expect(added.filter((id) => !id.startsWith(prefix))).toEqual([]);
    // The new node's alarms: lag, dead letters, parked events, oldest message, and its apply function's errors and throttles.
    expect(added.filter((id) => grown.json.Resources[id]!.Type === 'AWS::CloudWatch::Alarm')).toHaveLength(6);
    expect(added).toEqual(
      expect.arrayContaining([must(queueOf(grown.json, ADDED.name), 'new queue'), must(dlqOf(grown.json, ADDED.name), 'new DLQ'), applyOf(grown.json, ADDED.name)]),
    );
    // Stateful shared resources keep their definition.
    for (const id of [topicId(synth.json), tableId(synth.json, 'EventLog'), tableId(synth.json, 'NodeStore'), bucketId(synth.json)]) {
      expect(grown.json.Resources[id]).toEqual(synth.json.Resources[id]);
    }
  });
});

describe('the config-sync manifest (lambdas/config-sync/manifest.ts) is what the stack builds', () => {
  const declared = routesOf(CONFIG_SYNC_MANIFEST).map((route) => ({
    key: `${route.method} ${route.path}`,
    authorized: route.access === 'node',
    function: route.function,
  }));

  it("every declared route, and no other config-sync route, is in the template with its access", () => {
    const inTemplate = logicalIdsOf(synth.json, 'AWS::ApiGatewayV2::Route')
      .map((id) => synth.json.Resources[id]!.Properties)
      .filter((route) => /^\w+ \/(config|nodes)\b/.test(String(route.RouteKey)))
      .map((route) => ({ key: String(route.RouteKey), authorized: route.AuthorizationType === 'CUSTOM' }));
    const byKey = (a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key);
    expect(inTemplate.sort(byKey)).toEqual(declared.map(({ key, authorized }) => ({ key, authorized })).sort(byKey));
  });

  it('each function gets exactly the environment variables its declaration names (besides the logger settings every function gets)', () => {
    for (const [name, declaration] of Object.entries(CONFIG_SYNC_MANIFEST)) {
      const id = 'queueConsumer' in declaration ? applyOf(synth.json, CONSUMERS[0] as string) : functionId(synth.json, name);
      const variables = Object.keys(synth.json.Resources[id]!.Properties.Environment.Variables)
        .filter((variable) => !(OBSERVABILITY_ENV as readonly string[]).includes(variable))
        .sort();
      expect(variables).toEqual([...declaration.environment].sort());
    }
  });
});
