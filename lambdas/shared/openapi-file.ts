/**
 * Where the OpenAPI document travels: api/openapi.ts builds it at synth, the polling-protocols
 * construct bundles it under this name beside the function that serves `GET /openapi.json`, and
 * that function reads it once at cold start. No imports: the serving bundle stays small.
 */
export const OPENAPI_DOCUMENT_FILE = 'openapi.json';
export const OPENAPI_CONTENT_TYPE = 'application/vnd.oai.openapi+json;version=3.0';
