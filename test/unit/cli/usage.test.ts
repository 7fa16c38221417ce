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
  // A command with subcommands too: a shell glob (`config publish changes/*.json`) publishes none of the files, not the first only.
  [['config', 'publish', 'a.json', 'b.json'], /config publish takes one argument; 'b.json' is one too many/],
  [['config', 'publish', 'a.json', 'b.json', 'c.json'], /config publish takes one argument; 'b.json c.json' are too many/],
  [['config', 'log', '120'], /config log takes no arguments; '120' is one too many/],
  [['executions', 'get', 'e-1', 'e-2'], /executions get takes one argument; 'e-2' is one too many/],
  [['executions', 'list', 'RUNNING'], /executions list takes no arguments; 'RUNNING' is one too many/],
  [['executions', 'reindex', 'now'], /executions reindex takes no arguments; 'now' is one too many/],
  [['token', 'issue', 'ops', 'slave-1'], /token issue takes one argument; 'slave-1' is one too many/],
  [['token', 'revoke', 'ops', 'slave-1'], /token revoke takes one argument; 'slave-1' is one too many/],
  // An empty filter (`--node "$NODE"` with NODE unset) would list every execution as if they were that node's.
  [['executions', 'list', '--node', ''], /--node must name a node/],
  [['executions', 'list', '--process', ''], /--process must name a process/],
  [['resync', 'slave-1', '--source', ''], /--source must name a node/],
  [['resync', 'slave-1', '--source', '  '], /--source must name a node/],
  // An option the command does not take, ignored, would read as taken: a list filtered, a job detached.
  [['nodes', '--phase', 'FAILED'], /^geocluster: --phase does not apply to nodes \(it has no options of its own, besides those of every command\)\nUsage: geocluster nodes/],
  [['config', 'log', '--phase', 'FAILED'], /--phase does not apply to config log \(its own options are --since, --limit, besides those of every command\)/],
  [['config', 'publish', 'a.json', '--since', '3'], /--since does not apply to config publish/],
  [['executions', 'get', 'e-1', '--limit', '5'], /--limit does not apply to executions get/],
  [['pause', 'slave-1', '--detach'], /--detach does not apply to pause/],
  [['watch', 'e-1', '--wait'], /--wait does not apply to watch \(its own options are --interval/],
  [['reconcile', 'slave-1', '--last'], /--last does not apply to reconcile/],
  [['token', 'issue', 'ops', '--source', 'master-1'], /--source does not apply to token issue/],
  // An option the command takes, but that does nothing with the others given: ignored, it would read as taken too.
  [['drift', 'slave-1', '--last', '--detach'], /^geocluster: --detach does not apply to drift --last \(it starts no job: it lists the latest check's report\)\nUsage: geocluster drift/],
  [['drift', 'slave-1', '--last', '--interval', '200'], /^geocluster: --interval does not apply to drift --last \(it waits for no job: it lists the latest check's report\)\nUsage: geocluster drift/],
  [['drift', 'slave-1', '--interval', '200', '--last', '--json'], /^geocluster: --interval does not apply to drift --last/],
  [['job', 'slave-1', 'j-1', '--interval', '200'], /^geocluster: --interval does not apply to job without --wait \(it sets how often --wait polls the job; without --wait the job is read once\)\nUsage: geocluster job/],
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

// A number or a phase the API would refuse (or, as `limit=NaN`, read as something else): refused
// here, naming the option and what it takes, before any request. The URL is a closed port: a
// request would end in exit 3, not 2. A job command checks its --interval before starting the job.
test.each([
  [['executions', 'list', '--limit', 'abc'], "--limit must be a whole number from 1 to 1000, got 'abc'"],
  [['executions', 'list', '--limit', ''], "--limit must be a whole number from 1 to 1000, got ''"],
  [['executions', 'list', '--limit', '0'], "--limit must be a whole number from 1 to 1000, got '0'"],
  [['executions', 'list', '--limit', '1001'], "--limit must be a whole number from 1 to 1000, got '1001'"],
  [['executions', 'list', '--limit', '1e2'], "--limit must be a whole number from 1 to 1000, got '1e2'"],
  [['executions', 'list', '--phase', 'DONE'], "--phase must be one or more of QUEUED, RUNNING, SUCCEEDED, DISMISSING, FAILED (comma-separated), got 'DONE'"],
  [['executions', 'list', '--phase', 'running,'], "--phase must be one or more of QUEUED, RUNNING, SUCCEEDED, DISMISSING, FAILED (comma-separated), got 'running,'"],
  [['config', 'log', '--limit', 'abc'], "--limit must be a whole number of at least 1, got 'abc'"],
  [['config', 'log', '--since=-1'], "--since must be a whole number of at least 0, got '-1'"],
  // A negative number after the option (not `--since=-1`) is its value, refused as any other.
  [['config', 'log', '--since', '-1'], "--since must be a whole number of at least 0, got '-1'"],
  [['config', 'log', '--limit', '-5'], "--limit must be a whole number of at least 1, got '-5'"],
  [['executions', 'list', '--limit', '-1', '--json'], "--limit must be a whole number from 1 to 1000, got '-1'"],
  [['watch', 'e-1', '--interval', '-100'], "--interval (milliseconds) must be a whole number from 50 to 60000, got '-100'"],
  // No number at all: the option named with what it takes, not parseArgs' message and the usage.
  [['config', 'log', '--since'], "--since takes a whole number (--since SEQ), got nothing"],
  [['config', 'log', '--since', '--json'], "--since takes a whole number (--since SEQ), got '--json'"],
  [['config', 'log', '--since', '-x'], "--since takes a whole number (--since SEQ), got '-x'"],
  [['executions', 'list', '--limit', '--json'], "--limit takes a whole number (--limit N), got '--json'"],
  [['drift', 'slave-1', '--interval'], "--interval takes a whole number (--interval MS), got nothing"],
  [['watch', 'e-1', '--interval', 'soon'], "--interval (milliseconds) must be a whole number from 50 to 60000, got 'soon'"],
  [['drift', 'slave-1', '--interval', '10'], "--interval (milliseconds) must be a whole number from 50 to 60000, got '10'"],
  [['resync', 'slave-1', '--interval', '1e3'], "--interval (milliseconds) must be a whole number from 50 to 60000, got '1e3'"],
  [['job', 'slave-1', 'j-1', '--wait', '--interval', '0x64'], "--interval (milliseconds) must be a whole number from 50 to 60000, got '0x64'"],
])('geocluster %j refuses the option before any request (exit 2)', async (argv, message) => {
  let err = '';
  const io: CliIo = { out: () => undefined, err: (text) => (err += text), tty: false, env: { GEOCLUSTER_URL: 'http://127.0.0.1:1', GEOCLUSTER_TOKEN: 'master-1.abcdefghijklmnopqrstuvwxyz' }, cwd: '/nonexistent' };
  expect({ code: await runCli(argv, io), err }).toEqual({ code: 2, err: `geocluster: ${message}` });
});

// A mistyped command is named as such before the URL, the token or the running npm start's files
// are read: their errors (a stale .local/cluster.json, a token that cannot be sent) would send the
// operator after a problem that is not theirs.
test.each([
  [{ GEOCLUSTER_URL: 'ftp://example.com' }],
  [{ GEOCLUSTER_URL: 'http://127.0.0.1:1', GEOCLUSTER_TOKEN: 'not a token' }],
])('an unknown command is named as such whatever the URL and token (%#)', async (env) => {
  let err = '';
  const io: CliIo = { out: () => undefined, err: (text) => (err += text), tty: false, env, cwd: '/nonexistent' };
  expect(await runCli(['nodse'], io)).toBe(2);
  expect(err).toMatch(/^geocluster: unknown command 'nodse'\nUsage: geocluster <command>/);
});

// So is a mistyped subcommand, or a missing one: the usage alone left the operator to spot which
// word was wrong.
test.each([
  [['dead-letters', 'purge', 'slave-1'], "unknown dead-letters subcommand 'purge' (list or discard)", 'dead-letters list|discard'],
  [['executions', 'lst'], "unknown executions subcommand 'lst' (list, get or reindex)", 'executions list|get|reindex'],
  [['config', 'show'], "unknown config subcommand 'show' (publish or log)", 'config publish|log'],
  [['token', 'mint', 'ops'], "unknown token subcommand 'mint' (issue or revoke)", 'token issue|revoke'],
  [['executions'], 'executions needs a subcommand: list, get or reindex', 'executions list|get|reindex'],
  [['token'], 'token needs a subcommand: issue or revoke', 'token issue|revoke'],
])('geocluster %j names the subcommand it lacks, then its usage, whatever the URL and token', async (argv, message, usage) => {
  let err = '';
  const io: CliIo = { out: () => undefined, err: (text) => (err += text), tty: false, env: { GEOCLUSTER_URL: 'ftp://example.com', GEOCLUSTER_TOKEN: 'not a token' }, cwd: '/nonexistent' };
  expect(await runCli(argv, io)).toBe(2);
  expect(err.startsWith(`geocluster: ${message}\nUsage: geocluster ${usage} `)).toBe(true);
});

test.each([
  [['resync', 'slave-1', '--source', 'master-1', '--detach', '--interval', '500']],
  [['drift', 'slave-1', '--last']],
  [['job', 'slave-1', 'abc', '--wait', '--interval', '200']],
  [['executions', 'list', '--phase', 'FAILED', '--process', 'gs:Buffer', '--node', 'slave-1', '--limit', '5']],
  [['config', 'log', '--since', '3', '--limit', '5']],
  [['nodes', '--json', '--timeout', '5']],
])('geocluster %j takes its options (it gets past usage to the request)', async (argv) => {
  const { code, err } = await run(...argv, '--url', 'http://127.0.0.1:9', '--token', 'master-1.secretAsecretAsecretA');
  expect(err).not.toMatch(/does not apply/);
  expect(code).toBe(3);
});
