import { corsHeaders, corsOriginsFromEnv, preflightResponse, withCors } from '../../../lambdas/shared/cors';
import { corsPaths, type RouteDeclaration } from '../../../lambdas/shared/manifest';
import { CORS_POLLING_PATHS } from '../../../lambdas/status/manifest';
import type { HttpEvent } from '../../../lambdas/shared/http';

const request = (headers: Record<string, string> = {}) => ({ headers, requestContext: { http: { method: 'GET' } } }) as unknown as HttpEvent;
const MAPS = 'https://maps.example.org';

describe('CORS origins', () => {
  it('defaults to any origin and reads a JSON list', () => {
    expect(corsOriginsFromEnv(undefined)).toEqual(['*']);
    expect(corsOriginsFromEnv(`["${MAPS}"]`)).toEqual([MAPS]);
    expect(() => corsOriginsFromEnv('maps.example.org')).toThrow('CORS_ALLOWED_ORIGINS');
  });

  it('answers * for any origin, exposing the poll hints', () => {
    expect(corsHeaders(request({ origin: 'https://a.example' }), ['*'])).toEqual({
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'ETag, Retry-After, Location',
    });
  });

  it('echoes a listed origin with Vary, and allows no other', () => {
    expect(corsHeaders(request({ origin: MAPS }), [MAPS])).toMatchObject({ 'access-control-allow-origin': MAPS, vary: 'Origin' });
    expect(corsHeaders(request({ origin: 'https://evil.example' }), [MAPS])).toEqual({ vary: 'Origin' });
    expect(corsHeaders(request({ origin: MAPS }), [])).toEqual({});
  });

  it('adds the headers to any answer, errors included, keeping its own Vary', async () => {
    const route = withCors([MAPS], async () => ({ statusCode: 404, headers: { vary: 'Accept' }, body: '{}' }));
    const result = await route(request({ origin: MAPS }));
    expect(result.statusCode).toBe(404);
    expect(result.headers).toMatchObject({ 'access-control-allow-origin': MAPS, vary: 'Accept, Origin' });
  });

  it('answers a preflight for an allowed origin and method with 204, and refuses others with 403', () => {
    const allowed = preflightResponse(request({ origin: MAPS, 'access-control-request-method': 'POST' }), [MAPS], ['GET', 'POST']);
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers).toMatchObject({ 'access-control-allow-origin': MAPS, 'access-control-allow-methods': 'GET, POST' });
    expect(preflightResponse(request({ origin: MAPS, 'access-control-request-method': 'DELETE' }), [MAPS], ['GET']).statusCode).toBe(403);
    expect(preflightResponse(request({ origin: 'https://evil.example', 'access-control-request-method': 'GET' }), [MAPS], ['GET']).statusCode).toBe(403);
  });
});

describe('the paths open to browsers', () => {
  it('are the polls the manifests flag, with HEAD where the route answers it, and no write or listing', () => {
    // What docs/architecture.md ("Browsers (CORS)") promises; a write route flagged by mistake shows here.
    expect(CORS_POLLING_PATHS).toEqual([
      { path: '/executions/{executionId}', methods: ['GET', 'HEAD'] },
      { path: '/ows', methods: ['GET', 'HEAD', 'POST'] },
      { path: '/jobs/{jobId}', methods: ['GET', 'HEAD'] },
      { path: '/jobs/{jobId}/results', methods: ['GET', 'HEAD'] },
      { path: '/conformance', methods: ['GET', 'HEAD'] },
      { path: '/openapi.json', methods: ['GET', 'HEAD'] },
    ]);
  });

  it('gathers one path from several routes, HEAD once', () => {
    const api = {} as RouteDeclaration['api'];
    expect(
      corsPaths({
        A: { entry: 'a.ts', routes: [{ method: 'GET', path: '/p', access: 'read', api, head: true, cors: true }] },
        B: {
          entry: 'b.ts',
          routes: [
            { method: 'POST', path: '/p', access: 'read', api, cors: true },
            { method: 'DELETE', path: '/p', access: 'read', api },
            { method: 'GET', path: '/q', access: 'node', api, head: { refused: 'no' }, cors: true },
          ],
        },
        C: { entry: 'c.ts' },
      }),
    ).toEqual([
      { path: '/p', methods: ['GET', 'HEAD', 'POST'] },
      { path: '/q', methods: ['GET', 'HEAD'] },
    ]);
  });
});
