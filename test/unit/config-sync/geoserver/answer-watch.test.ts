/**
 * The GeoServer as a node's jobs reach it notes whether it answered a call, per job slice, so
 * GET /nodes shows a GeoServer only jobs have talked to (invocation.ts, `afterJobSlice`).
 */
import { AnswerWatchingRest } from '../../../../lambdas/config-sync/geoserver/answer-watch';
import { GeoServerUnreachableError } from '../../../../lambdas/config-sync/geoserver/errors';

describe('a GeoServer whose answers are watched', () => {
  it('passes calls through and says whether any got an answer since it was last asked', async () => {
    let up = true;
    const watched = new AnswerWatchingRest({
      url: 'http://10.0.3.21:8080/geoserver',
      send: async (request) => {
        if (!up) throw new GeoServerUnreachableError('connect ECONNREFUSED');
        return { status: request.path === '/workspaces/none.json' ? 404 : 200, text: '{}' };
      },
    });
    expect(watched.url).toBe('http://10.0.3.21:8080/geoserver');
    expect(watched.takeAnswered()).toBe(false);
    await expect(watched.send({ method: 'GET', path: '/workspaces/none.json' })).resolves.toEqual({ status: 404, text: '{}' });
    expect(watched.takeAnswered()).toBe(true);
    expect(watched.takeAnswered()).toBe(false);
    up = false;
    await expect(watched.send({ method: 'GET', path: '/workspaces.json' })).rejects.toBeInstanceOf(GeoServerUnreachableError);
    expect(watched.takeAnswered()).toBe(false);
  });
});
