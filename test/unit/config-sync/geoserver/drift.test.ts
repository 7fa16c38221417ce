/**
 * Drift checks, reconciles and their jobs against the stand-in GeoServer over HTTP (the node's
 * store in memory): how representations are compared, the order differences are made good in,
 * a reconcile run in many small slices that is interrupted midway (the GeoServer answering 503)
 * and resumes from its checkpoint to a GeoServer equal to the store, the one-job-per-node
 * lock with its takeover of a stale job, and a capture that reads and publishes under the
 * cluster's write lease, so a gateway write meanwhile is never overwritten by its older read.
 */
import { MemoryJobStore, MemoryNodeStore, MemoryWriteLease } from '../../../../lambdas/config-sync/adapters/memory';
import { leaseSerializer } from '../../../../lambdas/config-sync/gateway/write-lease';
import type { ConfigChange } from '../../../../lambdas/config-sync/events';
import type { GeoServerRest } from '../../../../lambdas/config-sync/geoserver/ports';
import { CachedCredentials, HttpGeoServer } from '../../../../lambdas/config-sync/adapters/geoserver-http';
import { differingPaths, fixOrder, type DriftEntry } from '../../../../lambdas/config-sync/geoserver/drift';
import { GeoServerUnavailableError } from '../../../../lambdas/config-sync/geoserver/errors';
import { AnswerWatchingRest } from '../../../../lambdas/config-sync/geoserver/answer-watch';
import { GeoServerInvocation } from '../../../../lambdas/config-sync/geoserver/invocation';
import type { GeoServerStatus } from '../../../../lambdas/config-sync/geoserver/ports';
import { runJobSlice, type JobRunnerDeps } from '../../../../lambdas/config-sync/job-runner';
import { MAX_JOB_FAILURES, newJob, STALE_AFTER_MS, type Job } from '../../../../lambdas/config-sync/jobs';
import type { GeoServerOutcome } from '../../../../lambdas/config-sync/geoserver/apply';
import type { JsonObject } from '../../../../lambdas/config-sync/merge-patch';
import type { StoredObject } from '../../../../lambdas/config-sync/ports';
import { MemoryEventBodyStore, MemoryEventLog, MemoryEventTopic } from '../../../../lambdas/config-sync/adapters/memory';
import type { PauseState } from '../../../../lambdas/config-sync/pause';
import { publishChange, type PublishDeps } from '../../../../lambdas/config-sync/publish';
import { MemoryNodePauses } from '../fixtures';
import type { GeoServerStandIn } from '../../../support/geoserver-standin';
import { standInPerTest } from '../../../support/standin-per-test';

const NODE = 'gs-1';
const CLUSTER = 'test-cluster';

describe('comparing representations', () => {
  test("a slave counts only what its store states; links and GeoServer's defaults are not drift", () => {
    const stored = { name: 'roads', title: 'Roads', store: { '@class': 'dataStore', name: 'topp:pg' } };
    const held = { name: 'roads', title: 'Roads', enabled: true, store: { '@class': 'dataStore', name: 'topp:pg', href: 'http://gs-1/rest/x.json' } };
    expect(differingPaths(stored, held, 'stored-properties')).toEqual([]);
    expect(differingPaths(stored, held, 'both-ways')).toEqual(['enabled']);
    expect(differingPaths({ ...stored, title: 'Other' }, held, 'stored-properties')).toEqual(['title']);
    expect(differingPaths({ ...stored, store: { name: 'topp:other' } }, held, 'stored-properties')).toEqual(['store.name']);
    // XStream answers some numbers as text.
    expect(differingPaths({ numDecimals: 8 }, { numDecimals: '8' }, 'stored-properties')).toEqual([]);
    expect(differingPaths({ keywords: { string: ['a', 'b'] } }, { keywords: { string: ['b', 'a'] } }, 'stored-properties')).toEqual(['keywords.string']);
  });

  test('differences are made good in dependency order, removals in the reverse', () => {
    const entry = (kind: DriftEntry['kind'], type: DriftEntry['type'], id: string) => ({ kind, type, id }) as DriftEntry;
    const ordered = fixOrder([
      entry('missing', 'layer', 'a:roads'),
      entry('extra', 'workspace', 'x'),
      entry('different', 'featureType', 'a:roads'),
      entry('missing', 'workspace', 'a'),
      entry('extra', 'dataStore', 'x:s'),
      entry('missing', 'dataStore', 'a:pg'),
      entry('extra', 'featureType', 'x:t'),
    ]);
    expect(ordered.map((e) => `${e.kind} ${e.type}`)).toEqual([
      'missing workspace',
      'missing dataStore',
      'different featureType',
      'missing layer',
      'extra featureType',
      'extra dataStore',
      'extra workspace',
    ]);
  });
});

/** The style document read of style `roads` (its info is read with `.json`). */
const isRoadsDocument = (request: { method: string; path: string }) => request.method === 'GET' && request.path.endsWith('/styles/roads');

