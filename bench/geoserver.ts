/**
 * GeoServer nodes, on a spawned local cluster with two slaves, each with a stand-in GeoServer:
 * - apply: events applied per second to the stand-ins (publish on the master until both slaves'
 *   cursors reach the last event), against the SAME REST calls sent directly to two fresh
 *   stand-ins in the same run (the apply's own REST mapping, `applyToGeoServer`, driven
 *   in-process with the object as the store holds it after each event: no queue, no store).
 *   Events are published one at a time, so this figure cannot exceed the publish requests' own
 *   rate, which is printed beside it (the time spent in them alone);
 * - backlog: a second stream published while both slaves' queue pollers are paused, then the
 *   time from resuming them until both cursors reach its last event: the rate at which a node
 *   applies what its queue holds (queue, function, store, GeoServer), without the publish
 *   path, against the same direct figure;
 * - reconcile: a store of `reconcileObjects` objects (seeded straight into the node store)
 *   reconciled into an empty stand-in GeoServer by the job mechanism (once the nodes' queues are
 *   empty: the backlog's messages outlast its read ahead), objects per second,
 *   against the same objects POSTed directly to a fresh stand-in (one call each).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CachedCredentials, HttpGeoServer } from '../lambdas/config-sync/adapters/geoserver-http';
import { DynamoNodeStore } from '../lambdas/config-sync/adapters/dynamo-node-store';
import type { ConfigChange } from '../lambdas/config-sync/events';
import { applyToGeoServer } from '../lambdas/config-sync/geoserver/apply';
import { REST_MAPPING, restBody, restTarget } from '../lambdas/config-sync/geoserver/rest-mapping';
import { mergePatchObject, type JsonObject } from '../lambdas/config-sync/merge-patch';
import { cdkJsonContext } from '../cdk/app';
import { synthesizeTopology } from '../local/cluster';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/emulators';
import { spawnLocalCluster } from '../local/spawn';
import { startGeoServerStandIn, type GeoServerStandIn } from '../test/support/geoserver-standin';
import { seedObjects } from '../test/support/seed-catalog';

export interface GeoServerFigures {
  events: number;
  appliedPerSecond: number;
  /** The publish requests of the first stream alone (their summed time). */
  publishPerSecond: number;
  /** Events a paused node's queue held, applied per second once its poller resumed. */
  backlogPerSecond: number;
  /** Apply invocations of the GeoServer nodes during the backlog's drain (both nodes). */
  backlogInvocations: number;
  directPerSecond: number;
  reconcileObjects: number;
  reconciledPerSecond: number;
  directPostsPerSecond: number;
  reconcileSlices: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const SLAVES = ['gs-1', 'gs-2'];
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 250);

/** A GeoServer-consistent stream: workspaces, stores, styles, feature types with their layers, modifies, removes. */
export function geoServerEvents(count: number, prefix = 'bench'): ConfigChange[] {
  const changes: ConfigChange[] = [];
  for (let round = 0; changes.length < count; round += 1) {
    const ws = `${prefix}${round}`;
    changes.push({ kind: 'add', object: { type: 'workspace', id: ws }, properties: { name: ws, isolated: false } });
    changes.push({ kind: 'add', object: { type: 'dataStore', id: `${ws}:pg` }, properties: { name: 'pg', type: 'PostGIS', enabled: true, workspace: { name: ws } } });
    changes.push({
      kind: 'add',
      object: { type: 'style', id: `${ws}:line` },
      properties: { name: 'line', format: 'sld', languageVersion: { version: '1.0.0' }, body: `<?xml version="1.0"?><StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>${ws}</Name></NamedLayer></StyledLayerDescriptor>` },
    });
    for (let t = 0; t < 4; t += 1) {
      const id = `${ws}:t${t}`;
      changes.push({ kind: 'add', object: { type: 'featureType', id }, properties: { name: `t${t}`, title: `t${t} of ${ws}`, srs: 'EPSG:4326', store: { '@class': 'dataStore', name: `${ws}:pg` } } });
      changes.push({ kind: 'add', object: { type: 'layer', id }, properties: { name: `t${t}`, resource: { '@class': 'featureType', name: id }, queryable: true } });
      changes.push({ kind: 'modify', object: { type: 'featureType', id }, patch: { title: `t${t} of ${ws}, retitled`, abstract: 'changed' } });
    }
    changes.push({ kind: 'remove', object: { type: 'layer', id: `${ws}:t3` } });
    changes.push({ kind: 'remove', object: { type: 'featureType', id: `${ws}:t3` } });
  }
  return changes.slice(0, count);
}

function credentials(): CachedCredentials {
  return new CachedCredentials(async () => ({ username: 'admin', password: 'geoserver' }));
}

