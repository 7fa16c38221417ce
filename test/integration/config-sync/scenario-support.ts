/**
 * Support for the configuration-sync scenarios: a cluster of a given shape spawned through the
 * `npm start` entry point (in memory, free ports), a client for its HTTP API and for its SQS
 * queues on the emulator, and an independent model of the store every node must converge to.
 *
 * The model is computed by the test from the changes it sent and the sequence, origin and
 * publish time the service gave each one, with its own merge patch: a node converging to the
 * WRONG state (an event skipped, applied twice, out of order or under another rule) fails the
 * comparison even when every node is wrong the same way.
 */
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { spawnLocalCluster, type SpawnedCluster } from '../../../local/spawn';
import { CONFIG_SYNC_LOCAL_ENV } from '../../../lambdas/config-sync/env-names';
import { clusterClient, type ApiResponse, type ClusterClient, type JsonBody, type TypedApi } from '../../support/cluster-client';
import { pick, seededRandom } from '../../support/random';

// ---------------------------------------------------------------------------------------------
// JSON, changes and stored objects as the tests see them (deliberately not the product's types)

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Ref {
  type: string;
  id: string;
}

/** A change as the API takes it, from the model's Change (whose object types are any string; the generator picks documented ones). */
export const asPublished = (change: Change | { changes: readonly Change[] }) => change as JsonBody<'POST', '/config/events'>;

export type Change =
  | { kind: 'add'; object: Ref; properties: JsonObject }
  | { kind: 'modify'; object: Ref; patch: JsonObject }
  | { kind: 'remove'; object: Ref };

export interface CatalogObject {
  type: string;
  id: string;
  properties: JsonObject;
  lastSequence: number;
  lastOrigin: string;
  updatedAt: string;
  deleted: boolean;
  incomplete: boolean;
}

export interface NodeStatus {
  name: string;
  role: 'master' | 'slave' | 'both';
  lastAppliedSequence: number;
  lag: number;
  queueDepth: number | null;
  deadLetterDepth: number | null;
}

export interface NodesAnswer {
  head: number;
  nodes: NodeStatus[];
}

export interface PublishAnswer {
  sequence: number;
  event: Record<string, any> & { sequence: number; origin: string; publishedAt: string; cluster: string };
  published: boolean;
  appliedLocally: boolean;
}

