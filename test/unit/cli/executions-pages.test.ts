/**
 * `executions list` against a listing the API answers in pages: a filtered page may come out
 * short (or empty) with a `nextCursor` when a second filter drops most of what it reads (README,
 * GET /executions). The CLI pages on with that cursor, the same filters and what is left of the
 * --limit, until it has the statuses asked for or the listing ends: a short page is never shown
 * as the whole listing.
 */
import { scriptedCli } from '../../support/scripted-cli';

const cli = scriptedCli('geocluster-executions-pages-');
const { run } = cli;

const at = '2026-12-06T08:00:00.000Z';
const status = (id: string) => ({ executionId: id, processName: 'gs:Buffer', phase: 'RUNNING', progress: 10, nodeId: 'slave-1', creationTime: at, lastUpdated: at, version: 1 });
const page = (ids: string[], nextCursor?: string) => ({ status: 200, body: { executions: ids.map(status), ...(nextCursor ? { nextCursor } : {}) } });
const listed = (out: string) => out.trim().split('\n').slice(1).map((line) => line.split(/\s+/)[0]);
const queries = () => cli.server.requests.map((request) => new URLSearchParams(request.path.split('?')[1] ?? ''));

describe('executions list over pages', () => {
  it('pages on after a short page, with its cursor and what is left of --limit, until the listing ends', async () => {
    cli.script = { 'GET /executions': [page(['e-1', 'e-2'], 'c1'), page([], 'c2'), page(['e-3'])] };
    const { code, out, err } = await run('executions', 'list', '--phase', 'RUNNING', '--node', 'slave-1', '--limit', '5');
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(listed(out)).toEqual(['e-1', 'e-2', 'e-3']);
    expect(out).not.toContain('more');
    expect(queries().map((query) => [query.get('cursor'), query.get('limit'), query.get('phase'), query.get('nodeId')])).toEqual([
      [null, '5', 'RUNNING', 'slave-1'],
      ['c1', '3', 'RUNNING', 'slave-1'],
      ['c2', '3', 'RUNNING', 'slave-1'],
    ]);
  });

  it('stops at --limit and says that more statuses match (nextCursor in --json)', async () => {
    cli.script = { 'GET /executions': [page(['e-1'], 'c1'), page(['e-2', 'e-3'], 'c2')] };
    const { code, out } = await run('executions', 'list', '--process', 'gs:Buffer', '--limit', '3');
    expect(code).toBe(0);
    expect(listed(out).slice(0, 3)).toEqual(['e-1', 'e-2', 'e-3']);
    expect(out.trim().split('\n').at(-1)).toMatch(/^\(more match:/);
    expect(cli.server.requests).toHaveLength(2);
    cli.server.requests.length = 0;
    const json = await run('executions', 'list', '--process', 'gs:Buffer', '--limit', '3', '--json');
    expect(JSON.parse(json.out)).toMatchObject({ executions: [{ executionId: 'e-1' }, { executionId: 'e-2' }, { executionId: 'e-3' }], nextCursor: 'c2' });
  });

  it('keeps in --json the members of the answer this CLI does not know, as every command does', async () => {
    cli.script = { 'GET /executions': [{ status: 200, body: { ...page(['e-1'], 'c1').body, readFrom: 'index' } }, { status: 200, body: { ...page(['e-2']).body, readFrom: 'index' } }] };
    const { code, out } = await run('executions', 'list', '--phase', 'RUNNING', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ executions: [status('e-1'), status('e-2')], readFrom: 'index' });
  });

  it('refuses a cursor that does not move on, rather than ask for the same page for ever', async () => {
    cli.script = { 'GET /executions': page([], 'c1') };
    const { code, err } = await run('executions', 'list', '--phase', 'RUNNING', '--node', 'slave-1');
    expect(code).toBe(1);
    expect(err).toContain('GET /executions answered a page that does not move on');
  });
});
