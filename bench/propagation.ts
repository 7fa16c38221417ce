/**
 * Configuration propagation, for clusters of 3, 10 and 30 consuming nodes:
 * - latency: time from a master's publish request to "applied on every node" (every node's
 *   cursor in its store at the event's sequence), p50/p99 over sequential events;
 * - throughput: events per second applied on every node during a burst;
 * - change set: one request carrying `changeSet` objects, from the request to "applied on
 *   every node" (asked for at 3 nodes);
 * against the raw publish-to-receive time of the same emulator in the same run: one SNS FIFO
 * topic fanned out to the same number of raw-delivery FIFO queues, each drained by a long-poll
 * receiver, measured from publish to "received by every queue" (for the change set: the same
 * number of messages sent with PublishBatch, 10 per call, one call after the other, as the
 * fastest ordered way to fan them out).
 *
 * How it is measured, so that both sides are treated alike:
 * - both are warmed up with as many unmeasured events as are measured (DynamoDB Local, a JVM,
 *   and the functions' code run several times slower on their first few dozen passes);
 * - "applied" is the instant each node's apply function logged its batch applied (the line's
 *   own timestamp; applied-observer.ts), as the raw side's receivers just wait for messages:
 *   reading the nodes' cursors every 2 ms, as this bench did before, takes CPU from what it
 *   measures, and is kept as a diagnostic;
 * - the raw fan-out runs twice, before the cluster's work and after it, once the nodes' queues
 *   have drained, and the ratios use the faster of the two. Until 2026-12-03 it ran once, last,
 *   while the nodes were still working through the burst's duplicates on the same cores, which
 *   slowed it (at 3 nodes 38 against 76 events/s, at 10 nodes p50 97 against 18 ms) and so
 *   flattered every ratio.
 *
 * Diagnostic, not a goal: the floor of any log-first design on these emulators, measured in the
 * same run. An event must be in the log before it is published (the append, a conditional
 * transaction), and every node commits it to its own store (a conditional transaction each, all
 * at about the same time), so no design can show an event applied everywhere sooner than the
 * raw fan-out plus one transaction plus one on each node's partition at once. Each is timed raw
 * on a table of its own in the same DynamoDB Local. DynamoDB Local runs writes one at a time
 * (10 at once took 5-8 times one on 2026-12-03), where AWS commits different partitions in parallel, so
 * this floor grows with the number of nodes here and not in AWS.
 */
