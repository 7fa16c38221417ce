/**
 * `npm start` with an option it does not take (a typo, a missing value, a bare argument) is
 * refused before anything starts, with one line naming the option and where the options are
 * listed, as every other bad start is: no stack trace.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..', '..');

test.each([
  [['--inmemory'], "Unknown option '--inmemory'"],
  [['--in-memory', '--port'], "Option '--port <value>' argument missing"],
  [['3100'], "Unexpected argument '3100'"],
  [['--fresh=yes'], "Option '--fresh' does not take an argument"],
])('npm start %j is refused in one line naming the option', (argv, named) => {
  const run = spawnSync(path.join(root, 'node_modules', '.bin', 'tsx'), ['local/start.ts', ...argv], { cwd: root, encoding: 'utf8' });
  expect(run.status).toBe(1);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^npm start: /);
  expect(lines[0]).toContain(named);
  expect(lines[0]).toMatch(/npm start -- --help lists the options$/);
});

test.each([['http://geoserver-host'], ['geoserver-host:3000'], ['a/b'], ['']])('npm start --allow-host %j (not a bare host name) is refused in one line before anything starts', (name) => {
  const run = spawnSync(path.join(root, 'node_modules', '.bin', 'tsx'), ['local/start.ts', '--in-memory', '--allow-host', name], { cwd: root, encoding: 'utf8' });
  expect(run.status).toBe(1);
  expect(run.stdout).toBe('');
  expect(run.stderr.trimEnd().split('\n')).toEqual([`npm start: --allow-host takes host names without port or scheme (e.g. --allow-host geoserver-host), got '${name}'`]);
});
