/**
 * The GeoServer stand-in for tests (test code only): see ./server.ts for what it emulates and
 * checks, ./catalog.ts for the GeoServer behaviour it reproduces and where each is documented.
 */
export { startGeoServerStandIn } from './server';
export type { AppliedWrite, DownMode, GeoServerStandIn, RejectableRequest, StandInOptions, StandInRequest, Violation } from './server';
export { CATALOG_TYPES, SETTINGS_TYPES, StandInCatalog } from './catalog';
export type { CatalogType, Representation, SettingsType, StandInType, StyleBody } from './catalog';
export { RestReference } from './reference';