import { BatchGetItemCommand, CreateTableCommand, DeleteTableCommand, DynamoDBClient, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, PublishBatchCommand, PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { NODE_STORE_TABLE } from '../lambdas/config-sync/tables';
import { cdkJsonContext } from '../cdk/app';
import { synthesizeTopology } from '../local/cluster';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/emulators';
import { withoutSdkLogging } from '../lambdas/shared/sdk-client';
import { spawnLocalCluster } from '../local/spawn';
import { ClusterCpu, type CpuSplit } from './cpu-split';
import { AppliedObserver, epochNow } from './applied-observer';

export interface RawRun {
  p50: number;
  perSecond: number;
  changeSetMs?: number;
}

export interface PropagationFigures {
  nodes: number;
  /** The publish request alone (the log append and the SNS publish; a pure master's own store follows from the master-stores queue). */
  publishLatency: { p50: number; p99: number };
  latency: { p50: number; p99: number };
  rawLatency: { p50: number; p99: number };
  /** Both raw runs (before and after the cluster's work); the baseline above is the faster of each. */
  rawRuns: { before: RawRun; after: RawRun };
  /** Diagnostic: the sequential latency observed by reading the nodes' cursors every 2 ms instead of from their log lines. */
  polledLatency: { p50: number };
  /** Waits that the nodes' log lines did not resolve within 10 s of quiet and reading the cursors did (0 expected). */
  observerFallbacks: number;
  appliedPerSecond: number;
  rawReceivedPerSecond: number;
  /**
   * Diagnostic, not a goal figure: the same sequential publishes with the nodes' cursors polled
   * from the request's start rather than after its answer, which says what bounds the latency
   * above: `nodesApplied` is when every node had applied the event (possibly before the answer),
   * `answered` when the answer came. The poll runs alongside the request on the same cores.
   */
  inFlight: { nodesApplied: { p50: number }; answered: { p50: number }; appliedBeforeAnswer: number; events: number };
  /** Present when a change set was asked for. */
  changeSet?: { size: number; appliedMs: number; rawMs: number };
  /**
   * Diagnostic, raw p50s on the same DynamoDB Local: one conditional transaction alone (the append), one on
   * each of `nodes` partitions at once, to the last done (every node's apply), a cursor read.
   */
  floor: { transactP50: number; everyNodeTransactP50: number; cursorReadP50: number };
  /**
   * Diagnostic: the CPU the burst cost, part by part (cpu-split.ts), ours until applied
   * everywhere and the raw one's until received everywhere (of the faster raw run); absent where
   * /proc cannot be read.
   */
  burstCpu?: { ours: CpuSplit; raw: CpuSplit; byFunction: readonly FunctionCpu[] };
}

/** CPU milliseconds a function's execution environments spent in a stretch (GET /__local/functions). */
export interface FunctionCpu {
  readonly function: string;
  readonly cpuMs: number;
  readonly invocations: number;
}

/** Each function's CPU so far in a local cluster, as its execution environments last reported it (GET /__local/functions). */
export async function functionCpuOf(clusterUrl: string): Promise<FunctionCpu[]> {
  return (await (await fetch(`${clusterUrl}/__local/functions`)).json()) as FunctionCpu[];
}

/** What each function spent between two readings of `functionCpuOf`: those invoked meanwhile, most CPU first. */
export function functionCpuSince(before: readonly FunctionCpu[], after: readonly FunctionCpu[]): FunctionCpu[] {
  return after
    .map((now) => {
      const then = before.find((entry) => entry.function === now.function);
      return { function: now.function, cpuMs: now.cpuMs - (then?.cpuMs ?? 0), invocations: now.invocations - (then?.invocations ?? 0) };
    })
    .filter((entry) => entry.invocations > 0)
    .sort((a, b) => b.cpuMs - a.cpuMs);
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A local cluster of one master and `nodeCount` slaves for a bench, with the raw side's clients
 * and a read of the slaves' cursors. `iam`: with the local IAM gate, which the `calls` part
 * counts through; the timed figures leave it out, as AWS enforces IAM at no cost to the functions.
 */
async function startBenchCluster(nodeCount: number, options: { iam: boolean; logName: string }) {
  const scratch = mkdtempSync(path.join(tmpdir(), 'sgc-prop-'));
  const clusterFile = path.join(scratch, 'cluster.json');
  const slaves = Array.from({ length: nodeCount }, (_, i) => `slave-${i + 1}`);
  const clusterConfig = { name: 'bench', nodes: [{ name: 'master-1', role: 'master' }, ...slaves.map((name) => ({ name, role: 'slave' }))] };
  writeFileSync(clusterFile, JSON.stringify(clusterConfig));
  const topology = synthesizeTopology(path.join(scratch, 'cdk.out'), { ...cdkJsonContext(), cluster: clusterConfig });
  const storeTable = topology.tables.find((table) => table.logicalId.startsWith('ConfigSyncNodeStore'))?.tableName;
  if (!storeTable) throw new Error('node store table not found in the template');

  const cluster = await spawnLocalCluster({
    logFile: path.join(__dirname, '..', '.local', `${options.logName}.log`),
    extraArgs: ['--cluster-file', clusterFile, ...(options.iam ? [] : ['--no-iam'])],
  });
  // Found now, before any function has run: the threads started later are the functions'.
  const cpu = ClusterCpu.find(cluster.process.pid as number);
  const clients = {
    // The raw side's clients are set up as the functions' are (without the SDK's logger middleware).
    dynamo: withoutSdkLogging(new DynamoDBClient({ endpoint: cluster.emulators.dynamo, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS })),
    sns: withoutSdkLogging(new SNSClient({ endpoint: cluster.emulators.aws, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS })),
    sqs: withoutSdkLogging(new SQSClient({ endpoint: cluster.emulators.aws, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, useQueueUrlAsEndpoint: false })),
  };
  const cursors = async (): Promise<number[]> => {
    const result = await clients.dynamo.send(
      new BatchGetItemCommand({
        RequestItems: { [storeTable]: { Keys: slaves.map((node) => ({ node: { S: node }, key: { S: NODE_STORE_TABLE.cursorKey } })), ConsistentRead: true } },
      }),
    );
    const items = result.Responses?.[storeTable] ?? [];
    return slaves.map((node) => Number(items.find((item) => item.node?.S === node)?.cursor?.N ?? 0));
  };
  let counter = 0;
  /** One change published by master-1 (a new workspace), answered with its sequence. */
  const publish = async (): Promise<number> => {
    const id = `ws${counter++}`;
    const response = await fetch(`${cluster.url}/config/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.tokens['master-1']}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'add', object: { type: 'workspace', id }, properties: { name: id } }),
    });
    const body = (await response.json()) as { sequence: number };
    if (response.status !== 201) throw new Error(`publish answered ${response.status}: ${JSON.stringify(body)}`);
    return body.sequence;
  };
  /** `count` publishes from four publishers at once, as from a busy master: the highest sequence answered. */
  const publishBurst = async (count: number): Promise<number> => {
    let remaining = count;
    let last = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (remaining-- > 0) last = Math.max(last, await publish());
      }),
    );
    return last;
  };
  /** Waits until the nodes' queues hold nothing (the duplicates of events already applied from the log). */
  const drained = async (): Promise<void> => {
    const drainStart = Date.now();
    for (;;) {
      const queues = (await (await fetch(`${cluster.url}/__local/queues`)).json()) as { visible: number; inFlight: number }[];
      if (queues.every((queue) => queue.visible === 0 && queue.inFlight === 0)) return;
      if (Date.now() - drainStart > 300_000) throw new Error("the nodes' queues did not drain within 300 s");
      await sleep(200);
    }
  };
  /** Each function's CPU so far, as its execution environments last reported it. */
  const functionCpu = () => functionCpuOf(cluster.url);
  const stop = async (): Promise<void> => {
    await cluster.stop();
    rmSync(scratch, { recursive: true, force: true });
  };
  return { cluster, cpu, slaves, clients, cursors, publish, publishBurst, drained, functionCpu, stop, nextId: () => counter++ };
}

export async function benchPropagation(nodeCount: number, options: { events: number; burst: number; changeSet?: number }): Promise<PropagationFigures> {
  const bench = await startBenchCluster(nodeCount, { iam: false, logName: `bench-propagation-${nodeCount}` });
  const { cluster, cpu, slaves, clients, cursors, publish } = bench;
  try {
    const appliedEverywhere = async (sequence: number, deadlineMs = 60_000) => {
      const deadline = Date.now() + deadlineMs;
      while (Date.now() < deadline) {
        if ((await cursors()).every((cursor) => cursor >= sequence)) return;
        await sleep(2);
      }
      throw new Error(`sequence ${sequence} not applied on every node within ${deadlineMs} ms`);
    };

    // The raw fan-out, before the cluster's work (again after it, below).
    const rawBefore = await rawFanOut(clients.sns, clients.sqs, nodeCount, options, 'raw-before', cpu);

    // When each node applied, from its apply function's log lines (applied-observer.ts).
    const observer = new AppliedObserver(slaves, cursors);
    const stopObserving = cluster.onLine((line) => observer.line(line));

    // Warm up before measuring: every node's apply function pays its module init on its first
    // delivery, and DynamoDB Local (a JVM) and the functions' code run several times slower
    // until they have been through the same path a few dozen times. The raw fan-out ran warm-up
    // events of its own before it measured (rawFanOut), and runs again once the nodes' queues
    // have drained.
    for (let i = 0; i < Math.max(options.events, 1); i++) await observer.applied(await publish(), 60_000);

    const latencies: number[] = [];
    const publishLatencies: number[] = [];
    for (let i = 0; i < options.events; i++) {
      const started = epochNow();
      const sequence = await publish();
      publishLatencies.push(epochNow() - started);
      latencies.push((await observer.applied(sequence, 60_000)) - started);
    }
    // Diagnostic: the same, observed as before this bench read the log: the nodes' cursors
    // read every 2 ms from the answer on (which takes CPU from what it measures).
    const polledLatencies: number[] = [];
    for (let i = 0; i < options.events; i++) {
      const started = performance.now();
      const sequence = await publish();
      await appliedEverywhere(sequence);
      polledLatencies.push(performance.now() - started);
    }
    // Diagnostic: which comes last, the answer or the nodes' applies? The next sequence is
    // known before the request (one publisher, nothing else publishing), so its nodes' cursors
    // are polled from the request's start.
    const inFlightApplied: number[] = [];
    const inFlightAnswered: number[] = [];
    let appliedBeforeAnswer = 0;
    let expected = (await cursors())[0] as number;
    for (let i = 0; i < options.events; i++) {
      expected += 1;
      const started = performance.now();
      let answeredAt: number | undefined;
      const answer = publish().then((sequence) => {
        answeredAt = performance.now() - started;
        return sequence;
      });
      let appliedAt: number | undefined;
      while (appliedAt === undefined) {
        if ((await cursors()).every((cursor) => cursor >= expected)) appliedAt = performance.now() - started;
        else await sleep(2);
      }
      const sequence = await answer;
      if (sequence !== expected) throw new Error(`in-flight diagnostic: expected sequence ${expected}, the publish got ${sequence}`);
      if (appliedAt < (answeredAt as number)) appliedBeforeAnswer += 1;
      inFlightApplied.push(appliedAt);
      inFlightAnswered.push(answeredAt as number);
    }

    // A burst from several publishers at once, as from a busy master.
    const burstStart = epochNow();
    const burstCpu = cpu?.start();
    const functionsBefore = await bench.functionCpu();
    const last = await bench.publishBurst(options.burst);
    const appliedPerSecond = options.burst / (((await observer.applied(last, 120_000)) - burstStart) / 1000);
    const oursCpu = burstCpu?.end();
    const byFunction = functionCpuSince(functionsBefore, await bench.functionCpu());

    let changeSetMs: number | undefined;
    if (options.changeSet) {
      const changes = Array.from({ length: options.changeSet }, () => {
        const id = `set${bench.nextId()}`;
        return { kind: 'add', object: { type: 'workspace', id }, properties: { name: id } };
      });
      const started = epochNow();
      const response = await fetch(`${cluster.url}/config/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${cluster.tokens['master-1']}`, 'content-type': 'application/json' },
        body: JSON.stringify({ changes }),
      });
      const body = (await response.json()) as { lastSequence: number };
      if (response.status !== 201) throw new Error(`change set answered ${response.status}: ${JSON.stringify(body)}`);
      changeSetMs = (await observer.applied(body.lastSequence, 300_000)) - started;
    }
    stopObserving();

    // The nodes' queues still hold the burst's and the change set's duplicates (events already
    // applied from the log; the emulator hands them out one per receive): the raw run waits
    // for them to drain rather than race them for the cores.
    await bench.drained();
    const rawAfter = await rawFanOut(clients.sns, clients.sqs, nodeCount, options, 'raw-after', cpu);
    // The baseline is the faster of the two raw runs (before and after the cluster's work), so
    // an emulator that slowed down as the run went on cannot flatter the ratios.
    const fasterBurst = rawBefore.perSecond >= rawAfter.perSecond ? rawBefore : rawAfter;
    const raw = {
      latency: rawBefore.latency.p50 <= rawAfter.latency.p50 ? rawBefore.latency : rawAfter.latency,
      perSecond: Math.max(rawBefore.perSecond, rawAfter.perSecond),
      changeSetMs:
        rawBefore.changeSetMs !== undefined && rawAfter.changeSetMs !== undefined ? Math.min(rawBefore.changeSetMs, rawAfter.changeSetMs) : undefined,
    };
    const cursorReads: number[] = [];
    for (let i = 0; i < options.events; i++) {
      const started = performance.now();
      await cursors();
      cursorReads.push(performance.now() - started);
    }
    const floor = {
      transactP50: await rawTransactP50(clients.dynamo, options.events),
      everyNodeTransactP50: await rawTransactP50(clients.dynamo, options.events, nodeCount),
      cursorReadP50: quantile(cursorReads, 0.5),
    };
    return {
      floor,
      ...(oursCpu && fasterBurst.burstCpu ? { burstCpu: { ours: oursCpu, raw: fasterBurst.burstCpu, byFunction } } : {}),
      nodes: nodeCount,
      publishLatency: { p50: quantile(publishLatencies, 0.5), p99: quantile(publishLatencies, 0.99) },
      latency: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) },
      polledLatency: { p50: quantile(polledLatencies, 0.5) },
      observerFallbacks: observer.fallbacks,
      rawLatency: raw.latency,
      rawRuns: {
        before: { p50: rawBefore.latency.p50, perSecond: rawBefore.perSecond, changeSetMs: rawBefore.changeSetMs },
        after: { p50: rawAfter.latency.p50, perSecond: rawAfter.perSecond, changeSetMs: rawAfter.changeSetMs },
      },
      appliedPerSecond,
      rawReceivedPerSecond: raw.perSecond,
      inFlight: {
        nodesApplied: { p50: quantile(inFlightApplied, 0.5) },
        answered: { p50: quantile(inFlightAnswered, 0.5) },
        appliedBeforeAnswer,
        events: options.events,
      },
      ...(changeSetMs !== undefined && raw.changeSetMs !== undefined
        ? { changeSet: { size: options.changeSet as number, appliedMs: changeSetMs, rawMs: raw.changeSetMs } }
        : {}),
    };
  } finally {
    await bench.stop();
  }
}

/**
 * p50 of `count` rounds of `parallel` conditional transactions shaped like a log append or a
 * node's apply (put a new item unless it exists, and move a counter item from its previous
 * value), sent at once on `parallel` partitions of their own (as every node commits its own
 * store when an event reaches them all), to the last one done; on a scratch table.
 */
async function rawTransactP50(dynamo: DynamoDBClient, count: number, parallel = 1): Promise<number> {
  const TableName = `raw-floor-${process.pid}-${parallel}`;
  await dynamo.send(
    new CreateTableCommand({ TableName, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] }),
  );
  const commit = (partition: number, n: number) =>
    dynamo.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName, Item: { pk: { S: `p${partition}#e${n}` }, body: { S: JSON.stringify({ kind: 'add', n }) } }, ConditionExpression: 'attribute_not_exists(pk)' } },
          {
            Update: {
              TableName,
              Key: { pk: { S: `p${partition}#counter` } },
              UpdateExpression: 'SET n = :n',
              ConditionExpression: n === 0 ? 'attribute_not_exists(pk)' : 'n = :previous',
              ExpressionAttributeValues: { ':n': { N: String(n) }, ...(n === 0 ? {} : { ':previous': { N: String(n - 1) } }) },
            },
          },
        ],
      }),
    );
  try {
    const latencies: number[] = [];
    for (let n = 0; n <= count; n++) {
      const started = performance.now();
      await Promise.all(Array.from({ length: parallel }, (_, partition) => commit(partition, n)));
      // The first one warms the table up, as the other figures' first event does.
      if (n > 0) latencies.push(performance.now() - started);
    }
    return quantile(latencies, 0.5);
  } finally {
    await dynamo.send(new DeleteTableCommand({ TableName }));
  }
}

