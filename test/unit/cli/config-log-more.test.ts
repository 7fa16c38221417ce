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
