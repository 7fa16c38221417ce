/**
 * A node's GeoServer REST API that notes whether the GeoServer answered, so that what a job's
 * slice saw of it (its reads and fixes, a resync's catch-up) is recorded for GET /nodes as a
 * batch's is (invocation.ts, `afterJobSlice`). Any HTTP answer counts: the calls that mean the
 * GeoServer cannot take changes (no answer, a 5xx, refused credentials) end the slice with
 * `GeoServerUnavailableError`, which the record reads as unreachable whatever else answered.
 */
import type { GeoServerRest, RestRequest, RestResponse } from './ports';

export class AnswerWatchingRest implements GeoServerRest {
  readonly url: string;
  private answered = false;

  constructor(private readonly rest: GeoServerRest) {
    this.url = rest.url;
  }

  async send(request: RestRequest): Promise<RestResponse> {
    const response = await this.rest.send(request);
    this.answered = true;
    return response;
  }

  /** Whether the GeoServer answered a call since the last `takeAnswered`, which starts the count again. */
  takeAnswered(): boolean {
    const answered = this.answered;
    this.answered = false;
    return answered;
  }
}
