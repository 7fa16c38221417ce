/**
 * The help of the commands with subcommands (`executions`, `config`), laid out one subcommand at
 * a time, each with a description of its own, as the other commands' help is; and the "log head"
 * line above the `nodes` and `config log` tables explained where those commands are described.
 */
import { runCliCollected, type CliRun } from '../../support/run-cli';

function run(...argv: string[]): Promise<CliRun> {
  return runCliCollected(argv, { tty: false, env: {}, cwd: '/nonexistent' });
}

describe('help of a command with subcommands', () => {
  /** The help's blocks: a usage line of `geocluster <command> <sub>` and the lines under it. */
  function blocks(help: string, command: string): Map<string, string[]> {
    const found = new Map<string, string[]>();
    let current: string[] | undefined;
    for (const line of help.split('\n')) {
      const usage = new RegExp(`^\\s+geocluster ${command} (\\w+)`).exec(line);
      if (usage) found.set(usage[1]!, (current = []));
      else if (line.trim() === '') current = undefined;
      else current?.push(line);
    }
    return found;
  }

  it.each([
    ['executions', ['list', 'get', 'reindex']],
    ['config', ['publish', 'log']],
  ])('geocluster %s --help gives each subcommand its own block: its usage, then a description under it', async (command, subcommands) => {
    const { code, out } = await run(command, '--help');
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`^Usage: geocluster ${command} ${subcommands.join('\\|')} `));
    const found = blocks(out, command);
    expect([...found.keys()]).toEqual(subcommands);
    for (const [sub, lines] of found) {
      // The first line under the usage says what the subcommand does, in a sentence of its own.
      expect({ sub, description: lines[0] }).toEqual({ sub, description: expect.stringMatching(/^ {4}[A-Z][a-z]+s .+[.:,;]?/) });
    }
    // No usage line runs into another subcommand's text.
    expect(out.split('\n').filter((line) => line.includes(`geocluster ${command} `)).every((line) => !/[.)]\s+geocluster/.test(line))).toBe(true);
  });

  it('the main help describes every executions subcommand, get included', async () => {
    const { out } = await run('--help');
    const lines = out.split('\n');
    for (const sub of ['list', 'get', 'reindex']) {
      const index = lines.findIndex((line) => line.startsWith(`  executions ${sub}`));
      expect(index).toBeGreaterThan(-1);
      // A description after the usage on its line, or (for a long usage) on the next line alone.
      const [, rest] = /^ {2}executions \w+(?: \S+)*?(?: {2,}(.*))?$/.exec(lines[index]!) ?? [];
      const next = lines[index + 1] ?? '';
      const description = rest ?? (/^ {10,}\S/.test(next) ? next.trim() : '');
      expect({ sub, description }).toEqual({ sub, description: expect.stringMatching(/^[a-z].{10,}/) });
    }
  });

  it.each([['nodes'], ['config']])('geocluster %s --help says what the "log head" line is', async (command) => {
    expect((await run(command, '--help')).out).toMatch(/"log head N"[^]*newest sequence in the configuration event\s+log/);
  });

  // POST /nodes/{node}/resync takes any other node of the cluster as `source` (a slave included:
  // its store and cursor make a snapshot as a master's do) and defaults to the first master.
  it('geocluster resync --help and the main help say --source may be any other node, a master by default', async () => {
    const resync = (await run('resync', '--help')).out;
    expect(resync).toContain("from a snapshot of another node's store plus the log after it");
    expect(resync).toMatch(/--source: any other node of the cluster, master or slave \(default: the first master or both node other than <node>\)/);
    const main = (await run('--help')).out.split('\n').find((line) => line.startsWith('  resync '));
    expect(main).toMatch(/snapshot of another node \(default: a master\)/);
    expect(main).not.toContain("a master's snapshot");
  });
});

describe('help of redrive', () => {
  // `geocluster nodes` answers a PARKED line with "after a fix: geocluster redrive <node>": the
  // help of that command must say it is the one that retries parked events.
  it.each([['redrive --help', ['redrive', '--help']], ['--help', ['--help']]])('geocluster %s says redrive retries parked events, not only dead letters', async (_shown, argv) => {
    const { code, out } = await run(...argv);
    expect(code).toBe(0);
    const redrive = out.split('\n\n').find((block) => /(^|\n)\s*(Usage: geocluster )?redrive <node>/.test(block)) ?? '';
    expect(redrive).toMatch(/dead-lettered events/);
    expect(redrive).toMatch(/retr(y|ies) its parked events/);
  });
});

describe('--help after a word that is no command', () => {
  // The name of an object's own property (constructor, __proto__, toString) is no command either.
  it.each([['nodse'], ['constructor'], ['__proto__'], ['toString']])('geocluster %s --help prints the main help', async (word) => {
    const { code, out, err } = await run(word, '--help');
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).toMatch(/^Usage: geocluster <command> \[options\]/);
  });
});

describe("a command's usage names every option it takes", () => {
  /** The options `argv` takes, as the CLI says when given one it does not take. */
  async function optionsTaken(argv: string[]): Promise<string[]> {
    const probe = argv.includes('log') ? '--phase' : '--since';
    const { err } = await run(...argv, probe, '1');
    const listed = /its own options are ((?:--[a-z]+(?:, )?)+)/.exec(err);
    if (/has no options of its own/.test(err)) return [];
    expect({ argv, err }).toEqual({ argv, err: expect.stringMatching(/its own options are/) });
    return listed![1]!.split(', ');
  }

  it.each([
    ['resync', ['resync', 'n']],
    ['drift', ['drift', 'n']],
    ['reconcile', ['reconcile', 'n']],
    ['capture', ['capture', 'n']],
    ['job', ['job', 'n', 'id']],
    ['watch', ['watch', 'id']],
    ['dead-letters list', ['dead-letters', 'list', 'n']],
    ['dead-letters discard', ['dead-letters', 'discard', 'n', 'id']],
    ['executions list', ['executions', 'list']],
    ['config log', ['config', 'log']],
    ['token issue', ['token', 'issue', 'n']],
  ])('geocluster %s --help', async (label, argv) => {
    const taken = await optionsTaken(argv);
    expect(taken.length).toBeGreaterThan(0);
    const [command, sub] = label.split(' ');
    const help = (await run(command!, '--help')).out;
    // The usage lines of this command, or of its subcommand (`geocluster token issue|revoke <name> ...` is one of both).
    const usage = help.split('\n').filter((line) => {
      const match = new RegExp(`^\\s*(?:Usage: )?geocluster ${command}(?: ([\\w|-]+))?`).exec(line);
      return match !== null && (sub === undefined || (match[1] ?? '').split('|').includes(sub));
    });
    expect(usage.length).toBeGreaterThan(0);
    for (const option of taken) expect({ label, option, named: usage.some((line) => line.includes(`[${option}`) || line.includes(` ${option}`)) }).toEqual({ label, option, named: true });
  });
});
