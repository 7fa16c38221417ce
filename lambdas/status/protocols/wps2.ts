/**
 * WPS 2.0: `wps:StatusInfo` and `wps:Result` documents, OWS 2.0 exception reports, and the XML
 * POST forms of `GetStatus`, `GetResult` and `Dismiss`. Format: REFERENCE.md 3 and schemas.opengis.net/wps/2.0/wps.xsd.
 */
import { type ExecutionStatus } from '../execution';
import { nextPollAt } from './http-cache';
import { OwsException, idProblem, unknownExecution } from './kvp';
// One output name for the recorded result location in every protocol.
import { RESULT_OUTPUT_ID } from './wps1';
import { NS, XML_CONTENT_TYPE, el, renderXml, toXsDateTime, xmlLanguage, type XmlResponse } from './xml';
import { REQUEST_DOCUMENT_LIMITS, XmlReadError, readXmlDocument, type ParsedElement } from '../../shared/xml-reader';

export type Wps2Status = 'Accepted' | 'Running' | 'Succeeded' | 'Failed' | 'Dismissed';

/**
 * The WPS 2.0 status of a stored one. A dismiss shows as `Dismissed` from the moment it is asked
 * for (DISMISSING) and stays so after the node stops the job (FAILED with `dismissed`): the
 * client's view is that it dismissed the job, not that the job failed.
 */
export function wps2StatusOf(status: ExecutionStatus): Wps2Status {
  if (status.dismissed === true || status.phase === 'DISMISSING') return 'Dismissed';
  switch (status.phase) {
    case 'QUEUED':
      return 'Accepted';
    case 'RUNNING':
      return 'Running';
    case 'SUCCEEDED':
      return 'Succeeded';
    case 'FAILED':
      return 'Failed';
  }
}

export interface Wps2Context {
  now: Date;
  /** NextPoll distance when the node gave no future `nextPoll`. @default 10 */
  defaultNextPollSeconds?: number;
  /**
   * The NextPoll instant when the caller has already computed it (`nextPollAt`), so the document
   * shows exactly the instant its validator was made from.
   */
  nextPoll?: Date;
}

/**
 * The `wps:StatusInfo` document, children in schema order: JobID, Status, ExpirationDate,
 * EstimatedCompletion, NextPoll, PercentCompleted.
 * - NextPoll and EstimatedCompletion only while the job is Accepted or Running; they are about
 *   the future of a job that has one.
 * - PercentCompleted while Running (0-100) and 100 when Succeeded; a queued, failed or dismissed
 *   job has no meaningful progress to report.
 *
 * For the answer to a Dismiss, pass `{ ...status, dismissed: true }`: a completed job is removed
 * by the dismiss and its last stored state would otherwise not say Dismissed.
 */
export function statusInfo(status: ExecutionStatus, ctx: Wps2Context): string {
  const wpsStatus = wps2StatusOf(status);
  const active = wpsStatus === 'Accepted' || wpsStatus === 'Running';
  const nextPoll = active ? (ctx.nextPoll ?? nextPollAt(status, ctx.now, ctx.defaultNextPollSeconds ?? 10)) : undefined;
  const percent =
    wpsStatus === 'Running' ? clampPercent(status.progress) : wpsStatus === 'Succeeded' ? 100 : undefined;
  const expiration = toXsDateTime(status.expirationDate);
  const estimated = active ? toXsDateTime(status.estimatedCompletion) : undefined;
  return renderXml(
    el(
      'wps:StatusInfo',
      {
        'xmlns:wps': NS.wps2,
        'xmlns:xsi': NS.xsi,
        'xsi:schemaLocation': `${NS.wps2} http://schemas.opengis.net/wps/2.0/wps.xsd`,
      },
      el('wps:JobID', {}, status.executionId),
      el('wps:Status', {}, wpsStatus),
      expiration !== undefined && el('wps:ExpirationDate', {}, expiration),
      estimated !== undefined && el('wps:EstimatedCompletion', {}, estimated),
      nextPoll !== undefined && el('wps:NextPoll', {}, nextPoll.toISOString()),
      percent !== undefined && el('wps:PercentCompleted', {}, String(percent)),
    ),
  );
}

function clampPercent(progress: number): number {
  if (!Number.isFinite(progress)) return 0;
  return Math.min(100, Math.max(0, Math.round(progress)));
}

/**
 * A complete HTTP answer for GetStatus: the document, or NoSuchJob when the id is unknown.
 * (A dismissed job is still shown, as Dismissed, while its status exists.)
 */
