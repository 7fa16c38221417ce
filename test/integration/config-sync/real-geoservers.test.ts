/**
 * Opt-in: the convergence scenario against REAL GeoServers. Set `GEOSERVER_URLS` to their URLs,
 * comma-separated (`http://localhost:8081/geoserver,http://localhost:8082/geoserver`; the
 * `node=url` form of `npm start` works too), and their administrator in `GEOSERVER_USER` and
 * `GEOSERVER_PASSWORD` (default `admin`/`geoserver`, the official image's). Each GeoServer
 * becomes a slave of a local cluster with one master; a stream of changes real GeoServers take
 * without any data behind them (workspaces, namespaces, data stores left disabled, SLD styles
 * uploaded with their documents, layer groups of none, global, logging, service and workspace
 * settings, modifies, recursive removes) is published, and then every GeoServer must show no
 * drift against the master's store, as read over its own REST API by the cluster's drift check.
 *
 * Without `GEOSERVER_URLS` the suite is skipped and says why. Start GeoServers with e.g.
 *   docker run -d -p 8081:8080 docker.osgeo.org/geoserver:2.26.2
 *   docker run -d -p 8082:8080 docker.osgeo.org/geoserver:2.26.2
 *   GEOSERVER_URLS=http://localhost:8081/geoserver,http://localhost:8082/geoserver \
 *     npx jest --selectProjects integration --runInBand test/integration/config-sync/real-geoservers.test.ts
 * The objects it creates are named `cluster-it-*`; the suite removes its workspaces at the end.
 * What the stand-in assumes of GeoServer beyond this scenario is checked against the same
 * GeoServers by real-geoserver-assumptions.test.ts.
 */
import { sleep, SyncCluster, type Change } from './scenario-support';

jest.setTimeout(600_000);

const RAW = process.env.GEOSERVER_URLS ?? '';
const MASTER = 'master-1';
/** The GeoServers by slave name: `node=url` entries keep their name, plain URLs become gs-1, gs-2, ... */
const GEOSERVERS: Record<string, string> = Object.fromEntries(
  RAW.split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((entry, index) => {
      const separator = entry.indexOf('=');
      return separator > 0 && !entry.slice(0, separator).includes(':') ? [entry.slice(0, separator), entry.slice(separator + 1)] : [`gs-${index + 1}`, entry];
    }),
);
const SLAVES = Object.keys(GEOSERVERS);

if (SLAVES.length === 0) {
  // Printed on every run without GeoServers, so nobody mistakes the skip for a pass (straight to
  // stderr: Jest does not show the console output of a suite whose tests are all skipped).
  process.stderr.write(
    'real-geoservers.test.ts skipped: GEOSERVER_URLS is not set. Set it to real GeoServers\' URLs (comma-separated), ' +
      'with GEOSERVER_USER/GEOSERVER_PASSWORD, to run the convergence scenario against them (README: "Real GeoServers as cluster members").\n',
  );
}

const suite = SLAVES.length === 0 ? describe.skip : describe;

