/**
 * `geocluster drift|reconcile|capture <node>` for a node without a GeoServer (the API refuses
 * it: 409 NO_GEOSERVER; 404 for a node the cluster does not have, or for `drift --last` with no
 * check to list): the error names the nodes that have one, from GET /nodes, or says that none has
 * and how to run a cluster with GeoServer nodes (README).
 */
import { scriptedCli } from '../../support/scripted-cli';

const cli = scriptedCli('geocluster-no-geoserver-');

const at = '2026-12-04T03:00:00.000Z';
const node = (name: string, role: 'master' | 'slave', geoserver = false) => ({
  name, role, lastAppliedSequence: 7, lag: 0, queueDepth: role === 'master' ? null : 0, deadLetterDepth: role === 'master' ? null : 0, paused: false,
  ...(geoserver ? { geoserver: { url: `http://127.0.0.1:1/${name}`, reachable: true, version: '2.26.2', checkedAt: at, lastError: null, rejected: [], unclearedProperties: [] } } : {}),
});
const refused = (status: number, code: string, message: string) => ({ status, body: { code, message } });
const noGeoServer = refused(409, 'NO_GEOSERVER', 'Node slave-1 declares no GeoServer: there is nothing to compare its store with');

describe('a job command for a node without a GeoServer', () => {
  // A reconcile reads GET /nodes before it starts (whether the node publishes: --yes), and names them from that answer.
  it.each([
    ['drift', 'POST /nodes/slave-1/drift', ['POST /nodes/slave-1/drift', 'GET /nodes']],
    ['reconcile', 'POST /nodes/slave-1/reconcile', ['GET /nodes', 'POST /nodes/slave-1/reconcile']],
  ])('%s names the nodes that have one', async (command, route, requests) => {
    cli.script = { [route]: noGeoServer, 'GET /nodes': { status: 200, body: { head: 7, nodes: [node('master-1', 'master'), node('slave-1', 'slave'), node('gs-1', 'slave', true), node('gs-2', 'slave', true)] } } };
    const { code, err } = await cli.run(command, 'slave-1');
    expect(code).toBe(1);
    expect(err).toBe('geocluster: 409 NO_GEOSERVER: Node slave-1 declares no GeoServer: there is nothing to compare its store with; the nodes with a GeoServer are gs-1, gs-2\n');
    expect(cli.requested()).toEqual(requests);
  });

  it('says when no node of the cluster has one, and how to run a cluster that has', async () => {
    cli.script = {
      'POST /nodes/gs-1/drift': refused(404, 'NODE_NOT_FOUND', 'Node gs-1 is not a member of cluster geo'),
      'GET /nodes': { status: 200, body: { head: 7, nodes: [node('master-1', 'master'), node('slave-1', 'slave')] } },
    };
    const { code, err } = await cli.run('drift', 'gs-1');
    expect(code).toBe(1);
    expect(err).toMatch(/^geocluster: 404 NODE_NOT_FOUND: Node gs-1 is not a member of cluster geo; no node of this cluster has a GeoServer: /);
    expect(err).toContain('GEOSERVER_URLS=<node>=<url> npm start');
  });

  it('drift --last of a node without one names the nodes that have one', async () => {
    cli.script = {
      'GET /nodes/slave-1/drift': refused(404, 'NOT_FOUND', 'Node slave-1 has no drift check yet'),
      'GET /nodes': { status: 200, body: { head: 7, nodes: [node('slave-1', 'slave'), node('gs-1', 'slave', true)] } },
    };
    const { err } = await cli.run('drift', 'slave-1', '--last');
    expect(err).toContain('; slave-1 has no GeoServer: the nodes with a GeoServer are gs-1\n');
  });

  it("a GeoServer node's own refusal is left as the API worded it", async () => {
    cli.script = {
      'GET /nodes/gs-1/drift': refused(404, 'NOT_FOUND', 'Node gs-1 has no drift check yet'),
      'GET /nodes': { status: 200, body: { head: 7, nodes: [node('gs-1', 'slave', true)] } },
    };
    expect((await cli.run('drift', 'gs-1', '--last')).err).toBe('geocluster: 404 NOT_FOUND: Node gs-1 has no drift check yet\n');
  });
});
