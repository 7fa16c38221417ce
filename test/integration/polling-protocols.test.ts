/**
 * The standard polling protocols over real HTTP against the local cluster: a node writes an
 * execution's status through the node API, and a WPS 1.0.0 client (statusLocation), a WPS 2.0
 * client (GetStatus) and an OGC API - Processes client (/jobs) poll it at every step. Every XML
 * answer, documents and exception reports alike, is validated against the official OGC schemas
 * (xmllint, offline catalog); every JSON answer against the OGC API - Processes 1.0 schemas.
 *
 * The status table is shared with every other integration test file, so each test uses its own
 * execution ids and, where it lists, a processID unique to this run and test.
 */
import { randomUUID } from 'node:crypto';
import { buildOpenApiDocument } from '../../api/openapi';
import { api, clusterUrl, tokenOf, type ApiResponse, type JsonBody } from '../support/cluster-client';
import { validateOgc, type OgcSchemaName } from '../support/ogcapi-schemas';
import { namespaceBombXml } from '../support/hostile-xml';
import { assertXmllintAvailable, validateXml, type SchemaName } from '../support/xml-schema';

jest.setTimeout(60_000);
beforeAll(() => assertXmllintAvailable());

const RUN = randomUUID().slice(0, 8);
const uniqueProcess = (label: string) => `test:polling-${label}-${RUN}-${randomUUID().slice(0, 8)}`;
const NO_SUCH_JOB = 'http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-job';
const RESULT_NOT_READY = 'http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/result-not-ready';
const REL_RESULTS = 'http://www.opengis.net/def/rel/ogc/1.0/results';
/** cdk.json: status.defaultRetryAfterSeconds. */
const DEFAULT_RETRY_AFTER = '5';

// ---------------------------------------------------------------------------------------------
// Node side: writes through the node API
// ---------------------------------------------------------------------------------------------

async function write(id: string, json: JsonBody<'PUT', `/executions/${string}`>, expected = 200): Promise<any> {
  const response = await api('PUT', `/executions/${encodeURIComponent(id)}`, { node: 'master-1', json });
  if (response.status !== expected) {
    throw new Error(`PUT ${id} ${JSON.stringify(json)}: expected ${expected}, got ${response.status} ${response.text}`);
  }
  return response.body;
}

async function create(processName: string, fields: Record<string, unknown> = {}): Promise<string> {
  const id = randomUUID();
  await write(id, { phase: 'QUEUED', processName, ...fields }, 201);
  return id;
}

// ---------------------------------------------------------------------------------------------
// Client side: the three protocols
// ---------------------------------------------------------------------------------------------

const wps1Url = (id: string) => `/ows?service=WPS&version=1.0.0&request=GetExecutionStatus&executionId=${encodeURIComponent(id)}`;
const wps2Url = (id: string) => `/ows?service=WPS&version=2.0.0&request=GetStatus&jobID=${encodeURIComponent(id)}`;
const jobUrl = (id: string) => `/jobs/${encodeURIComponent(id)}`;

/** A GET as a client sends it; the job list needs a token (here the read-only operator's), polls do not. */
const get = (path: string, headers?: Record<string, string>) =>
  api('GET', path, { headers, token: /^\/jobs(\?|$)/.test(path) ? tokenOf('ops') : undefined });

function postXml(xml: string, headers: Record<string, string> = {}): Promise<ApiResponse> {
  return api('POST', '/ows', { body: xml, headers: { 'content-type': 'text/xml', ...headers } });
}

