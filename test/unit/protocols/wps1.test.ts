import { applyWrite, dismiss, type ExecutionStatus, type StatusWrite } from '../../../lambdas/status/execution';
import { OwsException, unknownExecution } from '../../../lambdas/status/protocols/kvp';
import {
  dismissResponse,
  executeResponse,
  executionStatusResponse,
  isVisibleToWps1,
  owsExceptionReport,
  wps1Context,
  wps1ExceptionResponse,
  type Wps1Context,
} from '../../../lambdas/status/protocols/wps1';
import { assertXmllintAvailable, validateXml } from '../../support/xml-schema';

const T0 = Date.parse('2024-05-01T10:00:00.000Z');
const ID = '397e8cbd-7d51-48c5-ad72-b0fcbe7cfbdb';

/** Statuses as the domain produces them, one write at a time (seconds after T0). */
function write(current: ExecutionStatus | undefined, update: StatusWrite, seconds: number): ExecutionStatus {
  return applyWrite(current, update, { executionId: ID, nodeId: 'node-a', now: new Date(T0 + seconds * 1000) }).status;
}
const queued = write(undefined, { phase: 'QUEUED', processName: 'gs:Buffer' }, 0);
const running = (progress: number): ExecutionStatus =>
  write(queued, { phase: 'RUNNING', progress, task: `Buffering feature ${progress} of 100` }, 10);
const succeeded = write(running(90), { phase: 'SUCCEEDED', resultLocation: 'https://results.example/r?id=1&format=gml' }, 60);
const succeededWithoutResult = write(running(90), { phase: 'SUCCEEDED' }, 60);
const failed = write(running(50), { phase: 'FAILED', exception: { code: 'ProcessException', message: 'Geometry <invalid> & self-intersecting' } }, 30);
const dismissing = (dismiss(running(50), ID) as { status: ExecutionStatus }).status;
const failedAfterDismiss = write(dismissing, { phase: 'FAILED' }, 40);

const ctx: Wps1Context = {
  serviceInstance: 'https://api.example/ows?service=WPS&request=GetCapabilities',
  statusLocation: `https://api.example/ows?service=WPS&version=1.0.0&request=GetExecutionStatus&executionId=${ID}`,
};

function expectValid(xml: string, schema: Parameters<typeof validateXml>[1]): void {
  const result = validateXml(xml, schema);
  if (!result.valid) throw new Error(`${result.errors}\n--- document ---\n${xml}`);
}

beforeAll(() => assertXmllintAvailable());

describe('the schema check itself', () => {
  it('rejects documents the schema forbids, so a passing test means something', () => {
    const good = executeResponse(running(50), ctx);
    expectValid(good, 'wps1-execute-response');
    const noServiceInstance = good.replace(/ serviceInstance="[^"]*"/, '');
    expect(validateXml(noServiceInstance, 'wps1-execute-response').valid).toBe(false);
    const percentOutOfRange = good.replace(/percentCompleted="\d+"/, 'percentCompleted="100"');
    expect(validateXml(percentOutOfRange, 'wps1-execute-response')).toMatchObject({ valid: false });
    expect(validateXml('<wps:ExecuteResponse', 'wps1-execute-response').valid).toBe(false);
  });

  it('rejects a valid document of another kind (an exception report is not a status document)', () => {
    const report = owsExceptionReport('NoApplicableCode', ID, 'Unknown');
    expectValid(report, 'ows11');
    expect(validateXml(report, 'wps1-execute-response')).toMatchObject({ valid: false, errors: expect.stringContaining('root element') });
  });
});

