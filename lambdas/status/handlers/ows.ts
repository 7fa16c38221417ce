/**
 * GET and POST /ows: the OWS face of the shared status, so a WPS client polling any node's URL
 * gets the standard document.
 * - WPS 1.0.0: GeoServer's `GetExecutionStatus` (the statusLocation URL) and its vendor `Dismiss`.
 * - WPS 2.0: `GetStatus`, `GetResult` and `Dismiss`, as KVP (GET, or a form POST) or as XML
 *   request bodies. GetResult gives the result location a node recorded, as the job's output.
 *
 * Dismiss is open to whoever knows the id unless `requireAuthForReads` is set, exactly like the
 * poll it sits beside: that is GeoServer's own Dismiss (anyone holding the statusLocation URL may
 * cancel), and an execution id is an unguessable UUID handed only to its client. With the
 * switch on, both /ows routes need a node token (cdk/constructs/polling-protocols.ts).
 */
import { GoneError, NotFoundError, PayloadTooLargeError } from '../../shared/errors';
import { corsOriginsFromEnv, withCors } from '../../shared/cors';
import { answersHead, appendRequestKeys, header, readBody, type HttpEvent, type HttpResult } from '../../shared/http';
import { instrumented, logger } from '../../shared/observability';
import { sniffXmlEncoding } from '../../shared/xml-encoding';
import { statusStoreFromEnv } from '../adapters/store-from-env';
import type { ExecutionStatus } from '../execution';
import { dismissExecution } from '../service';
import {
  NO_STORE,
  baseUrlOf,
  isPossibleExecutionId,
  owsErrorResponse,
  pollAnswer,
  protocolSettingsFromEnv,
  xmlResult,
} from '../protocols/http-edge';
import { OwsException, parseKvp, unknownExecution, type StatusRequest, type WpsVersion } from '../protocols/kvp';
import { dismissResponse, executeResponse, isVisibleToWps1, wps1Context } from '../protocols/wps1';
import { MAX_POST_BODY_CHARS, parseWps2PostBody, resultDocument, statusInfo } from '../protocols/wps2';
import { XML_CONTENT_TYPE } from '../protocols/xml';
import { nextPollAt } from '../protocols/http-cache';

const store = statusStoreFromEnv();
const settings = protocolSettingsFromEnv();

// Browsers on other origins may poll (lambdas/shared/cors.ts).
export const handler = answersHead(withCors(corsOriginsFromEnv(), instrumented(async (event: HttpEvent): Promise<HttpResult> => {
  appendRequestKeys(event);
  const post = event.requestContext.http.method === 'POST';
  // Until the request says otherwise: XML bodies are WPS 2.0, statusLocation URLs are 1.0.0.
  let version: WpsVersion = post && !isFormPost(event) ? '2.0.0' : '1.0.0';
  try {
    const request = post ? parsePost(event) : parseKvp(new URLSearchParams(event.rawQueryString ?? ''));
    version = request.kind.startsWith('wps1') ? '1.0.0' : '2.0.0';
    logger.appendKeys({ executionId: 'executionId' in request ? request.executionId : request.jobId });
    // HEAD is safe (RFC 9110 9.2.1): a Dismiss, which GET carries as KVP, is not done for one.
    if (event.requestContext.http.method === 'HEAD' && request.kind.endsWith('-dismiss')) return { statusCode: 405, headers: { allow: 'GET, POST', ...NO_STORE } };
    return await serve(request, event);
  } catch (error) {
    return owsErrorResponse(error, version);
  }
})));

async function serve(request: StatusRequest, event: HttpEvent): Promise<HttpResult> {
  const now = new Date();
  const owsUrl = `${baseUrlOf(event, settings)}/ows`;
  switch (request.kind) {
    case 'wps1-status': {
      const id = request.executionId;
      const status = await read(id);
      // Dismissed reads as unknown in 1.0.0, as GeoServer forgets a dismissed execution.
      if (!isVisibleToWps1(status)) throw unknownExecution(id, '1.0.0');
      return pollAnswer(event, status, settings, now, () => ({
        contentType: XML_CONTENT_TYPE,
        body: executeResponse(status, wps1Context(owsUrl, id)),
      }));
    }
    case 'wps2-status': {
      const status = await read(request.jobId);
      if (status === undefined) throw unknownExecution(request.jobId, '2.0.0');
      // The NextPoll the document shows is part of its validator: computed once, for both.
      const nextPoll = nextPollAt(status, now, settings.defaultRetryAfterSeconds);
      return pollAnswer(
        event,
        status,
        settings,
        now,
        () => ({ contentType: XML_CONTENT_TYPE, body: statusInfo(status, { now, defaultNextPollSeconds: settings.defaultRetryAfterSeconds, nextPoll }) }),
        nextPoll,
      );
    }
    case 'wps2-result': {
      const status = await read(request.jobId);
      if (status === undefined) throw unknownExecution(request.jobId, '2.0.0');
      // Throws the job's exception while it has no results (resultDocument).
      const body = resultDocument(status);
      return pollAnswer(event, status, settings, now, () => ({ contentType: XML_CONTENT_TYPE, body }));
    }
    case 'wps1-dismiss': {
      const id = request.executionId;
      let dismissed: ExecutionStatus;
      try {
        dismissed = (await dismiss(id)).status;
      } catch (error) {
        // Never known, or already dismissed (which GeoServer has forgotten): unknown either way.
        if (error instanceof NotFoundError || error instanceof GoneError) throw unknownExecution(id, '1.0.0');
        throw error;
      }
      return xmlResult(
        { statusCode: 200, contentType: XML_CONTENT_TYPE, body: dismissResponse(dismissed, wps1Context(owsUrl, id)) },
        NO_STORE,
      );
    }
    case 'wps2-dismiss': {
      const id = request.jobId;
      let dismissed: ExecutionStatus | undefined;
      try {
        dismissed = (await dismiss(id)).status;
      } catch (error) {
        if (error instanceof NotFoundError) throw unknownExecution(id, '2.0.0');
        if (!(error instanceof GoneError)) throw error;
        // Dismissed before and still stopping: WPS 2.0 has no "gone", and the answer a client
        // retrying a lost response needs is the same StatusInfo saying Dismissed.
        dismissed = await read(id);
        if (dismissed === undefined) throw unknownExecution(id, '2.0.0');
      }
      const body = statusInfo({ ...dismissed, dismissed: true }, { now, defaultNextPollSeconds: settings.defaultRetryAfterSeconds });
      return xmlResult({ statusCode: 200, contentType: XML_CONTENT_TYPE, body }, NO_STORE);
    }
  }
}

