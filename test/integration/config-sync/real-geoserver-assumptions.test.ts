/**
 * What the cluster assumes of GeoServer where its REST reference is silent, checked against real
 * GeoServers (test/support/geoserver-assumptions.ts lists each assumption and the files relying
 * on it). Each check sends the same requests to the stand-in and to a GeoServer and compares the
 * answers the cluster relies on; a difference names the assumption and those files.
 *
 * Opt-in as real-geoservers.test.ts is: `GEOSERVER_URLS` (comma-separated, `node=url` works too),
 * `GEOSERVER_USER`/`GEOSERVER_PASSWORD` (default `admin`/`geoserver`). The checks publish a
 * shapefile and an ArcGrid file the GeoServer holds: by default the official image's sample data;
 * `GEOSERVER_SHAPEFILE` and `GEOSERVER_ARCGRID` name others (`file:` URLs are relative to its
 * data directory). Objects are made in workspaces `cluster-it-assume-*`, removed at the end.
 *
 * Without GeoServers the checks run against a second stand-in instead, so the comparisons are
 * exercised in every run: they must agree, and a stand-in made to answer otherwise must be
 * reported as a difference naming the assumption and the files relying on it.
 */
import { startGeoServerStandIn, type GeoServerStandIn } from '../../support/geoserver-standin';
import { ASSUMPTIONS, compare, observe, SAMPLE_FILES, type GeoServerFiles, type GeoServerTarget } from '../../support/geoserver-assumptions';

jest.setTimeout(120_000);

const URLS = (process.env.GEOSERVER_URLS ?? '')
  .split(',')
  .map((part) => part.trim())
  .filter(Boolean)
  .map((entry) => {
    const separator = entry.indexOf('=');
    return separator > 0 && !entry.slice(0, separator).includes(':') ? entry.slice(separator + 1) : entry;
  });
const FILES: GeoServerFiles = {
  shapefile: process.env.GEOSERVER_SHAPEFILE ?? SAMPLE_FILES.shapefile,
  arcgrid: process.env.GEOSERVER_ARCGRID ?? SAMPLE_FILES.arcgrid,
};
const ADMIN = { user: 'admin', password: 'geoserver' };

if (URLS.length === 0) {
  process.stderr.write(
    'real-geoserver-assumptions.test.ts: GEOSERVER_URLS is not set, so the GeoServer assumptions are checked against a second stand-in only ' +
      '(README: "Real GeoServers as cluster members" says how to check them against real GeoServers).\n',
  );
}

let standIn: GeoServerStandIn;
let standInTarget: GeoServerTarget;

beforeAll(async () => {
  standIn = await startGeoServerStandIn();
  standInTarget = { url: standIn.url, ...ADMIN };
});
afterAll(async () => {
  await standIn?.close();
});
afterEach(() => {
  // Every request a check sends is one GeoServer's REST reference documents.
  expect(standIn.violations).toEqual([]);
});

describe('the GeoServer assumptions, checked against a second stand-in (the comparisons themselves)', () => {
  let other: GeoServerStandIn;
  beforeAll(async () => {
    other = await startGeoServerStandIn();
  });
  afterAll(async () => {
    await other?.close();
  });
  afterEach(() => {
    expect(other.violations).toEqual([]);
  });

  test.each(ASSUMPTIONS.map((assumption) => [assumption.name, assumption] as const))('%s: the stand-ins agree, and leave nothing behind', async (_name, assumption) => {
    const report = await compare(assumption, standInTarget, { url: other.url, ...ADMIN }, FILES);
    expect(report).toBeUndefined();
    expect([...standIn.catalog.objects.workspace.keys(), ...other.catalog.objects.workspace.keys()]).toEqual([]);
  });

  test.each(ASSUMPTIONS.map((assumption) => [assumption.name, assumption] as const))('%s: a GeoServer answering a read otherwise is reported, with the files relying on it', async (_name, assumption) => {
    const expected = await observe(assumption, standInTarget, FILES);
    // Every check reads after its writes: the other stand-in answers its first read 418.
    other.rejectNext((request) => request.method === 'GET', 418, 'not what the cluster assumes');
    const report = await compare(assumption, standInTarget, { url: other.url, ...ADMIN }, FILES);
    expect(report).toContain(`does not bear out an assumption: ${assumption.name}`);
    for (const file of assumption.reliedOnBy) expect(report).toContain(file);
    expect(report).toContain(other.url);
    expect(report).toMatch(/the GeoServer .*418/);
    // The stand-in's own answers are the same each run: the difference is the other's alone.
    expect(await observe(assumption, standInTarget, FILES)).toEqual(expected);
  });
});

const real = URLS.length === 0 ? describe.skip : describe;

real(`the GeoServer assumptions, checked against real GeoServers (${URLS.length === 0 ? 'skipped: GEOSERVER_URLS is not set' : URLS.join(', ')})`, () => {
  const target = (url: string): GeoServerTarget => ({ url: url.replace(/\/+$/, ''), user: process.env.GEOSERVER_USER ?? 'admin', password: process.env.GEOSERVER_PASSWORD ?? 'geoserver' });
  const cases = URLS.flatMap((url) => ASSUMPTIONS.map((assumption) => [url, assumption.name, assumption] as const));

  test.each(cases)('%s: %s', async (url, _name, assumption) => {
    // A report (a string) says what differs, the assumption and the files relying on it.
    expect(await compare(assumption, standInTarget, target(url), FILES)).toBeUndefined();
  });
});