describe('executeResponse', () => {
  it.each([
    ['QUEUED', queued],
    ['RUNNING 0%', running(0)],
    ['RUNNING 10%', running(10)],
    ['RUNNING 50%', running(50)],
    ['RUNNING 90%', running(90)],
    ['RUNNING 100% (not yet SUCCEEDED)', running(100)],
    ['SUCCEEDED with a result', succeeded],
    ['SUCCEEDED without a result', succeededWithoutResult],
    ['FAILED', failed],
    ['FAILED without an exception', { ...failed, exception: undefined }],
  ])('%s validates against wpsExecute_response.xsd', (_label, status) => {
    expectValid(executeResponse(status, ctx), 'wps1-execute-response');
  });

  it('QUEUED is ProcessAccepted', () => {
    expect(executeResponse(queued, ctx)).toMatch(/<wps:Status creationTime="2024-05-01T10:00:00.000Z">\s*<wps:ProcessAccepted>/);
  });

  it('RUNNING is ProcessStarted with the task and a percentCompleted capped at 99', () => {
    expect(executeResponse(running(42), ctx)).toContain(
      '<wps:ProcessStarted percentCompleted="42">Buffering feature 42 of 100</wps:ProcessStarted>',
    );
    expect(executeResponse(running(100), ctx)).toContain('percentCompleted="99"');
    expect(executeResponse({ ...running(10), progress: 33.7 }, ctx)).toContain('percentCompleted="33"');
  });

  it('SUCCEEDED references the result location as an output, escaping & in the URL', () => {
    const xml = executeResponse(succeeded, ctx);
    expect(xml).toContain('<wps:ProcessSucceeded>');
    expect(xml).toMatch(
      /<wps:ProcessOutputs>\s*<wps:Output>\s*<ows:Identifier>result<\/ows:Identifier>\s*<ows:Title>Result<\/ows:Title>\s*<wps:Reference href="https:\/\/results.example\/r\?id=1&amp;format=gml"\/>/,
    );
    expect(xml).toContain('<wps:Status creationTime="2024-05-01T10:01:00.000Z">');
    expect(executeResponse(succeededWithoutResult, ctx)).not.toContain('ProcessOutputs');
  });

  it('FAILED carries the exception code and escaped text in an OWS exception report', () => {
    expect(executeResponse(failed, ctx)).toMatch(
      /<wps:ProcessFailed>\s*<ows:ExceptionReport version="1.1.0">\s*<ows:Exception exceptionCode="ProcessException">\s*<ows:ExceptionText>Geometry &lt;invalid&gt; &amp; self-intersecting<\/ows:ExceptionText>/,
    );
  });

  it('names the process and points at this API', () => {
    const xml = executeResponse(running(10), ctx);
    expect(xml).toMatch(/<wps:Process wps:processVersion="1.0.0">\s*<ows:Identifier>gs:Buffer<\/ows:Identifier>\s*<ows:Title>gs:Buffer<\/ows:Title>/);
    expect(xml).toContain('serviceInstance="https://api.example/ows?service=WPS&amp;request=GetCapabilities"');
    expect(xml).toContain(`statusLocation="https://api.example/ows?service=WPS&amp;version=1.0.0&amp;request=GetExecutionStatus&amp;executionId=${ID}"`);
    expect(xml).toContain('service="WPS" version="1.0.0" xml:lang="en"');
    expect(executeResponse(running(10), { ...ctx, lang: 'de-CH', processVersion: '2.1.0' })).toMatch(/xml:lang="de-CH"[\s\S]*wps:processVersion="2.1.0"/);
    expect(executeResponse(running(10), { ...ctx, lang: 'not a language!' })).toContain('xml:lang="en"');
  });

  it('stays valid whatever a node wrote into the texts', () => {
    const hostile = { ...running(10), processName: 'a"b<c>&d', task: 'bell \u0007 ]]> </wps:ProcessStarted> \uD800 tab\there' };
    const xml = executeResponse(hostile, ctx);
    expectValid(xml, 'wps1-execute-response');
    expect(xml).toContain('bell \uFFFD ]]&gt; &lt;/wps:ProcessStarted&gt; \uFFFD tab\there');
  });

  it('renders the same bytes for the same stored version (no clock in the document)', () => {
    expect(executeResponse(running(10), ctx)).toBe(executeResponse(running(10), ctx));
  });

  it.each([
    ['DISMISSING', dismissing],
    ['FAILED after a dismiss', failedAfterDismiss],
  ])('%s reads as an unknown execution', (_label, status) => {
    expect(isVisibleToWps1(status)).toBe(false);
    expect(() => executeResponse(status, ctx)).toThrow(OwsException);
    try {
      executeResponse(status, ctx);
    } catch (error) {
      expect(error).toMatchObject({ exceptionCode: 'NoApplicableCode', locator: ID, wpsVersion: '1.0.0' });
    }
  });
});