export function getStatusResponse(jobId: string, status: ExecutionStatus | undefined, ctx: Wps2Context): XmlResponse {
  if (status === undefined) return wps2ExceptionResponse(unknownExecution(jobId, '2.0.0'));
  return { statusCode: 200, contentType: XML_CONTENT_TYPE, body: statusInfo(status, ctx) };
}

/**
 * The `wps:Result` document of a job (GetResult): its JobID, ExpirationDate and the recorded
 * result location as one output by reference. The status table keeps one result URL per
 * execution, which every protocol publishes under the same output id.
 * @throws OwsException when the job has no results to give:
 *   - ResultNotReady while it is Accepted or Running;
 *   - NoApplicableCode with the job's own exception once it Failed (StatusInfo carries no
 *     message; GetResult is where a WPS 2.0 client learns why);
 *   - NoSuchJob once it was Dismissed (a dismiss removes the job's results);
 *   - NoApplicableCode for a successful job whose node recorded no result location: the
 *     schema asks for at least one output, and inventing one would be wrong.
 */
export function resultDocument(status: ExecutionStatus): string {
  const id = status.executionId;
  switch (wps2StatusOf(status)) {
    case 'Accepted':
    case 'Running':
      throw new OwsException('ResultNotReady', id, `Job ${id} has not finished yet; poll GetStatus and ask again once it has Succeeded`, '2.0.0');
    case 'Dismissed':
      throw unknownExecution(id, '2.0.0');
    case 'Failed': {
      const reason = status.exception ? `${status.exception.code}: ${status.exception.message}` : 'the process failed without reporting a reason';
      throw new OwsException('NoApplicableCode', id, `Job ${id} failed: ${reason}`, '2.0.0');
    }
    case 'Succeeded':
      break;
  }
  if (status.resultLocation === undefined) {
    throw new OwsException('NoApplicableCode', id, `Job ${id} succeeded but its node recorded no result location`, '2.0.0');
  }
  const expiration = toXsDateTime(status.expirationDate);
  return renderXml(
    el(
      'wps:Result',
      {
        'xmlns:wps': NS.wps2,
        'xmlns:xlink': NS.xlink,
        'xmlns:xsi': NS.xsi,
        'xsi:schemaLocation': `${NS.wps2} http://schemas.opengis.net/wps/2.0/wps.xsd`,
      },
      el('wps:JobID', {}, id),
      expiration !== undefined && el('wps:ExpirationDate', {}, expiration),
      el('wps:Output', { id: RESULT_OUTPUT_ID }, el('wps:Reference', { 'xlink:href': status.resultLocation })),
    ),
  );
}

/** The KVP GetStatus URL of a job, e.g. for a README or a Location header. */
export function getStatusUrl(owsUrl: string, jobId: string): string {
  return `${owsUrl}?service=WPS&version=2.0.0&request=GetStatus&jobID=${encodeURIComponent(jobId)}`;
}

/** A standalone OWS 2.0 exception report. Version 2.0.0: the OWS Common version it follows. */
export function ows2ExceptionReport(code: string, locator: string | undefined, text: string, lang?: string): string {
  return renderXml(
    el(
      'ows:ExceptionReport',
      {
        'xmlns:ows': NS.ows20,
        'xmlns:xsi': NS.xsi,
        'xsi:schemaLocation': `${NS.ows20} http://schemas.opengis.net/ows/2.0/owsExceptionReport.xsd`,
        version: '2.0.0',
        'xml:lang': xmlLanguage(lang),
      },
      el('ows:Exception', { exceptionCode: code || 'NoApplicableCode', locator }, el('ows:ExceptionText', {}, text)),
    ),
  );
}

/** Renders an OwsException for a WPS 2.0 client, with the status it carries. */
export function wps2ExceptionResponse(error: OwsException, lang?: string): XmlResponse {
  return {
    statusCode: error.status,
    contentType: XML_CONTENT_TYPE,
    body: ows2ExceptionReport(error.exceptionCode, error.locator, error.message, lang),
  };
}

// ---------------------------------------------------------------------------------------------
// POST bodies: wps:GetStatus and wps:Dismiss
// ---------------------------------------------------------------------------------------------

export type Wps2PostRequest =
  | { kind: 'wps2-status'; jobId: string }
  | { kind: 'wps2-result'; jobId: string }
  | { kind: 'wps2-dismiss'; jobId: string };

/** The root elements of the WPS 2.0 requests `/ows` serves, and the request each is. */
const POST_ROOTS: Readonly<Record<string, Wps2PostRequest['kind']>> = {
  GetStatus: 'wps2-status',
  GetResult: 'wps2-result',
  Dismiss: 'wps2-dismiss',
};

