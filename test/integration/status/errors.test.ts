/**
 * Every error status of the write route, over real HTTP, and that a refused request writes nothing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { api } from '../../support/cluster-client';
import { executionIn, executionPath, expectUnchanged, put, read } from './support';

jest.setTimeout(30_000);

describe('error statuses', () => {
  let id: string;
  let before: any;

  beforeAll(async () => {
    ({ id, status: before } = await executionIn('RUNNING'));
  });

  // Every refused request below targets one existing execution, which must stay untouched.
  afterAll(async () => {
    await expectUnchanged(id, before);
  });

  test.each([
    ['an unknown phase', { phase: 'DONE' }, 'phase'],
    ['progress 101', { phase: 'RUNNING', progress: 101 }, 'progress'],
    ['progress -1', { phase: 'RUNNING', progress: -1 }, 'progress'],
    ['fractional progress', { phase: 'RUNNING', progress: 50.5 }, 'progress'],
    ['progress as a string', { phase: 'RUNNING', progress: '50' }, 'progress'],
    ['an unknown field', { phase: 'RUNNING', colour: 'blue' }, 'colour'],
    ['server-only version', { phase: 'RUNNING', version: 99 }, 'version'],
    ['server-only nodeId', { phase: 'RUNNING', nodeId: 'slave-2' }, 'nodeId'],
    ['server-only completionTime', { phase: 'RUNNING', completionTime: '2024-01-01T00:00:00Z' }, 'completionTime'],
    ['server-only lastUpdated', { phase: 'RUNNING', lastUpdated: '2024-01-01T00:00:00Z' }, 'lastUpdated'],
    ['server-only startTime', { phase: 'RUNNING', startTime: '2024-01-01T00:00:00Z' }, 'startTime'],
    ['a bad timestamp', { phase: 'RUNNING', nextPoll: 'tomorrow' }, 'nextPoll'],
    ['a timestamp without zone', { phase: 'RUNNING', estimatedCompletion: '2024-01-01T00:00:00' }, 'estimatedCompletion'],
    ['a timestamp in year 10000 in UTC', { phase: 'RUNNING', expirationDate: '9999-12-31T23:59:59-14:00' }, 'expirationDate'],
    ['a timestamp in year 0 in UTC', { phase: 'RUNNING', estimatedCompletion: '0001-01-01T00:00:00+01:00' }, 'estimatedCompletion'],
    ['a timestamp in year 0', { phase: 'RUNNING', nextPoll: '0000-06-01T00:00:00Z' }, 'nextPoll'],
    ['no phase', { progress: 5 }, 'phase'],
    ['an exception without code', { phase: 'FAILED', exception: { message: 'x' } }, 'exception.code'],
    ['a bad resultLocation', { phase: 'RUNNING', resultLocation: 'not a url' }, 'resultLocation'],
    ['a javascript: resultLocation', { phase: 'RUNNING', resultLocation: 'javascript:alert(document.cookie)' }, 'resultLocation'],
    ['a file: resultLocation', { phase: 'RUNNING', resultLocation: 'file:///etc/passwd' }, 'resultLocation'],
    ['a data: resultLocation', { phase: 'RUNNING', resultLocation: 'data:text/html,<script>alert(1)</script>' }, 'resultLocation'],
    ['an s3: resultLocation', { phase: 'RUNNING', resultLocation: 's3://bucket/key' }, 'resultLocation'],
  ])('400 for %s, naming the field', async (_label, body, field) => {
    const response = await put(id, body, 'slave-1');
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'INVALID_REQUEST', field });
    expect(response.body.message).toContain(field);
  });

  test('400 for a JSON value that is not an object', async () => {
    for (const body of ['[]', '42', 'null', '"RUNNING"']) {
      const response = await api('PUT', executionPath(id), { node: 'slave-1', body, headers: { 'content-type': 'application/json' } });
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('INVALID_REQUEST');
    }
  });

  test.each([
    ['a space', 'bad id'],
    ['a slash-free illegal character', 'bad!id'],
    ['a leading dash', '-abc'],
    ['129 characters', 'a'.repeat(129)],
  ])('400 for an executionId with %s, naming executionId; nothing stored', async (_label, badId) => {
    const response = await put(badId, { phase: 'QUEUED', processName: 'gs:Buffer' });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'INVALID_REQUEST', field: 'executionId' });
    const polled = await read(badId);
    expect(polled.status).toBe(400);
    expect(polled.body.field).toBe('executionId');
  });

  test('400 INVALID_JSON for malformed JSON', async () => {
    const response = await api('PUT', executionPath(id), {
      node: 'slave-1',
      body: '{"phase": "RUNNING", ',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'INVALID_JSON', field: 'body' });
  });

  test.each([
    ['a lone surrogate', String.raw`{"phase":"RUNNING","message":"half \uD83D of a pair"}`, 'INVALID_JSON', /lone surrogate \(at "message"\)/],
    ['a number JSON would round', '{"phase":"RUNNING","progress":12345678901234567890.0}', 'INVALID_JSON', /number 12345678901234567890\.0 \(at "progress"\)/],
    ['bytes that are not UTF-8', Buffer.from('{"phase":"RUNNING","message":"caf\xe9"}', 'latin1'), 'INVALID_ENCODING', /not UTF-8/],
    ['a member named twice', '{"phase":"RUNNING","progress":10,"phase":"FAILED"}', 'INVALID_JSON', /member "phase" twice/],
  ])('400 for a body holding %s, which would be stored changed; nothing stored', async (_label, body, code, message) => {
    const before = await read(id);
    const response = await api('PUT', executionPath(id), { node: 'slave-1', body, headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code, field: 'body' });
    expect(response.body.message).toMatch(message);
    expect(await read(id)).toMatchObject({ status: before.status, body: before.body });
  });

  test('400 for an empty body', async () => {
    const response = await api('PUT', executionPath(id), { node: 'slave-1', body: '', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(400);
    expect(response.body.field).toBe('body');
  });

  test('401 without a token, with the gateway body', async () => {
    const response = await api('PUT', executionPath(id), { json: { phase: 'RUNNING', progress: 90 } });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ message: 'Unauthorized' });
  });

  test.each([
    ['a wrong secret for a declared node', () => `master-1.${randomBytes(32).toString('base64url')}`],
    ['a token for an undeclared node', () => `ghost-1.${randomBytes(32).toString('base64url')}`],
    ['a malformed token', () => 'not-a-token'],
  ])('403 with %s', async (_label, token) => {
    const response = await api('PUT', executionPath(id), { token: token(), json: { phase: 'RUNNING', progress: 90 } });
    expect(response.status).toBe(403);
    expect(response.body).toEqual({ message: 'Forbidden' });
  });

  test('403 for a create too: nothing stored', async () => {
    const fresh = randomUUID();
    const response = await api('PUT', executionPath(fresh), {
      token: `ghost-1.${randomBytes(32).toString('base64url')}`,
      json: { phase: 'QUEUED', processName: 'gs:Buffer' },
    });
    expect(response.status).toBe(403);
    expect((await read(fresh)).status).toBe(404);
  });

  test('413 for a body over 64 KiB, also on create (nothing stored)', async () => {
    const big = { phase: 'RUNNING', task: 'x'.repeat(64 * 1024) };
    const response = await put(id, big, 'slave-1');
    expect(response.status).toBe(413);
    expect(response.body.code).toBe('PAYLOAD_TOO_LARGE');

    const fresh = randomUUID();
    const created = await put(fresh, { phase: 'QUEUED', processName: 'gs:Buffer', task: 'x'.repeat(70_000) });
    expect(created.status).toBe(413);
    expect((await read(fresh)).status).toBe(404);
  });

  test('415 for text/plain and for a form body', async () => {
    const body = JSON.stringify({ phase: 'RUNNING', progress: 90 });
    const plain = await api('PUT', executionPath(id), { node: 'slave-1', body, headers: { 'content-type': 'text/plain' } });
    expect(plain.status).toBe(415);
    expect(plain.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(plain.body.message).toContain('text/plain');

    const form = await api('PUT', executionPath(id), {
      node: 'slave-1',
      body: 'phase=RUNNING',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
  });

  test('application/json with a charset is accepted', async () => {
    const fresh = randomUUID();
    const response = await api('PUT', executionPath(fresh), {
      node: 'slave-1',
      body: JSON.stringify({ phase: 'QUEUED', processName: 'gs:Buffer' }),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(response.status).toBe(201);
  });
});

// Each answer goes through the client's check against the OpenAPI document, which fails on a
// status the operation does not declare: these three were missing from it.
describe('error statuses of the other status routes, as documented', () => {
  test('400 for DELETE of a malformed execution id', async () => {
    const response = await api('DELETE', '/executions/-starts-with-a-dash', { node: 'master-1' });
    expect([response.status, response.body.code, response.body.field]).toEqual([400, 'INVALID_REQUEST', 'executionId']);
  });

  // A dismiss takes no body: one sent (a reason, an option) was ignored and the execution
  // dismissed all the same, the caller left to believe what it sent was taken.
  test('400 for DELETE with a body: nothing is dismissed', async () => {
    const { id, status } = await executionIn('RUNNING');
    const response = await api('DELETE', executionPath(id), { node: 'master-1', invalidJson: { reason: 'cancelled by its user' } });
    expect([response.status, response.body.code, response.body.field]).toEqual([400, 'INVALID_REQUEST', 'body']);
    await expectUnchanged(id, status);
    const long = await api('DELETE', executionPath(id), { node: 'master-1', invalidJson: { reason: 'x'.repeat(2000) } });
    expect([long.status, long.body.code, long.body.field]).toEqual([400, 'INVALID_REQUEST', 'body']);
    await expectUnchanged(id, status);
    // No body, or the empty object a client sends for "no options", dismisses as before.
    expect((await api('DELETE', executionPath(id), { node: 'master-1', invalidJson: {} })).status).toBe(202);
  });

  test('413 for a WPS request document over the size limit', async () => {
    const body = `<?xml version="1.0"?><wps:GetStatus xmlns:wps="http://www.opengis.net/wps/2.0" service="WPS" version="2.0.0"><wps:JobID>${'x'.repeat(300 * 1024)}</wps:JobID></wps:GetStatus>`;
    const response = await api('POST', '/ows', { body, headers: { 'content-type': 'text/xml' } });
    expect(response.status).toBe(413);
    expect(response.body).toMatch(/<ows:Exception exceptionCode="NoApplicableCode">\s*<ows:ExceptionText>Request body exceeds the limit of 262144 bytes</);
  });

  test('413 for a reindex request over 64 KiB', async () => {
    const response = await api('POST', '/executions/reindex', { node: 'master-1', invalidJson: { limit: 1, pad: 'x'.repeat(70 * 1024) } });
    expect([response.status, response.body.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
  });
});
