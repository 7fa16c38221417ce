/**
 * WPS 2.0: `wps:StatusInfo` documents, OWS 2.0 exception reports, and the XML POST forms of
 * `GetStatus` and `Dismiss`. Format: REFERENCE.md 3 and schemas.opengis.net/wps/2.0/wps.xsd.
 */
import { type ExecutionStatus } from '../execution';
import { nextPollAt } from './http-cache';
import { OwsException, idProblem, unknownExecution } from './kvp';
import { NS, XML_CONTENT_TYPE, el, renderXml, toXsDateTime, xmlLanguage, type XmlResponse } from './xml';

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
  const nextPoll = active ? nextPollAt(status, ctx.now, ctx.defaultNextPollSeconds ?? 10) : undefined;
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

export type Wps2PostRequest = { kind: 'wps2-status'; jobId: string } | { kind: 'wps2-dismiss'; jobId: string };

/** A GetStatus or Dismiss document is a few hundred bytes; anything far larger is not one. */
export const MAX_POST_BODY_CHARS = 64 * 1024;

/**
 * Parses a POSTed `wps:GetStatus` or `wps:Dismiss` document into the same request the KVP form
 * gives. Prefixes are resolved through namespace declarations, so `<wps:GetStatus>`,
 * `<GetStatus xmlns="...wps/2.0">` and `<w:GetStatus xmlns:w="...">` are all the same request.
 *
 * @throws OwsException
 *   - NoApplicableCode (400): not well-formed XML, or it has a DOCTYPE (refused: no entity
 *     expansion, no external fetches; the requests never need one);
 *   - OperationNotSupported (501): another root (Execute, GetCapabilities, a WPS 1.0.0 request);
 *   - MissingParameterValue / InvalidParameterValue (400): service, version or JobID absent/wrong.
 */
export function parseWps2PostBody(xml: string): Wps2PostRequest {
  if (xml.length > MAX_POST_BODY_CHARS) {
    throw malformed(`the body is larger than ${MAX_POST_BODY_CHARS} characters`);
  }
  const root = parseDocument(xml);

  if (root.namespace !== NS.wps2 || (root.localName !== 'GetStatus' && root.localName !== 'Dismiss')) {
    const where = root.namespace === undefined ? 'no namespace' : `namespace ${root.namespace}`;
    throw new OwsException(
      'OperationNotSupported',
      root.localName,
      `Expected a WPS 2.0 GetStatus or Dismiss request (namespace ${NS.wps2}), got ${root.localName} in ${where}`,
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

  return root.localName === 'GetStatus' ? { kind: 'wps2-status', jobId } : { kind: 'wps2-dismiss', jobId };
}

function malformed(reason: string): OwsException {
  return new OwsException('NoApplicableCode', undefined, `The request body is not a well-formed XML request: ${reason}`, '2.0.0');
}

// A deliberately small XML reader: enough of XML 1.0 to read any well-formed request document
// (declaration, comments, PIs, CDATA, character and predefined entity references, namespaces),
// refusing what these requests never need (DTDs). It checks well-formedness (tag nesting, one
// root, quoting, duplicate attributes, bound prefixes) so garbage is refused, not guessed at.

interface ParsedElement {
  qualifiedName: string;
  localName: string;
  namespace: string | undefined;
  /** Unprefixed attributes by name (the only ones the requests define). */
  attributes: Map<string, string>;
  children: ParsedElement[];
  /** Concatenated character data directly inside this element. */
  text: string;
}

const NAME = /[\p{L}_][\p{L}\p{N}._-]*(?::[\p{L}_][\p{L}\p{N}._-]*)?/uy;
const MAX_DEPTH = 32;

function parseDocument(xml: string): ParsedElement {
  const reader = new Reader(xml.startsWith('\uFEFF') ? xml.slice(1) : xml);
  reader.skipMisc(true);
  if (reader.atEnd()) throw malformed('the body is empty');
  if (reader.peek() !== '<') throw malformed(`${reader.where()}: content before the root element`);
  const root = reader.element(new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]), 0);
  reader.skipMisc(false);
  if (!reader.atEnd()) throw malformed(`${reader.where()}: content after the root element`);
  return root;
}