describe('jobs against the stand-in GeoServer', () => {
  const standIn = standInPerTest();
  let geoserver: GeoServerStandIn;
  let rest: HttpGeoServer;

  beforeEach(() => {
    ({ geoserver, rest } = standIn);
  });

  function stored(type: StoredObject['type'], id: string, properties: JsonObject, sequence: number): StoredObject {
    return { type, id, properties, lastSequence: sequence, lastOrigin: 'master-1', updatedAt: '2026-12-01T00:00:00.000Z', deleted: false, incomplete: false } as StoredObject;
  }

  /** Workspaces with a data store and feature types (each with its layer), and a removed workspace whose contents the store still holds. */
  function catalog(workspaces: number, tables: number): StoredObject[] {
    const objects: StoredObject[] = [];
    let sequence = 0;
    for (let w = 0; w < workspaces; w += 1) {
      const ws = `ws${w}`;
      objects.push(stored('workspace', ws, { name: ws }, (sequence += 1)));
      objects.push(stored('dataStore', `${ws}:pg`, { name: 'pg', type: 'PostGIS', workspace: { name: ws } }, (sequence += 1)));
      for (let t = 0; t < tables; t += 1) {
        const id = `${ws}:t${t}`;
        objects.push(stored('featureType', id, { name: `t${t}`, title: `table ${t} of ${ws}`, store: { '@class': 'dataStore', name: `${ws}:pg` } }, (sequence += 1)));
        objects.push(stored('layer', id, { name: `t${t}`, resource: { '@class': 'featureType', name: id }, queryable: true }, (sequence += 1)));
      }
    }
    // Removed with recurse: GeoServer removed its contents too, the store keeps them as they were.
    objects.push({ ...stored('workspace', 'gone', { name: 'gone' }, (sequence += 1)), deleted: true });
    objects.push(stored('dataStore', 'gone:pg', { name: 'pg', type: 'PostGIS' }, 1));
    return objects;
  }

  async function setUp(objects: StoredObject[]): Promise<{ deps: JobRunnerDeps; jobs: MemoryJobStore; store: MemoryNodeStore }> {
    const store = new MemoryNodeStore();
    await store.replaceWithSnapshot(NODE, { cluster: CLUSTER, sourceNode: 'master-1', sequence: objects.length, objects });
    const jobs = new MemoryJobStore();
    const deps: JobRunnerDeps = {
      cluster: CLUSTER,
      store,
      jobs,
      apply: { store, log: new MemoryEventLog(), bodies: new MemoryEventBodyStore() },
      rest,
      compareMode: 'stored-properties',
      now: () => new Date(),
      pageSize: 7,
    };
    return { deps, jobs, store };
  }

  async function start(jobs: MemoryJobStore, kind: Job['kind']): Promise<Job> {
    const job = newJob({ id: `${kind}-${Math.random().toString(36).slice(2)}`, node: NODE, kind, requestedBy: 'master-1', hasGeoServer: true, now: new Date() });
    expect(await jobs.start(job, new Date())).toEqual({ started: true });
    return job;
  }

  test('a reconcile run one step per slice, interrupted by a GeoServer answering 503, resumes from its checkpoint to a GeoServer equal to the store', async () => {
    const objects = catalog(4, 6);
    const { deps, jobs } = await setUp(objects);
    // The GeoServer holds something else: a workspace of the store with a changed feature type, and an extra one.
    geoserver.catalog.addWorkspace({ name: 'ws0' });
    geoserver.catalog.addStore('dataStore', 'ws0', { name: 'pg', type: 'PostGIS' });
    geoserver.catalog.addResource('featureType', 'ws0', 'pg', { name: 't0', title: 'edited by hand' });
    geoserver.catalog.addWorkspace({ name: 'extra' });
    geoserver.catalog.addStore('dataStore', 'extra', { name: 'shapes', type: 'Shapefile' });
    geoserver.catalog.addResource('featureType', 'extra', 'shapes', { name: 'pts' });

    const job = await start(jobs, 'reconcile');
    let outcome: string | undefined;
    let interrupted = 0;
    for (let slice = 0; slice < 500 && outcome !== 'done'; slice += 1) {
      if (slice === 12) await geoserver.setDown('503');
      if (slice === 15) await geoserver.setDown(null);
      try {
        // A deadline already past: every slice runs exactly one step, then checkpoints.
        outcome = await runJobSlice(deps, NODE, job.id, Date.now() - 1);
      } catch (error) {
        expect(error).toBeInstanceOf(GeoServerUnavailableError);
        interrupted += 1;
      }
    }
    expect(outcome).toBe('done');
    expect(interrupted).toBe(3);
    const ended = (await jobs.read(NODE, job.id))!;
    // 4 workspaces: 1 + 1 + 6 * 2 objects each. The GeoServer held ws0, ws0:pg, and ws0:t0 with the
    // layer GeoServer made for it: the feature type's title and the layer's `queryable` differ.
    const live = objects.filter((object) => !object.deleted && !object.id.startsWith('gone'));
    expect(ended).toMatchObject({
      state: 'succeeded',
      phase: 'done',
      error: null,
      failures: [],
      progress: {
        compared: live.length,
        missing: live.length - 4,
        different: 2,
        // the extra workspace, its namespace, store, feature type and layer
        extra: 5,
        toFix: live.length - 4 + 2 + 5,
        failed: 0,
      },
    });
    expect(ended.progress.fixed).toBe(ended.progress.toFix);
    expect(ended.slices).toBeGreaterThan(20);
    for (const object of live) {
      const held = geoserver.catalog.get(object.type as never, object.id);
      expect({ id: `${object.type}/${object.id}`, held }).toMatchObject({ id: `${object.type}/${object.id}`, held: { name: object.properties.name } });
      if (object.type === 'featureType') expect(held?.title).toBe(object.properties.title);
    }
    expect(geoserver.catalog.get('workspace', 'extra')).toBeUndefined();
    expect(geoserver.catalog.get('workspace', 'gone')).toBeUndefined();
    expect(geoserver.catalog.get('dataStore', 'gone:pg')).toBeUndefined();

    // A drift check afterwards finds nothing.
    const check = await start(jobs, 'drift');
    let checked: string | undefined;
    for (let slice = 0; slice < 100 && checked !== 'done'; slice += 1) checked = await runJobSlice(deps, NODE, check.id, Date.now() + 10_000);
    expect((await jobs.read(NODE, check.id))!.progress).toMatchObject({ missing: 0, extra: 0, different: 0, toFix: null, fixed: 0 });
    expect(await jobs.readDifferences(NODE, check.id)).toEqual([]);
  });

  test('a GeoServer that is up but refuses a read with a 400 fails the job with its answer, and its status stays reachable', async () => {
    const { deps, jobs } = await setUp(catalog(1, 1));
    const job = await start(jobs, 'drift');
    geoserver.rejectNext((request) => request.method === 'GET' && request.path.endsWith('/workspaces.json'), 400, 'Bad request: no such format');
    const watched = new AnswerWatchingRest(rest);
    // Not thrown (retried for ever as a GeoServer out of reach): the job ends, failed, with why.
    await expect(runJobSlice({ ...deps, rest: watched }, NODE, job.id, Date.now() + 10_000)).resolves.toBe('done');
    const ended = (await jobs.read(NODE, job.id))!;
    expect(ended).toMatchObject({ state: 'failed', error: expect.stringMatching(/GeoServerReadRefusedError: .*refused GET \/workspaces\.json \(400\): Bad request: no such format/) });

    // What the slice saw, recorded as the node's apply function does (apply-events.ts): reached.
    const writes: GeoServerStatus[] = [];
    const invocation = new GeoServerInvocation(NODE, { rest, status: { read: async () => undefined, write: async (_, status) => void writes.push(status) } });
    await invocation.afterJobSlice({ answered: watched.takeAnswered() });
    expect(writes).toEqual([expect.objectContaining({ reachable: true, lastError: null })]);
  });

  test('a reconcile leaves out what a workspace removed with recurse held before it was created again, and a drift check does not miss it', async () => {
    const objects = [
      // Removed with recurse at 5, created again at 6: its store of 3 went with it, the one of 7 is new.
      { ...stored('workspace', 'again', { name: 'again' }, 6), cascadedAt: 5 },
      stored('dataStore', 'again:old', { name: 'old', type: 'PostGIS' }, 3),
      stored('featureType', 'again:roads', { name: 'roads', store: { '@class': 'dataStore', name: 'again:old' } }, 4),
      stored('dataStore', 'again:new', { name: 'new', type: 'PostGIS' }, 7),
    ];
    const { deps, jobs } = await setUp(objects);
    const job = await start(jobs, 'reconcile');
    let outcome: string | undefined;
    for (let slice = 0; slice < 100 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(deps, NODE, job.id, Date.now() + 10_000);
    expect((await jobs.read(NODE, job.id))!).toMatchObject({ state: 'succeeded', progress: { compared: 2, missing: 2, extra: 0, fixed: 2 } });
    expect(geoserver.catalog.get('dataStore', 'again:new')).toMatchObject({ name: 'new' });
    expect(geoserver.catalog.get('dataStore', 'again:old')).toBeUndefined();

    const check = await start(jobs, 'drift');
    let checked: string | undefined;
    for (let slice = 0; slice < 100 && checked !== 'done'; slice += 1) checked = await runJobSlice(deps, NODE, check.id, Date.now() + 10_000);
    expect((await jobs.read(NODE, check.id))!.progress).toMatchObject({ compared: 2, missing: 0, extra: 0, different: 0 });
  });

  test("a reconcile tells its apply function of every change the GeoServer refused, as the apply path's refused events are counted, beyond the failures its record lists", async () => {
    const objects = catalog(1, 25);
    const { deps, jobs } = await setUp(objects);
    // The GeoServer refuses every feature type the reconcile sends (and then the layers of them, which it cannot find).
    for (let t = 0; t < 25; t += 1) {
      const sendsIt = (request: { method: string; path: string; body: Buffer }) => request.method !== 'GET' && request.path.includes('/featuretypes') && request.body.toString().includes(`"t${t}"`);
      // Whatever write the reconcile sends for it (a POST, a PUT after it).
      for (let attempt = 0; attempt < 3; attempt += 1) geoserver.rejectNext(sendsIt, 400, `Feature type t${t} refused`);
    }
    const refused: GeoServerOutcome[] = [];
    const reporting: JobRunnerDeps = { ...deps, onRejected: (rejected) => void refused.push(...rejected) };
    const job = await start(jobs, 'reconcile');
    let outcome: string | undefined;
    for (let slice = 0; slice < 100 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(reporting, NODE, job.id, Date.now() + 10_000);
    const ended = (await jobs.read(NODE, job.id))!;
    expect(ended.state).toBe('succeeded');
    expect(ended.progress.failed).toBeGreaterThanOrEqual(25);
    expect(ended.failures).toHaveLength(MAX_JOB_FAILURES);
    // Each one, also those past the record's list.
    expect(refused).toHaveLength(ended.progress.failed);
    expect(refused.every((rejection) => rejection.kind === 'rejected')).toBe(true);
    expect(refused.filter((rejection) => rejection.kind === 'rejected' && rejection.status === 400 && rejection.answer.includes('refused'))).toHaveLength(25);
  });

  test('a reconcile fix the GeoServer does not answer in time, while it answers its version, is reported unfixed and the job goes on', async () => {
    const objects = catalog(1, 3);
    const { deps, jobs } = await setUp(objects);
    // A feature type whose write the GeoServer applies but does not answer within the call's bound.
    const slow = new HttpGeoServer({ url: geoserver.url, credentials: new CachedCredentials(async () => ({ username: 'admin', password: 'geoserver' })), timeoutMs: 300 });
    geoserver.setWriteAnswerDelay((write) => (write.path.includes('/featuretypes') && write.body.includes('"t1"') ? 1_000 : 0));
    const refused: GeoServerOutcome[] = [];
    const reporting: JobRunnerDeps = { ...deps, rest: slow, onRejected: (rejected) => void refused.push(...rejected) };
    const job = await start(jobs, 'reconcile');
    let outcome: string | undefined;
    for (let slice = 0; slice < 100 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(reporting, NODE, job.id, Date.now() + 10_000);
    geoserver.setWriteAnswerDelay(null);
    const ended = (await jobs.read(NODE, job.id))!;
    expect(ended.state).toBe('succeeded');
    expect(ended.failures).toEqual([expect.objectContaining({ type: 'featureType', id: 'ws0:t1', message: expect.stringContaining('GET /about/version') })]);
    expect(refused).toEqual([expect.objectContaining({ kind: 'rejected', status: null, request: expect.stringContaining('/featuretypes') })]);
    // Every other object was fixed.
    expect(geoserver.catalog.get('featureType', 'ws0:t2')).toBeDefined();
    expect(geoserver.catalog.get('layer', 'ws0:t0')).toBeDefined();
  });

  test('a store or resource a master named without its workspace is not drift where GeoServer answers it qualified', async () => {
    const objects = [
      stored('workspace', 'ne', { name: 'ne' }, 1),
      stored('dataStore', 'ne:pg', { name: 'pg', type: 'PostGIS' }, 2),
      stored('featureType', 'ne:rivers', { name: 'rivers', title: 'Rivers', store: { '@class': 'dataStore', name: 'pg' } }, 3),
      stored('layer', 'ne:rivers', { name: 'rivers', resource: { '@class': 'featureType', name: 'rivers' } }, 4),
    ];
    const { deps, jobs } = await setUp(objects);
    geoserver.catalog.addWorkspace({ name: 'ne' });
    geoserver.catalog.addStore('dataStore', 'ne', { name: 'pg', type: 'PostGIS' });
    geoserver.catalog.addResource('featureType', 'ne', 'pg', { name: 'rivers', title: 'Rivers' });
    // GeoServer names both references qualified.
    expect(((await (await fetch(`${geoserver.restUrl}/workspaces/ne/datastores/pg/featuretypes/rivers.json`, { headers: { authorization: `Basic ${Buffer.from('admin:geoserver').toString('base64')}` } })).json()) as { featureType: { store: { name: string } } }).featureType.store.name).toBe('ne:pg');
    const check = await start(jobs, 'drift');
    let outcome: string | undefined;
    for (let slice = 0; slice < 50 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(deps, NODE, check.id, Date.now() + 10_000);
    expect(await jobs.readDifferences(NODE, check.id)).toEqual([]);
    // Still a difference: a title changed on the GeoServer.
    geoserver.catalog.update('featureType', 'ne:rivers', { title: 'Edited' });
    const again = await start(jobs, 'drift');
    outcome = undefined;
    for (let slice = 0; slice < 50 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(deps, NODE, again.id, Date.now() + 10_000);
    expect(await jobs.readDifferences(NODE, again.id)).toEqual([{ kind: 'different', type: 'featureType', id: 'ne:rivers', properties: ['title'] }]);
  });

  test("a style's document is compared in its own format: one changed on the GeoServer is different at `body`, and a reconcile sends it back", async () => {
    const sld = '<?xml version="1.0" encoding="UTF-8"?><StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>roads</Name></NamedLayer></StyledLayerDescriptor>';
    const css = '* { stroke: #ff0000; }';
    const objects = [
      stored('style', 'roads', { name: 'roads', format: 'sld', languageVersion: { version: '1.0.0' }, body: sld }, 1),
      stored('style', 'red', { name: 'red', format: 'css', languageVersion: { version: '1.0.0' }, body: css }, 2),
      stored('style', 'plain', { name: 'plain', format: 'sld', languageVersion: { version: '1.0.0' } }, 3),
    ];
    const { deps, jobs } = await setUp(objects);
    geoserver.catalog.addStyleWithBody(undefined, 'roads', { bytes: Buffer.from(sld.replace('roads', 'edited')), contentType: 'application/vnd.ogc.sld+xml', raw: true });
    geoserver.catalog.addStyleWithBody(undefined, 'red', { bytes: Buffer.from(css), contentType: 'application/vnd.geoserver.geocss+css', raw: true });
    // The store holds no document of `plain`: whatever the GeoServer has is not compared.
    geoserver.catalog.addStyleWithBody(undefined, 'plain', { bytes: Buffer.from(sld), contentType: 'application/vnd.ogc.sld+xml', raw: true });
    const runToEnd = async (kind: Job['kind']) => {
      const job = await start(jobs, kind);
      let outcome: string | undefined;
      for (let slice = 0; slice < 50 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(deps, NODE, job.id, Date.now() + 10_000);
      return job;
    };
    const check = await runToEnd('drift');
    expect(await jobs.readDifferences(NODE, check.id)).toEqual([{ kind: 'different', type: 'style', id: 'roads', properties: ['body'] }]);
    // The CSS document was read as CSS (Accept: its media type), not as its SLD rendering.
    expect(geoserver.requests.filter((request) => request.method === 'GET' && request.path.endsWith('/styles/red')).length).toBe(1);

    const reconcile = await runToEnd('reconcile');
    expect((await jobs.read(NODE, reconcile.id))!).toMatchObject({ state: 'succeeded', progress: { different: 1, fixed: 1, failed: 0 } });
    expect(geoserver.catalog.styleBodies.get('roads')?.bytes.toString('utf8')).toBe(sld);
    const after = await runToEnd('drift');
    expect(await jobs.readDifferences(NODE, after.id)).toEqual([]);
    // A GeoServer that cannot serve the document in the stored format (406): it differs; the job does not wait as for a GeoServer that is down.
    geoserver.rejectNext((request) => request.method === 'GET' && request.path.endsWith('/styles/red'), 406, 'Not Acceptable');
    const refused = await runToEnd('drift');
    expect((await jobs.read(NODE, refused.id))!.state).toBe('succeeded');
    expect(await jobs.readDifferences(NODE, refused.id)).toEqual([{ kind: 'different', type: 'style', id: 'red', properties: ['body'] }]);
  });

  /**
   * A gateway write to an object while a capture publishes it: the capture re-reads the object
   * from the master's GeoServer, then publishes what it read. A gateway write between the two
   * would be logged first and then overwritten, on every other node, by the capture's older
   * state. Under the cluster's write lease the gateway write waits for the capture's publish.
   * The test's gateway write starts right after the capture's re-read and is given 300 ms,
   * ample for it to finish when nothing holds it back (the case without the lease shows it does).
   */
  test.each([
    ['under the write lease, the gateway write waits and is logged after the capture: the log ends with the master\'s state', true, ['capture: B', 'gateway: C']],
    ['without it (the race the lease closes), the capture\'s older read is logged last', false, ['gateway: C', 'capture: B']],
  ])('a capture %s', async (_label, serialized, expectedLog) => {
    const objects = catalog(1, 1);
    const { deps, jobs } = await setUp(objects);
    // The master GeoServer holds the store's catalog, but its feature type was retitled in the web UI.
    geoserver.catalog.addWorkspace({ name: 'ws0' });
    geoserver.catalog.addStore('dataStore', 'ws0', { name: 'pg', type: 'PostGIS' });
    geoserver.catalog.addResource('featureType', 'ws0', 'pg', { name: 't0', title: 'B' });
    const featureTypePath = '/workspaces/ws0/datastores/pg/featuretypes/t0';

    const writes = leaseSerializer(new MemoryWriteLease(), { waitMs: 5000, ttlMs: 30_000, backoff: { baseMs: 5, capMs: 20 } });
    const log: string[] = [];
    let gatewayWrite: Promise<void> | undefined;
    let armed = false;
    /** What the gateway does, under the same lease: the master applies C, then the gateway publishes it. */
    const writeThroughGateway = () =>
      writes.run(async () => {
        const answer = await fetch(`${geoserver.restUrl}${featureTypePath}`, {
          method: 'PUT',
          headers: { authorization: 'Basic ' + Buffer.from('admin:geoserver').toString('base64'), 'content-type': 'application/json' },
          body: JSON.stringify({ featureType: { title: 'C' } }),
        });
        expect(answer.status).toBe(200);
        log.push('gateway: C');
      });
    const hooked: GeoServerRest = {
      url: rest.url,
      async send(request) {
        const answer = await rest.send(request);
        if (armed && request.method === 'GET' && request.path.startsWith(featureTypePath) && !gatewayWrite) {
          gatewayWrite = writeThroughGateway();
          await Promise.race([gatewayWrite, new Promise((resolve) => setTimeout(resolve, 300))]);
        }
        return answer;
      },
    };
    const published: ConfigChange[] = [];
    const captureDeps: JobRunnerDeps = {
      ...deps,
      rest: hooked,
      ...(serialized ? { writes } : {}),
      publish: async (change) => {
        published.push(change);
        if (change.object.type === 'featureType') log.push(`capture: ${change.kind === 'modify' ? String(change.patch.title) : change.kind}`);
        return published.length;
      },
    };
    const job = newJob({ id: `capture-${serialized}`, node: NODE, kind: 'capture', requestedBy: NODE, hasGeoServer: true, now: new Date() });
    expect(await jobs.start(job, new Date())).toEqual({ started: true });
    let outcome: string | undefined;
    for (let slice = 0; slice < 50 && outcome !== 'done'; slice += 1) {
      armed = (await jobs.read(NODE, job.id))!.phase === 'fix';
      // A deadline already past: one step per slice, so the hook is armed for the fix phase only.
      outcome = await runJobSlice(captureDeps, NODE, job.id, Date.now() - 1);
    }
    expect(outcome).toBe('done');
    await gatewayWrite;
    expect(gatewayWrite).toBeDefined();
    const ended = (await jobs.read(NODE, job.id))!;
    expect(ended).toMatchObject({ state: 'succeeded', progress: { failed: 0 } });
    // The feature type, and the layer GeoServer made with it (its `queryable` differs from the store's).
    expect(published.map((change) => `${change.kind} ${change.object.type}/${change.object.id}`)).toEqual(['modify featureType/ws0:t0', 'modify layer/ws0:t0']);
    expect(ended.progress.published).toBe(published.length);
    expect(log).toEqual(expectedLog);
    expect(geoserver.catalog.get('featureType', 'ws0:t0')?.title).toBe('C');
  });

  /**
   * A reconcile of a master (a `both` node the gateway forwards to, as after a resync's catch-up)
   * while gateway writes go on: a write reaches the master's GeoServer before it is published,
   * and the node's store applies the master's own events without sending them back to its
   * GeoServer (apply.ts, "Own events"). The reconcile must leave what such a write made as it made
   * it: neither delete an object the user just created nor put back what the user just changed.
   */
  describe("a master's reconcile and the gateway's writes", () => {
    async function masterSetUp(): Promise<{ deps: JobRunnerDeps; jobs: MemoryJobStore; store: MemoryNodeStore; publishAs: (node: string, change: ConfigChange) => Promise<number> }> {
      const store = new MemoryNodeStore();
      const log = new MemoryEventLog();
      const bodies = new MemoryEventBodyStore();
      const publishing: PublishDeps = { store, log, bodies, topic: new MemoryEventTopic(), now: () => new Date() };
      const publishAs = async (node: string, change: ConfigChange) =>
        (await publishChange(publishing, { cluster: CLUSTER, node: { name: node, role: node === NODE ? 'both' : 'master' } }, change)).event.sequence;
      const jobs = new MemoryJobStore();
      const deps: JobRunnerDeps = {
        cluster: CLUSTER,
        store,
        jobs,
        apply: { store, log, bodies },
        rest,
        compareMode: 'stored-properties',
        now: () => new Date(),
        pageSize: 7,
        publish: (change) => publishAs(NODE, change),
        // A short wait: a fix step that finds the lease held gives up the step, and its next one goes on.
        writes: leaseSerializer(new MemoryWriteLease(), { waitMs: 100, ttlMs: 30_000, backoff: { baseMs: 5, capMs: 20 } }),
      };
      return { deps, jobs, store, publishAs };
    }

    async function runSlices(deps: JobRunnerDeps, job: Job, slices: number): Promise<string | undefined> {
      let outcome: string | undefined;
      // A deadline already past: one step per slice.
      for (let slice = 0; slice < slices && outcome !== 'done'; slice += 1) outcome = await runJobSlice(deps, NODE, job.id, Date.now() - 1);
      return outcome;
    }

    test('a workspace created through the gateway after the store was scanned, and published after the GeoServer was listed, is kept', async () => {
      const { deps, jobs, store, publishAs } = await masterSetUp();
      await publishAs(NODE, { kind: 'add', object: { type: 'workspace', id: 'ws0' }, properties: { name: 'ws0' } } as ConfigChange);
      geoserver.catalog.addWorkspace({ name: 'ws0' });
      const job = newJob({ id: 'reconcile-extra', node: NODE, kind: 'reconcile', requestedBy: NODE, hasGeoServer: true, now: new Date() });
      expect(await jobs.start(job, new Date())).toEqual({ started: true });
      expect(await runSlices(deps, job, 1)).toBe('more'); // the store scanned
      // The gateway forwards the user's new workspace to the master's GeoServer ...
      geoserver.catalog.addWorkspace({ name: 'fresh' });
      expect(await runSlices(deps, job, 1)).toBe('more'); // the GeoServer listed: the workspace, and its namespace, extras
      expect((await jobs.read(NODE, job.id))!.progress).toMatchObject({ extra: 2 });
      // ... then publishes it: the master's store commits it.
      await publishAs(NODE, { kind: 'add', object: { type: 'workspace', id: 'fresh' }, properties: { name: 'fresh' } } as ConfigChange);
      expect(await store.readObjects(NODE, [{ type: 'workspace', id: 'fresh' }])).toHaveLength(1);

      expect(await runSlices(deps, job, 20)).toBe('done');
      expect((await jobs.read(NODE, job.id))!).toMatchObject({ state: 'succeeded', progress: { failed: 0 } });
      expect(geoserver.catalog.get('workspace', 'fresh')).toBeDefined();
    });

    test("a feature type changed through the gateway, whose event the master's store has not applied yet, is not put back as the store held it", async () => {
      const { deps, jobs, store, publishAs } = await masterSetUp();
      const created: ConfigChange[] = [
        { kind: 'add', object: { type: 'workspace', id: 'ws0' }, properties: { name: 'ws0' } },
        { kind: 'add', object: { type: 'dataStore', id: 'ws0:pg' }, properties: { name: 'pg', type: 'PostGIS', workspace: { name: 'ws0' } } },
        { kind: 'add', object: { type: 'featureType', id: 'ws0:t0' }, properties: { name: 't0', title: 'B', store: { '@class': 'dataStore', name: 'ws0:pg' } } },
      ] as ConfigChange[];
      for (const change of created) await publishAs(NODE, change);
      geoserver.catalog.addWorkspace({ name: 'ws0' });
      geoserver.catalog.addStore('dataStore', 'ws0', { name: 'pg', type: 'PostGIS' });
      geoserver.catalog.addResource('featureType', 'ws0', 'pg', { name: 't0', title: 'B' });
      // Another master's event the node's store has not applied yet: the master's own next event is
      // left to its queue (publish.ts), which commits it without sending it to its GeoServer.
      await publishAs('master-2', { kind: 'add', object: { type: 'workspace', id: 'elsewhere' }, properties: { name: 'elsewhere' } } as ConfigChange);
      // The gateway forwards the user's new title to the master's GeoServer, then publishes it.
      const answer = await fetch(`${geoserver.restUrl}/workspaces/ws0/datastores/pg/featuretypes/t0`, {
        method: 'PUT',
        headers: { authorization: 'Basic ' + Buffer.from('admin:geoserver').toString('base64'), 'content-type': 'application/json' },
        body: JSON.stringify({ featureType: { title: 'C' } }),
      });
      expect(answer.status).toBe(200);
      await publishAs(NODE, { kind: 'modify', object: { type: 'featureType', id: 'ws0:t0' }, patch: { title: 'C' } } as ConfigChange);
      expect((await store.readObjects(NODE, [{ type: 'featureType', id: 'ws0:t0' }]))[0]?.properties.title).toBe('B');

      const job = newJob({ id: 'reconcile-different', node: NODE, kind: 'reconcile', requestedBy: NODE, hasGeoServer: true, now: new Date() });
      expect(await jobs.start(job, new Date())).toEqual({ started: true });
      expect(await runSlices(deps, job, 20)).toBe('done');
      const ended = (await jobs.read(NODE, job.id))!;
      expect(ended).toMatchObject({ state: 'succeeded', progress: { failed: 0 } });
      expect(ended.progress.different).toBeGreaterThanOrEqual(1);
      expect(geoserver.catalog.get('featureType', 'ws0:t0')?.title).toBe('C');
    });

    test("a feature type changed through the gateway while the reconcile's fix step runs is left as the gateway wrote it: the step waits for the write lease", async () => {
      const { deps, jobs, publishAs } = await masterSetUp();
      const created: ConfigChange[] = [
        { kind: 'add', object: { type: 'workspace', id: 'ws0' }, properties: { name: 'ws0' } },
        { kind: 'add', object: { type: 'dataStore', id: 'ws0:pg' }, properties: { name: 'pg', type: 'PostGIS', workspace: { name: 'ws0' } } },
        { kind: 'add', object: { type: 'featureType', id: 'ws0:t0' }, properties: { name: 't0', title: 'B', store: { '@class': 'dataStore', name: 'ws0:pg' } } },
      ] as ConfigChange[];
      for (const change of created) await publishAs(NODE, change);
      // The master's GeoServer differs from its store (retitled in its web UI): the reconcile puts the stored title back.
      geoserver.catalog.addWorkspace({ name: 'ws0' });
      geoserver.catalog.addStore('dataStore', 'ws0', { name: 'pg', type: 'PostGIS' });
      geoserver.catalog.addResource('featureType', 'ws0', 'pg', { name: 't0', title: 'A' });
      const featureTypePath = '/workspaces/ws0/datastores/pg/featuretypes/t0';
      let fixSent!: () => void;
      const sent = new Promise<void>((resolve) => (fixSent = resolve));
      const hooked: GeoServerRest = {
        url: rest.url,
        async send(request) {
          const answer = await rest.send(request);
          if (request.method === 'PUT' && request.path.startsWith(featureTypePath)) fixSent();
          return answer;
        },
      };
      const reconcileDeps: JobRunnerDeps = { ...deps, rest: hooked };
      const job = newJob({ id: 'reconcile-during-write', node: NODE, kind: 'reconcile', requestedBy: NODE, hasGeoServer: true, now: new Date() });
      expect(await jobs.start(job, new Date())).toEqual({ started: true });
      // Both scans, a step per slice (the GeoServer's listing takes more than one).
      for (let slice = 0; slice < 10 && (await jobs.read(NODE, job.id))!.phase !== 'fix'; slice += 1) expect(await runSlices(reconcileDeps, job, 1)).toBe('more');
      expect((await jobs.read(NODE, job.id))!.phase).toBe('fix');

      // A gateway write under the cluster's write lease: forwarded to the master's GeoServer, then,
      // once the fix step has sent its PUT or ended without it, published.
      let forwarded!: () => void;
      const isForwarded = new Promise<void>((resolve) => (forwarded = resolve));
      let sliceEnded!: () => void;
      const ended = new Promise<void>((resolve) => (sliceEnded = resolve));
      const gatewayWrite = deps.writes!.run(async () => {
        const answer = await fetch(`${geoserver.restUrl}${featureTypePath}`, {
          method: 'PUT',
          headers: { authorization: 'Basic ' + Buffer.from('admin:geoserver').toString('base64'), 'content-type': 'application/json' },
          body: JSON.stringify({ featureType: { title: 'C' } }),
        });
        expect(answer.status).toBe(200);
        forwarded();
        await Promise.race([sent, ended]);
        await publishAs(NODE, { kind: 'modify', object: { type: 'featureType', id: 'ws0:t0' }, patch: { title: 'C' } } as ConfigChange);
      });
      await isForwarded;
      await runJobSlice(reconcileDeps, NODE, job.id, Date.now() - 1).finally(sliceEnded);
      await gatewayWrite;

      expect(await runSlices(reconcileDeps, job, 20)).toBe('done');
      expect((await jobs.read(NODE, job.id))!).toMatchObject({ state: 'succeeded', progress: { failed: 0 } });
      expect(geoserver.catalog.get('featureType', 'ws0:t0')?.title).toBe('C');
    });
  });

  /**
   * A capture slice already running when its node is paused (the pause switches the node's queue
   * consumption off, but not a slice in flight): its publishes go through the publish path's
   * guard, so the first one after the pause is refused with nothing stored. The job stops there,
   * `failed` with why and how far it got; what it published before stays published. Resumed, a
   * new capture publishes the rest.
   */
  test('a capture whose node is paused while it publishes stops at the first refused publish, failed with why; a new one after the resume publishes the rest', async () => {
    const { deps, jobs, store } = await setUp([]);
    const workspaces = ['w1', 'w2', 'w3', 'w4', 'w5'];
    // The master's GeoServer holds workspaces its store does not (made in the web UI): each, and
    // the namespace GeoServer made with it, is an add (ten, workspaces first).
    for (const name of workspaces) geoserver.catalog.addWorkspace({ name });
    const pauses = new MemoryNodePauses();
    const log = new MemoryEventLog();
    const publishing: PublishDeps = { store, log, bodies: new MemoryEventBodyStore(), topic: new MemoryEventTopic(), now: () => new Date(), pauses };
    const pause: PauseState = { since: '2026-12-01T10:00:00.000Z', by: 'master-1' };
    let publishes = 0;
    const captureDeps: JobRunnerDeps = {
      ...deps,
      compareMode: 'both-ways',
      publish: async (change) => {
        const { event } = await publishChange(publishing, { cluster: CLUSTER, node: { name: NODE, role: 'both' } }, change);
        // The pause comes after the second publish, while the slice goes on.
        publishes += 1;
        if (publishes === 2) await pauses.write(NODE, pause);
        return event.sequence;
      },
    };
    const runToEnd = async (id: string) => {
      expect(await jobs.start(newJob({ id, node: NODE, kind: 'capture', requestedBy: NODE, hasGeoServer: true, now: new Date() }), new Date())).toEqual({ started: true });
      let outcome: string | undefined;
      for (let slice = 0; slice < 50 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(captureDeps, NODE, id, Date.now() + 10_000);
      expect(outcome).toBe('done');
      return (await jobs.read(NODE, id))!;
    };
    const logged = async () => (await log.readRange(CLUSTER, 1, await log.head(CLUSTER))).map((event) => ('kind' in event ? `${event.kind} ${event.object.type}/${event.object.id}` : JSON.stringify(event)));

    const stopped = await runToEnd('capture-paused');
    expect(stopped).toMatchObject({ state: 'failed', phase: 'fix', failures: [], progress: { extra: 10, toFix: 10, published: 2, fixed: 2, failed: 0 } });
    expect(stopped.finishedAt).not.toBeNull();
    expect(stopped.error).toBe(
      `NODE_PAUSED: Node ${NODE} is paused (since ${pause.since}, by ${pause.by}): resume it with POST /nodes/${NODE}/resume first. ` +
        `The capture stopped after fixing 2 of its 10 differences; once the node is resumed, POST /nodes/${NODE}/capture publishes the rest`,
    );
    // Nothing stored after the pause: the log holds the two publishes before it.
    expect(await logged()).toEqual(['add workspace/w1', 'add workspace/w2']);
    // A slice of the stopped job delivered again does nothing more.
    expect(await runJobSlice(captureDeps, NODE, 'capture-paused', Date.now() + 10_000)).toBe('done');
    expect(await logged()).toHaveLength(2);

    // A capture started while the node is paused publishes nothing either. (The store now holds
    // w1 and w2, whose namespaces GeoServer made with them: not extras.)
    const refused = await runToEnd('capture-while-paused');
    expect(refused).toMatchObject({ state: 'failed', progress: { toFix: 6, published: 0, failed: 0 } });
    expect(refused.error).toContain('The capture stopped after fixing 0 of its 6 differences');
    expect(await logged()).toHaveLength(2);

    await pauses.write(NODE, undefined);
    const resumed = await runToEnd('capture-resumed');
    expect(resumed).toMatchObject({ state: 'succeeded', error: null, progress: { toFix: 6, published: 6, failed: 0 } });
    expect(await logged()).toEqual([...workspaces.map((name) => `add workspace/${name}`), ...['w3', 'w4', 'w5'].map((name) => `add namespace/${name}`)]);
  });

  /** A master's capture publishing through the publish path, so its store is brought up to each event. */
  function capturing(deps: JobRunnerDeps, store: MemoryNodeStore): { captureDeps: JobRunnerDeps; logged: () => Promise<string[]> } {
    const log = new MemoryEventLog();
    const publishing: PublishDeps = { store, log, bodies: new MemoryEventBodyStore(), topic: new MemoryEventTopic(), now: () => new Date() };
    const captureDeps: JobRunnerDeps = {
      ...deps,
      compareMode: 'both-ways',
      publish: async (change) => (await publishChange(publishing, { cluster: CLUSTER, node: { name: NODE, role: 'both' } }, change)).event.sequence,
    };
    const logged = async () =>
      (await log.readRange(CLUSTER, 1, await log.head(CLUSTER))).map((event) => ('kind' in event ? `${event.kind} ${event.object.type}/${event.object.id}` : JSON.stringify(event)));
    return { captureDeps, logged };
  }

  async function runCapture(captureDeps: JobRunnerDeps, jobs: MemoryJobStore, id: string): Promise<Job> {
    expect(await jobs.start(newJob({ id, node: NODE, kind: 'capture', requestedBy: NODE, hasGeoServer: true, now: new Date() }), new Date())).toEqual({ started: true });
    let outcome: string | undefined;
    for (let slice = 0; slice < 50 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(captureDeps, NODE, id, Date.now() + 10_000);
    expect(outcome).toBe('done');
    return (await jobs.read(NODE, id))!;
  }

  /**
   * GeoServer answers a style's document GET from the file its info names (StyleWriterConverter
   * copies it): with the file gone it answers 200 with nothing (the data directory makes the file
   * empty), a 404 only when the style itself is gone (a read racing its removal), and 400, 406 or
   * 415 when it cannot serve the style in the format asked for. None of these says the document
   * was removed on purpose (the REST API has no such call): the capture keeps the stored document
   * and reports the style unfixed, instead of publishing `body: null` (a patch the publish path
   * refuses, which took the style's other changes with it). Its other changes are published.
   */
  test.each([
    ['answered 404 (a read racing the removal of the style)', (geoserver: GeoServerStandIn) => [1, 2].forEach(() => geoserver.rejectNext(isRoadsDocument, 404, 'No such style: roads')), '404'],
    ['answered 200 with nothing (its file gone)', (geoserver: GeoServerStandIn) => void geoserver.catalog.styleBodies.delete('roads'), 'no document'],
    ['refused in its format (406)', (geoserver: GeoServerStandIn) => [1, 2].forEach(() => geoserver.rejectNext(isRoadsDocument, 406, 'Not Acceptable')), '406'],
  ])("a capture whose read of a style's document is %s keeps the stored document, and reports the style unfixed", async (_label, breakDocument, named) => {
    const { deps, jobs, store } = await setUp([]);
    const sld = '<?xml version="1.0" encoding="UTF-8"?><StyledLayerDescriptor version="1.0.0"><NamedLayer><Name>roads</Name></NamedLayer></StyledLayerDescriptor>';
    geoserver.catalog.addStyleWithBody(undefined, 'roads', { bytes: Buffer.from(sld), contentType: 'application/vnd.ogc.sld+xml', raw: true });
    const { captureDeps, logged } = capturing(deps, store);
    const first = await runCapture(captureDeps, jobs, 'capture-first');
    expect(first).toMatchObject({ state: 'succeeded', progress: { published: 1, failed: 0 } });
    expect((await store.readObjects(NODE, [{ type: 'style', id: 'roads' }]))[0]?.properties.body).toBe(sld);

    // Saved in the master's web UI (its info changed), and its document no longer served.
    geoserver.catalog.objects.style.set('roads', { ...geoserver.catalog.objects.style.get('roads'), dateModified: '2026-12-01 10:00:00.0 UTC' });
    breakDocument(geoserver);
    const second = await runCapture(captureDeps, jobs, 'capture-second');
    expect(second).toMatchObject({ state: 'succeeded', progress: { different: 1, published: 1, fixed: 0, failed: 1 } });
    expect(second.failures).toHaveLength(1);
    expect(second.failures[0]).toMatchObject({ type: 'style', id: 'roads' });
    expect(second.failures[0]!.message).toContain(named);
    expect(second.failures[0]!.message).toContain('stored document is kept');
    expect(await logged()).toEqual(['add style/roads', 'modify style/roads']);
    const kept = (await store.readObjects(NODE, [{ type: 'style', id: 'roads' }]))[0]!.properties;
    expect(kept).toMatchObject({ body: sld, dateModified: '2026-12-01 10:00:00.0 UTC' });

    // Once more: the info is published, the document is still not served, nothing more is published.
    breakDocument(geoserver);
    const third = await runCapture(captureDeps, jobs, 'capture-third');
    expect(third).toMatchObject({ state: 'succeeded', progress: { published: 0, failed: 1 } });
    expect(await logged()).toHaveLength(2);
  });

  /**
   * A capture slice that dies after publishing, before its checkpoint is saved, is delivered
   * again and redoes the step: each difference is read again and compared with the store (which
   * its events brought up to the master's GeoServer) as the drift scan compares, so nothing is
   * published twice.
   */
  test('a capture slice redone after its events were applied publishes nothing for those objects', async () => {
    const { deps, jobs, store } = await setUp([]);
    const { captureDeps, logged } = capturing(deps, store);
    // The master's store holds what it published.
    for (const object of catalog(1, 2).filter((candidate) => candidate.id.startsWith('ws0'))) {
      await captureDeps.publish!({ kind: 'add', object: { type: object.type, id: object.id }, properties: object.properties } as ConfigChange);
    }
    const before = (await logged()).length;
    // The master's GeoServer holds the store's catalog, retitled and with a style added in the web UI.
    geoserver.catalog.addWorkspace({ name: 'ws0' });
    geoserver.catalog.addStore('dataStore', 'ws0', { name: 'pg', type: 'PostGIS' });
    geoserver.catalog.addResource('featureType', 'ws0', 'pg', { name: 't0', title: 'retitled' });
    geoserver.catalog.addResource('featureType', 'ws0', 'pg', { name: 't1', title: 'table 1 of ws0' });
    geoserver.catalog.addStyleWithBody(undefined, 'roads', { bytes: Buffer.from('* { stroke: #ff0000; }'), contentType: 'application/vnd.geoserver.geocss+css', raw: true });
    // The slice's save after its publishes is lost (a crash): its message is delivered again.
    let crashed = false;
    const crashingJobs = Object.create(jobs) as MemoryJobStore;
    crashingJobs.save = async (job) => {
      if (!crashed && job.progress.published > 0) {
        crashed = true;
        throw Object.assign(new Error('the slice died before its checkpoint'), { transient: true });
      }
      return jobs.save(job);
    };
    const id = 'capture-redone';
    expect(await jobs.start(newJob({ id, node: NODE, kind: 'capture', requestedBy: NODE, hasGeoServer: true, now: new Date() }), new Date())).toEqual({ started: true });
    let outcome: string | undefined;
    for (let slice = 0; slice < 50 && outcome !== 'done'; slice += 1) {
      try {
        outcome = await runJobSlice({ ...captureDeps, jobs: crashingJobs }, NODE, id, Date.now() + 10_000);
      } catch (error) {
        if (!(error instanceof Error) || error.message !== 'the slice died before its checkpoint') throw error;
      }
    }
    expect(outcome).toBe('done');
    expect(crashed).toBe(true);
    const published = (await logged()).slice(before);
    expect(published).toContain('modify featureType/ws0:t0');
    expect(published).toContain('add style/roads');
    // Each object once: the redone step found nothing left to publish.
    expect(published).toEqual([...new Set(published)]);
    expect((await jobs.read(NODE, id))!).toMatchObject({ state: 'succeeded', progress: { published: 0, failed: 0 } });
  });

  test('one job per node: a second waits for the first to end; a stale one is replaced, failed, and its late slice stops', async () => {
    const { deps, jobs } = await setUp(catalog(1, 1));
    const first = await start(jobs, 'drift');
    const second = newJob({ id: 'second', node: NODE, kind: 'reconcile', requestedBy: 'master-1', hasGeoServer: true, now: new Date() });
    const refused = await jobs.start(second, new Date());
    expect(refused).toMatchObject({ started: false, active: { id: first.id, kind: 'drift' } });
    // Nothing saved for longer than STALE_AFTER_MS: the node may start another job.
    const later = new Date(Date.now() + STALE_AFTER_MS + 1000);
    expect(await jobs.start({ ...second, createdAt: later.toISOString() }, later)).toEqual({ started: true });
    // The replacement failed it, naming itself: its late slice finds it ended and does nothing.
    const replaced = await jobs.read(NODE, first.id);
    expect(replaced).toMatchObject({ state: 'failed', error: expect.stringMatching(/saved nothing for 15 minutes .* replaced by job second \(reconcile\)/) });
    expect(await runJobSlice(deps, NODE, first.id, Date.now() + 10_000)).toBe('done');
    expect(await jobs.read(NODE, first.id)).toEqual(replaced);
    let outcome: string | undefined;
    for (let slice = 0; slice < 50 && outcome !== 'done'; slice += 1) outcome = await runJobSlice(deps, NODE, 'second', Date.now() + 10_000);
    expect((await jobs.read(NODE, 'second'))!.state).toBe('succeeded');
    expect((await jobs.latest(NODE))!.id).toBe('second');
  });
});
