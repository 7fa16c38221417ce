/**
 * The OWS side of `GET /ows`: turns a KVP query into one of the five status operations this API
 * serves, or an OWS exception naming the offending parameter.
 *
 * Version defaults (OGC KVP lets a client leave `version` out of most requests):
 * - `GetExecutionStatus` is GeoServer's WPS 1.0.0 vendor operation (the `statusLocation` URL),
 *   so it defaults to 1.0.0 and exists only in 1.0.0.
 * - `GetStatus` and `GetResult` exist only in WPS 2.0, so they default to 2.0.0.
 * - `Dismiss` exists in both: GeoServer's 1.0.0 vendor operation takes `executionId`, WPS 2.0
 *   takes `jobID`. Without a version, the id parameter present decides; `jobID` (the standard
 *   one) wins when neither or both are given.
 *
 * Written by hand rather than as a zod schema (as the JSON routes' queries are, shared/query.ts):
 * OWS keys are case-insensitive, one key given twice with different values is an error of its
 * own, which parameters are required depends on `request` and `version`, and every failure is an
 * OWS exception report in the requested version's format naming the parameter as `locator`, not
 * a JSON 400. The OpenAPI document describes these parameters (status/api.ts); the KVP tests
 * (test/unit/protocols) hold this parser to them.
 */
import { AppError } from '../../shared/errors';

export type WpsVersion = '1.0.0' | '2.0.0';

/** OWS Common standard exception codes (OGC 06-121r9) plus WPS 2.0's NoSuchJob and ResultNotReady. */
export type OwsExceptionCode =
  | 'MissingParameterValue'
  | 'InvalidParameterValue'
  | 'OperationNotSupported'
  | 'OptionNotSupported'
  | 'NoApplicableCode'
  | 'NoSuchJob'
  | 'ResultNotReady';

/**
 * The HTTP status each exception carries.
 * - MissingParameterValue / InvalidParameterValue: 400, as OWS Common 2.0 gives them.
 * - OperationNotSupported / OptionNotSupported: 501 Not Implemented, as OWS Common 2.0 gives them:
 *   the request is well-formed, this server just doesn't implement GetCapabilities, Execute, ...
 * - NoApplicableCode: 400 for a request we could not make sense of (e.g. malformed XML).
 * - NoSuchJob: 400, the status WPS 2.0 (OGC 14-065) gives it in its exception tables for
 *   GetStatus, GetResult and Dismiss, like its other request-level exceptions.
 * - ResultNotReady: 400, like NoSuchJob, the other exception WPS 2.0 gives GetResult.
 * These are the WPS 2.0 statuses. WPS 1.0.0 reports are all sent with HTTP 200, as GeoServer
 * does for OWS 1.1 (wps1.ts `wps1HttpStatus`); OGC API - Processes has its own (ogcapi.ts).
 */
export const OWS_EXCEPTION_HTTP_STATUS: Readonly<Record<OwsExceptionCode, number>> = {
  MissingParameterValue: 400,
  InvalidParameterValue: 400,
  OperationNotSupported: 501,
  OptionNotSupported: 501,
  NoApplicableCode: 400,
  NoSuchJob: 400,
  ResultNotReady: 400,
};

/**
 * An error a WPS client gets as an OWS ExceptionReport. It is an AppError so a handler that
 * forgets to render it still answers with the right status instead of a 500.
 */
export class OwsException extends AppError {
  constructor(
    readonly exceptionCode: OwsExceptionCode,
    /** What the exception is about: a parameter name, an operation name or an execution id. */
    readonly locator: string | undefined,
    text: string,
    /** Which report to render: OWS 1.1 for WPS 1.0.0 clients, OWS 2.0 for WPS 2.0 clients. */
    readonly wpsVersion: WpsVersion,
    httpStatus: number = OWS_EXCEPTION_HTTP_STATUS[exceptionCode],
  ) {
    super(httpStatus, exceptionCode, text, locator);
  }
}

/**
 * The exception for an execution id that is not (or no longer) visible: unknown, expired,
 * dismissed or being dismissed. WPS 1.0.0 has no code for it; GeoServer's
 * UnknownExecutionIdException carries no code, which its OWS 1.1 writer reports as
 * NoApplicableCode, so WPS 1.0.0 clients see exactly what GeoServer sends them. WPS 2.0 defines
 * NoSuchJob for it. Both use the id as locator; the HTTP status is each version's (WPS 2.0: 400,
 * WPS 1.0.0: 200 like every 1.0.0 report, see wps1.ts `wps1HttpStatus`).
 */
