/**
 * The set-up the CLI's tests against a stand-in API share: a canned server on 127.0.0.1 answering
 * from a script the test sets (`cli.script = {...}`), a scratch directory as the CLI's working
 * directory, the requests seen cleared before each test, and `run`, the CLI with a master's token.
 * Registers its own Jest hooks, so call it at a test file's top level.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { routeOf, scriptedAnswers, startCannedServer, type CannedScript, type CannedServer } from './canned-server';
import { runCliCollected, type CliRun } from './run-cli';

export interface ScriptedCli {
  /** What the stand-in answers next (`CannedScript`). */
  script: CannedScript;
  readonly server: CannedServer;
  /** The CLI's working directory, removed after the file's tests. */
  readonly scratch: string;
  /** The routes asked for so far in this test, `METHOD /path`, in order. */
  requested(): string[];
  run(...argv: string[]): Promise<CliRun>;
}

export function scriptedCli(prefix: string): ScriptedCli {
  let server: CannedServer | undefined;
  let scratch: string | undefined;
  const cli: ScriptedCli = {
    script: {},
    get server() {
      if (!server) throw new Error('the stand-in API starts in beforeAll');
      return server;
    },
    get scratch() {
      if (!scratch) throw new Error('the scratch directory is made in beforeAll');
      return scratch;
    },
    requested: () => cli.server.requests.map(routeOf),
    run: (...argv) => runCliCollected(argv, { tty: false, env: { GEOCLUSTER_URL: cli.server.url, GEOCLUSTER_TOKEN: 'master-1.abcdefghijklmnopqrstuvwxyz' }, cwd: cli.scratch }),
  };
  beforeAll(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), prefix));
    server = await startCannedServer(scriptedAnswers(() => cli.script));
  });
  afterAll(async () => {
    await server?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });
  beforeEach(() => {
    cli.server.requests.length = 0;
  });
  return cli;
}
