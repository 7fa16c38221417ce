import { applyWrite, dismiss, type ExecutionStatus, type StatusWrite } from '../../../lambdas/status/execution';
import { GoneError, NotFoundError } from '../../../lambdas/shared/errors';
import {
  CONFORMANCE_CLASSES,
  EXCEPTION_TYPES,
  OgcApiException,
  REL_RESULTS,
  alreadyDismissed,
  conformance,
  invalidParameter,
  jobList,
  jobListLinks,
  noSuchJob,
  ogcStatusOf,
  resultNotReady,
  results,
  statusInfo,
  toOgcApiException,
  type StatusInfo,
} from '../../../lambdas/status/protocols/ogcapi';
import { jobListQuerySchema, parseJobListQuery } from '../../../lambdas/status/protocols/job-list-query';
import { STATUS_API } from '../../../lambdas/status/api';
import { validateOgc, type OgcSchemaName } from '../../support/ogcapi-schemas';

const T0 = Date.parse('2024-05-01T10:00:00.000Z');
const ID = 'job 1/ü';
const BASE = 'https://api.example/prod';
const JOB_URL = `${BASE}/jobs/job%201%2F%C3%BC`;

function write(current: ExecutionStatus | undefined, update: StatusWrite, seconds: number): ExecutionStatus {
  return applyWrite(current, update, { executionId: ID, nodeId: 'node-a', now: new Date(T0 + seconds * 1000) }).status;
}
const queued = write(undefined, { phase: 'QUEUED', processName: 'gs:Buffer', task: 'Waiting for a slot' }, 0);
const running = (progress: number): ExecutionStatus => write(queued, { phase: 'RUNNING', progress, task: `Step ${progress}` }, 10);
const succeeded = write(running(90), { phase: 'SUCCEEDED', resultLocation: 'https://results.example/r?id=1&f=gml' }, 60);
const failed = write(running(50), { phase: 'FAILED', exception: { code: 'ProcessException', message: 'Self-intersection' } }, 30);
const dismissing = (dismiss(running(50), ID) as { status: ExecutionStatus }).status;
const failedAfterDismiss = write(dismissing, { phase: 'FAILED' }, 40);

function expectValid(value: unknown, schema: OgcSchemaName): void {
  const result = validateOgc(value, schema);
  if (!result.valid) throw new Error(`${result.errors}\n${JSON.stringify(value, null, 2)}`);
}

function caught(fn: () => unknown): OgcApiException {
  try {
    fn();
  } catch (error) {
    if (error instanceof OgcApiException) return error;
    throw error;
  }
  throw new Error('expected an OgcApiException');
}

const STATUS_INFO_KEYS = ['jobID', 'status', 'type', 'processID', 'message', 'created', 'started', 'finished', 'updated', 'progress', 'links'];

describe('the JSON Schema check itself', () => {
  it.each<[string, Record<string, unknown>]>([
    ['without jobID', { status: 'running', type: 'process' }],
    ['with an unknown status', { jobID: 'a', status: 'paused', type: 'process' }],
    ['with another type', { jobID: 'a', status: 'running', type: 'wps' }],
    ['with progress above 100', { jobID: 'a', status: 'running', type: 'process', progress: 101 }],
    ['with a non-integer progress', { jobID: 'a', status: 'running', type: 'process', progress: 1.5 }],
    ['with a timestamp that is not RFC 3339', { jobID: 'a', status: 'running', type: 'process', created: '1 May 2024' }],
    ['with a link without href', { jobID: 'a', status: 'running', type: 'process', links: [{ rel: 'self' }] }],
  ])('rejects a statusInfo %s', (_label, document) => {
    expect(validateOgc(document, 'statusInfo').valid).toBe(false);
  });

  it('rejects a jobList without links and an exception without type', () => {
    expect(validateOgc({ jobs: [] }, 'jobList').valid).toBe(false);
    expect(validateOgc({ title: 'x', status: 404 }, 'exception').valid).toBe(false);
  });
});

