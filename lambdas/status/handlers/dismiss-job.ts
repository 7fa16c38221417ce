/**
 * DELETE /jobs/{jobId}: OGC API - Processes dismiss. A running job becomes dismissed (its node
 * stops it on its next write); a finished one is removed, so a second DELETE finds no such job
 * (404), while a second DELETE of a job still stopping is 410.
 *
 * Open to whoever knows the id unless `requireAuthForReads` is set, like the poll routes and
 * GeoServer's own Dismiss: an execution id is an unguessable UUID handed only to its client.
 * With the switch on the route needs a node token (cdk/constructs/polling-protocols.ts).
 * It takes no body, as `DELETE /executions/{id}`: one that holds anything but `{}` is a 400 and
 * dismisses nothing, so a client never believes a reason or an option it sent was taken.
 */
import { statusStoreFromEnv } from '../adapters/store-from-env';
import { dismissExecution } from '../service';
import { NO_STORE, baseUrlOf, isPossibleExecutionId, ogcApiHandler, protocolSettingsFromEnv } from '../protocols/http-edge';
import { OGC_JSON_CONTENT_TYPE, REMOVED_COMPLETED_JOB, noSuchJob, statusInfo, toOgcApiException } from '../protocols/ogcapi';
import { assertNoBody, json } from '../../shared/http';

const store = statusStoreFromEnv();
const settings = protocolSettingsFromEnv();

export const handler = ogcApiHandler(async (event) => {
  const jobId = event.pathParameters?.jobId ?? '';
  if (!isPossibleExecutionId(jobId)) throw noSuchJob(jobId, event.rawPath);
  assertNoBody(event);
  const baseUrl = baseUrlOf(event, settings);
  try {
    const { action, status } = await dismissExecution(store, jobId);
    const answered = action === 'removed' ? { ...status, dismissed: true, exception: REMOVED_COMPLETED_JOB } : { ...status, dismissed: true };
    return json(200, statusInfo(answered, baseUrl), { 'content-type': OGC_JSON_CONTENT_TYPE, ...NO_STORE });
  } catch (error) {
    throw toOgcApiException(error, jobId, event.rawPath) ?? error;
  }
});