export function unknownExecution(id: string, wpsVersion: WpsVersion): OwsException {
  const text =
    `Unknown execution id ${id}: either the execution was never submitted, was dismissed, ` +
    'or too much time passed since the process completed';
  return wpsVersion === '1.0.0'
    ? new OwsException('NoApplicableCode', id, text, wpsVersion, 200)
    : new OwsException('NoSuchJob', id, text, wpsVersion);
}

export type StatusRequest =
  | { kind: 'wps1-status'; executionId: string }
  | { kind: 'wps1-dismiss'; executionId: string }
  | { kind: 'wps2-status'; jobId: string }
  | { kind: 'wps2-result'; jobId: string }
  | { kind: 'wps2-dismiss'; jobId: string };

/** What API Gateway HTTP APIs (payload 2.0) put in `queryStringParameters`. */
export type QueryParameters = Readonly<Record<string, string | undefined>> | null | undefined;
/**
 * A KVP query as its pairs, every occurrence of a key kept: API Gateway's
 * `queryStringParameters` joins a repeated key's values with commas (`jobID=a&jobID=b` reads as
 * `a,b`), which would make two ids one, so the handler parses the raw query string instead.
 */
export type QueryPairs = Iterable<readonly [string, string]>;

/**
 * Operations a WPS server may be asked for that this API does not serve: it only reads and
 * dismisses statuses; the GeoServer nodes keep serving the rest. Listed so the message can say so.
 */
const OTHER_WPS_OPERATIONS = ['GetCapabilities', 'DescribeProcess', 'Execute', 'GetExecutions'];

/** What `/ows` serves, for messages. */
const SERVED = 'GetExecutionStatus, GetStatus, GetResult, Dismiss';

/** A DynamoDB key is at most 2048 bytes; ids longer than this are not ids, they are abuse. */
export const MAX_ID_LENGTH = 1024;

/**
 * Parses a `GET /ows` query. Keys are case-insensitive (OWS Common KVP encoding); values are
 * case-sensitive except `service` and `request`, which are matched case-insensitively like
 * GeoServer does, so `request=getstatus` from a sloppy client still works.
 */
export function parseKvp(query: QueryParameters | QueryPairs): StatusRequest {
  const { params, conflictingKey } = lowerCaseKeys(query);
  const requestName = params.get('request');
  const versionValue = params.get('version');
  const version = parseVersion(versionValue);
  const hintVersion = version ?? inferVersion(requestName, params);

  if (conflictingKey !== undefined) {
    throw new OwsException(
      'InvalidParameterValue',
      conflictingKey,
      `Parameter ${conflictingKey} is given twice with different values`,
      hintVersion,
    );
  }

  const service = params.get('service');
  if (service === undefined) {
    throw new OwsException('MissingParameterValue', 'service', 'Parameter service is required (service=WPS)', hintVersion);
  }
  if (service.toUpperCase() !== 'WPS') {
    throw new OwsException('InvalidParameterValue', 'service', `Unknown service '${service}': this endpoint serves WPS`, hintVersion);
  }
  if (requestName === undefined) {
    throw new OwsException(
      'MissingParameterValue',
      'request',
      `Parameter request is required (${SERVED})`,
      hintVersion,
    );
  }
  if (versionValue !== undefined && version === undefined) {
    throw new OwsException(
      'InvalidParameterValue',
      'version',
      `Unsupported version '${versionValue}': use 1.0.0 or 2.0.0`,
      hintVersion,
    );
  }

  const operation = requestName.toLowerCase();
  if (operation === 'getexecutionstatus') {
    if (version === '2.0.0') throw operationNotInVersion('GetExecutionStatus', '2.0.0', 'GetStatus with jobID');
    return { kind: 'wps1-status', executionId: requireId(params, 'executionId', '1.0.0') };
  }
  if (operation === 'getstatus') {
    if (version === '1.0.0') throw operationNotInVersion('GetStatus', '1.0.0', 'GetExecutionStatus with executionId');
    return { kind: 'wps2-status', jobId: requireId(params, 'jobID', '2.0.0') };
  }
  if (operation === 'getresult') {
    // WPS 1.0.0 has no GetResult: its status document carries the outputs once the process succeeded.
    if (version === '1.0.0') throw operationNotInVersion('GetResult', '1.0.0', 'GetExecutionStatus with executionId, whose document carries the outputs');
    return { kind: 'wps2-result', jobId: requireId(params, 'jobID', '2.0.0') };
  }
  if (operation === 'dismiss') {
    const dismissVersion = version ?? inferDismissVersion(params);
    return dismissVersion === '1.0.0'
      ? { kind: 'wps1-dismiss', executionId: requireId(params, 'executionId', '1.0.0') }
      : { kind: 'wps2-dismiss', jobId: requireId(params, 'jobID', '2.0.0') };
  }
  const known = OTHER_WPS_OPERATIONS.find((name) => name.toLowerCase() === operation);
  throw new OwsException(
    'OperationNotSupported',
    requestName,
    known
      ? `${known} is not served by the cluster status API; send it to a GeoServer node. ` +
          `Served here: ${SERVED}`
      : `Unknown operation '${requestName}'. Served here: ${SERVED}`,
    hintVersion,
  );
}