export interface ClusterNodeDecl {
  name: string;
  role: 'master' | 'slave' | 'both';
  /** The node's own GeoServer (a stand-in in tests); credentials come from the environment locally. */
  geoserver?: { url: string; credentialsSecret: string };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * For a scenario cluster that passes it: its functions retry a GeoServer that cannot take
 * changes, and a failed job slice, after 1 s, 2 s, 4 s, ... instead of 10 s, 20 s, 40 s: such a
 * scenario shows what a node does while its GeoServer is down and once it recovers, not how long
 * the backoff is. The product's 10 s is held by handlers.test.ts (no redelivery before it) and
 * the unit tests.
 */
export const FAST_RETRY_ENV: Readonly<Record<string, string>> = { [CONFIG_SYNC_LOCAL_ENV.retryBackoffBaseSeconds]: '1' };

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * RFC 7386, written here independently of the product's implementation. Keys are defined, not
 * assigned, so `__proto__` is an ordinary key here as in JSON.
 */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else {
      const current = Object.hasOwn(result, key) ? result[key] : undefined;
      Object.defineProperty(result, key, { value: mergePatch(current, value), enumerable: true, writable: true, configurable: true });
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// The expected store

interface RecordedEvent {
  change: Change;
  sequence: number;
  origin: string;
  publishedAt: string;
}

/** Every event published in a cluster, and the store they must produce when applied in sequence order. */
export class ExpectedStore {
  private readonly events = new Map<number, RecordedEvent>();
  private readonly voids = new Set<number>();

  record(change: Change, answer: PublishAnswer): void {
    if (this.events.has(answer.sequence)) throw new Error(`sequence ${answer.sequence} was given twice`);
    this.events.set(answer.sequence, {
      change,
      sequence: answer.sequence,
      origin: answer.event.origin,
      publishedAt: answer.event.publishedAt,
    });
  }

  /** A sequence the log holds as void (a publisher that lost an Idempotency-Key race gave it up). */
  recordVoid(sequence: number): void {
    if (this.events.has(sequence) || this.voids.has(sequence)) throw new Error(`sequence ${sequence} was given twice`);
    this.voids.add(sequence);
  }

  get head(): number {
    return Math.max(0, ...this.events.keys(), ...this.voids);
  }

  /** type/id -> object, after every recorded event in sequence order (which must have no gap). */
  objects(): Map<string, CatalogObject> {
    const objects = new Map<string, CatalogObject>();
    for (let sequence = 1; sequence <= this.head; sequence += 1) {
      if (this.voids.has(sequence)) continue;
      const event = this.events.get(sequence);
      if (!event) throw new Error(`sequence ${sequence} is missing from what the publishes returned (the log has a gap)`);
      const { change } = event;
      const key = `${change.object.type}/${change.object.id}`;
      const existing = objects.get(key);
      const live = existing && !existing.deleted ? existing : undefined;
      const stamp = { type: change.object.type, id: change.object.id, lastSequence: sequence, lastOrigin: event.origin, updatedAt: event.publishedAt };
      switch (change.kind) {
        case 'add':
          objects.set(key, { ...stamp, properties: structuredClone(change.properties), deleted: false, incomplete: false });
          break;
        case 'modify':
          objects.set(key, {
            ...stamp,
            properties: mergePatch(live?.properties ?? {}, change.patch) as JsonObject,
            deleted: false,
            // A modify of an object the node never saw added is recorded, marked incomplete.
            incomplete: live ? live.incomplete : true,
          });
          break;
        case 'remove':
          objects.set(key, { ...stamp, properties: {}, deleted: true, incomplete: false });
          break;
      }
    }
    return objects;
  }
}

/**
 * What a user compares: a live object entirely; a removed one by the fact and the event that
 * removed it (a tombstone's leftover fields are the store's business).
 */
export function comparable(object: CatalogObject): Record<string, unknown> {
  if (object.deleted) {
    return { type: object.type, id: object.id, deleted: true, lastSequence: object.lastSequence, lastOrigin: object.lastOrigin };
  }
  return {
    type: object.type,
    id: object.id,
    properties: object.properties,
    lastSequence: object.lastSequence,
    lastOrigin: object.lastOrigin,
    updatedAt: object.updatedAt,
    deleted: false,
    incomplete: object.incomplete,
  };
}

// ---------------------------------------------------------------------------------------------
// A spawned cluster of a given shape

export class SyncCluster {
  readonly expected = new ExpectedStore();
  /** Nodes whose poller the test paused (they are not expected to follow the head). */
  readonly paused = new Set<string>();
  private queueUrls: { id: string; url: string }[] = [];
  private injected = 0;

  private constructor(
    readonly name: string,
    readonly nodes: readonly ClusterNodeDecl[],
    readonly spawned: SpawnedCluster,
    readonly client: ClusterClient,
    readonly sqs: SQSClient,
    private readonly tempDir: string,
  ) {}

  /**
   * `settings`: more cluster configuration keys, e.g. `{ gateway: { enabled: true } }`.
   * `env`: the local runtime's test tuning (CONFIG_SYNC_LOCAL_PASSTHROUGH_ENV), e.g. FAST_RETRY_ENV.
   */
  static async start(
    name: string,
    nodes: readonly ClusterNodeDecl[],
    logName: string,
    settings: Record<string, unknown> = {},
    env: Record<string, string> = {},
  ): Promise<SyncCluster> {
    const tempDir = mkdtempSync(path.join(tmpdir(), `config-sync-${name}-`));
    const clusterFile = path.join(tempDir, 'cluster.json');
    writeFileSync(clusterFile, JSON.stringify({ name, nodes, ...settings }));
    const spawned = await spawnLocalCluster({
      logFile: path.resolve(__dirname, '..', '..', '..', '.local', `integration-${logName}-cluster.log`),
      extraArgs: ['--cluster-file', clusterFile],
      env,
      // Under the files' 180 s beforeAll: a start that times out is stopped, not left running.
      timeoutMs: 170_000,
    });
    const sqs = new SQSClient({
      endpoint: spawned.emulators.aws,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      useQueueUrlAsEndpoint: false,
    });
    const cluster = new SyncCluster(name, nodes, spawned, clusterClient(spawned.url, spawned.tokens), sqs, tempDir);
    const queues = await cluster.client.api('GET', '/__local/queues');
    if (queues.status !== 200) throw new Error(`GET /__local/queues: ${queues.status} ${queues.text}`);
    cluster.queueUrls = queues.body;
    return cluster;
  }

  async stop(): Promise<void> {
    this.sqs.destroy();
    await this.spawned.stop();
    rmSync(this.tempDir, { recursive: true, force: true });
  }

  get masters(): string[] {
    return this.nodes.filter((node) => node.role !== 'slave').map((node) => node.name);
  }

  get consumers(): string[] {
    return this.nodes.filter((node) => node.role !== 'master').map((node) => node.name);
  }

  get api(): TypedApi {
    return this.client.api;
  }

  /** Waits until a node's job has ended; answers it as GET /nodes/{node}/jobs/{id} shows it. */
  async jobEnded(node: string, id: string, timeoutMs = 90_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await this.api('GET', `/nodes/${node}/jobs/${id}`, { node });
      expect(response.status).toBe(200);
      const job = response.body.job;
      if (job.state === 'succeeded' || job.state === 'failed') return job;
      if (Date.now() > deadline) throw new Error(`job ${id} on ${node} still ${job.state} in ${job.phase}: ${JSON.stringify(job.progress)}`);
      await sleep(250);
    }
  }

  /** Reads of the nodes and their catalogs need a token: any node's reads (the first node's here). */
  get reader(): { readonly node: string } {
    return { node: (this.nodes[0] as { name: string }).name };
  }

  // --- publishing -----------------------------------------------------------------------------

  /** Publishes a change from `node`; expects 201 and records the event in the model. */
  async publish(node: string, change: Change): Promise<PublishAnswer> {
    // The model's Ref types its object type as any string; the generator only picks documented ones.
    const response = await this.api('POST', '/config/events', { node, json: asPublished(change) });
    if (response.status !== 201) {
      throw new Error(`publish from ${node} of ${JSON.stringify(change).slice(0, 200)}: ${response.status} ${response.text.slice(0, 500)}`);
    }
    this.expected.record(change, response.body);
    return response.body;
  }

  /** Publishes every change with at most `concurrency` requests in flight; answers in input order. */
  async publishAll(node: string, changes: readonly Change[], concurrency = 8): Promise<PublishAnswer[]> {
    const answers = new Array<PublishAnswer>(changes.length);
    let next = 0;
    const worker = async () => {
      while (next < changes.length) {
        const index = next;
        next += 1;
        answers[index] = await this.publish(node, changes[index] as Change);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, changes.length) }, worker));
    return answers;
  }

  // --- observing ------------------------------------------------------------------------------

  async status(): Promise<NodesAnswer> {
    const response = await this.api('GET', '/nodes', this.reader);
    if (response.status !== 200) throw new Error(`GET /nodes: ${response.status} ${response.text}`);
    return response.body;
  }

  async nodeStatus(name: string): Promise<NodeStatus> {
    const found = (await this.status()).nodes.find((node) => node.name === name);
    if (!found) throw new Error(`GET /nodes does not list ${name}`);
    return found;
  }

  /**
   * Polls GET /nodes until `done` holds, or fails after `timeoutMs` with the last answer.
   * @returns the answer that satisfied it
   */
  async waitForNodes(description: string, done: (answer: NodesAnswer) => boolean, timeoutMs = 45_000): Promise<NodesAnswer> {
    const deadline = Date.now() + timeoutMs;
    let last: NodesAnswer | undefined;
    for (;;) {
      last = await this.status();
      if (done(last)) return last;
      if (Date.now() > deadline) {
        throw new Error(`Timed out after ${timeoutMs} ms waiting until ${description}; last GET /nodes: ${JSON.stringify(last)}`);
      }
      await sleep(200);
    }
  }

  /**
   * Waits until every node of `nodes` (default: every node not paused) has applied the log
   * up to the head, the head is the last sequence the tests published, and (for consumers)
   * its queue is empty.
   */
  async waitConverged(nodes: readonly string[] = this.nodes.map((n) => n.name).filter((n) => !this.paused.has(n)), timeoutMs = 45_000): Promise<NodesAnswer> {
    const head = this.expected.head;
    return this.waitForNodes(
      `${nodes.join(', ')} applied every event up to ${head}`,
      (answer) =>
        answer.head === head &&
        nodes.every((name) => {
          const node = answer.nodes.find((candidate) => candidate.name === name);
          return node !== undefined && node.lastAppliedSequence === head && node.lag === 0 && (node.queueDepth ?? 0) === 0;
        }),
      timeoutMs,
    );
  }

  /** The node's whole store, tombstones included, paging through GET /nodes/{node}/catalog. */
  async catalog(node: string, pageSize = 100): Promise<CatalogObject[]> {
    const objects: CatalogObject[] = [];
    let next: string | undefined;
    let pages = 0;
    do {
      const query = new URLSearchParams({ includeDeleted: 'true', limit: String(pageSize) });
      if (next !== undefined) query.set('next', next);
      const response = await this.api(
        'GET',
        `/nodes/${encodeURIComponent(node)}/catalog?${query.toString()}`,
        this.reader,
      );
      if (response.status !== 200) throw new Error(`GET catalog of ${node}: ${response.status} ${response.text.slice(0, 300)}`);
      // The document types properties as unknown values; the model's as JSON, which they are.
      objects.push(...(response.body.objects as CatalogObject[]));
      next = response.body.next;
      pages += 1;
      if (pages > 10_000) throw new Error('catalog paging does not end');
    } while (next !== undefined);
    return objects;
  }

  /** The model's store, in the catalog's order (`type/id`). */
  expectedCatalog(): Record<string, unknown>[] {
    return [...this.expected.objects().entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, object]) => comparable(object));
  }

  async objectOf(node: string, type: string, id: string): Promise<ApiResponse<CatalogObject>> {
    return (await this.api('GET', `/nodes/${encodeURIComponent(node)}/catalog/${type}/${encodeURIComponent(id)}`, this.reader)) as ApiResponse<CatalogObject>;
  }

  // --- the local runtime: pollers and queues --------------------------------------------------

  pollerName(node: string): string {
    return `ConfigSync/${node}/Apply`;
  }

  /** Stops the node's queue poller: the node is down, its queue keeps receiving. */
  async pause(node: string): Promise<void> {
    const response = await this.api('POST', `/__local/pollers/${encodeURIComponent(this.pollerName(node))}/pause`);
    if (response.status !== 200 || response.body.running !== false) throw new Error(`pause ${node}: ${response.status} ${response.text}`);
    this.paused.add(node);
  }

  async resume(node: string): Promise<void> {
    const response = await this.api('POST', `/__local/pollers/${encodeURIComponent(this.pollerName(node))}/resume`);
    if (response.status !== 200 || response.body.running !== true) throw new Error(`resume ${node}: ${response.status} ${response.text}`);
    this.paused.delete(node);
  }

  queueUrl(node: string): string {
    return this.queueNamed(`${this.name}-${node}.fifo`);
  }

  deadLetterQueueUrl(node: string): string {
    return this.queueNamed(`${this.name}-${node}-dlq.fifo`);
  }

  private queueNamed(queueName: string): string {
    const found = this.queueUrls.find((queue) => queue.url.endsWith(`/${queueName}`));
    if (!found) throw new Error(`No queue ${queueName} in GET /__local/queues: ${this.queueUrls.map((q) => q.url).join(', ')}`);
    return found.url;
  }

  /** Sends a message straight into a node's queue, in the cluster's message group unless told otherwise. */
  async inject(node: string, body: string, options: { groupId?: string; origin?: string } = {}): Promise<void> {
    this.injected += 1;
    const attributes: Record<string, MessageAttributeValue> | undefined =
      options.origin === undefined ? undefined : { origin: { DataType: 'String', StringValue: options.origin } };
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl(node),
        MessageBody: body,
        MessageGroupId: options.groupId ?? this.name,
        MessageDeduplicationId: `test-inject-${this.injected}-${Date.now()}`,
        MessageAttributes: attributes,
      }),
    );
  }

  /**
   * Receives and deletes every message of a (paused) node's queue, in queue order. The emulator
   * hands out one message per FIFO group at a time, so this goes one message at a time.
   */
  async drain(node: string): Promise<Message[]> {
    const drained: Message[] = [];
    let empty = 0;
    while (empty < 2) {
      const { Messages: messages = [] } = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl(node),
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: empty === 0 ? 0 : 1,
          VisibilityTimeout: 60,
          MessageSystemAttributeNames: ['MessageGroupId'],
          MessageAttributeNames: ['All'],
        }),
      );
      if (messages.length === 0) {
        empty += 1;
        continue;
      }
      empty = 0;
      for (const message of messages) {
        await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl(node), ReceiptHandle: message.ReceiptHandle }));
        drained.push(message);
      }
    }
    return drained;
  }
}

