import { applyWrite, dismiss, type ExecutionStatus, type StatusWrite } from '../../../lambdas/status/execution';
import { OwsException, unknownExecution } from '../../../lambdas/status/protocols/kvp';
import {
  getStatusResponse,
  getStatusUrl,
  ows2ExceptionReport,
  parseWps2PostBody,
  resultDocument,
  statusInfo,
  wps2ExceptionResponse,
  wps2StatusOf,
} from '../../../lambdas/status/protocols/wps2';
import { assertXmllintAvailable, validateXml } from '../../support/xml-schema';
import { namespaceBombXml } from '../../support/hostile-xml';

const T0 = Date.parse('2024-05-01T10:00:00.000Z');
const ID = 'job-7f3a';

function write(current: ExecutionStatus | undefined, update: StatusWrite, seconds: number): ExecutionStatus {
  return applyWrite(current, update, { executionId: ID, nodeId: 'node-a', now: new Date(T0 + seconds * 1000) }).status;
}
const queued = write(undefined, { phase: 'QUEUED', processName: 'gs:Buffer', expirationDate: '2024-05-03T10:00:00Z' }, 0);
const running = (progress: number, extra: Partial<StatusWrite> = {}): ExecutionStatus =>
  write(queued, { phase: 'RUNNING', progress, ...extra }, 10);
const succeeded = write(running(90), { phase: 'SUCCEEDED', resultLocation: 'https://results.example/r/1' }, 60);
const failed = write(running(50), { phase: 'FAILED', exception: { code: 'ProcessException', message: 'boom' } }, 30);
const dismissing = (dismiss(running(50), ID) as { status: ExecutionStatus }).status;
const failedAfterDismiss = write(dismissing, { phase: 'FAILED' }, 40);

const now = new Date(T0 + 20_000);
const ctx = { now, defaultNextPollSeconds: 15 };

function expectValid(xml: string, schema: Parameters<typeof validateXml>[1]): void {
  const result = validateXml(xml, schema);
  if (!result.valid) throw new Error(`${result.errors}\n--- document ---\n${xml}`);
}

function thrown(fn: () => unknown): OwsException {
  try {
    fn();
  } catch (error) {
    if (error instanceof OwsException) return error;
    throw error;
  }
  throw new Error('expected an OwsException');
}

/** Child element names of StatusInfo in document order. */
function childOrder(xml: string): string[] {
  return [...xml.matchAll(/<wps:(\w+)>/g)].map((match) => match[1] ?? '');
}

beforeAll(() => assertXmllintAvailable());

describe('the schema check itself', () => {
  it('rejects a StatusInfo with children out of schema order or an invalid value', () => {
    const good = statusInfo(running(50), ctx);
    expectValid(good, 'wps2');
    const swapped = good.replace(/(<wps:JobID>.*<\/wps:JobID>)(\s*)(<wps:Status>.*<\/wps:Status>)/, '$3$2$1');
    expect(swapped).not.toBe(good);
    expect(validateXml(swapped, 'wps2').valid).toBe(false);
    expect(validateXml(good.replace(/<wps:PercentCompleted>\d+/, '<wps:PercentCompleted>101'), 'wps2').valid).toBe(false);
    expect(validateXml(good.replace(/<wps:NextPoll>[^<]*/, '<wps:NextPoll>soon'), 'wps2').valid).toBe(false);
  });

  it('rejects an OWS 2.0 report checked against the OWS 1.1 schema', () => {
    const report = ows2ExceptionReport('NoSuchJob', ID, 'gone');
    expectValid(report, 'ows20');
    expect(validateXml(report, 'ows11').valid).toBe(false);
  });
});

