/**
 * An upload into a store through the gateway is replicated by a capture of the master: a
 * successful one starts a capture (or joins one that has not begun), and says so with
 * `X-Cluster-Replicated: capture` and the job's id; a refused one starts nothing. The job store's
 * `follow` decides which capture that is: started at once, covered by a capture not begun, or
 * queued behind the node's running job and started by its final save.
 */
import { HttpUpstream } from '../../../../lambdas/config-sync/adapters/geoserver-upstream';
import { MemoryJobStore } from '../../../../lambdas/config-sync/adapters/memory';
import type { ConfigChange } from '../../../../lambdas/config-sync/events';
import { handleGatewayCall, type UploadCapture, type Upstream } from '../../../../lambdas/config-sync/gateway/gateway';
import { newJob, type Job, type JobKind } from '../../../../lambdas/config-sync/jobs';
import { startGeoServerStandIn, type GeoServerStandIn } from '../../../support/geoserver-standin';
import { masterView } from './master-view';

const ADMIN = 'Basic ' + Buffer.from('admin:geoserver').toString('base64');
const NODE = 'gs-main';
const NOW = new Date('2026-03-01T10:00:00Z');

let ids = 0;
const job = (kind: JobKind): Job => newJob({ id: `job-${(ids += 1)}`, node: NODE, kind, requestedBy: NODE, hasGeoServer: true, now: NOW });

describe('an upload through the gateway', () => {
  let master: GeoServerStandIn;
  let published: ConfigChange[];
  let captures: UploadCapture[];
  let jobs: MemoryJobStore;

  beforeEach(async () => {
    master = await startGeoServerStandIn();
    published = [];
    captures = [];
    jobs = new MemoryJobStore();
  });
  afterEach(async () => {
    await master.close();
  });

  /** The handler's wiring (geoserver-gateway.ts), over the in-memory job store. */
  async function captureUpload(): Promise<UploadCapture> {
    const capture = job('capture');
    const followed = await jobs.follow(capture, NOW);
    const answer: UploadCapture = followed.outcome === 'covered' ? { job: followed.by.id, outcome: 'covered' } : { job: capture.id, outcome: followed.outcome };
    captures.push(answer);
    return answer;
  }

  const call = (method: string, path: string, body: string) => {
    const upstream = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
    return handleGatewayCall(
      upstream,
      { publish: async (change) => published.push(change) },
      { method, path: path.split('?')[0]!, query: path.split('?')[1] ?? '', headers: { authorization: ADMIN, 'content-type': 'text/plain' }, body: Buffer.from(body) },
      { captureUpload, readBack: masterView(upstream) },
    );
  };

  it('that the master took starts a capture, named in the answer, and publishes nothing itself', async () => {
    master.catalog.addWorkspace({ name: 'topp' });
    const answer = await call('PUT', '/workspaces/topp/datastores/roads/external.shp', '/srv/gis/roads.shp');
    expect(answer.status).toBe(201);
    expect(captures).toEqual([{ job: expect.any(String), outcome: 'started' }]);
    expect(answer.headers['x-cluster-replicated']).toBe('capture');
    expect(answer.headers['x-cluster-job']).toBe(captures[0]!.job);
    expect(answer).toMatchObject({ replication: 'capture', category: 'upload', capture: captures[0] });
    expect(await jobs.read(NODE, captures[0]!.job)).toMatchObject({ kind: 'capture', state: 'queued' });
    expect(published).toEqual([]);
    // A second upload while that capture has not begun: it covers both.
    const second = await call('PUT', '/workspaces/topp/coveragestores/dem/url.geotiff', 'https://data.example.org/dem.tif');
    expect(second.headers['x-cluster-job']).toBe(captures[0]!.job);
    expect(captures[1]).toEqual({ job: captures[0]!.job, outcome: 'covered' });
    expect(master.violations).toEqual([]);
  });

  it('that the master refused starts nothing', async () => {
    master.catalog.addWorkspace({ name: 'topp' });
    for (const [path, body] of [
      ['/workspaces/topp/datastores/roads/external.dwg', '/srv/gis/roads.dwg'], // unsupported format: 400
      ['/workspaces/topp/datastores/roads/external.shp', 'roads.shp'], // not an absolute path: 400
      ['/workspaces/nowhere/datastores/roads/external.shp', '/srv/gis/roads.shp'], // no such workspace
    ] as const) {
      const answer = await call('PUT', path, body);
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.headers['x-cluster-replicated']).toBe('false');
      expect(answer.headers['x-cluster-job']).toBeUndefined();
    }
    expect(captures).toEqual([]);
    expect(await jobs.latest(NODE)).toBeUndefined();
    expect(master.catalog.objects.dataStore.size).toBe(0);
  });

  // GeoServer's REST paths match with a trailing slash as without (Spring MVC's trailing slash
  // match), as the gateway classifies its other paths: the upload is the same one.
  it('with a trailing slash on its path starts a capture too', async () => {
    const sent: string[] = [];
    const upstream: Upstream = { send: async (call) => (sent.push(`${call.method} ${call.path}`), { status: 201, headers: {}, body: Buffer.alloc(0) }) };
    const answer = await handleGatewayCall(
      upstream,
      { publish: async (change) => published.push(change) },
      { method: 'PUT', path: '/workspaces/topp/datastores/roads/external.shp/', query: 'configure=all', headers: { authorization: ADMIN, 'content-type': 'text/plain' }, body: Buffer.from('/srv/gis/roads.shp') },
      { captureUpload, readBack: masterView(upstream) },
    );
    expect(sent).toEqual(['PUT /workspaces/topp/datastores/roads/external.shp/']);
    expect(captures).toEqual([{ job: expect.any(String), outcome: 'started' }]);
    expect(answer.headers['x-cluster-replicated']).toBe('capture');
    expect(answer).toMatchObject({ replication: 'capture', category: 'upload' });
  });

  // GeoServer's path helper (Spring's UrlPathHelper) collapses a doubled slash before it routes,
  // as the gateway's classifier drops empty segments: a harvest written so is the same harvest.
  // (The stand-in has no image mosaic to harvest into: the master's 2xx is canned here.)
  it('a harvest POST with a doubled slash in its path starts a capture too', async () => {
    for (const path of ['/workspaces//topp/coveragestores/mosaic/external.imagemosaic', '//workspaces/topp/coveragestores/mosaic/external.imagemosaic']) {
      captures = [];
      jobs = new MemoryJobStore();
      const upstream: Upstream = { send: async () => ({ status: 202, headers: {}, body: Buffer.alloc(0) }) };
      const answer = await handleGatewayCall(
        upstream,
        { publish: async (change) => published.push(change) },
        { method: 'POST', path, query: '', headers: { authorization: ADMIN, 'content-type': 'text/plain' }, body: Buffer.from('/srv/gis/mosaic/granule_2.tif') },
        { captureUpload, readBack: masterView(upstream) },
      );
      expect({ path, replicated: answer.headers['x-cluster-replicated'], captures }).toEqual({ path, replicated: 'capture', captures: [{ job: expect.any(String), outcome: 'started' }] });
    }
  });

  it('whose capture cannot be started is answered as the master answered, marked failed', async () => {
    master.catalog.addWorkspace({ name: 'topp' });
    const upstream = new HttpUpstream(master.url, 5000, 6 * 1024 * 1024);
    const answer = await handleGatewayCall(
      upstream,
      { publish: async () => 1 },
      { method: 'PUT', path: '/workspaces/topp/datastores/roads/external.shp', query: '', headers: { authorization: ADMIN, 'content-type': 'text/plain' }, body: Buffer.from('/srv/roads.shp') },
      { captureUpload: () => Promise.reject(new Error('throttled')), readBack: masterView(upstream) },
    );
    expect(answer.status).toBe(201);
    expect(answer.headers['x-cluster-replicated']).toBe('failed');
    expect(answer).toMatchObject({ replication: 'publish-failed', error: expect.stringContaining('no capture could be started: throttled') });
  });
});

