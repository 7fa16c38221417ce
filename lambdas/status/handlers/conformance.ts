/** GET /conformance: the OGC API - Processes conformance classes this API implements. */
import { corsOriginsFromEnv, withCors } from '../../shared/cors';
import { answersHead, json } from '../../shared/http';
import { OGC_JSON_CONTENT_TYPE, conformance } from '../protocols/ogcapi';

const body = conformance();

// Changes only with a deployment: any cache may keep it for an hour.
export const handler = answersHead(withCors(corsOriginsFromEnv(), async () =>
  json(200, body, { 'content-type': OGC_JSON_CONTENT_TYPE, 'cache-control': 'public, max-age=3600' }),
));