const getStatusXml = (id: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<wps:GetStatus xmlns:wps="http://www.opengis.net/wps/2.0" service="WPS" version="2.0.0"><wps:JobID>${id}</wps:JobID></wps:GetStatus>`;
const dismissXml = (id: string) =>
  `<Dismiss xmlns="http://www.opengis.net/wps/2.0" service="WPS" version="2.0.0">\n  <JobID>${id}</JobID>\n</Dismiss>`;

/** The response is XML of the given official schema; returns the document. */
function expectXml(response: ApiResponse, schema: SchemaName, status = 200): string {
  expect({ status: response.status, type: response.headers.get('content-type') }).toEqual({ status, type: 'text/xml; charset=UTF-8' });
  const result = validateXml(response.text, schema);
  if (!result.valid) throw new Error(`not a valid ${schema} document: ${result.errors}\n--- document ---\n${response.text}`);
  return response.text;
}

/** The response is JSON of the given OGC API - Processes schema; returns the body. */
function expectOgc(response: ApiResponse, schema: OgcSchemaName, status = 200): any {
  expect({ status: response.status, type: response.headers.get('content-type') }).toEqual({ status, type: 'application/json' });
  const result = validateOgc(response.body, schema);
  if (!result.valid) throw new Error(`not a valid OGC ${schema}: ${result.errors}\n--- body ---\n${response.text}`);
  return response.body;
}

/** An OWS exception report (1.1 for WPS 1.0.0, 2.0 for WPS 2.0) with the given code and locator. */
function expectOwsException(response: ApiResponse, version: '1.1' | '2.0', status: number, code: string, locator?: string): string {
  const xml = expectXml(response, version === '1.1' ? 'ows11' : 'ows20', status);
  expect(attribute(xml, 'ows:Exception', 'exceptionCode')).toBe(code);
  expect(attribute(xml, 'ows:Exception', 'locator')).toBe(locator);
  expect(response.headers.get('cache-control')).toBe('no-store');
  return xml;
}

const unescapeXml = (value: string) =>
  value.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The first value of an attribute on an element, unescaped. The documents are ours and small. */
function attribute(xml: string, element: string, name: string): string | undefined {
  const tag = new RegExp(`<${element}(?=[\\s/>])[^>]*>`).exec(xml)?.[0];
  const value = tag ? new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1] : undefined;
  return value === undefined ? undefined : unescapeXml(value);
}

/** The text of the first element of that name, unescaped; undefined when absent. */
function text(xml: string, element: string): string | undefined {
  const value = new RegExp(`<${element}(?:\\s[^>]*)?>([^<]*)</${element}>`).exec(xml)?.[1];
  return value === undefined ? undefined : unescapeXml(value);
}

const has = (xml: string, element: string) => new RegExp(`<${element}[\\s/>]`).test(xml);

/** A URL with its query decoded, so `a,b` and `a%2Cb` compare equal. */
function normalised(href: string | undefined): { base: string; query: [string, string][] } | undefined {
  if (href === undefined) return undefined;
  const url = new URL(href);
  return { base: `${url.origin}${url.pathname}`, query: [...url.searchParams].sort(([a], [b]) => a.localeCompare(b)) };
}

/** A link's absolute URL as a path on the cluster. */
function pathOf(href: string): string {
  expect(href.startsWith(`${clusterUrl()}/`)).toBe(true);
  return href.slice(clusterUrl().length);
}

// ---------------------------------------------------------------------------------------------
// Polling one step through all three protocols
// ---------------------------------------------------------------------------------------------

interface Expected {
  processName: string;
  wps1: 'ProcessAccepted' | 'ProcessStarted' | 'ProcessSucceeded' | 'ProcessFailed';
  wps2: 'Accepted' | 'Running' | 'Succeeded' | 'Failed' | 'Dismissed';
  ogc: 'accepted' | 'running' | 'successful' | 'failed' | 'dismissed';
  progress: number;
  /** Expected Retry-After, or a [min, max] range, while the job is active. */
  retryAfter?: string | [number, number];
  resultLocation?: string;
  exception?: { code: string; message: string };
  /** WPS 1.0.0 forgets a dismissed execution. */
  wps1Unknown?: boolean;
}

function expectPollHeaders(response: ApiResponse, expected: Expected): string {
  const etag = response.headers.get('etag');
  expect(etag).toMatch(/^W\/"[^"]+"$/);
  const active = expected.retryAfter !== undefined;
  const retryAfter = response.headers.get('retry-after');
  if (!active) {
    expect(retryAfter).toBeNull();
    if (expected.ogc === 'dismissed') expect(response.headers.get('cache-control')).toMatch(/^public, /);
    else expect(response.headers.get('cache-control')).toBe('public, max-age=300');
  } else {
    expect(response.headers.get('cache-control')).toBe('public, no-cache');
    if (typeof expected.retryAfter === 'string') expect(retryAfter).toBe(expected.retryAfter);
    else {
      const [min, max] = expected.retryAfter!;
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(min);
      expect(Number(retryAfter)).toBeLessThanOrEqual(max);
    }
  }
  return etag!;
}

/** Polls again with the ETag: 304, no body, the same validators. */
async function expectNotModified(path: string, etag: string, expected: Expected): Promise<void> {
  const again = await get(path, { 'if-none-match': etag });
  expect(again.status).toBe(304);
  expect(again.text).toBe('');
  expect(again.headers.get('etag')).toBe(etag);
  if (expected.retryAfter === undefined) expect(again.headers.get('retry-after')).toBeNull();
  else expect(again.headers.get('retry-after')).not.toBeNull();
  // Another tag (or a list of others) is not a match.
  expect((await get(path, { 'if-none-match': 'W/"other", "more"' })).status).toBe(200);
}

async function pollAll(id: string, expected: Expected): Promise<void> {
  const base = clusterUrl();

  // WPS 1.0.0: the statusLocation URL.
  const first = await get(wps1Url(id));
  if (expected.wps1Unknown) {
    expectOwsException(first, '1.1', 200, 'NoApplicableCode', id);
  } else {
    const xml = expectXml(first, 'wps1-execute-response');
    expect(attribute(xml, 'wps:ExecuteResponse', 'statusLocation')).toBe(`${base}${wps1Url(id)}`);
    expect(attribute(xml, 'wps:ExecuteResponse', 'serviceInstance')).toMatch(new RegExp(`^${base}/ows\\?`));
    expect(text(xml, 'ows:Identifier')).toBe(expected.processName);
    expect(attribute(xml, 'wps:Process', 'wps:processVersion')).toBeDefined();
    expect(Date.parse(attribute(xml, 'wps:Status', 'creationTime') ?? '')).not.toBeNaN();
    for (const phase of ['ProcessAccepted', 'ProcessStarted', 'ProcessSucceeded', 'ProcessFailed']) {
      expect({ phase, present: has(xml, `wps:${phase}`) }).toEqual({ phase, present: phase === expected.wps1 });
    }
    if (expected.wps1 === 'ProcessStarted') {
      expect(attribute(xml, 'wps:ProcessStarted', 'percentCompleted')).toBe(String(Math.min(99, expected.progress)));
    }
    if (expected.resultLocation !== undefined) {
      expect(attribute(xml, 'wps:Reference', 'href')).toBe(expected.resultLocation);
    } else {
      expect(has(xml, 'wps:ProcessOutputs')).toBe(false);
    }
    if (expected.exception) {
      expect(attribute(xml, 'ows:Exception', 'exceptionCode')).toBe(expected.exception.code);
      expect(text(xml, 'ows:ExceptionText')).toBe(expected.exception.message);
    }
    await expectNotModified(wps1Url(id), expectPollHeaders(first, expected), expected);
  }

  // WPS 2.0: GetStatus.
  const second = await get(wps2Url(id));
  const info = expectXml(second, 'wps2');
  expect(text(info, 'wps:JobID')).toBe(id);
  expect(text(info, 'wps:Status')).toBe(expected.wps2);
  const percent = expected.wps2 === 'Running' ? String(expected.progress) : expected.wps2 === 'Succeeded' ? '100' : undefined;
  expect(text(info, 'wps:PercentCompleted')).toBe(percent);
  const nextPoll = text(info, 'wps:NextPoll');
  if (expected.retryAfter === undefined) expect(nextPoll).toBeUndefined();
  else {
    // NextPoll and Retry-After tell the same instant.
    const seconds = (Date.parse(nextPoll ?? '') - Date.now()) / 1000;
    expect(Math.abs(seconds - Number(second.headers.get('retry-after')))).toBeLessThan(2.5);
  }
  await expectNotModified(wps2Url(id), expectPollHeaders(second, expected), expected);

  // OGC API - Processes: the job.
  const third = await get(jobUrl(id));
  const job = expectOgc(third, 'statusInfo');
  expect(job).toMatchObject({ jobID: id, status: expected.ogc, type: 'process', processID: expected.processName, progress: expected.progress });
  expect(job.links).toContainEqual(expect.objectContaining({ rel: 'self', href: `${base}${jobUrl(id)}` }));
  const resultsLink = job.links.find((link: any) => link.rel === REL_RESULTS);
  expect(resultsLink?.href).toBe(expected.ogc === 'successful' ? `${base}${jobUrl(id)}/results` : undefined);
  expect(Date.parse(job.created)).not.toBeNaN();
  expect(Date.parse(job.updated)).not.toBeNaN();
  expect(job.started === undefined).toBe(expected.ogc === 'accepted');
  // A dismissed job has finished once its node stopped it, not while it is stopping.
  if (expected.ogc !== 'dismissed') expect(job.finished !== undefined).toBe(expected.ogc === 'successful' || expected.ogc === 'failed');
  if (expected.exception) expect(job.message).toBe(expected.exception.message);
  await expectNotModified(jobUrl(id), expectPollHeaders(third, expected), expected);

  // OGC API - Processes: the results.
  const results = await get(`${jobUrl(id)}/results`);
  switch (expected.ogc) {
    case 'accepted':
    case 'running': {
      expect(expectOgc(results, 'exception', 404)).toMatchObject({ type: RESULT_NOT_READY, status: 404 });
      expect(results.headers.get('retry-after')).not.toBeNull();
      break;
    }
    case 'successful':
      expect(expectOgc(results, 'results')).toEqual(
        expected.resultLocation === undefined ? {} : { result: { href: expected.resultLocation, title: 'Result' } },
      );
      expect(results.headers.get('etag')).toBe(third.headers.get('etag'));
      break;
    case 'failed':
      expect(expectOgc(results, 'exception', 400)).toMatchObject({ title: expected.exception?.code, detail: expected.exception?.message });
      break;
    case 'dismissed':
      expect(expectOgc(results, 'exception', 410)).toMatchObject({ status: 410 });
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// Lifecycles, polled at every step
// ---------------------------------------------------------------------------------------------

describe('an execution polled through WPS 1.0.0, WPS 2.0 and OGC API - Processes at every step', () => {
  test('QUEUED, RUNNING 10 %, 50 %, 90 %, SUCCEEDED with a result location', async () => {
    const processName = uniqueProcess('succeeds');
    const id = await create(processName);
    await pollAll(id, { processName, wps1: 'ProcessAccepted', wps2: 'Accepted', ogc: 'accepted', progress: 0, retryAfter: DEFAULT_RETRY_AFTER });

    await write(id, { phase: 'RUNNING', progress: 10, task: 'Buffering features' });
    await pollAll(id, { processName, wps1: 'ProcessStarted', wps2: 'Running', ogc: 'running', progress: 10, retryAfter: DEFAULT_RETRY_AFTER });

    // The node's nextPoll hint becomes Retry-After and NextPoll.
    const nextPoll = new Date(Date.now() + 30_000).toISOString();
    await write(id, { phase: 'RUNNING', progress: 50, nextPoll });
    await pollAll(id, { processName, wps1: 'ProcessStarted', wps2: 'Running', ogc: 'running', progress: 50, retryAfter: [25, 30] });
    expect(text((await get(wps2Url(id))).text, 'wps:NextPoll')).toBe(nextPoll);

    await write(id, { phase: 'RUNNING', progress: 90, nextPoll: new Date(Date.now() - 1000).toISOString() });
    // A nextPoll in the past is ignored: the default applies.
    await pollAll(id, { processName, wps1: 'ProcessStarted', wps2: 'Running', ogc: 'running', progress: 90, retryAfter: DEFAULT_RETRY_AFTER });

    const resultLocation = `https://results.example/wps?id=${id}&format=application/gml+xml`;
    await write(id, { phase: 'SUCCEEDED', resultLocation });
    await pollAll(id, { processName, wps1: 'ProcessSucceeded', wps2: 'Succeeded', ogc: 'successful', progress: 100, resultLocation });
  });

  test('QUEUED, RUNNING, FAILED with the exception the node reported', async () => {
    const processName = uniqueProcess('fails');
    const id = await create(processName);
    await pollAll(id, { processName, wps1: 'ProcessAccepted', wps2: 'Accepted', ogc: 'accepted', progress: 0, retryAfter: DEFAULT_RETRY_AFTER });
    await write(id, { phase: 'RUNNING', progress: 10 });
    await pollAll(id, { processName, wps1: 'ProcessStarted', wps2: 'Running', ogc: 'running', progress: 10, retryAfter: DEFAULT_RETRY_AFTER });
    await write(id, { phase: 'RUNNING', progress: 50 });
    await pollAll(id, { processName, wps1: 'ProcessStarted', wps2: 'Running', ogc: 'running', progress: 50, retryAfter: DEFAULT_RETRY_AFTER });
    // Markup in the message must arrive as text, not break the documents.
    const exception = { code: 'ProcessException', message: 'Geometry <gml:Polygon> & "friends" self-intersects' };
    await write(id, { phase: 'FAILED', exception });
    await pollAll(id, { processName, wps1: 'ProcessFailed', wps2: 'Failed', ogc: 'failed', progress: 50, exception });
  });

  test('QUEUED, RUNNING 50 %, DISMISSED by an OGC API client, then stopped by its node', async () => {
    const processName = uniqueProcess('dismissed');
    const id = await create(processName);
    await pollAll(id, { processName, wps1: 'ProcessAccepted', wps2: 'Accepted', ogc: 'accepted', progress: 0, retryAfter: DEFAULT_RETRY_AFTER });
    await write(id, { phase: 'RUNNING', progress: 50 });
    await pollAll(id, { processName, wps1: 'ProcessStarted', wps2: 'Running', ogc: 'running', progress: 50, retryAfter: DEFAULT_RETRY_AFTER });

    const dismissed = await api('DELETE', jobUrl(id));
    expect(expectOgc(dismissed, 'statusInfo')).toMatchObject({ jobID: id, status: 'dismissed' });
    expect(dismissed.headers.get('cache-control')).toBe('no-store');
    // Still stopping: every protocol already says dismissed (WPS 1.0.0 by forgetting it).
    const whileStopping: Expected = { processName, wps1: 'ProcessFailed', wps2: 'Dismissed', ogc: 'dismissed', progress: 50, wps1Unknown: true };
    await pollAll(id, whileStopping);
    // A second dismiss of a job still stopping is 410.
    expect(expectOgc(await api('DELETE', jobUrl(id)), 'exception', 410)).toMatchObject({ status: 410 });

    // The node learns of the dismiss on its next write and stops the job.
    expect((await api('PUT', `/executions/${id}`, { node: 'master-1', json: { phase: 'RUNNING', progress: 60 } })).status).toBe(409);
    await write(id, { phase: 'FAILED' });
    await pollAll(id, whileStopping);
    expect(expectOgc(await api('DELETE', jobUrl(id)), 'exception', 410)).toMatchObject({ status: 410 });
  });
});