/** The emulator alone: SNS FIFO -> N raw FIFO queues, each drained by a long-poll receiver. */
async function rawFanOut(
  sns: SNSClient,
  sqs: SQSClient,
  nodeCount: number,
  options: { events: number; burst: number; changeSet?: number },
  name: string,
  cpu?: ClusterCpu,
) {
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `${name}.fifo`, Attributes: { FifoTopic: 'true' } }));
  const queueUrls: string[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const queueName = `${name}-${i}.fifo`;
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: queueName, Attributes: { FifoQueue: 'true' } }));
    await sns.send(
      new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: `arn:aws:sqs:${LOCAL_REGION}:000000000000:${queueName}`, Attributes: { RawMessageDelivery: 'true' } }),
    );
    queueUrls.push(QueueUrl as string);
  }
  // seen[i] = how many messages queue i has received so far.
  const seen = new Array(nodeCount).fill(0) as number[];
  let running = true;
  const receivers = queueUrls.map(async (url, i) => {
    while (running) {
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      if (!Messages?.length) continue;
      seen[i] = (seen[i] as number) + Messages.length;
      await sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: url, Entries: Messages.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle as string })) }),
      );
    }
  });
  let sent = 0;
  const send = () =>
    sns.send(new PublishCommand({ TopicArn, Message: JSON.stringify({ n: sent }), MessageGroupId: 'bench', MessageDeduplicationId: `m${sent++}` }));
  const receivedEverywhere = async (count: number) => {
    while (!seen.every((n) => n >= count)) await sleep(2);
  };
  try {
    // Warmed up like the cluster's path (benchPropagation), so both sides are measured warm.
    for (let i = 0; i < Math.max(options.events, 1); i++) {
      await send();
      await receivedEverywhere(sent);
    }
    const latencies: number[] = [];
    for (let i = 0; i < options.events; i++) {
      const started = performance.now();
      await send();
      await receivedEverywhere(sent);
      latencies.push(performance.now() - started);
    }
    const burstStart = performance.now();
    const burstCpu = cpu?.start();
    let remaining = options.burst;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (remaining-- > 0) await send();
      }),
    );
    await receivedEverywhere(sent);
    const perSecond = options.burst / ((performance.now() - burstStart) / 1000);
    const burstSplit = burstCpu?.end();
    let changeSetMs: number | undefined;
    if (options.changeSet) {
      const started = performance.now();
      for (let batch = 0; batch < options.changeSet; batch += 10) {
        const entries = Array.from({ length: Math.min(10, options.changeSet - batch) }, (_, i) => ({
          Id: String(i),
          Message: JSON.stringify({ n: sent }),
          MessageGroupId: 'bench',
          MessageDeduplicationId: `m${sent++}`,
        }));
        await sns.send(new PublishBatchCommand({ TopicArn, PublishBatchRequestEntries: entries }));
      }
      await receivedEverywhere(sent);
      changeSetMs = performance.now() - started;
    }
    return { latency: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) }, perSecond, changeSetMs, burstCpu: burstSplit };
  } finally {
    running = false;
    await Promise.all(receivers);
  }
}

