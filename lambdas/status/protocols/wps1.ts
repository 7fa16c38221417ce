/**
 * WPS 1.0.0: the `wps:ExecuteResponse` status document a client finds at the `statusLocation`
 * URL (GeoServer's `GetExecutionStatus`), and OWS 1.1 exception reports.
 * Format: REFERENCE.md 3 and schemas.opengis.net/wps/1.0.0/wpsExecute_response.xsd.
 */
import { DISMISSED_EXCEPTION, REMOVED_COMPLETED_JOB, isCompleted, type ExecutionException, type ExecutionStatus } from '../execution';
import { OwsException, unknownExecution } from './kvp';
import {
  NS,
  XML_CONTENT_TYPE,
  el,
  renderXml,
  toXsDateTime,
  xmlLanguage,
  type XmlElement,
  type XmlResponse,
} from './xml';

export interface Wps1Context {
  /** Absolute GetCapabilities URL of the WPS (required by the schema). */
  serviceInstance: string;
  /** Absolute URL of this very document (the GetExecutionStatus URL). */
  statusLocation: string;
  /** `xml:lang` of the human-readable texts. @default 'en' */
  lang?: string;
  /**
   * `wps:processVersion`. The status table does not record process versions; GeoServer's
   * processes all report 1.0.0. @default '1.0.0'
   */
  processVersion?: string;
}

/**
 * GeoServer's statusLocation URL for an execution, on this API's `/ows` (the cluster answers it
 * from any node's URL, which is the point of sharing the status).
 */
export function statusLocationUrl(owsUrl: string, executionId: string): string {
  return `${owsUrl}?service=WPS&version=1.0.0&request=GetExecutionStatus&executionId=${encodeURIComponent(executionId)}`;
}

/**
 * The context for one execution's document, built from the absolute URL of `/ows` (from the
 * request's host or a configured public base URL).
 * `serviceInstance` must be a GetCapabilities URL; this API does not serve GetCapabilities (the
 * GeoServer nodes do), so pass the nodes' public WPS URL when there is one; by default it
 * points at this API's `/ows`, whose answer says where to go.
 */
export function wps1Context(
  owsUrl: string,
  executionId: string,
  options: { lang?: string; serviceInstance?: string } = {},
): Wps1Context {
  return {
    serviceInstance: options.serviceInstance ?? `${owsUrl}?service=WPS&version=1.0.0&request=GetCapabilities`,
    statusLocation: statusLocationUrl(owsUrl, executionId),
    lang: options.lang,
  };
}

/**
 * Identifier of the single output a recorded `resultLocation` is published as. The status table
 * keeps one result URL, not the process's output names; `result` is the name GeoServer's own
 * processes use for their main output.
 */
export const RESULT_OUTPUT_ID = 'result';

/**
 * Whether a WPS 1.0.0 client may see the status. GeoServer forgets an execution once it is
 * dismissed ("subsequent calls ... report that the executionId is not known anymore"), so a
 * dismissed or DISMISSING status reads as unknown here, even while its node is still stopping.
 */
export function isVisibleToWps1(status: ExecutionStatus | undefined): status is ExecutionStatus {
  return status !== undefined && !isDismissed(status);
}

function isDismissed(status: ExecutionStatus): boolean {
  return status.phase === 'DISMISSING' || status.dismissed === true;
}

/**
 * The status document for one execution.
 * @throws OwsException (NoApplicableCode, sent with HTTP 200, see wps1HttpStatus) when the status must read as unknown (dismissed),
 *   so a handler renders every "not there" case through the same exception path.
 */
export function executeResponse(status: ExecutionStatus, ctx: Wps1Context): string {
  if (isDismissed(status)) throw unknownExecution(status.executionId, '1.0.0');
  return renderXml(executeResponseElement(status, statusElement(status), ctx, outputsElement(status)));
}

/**
 * The answer to GeoServer's `Dismiss` vendor operation: the same document, reporting the
 * execution as failed with the dismissal as its exception, which is how a dismissed execution
 * ends (REFERENCE.md 1). Pass the status the dismiss acted on (before removal, for a completed one):
 * a completed one was removed with its results, which is what its exception then says.
 */
export function dismissResponse(status: ExecutionStatus, ctx: Wps1Context): string {
  const { code, message } = isCompleted(status.phase) ? REMOVED_COMPLETED_JOB : DISMISSED_EXCEPTION;
  const failed = el(
    'wps:Status',
    { creationTime: documentTime(status) },
    el('wps:ProcessFailed', {}, exceptionReportElement(code, undefined, message)),
  );
  return renderXml(executeResponseElement(status, failed, ctx, undefined));
}

/**
 * A complete HTTP answer for `GetExecutionStatus`: the document, or the unknown-id report when
 * the status is missing or dismissed.
 */
export function executionStatusResponse(
  executionId: string,
  status: ExecutionStatus | undefined,
  ctx: Wps1Context,
): XmlResponse {
  if (!isVisibleToWps1(status)) return wps1ExceptionResponse(unknownExecution(executionId, '1.0.0'));
  return { statusCode: 200, contentType: XML_CONTENT_TYPE, body: executeResponse(status, ctx) };
}

