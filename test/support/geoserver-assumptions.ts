/**
 * What the cluster assumes of GeoServer where the REST reference is silent, as checks a person
 * with a real GeoServer runs (test/integration/config-sync/real-geoserver-assumptions.test.ts).
 * Each check sends the same requests to the stand-in (test/support/geoserver-standin), which
 * embodies the assumption, and to a GeoServer, and compares what the cluster relies on in the
 * answers: where they differ, the report names the assumption and the files that rely on it.
 *
 * Real GeoServers cannot make a feature type or a coverage from nothing, so the checks publish
 * them from files a GeoServer holds (`GeoServerFiles`): by default the sample data of the
 * official image's data directory (a shapefile and an ArcGrid coverage). Each check works in a
 * workspace of its own, `cluster-it-assume-<n>`, removed (recursively) before and after; one that
 * moves something to another workspace makes `cluster-it-assume-<n>-other`, and removes it too.
 */
import { isDeepStrictEqual } from 'node:util';
import { ebcdic } from './ebcdic';
import { zipOf } from './zip';

export interface GeoServerTarget {
  /** e.g. `http://localhost:8081/geoserver` */
  readonly url: string;
  readonly user: string;
  readonly password: string;
}

/** Files the GeoServer reads, as connection URLs (`file:` is relative to its data directory). */
export interface GeoServerFiles {
  /** A shapefile: a data store of it publishes a feature type named after the file. */
  readonly shapefile: string;
  /** An ArcGrid (`.asc`) file: a coverage store of it publishes a coverage named after the file. */
  readonly arcgrid: string;
}

/** The official image's sample data (its data directory's `data/` and `coverages/`). */
export const SAMPLE_FILES: GeoServerFiles = { shapefile: 'file:data/sf/roads.shp', arcgrid: 'file:coverages/arc_sample/precip30min.asc' };

export interface Answer {
  readonly status: number;
  readonly text: string;
  /** The `Location` header, when the answer has one. */
  readonly location?: string;
}

/** What a check found: the parts of the answers the cluster relies on, by the request that got them. */
export type Observation = Record<string, unknown>;

export interface Assumption {
  /** The assumption, as the code relying on it states it. */
  readonly name: string;
  /** The files that rely on it (repository paths). */
  readonly reliedOnBy: readonly string[];
  /** What else to know where a GeoServer answers otherwise. */
  readonly note?: string;
  observe(gs: Client): Promise<Observation>;
}

export class Client {
  constructor(
    readonly target: GeoServerTarget,
    readonly files: GeoServerFiles,
    /** The workspace the check works in. */
    readonly ws: string,
  ) {}

  async call(method: string, path: string, options: { body?: unknown; contentType?: string; accept?: string; query?: Record<string, string> } = {}): Promise<Answer> {
    const url = new URL(`${this.target.url}/rest${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value);
    const json = options.body !== undefined && !Buffer.isBuffer(options.body);
    const response = await fetch(url, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${this.target.user}:${this.target.password}`).toString('base64')}`,
        ...(options.body !== undefined ? { 'content-type': options.contentType ?? 'application/json' } : {}),
        ...(options.accept ? { accept: options.accept } : {}),
      },
      body: options.body === undefined ? undefined : json ? JSON.stringify(options.body) : (options.body as Buffer),
      signal: AbortSignal.timeout(60_000),
    });
    const location = response.headers.get('location');
    return { status: response.status, text: await response.text(), ...(location === null ? {} : { location }) };
  }

  /** A step that makes what the check needs: anything but a 2xx stops the check, with the answer. */
  async setUp(method: string, path: string, options: Parameters<Client['call']>[2] = {}): Promise<void> {
    const answer = await this.call(method, path, options);
    if (answer.status < 200 || answer.status > 299) {
      throw new Error(`setting up on ${this.target.url}: ${method} ${path} answered ${answer.status}: ${answer.text.slice(0, 500)}`);
    }
  }

  /** A resource read: its status and, when found, the store (its name in the workspace) the answer names. */
  async resource(path: string): Promise<{ status: number; store?: string }> {
    const answer = await this.call('GET', `${path}.json`);
    if (answer.status !== 200) return { status: answer.status };
    const inner = Object.values(JSON.parse(answer.text) as Record<string, { store?: { name?: string } }>)[0];
    const store = inner?.store?.name;
    return { status: answer.status, ...(store === undefined ? {} : { store: store.slice(store.indexOf(':') + 1) }) };
  }

  // What the checks publish. Both files are read by their GeoServer; the stand-in keeps the bodies.

  async workspace(): Promise<void> {
    await this.setUp('POST', '/workspaces', { body: { workspace: { name: this.ws } } });
  }

  async shapefileStore(name: string): Promise<void> {
    await this.setUp('POST', `/workspaces/${this.ws}/datastores`, {
      body: { dataStore: { name, type: 'Shapefile', enabled: true, connectionParameters: { entry: [{ '@key': 'url', $: this.files.shapefile }] } } },
    });
  }

  /** A feature type `name` of the store's shapefile. */
  async featureType(store: string, name: string): Promise<void> {
    await this.setUp('POST', `/workspaces/${this.ws}/datastores/${store}/featuretypes`, { body: { featureType: { name, nativeName: fileName(this.files.shapefile) } } });
  }

  async arcgridStore(name: string): Promise<void> {
    await this.setUp('POST', `/workspaces/${this.ws}/coveragestores`, { body: { coverageStore: { name, type: 'ArcGrid', enabled: true, url: this.files.arcgrid } } });
  }

  /** The POST of a coverage `name` of the store's file. */
  coverage(store: string, name: string): Promise<Answer> {
    const nativeName = fileName(this.files.arcgrid);
    return this.call('POST', `/workspaces/${this.ws}/coveragestores/${store}/coverages`, { body: { coverage: { name, nativeName, nativeCoverageName: nativeName } } });
  }

  async removeWorkspace(): Promise<void> {
    await this.call('DELETE', `/workspaces/${this.ws}`, { query: { recurse: 'true' } });
  }
}

/** The file's name without folder or extension: what GeoServer names its feature type or coverage. */
function fileName(url: string): string {
  const base = url.slice(url.lastIndexOf('/') + 1);
  return base.includes('.') ? base.slice(0, base.lastIndexOf('.')) : base;
}

/**
 * A workspace with a shapefile store and its feature type `roads` published as a layer: what each
 * layer group check builds its groups on. Answers the groups' collection path and the layer as a
 * group entry.
 */
async function roadsForGroups(gs: Client): Promise<{ groups: string; roads: { '@type': string; name: string } }> {
  await gs.workspace();
  await gs.shapefileStore('roads');
  await gs.featureType('roads', 'roads');
  return { groups: `/workspaces/${gs.ws}/layergroups`, roads: { '@type': 'layer', name: `${gs.ws}:roads` } };
}

/**
 * How many styles a layer group holds, as its JSON answer lists them (a lone style is one, an
 * absent or "" `styles` none), or the status of a read that did not find it.
 */
async function groupStyles(gs: Client, path: string): Promise<number | { status: number }> {
  const read = await gs.call('GET', `${path}.json`);
  if (read.status !== 200) return { status: read.status };
  const styles = (JSON.parse(read.text) as { layerGroup: { styles?: unknown } }).layerGroup.styles;
  if (typeof styles !== 'object' || styles === null || !('style' in styles)) return 0;
  const style = (styles as { style: unknown }).style;
  return Array.isArray(style) ? style.length : 1;
}

/** The names of a layer group's entries, as its JSON answer lists them, or the status of a read that did not find it. */
async function groupEntries(gs: Client, path: string): Promise<string[] | { status: number }> {
  const read = await gs.call('GET', `${path}.json`);
  if (read.status !== 200) return { status: read.status };
  const published = (JSON.parse(read.text) as { layerGroup: { publishables?: { published?: unknown } } }).layerGroup.publishables?.published;
  const entries = Array.isArray(published) ? published : published === undefined ? [] : [published];
  return entries.map((entry) => String((entry as { name?: unknown }).name));
}

/** A POST's answer as the gateway reads the created name: the body's text, and the `Location`'s last segment, decoded. */
function createdName(answer: Answer): { status: number; body: string; locationName?: string } {
  const segment = answer.location === undefined ? undefined : new URL(answer.location, 'http://geoserver.invalid').pathname.split('/').pop();
  return { status: answer.status, body: answer.text.trim(), ...(segment === undefined ? {} : { locationName: decodeURIComponent(segment) }) };
}

/** Whether an answer refuses a resource as one whose name is taken (CatalogImpl.validate's message). */
function refusedAsTaken(answer: Answer): boolean {
  return answer.status >= 400 && /already exists/i.test(answer.text);
}

function sld(name: string, title: string, encoding = 'UTF-8'): string {
  return (
    `<?xml version="1.0" encoding="${encoding}"?>\n<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" ` +
    'xmlns:ogc="http://www.opengis.net/ogc" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
    `<NamedLayer><Name>${name}</Name><UserStyle><Title>${title}</Title><FeatureTypeStyle><Rule><LineSymbolizer><Stroke>` +
    '<CssParameter name="stroke">#336699</CssParameter></Stroke></LineSymbolizer></Rule></FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n'
  );
}