// ---------------------------------------------------------------------------------------------
// Deterministic changes

/** An SLD document of about `bytes` bytes (many rules), named `name`. */
export function sld(name: string, bytes: number, variant = 0): string {
  const head = `<?xml version="1.0" encoding="UTF-8"?>
<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" xmlns:ogc="http://www.opengis.net/ogc">
  <NamedLayer><Name>${name}</Name><UserStyle><Title>${name} v${variant}</Title><FeatureTypeStyle>
`;
  const tail = `  </FeatureTypeStyle></UserStyle></NamedLayer>
</StyledLayerDescriptor>
`;
  const rules: string[] = [];
  let size = head.length + tail.length;
  for (let i = 0; size < bytes; i += 1) {
    const color = ((i * 2654435761 + variant * 40503) >>> 8) & 0xffffff;
    const rule = `    <Rule><Name>class-${i}</Name><ogc:Filter><ogc:PropertyIsBetween><ogc:PropertyName>value</ogc:PropertyName><ogc:LowerBoundary><ogc:Literal>${i * 10}</ogc:Literal></ogc:LowerBoundary><ogc:UpperBoundary><ogc:Literal>${i * 10 + 10}</ogc:Literal></ogc:UpperBoundary></ogc:PropertyIsBetween></ogc:Filter><PolygonSymbolizer><Fill><CssParameter name="fill">#${color.toString(16).padStart(6, '0')}</CssParameter></Fill></PolygonSymbolizer></Rule>
`;
    rules.push(rule);
    size += rule.length;
  }
  return head + rules.join('') + tail;
}