export interface CallCount {
  /** The function's construct path; every slave's apply function as `ConfigSync/<each slave>/Apply`, averaged over them. */
  readonly function: string;
  readonly operation: string;
  /** Calls per event of the phase, by one instance of the function (one slave's apply function). */
  readonly perEvent: number;
  /** How many such functions the cluster runs (the slaves, for their apply functions; otherwise 1). */
  readonly functions: number;
}

/** Calls per event of the whole cluster: every slave's apply function counted. */
export function clusterCallsPerEvent(counts: readonly CallCount[]): number {
  return counts.reduce((total, count) => total + count.perEvent * count.functions, 0);
}

export interface CallPhase {
  readonly name: 'sequential' | 'burst';
  readonly events: number;
  /** Calls per event until every node had applied the phase's last event. */
  readonly untilApplied: CallCount[];
  /** The same, once the nodes' queues had drained too (the duplicates of events a node applied from the log). */
  readonly withDrain: CallCount[];
  /** Calls per second from the phase's first publish until every node had applied its last event. */
  readonly callsPerSecond: number;
  /** Events applied on every node per second over the same span. */
  readonly eventsPerSecond: number;
}

const SLAVE_APPLY = 'ConfigSync/<each slave>/Apply';

/**
 * Diagnostic, not a goal: the DynamoDB calls each function sends per event, counted by the local
 * IAM gate (which every function's DynamoDB traffic goes through when it is on), for sequential
 * publishes and for a burst from four publishers at once. A count does not move with the load
 * of a shared machine the way a time does, so it shows what a change to the publish or apply path
 * saves; and DynamoDB Local commits writes one at a time, so calls per event bound the burst
 * here: events/s at most the emulator's calls/s divided by the calls per event. The gate adds a
 * hop to every call, so the times of this part are not comparable with the other parts'.
 */