// ---------------------------------------------------------------------------------------------
// WPS requests: KVP, XML bodies, dismiss, errors
// ---------------------------------------------------------------------------------------------

describe('WPS over /ows', () => {
  test('KVP keys are case-insensitive and the version may be left out', async () => {
    const id = await create(uniqueProcess('kvp'));
    expectXml(await get(`/ows?SERVICE=WPS&Request=GetExecutionStatus&executionid=${id}`), 'wps1-execute-response');
    expectXml(await get(`/ows?Service=wps&REQUEST=getexecutionstatus&VERSION=1.0.0&EXECUTIONID=${id}`), 'wps1-execute-response');
    const info = expectXml(await get(`/ows?service=WPS&request=GetStatus&JOBID=${id}`), 'wps2');
    expect(text(info, 'wps:JobID')).toBe(id);
    expectXml(await get(`/ows?sErViCe=WPS&vErSiOn=2.0.0&rEqUeSt=GetStatus&jobId=${id}`), 'wps2');
  });

  test.each([
    ['no parameters', '/ows', '1.1', 200, 'MissingParameterValue', 'service'],
    ['no service', '/ows?request=GetExecutionStatus&executionId=x', '1.1', 200, 'MissingParameterValue', 'service'],
    ['another service', '/ows?service=WMS&request=GetExecutionStatus&executionId=x', '1.1', 200, 'InvalidParameterValue', 'service'],
    ['no request', '/ows?service=WPS&executionId=x', '1.1', 200, 'MissingParameterValue', 'request'],
    ['no executionId', '/ows?service=WPS&version=1.0.0&request=GetExecutionStatus', '1.1', 200, 'MissingParameterValue', 'executionId'],
    ['an empty executionId', '/ows?service=WPS&request=GetExecutionStatus&executionId=', '1.1', 200, 'MissingParameterValue', 'executionId'],
    ['no jobID', '/ows?service=WPS&version=2.0.0&request=GetStatus', '2.0', 400, 'MissingParameterValue', 'jobID'],
    ['a bad version', '/ows?service=WPS&version=3.0.0&request=GetStatus&jobID=x', '2.0', 400, 'InvalidParameterValue', 'version'],
    ['GetStatus in 1.0.0', '/ows?service=WPS&version=1.0.0&request=GetStatus&jobID=x', '1.1', 200, 'OperationNotSupported', 'GetStatus'],
    ['GetCapabilities', '/ows?service=WPS&version=1.0.0&request=GetCapabilities', '1.1', 200, 'OperationNotSupported', 'GetCapabilities'],
    ['an unknown operation', '/ows?service=WPS&request=Frobnicate', '1.1', 200, 'OperationNotSupported', 'Frobnicate'],
    // Not read as the one id "k1,k2", as API Gateway's joined queryStringParameters would have it.
    ['one key twice with two values', '/ows?service=WPS&request=GetStatus&jobID=k1&jobID=k2', '2.0', 400, 'InvalidParameterValue', 'jobID'],
    ['executionId twice', '/ows?service=WPS&request=GetExecutionStatus&executionId=a&executionId=b', '1.1', 200, 'InvalidParameterValue', 'executionId'],
  ] as const)('%s: an OWS exception naming it', async (_label, path, version, status, code, locator) => {
    expectOwsException(await get(path), version, status, code, locator);
  });

  test('an unknown id is a 404 exception with the id as locator, in each version', async () => {
    const id = randomUUID();
    expectOwsException(await get(wps1Url(id)), '1.1', 200, 'NoApplicableCode', id);
    expectOwsException(await get(wps2Url(id)), '2.0', 400, 'NoSuchJob', id);
    expectOwsException(await get(`/ows?service=WPS&version=1.0.0&request=Dismiss&executionId=${id}`), '1.1', 200, 'NoApplicableCode', id);
    expectOwsException(await get(`/ows?service=WPS&version=2.0.0&request=Dismiss&jobID=${id}`), '2.0', 400, 'NoSuchJob', id);
    expectOwsException(await postXml(getStatusXml(id)), '2.0', 400, 'NoSuchJob', id);
    // An id no node could have written is just as unknown (and costs no table read).
    const odd = 'not an id with spaces';
    expectOwsException(await get(wps2Url(odd)), '2.0', 400, 'NoSuchJob', odd);
  });

  test('POST of XML GetStatus answers like the KVP request, in any namespace prefix', async () => {
    const id = await create(uniqueProcess('post'));
    await write(id, { phase: 'RUNNING', progress: 42 });
    const response = await postXml(getStatusXml(id));
    const info = expectXml(response, 'wps2');
    expect(text(info, 'wps:Status')).toBe('Running');
    expect(text(info, 'wps:PercentCompleted')).toBe('42');
    // The same state's validator; the NextPoll instant folded into it (etagWithInstant) is the
    // second each request was answered in, which two requests may not share.
    const stateOf = (etag: string | null) => etag?.replace(/:t[0-9a-z]+"$/, '"');
    expect(stateOf(response.headers.get('etag'))).toMatch(/^W\/"[^"]+:\d+:[0-9a-z]+"$/);
    expect(stateOf(response.headers.get('etag'))).toBe(stateOf((await get(wps2Url(id))).headers.get('etag')));
    expect(response.headers.get('retry-after')).toBe(DEFAULT_RETRY_AFTER);
    // A POST is never answered 304.
    expect((await postXml(getStatusXml(id), { 'if-none-match': response.headers.get('etag')! })).status).toBe(200);

    const prefixed = `<w:GetStatus xmlns:w="http://www.opengis.net/wps/2.0" service="WPS" version="2.0.0"><w:JobID> ${id} </w:JobID></w:GetStatus>`;
    expect(text(expectXml(await postXml(prefixed, { 'content-type': 'application/xml' }), 'wps2'), 'wps:JobID')).toBe(id);
    // The request documents themselves are valid WPS 2.0.
    expect(validateXml(getStatusXml(id), 'wps2')).toEqual({ valid: true, errors: '' });
    expect(validateXml(dismissXml(id), 'wps2')).toEqual({ valid: true, errors: '' });
    // The form-encoded KVP works too.
    const form = await api('POST', '/ows', {
      body: `service=WPS&version=2.0.0&request=GetStatus&jobID=${id}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(text(expectXml(form, 'wps2'), 'wps:JobID')).toBe(id);
  });

  test.each([
    ['not XML', 'jobID=1', 400, 'NoApplicableCode', undefined],
    ['malformed XML', '<wps:GetStatus xmlns:wps="http://www.opengis.net/wps/2.0"', 400, 'NoApplicableCode', undefined],
    ['an entity named constructor', '<GetStatus xmlns="http://www.opengis.net/wps/2.0" service="WPS" version="2.0.0"><JobID>&constructor;</JobID></GetStatus>', 400, 'NoApplicableCode', undefined],
    ['a malformed comment', '<!--><GetStatus xmlns="http://www.opengis.net/wps/2.0" service="WPS" version="2.0.0"><JobID>x</JobID></GetStatus>', 400, 'NoApplicableCode', undefined],
    ['the xml prefix rebound', '<GetStatus xmlns="http://www.opengis.net/wps/2.0" xmlns:xml="urn:x" service="WPS" version="2.0.0"><JobID>x</JobID></GetStatus>', 400, 'NoApplicableCode', undefined],
    ['a DOCTYPE', '<!DOCTYPE x [<!ENTITY e "boom">]><GetStatus xmlns="http://www.opengis.net/wps/2.0" service="WPS" version="2.0.0"><JobID>&e;</JobID></GetStatus>', 400, 'NoApplicableCode', undefined],
    ['Execute', '<wps:Execute xmlns:wps="http://www.opengis.net/wps/2.0" service="WPS" version="2.0.0"/>', 501, 'OperationNotSupported', 'Execute'],
    ['no JobID', '<wps:GetStatus xmlns:wps="http://www.opengis.net/wps/2.0" service="WPS" version="2.0.0"/>', 400, 'MissingParameterValue', 'JobID'],
    ['no version', '<wps:GetStatus xmlns:wps="http://www.opengis.net/wps/2.0" service="WPS"><wps:JobID>x</wps:JobID></wps:GetStatus>', 400, 'MissingParameterValue', 'version'],
    ['a WPS 1.0.0 version', '<wps:Dismiss xmlns:wps="http://www.opengis.net/wps/2.0" service="WPS" version="1.0.0"><wps:JobID>x</wps:JobID></wps:Dismiss>', 400, 'InvalidParameterValue', 'version'],
  ] as const)('POST of %s: an OWS 2.0 exception', async (_label, body, status, code, locator) => {
    expectOwsException(await postXml(body), '2.0', status, code, locator);
  });

  test('POST of an XML request in UTF-16 (either byte order) or in a declared ISO-8859-1 answers like UTF-8; bytes that do not decode are an OWS exception', async () => {
    const id = await create(uniqueProcess('encodings'));
    const declared = (encoding: string) => getStatusXml(id).replace('encoding="UTF-8"', `encoding="${encoding}"`);
    const utf16le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(declared('UTF-16'), 'utf16le')]);
    const utf16be = Buffer.from(utf16le.subarray(2)).swap16();
    const bodies: [string, Uint8Array][] = [
      ['UTF-16LE with a BOM', utf16le],
      ['UTF-16BE with a BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be])],
      ['UTF-16BE without one', utf16be],
      ['ISO-8859-1, declared', Buffer.from(declared('ISO-8859-1').replace('<wps:JobID>', '<!-- café --><wps:JobID>'), 'latin1')],
    ];
    for (const [, body] of bodies) {
      const answer = await api('POST', '/ows', { body, headers: { 'content-type': 'application/xml' } });
      expect(text(expectXml(answer, 'wps2'), 'wps:JobID')).toBe(id);
    }
    // Latin-1 bytes in a document that declares nothing (UTF-8, then) or a label no decoder knows.
    const latin1 = Buffer.from(getStatusXml(id).replace('<wps:JobID>', '<!-- café --><wps:JobID>'), 'latin1');
    const undecodable = await api('POST', '/ows', { body: latin1, headers: { 'content-type': 'application/xml' } });
    expect(expectOwsException(undecodable, '2.0', 400, 'NoApplicableCode')).toContain('not valid utf-8 text');
    const unknown = await api('POST', '/ows', { body: Buffer.from(declared('X-MADE-UP'), 'latin1'), headers: { 'content-type': 'application/xml' } });
    expect(expectOwsException(unknown, '2.0', 400, 'NoApplicableCode')).toContain('"x-made-up"');
  });

  test('the namespace-declaration bomb is refused with an OWS exception naming the limit, and polls still answer', async () => {
    const id = await create(uniqueProcess('bomb'));
    const bomb = namespaceBombXml(id);
    expect(Buffer.byteLength(bomb)).toBeLessThanOrEqual(64 * 1024);
    // Six at once, as in the report, with a poll beside them: nothing times out or fails.
    const [poll, ...refused] = await Promise.all([postXml(getStatusXml(id)), ...Array.from({ length: 6 }, () => postXml(bomb))]);
    for (const response of refused) {
      const xml = expectOwsException(response, '2.0', 400, 'NoApplicableCode');
      expect(xml).toContain('maxAttributesPerElement');
    }
    expect(text(expectXml(poll!, 'wps2'), 'wps:JobID')).toBe(id);
  });

  test('WPS 2.0 GetResult (KVP and POST): ResultNotReady while the job runs, then the result location as output; a failed job tells why', async () => {
    const resultUrl = (id: string) => `/ows?service=WPS&version=2.0.0&request=GetResult&jobID=${encodeURIComponent(id)}`;
    const getResultXml = (id: string) =>
      `<wps:GetResult xmlns:wps="http://www.opengis.net/wps/2.0" service="WPS" version="2.0.0"><wps:JobID>${id}</wps:JobID></wps:GetResult>`;
    const id = await create(uniqueProcess('result2'));
    expectOwsException(await get(resultUrl(id)), '2.0', 400, 'ResultNotReady', id);
    await write(id, { phase: 'RUNNING', progress: 60 });
    expectOwsException(await postXml(getResultXml(id)), '2.0', 400, 'ResultNotReady', id);
    await write(id, { phase: 'SUCCEEDED', resultLocation: 'https://results.example/r?a=1&b=2' });
    for (const response of [await get(resultUrl(id)), await postXml(getResultXml(id))]) {
      const xml = expectXml(response, 'wps2');
      expect(text(xml, 'wps:JobID')).toBe(id);
      expect(attribute(xml, 'wps:Output', 'id')).toBe('result');
      expect(attribute(xml, 'wps:Reference', 'xlink:href')).toBe('https://results.example/r?a=1&b=2');
    }
    // A finished result is polled like a status: revalidated with its ETag.
    const etag = (await get(resultUrl(id))).headers.get('etag')!;
    expect((await get(resultUrl(id), { 'if-none-match': etag })).status).toBe(304);

    const failedId = await create(uniqueProcess('result2-failed'));
    await write(failedId, { phase: 'FAILED', exception: { code: 'ProcessException', message: 'Buffer distance is negative' } });
    const failure = expectOwsException(await get(resultUrl(failedId)), '2.0', 400, 'NoApplicableCode', failedId);
    expect(text(failure, 'ows:ExceptionText')).toContain('ProcessException: Buffer distance is negative');

    const unknownId = randomUUID();
    expectOwsException(await get(resultUrl(unknownId)), '2.0', 400, 'NoSuchJob', unknownId);
    expectOwsException(await get(`/ows?service=WPS&version=1.0.0&request=GetResult&jobID=${id}`), '1.1', 200, 'OperationNotSupported', 'GetResult');
  });

  test('WPS 2.0 Dismiss (KVP, then again): StatusInfo with Dismissed each time', async () => {
    const id = await create(uniqueProcess('dismiss2'));
    await write(id, { phase: 'RUNNING', progress: 30 });
    const kvp = `/ows?service=WPS&version=2.0.0&request=Dismiss&jobID=${id}`;
    const first = await get(kvp);
    expect(text(expectXml(first, 'wps2'), 'wps:Status')).toBe('Dismissed');
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(first.headers.get('etag')).toBeNull();
    // A client retrying after a lost answer gets the same answer.
    expect(text(expectXml(await get(kvp), 'wps2'), 'wps:Status')).toBe('Dismissed');
    expect(text(expectXml(await get(wps2Url(id)), 'wps2'), 'wps:Status')).toBe('Dismissed');
    expect((await api('GET', `/executions/${id}`)).body).toMatchObject({ phase: 'DISMISSING', dismissed: true });
  });

  test('WPS 2.0 Dismiss as a POSTed XML body; a finished job is then gone', async () => {
    const id = await create(uniqueProcess('dismiss-post'));
    await write(id, { phase: 'RUNNING', progress: 30 });
    await write(id, { phase: 'SUCCEEDED', resultLocation: 'https://results.example/r' });
    expect(text(expectXml(await postXml(dismissXml(id)), 'wps2'), 'wps:Status')).toBe('Dismissed');
    expectOwsException(await get(wps2Url(id)), '2.0', 400, 'NoSuchJob', id);
    expectOwsException(await postXml(dismissXml(id)), '2.0', 400, 'NoSuchJob', id);
    expect(expectOgc(await get(jobUrl(id)), 'exception', 404)).toMatchObject({ type: NO_SUCH_JOB });
  });

  test("GeoServer's WPS 1.0.0 vendor Dismiss: the document reports the dismissal, then the id is unknown", async () => {
    const processName = uniqueProcess('dismiss1');
    const id = await create(processName);
    await write(id, { phase: 'RUNNING', progress: 20 });
    const response = await get(`/ows?service=WPS&version=1.0.0&request=Dismiss&executionId=${id}`);
    const xml = expectXml(response, 'wps1-execute-response');
    expect(has(xml, 'wps:ProcessFailed')).toBe(true);
    expect(attribute(xml, 'ows:Exception', 'exceptionCode')).toBe('Dismissed');
    expect(text(xml, 'ows:Identifier')).toBe(processName);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expectOwsException(await get(wps1Url(id)), '1.1', 200, 'NoApplicableCode', id);
    expectOwsException(await get(`/ows?service=WPS&request=Dismiss&executionId=${id}`), '1.1', 200, 'NoApplicableCode', id);
    // WPS 2.0 and OGC API clients still see it, as dismissed.
    expect(text(expectXml(await get(wps2Url(id)), 'wps2'), 'wps:Status')).toBe('Dismissed');
    expect(expectOgc(await get(jobUrl(id)), 'statusInfo')).toMatchObject({ status: 'dismissed' });
  });

  test('URLs in documents follow the scheme the request came in on, not an x-forwarded-proto the client sent', async () => {
    // API Gateway sets x-forwarded-proto itself (https); the local API, plain HTTP, sets http.
    // That https URLs follow from API Gateway's header is test/unit/shared/http.test.ts's.
    const id = await create(uniqueProcess('proto'));
    const xml = expectXml(await get(wps1Url(id), { 'x-forwarded-proto': 'https' }), 'wps1-execute-response');
    const host = new URL(clusterUrl()).host;
    expect(attribute(xml, 'wps:ExecuteResponse', 'statusLocation')).toBe(`http://${host}${wps1Url(id)}`);
    const job = expectOgc(await get(jobUrl(id), { 'x-forwarded-proto': 'https' }), 'statusInfo');
    expect(job.links[0].href).toBe(`http://${host}${jobUrl(id)}`);
  });
});

// ---------------------------------------------------------------------------------------------
// OGC API - Processes: jobs, dismiss, results, conformance
// ---------------------------------------------------------------------------------------------

describe('OGC API - Processes', () => {
  /** Follows `next` links from a first page; returns every job and the page count. */
  async function allPages(firstPath: string): Promise<{ jobs: any[]; pages: number }> {
    const jobs: any[] = [];
    let path: string | undefined = firstPath;
    let pages = 0;
    while (path !== undefined) {
      const page = expectOgc(await get(path), 'jobList');
      pages++;
      const self = page.links.find((link: any) => link.rel === 'self');
      expect(normalised(self?.href)).toEqual(normalised(`${clusterUrl()}${path}`));
      jobs.push(...page.jobs);
      const next = page.links.find((link: any) => link.rel === 'next');
      path = next === undefined ? undefined : pathOf(next.href);
      if (pages > 50) throw new Error('next links do not end');
    }
    return { jobs, pages };
  }

  test('GET /jobs pages with limit and next links through every job of a process, each once', async () => {
    const processID = uniqueProcess('paging');
    const ids = await Promise.all(Array.from({ length: 7 }, () => create(processID)));
    const { jobs, pages } = await allPages(`/jobs?processID=${encodeURIComponent(processID)}&limit=3`);
    expect(jobs.map((job) => job.jobID).sort()).toEqual([...ids].sort());
    expect(pages).toBeGreaterThanOrEqual(3);
    for (const job of jobs) expect(job).toMatchObject({ processID, status: 'accepted', type: 'process' });
    // The default page size is 10.
    const whole = expectOgc(await get(`/jobs?processID=${encodeURIComponent(processID)}`), 'jobList');
    expect(whole.jobs.length).toBeLessThanOrEqual(10);
  });

  test('GET /jobs with several processID values pages through the jobs of each, newest first, each once', async () => {
    const first = uniqueProcess('several-a');
    const second = uniqueProcess('several-b');
    const other = uniqueProcess('several-other');
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push(await create(first));
      ids.push(await create(second));
    }
    await create(other);
    const { jobs, pages } = await allPages(`/jobs?processID=${encodeURIComponent(first)},${encodeURIComponent(second)}&limit=3`);
    expect(jobs.map((job) => job.jobID).sort()).toEqual([...ids].sort());
    expect(pages).toBeGreaterThanOrEqual(3);
    const created = jobs.map((job) => job.created as string);
    expect(created).toEqual([...created].sort().reverse());
  });

  test('GET /jobs filters by status, mapping the stored phases (dismissed included)', async () => {
    const processID = uniqueProcess('filter');
    const queued = await create(processID);
    const running = await create(processID);
    await write(running, { phase: 'RUNNING', progress: 10 });
    const succeeded = await create(processID);
    await write(succeeded, { phase: 'RUNNING', progress: 10 });
    await write(succeeded, { phase: 'SUCCEEDED' });
    const failed = await create(processID);
    await write(failed, { phase: 'FAILED', exception: { code: 'X', message: 'y' } });
    const dismissed = await create(processID);
    await write(dismissed, { phase: 'RUNNING', progress: 10 });
    expect((await api('DELETE', jobUrl(dismissed))).status).toBe(200);
    await write(dismissed, { phase: 'FAILED' });

    const listed = async (status: string) =>
      (await allPages(`/jobs?processID=${encodeURIComponent(processID)}&status=${status}&limit=100`)).jobs.map((job) => job.jobID).sort();
    expect(await listed('accepted')).toEqual([queued]);
    expect(await listed('running')).toEqual([running]);
    expect(await listed('successful')).toEqual([succeeded]);
    expect(await listed('failed')).toEqual([failed]);
    expect(await listed('dismissed')).toEqual([dismissed]);
    expect(await listed('accepted,running')).toEqual([queued, running].sort());
    expect(await listed('failed,dismissed')).toEqual([failed, dismissed].sort());
    expect((await allPages(`/jobs?processID=${encodeURIComponent(processID)}&limit=2`)).jobs).toHaveLength(5);
  });

  test('GET /jobs filters by type, datetime (of creation) and duration, as the job-list conformance class defines them', async () => {
    const processID = uniqueProcess('windows');
    const old = await create(processID, { creationTime: '2026-01-01T00:00:00Z' });
    await write(old, { phase: 'RUNNING', progress: 1 });
    await write(old, { phase: 'SUCCEEDED' });
    const queued = await create(processID);
    const listed = async (filters: string) =>
      (await allPages(`/jobs?processID=${encodeURIComponent(processID)}&${filters}`)).jobs.map((job) => job.jobID).sort();
    expect(await listed('type=process')).toEqual([old, queued].sort());
    expect(await listed('type=banana')).toEqual([]);
    expect(await listed('datetime=../2026-06-01T00:00:00Z')).toEqual([old]);
    expect(await listed('datetime=2026-06-01T00:00:00Z/..')).toEqual([queued]);
    expect(await listed('datetime=2026-01-01T00:00:00Z')).toEqual([old]);
    // The old job waited in the queue for months, then ran from its first RUNNING write to its
    // completion just after: the wait is not run time. The queued one has not started.
    expect(await listed('minDuration=0')).toEqual([old]);
    expect(await listed('minDuration=86400')).toEqual([]);
    expect(await listed('maxDuration=86400')).toEqual([old]);
  });

  test('started is the time of the first RUNNING write, not the creation of a job that waited in the queue', async () => {
    const processID = uniqueProcess('started');
    const id = await create(processID, { creationTime: '2026-01-01T00:00:00Z' });
    expect(expectOgc(await get(jobUrl(id)), 'statusInfo')).not.toHaveProperty('started');
    const first = await write(id, { phase: 'RUNNING', progress: 10 });
    expect(first.startTime).toBe(first.lastUpdated);
    await write(id, { phase: 'RUNNING', progress: 50 });
    await write(id, { phase: 'SUCCEEDED' });
    const job = expectOgc(await get(jobUrl(id)), 'statusInfo');
    expect(job).toMatchObject({ created: '2026-01-01T00:00:00.000Z', started: first.startTime });
    expect(job.finished >= job.started).toBe(true);
    expect((await allPages(`/jobs?processID=${encodeURIComponent(processID)}`)).jobs).toEqual([expect.objectContaining({ jobID: id, started: first.startTime })]);
  });

  test('GET /jobs answers 304 to If-None-Match while nothing changed', async () => {
    const processID = uniqueProcess('list304');
    const id = await create(processID);
    const path = `/jobs?processID=${encodeURIComponent(processID)}`;
    const first = await get(path);
    expectOgc(first, 'jobList');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"/);
    // The list needs a token: no shared cache may keep it, even while polls are open to all.
    expect(first.headers.get('cache-control')).toBe('private, no-cache');
    expect((await get(path, { 'if-none-match': etag })).status).toBe(304);
    await write(id, { phase: 'RUNNING', progress: 1 });
    expect((await get(path, { 'if-none-match': etag })).status).toBe(200);
  });

  test.each([
    ['limit=0', 'limit'],
    ['limit=-1', 'limit'],
    ['limit=ten', 'limit'],
    ['status=done', 'status'],
    ['cursor=not-a-cursor', 'cursor'],
    // Issue 9: an unsigned cursor with an empty key value reached DynamoDB and answered 500.
    ['cursor=eyJrIjoicyIsInAiOiIifQ', 'cursor'],
    ['status=successful&cursor=eyJrIjoicyIsInAiOiIifQ', 'cursor'],
    ['status=running&cursor=eyJrIjoicyIsInAiOiIifQ', 'cursor'],
    ['processID=gs:Buffer&cursor=eyJrIjoicyIsInAiOiIifQ', 'cursor'],
    ['datetime=notadate', 'datetime'],
    ['minDuration=-5', 'minDuration'],
    ['maxDuration=abc', 'maxDuration'],
    // A misspelt filter (parameter names are case-sensitive) listed every job as if filtered.
    ['processId=gs:Buffer', 'processId'],
  ])('GET /jobs?%s is a 400 naming the parameter', async (query, name) => {
    const body = expectOgc(await get(`/jobs?${query}`), 'exception', 400);
    expect(body.title).toContain(name);
  });

  test('a limit above 10000 is served as the maximum', async () => {
    expectOgc(await get(`/jobs?limit=20000&processID=${encodeURIComponent(uniqueProcess('nothing'))}`), 'jobList');
  });

  test('an unknown job is 404 no-such-job for status, results and dismiss', async () => {
    const id = randomUUID();
    expect(expectOgc(await get(jobUrl(id)), 'exception', 404)).toMatchObject({ type: NO_SUCH_JOB, status: 404 });
    expect(expectOgc(await get(`${jobUrl(id)}/results`), 'exception', 404)).toMatchObject({ type: NO_SUCH_JOB });
    expect(expectOgc(await api('DELETE', jobUrl(id)), 'exception', 404)).toMatchObject({ type: NO_SUCH_JOB });
    expect(expectOgc(await get(jobUrl('no such id')), 'exception', 404)).toMatchObject({ type: NO_SUCH_JOB });
  });

  test('results are not ready (404 result-not-ready) until the job succeeds', async () => {
    const id = await create(uniqueProcess('results'));
    const notReady = await get(`${jobUrl(id)}/results`);
    expect(expectOgc(notReady, 'exception', 404)).toMatchObject({ type: RESULT_NOT_READY });
    expect(notReady.headers.get('retry-after')).toBe(DEFAULT_RETRY_AFTER);
    await write(id, { phase: 'RUNNING', progress: 99 });
    expect(expectOgc(await get(`${jobUrl(id)}/results`), 'exception', 404)).toMatchObject({ type: RESULT_NOT_READY });
    await write(id, { phase: 'SUCCEEDED', resultLocation: 'https://results.example/out.zip' });
    const ready = await get(`${jobUrl(id)}/results`);
    expect(expectOgc(ready, 'results')).toEqual({ result: { href: 'https://results.example/out.zip', title: 'Result' } });
    expect((await get(`${jobUrl(id)}/results`, { 'if-none-match': ready.headers.get('etag')! })).status).toBe(304);
  });

  // The dismiss takes no body, as DELETE /executions/{id}: one sent (a reason, an option) was
  // ignored and the job dismissed all the same, the client left to believe it was taken.
  test('DELETE of a job with a body is 400 naming the body, and dismisses nothing', async () => {
    const id = await create(uniqueProcess('delete-body'));
    await write(id, { phase: 'RUNNING', progress: 40 });
    for (const body of [{ reason: 'cancelled by its user' }, { reason: 'x'.repeat(2000) }]) {
      const refused = expectOgc(await api('DELETE', jobUrl(id), { invalidJson: body }), 'exception', 400);
      expect([refused.title, refused.detail]).toEqual(['Invalid parameter body', 'body: this route takes no body: send none (or {})']);
      expect(expectOgc(await get(jobUrl(id)), 'statusInfo')).toMatchObject({ status: 'running', progress: 40 });
    }
    // No body, or the empty object a client sends for "no options", dismisses as before.
    expect(expectOgc(await api('DELETE', jobUrl(id), { invalidJson: {} }), 'statusInfo')).toMatchObject({ status: 'dismissed' });
  });

  test('DELETE of a finished job removes it: a second DELETE is 404', async () => {
    const id = await create(uniqueProcess('delete-done'));
    await write(id, { phase: 'FAILED', exception: { code: 'X', message: 'y' } });
    const removed = expectOgc(await api('DELETE', jobUrl(id)), 'statusInfo');
    expect(removed).toMatchObject({ jobID: id, status: 'dismissed' });
    // It had completed: the answer says the dismiss removed it, not that it was stopped early.
    expect(removed.message).toBe('The job had already completed; dismissing it removed the job and its results');
    expect(removed.message).not.toMatch(/before it completed/);
    expect(expectOgc(await api('DELETE', jobUrl(id)), 'exception', 404)).toMatchObject({ type: NO_SUCH_JOB });
    expect(expectOgc(await get(jobUrl(id)), 'exception', 404)).toMatchObject({ type: NO_SUCH_JOB });
  });

  test('GET /conformance lists json, job-list and dismiss, and not core (no landing page or /processes here)', async () => {
    const body = expectOgc(await get('/conformance'), 'confClasses');
    expect([...body.conformsTo].sort()).toEqual(
      ['dismiss', 'job-list', 'json'].map((name) => `http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/${name}`),
    );
    expect((await get('/processes')).status).toBe(404);
  });
});

describe('HEAD on the polling routes', () => {
  test("answers each GET's status and headers without its body, 304 on a matching If-None-Match, and never dismisses", async () => {
    const processName = uniqueProcess('head');
    const id = await create(processName);
    await write(id, { phase: 'RUNNING', progress: 40 });
    const paths = [`/executions/${encodeURIComponent(id)}`, wps1Url(id), wps2Url(id), jobUrl(id), `${jobUrl(id)}/results`, '/conformance', '/openapi.json', jobUrl('no-such-job')];
    for (const path of paths) {
      const got = await get(path);
      const head = await api('HEAD', path);
      expect({ path, status: head.status, text: head.text }).toEqual({ path, status: got.status, text: '' });
      // Content-Length too: a HEAD answer's is the GET's (RFC 9110 8.6).
      expect({ path, length: head.headers.get('content-length') }).toEqual({ path, length: String(Buffer.byteLength(got.text)) });
      for (const name of ['content-type', 'cache-control', 'retry-after']) {
        expect({ path, name, value: head.headers.get(name) }).toEqual({ path, name, value: got.headers.get(name) });
      }
      const etag = got.headers.get('etag');
      if (etag !== null) expect({ path, status: (await api('HEAD', path, { headers: { 'if-none-match': etag } })).status }).toEqual({ path, status: 304 });
    }
    // A Dismiss changes state: HEAD does not carry one.
    for (const path of [`/ows?service=WPS&version=2.0.0&request=Dismiss&jobID=${id}`, `/ows?service=WPS&version=1.0.0&request=Dismiss&executionId=${id}`]) {
      const refused = await api('HEAD', path);
      expect({ path, status: refused.status, allow: refused.headers.get('allow') }).toEqual({ path, status: 405, allow: 'GET, POST' });
    }
    expect(text(expectXml(await get(wps2Url(id)), 'wps2'), 'wps:Status')).toBe('Running');
  });
});

describe('GET /openapi.json', () => {
  test('describes the whole API, with this server as its server', async () => {
    const response = await get('/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/vnd\.oai\.openapi\+json/);
    const doc = JSON.parse(response.text);
    expect(doc.openapi).toMatch(/^3\.0\./);
    expect(doc.servers).toEqual([{ url: clusterUrl() }]);
    for (const path of ['/ows', '/jobs', '/jobs/{jobId}', '/jobs/{jobId}/results', '/conformance', '/executions', '/executions/{executionId}']) {
      expect(doc.paths).toHaveProperty([path]);
    }
    expect(doc.components.securitySchemes.nodeToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    // The very document synth built from the manifests (this cluster leaves reads open), bundled with the function.
    expect(doc).toEqual(buildOpenApiDocument({ requireAuthForReads: false, serverUrl: clusterUrl() }));
  });
});