describe('statusInfo', () => {
  it.each([
    ['QUEUED', 'accepted', queued],
    ['RUNNING 10%', 'running', running(10)],
    ['RUNNING 50%', 'running', running(50)],
    ['RUNNING 90%', 'running', running(90)],
    ['SUCCEEDED', 'successful', succeeded],
    ['FAILED', 'failed', failed],
    ['DISMISSING', 'dismissed', dismissing],
    ['FAILED after a dismiss', 'dismissed', failedAfterDismiss],
  ] as const)('%s is %s and validates against statusInfo.yaml', (_label, expected, status) => {
    const info = statusInfo(status, BASE);
    expectValid(info, 'statusInfo');
    expect(ogcStatusOf(status)).toBe(expected);
    expect(info).toMatchObject({ jobID: ID, status: expected, type: 'process', processID: 'gs:Buffer' });
    expect(Object.keys(info).every((key) => STATUS_INFO_KEYS.includes(key))).toBe(true);
    expect(info.links?.[0]).toEqual({ href: JOB_URL, rel: 'self', type: 'application/json', title: 'Job status' });
  });

  it('dates the job: created, started at its first RUNNING write, finished when completed, updated on every write', () => {
    expect(statusInfo(queued, BASE)).toMatchObject({ created: '2024-05-01T10:00:00.000Z', updated: '2024-05-01T10:00:00.000Z' });
    expect(statusInfo(queued, BASE)).not.toHaveProperty('started');
    expect(statusInfo(queued, BASE)).not.toHaveProperty('finished');
    // Queued for 10 s: it started when its node began running it, not when it was created.
    expect(statusInfo(running(50), BASE)).toMatchObject({ created: '2024-05-01T10:00:00.000Z', started: '2024-05-01T10:00:10.000Z', updated: '2024-05-01T10:00:10.000Z' });
    expect(statusInfo(running(50), BASE)).not.toHaveProperty('finished');
    expect(statusInfo(succeeded, BASE)).toMatchObject({ started: '2024-05-01T10:00:10.000Z', finished: '2024-05-01T10:01:00.000Z', updated: '2024-05-01T10:01:00.000Z' });
    expect(statusInfo(failedAfterDismiss, BASE)).toMatchObject({ started: '2024-05-01T10:00:10.000Z' });
    expect(statusInfo(dismissing, BASE)).not.toHaveProperty('finished');
    expect(statusInfo(failedAfterDismiss, BASE)).toMatchObject({ finished: '2024-05-01T10:00:40.000Z' });
  });

  it('has no started for a job that never ran, or whose start was not recorded', () => {
    // Failed or dismissed while still queued: it never ran.
    expect(statusInfo(write(queued, { phase: 'FAILED', exception: { code: 'NodeLost', message: 'gone' } }, 20), BASE)).not.toHaveProperty('started');
    expect(statusInfo((dismiss(queued, ID) as { status: ExecutionStatus }).status, BASE)).not.toHaveProperty('started');
    // Stored before start times were recorded: unknown, and later writes do not make one up.
    const { startTime: _unknown, ...stored } = running(50);
    expect(statusInfo(stored, BASE)).not.toHaveProperty('started');
    expect(statusInfo(write(stored, { phase: 'RUNNING', progress: 60 }, 70), BASE)).not.toHaveProperty('started');
    expect(statusInfo(write(stored, { phase: 'SUCCEEDED' }, 80), BASE)).toMatchObject({ finished: '2024-05-01T10:01:20.000Z' });
    expect(statusInfo(write(stored, { phase: 'SUCCEEDED' }, 80), BASE)).not.toHaveProperty('started');
  });

  it('reports progress and a message a person can act on', () => {
    expect(statusInfo(running(42), BASE)).toMatchObject({ progress: 42, message: 'Step 42' });
    expect(statusInfo(queued, BASE)).toMatchObject({ progress: 0, message: 'Waiting for a slot' });
    expect(statusInfo(succeeded, BASE)).toMatchObject({ progress: 100, message: 'Process succeeded' });
    expect(statusInfo(failed, BASE)).toMatchObject({ message: 'Self-intersection' });
    expect(statusInfo(dismissing, BASE).message).toMatch(/dismissed/);
    expect(statusInfo({ ...running(10), progress: 12.6 }, BASE).progress).toBe(13);
  });

  it('links the results only once the job succeeded', () => {
    expect(statusInfo(succeeded, BASE).links).toContainEqual({
      href: `${JOB_URL}/results`,
      rel: REL_RESULTS,
      type: 'application/json',
      title: 'Job results',
    });
    for (const status of [queued, running(90), failed, dismissing]) {
      expect(statusInfo(status, BASE).links?.some((link) => link.rel === REL_RESULTS)).toBe(false);
    }
  });

  it('reads a completed job that a DELETE just removed as dismissed', () => {
    expect(statusInfo({ ...succeeded, dismissed: true }, BASE)).toMatchObject({ status: 'dismissed' });
  });

  it('tolerates a trailing slash on the base URL and leaves out unparseable dates', () => {
    const info = statusInfo({ ...running(10), creationTime: 'yesterday', startTime: 'this morning' }, `${BASE}/`);
    expect(info.links?.[0]?.href).toBe(JOB_URL);
    expect(info).not.toHaveProperty('created');
    expect(info).not.toHaveProperty('started');
    expectValid(info, 'statusInfo');
  });
});