const WORKSPACES = ['topp', 'sf', 'nurc', 'tiger', 'cite'];
const DATA_STORES = ['states_shp', 'roads_pg', 'rivers_gpkg'];
const FEATURE_TYPES = ['states', 'roads', 'rivers', 'poi'];
const COVERAGE_STORES = ['dem', 'ortho'];
const COVERAGES = ['elevation', 'imagery'];
const STYLES = ['point', 'line', 'polygon', 'heat', 'contour'];
const GROUPS = ['basemap', 'overview'];
const SERVICES = ['WMS', 'WFS', 'WCS', 'WMTS'];

const CATALOG_WEIGHTS: readonly (readonly [string, number])[] = [
  ['workspace', 3],
  ['namespace', 3],
  ['dataStore', 6],
  ['coverageStore', 3],
  ['wmsStore', 2],
  ['wmtsStore', 2],
  ['featureType', 8],
  ['coverage', 4],
  ['wmsLayer', 2],
  ['wmtsLayer', 2],
  ['layer', 10],
  ['layerGroup', 3],
  ['style', 8],
  ['global', 1],
  ['workspaceSettings', 2],
  ['service', 3],
  ['logging', 1],
];
const CONFIGURATION = new Set(['global', 'workspaceSettings', 'service', 'logging']);