const SLD_TYPE = 'application/vnd.ogc.sld+xml';

export const ASSUMPTIONS: readonly Assumption[] = [
  {
    name: 'a resource looked up through its workspace alone (GET /workspaces/{ws}/featuretypes/{name}, coverages, wmslayers, wmtslayers) is found whichever store holds it, and only under its own type',
    reliedOnBy: ['lambdas/config-sync/geoserver/rest-mapping.ts', 'lambdas/config-sync/geoserver/drift.ts', 'lambdas/config-sync/job-runner.ts'],
    async observe(gs) {
      await gs.workspace();
      await gs.shapefileStore('first');
      await gs.shapefileStore('second');
      await gs.featureType('second', 'rivers');
      await gs.arcgridStore('grid');
      const coverage = await gs.coverage('grid', 'relief');
      if (coverage.status !== 201) throw new Error(`setting up on ${gs.target.url}: the coverage POST answered ${coverage.status}: ${coverage.text.slice(0, 500)}`);
      const ws = `/workspaces/${gs.ws}`;
      return {
        featureType: await gs.resource(`${ws}/featuretypes/rivers`),
        coverage: await gs.resource(`${ws}/coverages/relief`),
        featureTypeAsCoverage: await gs.resource(`${ws}/coverages/rivers`),
        featureTypeAsWmsLayer: await gs.resource(`${ws}/wmslayers/rivers`),
        featureTypeAsWmtsLayer: await gs.resource(`${ws}/wmtslayers/rivers`),
        coverageAsFeatureType: await gs.resource(`${ws}/featuretypes/relief`),
        noSuchResource: await gs.resource(`${ws}/featuretypes/cluster-it-none`),
      };
    },
  },
  {
    name: 'a POST of a data store or a coverage answers 201 with the created name as its body; a POST of a feature type answers 201 with an empty body, and names it only in the Location (its last segment)',
    reliedOnBy: ['lambdas/config-sync/gateway/gateway.ts'],
    note: 'The gateway publishes what a POST created under the name the answer gives: the body, else the Location. A GeoServer that named the object in neither would leave it on the master alone.',
    async observe(gs) {
      await gs.workspace();
      const store = await gs.call('POST', `/workspaces/${gs.ws}/datastores`, {
        body: { dataStore: { name: 'named', type: 'Shapefile', enabled: true, connectionParameters: { entry: [{ '@key': 'url', $: gs.files.shapefile }] } } },
      });
      const featureType = await gs.call('POST', `/workspaces/${gs.ws}/datastores/named/featuretypes`, { body: { featureType: { name: 'roads', nativeName: fileName(gs.files.shapefile) } } });
      await gs.arcgridStore('grid');
      const coverage = await gs.coverage('grid', 'relief');
      return {
        dataStorePost: createdName(store),
        featureTypePost: createdName(featureType),
        coveragePost: createdName(coverage),
        // Read back under the name the Location gives.
        featureTypeAfter: await gs.resource(`/workspaces/${gs.ws}/datastores/named/featuretypes/${createdName(featureType).locationName ?? 'roads'}`),
      };
    },
  },
  {
    name: 'a resource name is unique in its namespace across stores and resource types: a POST of a coverage, or of a feature type in another store, named like a feature type is refused as a name taken',
    reliedOnBy: ['lambdas/config-sync/job-runner.ts', 'lambdas/config-sync/geoserver/drift.ts'],
    async observe(gs) {
      await gs.workspace();
      await gs.shapefileStore('first');
      await gs.shapefileStore('second');
      await gs.featureType('first', 'rivers');
      await gs.arcgridStore('grid');
      const coverage = await gs.coverage('grid', 'rivers');
      const featureType = await gs.call('POST', `/workspaces/${gs.ws}/datastores/second/featuretypes`, { body: { featureType: { name: 'rivers', nativeName: fileName(gs.files.shapefile) } } });
      return {
        coveragePost: { status: coverage.status, refusedAsTaken: refusedAsTaken(coverage) },
        featureTypePostInAnotherStore: { status: featureType.status, refusedAsTaken: refusedAsTaken(featureType) },
        featureTypeAfter: await gs.resource(`/workspaces/${gs.ws}/featuretypes/rivers`),
      };
    },
  },
  {
    name: 'a second feature type or coverage over the native table or coverage one already publishes, under another name, is created (201) with its layer while the first stays; removing the first with recurse leaves the second and its layer',
    reliedOnBy: ['lambdas/config-sync/gateway/cascade.ts', 'lambdas/config-sync/gateway/gateway.ts'],
    note:
      "A resource rename reaches every other node as the new resource and its layer first and the old one's removal last. A GeoServer refusing a second resource over one native name would refuse (park) the new one there while the old one exists.",
    async observe(gs) {
      await gs.workspace();
      await gs.shapefileStore('first');
      await gs.featureType('first', 'rivers');
      await gs.arcgridStore('grid');
      const firstCoverage = await gs.coverage('grid', 'relief');
      if (firstCoverage.status !== 201) throw new Error(`setting up on ${gs.target.url}: the coverage POST answered ${firstCoverage.status}: ${firstCoverage.text.slice(0, 500)}`);
      const ws = `/workspaces/${gs.ws}`;
      const secondFeatureType = await gs.call('POST', `${ws}/datastores/first/featuretypes`, { body: { featureType: { name: 'rivers-renamed', nativeName: fileName(gs.files.shapefile) } } });
      const secondCoverage = await gs.coverage('grid', 'relief-renamed');
      const both = {
        rivers: await gs.resource(`${ws}/featuretypes/rivers`),
        riversRenamed: await gs.resource(`${ws}/featuretypes/rivers-renamed`),
        riversRenamedLayer: (await gs.call('GET', `/layers/${gs.ws}:rivers-renamed.json`)).status,
        relief: await gs.resource(`${ws}/coverages/relief`),
        reliefRenamed: await gs.resource(`${ws}/coverages/relief-renamed`),
        reliefRenamedLayer: (await gs.call('GET', `/layers/${gs.ws}:relief-renamed.json`)).status,
      };
      const removeFeatureType = await gs.call('DELETE', `${ws}/datastores/first/featuretypes/rivers`, { query: { recurse: 'true' } });
      const removeCoverage = await gs.call('DELETE', `${ws}/coveragestores/grid/coverages/relief`, { query: { recurse: 'true' } });
      return {
        secondFeatureTypePost: secondFeatureType.status,
        secondCoveragePost: secondCoverage.status,
        both,
        removeFirst: { featureType: removeFeatureType.status, coverage: removeCoverage.status },
        after: {
          rivers: await gs.resource(`${ws}/featuretypes/rivers`),
          riversRenamed: await gs.resource(`${ws}/featuretypes/rivers-renamed`),
          riversRenamedLayer: (await gs.call('GET', `/layers/${gs.ws}:rivers-renamed.json`)).status,
          reliefRenamed: await gs.resource(`${ws}/coverages/relief-renamed`),
          reliefRenamedLayer: (await gs.call('GET', `/layers/${gs.ws}:relief-renamed.json`)).status,
        },
      };
    },
  },
  {
    name: 'a resource PUT naming another store of its workspace moves it there (read under the new store 200, under the former 404); naming a store the workspace lacks, it stays where it was',
    reliedOnBy: ['lambdas/config-sync/geoserver/apply.ts', 'lambdas/config-sync/job-runner.ts', 'lambdas/config-sync/gateway/resource-store.ts'],
    async observe(gs) {
      await gs.workspace();
      await gs.shapefileStore('first');
      await gs.shapefileStore('second');
      await gs.featureType('first', 'rivers');
      const ws = `/workspaces/${gs.ws}`;
      const put = (from: string, to: string) =>
        gs.call('PUT', `${ws}/datastores/${from}/featuretypes/rivers`, { body: { featureType: { name: 'rivers', store: { '@class': 'dataStore', name: `${gs.ws}:${to}` } } } });
      const toNoStore = await put('first', 'cluster-it-none');
      const afterNoStore = { underFirst: await gs.resource(`${ws}/datastores/first/featuretypes/rivers`), inWorkspace: await gs.resource(`${ws}/featuretypes/rivers`) };
      const move = await put('first', 'second');
      return {
        putNamingNoStore: toNoStore.status,
        afterNoStore,
        putNamingSecond: move.status,
        underSecond: await gs.resource(`${ws}/datastores/second/featuretypes/rivers`),
        underFirst: await gs.resource(`${ws}/datastores/first/featuretypes/rivers`),
        inWorkspace: await gs.resource(`${ws}/featuretypes/rivers`),
      };
    },
  },
  {
    name: 'a layer group another layer group holds is refused deletion (500, naming the holder) and kept; once the holder is deleted, it is deleted',
    reliedOnBy: ['lambdas/config-sync/job-runner.ts', 'lambdas/config-sync/geoserver/drift.ts', 'lambdas/config-sync/gateway/cascade.ts'],
    note: 'captures and reconciles remove nested groups outer first (outerGroupsFirst, drift.ts); a GeoServer that deletes an inner group anyway leaves its holder naming a group that is gone',
    async observe(gs) {
      const { groups, roads } = await roadsForGroups(gs);
      const group = (name: string, entry: { '@type': string; name: string }) => ({ layerGroup: { name, publishables: { published: [entry] } } });
      await gs.setUp('POST', groups, { body: group('inner', roads) });
      await gs.setUp('POST', groups, { body: group('outer', { '@type': 'layerGroup', name: `${gs.ws}:inner` }) });
      const refused = await gs.call('DELETE', `${groups}/inner`);
      const kept = await gs.call('GET', `${groups}/inner.json`);
      const outer = await gs.call('DELETE', `${groups}/outer`);
      const inner = await gs.call('DELETE', `${groups}/inner`);
      return {
        innerWhileHeld: { status: refused.status, namesTheHolder: refused.text.includes("referenced by layer group 'outer'") },
        innerAfterRefusal: kept.status,
        outerDelete: outer.status,
        innerDeleteAfter: inner.status,
      };
    },
  },
  {
    name: "a recursive DELETE of a feature type or coverage whose layer a layer group names is refused (500, naming the group) and keeps the resource, its layer and the group; a recursive DELETE of the layer takes it out of the group, and the resource with it",
    reliedOnBy: ['lambdas/config-sync/gateway/cascade.ts', 'lambdas/config-sync/gateway/gateway.ts', 'lambdas/config-sync/geoserver/drift.ts', 'test/support/geoserver-standin/catalog.ts'],
    note:
      "read from GeoServer's source only (FeatureTypeController.featureTypeDelete and CoverageController.coverageDelete remove each layer with catalog.remove, which CatalogImpl refuses for a layer a group names; LayerController.layerDelete runs CascadeDeleteVisitor.visit(LayerInfo)): " +
      'renames and reconciles take a resource\'s layer out of its groups (or remove the layer with recurse) before the resource goes; a GeoServer cascading a resource DELETE would change groups the cluster does not publish',
    async observe(gs) {
      const { groups, roads } = await roadsForGroups(gs);
      await gs.arcgridStore('grid');
      const coverage = await gs.coverage('grid', 'relief');
      if (coverage.status !== 201) throw new Error(`setting up on ${gs.target.url}: the coverage POST answered ${coverage.status}: ${coverage.text.slice(0, 500)}`);
      const relief = { '@type': 'layer', name: `${gs.ws}:relief` };
      await gs.setUp('POST', groups, { body: { layerGroup: { name: 'base', publishables: { published: [roads, relief] } } } });
      const ws = `/workspaces/${gs.ws}`;
      const featureType = await gs.call('DELETE', `${ws}/datastores/roads/featuretypes/roads`, { query: { recurse: 'true' } });
      const coverageDelete = await gs.call('DELETE', `${ws}/coveragestores/grid/coverages/relief`, { query: { recurse: 'true' } });
      const refused = (answer: Answer) => ({ status: answer.status, namesTheGroup: answer.text.includes("referenced by layer group 'base'") });
      const kept = {
        featureType: await gs.resource(`${ws}/datastores/roads/featuretypes/roads`),
        featureTypeLayer: (await gs.call('GET', `/layers/${gs.ws}:roads.json`)).status,
        coverage: await gs.resource(`${ws}/coveragestores/grid/coverages/relief`),
        coverageLayer: (await gs.call('GET', `/layers/${gs.ws}:relief.json`)).status,
        entries: await groupEntries(gs, `${groups}/base`),
      };
      const layerDelete = await gs.call('DELETE', `/layers/${gs.ws}:roads`, { query: { recurse: 'true' } });
      return {
        featureTypeDelete: refused(featureType),
        coverageDelete: refused(coverageDelete),
        kept,
        layerDelete: layerDelete.status,
        afterLayerDelete: { featureType: await gs.resource(`${ws}/datastores/roads/featuretypes/roads`), entries: await groupEntries(gs, `${groups}/base`) },
      };
    },
  },
  {
    name: "a layer group PUT naming another name, or another workspace, is refused (403) and changes nothing: a layer group cannot be renamed or moved through REST",
    reliedOnBy: ['lambdas/config-sync/gateway/gateway.ts', 'lambdas/config-sync/gateway/cascade.ts', 'test/support/geoserver-standin/catalog.ts'],
    note: "read from GeoServer's source only (LayerGroupController.layerGroupPut: \"ensure not a name change\", \"ensure not a workspace change\"): the gateway's rename of a group (the new group, its holders, the old one's removal) then never runs; a GeoServer that renames answers 200 here, and the gateway publishes that rename",
    async observe(gs) {
      const { roads } = await roadsForGroups(gs);
      const ws = `/workspaces/${gs.ws}`;
      await gs.setUp('POST', `${ws}/layergroups`, { body: { layerGroup: { name: 'base', title: 'Base', publishables: { published: [roads] } } } });
      // A second workspace the group could be moved to: the check's own name with a suffix, removed after.
      const other = `${gs.ws}-other`;
      await gs.call('DELETE', `/workspaces/${other}`, { query: { recurse: 'true' } });
      await gs.setUp('POST', '/workspaces', { body: { workspace: { name: other } } });
      try {
        const renamed = await gs.call('PUT', `${ws}/layergroups/base`, { body: { layerGroup: { name: 'renamed', title: 'Renamed' } } });
        const moved = await gs.call('PUT', `${ws}/layergroups/base`, { body: { layerGroup: { workspace: { name: other }, title: 'Moved' } } });
        const title = async (path: string) => {
          const read = await gs.call('GET', `${path}.json`);
          return read.status === 200 ? (JSON.parse(read.text) as { layerGroup: { title?: unknown } }).layerGroup.title : { status: read.status };
        };
        return {
          rename: { status: renamed.status, refusedAsRename: renamed.text.includes("Can't change name of a layer group") },
          move: { status: moved.status, refusedAsMove: moved.text.includes("Can't change the workspace of a layer group") },
          base: await title(`${ws}/layergroups/base`),
          renamed: await title(`${ws}/layergroups/renamed`),
          inOther: await title(`/workspaces/${other}/layergroups/base`),
        };
      } finally {
        await gs.call('DELETE', `/workspaces/${other}`, { query: { recurse: 'true' } });
      }
    },
  },
  {
    name: "a style PUT with a new name renames it in place (the old name answers 404, a layer whose default style it was names the new one), and one naming another workspace is refused (403) and changes nothing",
    reliedOnBy: ['lambdas/config-sync/gateway/gateway.ts', 'lambdas/config-sync/gateway/style-users.ts', 'test/support/geoserver-standin/catalog.ts'],
    note: "read from GeoServer's source only (StyleController.stylePut checks no name, refuses another workspace: \"ensure no workspace change\"; layers hold their styles by reference): the gateway publishes a style rename as the new style, its users as the master holds them, then the old one's removal",
    async observe(gs) {
      const { roads } = await roadsForGroups(gs);
      const ws = `/workspaces/${gs.ws}`;
      await gs.setUp('POST', `${ws}/styles`, { body: sld('lines', 'cluster-it lines'), contentType: SLD_TYPE, query: { name: 'lines' } });
      await gs.setUp('PUT', `/layers/${roads.name}`, { body: { layer: { defaultStyle: { name: `${gs.ws}:lines` } } } });
      const other = `${gs.ws}-other`;
      await gs.call('DELETE', `/workspaces/${other}`, { query: { recurse: 'true' } });
      await gs.setUp('POST', '/workspaces', { body: { workspace: { name: other } } });
      try {
        const moved = await gs.call('PUT', `${ws}/styles/lines`, { body: { style: { workspace: { name: other } } } });
        const afterMove = { here: (await gs.call('GET', `${ws}/styles/lines.json`)).status, inOther: (await gs.call('GET', `/workspaces/${other}/styles/lines.json`)).status };
        const renamed = await gs.call('PUT', `${ws}/styles/lines`, { body: { style: { name: 'streets' } } });
        const layer = await gs.call('GET', `/layers/${roads.name}.json`);
        // By its own name: whether a reference to a workspace's style carries its prefix is not what is checked.
        const styleName = layer.status === 200 ? String((JSON.parse(layer.text) as { layer: { defaultStyle?: { name?: unknown } } }).layer.defaultStyle?.name) : undefined;
        const defaultStyle = styleName === undefined ? { status: layer.status } : styleName.slice(styleName.indexOf(':') + 1);
        return {
          move: { status: moved.status, refusedAsMove: moved.text.includes("Can't change the workspace of a style") },
          afterMove,
          rename: renamed.status,
          oldName: (await gs.call('GET', `${ws}/styles/lines.json`)).status,
          newName: (await gs.call('GET', `${ws}/styles/streets.json`)).status,
          layerDefaultStyle: defaultStyle,
        };
      } finally {
        await gs.call('DELETE', `/workspaces/${other}`, { query: { recurse: 'true' } });
      }
    },
  },
  {
    name: 'a data store PUT with a new name renames it in place: its feature type is read under the new name (200), the old name answers 404',
    reliedOnBy: ['lambdas/config-sync/gateway/gateway.ts', 'lambdas/config-sync/gateway/moved-children.ts', 'test/support/geoserver-standin/catalog.ts'],
    note:
      "GeoServer's source differs by version: one DataStoreController.dataStorePut refuses another name (403, \"can not change name of a datastore\"), another copies it: " +
      'where this GeoServer refuses, the gateway passes the refusal on and publishes nothing, and a store can be renamed only by making the new one, moving its resources and removing the old',
    async observe(gs) {
      await gs.workspace();
      await gs.shapefileStore('first');
      await gs.featureType('first', 'roads');
      const ws = `/workspaces/${gs.ws}`;
      const renamed = await gs.call('PUT', `${ws}/datastores/first`, { body: { dataStore: { name: 'renamed' } } });
      return {
        put: renamed.status,
        newName: (await gs.call('GET', `${ws}/datastores/renamed.json`)).status,
        oldName: (await gs.call('GET', `${ws}/datastores/first.json`)).status,
        featureTypeUnderNew: await gs.resource(`${ws}/datastores/renamed/featuretypes/roads`),
      };
    },
  },
  {
    name: 'a layer group POST or PUT whose entry (with a default style) names a layer group GeoServer lacks is accepted (201, 200) with that entry dropped; one naming only what it lacks is refused (500, "Layer group must not be empty") and writes nothing',
    reliedOnBy: ['lambdas/config-sync/job-runner.ts', 'lambdas/config-sync/geoserver/drift.ts', 'test/support/geoserver-standin/catalog.ts'],
    note: 'captures write a group after the adds of the groups it names (captureOrder, innerGroupsFirst); a GeoServer refusing such an entry instead parks the write rather than losing the entry',
    async observe(gs) {
      const { groups, roads } = await roadsForGroups(gs);
      const entries = [
        roads,
        { '@type': 'layerGroup', name: `${gs.ws}:absent` },
      ];
      const group = (name: string, published: readonly unknown[]) => ({ layerGroup: { name, publishables: { published }, styles: { style: published.map(() => ({})) } } });
      const entriesOf = async (name: string) => {
        const read = await gs.call('GET', `${groups}/${name}.json`);
        if (read.status !== 200) return read.status;
        const published = JSON.parse(read.text).layerGroup.publishables.published;
        return (Array.isArray(published) ? published : [published]).map((entry: { name: string }) => entry.name);
      };
      const posted = await gs.call('POST', groups, { body: group('base', entries) });
      const afterPost = await entriesOf('base');
      const put = await gs.call('PUT', `${groups}/base`, { body: group('base', entries) });
      const afterPut = await entriesOf('base');
      const emptyPost = await gs.call('POST', groups, { body: group('other', entries.slice(1)) });
      const emptyPut = await gs.call('PUT', `${groups}/base`, { body: group('base', entries.slice(1)) });
      return {
        post: { status: posted.status, entries: afterPost },
        put: { status: put.status, entries: afterPut },
        onlyMissingPost: { status: emptyPost.status, empty: emptyPost.text.includes('Layer group must not be empty'), saved: await entriesOf('other') },
        onlyMissingPut: { status: emptyPut.status, empty: emptyPut.text.includes('Layer group must not be empty'), entries: await entriesOf('base') },
      };
    },
  },
  {
    name: 'a layer group POSTed without styles answers one "null" style per entry; a PUT with an entry more and no styles is refused (500, "different number of styles") and changes nothing; one stating "", "null" or {} per entry is taken, answered as "null"',
    reliedOnBy: ['lambdas/config-sync/representations.ts', 'lambdas/config-sync/gateway/catalog-required.ts', 'test/support/geoserver-standin/catalog.ts'],
    note: 'read from GeoServer\'s source (XStreamPersister, CatalogImpl, OwsUtils.copy); nodes write a group with one style per entry and compare "", "null" and {} as the default style, and the gateway refuses the PUT GeoServer refuses',
    async observe(gs) {
      const { groups, roads } = await roadsForGroups(gs);
      const stylesOf = async () => {
        const read = await gs.call('GET', `${groups}/base.json`);
        if (read.status !== 200) return read.status;
        const style = JSON.parse(read.text).layerGroup.styles?.style;
        return Array.isArray(style) ? style : style === undefined ? [] : [style];
      };
      const posted = await gs.call('POST', groups, { body: { layerGroup: { name: 'base', publishables: { published: [roads, roads] } } } });
      const afterPost = await stylesOf();
      const grown = await gs.call('PUT', `${groups}/base`, { body: { layerGroup: { publishables: { published: [roads, roads, roads] } } } });
      const afterRefusal = await stylesOf();
      const stated = await gs.call('PUT', `${groups}/base`, { body: { layerGroup: { publishables: { published: [roads, roads, roads] }, styles: { style: ['', 'null', {}] } } } });
      return {
        post: { status: posted.status, styles: afterPost },
        putWithoutStyles: { status: grown.status, refused: grown.text.includes('different number of styles than layers'), styles: afterRefusal },
        putStatingNullStyles: { status: stated.status, styles: await stylesOf() },
      };
    },
  },
  {
    name: 'a layer group\'s `styles` states one style for {"style": null}, {"style": [null]} and {"style": ""}, and none for {"style": []}, "styles": null and "styles": "": POSTed with two entries, one style is refused (500, "different number of styles") and saves nothing, none is taken with a null style per entry',
    reliedOnBy: ['lambdas/config-sync/representations.ts', 'lambdas/config-sync/publish.ts', 'lambdas/config-sync/gateway/catalog-required.ts', 'test/support/geoserver-standin/catalog.ts'],
    note: 'read from GeoServer\'s source only (Jettison\'s mapped convention makes one <style> element of a lone style, null and "" included; XStreamPersister\'s ReferenceCollectionConverter adds one entry per element): statedGroupStyleCount counts so, and the gateway and POST /config/events refuse by that count',
    async observe(gs) {
      const { groups, roads } = await roadsForGroups(gs);
      const forms: Record<string, unknown> = {
        'style null': { style: null },
        'style [null]': { style: [null] },
        'style ""': { style: '' },
        'style []': { style: [] },
        'styles null': null,
        'styles ""': '',
      };
      const observed: Observation = {};
      for (const [index, [form, styles]] of Object.entries(forms).entries()) {
        const name = `g${index}`;
        const posted = await gs.call('POST', groups, { body: { layerGroup: { name, publishables: { published: [roads, roads] }, styles } } });
        observed[form] = {
          status: posted.status,
          refusedAsNotOnePerEntry: posted.text.includes('different number of styles than layers'),
          styles: await groupStyles(gs, `${groups}/${name}`),
        };
      }
      return observed;
    },
  },
  {
    name: 'a layer group\'s `publishables` states one entry for "published": null and [null], and none for [] and "publishables": null: a POST stating none is refused as empty by the controller (400), one naming nothing by the catalog (500); neither saves anything',
    reliedOnBy: ['lambdas/config-sync/representations.ts', 'lambdas/config-sync/gateway/catalog-required.ts', 'lambdas/config-sync/gateway/gateway.ts', 'test/support/geoserver-standin/catalog.ts'],
    note: 'read from GeoServer\'s source only: layerGroupEntries counts a lone null entry as one entry naming nothing, which the gateway and POST /config/events refuse (400, publishables) rather than forward; a GeoServer answering 400 for it reads it as no entry ("published": "" is not a form the REST reference describes, so it is not sent)',
    async observe(gs) {
      const { groups } = await roadsForGroups(gs);
      const forms: Record<string, unknown> = {
        'published null': { published: null },
        'published [null]': { published: [null] },
        'published []': { published: [] },
        'publishables null': null,
      };
      const observed: Observation = {};
      for (const [index, [form, publishables]] of Object.entries(forms).entries()) {
        const name = `g${index}`;
        const posted = await gs.call('POST', groups, { body: { layerGroup: { name, publishables } } });
        observed[form] = { status: posted.status, saved: (await gs.call('GET', `${groups}/${name}.json`)).status };
      }
      return observed;
    },
  },
  {
    name: 'a layer group PUT with "styles": {"style": []} empties the styles held (200, answered without styles), where "styles": null keeps them; a PUT stating entries and styles of another number is refused (500, "different number of styles") and changes nothing',
    reliedOnBy: ['lambdas/config-sync/gateway/catalog-required.ts', 'lambdas/config-sync/representations.ts', 'test/support/geoserver-standin/catalog.ts'],
    note: 'read from GeoServer\'s source only (OwsUtils.copy puts the empty list read in place of the held one, catalog.save takes it): the gateway refuses such a PUT, since it would empty the styles on the master only',
    async observe(gs) {
      const { groups, roads } = await roadsForGroups(gs);
      await gs.setUp('POST', groups, { body: { layerGroup: { name: 'base', publishables: { published: [roads] } } } });
      await gs.setUp('POST', groups, { body: { layerGroup: { name: 'kept', publishables: { published: [roads] } } } });
      const initial = await groupStyles(gs, `${groups}/base`);
      const keptPut = await gs.call('PUT', `${groups}/kept`, { body: { layerGroup: { styles: null } } });
      const emptied = await gs.call('PUT', `${groups}/base`, { body: { layerGroup: { styles: { style: [] } } } });
      const mismatched = await gs.call('PUT', `${groups}/kept`, { body: { layerGroup: { publishables: { published: [roads, roads] }, styles: { style: [{}, {}, {}] } } } });
      const keptEntries = await gs.call('GET', `${groups}/kept.json`);
      const published = keptEntries.status === 200 ? JSON.parse(keptEntries.text).layerGroup.publishables?.published : undefined;
      return {
        beforePut: initial,
        putStylesNull: { status: keptPut.status },
        putEmptyStyleList: { status: emptied.status, styles: await groupStyles(gs, `${groups}/base`) },
        putNotOnePerEntry: {
          status: mismatched.status,
          refusedAsNotOnePerEntry: mismatched.text.includes('different number of styles than layers'),
          entriesAfter: published === undefined ? keptEntries.status : Array.isArray(published) ? published.length : 1,
          stylesAfter: await groupStyles(gs, `${groups}/kept`),
        },
      };
    },
  },
  {
    name: 'GeoServer decodes a percent-encoded letter, digit or "-._~" in a REST path before routing it: /workspaces/%63luster-it-… answers that workspace, %77orkspaces routes as workspaces, and an encoded "." before the extension is the extension',
    reliedOnBy: ['lambdas/config-sync/gateway/rest-paths.ts', 'test/support/geoserver-standin/reference.ts'],
    note: 'read from GeoServer\'s source only (its REST path helper decodes the whole path, then Spring matches it): the gateway refuses such a path (400) because the master would reach an object other than the one the path names as sent',
    async observe(gs) {
      await gs.workspace();
      const read = async (path: string) => {
        const answer = await gs.call('GET', path, { accept: 'application/json' });
        let name: unknown;
        try {
          name = (JSON.parse(answer.text) as { workspace?: { name?: unknown } }).workspace?.name;
        } catch {
          name = undefined;
        }
        return { status: answer.status, ...(name === undefined ? {} : { workspace: name }) };
      };
      const encodedFirst = `%${gs.ws.charCodeAt(0).toString(16)}${gs.ws.slice(1)}`;
      return {
        asSent: await read(`/workspaces/${gs.ws}.json`),
        encodedLetterInName: await read(`/workspaces/${encodedFirst}.json`),
        encodedLetterInLiteralSegment: await read(`/%77orkspaces/${gs.ws}.json`),
        encodedHyphenInName: await read(`/workspaces/${gs.ws.replaceAll('-', '%2D')}.json`),
        encodedDotBeforeExtension: await read(`/workspaces/${gs.ws}%2Ejson`),
      };
    },
  },
  {
    name: "a style created without its document (its info POSTed, the two-step upload's first step) answers a GET of its document as the stand-in does",
    reliedOnBy: ['lambdas/config-sync/geoserver/drift.ts', 'lambdas/config-sync/job-runner.ts'],
    note: 'GeoServerReader.styleDocument (drift.ts) takes a 200 with no document, or a non-200 answer, for a document it cannot read; only a 200 with a document counts as one',
    async observe(gs) {
      await gs.workspace();
      await gs.setUp('POST', `/workspaces/${gs.ws}/styles`, { body: { style: { name: 'bare', filename: 'bare.sld', format: 'sld', languageVersion: { version: '1.0.0' } } } });
      const info = await gs.call('GET', `/workspaces/${gs.ws}/styles/bare.json`);
      const document = await gs.call('GET', `/workspaces/${gs.ws}/styles/bare.sld`, { accept: SLD_TYPE });
      return { info: info.status, document: { status: document.status, holdsDocument: document.status === 200 && document.text.length > 0 } };
    },
  },
  {
    name: 'a zipped style package whose entries carry ZIP64 data descriptors (as `zip - -` writes them) is read by GeoServer as the gateway reads it: the style is made from its SLD',
    reliedOnBy: ['lambdas/config-sync/gateway/style-package.ts'],
    note: 'GeoServer reads a ZIP64 data descriptor from Java 21 on; on Java 17 it refuses such a package (docs/operations.md, "The GeoServer REST gateway"): compare with the JDK this GeoServer runs on',
    async observe(gs) {
      await gs.workspace();
      const title = 'cluster-it streamed package';
      const zip = zipOf([
        { name: 'streamed.sld', data: sld('streamed', title), descriptor: 'zip64' },
        { name: 'notes.txt', data: 'no icons here', descriptor: 'zip64' },
      ]);
      const posted = await gs.call('POST', `/workspaces/${gs.ws}/styles`, { body: zip, contentType: 'application/zip', query: { name: 'streamed' } });
      const document = await gs.call('GET', `/workspaces/${gs.ws}/styles/streamed.sld`, { accept: SLD_TYPE });
      return { post: posted.status, document: { status: document.status, holdsTheSld: document.text.includes(title) } };
    },
  },
  {
    name: 'GeoServer reads an XML body in EBCDIC (opening with "<?xm" in EBCDIC, declaring IBM037): an SLD so sent makes its style, so the gateway must refuse such bodies it cannot check',
    reliedOnBy: ['lambdas/config-sync/gateway/doctype.ts', 'lambdas/shared/xml-encoding.ts'],
    note: 'a GeoServer refusing the body makes the gateway\'s refusal (400 XML_ENCODING) a precaution only, not wrong',
    async observe(gs) {
      await gs.workspace();
      const posted = await gs.call('POST', `/workspaces/${gs.ws}/styles`, { body: ebcdic(sld('ebcdic', 'cluster-it EBCDIC', 'IBM037')), contentType: SLD_TYPE, query: { name: 'ebcdic' } });
      const info = await gs.call('GET', `/workspaces/${gs.ws}/styles/ebcdic.json`);
      return { post: posted.status, info: info.status };
    },
  },
  {
    name: 'a DELETE of a namespace a resource still belongs to is refused with 401 ("Namespace not empty"), not 403, and the namespace and the resource are kept',
    reliedOnBy: ['lambdas/config-sync/geoserver/apply.ts'],
    note: "read from GeoServer's source (NamespaceController.namespaceDelete answers HttpStatus.UNAUTHORIZED): the apply takes a 401 for this change's refusal only while GET /about/version is accepted, else for refused credentials",
    async observe(gs) {
      await gs.workspace();
      await gs.shapefileStore('roads');
      await gs.featureType('roads', 'roads');
      const refused = await gs.call('DELETE', `/namespaces/${gs.ws}`);
      return {
        delete: { status: refused.status, notEmpty: refused.text.includes('Namespace not empty') },
        namespaceAfter: (await gs.call('GET', `/namespaces/${gs.ws}.json`)).status,
        resourceAfter: await gs.resource(`/workspaces/${gs.ws}/featuretypes/roads`),
      };
    },
  },
  {
    name: "a PUT of a style's or layer group's info the GeoServer lacks answers 500, not 404, global or of a workspace, and so does a PUT of a layer it lacks (by its qualified name or through its workspace), while a GET of it answers 404; a PUT of a style document to a style it lacks answers 500 with raw=true and 400 without",
    reliedOnBy: ['lambdas/config-sync/geoserver/apply.ts'],
    note: "read from GeoServer's source (StyleController.stylePut, LayerGroupController.layerGroupPut and LayerController.layerPut use what they look up without a null check): the apply takes a 500 to such a PUT for a 404 only when a GET of the item answers 404, and then POSTs (a layer, which cannot be POSTed, is refused as missing); a GeoServer answering 404 needs no GET",
    async observe(gs) {
      await gs.workspace();
      const ws = `/workspaces/${gs.ws}`;
      // Global objects are named after the check's workspace, which no GeoServer holds.
      const ghost = `${gs.ws}-ghost`;
      const stylePut = (base: string) => gs.call('PUT', `${base}/styles/${ghost}`, { body: { style: { name: ghost, filename: `${ghost}.sld` } } });
      const groupPut = (base: string) => gs.call('PUT', `${base}/layergroups/${ghost}`, { body: { layerGroup: { name: ghost, title: 'absent' } } });
      const documentPut = (raw: boolean) => gs.call('PUT', `${ws}/styles/${ghost}`, { body: Buffer.from(sld(ghost, 'absent')), contentType: SLD_TYPE, ...(raw ? { query: { raw: 'true' } } : {}) });
      const puts = {
        globalStyle: (await stylePut('')).status,
        workspaceStyle: (await stylePut(ws)).status,
        globalLayerGroup: (await groupPut('')).status,
        workspaceLayerGroup: (await groupPut(ws)).status,
        styleDocumentRaw: (await documentPut(true)).status,
        styleDocument: (await documentPut(false)).status,
        globalLayer: (await gs.call('PUT', `/layers/${gs.ws}:ghost`, { body: { layer: { defaultStyle: { name: 'line' } } } })).status,
        workspaceLayer: (await gs.call('PUT', `${ws}/layers/ghost`, { body: { layer: { defaultStyle: { name: 'line' } } } })).status,
      };
      return {
        puts,
        reads: {
          globalStyle: (await gs.call('GET', `/styles/${ghost}.json`)).status,
          workspaceStyle: (await gs.call('GET', `${ws}/styles/${ghost}.json`)).status,
          globalLayerGroup: (await gs.call('GET', `/layergroups/${ghost}.json`)).status,
          workspaceLayerGroup: (await gs.call('GET', `${ws}/layergroups/${ghost}.json`)).status,
          globalLayer: (await gs.call('GET', `/layers/${gs.ws}:ghost.json`)).status,
          workspaceLayer: (await gs.call('GET', `${ws}/layers/ghost.json`)).status,
        },
      };
    },
  },
  {
    name: 'a POST creating a data store, WMS store, WMTS store, feature type or coverage with "enabled": false creates it enabled; a coverage store so POSTed stays disabled; a PUT of "enabled": false disables it',
    reliedOnBy: ['lambdas/config-sync/geoserver/apply.ts'],
    note: "read from GeoServer's source (the POSTs of DataStoreController, WMSStoreController, WMTSStoreController, FeatureTypeController and CoverageController call setEnabled(true); CoverageStoreController's does not): the apply PUTs enabled=false after a POST creating a store or resource the node holds disabled, for a coverage store too, where it changes nothing",
    async observe(gs) {
      await gs.workspace();
      const ws = `/workspaces/${gs.ws}`;
      const shapefile = { entry: [{ '@key': 'url', $: gs.files.shapefile }] };
      await gs.setUp('POST', `${ws}/datastores`, { body: { dataStore: { name: 'roads', type: 'Shapefile', enabled: false, connectionParameters: shapefile } } });
      await gs.setUp('POST', `${ws}/datastores/roads/featuretypes`, { body: { featureType: { name: 'roads', nativeName: fileName(gs.files.shapefile), enabled: false } } });
      await gs.setUp('POST', `${ws}/coveragestores`, { body: { coverageStore: { name: 'disabled', type: 'ArcGrid', enabled: false, url: gs.files.arcgrid } } });
      await gs.arcgridStore('grid');
      const nativeName = fileName(gs.files.arcgrid);
      await gs.setUp('POST', `${ws}/coveragestores/grid/coverages`, { body: { coverage: { name: 'relief', nativeName, nativeCoverageName: nativeName, enabled: false } } });
      const wmsStore = await gs.call('POST', `${ws}/wmsstores`, { body: { wmsStore: { name: 'remote', type: 'WMS', enabled: false } } });
      const wmtsStore = await gs.call('POST', `${ws}/wmtsstores`, { body: { wmtsStore: { name: 'tiles', type: 'WMTS', enabled: false } } });
      const enabled = async (path: string): Promise<unknown> => {
        const read = await gs.call('GET', `${path}.json`);
        return read.status === 200 ? Object.values(JSON.parse(read.text) as Record<string, { enabled?: unknown }>)[0]?.enabled : { status: read.status };
      };
      const created = {
        dataStore: await enabled(`${ws}/datastores/roads`),
        featureType: await enabled(`${ws}/datastores/roads/featuretypes/roads`),
        coverageStore: await enabled(`${ws}/coveragestores/disabled`),
        coverage: await enabled(`${ws}/coveragestores/grid/coverages/relief`),
        wmsStore: { post: wmsStore.status, enabled: await enabled(`${ws}/wmsstores/remote`) },
        wmtsStore: { post: wmtsStore.status, enabled: await enabled(`${ws}/wmtsstores/tiles`) },
      };
      const disable = await gs.call('PUT', `${ws}/datastores/roads`, { body: { dataStore: { enabled: false } } });
      return { created, putDisabling: { status: disable.status, dataStore: await enabled(`${ws}/datastores/roads`) } };
    },
  },
  {
    name: 'a DELETE without recurse of a store holding a resource is refused and keeps both: a data store with 403, a coverage store with 401 ("coveragestore not empty")',
    reliedOnBy: ['lambdas/config-sync/geoserver/apply.ts'],
    note: "read from GeoServer's source (DataStoreController.dataStoreDelete answers FORBIDDEN; CoverageStoreController.coverageStoreDelete, like the WMS and WMTS store controllers, UNAUTHORIZED): the apply takes either for this change's refusal while GET /about/version is accepted",
    async observe(gs) {
      await gs.workspace();
      await gs.shapefileStore('roads');
      await gs.featureType('roads', 'roads');
      await gs.arcgridStore('grid');
      const coverage = await gs.coverage('grid', 'relief');
      if (coverage.status !== 201) throw new Error(`setting up on ${gs.target.url}: the coverage POST answered ${coverage.status}: ${coverage.text.slice(0, 500)}`);
      const ws = `/workspaces/${gs.ws}`;
      const dataStore = await gs.call('DELETE', `${ws}/datastores/roads`);
      const coverageStore = await gs.call('DELETE', `${ws}/coveragestores/grid`);
      return {
        dataStoreDelete: dataStore.status,
        coverageStoreDelete: { status: coverageStore.status, notEmpty: coverageStore.text.includes('coveragestore not empty') },
        featureTypeAfter: await gs.resource(`${ws}/datastores/roads/featuretypes/roads`),
        coverageAfter: await gs.resource(`${ws}/coveragestores/grid/coverages/relief`),
      };
    },
  },
  {
    name: "GET /about/version.json answers 401 to wrong HTTP Basic credentials and to a caller without any, and 200 to an administrator's: the read by which the gateway asks the master about a write's caller before the write lease",
    reliedOnBy: ['lambdas/config-sync/gateway/caller-check.ts'],
    note:
      "GeoServer's Basic filter refuses wrong credentials before any rule is read; its default REST rules (rest.properties, /**;GET=ADMIN) keep the path from anonymous callers. " +
      'A GeoServer whose rules let anonymous callers read it answers 200 there: the gateway then lets such writes wait for the lease as before, and the master refuses them under it. ' +
      "With brute-force protection on (the default), the wrong credentials' 401 comes after a delay of 1 to 5 s",
    async observe(gs) {
      const asked = async (authorization?: string) =>
        (await fetch(`${gs.target.url}/rest/about/version.json`, { headers: { accept: 'application/json', ...(authorization ? { authorization } : {}) }, signal: AbortSignal.timeout(60_000) })).status;
      const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      return {
        administrator: await asked(basic(gs.target.user, gs.target.password)),
        wrongPassword: await asked(basic(gs.target.user, `${gs.target.password}-wrong`)),
        unknownUser: await asked(basic('cluster-it-nobody', 'x')),
        none: await asked(),
      };
    },
  },
];

