// The GeoServer's catalog listing a drift check, reconcile or capture reads for extras
// (`GeoServerReader.catalog`): one step of the job, a listing call per workspace collection and per
// GeoServer store. Read one at a time, a catalog of thousands of stores outlasts the apply
// function's time on a real GeoServer (tens of milliseconds a listing), and the step can never
// finish: its listings are read `concurrency` at a time, as the store scan reads objects, and
// listed in the same order as one at a time.
import { GeoServerReader } from '../../../../lambdas/config-sync/geoserver/drift';
import type { GeoServerRest, RestRequest } from '../../../../lambdas/config-sync/geoserver/ports';
import { standInPerTest } from '../../../support/standin-per-test';

const standIn = standInPerTest();

function seed(): void {
  const catalog = standIn.geoserver.catalog;
  for (let w = 0; w < 4; w += 1) {
    const ws = `ws${w}`;
    catalog.addWorkspace({ name: ws });
    for (let s = 0; s < 5; s += 1) {
      catalog.addStore('dataStore', ws, { name: `pg${s}`, type: 'PostGIS' });
      for (let r = 0; r < 2; r += 1) catalog.addResource('featureType', ws, `pg${s}`, { name: `t${s}_${r}`, nativeName: `t${s}_${r}` });
    }
    catalog.addStore('coverageStore', ws, { name: 'dem', type: 'GeoTIFF', url: 'file:data/dem.tif' });
  }
}

/** The stand-in, each call taking a few milliseconds, with the most calls in flight at once. */
function timed(): { rest: GeoServerRest; most: number } {
  const seen = { most: 0, inFlight: 0 };
  const rest: GeoServerRest = {
    get url() {
      return standIn.rest.url;
    },
    async send(request: RestRequest) {
      seen.inFlight += 1;
      seen.most = Math.max(seen.most, seen.inFlight);
      try {
        await new Promise((resolve) => setTimeout(resolve, 3));
        return await standIn.rest.send(request);
      } finally {
        seen.inFlight -= 1;
      }
    },
  };
  return Object.assign(seen, { rest });
}

test('the catalog is listed several listings at a time, within the concurrency, in the order one at a time lists it', async () => {
  seed();
  const one = timed();
  const alone = new GeoServerReader(one.rest);
  const sequential = await alone.catalog(1);
  expect(one.most).toBe(1);

  const many = timed();
  const reader = new GeoServerReader(many.rest);
  const listed = await reader.catalog(8);
  expect(many.most).toBeGreaterThan(1);
  expect(many.most).toBeLessThanOrEqual(8);
  expect(listed).toEqual(sequential);
  expect(reader.calls).toBe(alone.calls);
  // Every store and resource, with the store it is listed under.
  expect(listed.filter((ref) => ref.type === 'dataStore')).toHaveLength(20);
  expect(listed.filter((ref) => ref.type === 'featureType').map((ref) => `${ref.id}@${ref.store}`)).toContain('ws3:t4_1@pg4');
});

// What a GeoServer lists is read as names of paths the job then builds (each name one segment):
// a name with "/" or "\" (a servlet container may read "\" as "/") or a dot segment would address
// another object (`/styles/a%5C..%5C..%5Cworkspaces%5Ctopp`), so it is no name a job reads, fixes
// or captures, as the cluster could not carry it (objects.ts).
test('a listing name a path cannot hold as one segment is left out', async () => {
  const rest: GeoServerRest = {
    url: 'http://geoserver.test/geoserver',
    async send(request: RestRequest) {
      if (request.path !== '/styles.json') return { status: 404, text: '' };
      const names = ['point', 'a\\..\\..\\workspaces\\topp', 'b/c', '..', 'v1.2'];
      return { status: 200, text: JSON.stringify({ styles: { style: names.map((name) => ({ name })) } }) };
    },
  };
  expect(await new GeoServerReader(rest).names('/styles')).toEqual(['point', 'v1.2']);
});
