/** GET /openapi.json: the OpenAPI 3.0 description of the whole cluster API (lambdas/status/openapi.ts). */
import { boolEnv } from '../../shared/env';
import { corsOriginsFromEnv, withCors } from '../../shared/cors';
import { json } from '../../shared/http';
import { OPENAPI_CONTENT_TYPE, openApiDocument } from '../openapi';
import { baseUrlOf, ogcApiHandler, protocolSettingsFromEnv } from '../protocols/http-edge';

const settings = protocolSettingsFromEnv();
const requireAuthForReads = boolEnv('REQUIRE_AUTH_FOR_READS', false);

export const handler = withCors(corsOriginsFromEnv(), ogcApiHandler(async (event) =>
  json(200, openApiDocument({ serverUrl: baseUrlOf(event, settings), requireAuthForReads }), {
    'content-type': OPENAPI_CONTENT_TYPE,
    // Changes only with a deployment.
    'cache-control': `${settings.sharedCache ? 'public' : 'private'}, max-age=300`,
  }),
));