describe('statusInfo', () => {
  it.each([
    ['QUEUED', 'Accepted', queued],
    ['RUNNING 10%', 'Running', running(10)],
    ['RUNNING 50%', 'Running', running(50)],
    ['RUNNING 90%', 'Running', running(90)],
    ['SUCCEEDED', 'Succeeded', succeeded],
    ['FAILED', 'Failed', failed],
    ['DISMISSING', 'Dismissed', dismissing],
    ['FAILED after a dismiss', 'Dismissed', failedAfterDismiss],
    ['SUCCEEDED then dismissed (removed)', 'Dismissed', { ...succeeded, dismissed: true }],
  ] as const)('%s is %s and validates against wps.xsd', (_label, expected, status) => {
    expect(wps2StatusOf(status)).toBe(expected);
    const xml = statusInfo(status, ctx);
    expectValid(xml, 'wps2');
    expect(xml).toContain(`<wps:Status>${expected}</wps:Status>`);
    expect(xml).toContain(`<wps:JobID>${ID}</wps:JobID>`);
  });

  it('writes every element, in schema order, for a running job', () => {
    const status = running(42, { estimatedCompletion: '2024-05-01T10:05:00Z', nextPoll: '2024-05-01T10:00:30Z' });
    const xml = statusInfo(status, ctx);
    expectValid(xml, 'wps2');
    expect(childOrder(xml)).toEqual(['JobID', 'Status', 'ExpirationDate', 'EstimatedCompletion', 'NextPoll', 'PercentCompleted']);
    expect(xml).toContain('<wps:ExpirationDate>2024-05-03T10:00:00.000Z</wps:ExpirationDate>');
    expect(xml).toContain('<wps:EstimatedCompletion>2024-05-01T10:05:00.000Z</wps:EstimatedCompletion>');
    expect(xml).toContain('<wps:NextPoll>2024-05-01T10:00:30.000Z</wps:NextPoll>');
    expect(xml).toContain('<wps:PercentCompleted>42</wps:PercentCompleted>');
  });

  it("uses the configured default for NextPoll when the node's is missing or already past", () => {
    expect(statusInfo(running(10), ctx)).toContain('<wps:NextPoll>2024-05-01T10:00:35.000Z</wps:NextPoll>');
    const stale = running(10, { nextPoll: '2024-05-01T10:00:05Z' });
    expect(statusInfo(stale, ctx)).toContain('<wps:NextPoll>2024-05-01T10:00:35.000Z</wps:NextPoll>');
    expect(statusInfo(queued, ctx)).toContain('<wps:NextPoll>');
  });

  it('gives no poll hints or estimates for finished or dismissed jobs, and 100% on success', () => {
    for (const status of [succeeded, failed, dismissing, failedAfterDismiss]) {
      const xml = statusInfo({ ...status, estimatedCompletion: '2024-05-01T10:05:00Z', nextPoll: '2024-05-01T10:00:30Z' }, ctx);
      expect(xml).not.toContain('NextPoll');
      expect(xml).not.toContain('EstimatedCompletion');
    }
    expect(statusInfo(succeeded, ctx)).toContain('<wps:PercentCompleted>100</wps:PercentCompleted>');
    expect(statusInfo(failed, ctx)).not.toContain('PercentCompleted');
    expect(statusInfo(queued, ctx)).not.toContain('PercentCompleted');
  });

  it('leaves out a stored date that is not a date instead of breaking the document', () => {
    const xml = statusInfo({ ...running(10), expirationDate: 'next tuesday' }, ctx);
    expectValid(xml, 'wps2');
    expect(xml).not.toContain('ExpirationDate');
  });
});