describe('a capture that follows the node\'s jobs (JobStore.follow)', () => {
  let jobs: MemoryJobStore;
  beforeEach(() => {
    jobs = new MemoryJobStore();
  });

  it('starts when the node runs nothing, and is covered by a capture still queued', async () => {
    const first = job('capture');
    expect(await jobs.follow(first, NOW)).toEqual({ outcome: 'started' });
    expect(await jobs.follow(job('capture'), NOW)).toMatchObject({ outcome: 'covered', by: { id: first.id } });
  });

  it('is queued behind a running job (or a capture that began reading), covers later uploads, and starts with the running job\'s end', async () => {
    const running = job('capture');
    await jobs.start(running, NOW);
    await jobs.save({ ...running, state: 'running', slices: 1 }); // its first slice began: it may have read the GeoServer already
    const follower = job('capture');
    expect(await jobs.follow(follower, NOW)).toMatchObject({ outcome: 'queued', after: { id: running.id } });
    expect(await jobs.follow(job('capture'), NOW)).toMatchObject({ outcome: 'covered', by: { id: follower.id } });
    expect(await jobs.successor(NODE, running.id)).toBeUndefined();
    // The running job ends: the node is the follower's, whose first slice its caller queues.
    expect(await jobs.save({ ...running, state: 'succeeded', slices: 1, finishedAt: NOW.toISOString() })).toBe('saved');
    expect(await jobs.successor(NODE, running.id)).toMatchObject({ id: follower.id, state: 'queued' });
    expect(await jobs.latest(NODE)).toMatchObject({ id: follower.id });
    expect((await jobs.start(job('drift'), NOW)).started).toBe(false);
    // Once it runs, nobody queues it again.
    expect(await jobs.save({ ...follower, state: 'running', slices: 1 })).toBe('saved');
    expect(await jobs.successor(NODE, running.id)).toBeUndefined();
  });

  it('is queued behind a drift check or reconcile even while that is queued: it compares, it does not publish', async () => {
    const drift = job('drift');
    await jobs.start(drift, NOW);
    expect(await jobs.follow(job('capture'), NOW)).toMatchObject({ outcome: 'queued', after: { id: drift.id } });
  });
});
