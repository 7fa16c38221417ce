import { logger } from '../../../lambdas/shared/observability';
import { AppError, NotFoundError } from '../../../lambdas/shared/errors';
import type { HttpEvent } from '../../../lambdas/shared/http';
import type { ExecutionStatus } from '../../../lambdas/status/execution';
import { etagFor, etagWithInstant } from '../../../lambdas/status/protocols/http-cache';
import {
  NO_STORE,
  baseUrlOf,
  isPossibleExecutionId,
  ogcApiHandler,
  owsErrorResponse,
  pollAnswer,
  protocolSettingsFromEnv,
  type ProtocolSettings,
} from '../../../lambdas/status/protocols/http-edge';
import { OwsException } from '../../../lambdas/status/protocols/kvp';
import { noSuchJob } from '../../../lambdas/status/protocols/ogcapi';

const ENV_NAMES = ['PUBLIC_BASE_URL', 'DEFAULT_RETRY_AFTER_SECONDS', 'REQUIRE_AUTH_FOR_READS'] as const;

function withEnv(values: Partial<Record<(typeof ENV_NAMES)[number], string>>): void {
  for (const name of ENV_NAMES) delete process.env[name];
  Object.assign(process.env, values);
}

describe('protocolSettingsFromEnv', () => {
  const saved = Object.fromEntries(ENV_NAMES.map((name) => [name, process.env[name]]));
  afterAll(() => {
    for (const name of ENV_NAMES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('defaults: URLs follow the request, Retry-After 5 s, shared caching', () => {
    withEnv({});
    expect(protocolSettingsFromEnv()).toEqual({ publicBaseUrl: undefined, defaultRetryAfterSeconds: 5, sharedCache: true });
  });

  it('treats empty variables as unset', () => {
    withEnv({ PUBLIC_BASE_URL: '', DEFAULT_RETRY_AFTER_SECONDS: '', REQUIRE_AUTH_FOR_READS: '' });
    expect(protocolSettingsFromEnv()).toEqual({ publicBaseUrl: undefined, defaultRetryAfterSeconds: 5, sharedCache: true });
  });

  it('reads the retry distance and turns shared caching off when reads need a token', () => {
    withEnv({ DEFAULT_RETRY_AFTER_SECONDS: '12', REQUIRE_AUTH_FOR_READS: 'true' });
    expect(protocolSettingsFromEnv()).toMatchObject({ defaultRetryAfterSeconds: 12, sharedCache: false });
    withEnv({ REQUIRE_AUTH_FOR_READS: 'false' });
    expect(protocolSettingsFromEnv().sharedCache).toBe(true);
  });

  it.each([
    ['https://maps.example.com', 'https://maps.example.com'],
    ['https://maps.example.com/', 'https://maps.example.com'],
    ['https://maps.example.com/geo/wps/', 'https://maps.example.com/geo/wps'],
    ['http://localhost:3000', 'http://localhost:3000'],
    ['HTTPS://Maps.Example.COM:443/base', 'https://maps.example.com/base'],
  ])('normalises PUBLIC_BASE_URL %s to %s', (raw, expected) => {
    withEnv({ PUBLIC_BASE_URL: raw });
    expect(protocolSettingsFromEnv().publicBaseUrl).toBe(expected);
  });

  it.each(['maps.example.com', '/relative/path', 'not a url'])('refuses a PUBLIC_BASE_URL that is not absolute (%s), naming it', (raw) => {
    withEnv({ PUBLIC_BASE_URL: raw });
    expect(() => protocolSettingsFromEnv()).toThrow(/^Environment variable PUBLIC_BASE_URL must be an absolute http\(s\) URL/);
    expect(() => protocolSettingsFromEnv()).toThrow(`'${raw}'`);
  });

  it.each(['ftp://maps.example.com', 'https://maps.example.com/?a=1', 'https://maps.example.com/#top', 'file:///etc/passwd'])(
    'refuses %s as PUBLIC_BASE_URL, naming the variable',
    (raw) => {
      withEnv({ PUBLIC_BASE_URL: raw });
      expect(() => protocolSettingsFromEnv()).toThrow(/^Environment variable PUBLIC_BASE_URL must be an http\(s\) URL without query or fragment/);
    },
  );

  it.each(['5s', '2.5', 'five'])('refuses DEFAULT_RETRY_AFTER_SECONDS=%s, naming it', (raw) => {
    withEnv({ DEFAULT_RETRY_AFTER_SECONDS: raw });
    expect(() => protocolSettingsFromEnv()).toThrow(`Environment variable DEFAULT_RETRY_AFTER_SECONDS must be an integer, got '${raw}'`);
  });

  it.each(['yes', 'TRUE', '1'])('refuses REQUIRE_AUTH_FOR_READS=%s, naming it', (raw) => {
    withEnv({ REQUIRE_AUTH_FOR_READS: raw });
    expect(() => protocolSettingsFromEnv()).toThrow(`Environment variable REQUIRE_AUTH_FOR_READS must be 'true' or 'false', got '${raw}'`);
  });
});

function event(method: string, headers: Record<string, string> = {}, rawPath = '/jobs/e1'): HttpEvent {
  return {
    version: '2.0',
    routeKey: `${method} /jobs/{jobId}`,
    rawPath,
    rawQueryString: '',
    headers,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '10.0.0.1', userAgent: 'test' },
      requestId: 'r1',
      routeKey: `${method} /jobs/{jobId}`,
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
  } as HttpEvent;
}

const settings: ProtocolSettings = { defaultRetryAfterSeconds: 7, sharedCache: true };

describe('baseUrlOf', () => {
  it('prefers the configured public base URL, else follows the request', () => {
    expect(baseUrlOf(event('GET', { host: 'api.example.com' }), { ...settings, publicBaseUrl: 'https://cdn.example.com/x' })).toBe(
      'https://cdn.example.com/x',
    );
    expect(baseUrlOf(event('GET', { host: 'localhost:3000' }), settings)).toBe('http://localhost:3000');
  });
});

describe('isPossibleExecutionId', () => {
  it.each(['e1', 'a0b1c2d3-0000-4000-8000-000000000000', 'job_1.2:3', 'A'.repeat(128)])('accepts %s', (id) => {
    expect(isPossibleExecutionId(id)).toBe(true);
  });

  it.each(['', '-leading', '.leading', 'has space', 'slash/inside', 'é', 'A'.repeat(129)])('rejects %j', (id) => {
    expect(isPossibleExecutionId(id)).toBe(false);
  });
});

describe('pollAnswer', () => {
  const now = new Date('2026-01-01T00:01:00.000Z');
  const running: ExecutionStatus = {
    executionId: 'e1',
    processName: 'gs:Buffer',
    phase: 'RUNNING',
    progress: 50,
    nodeId: 'node-a',
    creationTime: '2026-01-01T00:00:00.000Z',
    lastUpdated: '2026-01-01T00:00:30.000Z',
    version: 4,
  };
  const succeeded: ExecutionStatus = { ...running, phase: 'SUCCEEDED', progress: 100, completionTime: '2026-01-01T00:00:59.000Z', version: 5 };
  const render = () => jest.fn(() => ({ contentType: 'text/xml', body: '<doc/>' }));

  it('renders a 200 with the document and the poll headers of an active job', () => {
    const renderer = render();
    const result = pollAnswer(event('GET'), running, settings, now, renderer);
    expect(result.statusCode).toBe(200);
    expect(result.body).toBe('<doc/>');
    expect(result.headers).toEqual({
      'content-type': 'text/xml',
      etag: etagFor(running),
      'cache-control': 'public, no-cache',
      'retry-after': '7',
    });
    expect(renderer).toHaveBeenCalledTimes(1);
  });

  it('answers a matching If-None-Match on GET with a 304 carrying the validators and no body, without rendering', () => {
    const renderer = render();
    const result = pollAnswer(event('GET', { 'if-none-match': etagFor(running) }), running, settings, now, renderer);
    expect(result.statusCode).toBe(304);
    expect(result.body).toBeUndefined();
    expect(result.headers).toMatchObject({ etag: etagFor(running), 'cache-control': 'public, no-cache', 'retry-after': '7' });
    expect(renderer).not.toHaveBeenCalled();
  });

  it('renders a 200 when If-None-Match names another version', () => {
    const result = pollAnswer(event('GET', { 'if-none-match': etagFor({ ...running, version: 3 }) }), running, settings, now, render());
    expect(result.statusCode).toBe(200);
  });

  it('folds an instant the document shows (WPS 2.0 NextPoll) into the ETag, and answers 304 to a rendering only while the instant it shows is ahead', () => {
    const shown = new Date(now.getTime() + 7000);
    const first = pollAnswer(event('GET'), running, settings, now, render(), shown);
    const tag = first.headers?.etag as string;
    expect(tag).toBe(etagWithInstant(running, shown));
    expect(tag).not.toBe(etagFor(running));
    // A second later the document would show another NextPoll; the one cached is still ahead.
    const later = new Date(now.getTime() + 1000);
    const again = pollAnswer(event('GET', { 'if-none-match': tag }), running, settings, later, render(), new Date(later.getTime() + 7000));
    expect(again.statusCode).toBe(304);
    expect(again.headers?.etag).toBe(tag);
    // Once it has passed, a cache reusing the document would show a NextPoll in the past: a fresh one.
    const past = new Date(now.getTime() + 8000);
    const fresh = pollAnswer(event('GET', { 'if-none-match': tag }), running, settings, past, render(), new Date(past.getTime() + 7000));
    expect(fresh.statusCode).toBe(200);
    expect(fresh.headers?.etag).toBe(etagWithInstant(running, new Date(past.getTime() + 7000)));
    // Another state, or the tag without an instant, is no match either.
    expect(pollAnswer(event('GET', { 'if-none-match': tag }), { ...running, version: 3 }, settings, later, render(), shown).statusCode).toBe(200);
    expect(pollAnswer(event('GET', { 'if-none-match': etagFor(running) }), running, settings, later, render(), shown).statusCode).toBe(200);
  });

  it('does not answer 304 to a method other than GET', () => {
    const result = pollAnswer(event('POST', { 'if-none-match': etagFor(running) }), running, settings, now, render());
    expect(result.statusCode).toBe(200);
    expect(result.body).toBe('<doc/>');
  });

  it('marks documents private when shared caching is off, and gives no Retry-After for a finished job', () => {
    const result = pollAnswer(event('GET'), succeeded, { ...settings, sharedCache: false }, now, render());
    expect(result.headers?.['cache-control']).toMatch(/^private, max-age=\d+$/);
    expect(result.headers).not.toHaveProperty('retry-after');
  });
});

describe('owsErrorResponse', () => {
  afterEach(() => jest.restoreAllMocks());

  it('renders an OwsException in its own version, never cacheable', () => {
    const error = new OwsException('InvalidParameterValue', 'jobID', 'bad id', '2.0.0');
    const result = owsErrorResponse(error, '1.0.0');
    expect(result.statusCode).toBe(error.status);
    expect(result.headers).toMatchObject({ 'content-type': expect.stringMatching(/^text\/xml/), ...NO_STORE });
    expect(result.body).toContain('http://www.opengis.net/ows/2.0');
    expect(result.body).toContain('exceptionCode="InvalidParameterValue"');
    expect(result.body).toContain('locator="jobID"');
  });

  it('renders another AppError as NoApplicableCode in the request version: its status in 2.0.0, 200 in 1.0.0', () => {
    expect(owsErrorResponse(new AppError(400, 'INVALID_HOST', 'no host', 'host'), '2.0.0').statusCode).toBe(400);
    const result = owsErrorResponse(new AppError(400, 'INVALID_HOST', 'no host', 'host'), '1.0.0');
    expect(result.statusCode).toBe(200);
    expect(result.body).toContain('http://www.opengis.net/ows/1.1');
    expect(result.body).toContain('exceptionCode="NoApplicableCode"');
    expect(result.body).toContain('locator="host"');
    expect(result.body).toContain('no host');
  });

  it('renders an unknown error as a 500 report without its message', () => {
    jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    const result = owsErrorResponse(new Error('secret internals'), '2.0.0');
    expect(result.statusCode).toBe(500);
    expect(result.body).toContain('exceptionCode="NoApplicableCode"');
    expect(result.body).not.toContain('secret internals');
    expect(result.headers).toMatchObject(NO_STORE);
  });
});

describe('ogcApiHandler', () => {
  afterEach(() => jest.restoreAllMocks());
  const failing = (error: unknown) => ogcApiHandler(async () => Promise.reject(error));

  it('passes a successful answer through', async () => {
    const ok = { statusCode: 200, body: '{}' };
    expect(await ogcApiHandler(async () => ok)(event('GET'))).toBe(ok);
  });

  it('renders an OgcApiException body as it is', async () => {
    const result = await failing(noSuchJob('e1', '/jobs/e1'))(event('GET'));
    expect(result.statusCode).toBe(404);
    expect(result.headers).toMatchObject({ 'content-type': 'application/json', ...NO_STORE });
    expect(JSON.parse(result.body!)).toMatchObject({ type: expect.stringContaining('no-such-job'), status: 404, instance: '/jobs/e1' });
  });

  it('renders another AppError with its status, titled by its field, for the request path', async () => {
    const result = await failing(new AppError(400, 'INVALID_CURSOR', 'cursor: not ours', 'cursor'))(event('GET', {}, '/jobs'));
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body!)).toEqual({
      type: 'about:blank',
      title: 'Invalid parameter cursor',
      detail: 'cursor: not ours',
      status: 400,
      instance: '/jobs',
    });
  });

  it('titles an AppError without a field by its code', async () => {
    const result = await failing(new NotFoundError('Job', 'e1'))(event('GET'));
    expect(JSON.parse(result.body!)).toMatchObject({ title: 'NOT_FOUND', status: 404 });
  });

  it('renders anything else as a logged 500 that does not leak the message', async () => {
    const log = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    const result = await failing(new TypeError('x is undefined at secret.ts:12'))(event('GET'));
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('secret.ts');
    expect(JSON.parse(result.body!)).toMatchObject({ type: 'about:blank', status: 500, instance: '/jobs/e1' });
    expect(log).toHaveBeenCalledWith('Unhandled error', expect.any(TypeError));
  });
});