suite(`convergence against real GeoServers (${SLAVES.length === 0 ? 'skipped: GEOSERVER_URLS is not set' : RAW})`, () => {
  let cluster: SyncCluster;

  beforeAll(async () => {
    const saved = { credentials: process.env.GEOSERVER_CREDENTIALS };
    // The spawned cluster reads credentials from GEOSERVER_CREDENTIALS; the URLs come from its
    // cluster file (a spawned cluster never sees GEOSERVER_URLS: local/spawn.ts).
    process.env.GEOSERVER_CREDENTIALS = `${process.env.GEOSERVER_USER ?? 'admin'}:${process.env.GEOSERVER_PASSWORD ?? 'geoserver'}`;
    try {
      cluster = await SyncCluster.start(
        'real-geoservers',
        [{ name: MASTER, role: 'master' }, ...SLAVES.map((name) => ({ name, role: 'slave' as const, geoserver: { url: GEOSERVERS[name]!, credentialsSecret: `local/${name}` } }))],
        'config-sync-real-geoservers',
      );
    } finally {
      if (saved.credentials === undefined) delete process.env.GEOSERVER_CREDENTIALS;
      else process.env.GEOSERVER_CREDENTIALS = saved.credentials;
    }
  }, 300_000);

  afterAll(async () => {
    if (!cluster) return;
    // Leave the GeoServers as found: remove what the scenario created.
    const head = (await cluster.api('GET', '/nodes', cluster.reader)).body.head as number;
    for (let round = 0; round < ROUNDS; round += 1) {
      await cluster.publish(MASTER, { kind: 'remove', object: { type: 'workspace', id: `cluster-it-${round}` }, recurse: true } as Change).catch(() => undefined);
    }
    await cluster.waitForNodes('cleanup applied', (answer) => answer.nodes.every((node) => node.lastAppliedSequence > head || node.role === 'master')).catch(() => undefined);
    await cluster.stop();
  });

  const ROUNDS = 6;

  function sld(name: string, variant: number): string {
    return (
      '<?xml version="1.0" encoding="UTF-8"?>\n<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" ' +
      'xmlns:ogc="http://www.opengis.net/ogc" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
      `<NamedLayer><Name>${name}</Name><UserStyle><Title>${name} ${variant}</Title><FeatureTypeStyle><Rule><LineSymbolizer><Stroke>` +
      `<CssParameter name="stroke">#${(0x111111 * (variant % 15)).toString(16).padStart(6, '0')}</CssParameter>` +
      '</Stroke></LineSymbolizer></Rule></FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n'
    );
  }

  function stream(): Change[] {
    const changes: Change[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const ws = `cluster-it-${round}`;
      changes.push({ kind: 'add', object: { type: 'workspace', id: ws }, properties: { name: ws, isolated: false } });
      changes.push({ kind: 'modify', object: { type: 'namespace', id: ws }, patch: { uri: `http://example.org/${ws}` } });
      changes.push({
        kind: 'add',
        object: { type: 'dataStore', id: `${ws}:pg` },
        // Disabled: GeoServer keeps its configuration without connecting to a database.
        properties: { name: 'pg', type: 'PostGIS', enabled: false, description: `store of ${ws}`, connectionParameters: { entry: [{ '@key': 'host', $: 'db.invalid' }, { '@key': 'dbtype', $: 'postgis' }] } },
      });
      changes.push({
        kind: 'add',
        object: { type: 'style', id: `${ws}:line` },
        properties: { name: 'line', format: 'sld', languageVersion: { version: '1.0.0' }, filename: 'line.sld', body: sld('line', round) },
      });
      changes.push({ kind: 'modify', object: { type: 'style', id: `${ws}:line` }, patch: { body: sld('line', round + 7) } });
      changes.push({ kind: 'modify', object: { type: 'dataStore', id: `${ws}:pg` }, patch: { description: `store of ${ws}, changed` } });
      changes.push({ kind: 'modify', object: { type: 'workspaceSettings', id: ws }, patch: { settings: { charset: 'UTF-8', numDecimals: round + 1 } } } as Change);
      changes.push({ kind: 'modify', object: { type: 'global', id: 'global' }, patch: { settings: { numDecimals: 4 + (round % 4) } } });
      changes.push({ kind: 'modify', object: { type: 'logging', id: 'logging' }, patch: { stdOutLogging: round % 2 === 0 } });
      changes.push({ kind: 'modify', object: { type: 'service', id: 'WMS' }, patch: { maxRenderingTime: 60 + round } });
      if (round % 3 === 2) changes.push({ kind: 'remove', object: { type: 'workspace', id: `cluster-it-${round - 1}` }, recurse: true } as Change);
    }
    return changes;
  }

  test('every real GeoServer converges to the master store: its drift check finds nothing', async () => {
    for (const change of stream()) await cluster.publish(MASTER, change);
    await cluster.waitConverged(undefined, 300_000);
    for (const node of SLAVES) {
      const listed = (await cluster.api('GET', '/nodes', cluster.reader)).body.nodes.find((entry: { name: string }) => entry.name === node)!;
      expect({ node, parked: listed.parked, rejected: listed.geoserver?.rejected, reachable: listed.geoserver?.reachable }).toEqual({ node, parked: [], rejected: [], reachable: true });
      const started = await cluster.api('POST', `/nodes/${node}/drift`, { node: MASTER });
      expect(started.status).toBe(202);
      let job: any;
      for (const deadline = Date.now() + 240_000; Date.now() < deadline; await sleep(500)) {
        job = (await cluster.api('GET', `/nodes/${node}/jobs/${started.body.job.id}`, { node: MASTER })).body.job;
        if (job.state === 'succeeded' || job.state === 'failed') break;
      }
      expect(job).toMatchObject({ state: 'succeeded' });
      const drift = await cluster.api('GET', `/nodes/${node}/drift?limit=1000`, { node: MASTER });
      // Only what the scenario made counts: a real GeoServer also holds its own sample data (extras).
      const ours = (drift.body.differences as { kind: string; type: string; id: string }[]).filter(
        (entry) => entry.kind !== 'extra' && (entry.id.startsWith('cluster-it-') || ['global', 'logging', 'service'].includes(entry.type)),
      );
      expect({ node, differences: ours }).toEqual({ node, differences: [] });
    }
  });
});