describe('resultDocument (GetResult)', () => {
  it('gives a succeeded job its recorded result location as output `result`, by reference', () => {
    const xml = resultDocument(succeeded);
    expectValid(xml, 'wps2');
    expect(xml).toContain(`<wps:JobID>${ID}</wps:JobID>`);
    expect(xml).toContain('<wps:ExpirationDate>2024-05-03T10:00:00.000Z</wps:ExpirationDate>');
    expect(xml).toMatch(/<wps:Output id="result">\s*<wps:Reference xlink:href="https:\/\/results.example\/r\/1"\/>/);
  });

  it.each([
    ['an accepted job', queued, 'ResultNotReady', /not finished/],
    ['a running job', running(50), 'ResultNotReady', /not finished/],
    ['a failed job, with its own exception', failed, 'NoApplicableCode', /failed: ProcessException: boom/],
    ['a job being dismissed', dismissing, 'NoSuchJob', /Unknown execution id/],
    ['a job stopped after a dismiss', failedAfterDismiss, 'NoSuchJob', /Unknown execution id/],
    ['a succeeded job without a result location', write(running(90), { phase: 'SUCCEEDED' }, 60), 'NoApplicableCode', /no result location/],
  ])('refuses %s with %s naming the job, as a valid OWS 2.0 report', (_label, status, code, text) => {
    const error = thrown(() => resultDocument(status));
    expect(error).toMatchObject({ exceptionCode: code, locator: ID, wpsVersion: '2.0.0', status: 400 });
    expect(error.message).toMatch(text);
    expectValid(wps2ExceptionResponse(error).body, 'ows20');
  });
});

describe('getStatusResponse and exceptions', () => {
  it('builds the KVP GetStatus URL of a job, encoding the id', () => {
    expect(getStatusUrl('https://api.example/ows', 'a b&c')).toBe(
      'https://api.example/ows?service=WPS&version=2.0.0&request=GetStatus&jobID=a%20b%26c',
    );
  });


  it('answers an unknown job with a NoSuchJob OWS 2.0 report naming the id, HTTP 400 as WPS 2.0 gives it', () => {
    const response = getStatusResponse('nope<&>', undefined, ctx);
    expect(response.statusCode).toBe(400);
    expectValid(response.body, 'ows20');
    expect(response.body).toContain('exceptionCode="NoSuchJob" locator="nope&lt;&amp;&gt;"');
  });

  it('answers a known job with 200 text/xml', () => {
    expect(getStatusResponse(ID, running(10), ctx)).toMatchObject({ statusCode: 200, contentType: 'text/xml; charset=UTF-8' });
  });

  it.each([
    new OwsException('MissingParameterValue', 'jobID', 'Parameter jobID is required', '2.0.0'),
    new OwsException('InvalidParameterValue', 'version', 'Unsupported version', '2.0.0'),
    new OwsException('OperationNotSupported', 'Execute', 'Not here', '2.0.0'),
    new OwsException('NoApplicableCode', undefined, 'Malformed', '2.0.0'),
    unknownExecution(ID, '2.0.0'),
  ])('$exceptionCode renders as a valid OWS 2.0 report with HTTP $status', (error) => {
    const response = wps2ExceptionResponse(error);
    expect(response.statusCode).toBe(error.status);
    expectValid(response.body, 'ows20');
    expect(response.body).toMatch(/<ows:ExceptionReport [^>]*version="2.0.0"/);
    expect(response.body).toContain(`exceptionCode="${error.exceptionCode}"`);
  });
});