/** The workspace of the n-th assumption's check. */
export function workspaceOf(assumption: Assumption): string {
  return `cluster-it-assume-${ASSUMPTIONS.indexOf(assumption) + 1}`;
}

/** Runs a check on one GeoServer in its own workspace, removed before and after. */
export async function observe(assumption: Assumption, target: GeoServerTarget, files: GeoServerFiles): Promise<Observation> {
  const gs = new Client(target, files, workspaceOf(assumption));
  await gs.removeWorkspace();
  try {
    return await assumption.observe(gs);
  } finally {
    await gs.removeWorkspace();
  }
}

/**
 * Runs a check on the stand-in and on a GeoServer: undefined where they answer alike, else a
 * report naming the assumption, the files relying on it and both answers.
 */
export async function compare(assumption: Assumption, standIn: GeoServerTarget, geoserver: GeoServerTarget, files: GeoServerFiles): Promise<string | undefined> {
  const expected = await observe(assumption, standIn, files);
  const found = await observe(assumption, geoserver, files);
  if (isDeepStrictEqual(expected, found)) return undefined;
  const differing = Object.keys({ ...expected, ...found }).filter((key) => !isDeepStrictEqual(expected[key], found[key]));
  return [
    `The GeoServer at ${geoserver.url} does not bear out an assumption: ${assumption.name}.`,
    `Relied on by: ${assumption.reliedOnBy.join(', ')}.`,
    ...differing.map((key) => `  ${key}: the stand-in answered ${JSON.stringify(expected[key])}, the GeoServer ${JSON.stringify(found[key])}`),
    ...(assumption.note ? [`Note: ${assumption.note}.`] : []),
  ].join('\n');
}