describe('jobList', () => {
  it('validates against jobList.yaml with self and next links', () => {
    const list = jobList([queued, running(50), succeeded, failed, dismissing], jobListLinks(`${BASE}/jobs?limit=5`, `${BASE}/jobs?limit=5&next=abc`), BASE);
    expectValid(list, 'jobList');
    expect(list.jobs.map((job: StatusInfo) => job.status)).toEqual(['accepted', 'running', 'successful', 'failed', 'dismissed']);
    expect(list.links).toEqual([
      { href: `${BASE}/jobs?limit=5`, rel: 'self', type: 'application/json', title: 'This page of jobs' },
      { href: `${BASE}/jobs?limit=5&next=abc`, rel: 'next', type: 'application/json', title: 'Next page of jobs' },
    ]);
  });

  it('validates when empty, and has no next link on the last page', () => {
    const list = jobList([], jobListLinks(`${BASE}/jobs`), BASE);
    expectValid(list, 'jobList');
    expect(list.links.map((link) => link.rel)).toEqual(['self']);
  });
});

describe('results', () => {
  it('links the recorded result location for a successful job', () => {
    const body = results(succeeded);
    expectValid(body, 'results');
    expect(body).toEqual({ result: { href: 'https://results.example/r?id=1&f=gml', title: 'Result' } });
  });

  it('is an empty results object for a successful job without a recorded location', () => {
    const body = results({ ...succeeded, resultLocation: undefined });
    expectValid(body, 'results');
    expect(body).toEqual({});
  });

  it.each([
    ['accepted', 404, EXCEPTION_TYPES.resultNotReady, queued],
    ['running', 404, EXCEPTION_TYPES.resultNotReady, running(50)],
    ['failed', 400, EXCEPTION_TYPES.generic, failed],
    ['dismissed', 410, EXCEPTION_TYPES.generic, dismissing],
  ] as const)('refuses while %s with %i %s', (_label, httpStatus, type, status) => {
    const error = caught(() => results(status, `/jobs/${ID}/results`));
    expect(error.status).toBe(httpStatus);
    expect(error.body).toMatchObject({ type, status: httpStatus, instance: `/jobs/${ID}/results` });
    expectValid(error.body, 'exception');
  });

  it("passes a failed job's own exception on", () => {
    expect(caught(() => results(failed)).body).toMatchObject({ title: 'ProcessException', detail: 'Self-intersection', code: 'ProcessException' });
  });
});