function read(id: string): Promise<ExecutionStatus | undefined> {
  return isPossibleExecutionId(id) ? store.get(id) : Promise.resolve(undefined);
}

function dismiss(id: string): ReturnType<typeof dismissExecution> {
  if (!isPossibleExecutionId(id)) throw new NotFoundError('Execution', id);
  return dismissExecution(store, id);
}

function isFormPost(event: HttpEvent): boolean {
  const mediaType = header(event, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  return mediaType === 'application/x-www-form-urlencoded';
}

/**
 * The text of an XML request body. Every XML processor reads UTF-8 and UTF-16 (XML 1.0, 4.3.3),
 * told apart by the byte order mark or, without one, the first bytes (`<?` in UTF-16, Appendix
 * F); a body that declares another encoding (`<?xml version="1.0" encoding="ISO-8859-1"?>`) is
 * read in it when the WHATWG Encoding Standard's decoder knows the label. Bytes that do not
 * decode are an OWS exception.
 */
function xmlRequestText(event: HttpEvent): string {
  // A body passed as text was valid UTF-8 as bytes (UTF-16 of ASCII text, `\0<\0?`, is too): its
  // bytes are the text's UTF-8 encoding, read again here by what the document says it is.
  const bytes = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (bytes.length > MAX_POST_BODY_CHARS * 4) throw new PayloadTooLargeError(MAX_POST_BODY_CHARS * 4);
  const encoding = xmlEncodingOf(bytes);
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(encoding, { fatal: true });
  } catch {
    throw new OwsException('NoApplicableCode', undefined, `The request document declares the encoding "${encoding}", which this server does not read; send UTF-8`, '2.0.0');
  }
  try {
    return decoder.decode(bytes);
  } catch {
    throw new OwsException('NoApplicableCode', undefined, `The request document is not valid ${encoding} text`, '2.0.0');
  }
}

/**
 * The decoder label for an XML request body, from the shared detection (shared/xml-encoding.ts).
 * This endpoint reads what XML 1.0 (4.3.3) has every processor read, UTF-8 and UTF-16, plus any
 * encoding a document declares that TextDecoder knows; its own rules, where the detection says more:
 * - UTF-16 without a byte order mark must open with its declaration (4.3.3): one that does not is
 *   read as UTF-8, as a document that says nothing is, and its NULs make it malformed;
 * - UTF-32, which no TextDecoder reads, is not told apart: its little-endian mark begins with
 *   UTF-16LE's (FF FE), read as that; any other UTF-32 as UTF-8. Either way it is refused, by its NULs
 *   or by a mark that is no UTF-8;
 * - EBCDIC (`<?xm` in its first four bytes) is read as UTF-8, and refused by its bytes.
 */
function xmlEncodingOf(bytes: Buffer): string {
  const sniffed = sniffXmlEncoding(bytes);
  // A declared label is the document's word, read when TextDecoder knows it (and refused by name when not).
  if (sniffed.by === 'declaration' || sniffed.by === 'nothing') return sniffed.encoding;
  // Read as UTF-8, as a document that says nothing is: its bytes are no UTF-8, and refused as such.
  if (sniffed.by === 'first characters') return 'utf-8';
  if (sniffed.by === 'byte order mark' && sniffed.encoding === 'utf-32le') return 'utf-16le';
  if (sniffed.encoding === 'utf-32be' || sniffed.encoding === 'utf-32le') return 'utf-8';
  if (sniffed.by === 'first character' && !sniffed.opensWithDeclaration) return 'utf-8';
  return sniffed.encoding;
}

/**
 * A POST is either the XML `wps:GetStatus` / `wps:GetResult` / `wps:Dismiss` document (WPS 2.0's POST binding) or,
 * as OGC KVP allows, the same key-value pairs form-encoded.
 */
function parsePost(event: HttpEvent): StatusRequest {
  if (!isFormPost(event)) return parseWps2PostBody(xmlRequestText(event));
  // Bytes can exceed characters, never the reverse: this bound lets every allowed body through.
  const body = readBody(event, MAX_POST_BODY_CHARS * 4);
  // Every pair as sent, as for a query string: a key given twice is seen twice.
  return parseKvp(new URLSearchParams(body));
}