/** The same REST calls the apply makes, straight to `geoserver`: each event's object as the store then holds it. */
async function applyDirectly(geoserver: GeoServerStandIn, changes: readonly ConfigChange[]): Promise<void> {
  const rest = new HttpGeoServer({ url: geoserver.url, credentials: credentials() });
  const held = new Map<string, JsonObject>();
  for (const change of changes) {
    const key = `${change.object.type}/${change.object.id}`;
    const step =
      change.kind === 'remove'
        ? ({ kind: 'remove', type: change.object.type, id: change.object.id, properties: held.get(key) ?? {}, recurse: change.recurse === true } as const)
        : ({
            kind: 'upsert',
            type: change.object.type,
            id: change.object.id,
            properties: change.kind === 'add' ? change.properties : mergePatchObject(held.get(key), change.patch),
            incomplete: false,
            deleted: [],
          } as const);
    if (step.kind === 'upsert') held.set(key, step.properties);
    const outcome = await applyToGeoServer(rest, step);
    if (outcome.kind !== 'applied') throw new Error(`direct apply of ${key} was refused: ${outcome.answer}`);
  }
}

/** Apply invocations of the GeoServer nodes so far, counted from their log lines ("batch applied"). */
function countInvocations(logFile: string): number {
  const text = readFileSync(logFile, 'utf8');
  let count = 0;
  for (const line of text.split('\n')) {
    if (line.includes('"message":"batch applied"') && SLAVES.some((node) => line.includes(`"node":"${node}"`))) count += 1;
  }
  return count;
}

