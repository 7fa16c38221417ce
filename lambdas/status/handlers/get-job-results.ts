/**
 * GET /jobs/{jobId}/results: the recorded result location as a link once the job succeeded;
 * 404 result-not-ready (with Retry-After) while it runs; the job's exception once it failed.
 */
import { corsOriginsFromEnv, withCors } from '../../shared/cors';
import { answersHead } from '../../shared/http';
import { statusStoreFromEnv } from '../adapters/store-from-env';
import { retryAfterSeconds } from '../protocols/http-cache';
import {
  isPossibleExecutionId,
  ogcApiHandler,
  ogcErrorResponse,
  pollAnswer,
  protocolSettingsFromEnv,
} from '../protocols/http-edge';
import { OGC_JSON_CONTENT_TYPE, OgcApiException, noSuchJob, results } from '../protocols/ogcapi';

const store = statusStoreFromEnv();
const settings = protocolSettingsFromEnv();

export const handler = answersHead(withCors(corsOriginsFromEnv(), ogcApiHandler(async (event) => {
  const jobId = event.pathParameters?.jobId ?? '';
  const status = isPossibleExecutionId(jobId) ? await store.get(jobId) : undefined;
  if (status === undefined) throw noSuchJob(jobId, event.rawPath);
  const now = new Date();
  let outputs: ReturnType<typeof results>;
  try {
    outputs = results(status, event.rawPath);
  } catch (error) {
    if (!(error instanceof OgcApiException)) throw error;
    const retryAfter = retryAfterSeconds(status, now, settings.defaultRetryAfterSeconds);
    return ogcErrorResponse(error, retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) });
  }
  return pollAnswer(event, status, settings, now, () => ({
    contentType: OGC_JSON_CONTENT_TYPE,
    body: JSON.stringify(outputs),
  }));
})));
