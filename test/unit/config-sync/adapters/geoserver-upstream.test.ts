import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpUpstream, UpstreamAnswerTooLargeError, UpstreamUnavailableError } from '../../../../lambdas/config-sync/adapters/geoserver-upstream';

describe('HttpUpstream', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // Answers its status and the first bytes of a body, then goes silent.
    // `/broken` breaks the connection off instead.
    server = createServer((request, response) => {
      if (request.url?.includes('/declared')) {
        // Says its length up front: refused before its body is read.
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        response.end('x'.repeat(1000));
        return;
      }
      if (request.url?.includes('/options')) {
        response.writeHead(200, { allow: 'GET, HEAD, OPTIONS' });
        response.end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"workspaces":', () => {
        if (request.url?.includes('/broken')) response.socket?.destroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/geoserver`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('a master that goes silent part way through its answer is a timeout (504), not an unexpected error', async () => {
    const upstream = new HttpUpstream(url, 300, 1024 * 1024);
    const error = await upstream.send({ method: 'GET', path: '/workspaces.json', query: '', headers: {} }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ timedOut: true });
  });

  it('a master that breaks the connection off part way through its answer is out of reach (502), not an unexpected error', async () => {
    const upstream = new HttpUpstream(url, 5000, 1024 * 1024);
    const error = await upstream.send({ method: 'GET', path: '/broken.json', query: '', headers: {} }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ timedOut: false });
  });

  it('an answer over the cap, streamed without a length, is refused as too large, not taken for a master out of reach (502 GEOSERVER_UNAVAILABLE)', async () => {
    const upstream = new HttpUpstream(url, 300, 4);
    const error = await upstream.send({ method: 'GET', path: '/workspaces.json', query: '', headers: {} }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UpstreamAnswerTooLargeError);
    expect(error).not.toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ method: 'GET', path: '/workspaces.json', limit: 4 });
    expect((error as UpstreamAnswerTooLargeError).bytes).toBeUndefined();
    expect((error as Error).message).toContain('more than 4 bytes');
  });

  it('an answer whose Content-Length is over the cap is refused as too large with its size, before its body is read', async () => {
    const upstream = new HttpUpstream(url, 5000, 999);
    const error = await upstream.send({ method: 'GET', path: '/declared.json', query: '', headers: {} }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UpstreamAnswerTooLargeError);
    expect(error).toMatchObject({ method: 'GET', path: '/declared.json', limit: 999, bytes: 1000 });
  });

  it('a HEAD whose Content-Length (of the GET it stands for) is over the cap is answered: it carries no body', async () => {
    const upstream = new HttpUpstream(url, 5000, 999);
    const answer = await upstream.send({ method: 'HEAD', path: '/declared.json', query: '', headers: {} });
    expect(answer.status).toBe(200);
    expect(answer.body.length).toBe(0);
  });

  it("passes the master's Allow on (an OPTIONS's answer, the master's own 405)", async () => {
    const upstream = new HttpUpstream(url, 5000, 1024);
    const answer = await upstream.send({ method: 'OPTIONS', path: '/options', query: '', headers: {} });
    expect(answer.headers.allow).toBe('GET, HEAD, OPTIONS');
  });
});
