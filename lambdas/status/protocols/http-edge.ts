/**
 * What the polling-protocol handlers (WPS 1.0.0, WPS 2.0, OGC API - Processes) share at the HTTP
 * edge: their settings, read once at cold start; the absolute URLs their documents carry; the
 * conditional poll answer (ETag, 304, Retry-After, Cache-Control); and the one place each
 * protocol's errors become its own exception format. No AWS imports: handlers pass the store.
 */
import { AppError } from '../../shared/errors';
import { boolEnv, intEnv, optionalEnv } from '../../shared/env';
import { appendRequestKeys, header, json, requestBaseUrl, textResult, type HttpEvent, type HttpResult } from '../../shared/http';
import { instrumented, logUnhandled } from '../../shared/observability';
import type { ExecutionStatus } from '../execution';
import { STATUS_ENV } from '../env-names';
import { etagWithInstant, ifNoneMatchMatches, pollHeaders, shownInstantStillAhead } from './http-cache';
import { OwsException, type WpsVersion } from './kvp';
import { EXCEPTION_TYPES, OGC_JSON_CONTENT_TYPE, OgcApiException } from './ogcapi';
import { wps1ExceptionResponse } from './wps1';
import { wps2ExceptionResponse } from './wps2';
import type { XmlResponse } from './xml';

export interface ProtocolSettings {
  /** Configured public base URL (cluster.status.publicBaseUrl), else URLs follow the request. */
  publicBaseUrl?: string;
  /** Retry-After / NextPoll distance for an active job whose node gave no future nextPoll. */
  defaultRetryAfterSeconds: number;
  /**
   * Whether shared caches (a CDN) may keep documents: only while reads are open. Once reads need
   * a node token (requireAuthForReads), answers are `private`.
   */
  sharedCache: boolean;
}

/** The environment the PollingProtocols construct gives every protocol function. */
export function protocolSettingsFromEnv(): ProtocolSettings {
  return {
    publicBaseUrl: publicBaseUrlFromEnv(STATUS_ENV.publicBaseUrl),
    defaultRetryAfterSeconds: intEnv(STATUS_ENV.defaultRetryAfterSeconds, 5),
    sharedCache: !boolEnv(STATUS_ENV.requireAuthForReads, false),
  };
}

