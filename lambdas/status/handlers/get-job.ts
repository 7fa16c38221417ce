/** GET /jobs/{jobId}: OGC API - Processes statusInfo of one execution, from any node's status. */
import { corsOriginsFromEnv, withCors } from '../../shared/cors';
import { answersHead } from '../../shared/http';
import { statusStoreFromEnv } from '../adapters/store-from-env';
import { baseUrlOf, isPossibleExecutionId, ogcApiHandler, pollAnswer, protocolSettingsFromEnv } from '../protocols/http-edge';
import { OGC_JSON_CONTENT_TYPE, noSuchJob, statusInfo } from '../protocols/ogcapi';

const store = statusStoreFromEnv();
const settings = protocolSettingsFromEnv();

export const handler = answersHead(withCors(corsOriginsFromEnv(), ogcApiHandler(async (event) => {
  const jobId = event.pathParameters?.jobId ?? '';
  const status = isPossibleExecutionId(jobId) ? await store.get(jobId) : undefined;
  if (status === undefined) throw noSuchJob(jobId, event.rawPath);
  const baseUrl = baseUrlOf(event, settings);
  return pollAnswer(event, status, settings, new Date(), () => ({
    contentType: OGC_JSON_CONTENT_TYPE,
    body: JSON.stringify(statusInfo(status, baseUrl)),
  }));
})));