function executeResponseElement(
  status: ExecutionStatus,
  statusEl: XmlElement,
  ctx: Wps1Context,
  outputs: XmlElement | undefined,
): XmlElement {
  return el(
    'wps:ExecuteResponse',
    {
      'xmlns:wps': NS.wps1,
      'xmlns:ows': NS.ows11,
      'xmlns:xlink': NS.xlink,
      'xmlns:xsi': NS.xsi,
      'xsi:schemaLocation': `${NS.wps1} http://schemas.opengis.net/wps/1.0.0/wpsExecute_response.xsd`,
      service: 'WPS',
      version: '1.0.0',
      'xml:lang': xmlLanguage(ctx.lang),
      serviceInstance: ctx.serviceInstance,
      statusLocation: ctx.statusLocation,
    },
    el(
      'wps:Process',
      { 'wps:processVersion': ctx.processVersion ?? '1.0.0' },
      el('ows:Identifier', {}, status.processName),
      // The status table has no process titles; the identifier is the best title we can give.
      el('ows:Title', {}, status.processName),
    ),
    statusEl,
    outputs,
  );
}

function statusElement(status: ExecutionStatus): XmlElement {
  return el('wps:Status', { creationTime: documentTime(status) }, phaseElement(status));
}

/**
 * `Status/@creationTime`: per the schema, when the process finished, or else "the creation time
 * of this document". The document's content was last created by the node's last write, so
 * `lastUpdated` is used rather than the request time: the same stored version always renders
 * the same bytes, which keeps ETag revalidation honest.
 */
function documentTime(status: ExecutionStatus): string {
  const finished = isCompleted(status.phase) ? toXsDateTime(status.completionTime) : undefined;
  return finished ?? toXsDateTime(status.lastUpdated) ?? toXsDateTime(status.creationTime) ?? new Date(0).toISOString();
}

function phaseElement(status: ExecutionStatus): XmlElement {
  switch (status.phase) {
    case 'QUEUED':
      return el('wps:ProcessAccepted', {}, status.task ?? 'Process accepted, waiting to start');
    case 'RUNNING':
      return el(
        'wps:ProcessStarted',
        { percentCompleted: percentCompleted(status.progress) },
        status.task ?? 'Process is running',
      );
    case 'SUCCEEDED':
      // Not the task: it is whatever the node last reported while running ("step 9 of 10"),
      // which reads as wrong next to a success.
      return el('wps:ProcessSucceeded', {}, 'Process succeeded');
    case 'FAILED':
    case 'DISMISSING': {
      // DISMISSING never reaches here (isVisibleToWps1); listed so the switch stays exhaustive.
      const exception: ExecutionException = status.exception ?? {
        code: 'NoApplicableCode',
        message: 'The process failed without reporting a reason',
      };
      return el('wps:ProcessFailed', {}, exceptionReportElement(exception.code, undefined, exception.message));
    }
  }
}

/** The schema allows 0-99 while running: 100 would claim completion the phase does not show. */
function percentCompleted(progress: number): number {
  if (!Number.isFinite(progress)) return 0;
  return Math.min(99, Math.max(0, Math.floor(progress)));
}

function outputsElement(status: ExecutionStatus): XmlElement | undefined {
  if (status.phase !== 'SUCCEEDED' || status.resultLocation === undefined) return undefined;
  return el(
    'wps:ProcessOutputs',
    {},
    el(
      'wps:Output',
      {},
      el('ows:Identifier', {}, RESULT_OUTPUT_ID),
      el('ows:Title', {}, 'Result'),
      // OutputReferenceType: an unqualified `href` attribute (not xlink:href).
      el('wps:Reference', { href: status.resultLocation }),
    ),
  );
}

/**
 * `ows:ExceptionReport` (OWS 1.1) as an element, for embedding in ProcessFailed or as a root.
 * Version 1.1.0 names the OWS Common version whose schema the report follows.
 */
function exceptionReportElement(
  code: string,
  locator: string | undefined,
  text: string,
  rootAttributes: Readonly<Record<string, string>> = {},
): XmlElement {
  return el(
    'ows:ExceptionReport',
    { ...rootAttributes, version: '1.1.0' },
    el('ows:Exception', { exceptionCode: code || 'NoApplicableCode', locator }, el('ows:ExceptionText', {}, text)),
  );
}

/** A standalone OWS 1.1 exception report document. */
export function owsExceptionReport(code: string, locator: string | undefined, text: string, lang?: string): string {
  return renderXml(
    exceptionReportElement(code, locator, text, {
      'xmlns:ows': NS.ows11,
      'xmlns:xsi': NS.xsi,
      'xsi:schemaLocation': `${NS.ows11} http://schemas.opengis.net/ows/1.1.0/owsExceptionReport.xsd`,
      'xml:lang': xmlLanguage(lang),
    }),
  );
}

/**
 * The HTTP status of a WPS 1.0.0 exception report: 200, as GeoServer answers every OWS 1.1
 * report. WPS 1.0.0 and OWS Common 1.1 define no HTTP statuses for exceptions, and widely used
 * WPS 1.0.0 clients read the report only from a 200: given a 404 they report neither a status
 * nor an error, and one polling a statusLocation until completion polls forever. Only a failure
 * of our own (NoApplicableCode with a 5xx: a crash, a store that did not answer) keeps its
 * status, for the alarms and retries HTTP tooling builds on it.
 */
export function wps1HttpStatus(error: OwsException): number {
  return error.exceptionCode === 'NoApplicableCode' && error.status >= 500 ? error.status : 200;
}

/** Renders an OwsException for a WPS 1.0.0 client (HTTP 200, see wps1HttpStatus). */
export function wps1ExceptionResponse(error: OwsException, lang?: string): XmlResponse {
  return {
    statusCode: wps1HttpStatus(error),
    contentType: XML_CONTENT_TYPE,
    body: owsExceptionReport(error.exceptionCode, error.locator, error.message, lang),
  };
}