describe('exceptions', () => {
  it.each([
    ['no-such-job', 404, EXCEPTION_TYPES.noSuchJob, noSuchJob(ID, `/jobs/${ID}`)],
    ['result-not-ready', 404, EXCEPTION_TYPES.resultNotReady, resultNotReady(ID)],
    ['second dismiss', 410, EXCEPTION_TYPES.generic, alreadyDismissed(ID)],
    ['invalid parameter', 400, EXCEPTION_TYPES.generic, invalidParameter('limit', 'limit must be an integer')],
  ] as const)('%s carries HTTP %i and validates against exception.yaml', (_label, httpStatus, type, error) => {
    expect(error.status).toBe(httpStatus);
    expect(error.body.type).toBe(type);
    expect(error.body.status).toBe(httpStatus);
    expect(error.body.detail).toEqual(expect.any(String));
    expectValid(error.body, 'exception');
  });

  it('uses the standard no-such-job and result-not-ready types', () => {
    expect(EXCEPTION_TYPES.noSuchJob).toBe('http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-job');
    expect(EXCEPTION_TYPES.resultNotReady).toBe('http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/result-not-ready');
  });

  it('maps what the domain dismiss throws: unknown 404, already dismissed 410', () => {
    const unknown = (() => {
      try {
        dismiss(undefined, ID);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(unknown).toBeInstanceOf(NotFoundError);
    expect(toOgcApiException(unknown, ID)?.status).toBe(404);
    expect(toOgcApiException(unknown, ID)?.body.type).toBe(EXCEPTION_TYPES.noSuchJob);
    expect(() => dismiss(dismissing, ID)).toThrow(GoneError);
    expect(toOgcApiException(new GoneError('ALREADY_DISMISSED', 'x'), ID)?.status).toBe(410);
    expect(toOgcApiException(new Error('disk on fire'), ID)).toBeUndefined();
  });
});

describe('conformance', () => {
  it('declares json, job-list and dismiss of Processes 1.0, not core (no /processes here), and validates against confClasses.yaml', () => {
    const body = conformance();
    expectValid(body, 'confClasses');
    expect(body.conformsTo).toEqual([
      'http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json',
      'http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/job-list',
      'http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/dismiss',
    ]);
    expect(body.conformsTo).toEqual([...CONFORMANCE_CLASSES]);
  });
});

describe('parseJobListQuery', () => {
  it('defaults to 10 jobs and no filters', () => {
    expect(parseJobListQuery(undefined)).toEqual({ limit: 10 });
    expect(parseJobListQuery({ limit: '' })).toEqual({ limit: 10 });
  });

  it('reads limit, processID and status lists (repeated parameters arrive comma-joined)', () => {
    expect(parseJobListQuery({ limit: '25', processID: 'gs:Buffer, gs:Clip,gs:Buffer', status: 'running,accepted' })).toEqual({
      limit: 25,
      processIds: ['gs:Buffer', 'gs:Clip'],
      statuses: ['running', 'accepted'],
    });
  });

  it('serves a limit above 10000 as 10000', () => {
    expect(parseJobListQuery({ limit: '50000' }).limit).toBe(10_000);
    expect(parseJobListQuery({ limit: '10000' }).limit).toBe(10_000);
    expect(parseJobListQuery({ limit: '1' }).limit).toBe(1);
  });

  it.each([['0'], ['-1'], ['ten'], ['1.5'], ['1e3']])('refuses limit=%s with a 400 naming limit', (limit) => {
    const error = caught(() => parseJobListQuery({ limit }, '/jobs'));
    expect(error.status).toBe(400);
    expect(error.body).toMatchObject({ title: 'Invalid parameter limit', instance: '/jobs' });
    expectValid(error.body, 'exception');
  });

  it('refuses an unknown status, naming it', () => {
    const error = caught(() => parseJobListQuery({ status: 'running,paused' }));
    expect(error.status).toBe(400);
    expect(error.body).toMatchObject({ title: 'Invalid parameter status' });
    expect(error.body.detail).toContain("'paused'");
  });

  it('takes the cursor, and refuses one longer than any the server issues', () => {
    expect(parseJobListQuery({ cursor: ' abc ' })).toEqual({ limit: 10, cursor: 'abc' });
    expect(parseJobListQuery({ cursor: '  ' })).toEqual({ limit: 10 });
    const error = caught(() => parseJobListQuery({ cursor: 'x'.repeat(2049) }, '/jobs'));
    expect(error.body).toMatchObject({ title: 'Invalid parameter cursor', detail: 'is not a cursor from a next link' });
  });

  it('reads type, datetime (an instant, or an interval with open ends) and the durations', () => {
    expect(parseJobListQuery({ type: 'process', datetime: '2026-12-01T00:00:00Z', minDuration: '5', maxDuration: '60' })).toEqual({
      limit: 10,
      types: ['process'],
      created: { from: Date.parse('2026-12-01T00:00:00Z'), to: Date.parse('2026-12-01T00:00:00Z') },
      minDuration: 5,
      maxDuration: 60,
    });
    expect(parseJobListQuery({ datetime: '2026-12-01T00:00:00+01:00/..' }).created).toEqual({ from: Date.parse('2026-11-30T23:00:00Z') });
    expect(parseJobListQuery({ datetime: '../2026-12-02T00:00:00.5Z' }).created).toEqual({ to: Date.parse('2026-12-02T00:00:00.500Z') });
    expect(parseJobListQuery({ datetime: '/2026-12-02T00:00:00Z' }).created).toEqual({ to: Date.parse('2026-12-02T00:00:00Z') });
    expect(parseJobListQuery({ datetime: '2028-02-29t23:59:59.999z' }).created).toEqual({ from: Date.parse('2028-02-29T23:59:59.999Z'), to: Date.parse('2028-02-29T23:59:59.999Z') });
  });

  it.each([
    ['datetime', { datetime: 'notadate' }, /RFC 3339 instant/],
    ['datetime', { datetime: '2026-12-01' }, /RFC 3339 instant/],
    ['datetime', { datetime: '2026-12-01T00:00:00' }, /RFC 3339 instant/],
    ['datetime', { datetime: '2026-12-02T00:00:00Z/2026-12-01T00:00:00Z' }, /ends before it starts/],
    ['datetime', { datetime: '../..' }, /two open ends/],
    ['datetime', { datetime: '..' }, /open end alone/],
    ['datetime', { datetime: 'a/b/c' }, /more than one/],
    // Dates no calendar has: Date.parse would roll them over to the next month or day.
    ['datetime', { datetime: '2026-02-30T00:00:00Z' }, /RFC 3339 instant/],
    ['datetime', { datetime: '2026-04-31T00:00:00Z/..' }, /RFC 3339 instant/],
    ['datetime', { datetime: '../2026-01-01T24:00:00Z' }, /RFC 3339 instant/],
    ['processID', { processID: `gs:Buffer,${'p'.repeat(257)}` }, /<=256 characters/],
    ['minDuration', { minDuration: '-5' }, /whole number of seconds/],
    ['maxDuration', { maxDuration: 'abc' }, /whole number of seconds/],
    ['minDuration', { minDuration: '60', maxDuration: '5' }, /more than maxDuration/],
    // A parameter the list does not take: a misspelt filter (names are case-sensitive) would
    // otherwise be dropped without a word, and the caller handed every job as if filtered.
    ['processId', { processId: 'gs:Buffer' }, /is not a parameter of GET \/jobs \(limit, processID, status, type, datetime, minDuration, maxDuration, cursor, f\)/],
    ['next', { status: 'running', next: 'abc' }, /is not a parameter of GET \/jobs/],
    // OGC API's format parameter: the list is JSON only.
    ['f', { f: 'html' }, /json/],
  ])('refuses a bad %s with a 400 naming it: %j', (name, params, detail) => {
    const error = caught(() => parseJobListQuery(params, '/jobs'));
    expect(error.status).toBe(400);
    expect(error.body).toMatchObject({ title: `Invalid parameter ${name}`, instance: '/jobs' });
    expect(error.body.detail).toMatch(detail);
    expectValid(error.body, 'exception');
  });

  it("takes OGC API's format parameter f=json, which clients add, as asking for what it serves", () => {
    expect(parseJobListQuery({ f: 'json', status: 'running' })).toEqual(parseJobListQuery({ status: 'running' }));
  });

  it('is the schema the OpenAPI document publishes for GET /jobs', () => {
    expect(STATUS_API.getJobs.query).toBe(jobListQuerySchema);
  });
});