export async function benchPropagationCalls(nodeCount: number, options: { events: number; burst: number }): Promise<CallPhase[]> {
  const bench = await startBenchCluster(nodeCount, { iam: true, logName: `bench-calls-${nodeCount}` });
  const { cluster, slaves, cursors, publish } = bench;
  const observer = new AppliedObserver(slaves, cursors);
  const stopObserving = cluster.onLine((line) => observer.line(line));
  const counts = async (): Promise<Map<string, number>> => {
    const response = await fetch(`${cluster.url}/__local/dynamo-calls`);
    if (response.status !== 200) throw new Error(`GET /__local/dynamo-calls answered ${response.status}: ${await response.text()}`);
    const rows = (await response.json()) as { function: string; operation: string; calls: number }[];
    const slaveApply = /^ConfigSync\/slave-\d+\/Apply$/;
    const grouped = new Map<string, number>();
    for (const row of rows) {
      const ofSlave = slaveApply.test(row.function);
      const key = `${ofSlave ? SLAVE_APPLY : row.function}\t${row.operation}`;
      grouped.set(key, (grouped.get(key) ?? 0) + (ofSlave ? row.calls / slaves.length : row.calls));
    }
    return grouped;
  };
  const perEvent = (before: Map<string, number>, after: Map<string, number>, events: number): CallCount[] =>
    [...after]
      .map(([key, calls]) => {
        const [fn = '', operation = ''] = key.split('\t');
        return { function: fn, operation, perEvent: (calls - (before.get(key) ?? 0)) / events, functions: fn === SLAVE_APPLY ? slaves.length : 1 };
      })
      .filter((count) => count.perEvent > 0)
      .sort((a, b) => a.function.localeCompare(b.function) || a.operation.localeCompare(b.operation));
  try {
    // Warm-up, as in the timed part: first deliveries pay module init, the JVM its first passes.
    for (let i = 0; i < Math.max(options.events, 1); i++) await observer.applied(await publish(), 60_000);
    await bench.drained();
    const phases: CallPhase[] = [];
    const measure = async (name: CallPhase['name'], events: number, run: () => Promise<number>) => {
      const before = await counts();
      const started = epochNow();
      const last = await run();
      const appliedAt = await observer.applied(last, 120_000);
      const atApplied = await counts();
      await bench.drained();
      const untilApplied = perEvent(before, atApplied, events);
      const seconds = (appliedAt - started) / 1000;
      phases.push({
        name,
        events,
        untilApplied,
        withDrain: perEvent(before, await counts(), events),
        callsPerSecond: (clusterCallsPerEvent(untilApplied) * events) / seconds,
        eventsPerSecond: events / seconds,
      });
    };
    await measure('sequential', options.events, async () => {
      let last = 0;
      for (let i = 0; i < options.events; i++) {
        last = await publish();
        await observer.applied(last, 60_000);
      }
      return last;
    });
    await measure('burst', options.burst, () => bench.publishBurst(options.burst));
    return phases;
  } finally {
    stopObserving();
    await bench.stop();
  }
}