/**
 * A realistic mixed stream of changes: objects that reference each other (a feature type its
 * store, a layer its resource and styles, a group its layers), adds that replace, merge patches
 * that add, change and delete nested properties, modifies of objects never added, removes of
 * objects still referenced, configuration changes, and styles with their SLD (now and then a
 * large one, which the service sends through S3).
 */
export class ChangeStream {
  private readonly random: () => number;
  /** What the stream believes is live (its own view, only to make changes plausible). */
  private readonly live = new Map<string, Ref>();
  private counter = 0;
  private largeStylesLeft: number;

  constructor(seed: number, options: { largeStyles?: number } = {}) {
    this.random = seededRandom(seed);
    this.largeStylesLeft = options.largeStyles ?? 0;
  }

  take(count: number): Change[] {
    return Array.from({ length: count }, () => this.next());
  }

  next(): Change {
    this.counter += 1;
    const type = this.weightedType();
    const object = { type, id: this.id(type) };
    const key = `${type}/${object.id}`;
    if (CONFIGURATION.has(type)) return { kind: 'modify', object, patch: this.patch(type) };
    const roll = this.random();
    let change: Change;
    if (this.live.has(key)) {
      if (roll < 0.5) change = { kind: 'modify', object, patch: this.patch(type) };
      else if (roll < 0.75) change = { kind: 'add', object, properties: this.properties(type, object.id) };
      else change = { kind: 'remove', object };
    } else if (roll < 0.85) {
      change = { kind: 'add', object, properties: this.properties(type, object.id) };
    } else if (roll < 0.95) {
      change = { kind: 'modify', object, patch: this.patch(type) };
    } else {
      change = { kind: 'remove', object };
    }
    if (change.kind === 'remove') this.live.delete(key);
    else this.live.set(key, object);
    return change;
  }

