/**
 * CORS over real HTTP on the suite's cluster (cdk.json: corsAllowedOrigins defaults to "*"):
 * browsers on other origins may poll; write and listing routes send no CORS headers and have no
 * preflight route, so browsers keep them closed.
 */
import { api, tokenOf } from '../../support/cluster-client';
import { executionIn, executionPath } from './support';

jest.setTimeout(30_000);

const ORIGIN = 'https://maps.example.org';
const preflight = (path: string, method: string) =>
  api('OPTIONS', path, { headers: { origin: ORIGIN, 'access-control-request-method': method, 'access-control-request-headers': 'if-none-match' } });

describe('CORS', () => {
  let id: string;
  beforeAll(async () => {
    ({ id } = await executionIn('RUNNING'));
  });

  test.each([
    ['/executions/{id}', 'GET'],
    ['/ows', 'GET'],
    ['/ows', 'POST'],
    ['/jobs/{id}', 'GET'],
    ['/jobs/{id}/results', 'GET'],
    ['/conformance', 'GET'],
    ['/openapi.json', 'GET'],
  ])('preflight of %s for %s: 204, allowed', async (path, method) => {
    const response = await preflight(path.replace('{id}', id), method);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-methods')).toContain(method);
    expect(response.headers.get('access-control-allow-headers')).toMatch(/If-None-Match/i);
  });

  test.each([
    ['/jobs/{id}', 'DELETE'],
    ['/executions/{id}', 'PUT'],
    ['/executions/{id}', 'DELETE'],
  ])('preflight of a write on a polling path (%s %s) is refused', async (path, method) => {
    const response = await preflight(path.replace('{id}', id), method);
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-methods')).toBeNull();
  });

  test.each([
    ['/executions', 'GET'],
    ['/jobs', 'GET'],
    ['/config/events', 'POST'],
    ['/nodes/slave-1/resync', 'POST'],
  ])('no preflight route on %s (%s): browsers cannot call it', async (path, method) => {
    const response = await preflight(path.replace('{id}', id), method);
    expect(response.status).toBe(404);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  test.each([
    ['/executions/{id}', 200],
    ['/executions/no-such-execution', 404],
    ['/jobs/{id}', 200],
    ['/jobs/{id}/results', 404],
    ['/ows?service=WPS&version=2.0.0&request=GetStatus&jobID={id}', 200],
    ['/conformance', 200],
    ['/openapi.json', 200],
  ])('GET %s answers %i with Access-Control-Allow-Origin and the poll hints exposed', async (path, status) => {
    const response = await api('GET', path.replace('{id}', id), { headers: { origin: ORIGIN } });
    expect(response.status).toBe(status);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-expose-headers')).toContain('ETag');
  });

  test('writes and listings answer without CORS headers', async () => {
    const write = await api('PUT', executionPath(id), { node: 'master-1', json: { phase: 'RUNNING', progress: 20 }, headers: { origin: ORIGIN } });
    expect(write.status).toBe(200);
    expect(write.headers.get('access-control-allow-origin')).toBeNull();
    const listing = await api('GET', '/executions?limit=1', { token: tokenOf('ops'), headers: { origin: ORIGIN } });
    expect(listing.status).toBe(200);
    expect(listing.headers.get('access-control-allow-origin')).toBeNull();
  });
});
