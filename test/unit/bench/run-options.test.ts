/**
 * `npm run bench` (bench/run.ts) as README "Performance" shows it: `--help` prints its usage, and
 * an `--only` part it does not have (a typo) or an option it does not take is refused before
 * anything runs, naming it, rather than a run that measures nothing and exits 0, or a stack trace.
 */
import * as path from 'node:path';
import { runProcess, type ProcessRun } from '../../support/run-process';

// Each run starts a Node process that compiles the bench with tsx: seconds on a busy machine.
jest.setTimeout(60_000);
const ROOT = path.resolve(__dirname, '..', '..', '..');

function bench(...args: string[]): Promise<ProcessRun> {
  return runProcess(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [path.join(ROOT, 'bench', 'run.ts'), ...args], { cwd: ROOT, env: { PATH: process.env.PATH } });
}

it('--help prints the usage, with every part --only takes, and runs nothing', async () => {
  const run = await bench('--help');
  expect(run).toMatchObject({ code: 0, stderr: '' });
  expect(run.stdout).toMatch(/^Usage: npm run bench -- /);
  for (const part of ['status', 'bundles', 'import-parts', 'propagation', 'calls', 'listing', 'xml', 'geoserver']) expect(run.stdout).toContain(part);
  expect(run.stdout).not.toContain('requests per round');
});

it.each([
  [['--only', 'propagaton'], /--only: 'propagaton' is not a part of the bench \(parts: status, bundles, .*\)/],
  [['--only', 'status,lisitng'], /--only: 'lisitng' is not a part of the bench/],
  [['--only', ''], /--only: '' is not a part of the bench/],
  [['--nodez', '3'], /Unknown option '--nodez'/],
])('bench %j is refused (exit 2) naming the mistake, before anything runs', async (args, message) => {
  const run = await bench(...args);
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).toMatch(/npm run bench -- --help/);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stdout).toBe('');
});