class Reader {
  private position = 0;

  constructor(private readonly source: string) {}

  atEnd(): boolean {
    return this.position >= this.source.length;
  }

  peek(): string | undefined {
    return this.source[this.position];
  }

  where(): string {
    const before = this.source.slice(0, this.position);
    const line = before.split('\n').length;
    const column = this.position - before.lastIndexOf('\n');
    return `line ${line}, column ${column}`;
  }

  /** Whitespace, comments and PIs around the root; the XML declaration only at the very start. */
  skipMisc(prolog: boolean): void {
    if (prolog && this.source.startsWith('<?xml', this.position) && /\s/.test(this.source[this.position + 5] ?? '')) {
      this.skipUntil('?>', 'XML declaration');
    }
    for (;;) {
      this.skipWhitespace();
      if (this.source.startsWith('<!--', this.position)) this.skipUntil('-->', 'comment');
      else if (this.source.startsWith('<?', this.position)) this.skipProcessingInstruction();
      else if (this.source.startsWith('<!DOCTYPE', this.position)) {
        throw malformed(`${this.where()}: DOCTYPE declarations are not accepted`);
      } else return;
    }
  }

  element(parentScope: ReadonlyMap<string, string>, depth: number): ParsedElement {
    if (depth > MAX_DEPTH) throw malformed(`${this.where()}: elements nested deeper than ${MAX_DEPTH}`);
    this.expect('<');
    const qualifiedName = this.name();
    const rawAttributes = new Map<string, string>();
    for (;;) {
      const hadSpace = this.skipWhitespace();
      const next = this.peek();
      if (next === '>' || next === '/') break;
      if (!hadSpace) throw malformed(`${this.where()}: expected whitespace between attributes`);
      const attributeName = this.name();
      this.skipWhitespace();
      this.expect('=');
      this.skipWhitespace();
      const value = this.quoted();
      if (rawAttributes.has(attributeName)) throw malformed(`${this.where()}: duplicate attribute ${attributeName}`);
      rawAttributes.set(attributeName, value);
    }

    const scope = new Map(parentScope);
    const attributes = new Map<string, string>();
    for (const [name, value] of rawAttributes) {
      if (name === 'xmlns') {
        if (value === '') scope.delete('');
        else scope.set('', value);
      } else if (name.startsWith('xmlns:')) {
        if (value === '') throw malformed(`${this.where()}: prefix ${name.slice(6)} cannot be undeclared in XML 1.0`);
        scope.set(name.slice(6), value);
      } else if (!name.includes(':')) {
        attributes.set(name, value);
      } else if (!scope.has(name.split(':')[0] ?? '')) {
        throw malformed(`${this.where()}: attribute ${name} uses an undeclared prefix`);
      }
    }
    const [prefix, localName] = splitName(qualifiedName);
    const namespace = scope.get(prefix);
    if (prefix !== '' && namespace === undefined) {
      throw malformed(`${this.where()}: element ${qualifiedName} uses an undeclared prefix`);
    }
    const element: ParsedElement = { qualifiedName, localName, namespace, attributes, children: [], text: '' };

    if (this.source.startsWith('/>', this.position)) {
      this.position += 2;
      return element;
    }
    this.expect('>');
    for (;;) {
      if (this.atEnd()) throw malformed(`end of body inside element ${qualifiedName}`);
      if (this.source.startsWith('</', this.position)) {
        this.position += 2;
        const closing = this.name();
        if (closing !== qualifiedName) {
          throw malformed(`${this.where()}: end tag </${closing}> does not match <${qualifiedName}>`);
        }
        this.skipWhitespace();
        this.expect('>');
        return element;
      }
      if (this.source.startsWith('<!--', this.position)) this.skipUntil('-->', 'comment');
      else if (this.source.startsWith('<![CDATA[', this.position)) {
        const end = this.source.indexOf(']]>', this.position + 9);
        if (end < 0) throw malformed(`${this.where()}: unterminated CDATA section`);
        element.text += this.source.slice(this.position + 9, end);
        this.position = end + 3;
      } else if (this.source.startsWith('<?', this.position)) this.skipProcessingInstruction();
      else if (this.source.startsWith('<!', this.position)) {
        throw malformed(`${this.where()}: markup declarations are not accepted`);
      } else if (this.peek() === '<') {
        element.children.push(this.element(scope, depth + 1));
      } else {
        const end = this.source.indexOf('<', this.position);
        const raw = this.source.slice(this.position, end < 0 ? this.source.length : end);
        element.text += decodeReferences(raw, () => this.where());
        this.position += raw.length;
      }
    }
  }