describe('executionStatusResponse', () => {
  it('answers 200 text/xml with the document', () => {
    expect(executionStatusResponse(ID, running(10), ctx)).toMatchObject({ statusCode: 200, contentType: 'text/xml; charset=UTF-8' });
  });

  it.each([
    ['an unknown id', undefined],
    ['a DISMISSING id', dismissing],
    ['a dismissed id', failedAfterDismiss],
  ])('answers %s with an OWS 1.1 report naming the id, with HTTP 200 as GeoServer does', (_label, status) => {
    const response = executionStatusResponse(ID, status, ctx);
    expect(response.statusCode).toBe(200);
    expectValid(response.body, 'ows11');
    expect(response.body).toContain(`<ows:Exception exceptionCode="NoApplicableCode" locator="${ID}">`);
    expect(response.body).toContain(`Unknown execution id ${ID}`);
  });
});

describe('dismissResponse', () => {
  it.each([
    ['a running job (now DISMISSING)', dismissing],
    ['a completed job (removed)', succeeded],
  ])('reports %s as failed with the dismissal, and validates', (_label, status) => {
    const xml = dismissResponse(status, ctx);
    expectValid(xml, 'wps1-execute-response');
    expect(xml).toMatch(/<wps:ProcessFailed>\s*<ows:ExceptionReport version="1.1.0">\s*<ows:Exception exceptionCode="Dismissed">/);
    expect(xml).not.toContain('ProcessOutputs');
  });

  // The dismiss of a completed job removes it with its results (GeoServer's rule); its answer
  // must not claim the client stopped it before it completed, as the OGC API answer does not.
  it.each([
    ['succeeded', succeeded],
    ['failed', failed],
  ])('says a %s job it removed had already completed, not that it was dismissed before completing', (_label, status) => {
    const xml = dismissResponse(status, ctx);
    expectValid(xml, 'wps1-execute-response');
    expect(xml).not.toContain('before it completed');
    expect(xml).toMatch(/<ows:ExceptionText>[^<]*already completed[^<]*removed[^<]*<\/ows:ExceptionText>/);
  });

  it('says a job still running was dismissed before it completed', () => {
    expect(dismissResponse(dismissing, ctx)).toContain('<ows:ExceptionText>The execution was dismissed by a client before it completed</ows:ExceptionText>');
  });
});

describe('OWS 1.1 exception reports', () => {
  it.each([
    ['MissingParameterValue', 'executionId', 400, 200],
    ['InvalidParameterValue', 'version', 400, 200],
    ['OperationNotSupported', 'GetCapabilities', 501, 200],
    ['NoApplicableCode', undefined, 400, 200],
    // A failure of our own keeps its 5xx: HTTP tooling alarms and retries on it.
    ['NoApplicableCode', undefined, 500, 500],
    ['NoApplicableCode', undefined, 503, 503],
  ] as const)('%s (locator %s, status %i) validates, names its locator and is sent with HTTP %i', (code, locator, errorStatus, httpStatus) => {
    const response = wps1ExceptionResponse(new OwsException(code, locator, 'Something about <this> & that', '1.0.0', errorStatus));
    expect(response.statusCode).toBe(httpStatus);
    expectValid(response.body, 'ows11');
    expect(response.body).toMatch(/<ows:ExceptionReport [^>]*version="1.1.0"/);
    if (locator) expect(response.body).toContain(`locator="${locator}"`);
    else expect(response.body).not.toContain('locator=');
    expect(response.body).toContain('<ows:ExceptionText>Something about &lt;this&gt; &amp; that</ows:ExceptionText>');
  });

  it('the unknown-id exception renders as NoApplicableCode with HTTP 200', () => {
    const response = wps1ExceptionResponse(unknownExecution('x&y', '1.0.0'));
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('exceptionCode="NoApplicableCode" locator="x&amp;y"');
    expectValid(response.body, 'ows11');
  });
});

describe('wps1Context', () => {
  it("builds GeoServer's statusLocation URL on this API, encoding the id", () => {
    const built = wps1Context('https://api.example/ows', 'a b&c');
    expect(built.statusLocation).toBe(
      'https://api.example/ows?service=WPS&version=1.0.0&request=GetExecutionStatus&executionId=a%20b%26c',
    );
    expect(built.serviceInstance).toBe('https://api.example/ows?service=WPS&version=1.0.0&request=GetCapabilities');
    expect(wps1Context('https://api.example/ows', ID, { serviceInstance: 'https://geoserver.example/wps' }).serviceInstance).toBe(
      'https://geoserver.example/wps',
    );
    expectValid(executeResponse(running(10), built), 'wps1-execute-response');
  });
});
