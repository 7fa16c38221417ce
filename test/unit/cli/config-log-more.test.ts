/**
 * `config log --since` pages through the log until its head, within a run's bound and the
 * `--limit` asked for. A run that stops before the head says so and where to go on (as text and
 * as `next` in `--json`); one that reaches the head says nothing more, so a table is never read
 * as the whole rest of the log when it is not.
 */
import { scriptedCli } from '../../support/scripted-cli';

const cli = scriptedCli('geocluster-log-more-');
const { run } = cli;

const summary = (sequence: number) => ({
  sequence, origin: 'master-1', publishedAt: '2026-12-06T08:00:00.000Z', kind: 'add', object: { type: 'workspace', id: `ws-${sequence}` }, offloaded: false,
});
const page = (from: number, to: number, head: number) => ({
  status: 200,
  body: { head, events: Array.from({ length: to - from + 1 }, (_, index) => summary(from + index)), next: to < head ? to : null },
});

describe('config log --since past a sequence still being written', () => {
  it('asks again where the API ended a page before it, and lists every event once written', async () => {
    // The API ends a page before a sequence allocated and not yet written, and answers next = since
    // while it is the very next one (lambdas/config-sync/event-log-view.ts).
    cli.script = {
      'GET /config/events': [
        { status: 200, body: { head: 6, events: [summary(1), summary(2)], next: 2 } },
        { status: 200, body: { head: 6, events: [], next: 2 } },
        page(3, 6, 6),
      ],
    };
    const { code, out, err } = await run('config', 'log', '--since', '0', '--json');
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect((JSON.parse(out) as { events: { sequence: number }[] }).events.map((event) => event.sequence)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('config log --since that stops before the head', () => {
  it('names where it stopped, why, and the command for the rest, when --limit ends it', async () => {
    cli.script = { 'GET /config/events': page(1, 2, 5) };
    const { code, out } = await run('config', 'log', '--since', '0', '--limit', '2');
    expect(code).toBe(0);
    expect(out.trim().split('\n').at(-1)).toBe('stopped at sequence 2, before the end of the log (--limit 2): the rest with geocluster config log --since 2');
  });

  it('gives the sequence to go on from as next in --json', async () => {
    cli.script = { 'GET /config/events': page(4, 5, 9) };
    const { code, out } = await run('config', 'log', '--since', '3', '--limit', '2', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ head: 9, next: 5, events: [{ sequence: 4 }, { sequence: 5 }] });
  });

  it('says nothing more when the page reaches the head, --limit or not', async () => {
    cli.script = { 'GET /config/events': page(4, 5, 5) };
    for (const argv of [['--limit', '2'], []]) {
      const { code, out } = await run('config', 'log', '--since', '3', ...argv);
      expect(code).toBe(0);
      expect(out).not.toContain('stopped at');
      expect(out.trim().split('\n').at(-1)).toMatch(/^5 +add +workspace\/ws-5 /);
    }
    const { out } = await run('config', 'log', '--since', '3', '--json');
    expect(JSON.parse(out)).toMatchObject({ head: 5, next: null });
  });

  it("names the run's bound when a log longer than it ends the run", async () => {
    // Pages of 100 from wherever `since` asks, in a log of 20,000 events.
    const pages = Array.from({ length: 200 }, (_, index) => page(index * 100 + 1, index * 100 + 100, 20_000));
    cli.script = { 'GET /config/events': pages };
    const { code, out } = await run('config', 'log', '--since', '0');
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines.at(-2)).toMatch(/^10000 +add +workspace\/ws-10000 /);
    expect(lines.at(-1)).toBe('stopped at sequence 10000, before the end of the log (at most 10,000 events a run): the rest with geocluster config log --since 10000');
  });
});

describe('config log --limit beyond a page, without --since', () => {
  it('lists the latest N events asked for, not the one page of 100 the API answers at most', async () => {
    // The latest page (at most 100), then the pages from 250 - 200 = 50 on.
    cli.script = { 'GET /config/events': [page(151, 250, 250), page(51, 150, 250), page(151, 250, 250)] };
    const { code, out } = await run('config', 'log', '--limit', '200');
    expect(code).toBe(0);
    const rows = out.trim().split('\n').slice(2);
    expect(rows).toHaveLength(200);
    expect(rows[0]).toMatch(/^51 +add +workspace\/ws-51 /);
    expect(rows.at(-1)).toMatch(/^250 +add +workspace\/ws-250 /);
    expect(out).not.toContain('stopped at');
  });

  it('lists the whole log when it holds fewer events than asked for', async () => {
    cli.script = { 'GET /config/events': [page(21, 120, 120), page(1, 100, 120), page(101, 120, 120)] };
    const { code, out } = await run('config', 'log', '--limit', '500', '--json');
    expect(code).toBe(0);
    const answer = JSON.parse(out) as { head: number; events: { sequence: number }[] };
    expect(answer.events.map((event) => event.sequence)).toEqual(Array.from({ length: 120 }, (_, index) => index + 1));
    expect(answer).not.toHaveProperty('next');
  });
});