/** Parameters whose values are matched case-insensitively (parseKvp), so `WPS` and `wps` are one value. */
const CASE_INSENSITIVE_VALUES: ReadonlySet<string> = new Set(['service', 'request']);

/**
 * Lower-cases keys and drops empty values: OGC treats `jobID=` like a missing parameter. When a
 * client repeats a key (in any case) with different values, the request is ambiguous; the key is
 * reported so the request is refused rather than silently resolved one way. For `service` and
 * `request`, values differing only in case are the same value, as parseKvp reads them.
 */
function lowerCaseKeys(query: QueryParameters | QueryPairs): { params: Map<string, string>; conflictingKey?: string } {
  const params = new Map<string, string>();
  let conflictingKey: string | undefined;
  const pairs = query !== null && query !== undefined && Symbol.iterator in query ? (query as QueryPairs) : Object.entries(query ?? {});
  for (const [key, raw] of pairs) {
    const value = raw?.trim();
    if (value === undefined || value === '') continue;
    const name = key.toLowerCase();
    const previous = params.get(name);
    const same = previous === value || (CASE_INSENSITIVE_VALUES.has(name) && previous?.toLowerCase() === value.toLowerCase());
    if (previous !== undefined && !same) conflictingKey ??= key;
    else params.set(name, value);
  }
  return { params, conflictingKey };
}

function parseVersion(value: string | undefined): WpsVersion | undefined {
  return value === '1.0.0' || value === '2.0.0' ? value : undefined;
}

/** The version whose exception format a client most likely reads, when it did not say. */
function inferVersion(requestName: string | undefined, params: Map<string, string>): WpsVersion {
  const operation = requestName?.toLowerCase();
  if (operation === 'getstatus' || operation === 'getresult') return '2.0.0';
  if (operation === 'dismiss') return inferDismissVersion(params);
  // GetExecutionStatus, and anything else: the statusLocation URLs GeoServer hands out are 1.0.0.
  return '1.0.0';
}

function inferDismissVersion(params: Map<string, string>): WpsVersion {
  return params.has('executionid') && !params.has('jobid') ? '1.0.0' : '2.0.0';
}

function operationNotInVersion(operation: string, version: WpsVersion, instead: string): OwsException {
  return new OwsException(
    'OperationNotSupported',
    operation,
    `${operation} is not a WPS ${version} operation; use ${instead}`,
    version,
  );
}

function requireId(params: Map<string, string>, name: 'executionId' | 'jobID', version: WpsVersion): string {
  const value = params.get(name.toLowerCase());
  if (value === undefined) {
    throw new OwsException('MissingParameterValue', name, `Parameter ${name} is required`, version);
  }
  const problem = idProblem(value);
  if (problem) throw new OwsException('InvalidParameterValue', name, `Parameter ${name} ${problem}`, version);
  return value;
}

// C0/C1 controls never occur in the ids GeoServer generates (UUIDs); one in a log line, an XML
// document or a DynamoDB key is only trouble, so such ids are refused at the edge.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

/** Why an id is refused, or undefined when it is acceptable. Shared with the XML body parser. */
export function idProblem(id: string): string | undefined {
  if (id.length > MAX_ID_LENGTH) return `is longer than ${MAX_ID_LENGTH} characters`;
  if (CONTROL.test(id)) return 'contains control characters';
  return undefined;
}
