/**
 * GET /openapi.json: the OpenAPI 3.0 description of the whole cluster API. The document is built
 * from the service manifests when the stack is synthesized (api/openapi.ts) and bundled beside
 * this handler; this function only reads it at cold start and fills in the base URL the client
 * reached the API at (or cluster.status.publicBaseUrl).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { corsOriginsFromEnv, withCors } from '../../shared/cors';
import { answersHead, json } from '../../shared/http';
import { OPENAPI_CONTENT_TYPE, OPENAPI_DOCUMENT_FILE } from '../../shared/openapi-file';
import { baseUrlOf, ogcApiHandler, protocolSettingsFromEnv } from '../protocols/http-edge';

const settings = protocolSettingsFromEnv();
const document = JSON.parse(readFileSync(path.join(__dirname, OPENAPI_DOCUMENT_FILE), 'utf8')) as Record<string, unknown>;

export const handler = answersHead(withCors(corsOriginsFromEnv(), ogcApiHandler(async (event) =>
  json(200, { ...document, servers: [{ url: baseUrlOf(event, settings) }] }, {
    'content-type': OPENAPI_CONTENT_TYPE,
    // Changes only with a deployment.
    'cache-control': `${settings.sharedCache ? 'public' : 'private'}, max-age=300`,
  }),
)));
