import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { processStart } from '../../../local/process-runs';
import { assemblyDirName, removeStaleAssemblies } from '../../../local/stale-assemblies';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'stale-assemblies-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("removes the assemblies of in-memory clusters whose process is gone, and nothing else", () => {
  // A process that has ended: its pid is free.
  const ended = spawnSync(process.execPath, ['-e', '0']).pid as number;
  const assembly = (name: string) => {
    mkdirSync(path.join(dir, name, 'asset.x'), { recursive: true });
    writeFileSync(path.join(dir, name, 'asset.x', 'index.js'), '');
  };
  assembly(`cdk.out-${ended}-1796360000000`);
  assembly(`cdk.out-${process.pid}-1796360000001`); // a running cluster's (this process stands for it)
  assembly('cdk.out'); // the persistent cluster's
  mkdirSync(path.join(dir, 'data'));
  writeFileSync(path.join(dir, 'node-tokens.json'), '{}');
  writeFileSync(path.join(dir, `cdk.out-${ended}-notes.txt`), 'not an assembly');

  expect(removeStaleAssemblies(dir)).toEqual([`cdk.out-${ended}-1796360000000`]);
  expect(readdirSync(dir).sort()).toEqual(['cdk.out', `cdk.out-${ended}-notes.txt`, `cdk.out-${process.pid}-1796360000001`, 'data', 'node-tokens.json'].sort());
});

test('a state directory that does not exist yet is no error', () => {
  expect(removeStaleAssemblies(path.join(dir, 'missing'))).toEqual([]);
  expect(existsSync(path.join(dir, 'missing'))).toBe(false);
});

(processStart() !== undefined ? test : test.skip)('removes an assembly whose pid a later process was given (another start time), and keeps one whose process runs', () => {
  // The parent of this test process runs; an assembly naming it with another start time is a
  // killed cluster's whose pid was handed on.
  const other = process.ppid;
  const started = processStart(other) as number;
  const reused = assemblyDirName({ pid: other, start: started + 1 }, 1796360000000);
  const running = assemblyDirName({ pid: other, start: started }, 1796360000001);
  const own = assemblyDirName(); // this process's, as an in-memory cluster names it
  for (const name of [reused, running, own]) mkdirSync(path.join(dir, name));
  expect(reused).toBe(`cdk.out-${other}-${started + 1}-1796360000000`);

  expect(removeStaleAssemblies(dir)).toEqual([reused]);
  expect(readdirSync(dir).sort()).toEqual([own, running].sort());
});

test('an assembly name without a start time (an older run, or not on Linux) is judged by its pid alone', () => {
  expect(assemblyDirName({ pid: 4321, start: undefined }, 1796360000000)).toBe('cdk.out-4321-1796360000000');
  mkdirSync(path.join(dir, `cdk.out-${process.ppid}-1796360000000`));
  expect(removeStaleAssemblies(dir)).toEqual([]);
});
