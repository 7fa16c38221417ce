/**
 * The CLI's own usage errors (exit 2, before any call to the cluster): a command given more
 * arguments than it takes acts on none of them, rather than on the first only.
 */
import { runCli, type CliIo } from '../../../cli/main';

async function run(...argv: string[]): Promise<{ code: number; err: string; out: string }> {
  let err = '';
  let out = '';
  const io: CliIo = { out: (text) => (out += text), err: (text) => (err += text), tty: false, env: {}, cwd: '/nonexistent' };
  return { code: await runCli(argv, io), err, out };
}

test.each([
  [['pause', 'slave-1', 'extra'], /pause takes one argument; 'extra' is one too many/],
  [['resume', 'slave-1', 'slave-2'], /resume takes one argument; 'slave-2' is one too many/],
  [['nodes', 'slave-1'], /nodes takes no arguments/],
  [['job', 'slave-1', 'abc', 'def'], /job takes 2 arguments; 'def' is one too many/],
  [['resync', 'slave-1', '--source', ''], /--source must name a node/],
  [['resync', 'slave-1', '--source', '  '], /--source must name a node/],
])('geocluster %j is a usage error', async (argv, message) => {
  const { code, err } = await run(...argv);
  expect(code).toBe(2);
  expect(err).toMatch(message);
});
