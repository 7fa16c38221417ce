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

// A node name, an execution id or a job id the API would never take: refused here, by name,
// before a request. `.` and `..` would not even reach their route: the URL resolves them away
// (`/nodes/../pause` is `/pause`), and the API could only answer "Not Found".
test.each([
  [['pause', '..'], /^geocluster: node '\.\.' must be 1-31 lowercase letters, digits or dashes/],
  [['drift', 'Slave-1', '--last'], /^geocluster: node 'Slave-1' must be 1-31 lowercase letters/],
  [['resync', 'slave-1', '--source', '../master-1'], /^geocluster: --source node '\.\.\/master-1' must be 1-31 lowercase letters/],
  [['job', 'slave-1', '.'], /^geocluster: job id '\.' must be 1-64 letters, digits or dashes/],
  [['executions', 'get', '..'], /^geocluster: execution id '\.\.' must be 1-128 letters, digits, or _ \. : -/],
  [['watch', 'a/b'], /^geocluster: execution id 'a\/b' must be 1-128 letters, digits, or _ \. : -/],
])('geocluster %j names the bad argument (exit 2)', async (argv, message) => {
  const { code, err } = await run(...argv);
  expect(code).toBe(2);
  expect(err).toMatch(message);
});

// A token the CLI cannot send as it is: refused before any request, naming where it came from and
// never echoing it (fetch's own error would print the whole Authorization header).
test.each([
  [{ GEOCLUSTER_TOKEN: 'master-1.SECRETpart\nmorePartOfTheSecret' }, /GEOCLUSTER_TOKEN holds a space, a line break or a character outside ASCII/],
  [{ GEOCLUSTER_TOKEN: 'master-1.SECRETpartéLettersOfTheSecret' }, /GEOCLUSTER_TOKEN holds a space, a line break or a character outside ASCII/],
])('a token that cannot be sent is a usage error that does not print it (%#)', async (env, message) => {
  let err = '';
  const io: CliIo = { out: () => undefined, err: (text) => (err += text), tty: false, env: { GEOCLUSTER_URL: 'http://127.0.0.1:1', ...env }, cwd: '/nonexistent' };
  expect(await runCli(['nodes'], io)).toBe(2);
  expect(err).toMatch(message);
  expect(err).not.toContain('SECRET');
});

test('a URL with a user name and password is a usage error that does not print the password', async () => {
  let err = '';
  const io: CliIo = { out: () => undefined, err: (text) => (err += text), tty: false, env: { GEOCLUSTER_URL: 'https://ops:hunter2-SECRET@api.example.com/prod' }, cwd: '/nonexistent' };
  expect(await runCli(['nodes', '--token', 'master-1.abcdefghijklmnopqrstuvwxyz'], io)).toBe(2);
  expect(err).toMatch(/^geocluster: --url must not hold a user name or password/);
  expect(err).not.toContain('SECRET');
});
