import { corsHeaders, corsOriginsFromEnv, preflightResponse, withCors } from '../../../lambdas/shared/cors';
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
