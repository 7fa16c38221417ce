// A GeoServer stand-in for each test of a describe block (or file): started before each test
// with a REST client of its admin, and after it checked (every request it answered was one the
// REST reference documents) and closed.
import { CachedCredentials, HttpGeoServer } from '../../lambdas/config-sync/adapters/geoserver-http';
import { startGeoServerStandIn, type GeoServerStandIn } from './geoserver-standin';

export function standInPerTest(): { readonly geoserver: GeoServerStandIn; readonly rest: HttpGeoServer } {
  let geoserver: GeoServerStandIn | undefined;
  let rest: HttpGeoServer | undefined;
  beforeEach(async () => {
    geoserver = await startGeoServerStandIn();
    rest = new HttpGeoServer({ url: geoserver.url, credentials: new CachedCredentials(async () => ({ username: 'admin', password: 'geoserver' })) });
  });
  afterEach(async () => {
    expect(geoserver?.violations).toEqual([]);
    await geoserver?.close();
  });
  return {
    get geoserver() {
      if (!geoserver) throw new Error('the stand-in starts before each test');
      return geoserver;
    },
    get rest() {
      if (!rest) throw new Error('the stand-in starts before each test');
      return rest;
    },
  };
}
