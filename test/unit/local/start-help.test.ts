/**
 * `npm start -- --help` says what each option does, and how to run beside other local clusters
 * (DynamoDB Local's and the emulator's ports default to fixed ones that another cluster holds).
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

test('npm start --help describes every option, and 0 for a free port', () => {
  const root = path.resolve(__dirname, '..', '..', '..');
  const help = execFileSync(path.join(root, 'node_modules', '.bin', 'tsx'), ['local/start.ts', '--help'], { cwd: root, encoding: 'utf8' });
  for (const option of ['--port N', '--dynamo-port N', '--aws-port N', '--fresh', '--in-memory', '--no-schedules', '--no-iam', '--cluster-file FILE', '--function-log FILE']) {
    expect(help).toMatch(new RegExp(`^  ${option.replace(/-/g, '\\-')} +\\S`, 'm'));
  }
  expect(help).toContain('--dynamo-port 0 --aws-port 0');
  // A second persisted run of the checkout is refused while the first runs (local/cluster.ts).
  expect(help).toContain("beside this checkout's own running cluster, which owns .local/, add --in-memory");
});