function publicBaseUrlFromEnv(name: string): string | undefined {
  const raw = optionalEnv(name);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`Environment variable ${name} must be an absolute http(s) URL, got '${raw}'`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '') {
    throw new Error(`Environment variable ${name} must be an http(s) URL without query or fragment, got '${raw}'`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/** Base URL of this API for one request's documents. */
export function baseUrlOf(event: HttpEvent, settings: ProtocolSettings): string {
  return requestBaseUrl(event, settings.publicBaseUrl);
}

/**
 * The ids a node can have written: the node API's `EXECUTION_ID_PATTERN` (lambdas/status/schemas.ts),
 * repeated here without zod to keep it out of these bundles (test/infra/polling-protocols.test.ts
 * holds the two equal). Any other id reads as unknown without a table read; besides saving the
 * read, that keeps ids whose UTF-8 form exceeds DynamoDB's 2048-byte key limit from becoming 500s.
 */
export const POSSIBLE_EXECUTION_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

export function isPossibleExecutionId(id: string): boolean {
  return POSSIBLE_EXECUTION_ID.test(id);
}

export interface RenderedDocument {
  contentType: string;
  body: string;
}

/**
 * The answer to a poll of one status: 304 with the validators when the client's If-None-Match
 * matches (GET and HEAD only: on other methods a matching If-None-Match means something else), else 200
 * with the document. Both carry ETag, Cache-Control and, for an active job, Retry-After.
 * `render` runs only when a body is sent.
 */
export function pollAnswer(
  event: HttpEvent,
  status: ExecutionStatus,
  settings: ProtocolSettings,
  now: Date,
  render: () => RenderedDocument,
  /**
   * An instant the document shows that comes from the clock (WPS 2.0's NextPoll): folded into
   * its ETag, and a cached rendering is matched only while the instant it shows is ahead.
   */
  shownInstant?: Date,
): HttpResult {
  const headers = pollHeaders(status, {
    now,
    defaultRetryAfterSeconds: settings.defaultRetryAfterSeconds,
    shared: settings.sharedCache,
  });
  if (shownInstant !== undefined) headers.etag = etagWithInstant(status, shownInstant);
  // HEAD asks for the GET's answer without its body (lambdas/shared/http.ts answersHead).
  if (event.requestContext.http.method === 'GET' || event.requestContext.http.method === 'HEAD') {
    const ifNoneMatch = header(event, 'if-none-match');
    if (ifNoneMatchMatches(ifNoneMatch, headers.etag as string)) return { statusCode: 304, headers };
    const held = shownInstant === undefined ? undefined : shownInstantStillAhead(ifNoneMatch, status, now);
    if (held !== undefined) return { statusCode: 304, headers: { ...headers, etag: held } };
  }
  const document = render();
  return textResult(200, document.contentType, document.body, headers);
}

/**
 * State-changing answers (a dismiss) and errors must never be served from a cache: a dismiss
 * answered from a cache would not have happened.
 */
export const NO_STORE = { 'cache-control': 'no-store' } as const;

export function xmlResult(response: XmlResponse, headers: Record<string, string> = {}): HttpResult {
  return textResult(response.statusCode, response.contentType, response.body, headers);
}

// ---------------------------------------------------------------------------------------------
// Errors: each protocol answers in its own exception format, whatever went wrong.
// ---------------------------------------------------------------------------------------------

/**
 * An OWS ExceptionReport for anything thrown while serving `/ows`: OWS 1.1 for WPS 1.0.0 clients,
 * OWS 2.0 for WPS 2.0 clients (the exception's own version, else the request's). A non-OWS
 * AppError keeps its HTTP status as NoApplicableCode; anything else is logged and is a 500
 * report, so a WPS client never receives JSON it cannot parse.
 */
export function owsErrorResponse(error: unknown, version: WpsVersion): HttpResult {
  let exception: OwsException;
  if (error instanceof OwsException) exception = error;
  else if (error instanceof AppError) {
    exception = new OwsException('NoApplicableCode', error.field, error.message, version, error.status);
  } else {
    logUnhandled(error);
    exception = new OwsException('NoApplicableCode', undefined, 'The request failed unexpectedly; it was logged', version, 500);
  }
  const rendered = exception.wpsVersion === '1.0.0' ? wps1ExceptionResponse(exception) : wps2ExceptionResponse(exception);
  return xmlResult(rendered, NO_STORE);
}

/** An OGC API exception body (exception.yaml), with headers such as Retry-After. */
export function ogcErrorResponse(error: OgcApiException, headers: Record<string, string> = {}): HttpResult {
  return json(error.status, error.body, { 'content-type': OGC_JSON_CONTENT_TYPE, ...NO_STORE, ...headers });
}

/**
 * Wraps an OGC API route so every error is an exception.yaml body: OgcApiException as is, other
 * AppErrors (a bad cursor, a bad host) with their status and message, anything else a logged 500.
 */
export function ogcApiHandler<E extends HttpEvent>(route: (event: E) => Promise<HttpResult>): (event: E) => Promise<HttpResult> {
  return instrumented(async (event: E) => {
    appendRequestKeys(event);
    try {
      return await route(event);
    } catch (error) {
      if (error instanceof OgcApiException) return ogcErrorResponse(error);
      const instance = event.rawPath;
      if (error instanceof AppError) {
        return ogcErrorResponse(
          new OgcApiException(error.status, {
            type: EXCEPTION_TYPES.generic,
            title: error.field ? `Invalid parameter ${error.field}` : error.code,
            detail: error.message,
            instance,
          }),
        );
      }
      logUnhandled(error);
      return ogcErrorResponse(
        new OgcApiException(500, {
          type: EXCEPTION_TYPES.generic,
          title: 'Internal error',
          detail: 'The request failed unexpectedly; it was logged',
          instance,
        }),
      );
    }
  });
}
