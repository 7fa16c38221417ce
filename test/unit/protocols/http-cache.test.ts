import { applyWrite, dismiss, type ExecutionStatus, type StatusWrite } from '../../../lambdas/status/execution';
import {
  MAX_RETRY_AFTER_SECONDS,
  cacheControl,
  etagFor,
  ifNoneMatchMatches,
  nextPollAt,
  pollHeaders,
  retryAfterSeconds,
} from '../../../lambdas/status/protocols/http-cache';

const T0 = Date.parse('2024-05-01T10:00:00.000Z');
const ID = 'exec-1';

function write(current: ExecutionStatus | undefined, update: StatusWrite, seconds: number, id = ID): ExecutionStatus {
  return applyWrite(current, update, { executionId: id, nodeId: 'node-a', now: new Date(T0 + seconds * 1000) }).status;
}
const queued = write(undefined, { phase: 'QUEUED', processName: 'gs:Buffer' }, 0);
const running = write(queued, { phase: 'RUNNING', progress: 10 }, 10);
const running2 = write(running, { phase: 'RUNNING', progress: 20 }, 20);
const succeeded = write(running2, { phase: 'SUCCEEDED' }, 30);
const failed = write(running2, { phase: 'FAILED', exception: { code: 'X', message: 'y' } }, 30);
const dismissing = (dismiss(running2, ID) as { status: ExecutionStatus }).status;
const now = new Date(T0 + 25_000);

describe('etagFor', () => {
  it('changes with every stored change, including a dismiss', () => {
    const tags = [queued, running, running2, dismissing, succeeded].map(etagFor);
    expect(new Set(tags).size).toBe(tags.length);
  });

  it('is stable for the same stored state', () => {
    expect(etagFor(running)).toBe(etagFor({ ...running }));
  });

  it('differs when a removed id is reused and starts again at version 1', () => {
    const reused = write(undefined, { phase: 'QUEUED', processName: 'gs:Buffer' }, 500);
    expect(reused.version).toBe(queued.version);
    expect(etagFor(reused)).not.toBe(etagFor(queued));
  });

  it('is a weak tag of legal characters whatever the id contains', () => {
    const odd = write(undefined, { phase: 'QUEUED', processName: 'p' }, 0, 'a "quoted", spaced/ü id');
    expect(etagFor(odd)).toMatch(/^W\/"[\x21\x23-\x7E]+"$/);
    expect(etagFor(queued)).toMatch(/^W\/"exec-1:1:[0-9a-z]+"$/);
  });
});

describe('ifNoneMatchMatches', () => {
  const etag = etagFor(running);
  const opaque = etag.slice(2);

  it.each([
    ['the same weak tag', etag],
    ['the strong form of it (weak comparison)', opaque],
    ['a list containing it', `"other", ${etag} , "more"`],
    ['a list without spaces', `"other",${opaque}`],
    ['*', '*'],
    ['* with whitespace', '  *  '],
  ])('matches %s', (_label, header) => {
    expect(ifNoneMatchMatches(header, etag)).toBe(true);
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['another tag', '"exec-1:2:abc"'],
    ['an older version', etagFor(queued)],
    ['an unquoted tag', opaque.replace(/"/g, '')],
    ['a malformed list', `${etag} garbage`],
    ['an unterminated tag', '"abc'],
  ])('does not match %s', (_label, header) => {
    expect(ifNoneMatchMatches(header, etag)).toBe(false);
  });

  it('does not cut tags at commas inside the quotes', () => {
    expect(ifNoneMatchMatches('"a,b", "c"', '"a,b"')).toBe(true);
    expect(ifNoneMatchMatches('"a,b"', '"a"')).toBe(false);
  });
});

describe('poll timing', () => {
  it("uses the node's nextPoll while it is ahead", () => {
    const hinted = write(running, { phase: 'RUNNING', nextPoll: '2024-05-01T10:00:55.000Z' }, 20);
    expect(retryAfterSeconds(hinted, now, 10)).toBe(30);
    expect(nextPollAt(hinted, now, 10)?.toISOString()).toBe('2024-05-01T10:00:55.000Z');
  });

  it('rounds up to whole seconds, and never below 1', () => {
    const hinted = write(running, { phase: 'RUNNING', nextPoll: '2024-05-01T10:00:25.200Z' }, 20);
    expect(retryAfterSeconds(hinted, now, 10)).toBe(1);
  });

  it('falls back to the default when nextPoll is missing, past or garbage', () => {
    expect(retryAfterSeconds(running, now, 10)).toBe(10);
    expect(retryAfterSeconds(write(running, { phase: 'RUNNING', nextPoll: '2024-05-01T10:00:05Z' }, 20), now, 10)).toBe(10);
    expect(retryAfterSeconds({ ...running, nextPoll: 'soon' }, now, 7)).toBe(7);
    expect(retryAfterSeconds(queued, now, 10)).toBe(10);
  });

  it('caps a far-future nextPoll', () => {
    const far = write(running, { phase: 'RUNNING', nextPoll: '2024-06-01T00:00:00Z' }, 20);
    expect(retryAfterSeconds(far, now, 10)).toBe(MAX_RETRY_AFTER_SECONDS);
  });

  it('gives no poll hint for finished or dismissed jobs', () => {
    for (const status of [succeeded, failed, dismissing]) {
      expect(retryAfterSeconds(status, now, 10)).toBeUndefined();
      expect(nextPollAt(status, now, 10)).toBeUndefined();
    }
  });
});

describe('cacheControl', () => {
  it('lets caches keep a finished job for a while', () => {
    expect(cacheControl(succeeded)).toBe('public, max-age=300');
    expect(cacheControl(failed, { finishedMaxAgeSeconds: 60 })).toBe('public, max-age=60');
    expect(cacheControl(succeeded, { shared: false })).toBe('private, max-age=300');
  });

  it('makes caches revalidate an active job every time', () => {
    for (const status of [queued, running, dismissing]) expect(cacheControl(status)).toBe('public, no-cache');
    expect(cacheControl(running, { shared: false })).toBe('private, no-cache');
  });
});

describe('pollHeaders', () => {
  it('gives a running job an ETag, no-cache and Retry-After', () => {
    expect(pollHeaders(running, { now, defaultRetryAfterSeconds: 5 })).toEqual({
      etag: etagFor(running),
      'cache-control': 'public, no-cache',
      'retry-after': '5',
    });
  });

  it('gives a finished job an ETag and a max-age, and no Retry-After', () => {
    expect(pollHeaders(succeeded, { now, defaultRetryAfterSeconds: 5, finishedMaxAgeSeconds: 120 })).toEqual({
      etag: etagFor(succeeded),
      'cache-control': 'public, max-age=120',
    });
  });
});