export async function benchGeoServer(options: { events: number; reconcileObjects: number }): Promise<GeoServerFigures> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'sgc-geoserver-'));
  const standIns = new Map<string, GeoServerStandIn>();
  for (const node of SLAVES) standIns.set(node, await startGeoServerStandIn());
  const clusterConfig = {
    name: 'bench-gs',
    nodes: [{ name: 'master-1', role: 'master' }, ...SLAVES.map((name) => ({ name, role: 'slave', geoserver: { url: standIns.get(name)!.url, credentialsSecret: `local/${name}` } }))],
  };
  const clusterFile = path.join(scratch, 'cluster.json');
  writeFileSync(clusterFile, JSON.stringify(clusterConfig));
  const topology = synthesizeTopology(path.join(scratch, 'cdk.out'), { ...cdkJsonContext(), cluster: clusterConfig });
  const storeTable = topology.tables.find((table) => table.logicalId.startsWith('ConfigSyncNodeStore'))?.tableName;
  if (!storeTable) throw new Error('node store table not found in the template');
  const logFile = path.join(__dirname, '..', '.local', 'bench-geoserver.log');
  const cluster = await spawnLocalCluster({
    logFile,
    extraArgs: ['--cluster-file', clusterFile, '--no-iam'],
  });
  const api = async (method: string, route: string, node = 'master-1', body?: unknown) => {
    const response = await fetch(`${cluster.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${cluster.tokens[node]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  // Polled every 250 ms, not faster: GET /nodes reads every node's store, queues and jobs, and
  // polled every 20 ms it took a large share of the two cores the nodes being timed run on.
  const cursorsAt = async (sequence: number, timeoutMs: number) => {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(POLL_MS)) {
      const nodes = (await api('GET', '/nodes')).body.nodes as { name: string; lastAppliedSequence: number }[];
      if (SLAVES.every((name) => (nodes.find((node) => node.name === name)?.lastAppliedSequence ?? 0) >= sequence)) return;
    }
    throw new Error(`sequence ${sequence} not applied on every GeoServer node within ${timeoutMs} ms`);
  };
  try {
    // Warm both apply functions.
    const warm = await api('POST', '/config/events', 'master-1', { kind: 'add', object: { type: 'workspace', id: 'warm' }, properties: { name: 'warm' } });
    await cursorsAt(warm.body.sequence, 60_000);

    const publishAll = async (stream: readonly ConfigChange[]) => {
      let sequence = 0;
      let publishing = 0;
      for (const change of stream) {
        const sent = performance.now();
        const answer = await api('POST', '/config/events', 'master-1', change);
        publishing += performance.now() - sent;
        if (answer.status !== 201) throw new Error(`publish answered ${answer.status}: ${JSON.stringify(answer.body)}`);
        sequence = answer.body.sequence;
      }
      return { last: sequence, publishingMs: publishing };
    };
    const queuesDrained = async (timeoutMs: number) => {
      for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(POLL_MS)) {
        const nodes = (await api('GET', '/nodes')).body.nodes as { name: string; queueDepth: number | null }[];
        if (SLAVES.every((name) => nodes.find((node) => node.name === name)?.queueDepth === 0)) return;
      }
      throw new Error(`the GeoServer nodes' queues still held messages after ${timeoutMs} ms`);
    };
    const noneParked = async () => {
      for (const node of SLAVES) {
        const listed = (await api('GET', '/nodes')).body.nodes.find((entry: { name: string }) => entry.name === node);
        if (listed.parked.length > 0) throw new Error(`${node} parked events: ${JSON.stringify(listed.parked)}`);
      }
    };
    const changes = geoServerEvents(options.events);
    const started = performance.now();
    const published = await publishAll(changes);
    let last = published.last;
    await cursorsAt(last, 300_000);
    const appliedPerSecond = changes.length / ((performance.now() - started) / 1000);
    const publishPerSecond = changes.length / (published.publishingMs / 1000);
    await noneParked();

    // The backlog: the same shape of stream queued while both nodes' pollers are paused.
    const poller = async (node: string, action: 'pause' | 'resume') => {
      const answer = await api('POST', `/__local/pollers/${encodeURIComponent(`ConfigSync/${node}/Apply`)}/${action}`);
      if (answer.status !== 200) throw new Error(`${action} ${node}: ${answer.status} ${JSON.stringify(answer.body)}`);
    };
    for (const node of SLAVES) await poller(node, 'pause');
    const backlog = geoServerEvents(options.events, 'backlog');
    last = (await publishAll(backlog)).last;
    const invocationsBefore = countInvocations(logFile);
    const drainStart = performance.now();
    for (const node of SLAVES) await poller(node, 'resume');
    await cursorsAt(last, 300_000);
    const backlogPerSecond = backlog.length / ((performance.now() - drainStart) / 1000);
    const backlogInvocations = countInvocations(logFile) - invocationsBefore;
    await noneParked();
    // A read ahead applies a backlog before its queue has brought it: the queue then still holds
    // the events' messages, delivered as duplicates. The reconcile below waits for none of them.
    await queuesDrained(120_000);

    // The same REST calls, sent directly: two fresh stand-ins in parallel, as the two nodes apply.
    const direct = [await startGeoServerStandIn(), await startGeoServerStandIn()];
    const directStart = performance.now();
    await Promise.all(direct.map((geoserver) => applyDirectly(geoserver, changes)));
    const directPerSecond = changes.length / ((performance.now() - directStart) / 1000);
    for (const geoserver of direct) await geoserver.close();

    // Reconcile: a large store seeded straight into gs-2's partition, its GeoServer emptied.
    const objects = seedObjects(options.reconcileObjects, 'master-1');
    const store = new DynamoNodeStore({
      tableName: storeTable,
      client: new DynamoDBClient({ endpoint: cluster.emulators.dynamo, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
    });
    await store.replaceWithSnapshot('gs-2', { cluster: 'bench-gs', sourceNode: 'master-1', sequence: last, objects });
    const gs2 = standIns.get('gs-2')!;
    for (const map of Object.values(gs2.catalog.objects)) map.clear();
    gs2.catalog.styleBodies.clear();
    const reconcileStart = performance.now();
    const job = await api('POST', '/nodes/gs-2/reconcile');
    if (job.status !== 202) throw new Error(`reconcile answered ${job.status}: ${JSON.stringify(job.body)}`);
    let ended: any;
    for (const deadline = Date.now() + 1_800_000; Date.now() < deadline; await sleep(500)) {
      ended = (await api('GET', `/nodes/gs-2/jobs/${job.body.job.id}`)).body.job;
      if (ended.state === 'succeeded' || ended.state === 'failed') break;
    }
    if (ended?.state !== 'succeeded' || ended.progress.fixed !== objects.length) throw new Error(`reconcile ended ${JSON.stringify(ended)}`);
    const reconciledPerSecond = objects.length / ((performance.now() - reconcileStart) / 1000);
    const held = gs2.catalog.objects.featureType.size + gs2.catalog.objects.layer.size + gs2.catalog.objects.workspace.size + gs2.catalog.objects.dataStore.size;
    if (held !== objects.length) throw new Error(`the GeoServer holds ${held} objects after the reconcile, not ${objects.length}`);

    // The same objects POSTed directly, one call each (layers come with their feature types: PUT).
    const fresh = await startGeoServerStandIn();
    const rest = new HttpGeoServer({ url: fresh.url, credentials: credentials() });
    const directPostStart = performance.now();
    for (const object of objects) {
      const target = restTarget(object.type, object.id, object.properties);
      const mapping = REST_MAPPING[object.type];
      const response = await rest.send({
        method: mapping.collection ? 'POST' : 'PUT',
        path: mapping.collection ? mapping.collection(target) : mapping.item(target),
        body: { json: restBody(object.type, target, object.properties) },
      });
      if (response.status >= 300) throw new Error(`direct ${object.type} ${object.id}: ${response.status} ${response.text}`);
    }
    const directPostsPerSecond = objects.length / ((performance.now() - directPostStart) / 1000);
    await fresh.close();
    return {
      events: changes.length,
      appliedPerSecond,
      publishPerSecond,
      backlogPerSecond,
      backlogInvocations,
      directPerSecond,
      reconcileObjects: objects.length,
      reconciledPerSecond,
      directPostsPerSecond,
      reconcileSlices: ended.slices,
    };
  } finally {
    await cluster.stop();
    for (const geoserver of standIns.values()) await geoserver.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
