/**
 * Errors of the GeoServer apply and of the jobs' reads. Unavailability is thrown (the node waits and retries);
 * a refused change is an outcome, not an error (see apply.ts).
 */
import { AppError } from '../../shared/errors';

/** No HTTP answer at all: connection refused or reset, DNS failure, timeout. */
export class GeoServerUnreachableError extends Error {
  constructor(
    message: string,
    /**
     * The call's bound ran out before a whole answer came (its connection, its headers or its
     * body): unlike a refused connection, that can be this call's fault alone, which a read the
     * GeoServer answers meanwhile tells (geoserver/apply.ts, `GeoServerCallTimedOutError`).
     */
    readonly timedOut = false,
  ) {
    super(message);
    this.name = 'GeoServerUnreachableError';
  }
}

/**
 * 503: the node's GeoServer cannot take changes now (unreachable, timed out, 5xx, or it
 * refused the node's credentials). Nothing was applied; the node's queue retries later.
 */
export class GeoServerUnavailableError extends AppError {
  /** It passes by itself: retried by the queue with backoff, never counted against the event. */
  readonly transient = true;

  constructor(
    readonly url: string,
    readonly request: string,
    /** GeoServer's HTTP status, `null` when it did not answer. */
    readonly geoserverStatus: number | null,
    readonly answer: string,
  ) {
    super(
      503,
      'GEOSERVER_UNAVAILABLE',
      `GeoServer ${url} ${geoserverStatus === null ? 'did not answer' : `answered ${geoserverStatus}`} to ${request}: ${answer}`,
      undefined,
      { url, request, status: geoserverStatus },
    );
  }
}

/**
 * A call the node's GeoServer took and did not answer within its bound (or that a proxy in front
 * of it answered 504, its own timeout, `proxied`), while the GeoServer answered
 * `GET /about/version` at once after it: this change keeps it busy (a store whose data
 * source hangs, a resource on a slow share), not the GeoServer being down. Not transient: it
 * counts toward parking as any failure of the event does (apply.ts, `MAX_APPLY_ATTEMPTS`, one
 * attempt per delivery, so a slow moment of the GeoServer does not park it), and is then parked
 * and shown as a change the GeoServer did not take (`outcome`). Held as unavailability, it was
 * retried with backoff forever, every later event of the node behind it.
 */
export class GeoServerCallTimedOutError extends Error {
  readonly transient = false;
  readonly outcome: { readonly kind: 'rejected'; readonly request: string; readonly status: number | null; readonly answer: string; readonly attempts: number };

  constructor(
    readonly url: string,
    request: string,
    proxied?: { readonly status: number; readonly answer: string },
  ) {
    const why = 'while the GeoServer answers GET /about/version: the change itself keeps it busy';
    const answer = proxied === undefined ? `no answer within the call's time, ${why}` : `${proxied.answer} (a timeout of a proxy before the GeoServer, ${why})`;
    super(`GeoServer ${url} did not answer ${request}${proxied === undefined ? '' : ` (${proxied.status})`}: ${answer}`);
    this.name = 'GeoServerCallTimedOutError';
    this.outcome = { kind: 'rejected', request, status: proxied?.status ?? null, answer, attempts: 1 };
  }
}

/**
 * Whether an answer other than the one asked for means the GeoServer cannot take changes now:
 * a 5xx, 408, 429, refused credentials (401, 403: a read is refused only for them), or no error
 * at all where one was expected (a 3xx). Any other 4xx is the GeoServer up and refusing this
 * request. Shared by the apply (apply.ts, after its 401/403/500/504 probe) and the drift reader.
 */
export function meansUnavailable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429 || status === 401 || status === 403 || status < 400;
}

/**
 * A read the node's GeoServer answered with a 4xx that is not unavailability (`meansUnavailable`):
 * it is up and refuses this request, so retrying changes nothing. Not transient: the job that
 * read fails with this message (GET /nodes shows it), and the GeoServer's status stays reachable.
 */
export class GeoServerReadRefusedError extends Error {
  readonly transient = false;

  constructor(
    readonly url: string,
    readonly request: string,
    readonly geoserverStatus: number,
    readonly answer: string,
  ) {
    super(`GeoServer ${url} refused ${request} (${geoserverStatus}): ${answer}`);
    this.name = 'GeoServerReadRefusedError';
  }
}

/**
 * A change the node's GeoServer refused (4xx), after the retries the apply makes. Not
 * transient: the event is parked on the node at once (apply.ts), with GeoServer's answer as
 * the reason, and the node goes on with other objects' changes; a redrive after a fix retries it.
 */
export class GeoServerRejectedError extends Error {
  readonly transient = false;

  constructor(
    readonly url: string,
    readonly outcome: { readonly kind: 'rejected'; readonly request: string; readonly status: number | null; readonly answer: string; readonly attempts: number },
  ) {
    super(`GeoServer ${url} refused ${outcome.request}: ${outcome.status ?? 'not sent'} ${outcome.answer}`);
    this.name = 'GeoServerRejectedError';
  }
}

/**
 * `text` cut to at most `max` UTF-16 units and an ellipsis, never between the two halves of a
 * character outside the BMP (an emoji): a lone surrogate is not UTF-8, which the records these
 * texts are stored in (DynamoDB strings) must be.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const lastUnit = text.charCodeAt(max - 1);
  return `${text.slice(0, lastUnit >= 0xd800 && lastUnit <= 0xdbff ? max - 1 : max)}…`;
}