  private name(): string {
    NAME.lastIndex = this.position;
    const match = NAME.exec(this.source);
    if (!match) throw malformed(`${this.where()}: expected a name`);
    this.position += match[0].length;
    return match[0];
  }

  private quoted(): string {
    const quote = this.peek();
    if (quote !== '"' && quote !== "'") throw malformed(`${this.where()}: attribute values must be quoted`);
    const end = this.source.indexOf(quote, this.position + 1);
    if (end < 0) throw malformed(`${this.where()}: unterminated attribute value`);
    const raw = this.source.slice(this.position + 1, end);
    if (raw.includes('<')) throw malformed(`${this.where()}: '<' inside an attribute value`);
    this.position = end + 1;
    // Attribute-value normalisation (XML 1.0 3.3.3): literal whitespace characters become spaces.
    return decodeReferences(raw.replace(/[\t\n\r]/g, ' '), () => this.where());
  }

  private expect(text: string): void {
    if (!this.source.startsWith(text, this.position)) throw malformed(`${this.where()}: expected '${text}'`);
    this.position += text.length;
  }

  private skipWhitespace(): boolean {
    const start = this.position;
    while (this.position < this.source.length && /[ \t\r\n]/.test(this.source[this.position] ?? '')) this.position++;
    return this.position > start;
  }

  private skipUntil(terminator: string, what: string): void {
    const end = this.source.indexOf(terminator, this.position + 2);
    if (end < 0) throw malformed(`${this.where()}: unterminated ${what}`);
    this.position = end + terminator.length;
  }

  private skipProcessingInstruction(): void {
    // `<?xml` is reserved for the declaration, which may only open the document.
    if (/^<\?xml[\s?]/i.test(this.source.slice(this.position, this.position + 6))) {
      throw malformed(`${this.where()}: XML declaration not at the start of the body`);
    }
    this.skipUntil('?>', 'processing instruction');
  }
}

function splitName(qualifiedName: string): [prefix: string, localName: string] {
  const colon = qualifiedName.indexOf(':');
  return colon < 0 ? ['', qualifiedName] : [qualifiedName.slice(0, colon), qualifiedName.slice(colon + 1)];
}

const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Expands the five predefined entities and character references; anything else is an error. */
function decodeReferences(raw: string, where: () => string): string {
  return raw.replace(/&([^;&\s]*);?/g, (whole, body: string) => {
    if (!whole.endsWith(';')) throw malformed(`${where()}: '&' must start an entity reference`);
    const named = PREDEFINED[body];
    if (named !== undefined) return named;
    const numeric = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(body);
    if (numeric) {
      const codePoint = numeric[1] !== undefined ? parseInt(numeric[1], 16) : Number(numeric[2]);
      if (isXmlChar(codePoint)) return String.fromCodePoint(codePoint);
      throw malformed(`${where()}: &${body}; is not an XML character`);
    }
    throw malformed(`${where()}: unknown entity &${body};`);
  });
}

function isXmlChar(codePoint: number): boolean {
  return (
    codePoint === 0x9 ||
    codePoint === 0xa ||
    codePoint === 0xd ||
    (codePoint >= 0x20 && codePoint <= 0xd7ff) ||
    (codePoint >= 0xe000 && codePoint <= 0xfffd) ||
    (codePoint >= 0x10000 && codePoint <= 0x10ffff)
  );
}