/** A GetStatus, GetResult or Dismiss document is a few hundred bytes; anything far larger is not one. */
export const MAX_POST_BODY_CHARS = 64 * 1024;

/**
 * Parses a POSTed `wps:GetStatus`, `wps:GetResult` or `wps:Dismiss` document into the same request the KVP form
 * gives. Prefixes are resolved through namespace declarations, so `<wps:GetStatus>`,
 * `<GetStatus xmlns="...wps/2.0">` and `<w:GetStatus xmlns:w="...">` are all the same request.
 *
 * @throws OwsException
 *   - NoApplicableCode (400): not well-formed XML, a DOCTYPE (refused: no entity expansion, no
 *     external fetches; the requests never need one), or past a limit of xml-reader.ts
 *     (size, elements, depth, attributes, namespace declarations), which the text names;
 *   - OperationNotSupported (501): another root (Execute, GetCapabilities, a WPS 1.0.0 request);
 *   - MissingParameterValue / InvalidParameterValue (400): service, version or JobID absent/wrong.
 */
export function parseWps2PostBody(xml: string): Wps2PostRequest {
  let root: ParsedElement;
  try {
    root = readXmlDocument(xml, { ...REQUEST_DOCUMENT_LIMITS, maxChars: MAX_POST_BODY_CHARS });
  } catch (error) {
    if (error instanceof XmlReadError) throw malformed(error.message);
    throw error;
  }

  const kind = root.namespace === NS.wps2 && Object.hasOwn(POST_ROOTS, root.localName) ? POST_ROOTS[root.localName] : undefined;
  if (kind === undefined) {
    const where = root.namespace === undefined ? 'no namespace' : `namespace ${root.namespace}`;
    throw new OwsException(
      'OperationNotSupported',
      root.localName,
      `Expected a WPS 2.0 GetStatus, GetResult or Dismiss request (namespace ${NS.wps2}), got ${root.localName} in ${where}`,
      root.namespace === NS.wps1 ? '1.0.0' : '2.0.0',
    );
  }

  const service = root.attributes.get('service');
  if (service === undefined) throw new OwsException('MissingParameterValue', 'service', 'Attribute service="WPS" is required', '2.0.0');
  if (service !== 'WPS') {
    throw new OwsException('InvalidParameterValue', 'service', `Unknown service '${service}': this endpoint serves WPS`, '2.0.0');
  }
  const version = root.attributes.get('version');
  if (version === undefined) throw new OwsException('MissingParameterValue', 'version', 'Attribute version="2.0.0" is required', '2.0.0');
  if (version !== '2.0.0') {
    throw new OwsException('InvalidParameterValue', 'version', `Unsupported version '${version}': XML requests must be WPS 2.0.0`, '2.0.0');
  }

  if (root.text.trim() !== '') {
    throw new OwsException('InvalidParameterValue', root.localName, `Unexpected text directly inside ${root.localName}`, '2.0.0');
  }
  const jobIds: ParsedElement[] = [];
  for (const child of root.children) {
    if (child.namespace === NS.wps2 && child.localName === 'JobID') jobIds.push(child);
    else if (child.namespace !== NS.wps2 || child.localName !== 'Extension') {
      throw new OwsException(
        'InvalidParameterValue',
        child.localName,
        `Unexpected element ${child.qualifiedName} in ${root.localName}: only wps:Extension and wps:JobID are allowed`,
        '2.0.0',
      );
    }
  }
  const [jobIdElement, ...extra] = jobIds;
  if (jobIdElement === undefined) throw new OwsException('MissingParameterValue', 'JobID', 'Element wps:JobID is required', '2.0.0');
  if (extra.length > 0) throw new OwsException('InvalidParameterValue', 'JobID', 'Element wps:JobID is given more than once', '2.0.0');
  if (jobIdElement.children.length > 0) {
    throw new OwsException('InvalidParameterValue', 'JobID', 'Element wps:JobID must contain text only', '2.0.0');
  }
  const jobId = jobIdElement.text.trim();
  if (jobId === '') throw new OwsException('MissingParameterValue', 'JobID', 'Element wps:JobID is empty', '2.0.0');
  const problem = idProblem(jobId);
  if (problem) throw new OwsException('InvalidParameterValue', 'JobID', `JobID ${problem}`, '2.0.0');

  return { kind, jobId };
}

function malformed(reason: string): OwsException {
  return new OwsException('NoApplicableCode', undefined, `The request body is not a well-formed XML request: ${reason}`, '2.0.0');
}