describe('parseWps2PostBody', () => {
  const getStatus = `<?xml version="1.0" encoding="UTF-8"?>
<wps:GetStatus service="WPS" version="2.0.0"
    xmlns:wps="http://www.opengis.net/wps/2.0"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.opengis.net/wps/2.0 http://schemas.opengis.net/wps/2.0/wps.xsd">
  <wps:JobID>${ID}</wps:JobID>
</wps:GetStatus>`;

  it('reads the documents the standard defines (which themselves validate)', () => {
    expectValid(getStatus, 'wps2');
    expect(parseWps2PostBody(getStatus)).toEqual({ kind: 'wps2-status', jobId: ID });
    const dismissDoc = getStatus.replace(/GetStatus/g, 'Dismiss');
    expectValid(dismissDoc, 'wps2');
    expect(parseWps2PostBody(dismissDoc)).toEqual({ kind: 'wps2-dismiss', jobId: ID });
    const getResultDoc = getStatus.replace(/GetStatus/g, 'GetResult');
    expectValid(getResultDoc, 'wps2');
    expect(parseWps2PostBody(getResultDoc)).toEqual({ kind: 'wps2-result', jobId: ID });
  });

  it.each([
    ['a default namespace', `<GetStatus xmlns="http://www.opengis.net/wps/2.0" service="WPS" version="2.0.0"><JobID>${ID}</JobID></GetStatus>`],
    ['another prefix', `<w:GetStatus xmlns:w="http://www.opengis.net/wps/2.0" service='WPS' version='2.0.0'><w:JobID>${ID}</w:JobID></w:GetStatus>`],
    ['a prefix declared on the child', `<GetStatus xmlns="http://www.opengis.net/wps/2.0" service="WPS" version="2.0.0"><x:JobID xmlns:x="http://www.opengis.net/wps/2.0">${ID}</x:JobID></GetStatus>`],
    ['comments, PIs, a BOM and whitespace', `\uFEFF<?xml version="1.0"?>\n<!-- poll --><?pi x?>\n<wps:GetStatus xmlns:wps="http://www.opengis.net/wps/2.0" service="WPS" version="2.0.0">\n  <!-- the job -->\n  <wps:JobID>\n    ${ID}\n  </wps:JobID>\n</wps:GetStatus>\n<!-- end -->\n`],
    ['CDATA and entities', `<wps:GetStatus xmlns:wps="http://www.opengis.net/wps/2.0" service="WPS" version="2.0.0"><wps:JobID><![CDATA[job]]>&#45;7f&#x33;a</wps:JobID></wps:GetStatus>`],
    ['an Extension element', `<wps:GetStatus xmlns:wps="http://www.opengis.net/wps/2.0" service="WPS" version="2.0.0"><wps:Extension><any xmlns="urn:x">1</any></wps:Extension><wps:JobID>${ID}</wps:JobID></wps:GetStatus>`],
  ])('accepts %s', (_label, xml) => {
    expect(parseWps2PostBody(xml)).toEqual({ kind: 'wps2-status', jobId: ID });
  });

  it('decodes entities in the id', () => {
    const xml = `<wps:Dismiss xmlns:wps="http://www.opengis.net/wps/2.0" service="WPS" version="2.0.0"><wps:JobID>a&amp;b&lt;c</wps:JobID></wps:Dismiss>`;
    expect(parseWps2PostBody(xml)).toEqual({ kind: 'wps2-dismiss', jobId: 'a&b<c' });
  });

  const wrap = (inner: string, attrs = 'service="WPS" version="2.0.0"'): string =>
    `<wps:GetStatus xmlns:wps="http://www.opengis.net/wps/2.0" ${attrs}>${inner}</wps:GetStatus>`;

  it.each([
    ['an empty body', 'NoApplicableCode', undefined, ''],
    ['text that is not XML', 'NoApplicableCode', undefined, 'jobID=1'],
    ['a missing end tag', 'NoApplicableCode', undefined, `<wps:GetStatus xmlns:wps="http://www.opengis.net/wps/2.0" service="WPS" version="2.0.0"><wps:JobID>1</wps:JobID>`],
    ['crossed tags', 'NoApplicableCode', undefined, wrap('<wps:JobID>1</wps:GetStatus></wps:JobID>')],
    ['two roots', 'NoApplicableCode', undefined, `${wrap('<wps:JobID>1</wps:JobID>')}<x/>`],
    ['an undeclared prefix', 'NoApplicableCode', undefined, '<wps:GetStatus service="WPS" version="2.0.0"><wps:JobID>1</wps:JobID></wps:GetStatus>'],
    ['a DOCTYPE (entity expansion)', 'NoApplicableCode', undefined, `<!DOCTYPE x [<!ENTITY a "aaaa">]>${wrap('<wps:JobID>&a;</wps:JobID>')}`],
    ['an unknown entity', 'NoApplicableCode', undefined, wrap('<wps:JobID>&nbsp;</wps:JobID>')],
    ['a bare ampersand', 'NoApplicableCode', undefined, wrap('<wps:JobID>a & b</wps:JobID>')],
    ['an unquoted attribute', 'NoApplicableCode', undefined, '<wps:GetStatus xmlns:wps="http://www.opengis.net/wps/2.0" service=WPS version="2.0.0"/>'],
    ['a duplicate attribute', 'NoApplicableCode', undefined, wrap('<wps:JobID>1</wps:JobID>', 'service="WPS" service="WPS" version="2.0.0"')],
    ['a late XML declaration', 'NoApplicableCode', undefined, `<!-- x --><?xml version="1.0"?>${wrap('<wps:JobID>1</wps:JobID>')}`],
    ['a huge body', 'NoApplicableCode', undefined, wrap(`<wps:JobID>${'x'.repeat(70_000)}</wps:JobID>`)],
    ['a WPS 2.0 Execute', 'OperationNotSupported', 'Execute', '<wps:Execute xmlns:wps="http://www.opengis.net/wps/2.0" service="WPS" version="2.0.0"/>'],
    ['a WPS 1.0.0 request', 'OperationNotSupported', 'GetStatus', '<wps:GetStatus xmlns:wps="http://www.opengis.net/wps/1.0.0" service="WPS" version="1.0.0"/>'],
    ['GetStatus in no namespace', 'OperationNotSupported', 'GetStatus', '<GetStatus service="WPS" version="2.0.0"><JobID>1</JobID></GetStatus>'],
    ['no service', 'MissingParameterValue', 'service', wrap('<wps:JobID>1</wps:JobID>', 'version="2.0.0"')],
    ['another service', 'InvalidParameterValue', 'service', wrap('<wps:JobID>1</wps:JobID>', 'service="WMS" version="2.0.0"')],
    ['no version', 'MissingParameterValue', 'version', wrap('<wps:JobID>1</wps:JobID>', 'service="WPS"')],
    ['version 1.0.0', 'InvalidParameterValue', 'version', wrap('<wps:JobID>1</wps:JobID>', 'service="WPS" version="1.0.0"')],
    ['no JobID', 'MissingParameterValue', 'JobID', wrap('')],
    ['an empty JobID', 'MissingParameterValue', 'JobID', wrap('<wps:JobID>  </wps:JobID>')],
    ['two JobIDs', 'InvalidParameterValue', 'JobID', wrap('<wps:JobID>1</wps:JobID><wps:JobID>2</wps:JobID>')],
    ['markup inside JobID', 'InvalidParameterValue', 'JobID', wrap('<wps:JobID><b>1</b></wps:JobID>')],
    ['a JobID in another namespace', 'InvalidParameterValue', 'JobID', wrap('<JobID xmlns="urn:other">1</JobID>')],
    ['an overlong JobID', 'InvalidParameterValue', 'JobID', wrap(`<wps:JobID>${'x'.repeat(2000)}</wps:JobID>`)],
    ['a control character in JobID', 'InvalidParameterValue', 'JobID', wrap('<wps:JobID>a&#x9;b</wps:JobID>')],
  ])('refuses %s with %s (locator %s)', (_label, code, locator, xml) => {
    const error = thrown(() => parseWps2PostBody(xml));
    expect(error.exceptionCode).toBe(code);
    expect(error.locator).toBe(locator);
    expect(error.message.length).toBeGreaterThan(10);
    expect(error.status).toBe(code === 'OperationNotSupported' ? 501 : 400);
  });

  it('refuses text directly inside the request element', () => {
    const error = thrown(() => parseWps2PostBody(wrap(`job<wps:JobID>${ID}</wps:JobID>`)));
    expect(error).toMatchObject({ exceptionCode: 'InvalidParameterValue', locator: 'GetStatus' });
  });

  it('says where a malformed document broke', () => {
    const error = thrown(() => parseWps2PostBody('<a>\n  <b>\n</a>'));
    expect(error.message).toMatch(/line 3, column \d+: unexpected close tag/);
  });

  it.each([
    ['an entity named like an object property', wrap('<wps:JobID>&constructor;</wps:JobID>'), 'undefined entity'],
    ['an entity named __proto__', wrap('<wps:JobID>&__proto__;</wps:JobID>'), 'undefined entity'],
    ['an entity named toString in an attribute', wrap('<wps:JobID>1</wps:JobID>', 'service="&toString;" version="2.0.0"'), 'undefined entity'],
    ['a malformed comment <!-->', `<!-->${wrap('<wps:JobID>1</wps:JobID>')}`, ''],
    ['a malformed comment inside the root', wrap('<!--><wps:JobID>1</wps:JobID>'), ''],
    ['the xml prefix rebound', wrap('<wps:JobID>1</wps:JobID>', 'xmlns:xml="urn:x" service="WPS" version="2.0.0"'), 'xml prefix'],
    ['the xmlns prefix declared', wrap('<wps:JobID>1</wps:JobID>', 'xmlns:xmlns="urn:x" service="WPS" version="2.0.0"'), 'xmlns prefix'],
  ])('refuses %s as not well-formed', (_label, xml, reason) => {
    const error = thrown(() => parseWps2PostBody(xml));
    expect(error).toMatchObject({ exceptionCode: 'NoApplicableCode', status: 400 });
    expect(error.message).toContain(reason);
  });

  // The documents of the namespace-declaration bomb and its relatives: each is refused at the
  // first declaration, element or attribute past its limit, and the message names the limit.
  const declarations = (count: number) => Array.from({ length: count }, (_, i) => `xmlns:p${i}="urn:p${i}"`).join(' ');
  it('the namespace-declaration bomb is the 64 KB body of the report', () => {
    const bomb = namespaceBombXml(ID);
    expect(bomb.length).toBeLessThanOrEqual(64 * 1024);
    expect(bomb.length).toBeGreaterThan(60 * 1024);
    expect(bomb.match(/xmlns:/g)).toHaveLength(2501);
  });

  it.each([
    ['the namespace-declaration bomb (2,500 declarations on the root, 6,500 empty children)', namespaceBombXml(ID), 'maxAttributesPerElement'],
    ['the bomb with its declarations spread two per child', wrap(`${'<a xmlns:a1="u" xmlns:a2="u"/>'.repeat(20)}<wps:JobID>1</wps:JobID>`), 'maxNamespaceDeclarations'],
    ['the bomb with 6,500 empty children only', namespaceBombXml(ID, 0), 'maxElements'],
    ['33 namespace declarations over several elements', wrap(`<x ${declarations(20)}><y ${declarations(13)}/></x><wps:JobID>1</wps:JobID>`), 'maxNamespaceDeclarations'],
    ['an element flood', wrap(`${'<wps:Extension/>'.repeat(300)}<wps:JobID>1</wps:JobID>`), 'maxElements'],
    ['deep nesting', wrap(`${'<e>'.repeat(40)}${'</e>'.repeat(40)}<wps:JobID>1</wps:JobID>`), 'maxDepth'],
    ['an element with 40 attributes', wrap(`<e ${Array.from({ length: 40 }, (_, i) => `a${i}="1"`).join(' ')}/><wps:JobID>1</wps:JobID>`), 'maxAttributesPerElement'],
    ['a body over 64 KiB', wrap(`<wps:JobID>${'x'.repeat(70_000)}</wps:JobID>`), 'maxChars'],
  ])('refuses %s, naming the limit', (_label, xml, limit) => {
    const error = thrown(() => parseWps2PostBody(xml));
    expect(error).toMatchObject({ exceptionCode: 'NoApplicableCode', status: 400 });
    expect(error.message).toContain(limit);
  });

  it('answers a WPS 1.0.0 document in the WPS 1.0.0 exception format', () => {
    const error = thrown(() => parseWps2PostBody('<wps:Execute xmlns:wps="http://www.opengis.net/wps/1.0.0" service="WPS" version="1.0.0"/>'));
    expect(error.wpsVersion).toBe('1.0.0');
  });
});