  private weightedType(): string {
    const total = CATALOG_WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0);
    let roll = this.random() * total;
    for (const [type, weight] of CATALOG_WEIGHTS) {
      roll -= weight;
      if (roll < 0) return type;
    }
    return 'layer';
  }

  private ws(): string {
    return pick(this.random, WORKSPACES);
  }

  private id(type: string): string {
    const ws = this.ws();
    switch (type) {
      case 'workspace':
      case 'namespace':
      case 'workspaceSettings':
        return ws;
      case 'dataStore':
        return `${ws}:${pick(this.random, DATA_STORES)}`;
      case 'coverageStore':
        return `${ws}:${pick(this.random, COVERAGE_STORES)}`;
      case 'wmsStore':
        return `${ws}:remote_wms`;
      case 'wmtsStore':
        return `${ws}:tiles`;
      case 'featureType':
        return `${ws}:${pick(this.random, FEATURE_TYPES)}`;
      case 'coverage':
        return `${ws}:${pick(this.random, COVERAGES)}`;
      case 'wmsLayer':
        return `${ws}:weather`;
      case 'wmtsLayer':
        return `${ws}:osm`;
      case 'layer':
        return `${ws}:${pick(this.random, [...FEATURE_TYPES, ...COVERAGES])}`;
      case 'layerGroup':
        return this.random() < 0.3 ? pick(this.random, GROUPS) : `${ws}:${pick(this.random, GROUPS)}`;
      case 'style':
        return this.random() < 0.5 ? pick(this.random, STYLES) : `${ws}:${pick(this.random, STYLES)}`;
      case 'service':
        return this.random() < 0.5 ? pick(this.random, SERVICES) : `${ws}:${pick(this.random, SERVICES)}`;
      default:
        return type; // global, logging
    }
  }

  private styleRef(ws: string): string {
    return this.random() < 0.5 ? pick(this.random, STYLES) : `${ws}:${pick(this.random, STYLES)}`;
  }

  private properties(type: string, id: string): JsonObject {
    const [ws = id, name = id] = id.includes(':') ? id.split(':') : [undefined, id];
    const n = this.counter;
    const common: JsonObject = { name, title: `${name} (${n})`, enabled: this.random() < 0.8 };
    switch (type) {
      case 'workspace':
        return { name, isolated: this.random() < 0.2, dateCreated: `2024-01-01T00:00:${String(n % 60).padStart(2, '0')}Z` };
      case 'namespace':
        return { prefix: name, uri: `http://example.org/${name}/${n}` };
      case 'dataStore':
        return {
          ...common,
          workspace: ws,
          type: name.endsWith('_pg') ? 'PostGIS' : 'Shapefile',
          connectionParameters: { url: `file:data/${name}`, charset: 'UTF-8', 'max connections': 10 + (n % 5) },
        };
      case 'coverageStore':
        return { ...common, workspace: ws, type: 'GeoTIFF', url: `file:coverages/${name}-${n}.tif` };
      case 'wmsStore':
        return { ...common, workspace: ws, capabilitiesURL: `https://wms.example.org/${n}?request=GetCapabilities` };
      case 'wmtsStore':
        return { ...common, workspace: ws, capabilitiesURL: `https://wmts.example.org/${n}/WMTSCapabilities.xml` };
      case 'featureType':
        return {
          ...common,
          store: { '@class': 'dataStore', name: `${ws}:${pick(this.random, DATA_STORES)}` },
          nativeName: name,
          srs: pick(this.random, ['EPSG:4326', 'EPSG:3857', 'EPSG:32633']),
          keywords: [name, 'features', `k${n % 7}`],
          nativeBoundingBox: { minx: -180 + (n % 10), miny: -90, maxx: 180, maxy: 90 },
        };
      case 'coverage':
        return { ...common, store: { '@class': 'coverageStore', name: `${ws}:${pick(this.random, COVERAGE_STORES)}` }, nativeFormat: 'GeoTIFF', srs: 'EPSG:4326' };
      case 'wmsLayer':
        return { ...common, store: { '@class': 'wmsStore', name: `${ws}:remote_wms` }, nativeName: `remote_${n}` };
      case 'wmtsLayer':
        return { ...common, store: { '@class': 'wmtsStore', name: `${ws}:tiles` }, nativeName: `tiles_${n}` };
      case 'layer': {
        const resourceType = COVERAGES.includes(name) ? 'coverage' : 'featureType';
        return {
          name,
          resource: { '@class': resourceType, name: id },
          defaultStyle: { type: 'style', id: this.styleRef(ws) },
          styles: [{ type: 'style', id: this.styleRef(ws) }],
          queryable: this.random() < 0.7,
          opaque: false,
        };
      }
      case 'layerGroup': {
        const mode = pick(this.random, ['SINGLE', 'NAMED', 'CONTAINER']);
        const layers = [1, 2, 3].map(() => ({ type: 'layer', id: `${pick(this.random, WORKSPACES)}:${pick(this.random, FEATURE_TYPES)}` }));
        // The entries the events API requires of a group (at least one); a workspace's group holds its own workspace's layers.
        const published = layers.map((layer) => ({ '@type': 'layer', name: id.includes(':') ? `${ws}:${layer.id.split(':')[1]}` : layer.id }));
        return { name, mode, layers, publishables: { published }, styles: [null, { type: 'style', id: this.styleRef(ws) }] };
      }
      case 'style': {
        const large = this.largeStylesLeft > 0 && this.random() < 0.05;
        if (large) this.largeStylesLeft -= 1;
        return {
          name,
          format: 'sld',
          languageVersion: { version: '1.0.0' },
          filename: `${name}.sld`,
          body: sld(name, large ? 260 * 1024 : 400 + Math.floor(this.random() * 3000), n),
        };
      }
      default:
        throw new Error(`no add for ${type}`);
    }
  }

  private patch(type: string): JsonObject {
    const n = this.counter;
    const patch: JsonObject = {};
    const roll = this.random();
    if (type === 'style' && roll < 0.4) {
      patch.body = sld(`patched-${n}`, 300 + Math.floor(this.random() * 1500), n);
      return patch;
    }
    if (type === 'global') return { settings: { verbose: this.random() < 0.5, numDecimals: n % 12 }, proxyBaseUrl: roll < 0.2 ? null : `https://maps.example.org/${n}` };
    if (type === 'logging') return { level: pick(this.random, ['DEFAULT_LOGGING', 'VERBOSE_LOGGING', 'PRODUCTION_LOGGING']), stdOutLogging: roll < 0.5 };
    if (type === 'service') {
      return { enabled: roll < 0.8, maxFeatures: n, metadata: { [`key${n % 4}`]: roll < 0.3 ? null : `value ${n}` }, title: `service ${n}` };
    }
    patch.title = `title ${n}`;
    if (roll < 0.3) patch.abstract = null; // deletes a property
    else if (roll < 0.6) patch.abstract = `abstract ${n}`;
    if (this.random() < 0.5) {
      patch.metadata = { cacheAgeMax: this.random() < 0.3 ? null : n, time: { enabled: this.random() < 0.5, presentation: 'LIST' } };
    }
    if (this.random() < 0.4) patch.keywords = [`k${n % 5}`, `k${n % 3}`];
    if (this.random() < 0.2) patch.enabled = null;
    return patch;
  }
}
