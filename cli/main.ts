/**
 * `npx geocluster <command>`: the operator CLI of a cluster, over the typed API client.
 *
 * The API URL and token come from flags (--url, --token), else the environment
 * (GEOCLUSTER_URL, GEOCLUSTER_TOKEN), else the local cluster's .local/ (cluster.json written by
 * `npm start`, node-tokens.json; --as picks whose token, by default the first master; --as is a
 * flag, so it takes its token from there over GEOCLUSTER_TOKEN, and with --token is refused). `--node`
 * is the filter of `executions list` by the node that runs them, never the token: a caller lists
 * any node's executions under its own token (see nodeOptionMisused).
 *
 * Exit codes: 0 done; 1 the API refused or failed (its error is printed), or an answer is not
 * the API's (not JSON, or not the shape the API declares for it: cli/answers.ts); 2 bad usage;
 * 3 the API could not be reached; 4 `watch` saw the execution fail or be dismissed, or a job
 * waited for (resync, drift, reconcile, capture, `job --wait`) failed or left objects unfixed;
 * either stopped in a phase or state this CLI does not know (a newer cluster's: whether it has
 * ended cannot be told here, so the waiting stops rather than goes on for ever).
 *
 * A value the CLI does not know where the API declares a set of them (a node role, a job's kind,
 * state or phase, a consumption, an execution phase, a difference's kind: a newer cluster's) is
 * let through by the answer check (cli/answers.ts) and printed as it is; nothing here reads it
 * as one of the values it knows.
 *
 * `token issue|revoke` is the one command that does not go through the API: tokens are minted
 * and revoked in the credentials table with the operator's own AWS credentials, as
 * `npm run node-token` does. No API route mints tokens, on purpose: a route that did would let
 * one leaked master token mint lasting tokens for every name, while the table path needs the
 * deployer's IAM permission on that one table.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CredentialsStore } from '../lambdas/shared/adapters/credentials-store';
import { isNodeName, NODE_NAME_RULE } from '../lambdas/shared/cluster-model';
import { MAX_CHANGE_SET_BYTES, MAX_CHANGE_SET_ITEMS } from '../lambdas/config-sync/change-set-limits';
import { JOB_ID_PATTERN, JOB_ID_RULE, JOB_KINDS, JOB_STATES } from '../lambdas/config-sync/jobs';
import { parkedEventsText } from '../lambdas/config-sync/ports';
import { MAX_DEAD_LETTER_PAGE } from '../lambdas/config-sync/request-schemas';
import { MIN_SECRET_LENGTH, MINTED_SECRET_LENGTH, parseAuthorizationHeader } from '../lambdas/shared/node-token';
import { lazily } from '../lambdas/shared/lazily';
import { PHASES } from '../lambdas/status/execution';
import { EXECUTION_ID_PATTERN, EXECUTION_ID_RULE, MAX_LIST_LIMIT } from '../lambdas/status/schemas';
import { writerRuns } from '../local/cluster-file';
import { processRuns } from '../local/process-runs';
import type { components, paths } from './api-types';
import { createClusterClient, DEFAULT_REQUEST_TIMEOUT_S, NotAnApiAnswer, RequestTimedOut, UnexpectedAnswer, type ClusterApi } from './client';
import { counted, numbered } from './wording';

type NodeState = components['schemas']['NodeState'];
type ExecutionStatus = components['schemas']['ExecutionStatus'];
type EventSummary = components['schemas']['EventSummary'];
type NodeJob = components['schemas']['NodeJob'];
type DriftEntry = components['schemas']['DriftEntry'];

/** `executionFailed`: a watched execution failed or was dismissed, or a waited-for job failed. */
export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3, executionFailed: 4 } as const;

class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** A 403 from the authorizer itself (no API `code`): the token sent is not (or no longer) one it takes. */
class TokenRefused extends CliError {}

/** An error answer of the API: its status, and its `code` when it has one (API Gateway's own have none). */
class ApiRefusal extends CliError {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message, EXIT.refused);
  }
}

/** No answer from the API at all; `why` is the socket's error code (ECONNREFUSED, ...) or fetch's message. */
class Unreachable extends CliError {
  constructor(
    readonly why: string,
    /** The connection was made but no answer came in time (RequestTimedOut): the request may have been acted on. */
    readonly timedOut = false,
  ) {
    super(`cannot reach the API (${why}): is the cluster running? Pass --url or set GEOCLUSTER_URL`, EXIT.unreachable);
  }
}

/** What to check when the API at a URL does not answer, by where the URL came from (Target.urlFrom). */
const UNREACHABLE_REMEDY: Record<UrlSource, string> = {
  '--url': 'is the cluster running there? Check --url',
  GEOCLUSTER_URL: 'is the cluster running there? Check GEOCLUSTER_URL, which this shell sets',
  '.local/cluster.json': 'the npm start of this checkout (.local/cluster.json) runs, but its API does not answer: has it finished starting?',
  default: 'no local cluster of this checkout is running: start one (npm start), or name a running cluster with --url or GEOCLUSTER_URL',
};

/** The statuses `executions list` shows without --limit: the API's own page (GET /executions `limit`). */
const DEFAULT_LIST_LIMIT = 100;
/** The most requests one `executions list` sends for its statuses (a page may come out short). */
const MAX_LIST_REQUESTS = 20;

/** How often and how long `config log` waits for a sequence allocated and not yet written (GET /config/events ends a page before it). */
const WRITING_WAITS = 30;
const WRITING_WAIT_MS = 500;

/** The most events one `config log --since` run lists. */
const MAX_LOG_EVENTS = 10_000;

const HELP: Record<string, string> = {
  main: `Usage: geocluster <command> [options]

Commands:
  nodes                         every node: role, cursor, lag, queue, dead letters, paused
  pause <node>                  stop a node's consumption and refuse its publishes
  resume <node>                 restart it
  redrive <node>                move the node's dead-lettered events back to its queue and retry its parked events
  dead-letters list <node> [--limit N]
                                the node's dead-letter messages (not consumed): set aside as no event, or events that failed
  dead-letters discard <node> <id>[,<id>...] --yes
                                delete the named messages the node's apply function set aside (never an event that failed)
  resync <node> [--source N]    rebuild the node's store from a snapshot of another node (default: a master) and the log
                                (--yes: a both node's with a GeoServer, whose closing reconcile deletes what it alone holds)
  drift <node>                  compare the node's GeoServer with its store; list what differs
  reconcile <node> [--yes]      make the node's GeoServer match its store again (--yes: a master's or both node's)
  capture <node>                publish what was changed on a master's GeoServer behind the cluster
  job <node> <id> [--wait]      a node job's state and progress (resync, drift, reconcile, capture)
  cancel <node> <id>            cancel a node's queued or running job: it stops at its next checkpoint, the node free at once
  executions list [--phase P] [--process NAME] [--node N] [--limit N]
                                execution statuses, newest first, filtered by phase, process or node
  executions get <id>           one execution's status: phase, progress, task, node, result or error
  executions reindex            key statuses stored before a listing index existed (after an upgrade)
  watch <id> [--interval MS]    a live progress bar until the execution ends
  config publish <file>         publish one change, or a JSON list of changes in order (as change sets)
  config log [--since SEQ] [--limit N]
                                the event log: the latest events, or those after SEQ
  token issue <name>            mint a node's or operator's token (replaces its old one)
  token revoke <name>           delete a node's or operator's token

Options (every command):
  --url URL      API base URL (env GEOCLUSTER_URL; default: the local cluster's)
  --token T      node token (env GEOCLUSTER_TOKEN; default: .local/node-tokens.json)
  --as NAME      whose token to take from .local/node-tokens.json (default: the first master; over GEOCLUSTER_TOKEN)
  --json         machine-readable output
  --timeout S    seconds to wait for each answer of the API (default 60)
  --help         this help, or a command's: geocluster <command> --help

Jobs (resync of a consuming node, drift, reconcile, capture) run in the background: the command waits for
the job to end (--detach: print its id and return; Ctrl-C stops the waiting, not the job: geocluster cancel does).

Exit codes: 0 done, 1 refused by the API, 2 bad usage, 3 API unreachable, 4 watched execution or job failed
(or stopped in a phase or state this CLI does not know).`,
  nodes:
    'Usage: geocluster nodes [--json]\n  Every node of the cluster with its role, applied sequence (cursor), lag, queue and dead-letter depth, and whether it is paused\n' +
    '  (a node or operator token). The line above the table, "log head N", is the newest sequence in the configuration event\n' +
    '  log; LAG is how many events a node has yet to apply up to it.',
  pause: 'Usage: geocluster pause <node> [--json]\n  Stops the node consuming its queue (which keeps every event) and refuses its publishes. Needs the node\'s own or a master\'s token.',
  resume: 'Usage: geocluster resume <node> [--json]\n  Restarts a paused node: its queue delivers what accumulated, in order.',
  redrive:
    'Usage: geocluster redrive <node> [--json]\n' +
    "  Moves the node's dead-lettered events back to its queue and retries its parked events (the PARKED lines of\n" +
    '  geocluster nodes), each object\'s in order (fix their cause first). Needs the node\'s own or a master\'s token.',
  'dead-letters':
    'Usage: geocluster dead-letters list|discard ... [--json]\n' +
    '\n' +
    '  geocluster dead-letters list <node> [--limit N] [--json]\n' +
    "    Lists the messages of the node's dead-letter queue, oldest first, without consuming them (each is held for the\n" +
    '    request and made visible again): its id, whether its apply function set it aside as no event of the cluster\'s log\n' +
    '    (and why) or it is an event that failed (geocluster redrive moves those back), when it was sent, its size and the\n' +
    `    start of its body. --limit: 1-${MAX_DEAD_LETTER_PAGE} messages (default 20). Needs the node's own, a master's or an operator's token.\n` +
    '\n' +
    '  geocluster dead-letters discard <node> <id>[,<id>...] --yes [--json]\n' +
    '    Deletes for good the named messages (ids from dead-letters list, comma-separated) that the node\'s apply function\n' +
    '    set aside; any other is kept, with why (an event that failed: redrive it instead). Needs --yes, and the node\'s own\n' +
    "    or a master's token. Exit 1 if any named message was kept.",
  resync:
    'Usage: geocluster resync <node> [--source NODE] [--yes] [--detach] [--interval MS] [--json]\n  Rebuilds the node\'s store from a snapshot of another node\'s store plus the log after it.\n' +
    '  --yes: needed for a node that publishes with a GeoServer (role both): its resync ends with a reconcile, which deletes\n' +
    '  from its GeoServer the objects the store lacks (made in its web UI and never captured), and no node holds them.\n' +
    '  List them first (geocluster drift <node>: extra), or publish them instead (geocluster capture <node>).\n' +
    '  --source: any other node of the cluster, master or slave (default: the first master or both node other than <node>).\n' +
    '  For a consuming node a background job: waits for it to end (exit 4 if it failed, or its GeoServer\'s closing\n' +
    '  reconcile could not fix every object).',
  drift:
    'Usage: geocluster drift <node> [--detach] [--interval MS] [--json]\n       geocluster drift <node> --last [--json]\n' +
    '  Checks the node\'s GeoServer against its store (a background job) and lists the differences:\n' +
    '  missing (in the store, not in the GeoServer), extra (the reverse), different (with the properties that differ).\n' +
    '  --last: lists what the node\'s latest check (a drift, reconcile or capture job) found, without checking again\n' +
    '  (it starts no job, so --detach and --interval do not apply to it).\n' +
    '  Then `geocluster reconcile <node>` repairs a slave\'s GeoServer; `geocluster capture <master>` publishes a master\'s.',
  reconcile:
    'Usage: geocluster reconcile <node> [--yes] [--detach] [--interval MS] [--json]\n  Makes the node\'s GeoServer match its store: creates what is missing, removes what is extra, rewrites what differs.\n' +
    '  --yes: needed for a node that publishes (role master or both, with a GeoServer; read from geocluster nodes): the\n' +
    '  objects its GeoServer holds and the store lacks (made in its web UI and never captured) are deleted, and no node\n' +
    '  holds them. List them first (geocluster drift <node>: extra), or publish them instead (geocluster capture <node>).\n' +
    '  Exit 4 if the job failed or could not fix every object (each failure is listed).',
  capture:
    'Usage: geocluster capture <node> [--detach] [--interval MS] [--json]\n  Publishes to every node what was changed on the master\'s GeoServer without the cluster (its web UI, say).',
  job: 'Usage: geocluster job <node> <id> [--wait [--interval MS]] [--json]\n  A node job\'s state, phase and progress; --wait: until it ends, polling it every --interval MS (default 1000).\n' +
    '  Exit 4 if it failed, was cancelled or could not fix (or publish) every object; with --wait, also if it is in a state this CLI does not know.',
  cancel:
    'Usage: geocluster cancel <node> <id> [--json]\n' +
    "  Cancels the node's queued or running job (resync, drift, reconcile, capture): it ends cancelled, and the node takes a new\n" +
    '  job at once. A slice running then stops at its next checkpoint; what the job did before stays done (a drift check\n' +
    "  shows what is left). A resync copying its snapshot is refused (its store would be left half-copied): wait for it.\n" +
    "  Sent again, the same answer. Needs the node's own or a master's token; exit 1 if the job had ended otherwise.",
  executions:
    'Usage: geocluster executions list|get|reindex ... [--json]\n' +
    '\n' +
    '  geocluster executions list [--phase P[,P]] [--process NAME] [--node N] [--limit N] [--json]\n' +
    '    Lists execution statuses, newest first: id, process, phase, progress, node and last update.\n' +
    `    --phase: ${PHASES.join(', ')} (any case); --limit: 1-${MAX_LIST_LIMIT} statuses\n` +
    '    --node: the node that runs them (any node\'s, under your own token: --as picks whose)\n' +
    '\n' +
    '  geocluster executions get <id> [--json]\n' +
    '    Shows one execution\'s status: process, phase, progress, task, node, and its result or error.\n' +
    '\n' +
    '  geocluster executions reindex [--json]\n' +
    '    Keys the statuses stored before a listing index existed (or under another indexShards), so listings find\n' +
    '    them: one pass over the status table, run once after such an upgrade. Safe while nodes write; re-runnable.',
  watch: 'Usage: geocluster watch <executionId> [--interval MS] [--json]\n  Polls the execution and draws its progress until it ends; prints its result or error.\n  Exit 0 when it succeeded, 4 when it failed or was dismissed.',
  config:
    'Usage: geocluster config publish|log ... [--json]\n' +
    '\n' +
    '  geocluster config publish <file> [--json]\n' +
    '    Publishes the change in <file> ({"kind":"add","object":{...},"properties":{...}}), or a JSON list of them in order,\n' +
    `    as change sets of up to ${MAX_CHANGE_SET_ITEMS}: each committed all or nothing in one request; a refused set stops it (the sets\n` +
    '    before it stay published). A request that got no answer (or a 503) is sent again under the same Idempotency-Key:\n' +
    '    published once, whatever the network did.\n' +
    '\n' +
    '  geocluster config log [--since SEQ] [--limit N] [--json]\n' +
    '    Lists the configuration event log (a node or operator token): without --since the latest N events (default 50);\n' +
    '    with --since every event after SEQ, oldest first, paging through the log until its head (a SEQ past the head\n' +
    `    is refused, naming where the log ends), or N events, at most ${MAX_LOG_EVENTS.toLocaleString('en-US')} a run: a run that stops before the head\n` +
    '    ends with the sequence it stopped at and the --since that lists the rest (in --json: next).\n' +
    '    The line above the table, "log head N", is the newest sequence in the configuration event log.',
  token:
    'Usage: geocluster token issue|revoke <name> [--table T] [--endpoint URL] [--region R] [--json]\n' +
    '  Mints (prints once; only its hash is stored) or deletes the token of a node or operator named in the cluster\n' +
    '  configuration, in the credentials table itself, with your AWS credentials (as npm run node-token): no API\n' +
    '  route mints tokens. --table: the stack output CredentialsTableName (env GEOCLUSTER_CREDENTIALS_TABLE; default\n' +
    '  the running npm start\'s, with its DynamoDB Local endpoint; a name that cluster does not declare is refused).\n' +
    "  A revoked or replaced token may pass for up to a minute more (API Gateway's cached verdict; npm start's too).",
};

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether output is a terminal (progress bars redraw in place). */
  readonly tty: boolean;
  /**
   * The terminal's width in characters, when it is known: a progress bar's line is cut to it, as
   * a longer one (a long task) wraps, and each redraw, which goes back to the start of its last
   * row only, would leave another copy on screen.
   */
  readonly columns?: number;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/** What a pause or resume did to the node's queue consumption, in words. */
const CONSUMPTION: Readonly<Record<'disabled' | 'enabled' | 'none', string>> = {
  disabled: 'its queue keeps every change until the resume',
  enabled: 'its queue delivers what it kept, in order',
  none: 'a pure master has no queue to stop or restart: a pause refuses its publishes only',
};

/** CONSUMPTION's words, or for a consumption this CLI does not know (a newer cluster's), the API's own word. */
function consumptionText(consumption: string): string {
  return Object.hasOwn(CONSUMPTION, consumption) ? CONSUMPTION[consumption as keyof typeof CONSUMPTION] : `its queue consumption: ${consumption}`;
}

/** The positional arguments of the commands that take a fixed number (the others have subcommands of their own). */
const ARITY: Readonly<Record<string, number>> = { nodes: 0, pause: 1, resume: 1, redrive: 1, resync: 1, drift: 1, reconcile: 1, capture: 1, job: 2, cancel: 2, watch: 1 };

/** The positional arguments of each subcommand, after it (`config publish <file>`: one). */
const SUBCOMMAND_ARITY: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  executions: { list: 0, get: 1, reindex: 0 },
  config: { publish: 1, log: 0 },
  'dead-letters': { list: 1, discard: 2 },
  token: { issue: 1, revoke: 1 },
};

/** The options every command takes. */
const GLOBAL_OPTIONS: ReadonlySet<string> = new Set(['url', 'token', 'as', 'json', 'help', 'timeout']);

/**
 * The options each command (or `command subcommand`) takes beyond GLOBAL_OPTIONS. Any other is
 * refused before a request: ignored, `nodes --phase FAILED` would read as an answer filtered.
 */
const COMMAND_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  nodes: [],
  pause: [],
  resume: [],
  redrive: [],
  resync: ['source', 'yes', 'detach', 'interval'],
  drift: ['detach', 'interval', 'last'],
  reconcile: ['yes', 'detach', 'interval'],
  capture: ['detach', 'interval'],
  job: ['wait', 'interval'],
  cancel: [],
  'executions list': ['phase', 'process', 'node', 'limit'],
  'executions get': [],
  'executions reindex': [],
  watch: ['interval'],
  'config publish': [],
  'config log': ['since', 'limit'],
  'dead-letters list': ['limit'],
  'dead-letters discard': ['yes'],
  'token issue': ['table', 'endpoint', 'region'],
  'token revoke': ['table', 'endpoint', 'region'],
};

/**
 * The first option given (a string, or a boolean set) that `command` does not take, with what it
 * takes; undefined when all apply, or when the subcommand is unknown (refused by its own usage).
 */
function optionMisplaced(command: string, sub: string | undefined, values: Record<string, unknown>): string | undefined {
  const label = Object.hasOwn(SUBCOMMAND_ARITY, command) ? `${command} ${sub ?? ''}` : command;
  if (!Object.hasOwn(COMMAND_OPTIONS, label)) return undefined;
  const taken = COMMAND_OPTIONS[label]!;
  const given = Object.entries(values).find(([name, value]) => !GLOBAL_OPTIONS.has(name) && !taken.includes(name) && value !== undefined && value !== false);
  if (!given) return undefined;
  const its = taken.length > 0 ? `its own options are ${taken.map((name) => `--${name}`).join(', ')}` : 'it has no options of its own';
  return `--${given[0]} does not apply to ${label} (${its}, besides those of every command)`;
}

/**
 * The first option `command` takes that does nothing with the others given, with why: ignored,
 * `drift --last --detach` would read as a check started and detached, `job --interval` without
 * --wait as a job followed. Undefined when every option given applies.
 */
function optionIdle(command: string, values: { last?: boolean; detach?: boolean; interval?: string; wait?: boolean }): string | undefined {
  if (command === 'drift' && values.last) {
    if (values.detach) return "--detach does not apply to drift --last (it starts no job: it lists the latest check's report)";
    if (values.interval !== undefined) return "--interval does not apply to drift --last (it waits for no job: it lists the latest check's report)";
  }
  if (command === 'job' && !values.wait && values.interval !== undefined) {
    return '--interval does not apply to job without --wait (it sets how often --wait polls the job; without --wait the job is read once)';
  }
  return undefined;
}

/**
 * What the CLI writes, with every text an answer brought made printable: C0 and C1 control
 * characters (an escape sequence in a task a node wrote, in an exception a WPS client provoked, in
 * a GeoServer's error text) are written as `\u` escapes, so none moves the cursor, rewrites a line
 * or retitles the window. The line breaks between the CLI's own lines stay; `redraw` is the
 * progress bar's own carriage return and erase-line around a printable line.
 */
interface Screen extends CliIo {
  redraw(line: string): void;
}

function screenOf(io: CliIo): Screen {
  return {
    ...io,
    out: (text) => io.out(printable(text)),
    err: (text) => io.err(printable(text)),
    redraw: (line) => io.out(`\r${fitted(printable(line), io.columns)}\u001b[K`),
  };
}

/**
 * `line` within `columns` (unknown: as it is): cut to one character less, the last `…`, so the
 * cursor stays off the last column, where a terminal wraps. A wide character (CJK, most emoji)
 * counts as one, as it is not known here how the terminal draws it.
 */
function fitted(line: string, columns: number | undefined): string {
  const characters = [...line];
  if (columns === undefined || columns < 2 || characters.length < columns) return line;
  return `${characters.slice(0, columns - 2).join('')}…`;
}

/**
 * `text` with its control characters but the line feed written as `\u` escapes, and the
 * characters that reorder text on screen (bidirectional embeddings, overrides and isolates:
 * "refused" written right to left reads as something else).
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * `text` from an answer (a reason, a task, an error message: a GeoServer's, a node's, a WPS
 * client's), kept on the line the CLI writes it in: its line feeds written as `\u000a`, as
 * `printable` writes every other control character, so that none starts a line that reads as the
 * CLI's own ("succeeded", a node's note). `printable` keeps the line feed for the CLI's own lines.
 */
function inline(text: string): string {
  return text.replace(/\n/g, '\\u000a');
}

export async function runCli(argv: string[], terminal: CliIo): Promise<number> {
  const io = screenOf(terminal);
  let parsed;
  try {
    parsed = parseArgs({
      args: withNegativeNumbers(argv),
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        as: { type: 'string' },
        node: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
        source: { type: 'string' },
        phase: { type: 'string' },
        process: { type: 'string' },
        limit: { type: 'string' },
        interval: { type: 'string' },
        since: { type: 'string' },
        table: { type: 'string' },
        endpoint: { type: 'string' },
        region: { type: 'string' },
        detach: { type: 'boolean', default: false },
        wait: { type: 'boolean', default: false },
        last: { type: 'boolean', default: false },
        yes: { type: 'boolean', default: false },
        timeout: { type: 'string' },
      },
    });
  } catch (error) {
    io.err(`geocluster: ${missingNumber(argv) ?? `${(error as Error).message}\n${HELP.main}`}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (command === undefined || (values.help && !Object.hasOwn(HELP, command))) {
    (command === undefined && !values.help ? io.err : io.out)(HELP.main as string);
    return command === undefined && !values.help ? EXIT.usage : EXIT.ok;
  }
  if (values.help) {
    io.out(HELP[command] as string);
    return EXIT.ok;
  }
  // Named before the URL, the token or the local cluster's files are read, whose errors would be about something else.
  if (!Object.hasOwn(HELP, command) || command === 'main') {
    io.err(`geocluster: unknown command '${command}'\n${HELP.main}`);
    return EXIT.usage;
  }
  // A subcommand missing or mistyped, named too before anything is read.
  if (Object.hasOwn(SUBCOMMAND_ARITY, command)) {
    const subs = Object.keys(SUBCOMMAND_ARITY[command]!);
    const choices = `${subs.slice(0, -1).join(', ')} or ${subs.at(-1)}`;
    const given = rest[0];
    if (given === undefined || !Object.hasOwn(SUBCOMMAND_ARITY[command]!, given)) {
      io.err(`geocluster: ${given === undefined ? `${command} needs a subcommand: ${choices}` : `unknown ${command} subcommand '${given}' (${choices})`}\n${HELP[command]}`);
      return EXIT.usage;
    }
  }
  const arity = ARITY[command];
  if (arity !== undefined && rest.length > arity) {
    io.err(`geocluster: ${command} takes ${arity === 0 ? 'no arguments' : `${arity === 1 ? 'one argument' : `${arity} arguments`}`}; '${rest.slice(arity).join(' ')}' is one too many (one node per call)\n${HELP[command] ?? HELP.main}`);
    return EXIT.usage;
  }
  // A subcommand given more arguments than it takes acts on none of them, rather than on the first
  // only (`config publish changes/*.json` would publish the first file and say nothing of the others).
  const [sub, ...subArguments] = rest;
  const subArity = Object.hasOwn(SUBCOMMAND_ARITY, command) && sub !== undefined && Object.hasOwn(SUBCOMMAND_ARITY[command]!, sub) ? SUBCOMMAND_ARITY[command]![sub] : undefined;
  if (subArity !== undefined && subArguments.length > subArity) {
    const extra = subArguments.slice(subArity);
    const takes = subArity === 0 ? 'no arguments' : subArity === 1 ? 'one argument' : `${subArity} arguments`;
    io.err(`geocluster: ${command} ${sub} takes ${takes}; '${extra.join(' ')}' ${extra.length === 1 ? 'is one' : 'are'} too many\n${HELP[command]}`);
    return EXIT.usage;
  }
  const misused = nodeOptionMisused(command, rest, values.node);
  if (misused) {
    io.err(`geocluster: ${misused}`);
    return EXIT.usage;
  }
  const misplaced = optionMisplaced(command, sub, values) ?? optionIdle(command, values);
  if (misplaced) {
    io.err(`geocluster: ${misplaced}\n${HELP[command] ?? HELP.main}`);
    return EXIT.usage;
  }
  if (values.source !== undefined && values.source.trim() === '') {
    io.err(`geocluster: --source must name a node\n${HELP[command] ?? HELP.main}`);
    return EXIT.usage;
  }
  if (values.source !== undefined && !isNodeName(values.source)) {
    io.err(`geocluster: --source node '${values.source}' ${NODE_NAME_RULE}`);
    return EXIT.usage;
  }
  let target: Target | undefined;
  try {
    if (command === 'token') return await token(rest, values, io);
    // Read before any request: a job command sends its start before it polls.
    const intervalMs = intervalOf(values);
    const timeoutSeconds = values.timeout === undefined ? DEFAULT_REQUEST_TIMEOUT_S : wholeNumber(values.timeout, '--timeout (seconds)', 1, 3600);
    target = resolveTarget(values, io);
    const client = createClusterClient(target.url, target.token, timeoutSeconds);
    const print = (human: string, data: unknown) => io.out(values.json ? JSON.stringify(data, null, 2) : human);
    switch (command) {
      case 'nodes': {
        const data = await call(client.GET('/nodes'));
        print(nodesTable(data.nodes as NodeState[], data.head), data);
        return EXIT.ok;
      }
      case 'pause':
      case 'resume': {
        const node = nodeArgument(rest[0], command);
        const data = await call(client.POST(command === 'pause' ? '/nodes/{node}/pause' : '/nodes/{node}/resume', { params: { path: { node } } }));
        print(`${data.paused ? `${node} paused (since ${data.since}, by ${data.by})` : `${node} resumed`}; ${consumptionText(data.consumption)}`, data);
        return EXIT.ok;
      }
      case 'redrive': {
        const node = nodeArgument(rest[0], command);
        const data = await call(client.POST('/nodes/{node}/redrive', { params: { path: { node } } }));
        const parked = data.parked.retriedBy
          ? `; its apply function retries ${counted(data.parked.stillParked.length, 'parked record')}`
          : `; ${counted(data.parked.cleared.length, 'parked event')} applied, ${counted(data.parked.stillParked.length, 'record')} still parked`;
        print(`${node}: ${counted(data.moved, 'event')} moved back to the queue${parked}${data.more || data.parked.more ? '; more remain: run again' : ''}`, data);
        return EXIT.ok;
      }
      case 'resync': {
        const node = nodeArgument(rest[0], command);
        if (!values.yes) await withoutYes(client, node, 'resync');
        const resync = () => call(client.POST('/nodes/{node}/resync', { params: { path: { node } }, body: values.source ? { source: values.source } : undefined }));
        // A consuming node resyncs in a background job (202, queued); a pure master's job runs
        // within the requests that ask for it (202 while it runs, 200 once done): ask again.
        let data = await resync();
        while (!('sequence' in data) && data.job.state === 'running') data = await resync();
        if ('sequence' in data) {
          print(`${node} resynced from ${data.source}: at sequence ${data.sequence} (snapshot ${data.snapshotSequence}, ${data.appliedFromLog} from the log)`, data);
          return EXIT.ok;
        }
        if (values.detach) {
          print(`${node}: resync job ${data.job.id} ${data.job.state} (from ${data.source}); ${followIt(node, data.job.id)}`, data);
          return EXIT.ok;
        }
        const job = await waitForJob(client, node, data.job, intervalMs, io);
        print(describeJob(job), { ...data, job });
        return endedClean(job) ? EXIT.ok : EXIT.executionFailed;
      }
      case 'drift':
      case 'reconcile':
      case 'capture': {
        const node = nodeArgument(rest[0], command);
        // The nodes read to tell whether a reconcile needs --yes, kept to name those with a GeoServer if it is refused.
        const nodes = command === 'reconcile' && !values.yes ? await withoutYes(client, node, 'reconcile') : undefined;
        try {
          if (command === 'drift' && values.last) return await lastDriftReport(client, node, print);
          return await startNodeJob(client, command, node, { ...values, intervalMs }, io, print);
        } catch (error) {
          throw await withGeoServerNodes(client, node, error, nodes);
        }
      }
      case 'job': {
        const node = nodeArgument(rest[0], command);
        const id = jobIdArgument(rest[1], command);
        const { job } = await call(client.GET('/nodes/{node}/jobs/{id}', { params: { path: { node, id } } }));
        const shown = values.wait ? await waitForJob(client, node, job, intervalMs, io) : job;
        print(describeJob(shown), { job: shown });
        // Waited for, a job ends succeeded, failed or in a state this CLI does not know (waitForJob).
        // One that ended leaving objects unfixed exits as the command that started it would.
        const unfixed = shown.state === 'succeeded' && shown.failures.length > 0;
        return shown.state === 'failed' || shown.state === 'cancelled' || unfixed || (values.wait && shown.state !== 'succeeded') ? EXIT.executionFailed : EXIT.ok;
      }
      case 'cancel': {
        const node = nodeArgument(rest[0], command);
        const id = jobIdArgument(rest[1], command);
        const { job } = await call(client.POST('/nodes/{node}/jobs/{id}/cancel', { params: { path: { node, id } } }));
        print(describeJob(job), { job });
        return EXIT.ok;
      }
      case 'executions':
        return await executions(client, rest, values, io, print);
      case 'dead-letters':
        return await deadLetters(client, rest, values, io, print);
      case 'watch':
        return await watch(client, executionIdArgument(rest[0], command), { json: values.json, intervalMs }, io);
      case 'config':
        return rest[0] === 'log' ? await configLog(client, values, print) : await config(client, rest, io, print, target.cwd, values.json);
      default:
        io.err(`geocluster: unknown command '${command}'\n${HELP.main}`);
        return EXIT.usage;
    }
  } catch (error) {
    if (error instanceof Unreachable && error.timedOut && target !== undefined) {
      io.err(`geocluster: the API at ${target.url} did not answer (${error.why}): what was asked may or may not have been done; check, or try again (--timeout sets the wait)`);
      return error.exitCode;
    }
    if (error instanceof Unreachable && target !== undefined) {
      io.err(`geocluster: cannot reach the API at ${target.url} (${error.why}): ${UNREACHABLE_REMEDY[target.urlFrom]}`);
      return error.exitCode;
    }
    if (error instanceof TokenRefused && target?.localTokenOf !== undefined) {
      // `token issue|revoke` leaves .local/node-tokens.json as it is: the token it holds may be
      // one replaced or revoked since, which nothing but this message would point at.
      const name = target.localTokenOf;
      io.err(
        target.elsewhere
          ? `geocluster: ${error.message}: it is the token of '${name}' in .local/node-tokens.json, this checkout's npm start's, sent to ${target.url}, ` +
              "another cluster: pass that cluster's own token with --token or GEOCLUSTER_TOKEN (an npm start -- --in-memory prints its tokens)"
          : `geocluster: ${error.message}: it is the token of '${name}' in .local/node-tokens.json, which keeps the token npm start issued; ` +
              `if it was replaced or revoked since (geocluster token issue|revoke ${name}), pass the current one with --token`,
      );
      return error.exitCode;
    }
    if (error instanceof CliError) {
      io.err(`geocluster: ${error.message}`);
      return error.exitCode;
    }
    throw error;
  }
}

/** The options that take a number, with the placeholder their help gives it. */
const NUMBER_OPTIONS: Readonly<Record<string, string>> = { '--since': 'SEQ', '--limit': 'N', '--interval': 'MS' };

/**
 * `argv` with a negative number after an option that takes a number written as that option's
 * value (`--since -1` as `--since=-1`): parseArgs would refuse it as an ambiguous value, with a
 * message about dashes and the whole usage; taken as the value, the option's own check refuses it
 * in one line naming the option and what it takes.
 */
function withNegativeNumbers(argv: readonly string[]): string[] {
  const args: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const [arg, next] = [argv[index] as string, argv[index + 1]];
    if (arg === '--') return [...args, ...argv.slice(index)];
    if (Object.hasOwn(NUMBER_OPTIONS, arg) && next !== undefined && /^-[\d.]/.test(next)) {
      args.push(`${arg}=${next}`);
      index++;
    } else args.push(arg);
  }
  return args;
}

/** An option that takes a number given none (the last argument, or followed by another option): what it takes, in one line. */
function missingNumber(argv: readonly string[]): string | undefined {
  const end = argv.indexOf('--');
  const args = end === -1 ? argv : argv.slice(0, end);
  const index = args.findIndex((arg, at) => Object.hasOwn(NUMBER_OPTIONS, arg) && (at === args.length - 1 || (args[at + 1] as string).startsWith('-')));
  if (index === -1) return undefined;
  const flag = args[index] as string;
  const next = args[index + 1];
  return `${flag} takes a whole number (${flag} ${NUMBER_OPTIONS[flag]}), got ${next === undefined ? 'nothing' : `'${next}'`}`;
}

/** Where the API's URL came from: the flag, the environment, the running npm start's file, or the local default. */
type UrlSource = '--url' | 'GEOCLUSTER_URL' | '.local/cluster.json' | 'default';

interface Target {
  url: string;
  urlFrom: UrlSource;
  token?: string;
  cwd: string;
  /** Whose token was taken from .local/node-tokens.json, when it came from there. */
  localTokenOf?: string;
  /** Whether `url` is another cluster than the running `npm start` whose tokens that file holds (--url, GEOCLUSTER_URL). */
  elsewhere?: boolean;
}

/**
 * What is wrong with `--node` on this command, if anything. It filters `executions list` by the
 * node that runs the executions; it once also picked the caller's token on every command (now
 * `--as`), so anywhere else it is refused naming `--as`, rather than ignored: the command would
 * run under another token than the one asked for.
 */
function nodeOptionMisused(command: string, rest: readonly string[], node: string | undefined): string | undefined {
  if (node === undefined || (command === 'executions' && rest[0] === 'list')) return undefined;
  return `--node filters executions list by the node that runs them; to pick whose token is sent, use --as NAME (here: --as ${node})`;
}

function resolveTarget(values: { url?: string; token?: string; as?: string }, io: CliIo): Target {
  const local = path.join(io.cwd, '.local');
  const readJson = (file: string): Record<string, string> | undefined => {
    const full = path.join(local, file);
    if (!existsSync(full)) return undefined;
    return parseJsonFile(full, readFileSync(full, 'utf8')) as Record<string, string>;
  };
  // Where a running `npm start` is: read once, for its URL and its masters' names, and only where
  // they are needed (a stale file is refused, which --url and a token given make irrelevant).
  const cluster = lazily(() => readLocalCluster(io.cwd, RUNNING_CLUSTER_ELSE));
  const fromFile = values.url ?? io.env.GEOCLUSTER_URL ?? cluster()?.url;
  const url = fromFile ?? 'http://127.0.0.1:3000';
  const urlFrom: UrlSource = values.url !== undefined ? '--url' : io.env.GEOCLUSTER_URL !== undefined ? 'GEOCLUSTER_URL' : fromFile !== undefined ? '.local/cluster.json' : 'default';
  // fetch refuses a URL with credentials, and its error spells the URL out, password and all.
  if (URL.canParse(url) && (new URL(url).username !== '' || new URL(url).password !== '')) {
    throw new CliError(`--url must not hold a user name or password (the API takes a token: --token or GEOCLUSTER_TOKEN), got one for ${new URL(url).host}`, EXIT.usage);
  }
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new CliError(`--url must be an http or https URL, got '${url}'`, EXIT.usage);
  // --as, a flag, names the token over GEOCLUSTER_TOKEN (which `npm start` prints for the shell);
  // with --token it asks for two.
  if (values.as !== undefined && values.token !== undefined) throw new CliError('--as and --token both name the token to send; give one', EXIT.usage);
  let token = values.as !== undefined ? undefined : (values.token ?? io.env.GEOCLUSTER_TOKEN);
  let from = values.token !== undefined ? '--token' : 'GEOCLUSTER_TOKEN';
  let localTokenOf: string | undefined;
  let elsewhere = false;
  if (token === undefined) {
    const tokens = readJson('node-tokens.json');
    if (!tokens && values.as !== undefined) throw new CliError(`--as ${values.as}: there is no .local/node-tokens.json to take its token from (give it with --token)`, EXIT.usage);
    if (tokens) {
      // The first node that publishes, as the running `npm start` names them in cluster.json (a
      // cluster's master need not be called "master"); else, from an older start, by name.
      const masters = (cluster() as { masters?: unknown } | undefined)?.masters;
      const firstMaster = Array.isArray(masters) ? masters.find((name): name is string => typeof name === 'string' && Object.hasOwn(tokens, name)) : undefined;
      // A persisted restart leaves out of the file a name whose token was minted or revoked since
      // (local/node-tokens.ts): with no master's left, another name's token (a slave's, an
      // operator's) is not taken in its place, which the API would refuse as that name's.
      const named = Array.isArray(masters) ? masters.filter((name): name is string => typeof name === 'string') : [];
      if (values.as === undefined && firstMaster === undefined && named.length > 0) {
        const names = Object.keys(tokens);
        const held = names.length === 0 ? 'it holds no tokens' : `it holds those of ${names.join(', ')}`;
        throw new CliError(
          `.local/node-tokens.json holds no token of a master (${named.join(', ')}): npm start leaves out a name whose token was minted or revoked since (geocluster token issue|revoke); ` +
            `pass the master's token with --token, or take another's with --as NAME (${held})`,
          EXIT.usage,
        );
      }
      const node = values.as ?? firstMaster ?? Object.keys(tokens).find((name) => /master/.test(name)) ?? Object.keys(tokens)[0];
      token = node === undefined ? undefined : tokens[node];
      if (values.as !== undefined && token === undefined) {
        // The names it does hold are what --as can take (a name's token only, never the token).
        const names = Object.keys(tokens);
        const held = names.length === 0 ? 'it holds no tokens' : `it holds those of ${names.join(', ')}`;
        // A name the running cluster declares was left out of the file by a persisted restart:
        // its token was minted or revoked since (local/node-tokens.ts; the banner said which).
        const declared = (cluster() as { names?: unknown } | undefined)?.names;
        if (Array.isArray(declared) && declared.includes(values.as)) {
          throw new CliError(
            `.local/node-tokens.json has no token for '${values.as}' (--as): npm start leaves out a name whose token was minted or revoked since npm start wrote it (geocluster token issue|revoke); ` +
              `pass the token geocluster token issue printed with --token, or mint a new one: geocluster token issue ${values.as} (${held})`,
            EXIT.usage,
          );
        }
        throw new CliError(`.local/node-tokens.json has no token for '${values.as}' (--as): ${held}`, EXIT.usage);
      }
      if (token !== undefined && typeof token !== 'string') throw new CliError(`.local/node-tokens.json: the token of node '${node}' is not a string`, EXIT.usage);
      from = `.local/node-tokens.json (node '${node}')`;
      localTokenOf = token === undefined ? undefined : node;
      elsewhere = (values.url ?? io.env.GEOCLUSTER_URL) !== undefined && url.replace(/\/+$/, '') !== cluster()?.url;
    }
  }
  // A token is `<name>.<secret>`, printable ASCII on one line. fetch refuses a header holding a
  // line break with an error that quotes the whole header, token and all, and one holding a
  // character past Latin-1 with one that names nothing: refused here, the token never printed.
  if (token !== undefined && /[^\x21-\x7e]/.test(token.trim())) {
    throw new CliError(`the token in ${from} holds a space, a line break or a character outside ASCII: a token is <name>.<secret> on one line, as geocluster token issue prints it`, EXIT.usage);
  }
  // The authorizer's own reading of a token: anything else could only come back 403.
  if (token !== undefined && parseAuthorizationHeader(`Bearer ${token.trim()}`) === undefined) {
    throw new CliError(`the token in ${from} is not <name>.<secret> (a node or operator name, a dot, then the secret), as geocluster token issue prints it: ${tokenFlaw(token.trim())}`, EXIT.usage);
  }
  return { url, urlFrom, token: token?.trim(), cwd: io.cwd, localTokenOf, elsewhere };
}

/**
 * Which part of a token the authorizer could not read is wrong (a paste cut short, a name
 * mistyped), so the refusal points at it; the secret itself is never quoted.
 */
function tokenFlaw(token: string): string {
  const dot = token.indexOf('.');
  if (dot < 0) return "it has no '.': a token is the node or operator name, a dot, then the secret";
  const name = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!isNodeName(name)) return `its name '${name}' ${NODE_NAME_RULE}`;
  if (/[^A-Za-z0-9_-]/.test(secret)) return 'its secret holds a character other than letters, digits, - and _';
  if (secret.length < MIN_SECRET_LENGTH) {
    return `its secret is ${secret.length} characters: a token's secret is at least ${MIN_SECRET_LENGTH} (token issue prints ${MINTED_SECRET_LENGTH}); was it cut short?`;
  }
  return 'its secret is not one the authorizer reads';
}

function required(value: string | undefined, command: string, what: string): string {
  if (value === undefined || value === '') throw new CliError(`${command} needs ${what}\n${HELP[command] ?? HELP.main}`, EXIT.usage);
  return value;
}

/**
 * A node, an execution or a job named on the command line, refused here unless the API could
 * know it by that name: `.` and `..` would not even reach their route (the URL resolves them
 * away: `/nodes/../pause` is `/pause`), and the API could only answer "Not Found".
 */
function nodeArgument(value: string | undefined, command: string): string {
  const node = required(value, command, '<node>');
  if (!isNodeName(node)) throw new CliError(`node '${node}' ${NODE_NAME_RULE}`, EXIT.usage);
  return node;
}

function executionIdArgument(value: string | undefined, command: string, what = '<executionId>'): string {
  const id = required(value, command, what);
  if (!EXECUTION_ID_PATTERN.test(id)) throw new CliError(`execution id '${id}' ${EXECUTION_ID_RULE}`, EXIT.usage);
  return id;
}

function jobIdArgument(value: string | undefined, command: string): string {
  const id = required(value, command, '<id>');
  if (!JOB_ID_PATTERN.test(id)) throw new CliError(`job id '${id}' ${JOB_ID_RULE}`, EXIT.usage);
  return id;
}

/**
 * An answer that is not the API's (not a JSON object), or not of the shape the API declares for
 * it: something else answers at --url, or another version of the API. Asking again changes nothing.
 */
class ForeignAnswer extends CliError {
  constructor(message: string) {
    super(message, EXIT.refused);
  }
}

/** The ForeignAnswer a failed request stands for, if the client refused what answered it. */
function foreignAnswer(error: unknown): ForeignAnswer | undefined {
  if (error instanceof NotAnApiAnswer) return new ForeignAnswer(`${error.message}: is --url the cluster's API?`);
  if (error instanceof UnexpectedAnswer) return new ForeignAnswer(`${error.message} (is --url the cluster's API, of this CLI's version?)`);
  return undefined;
}

/**
 * A page whose `next` does not move past the one asked for (a sequence no higher, a cursor the
 * same as the one sent): asking on would get the same page for ever (a stand-in or a cache at
 * --url, another version of the API).
 */
function stalledPage(route: string, next: string, after: number | string): ForeignAnswer {
  return new ForeignAnswer(`${route} answered a page that does not move on: next ${next} after ${after} (is --url the cluster's API, of this CLI's version?)`);
}

/** Why a request got no answer, from fetch's error: the socket's code (ECONNREFUSED, ...) when it has one. */
function noAnswerCause(error: unknown): string {
  return (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
}

/** Awaits an openapi-fetch call: its data, or a CliError with the API's `{code, message}`. */
async function call<T>(pending: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result;
  try {
    result = await pending;
  } catch (error) {
    throw foreignAnswer(error) ?? new Unreachable(noAnswerCause(error), error instanceof RequestTimedOut);
  }
  if (result.error !== undefined || !result.response.ok) {
    // The API's errors are `{code, message, field?}`; API Gateway's own (a throttle, a route it
    // does not have, a function that failed) are `{message}`; a proxy's may be a page of HTML.
    const body = typeof result.error === 'object' && result.error !== null ? (result.error as { code?: unknown; message?: unknown; field?: unknown }) : {};
    const status = result.response.status;
    const detail = body.code
      ? inline(`${String(body.code)}: ${typeof body.message === 'string' ? body.message : ''}${body.field ? ` (field ${String(body.field)})` : ''}`)
      : typeof body.message === 'string' && body.message !== ''
        ? inline(body.message.slice(0, 200))
        : `HTTP ${status}`;
    const hint =
      status === 401
        ? ' (no token: pass --token or set GEOCLUSTER_TOKEN)'
        : body.code
          ? ''
          : status === 403
            ? ' (the token was refused)'
            : status === 429
              ? ' (throttled: try again in a while)'
              : status === 404
                ? " (no such route: is --url the cluster's API, with its stage?)"
                : '';
    if (status === 403 && !body.code) throw new TokenRefused(`${status} ${detail}${hint}`, EXIT.refused);
    throw new ApiRefusal(`${status} ${detail}${hint}`, status, body.code ? String(body.code) : undefined);
  }
  return result.data as T;
}

/**
 * The line above the `nodes` and `config log` tables: the log's head (GET /nodes and
 * GET /config/events `head`), and what it is, which the bare number left to guess.
 */
function logHeadLine(head: number, more = ''): string {
  return `log head ${head} (the newest sequence in the configuration event log${more})`;
}

function table(header: string[], cells: string[][]): string {
  // A line feed in a cell (a process name, a reason) would end its row: escaped as the rest are.
  const rows = cells.map((row) => row.map(inline));
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (values: string[]) => values.map((value, i) => value.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function nodesTable(nodes: NodeState[], head: number): string {
  const withGeoServer = nodes.some((node) => node.geoserver !== undefined);
  const header = ['NODE', 'ROLE', 'CURSOR', 'LAG', 'QUEUE', 'DLQ', 'PAUSED', ...(withGeoServer ? ['GEOSERVER'] : [])];
  const rows = nodes.map((node) => [
    node.name,
    node.role,
    String(node.lastAppliedSequence),
    String(node.lag),
    node.queueDepth === null ? '-' : String(node.queueDepth),
    node.deadLetterDepth === null ? '-' : String(node.deadLetterDepth),
    node.paused ? `yes (by ${node.pausedBy})` : 'no',
    ...(withGeoServer ? [geoServerCell(node.geoserver)] : []),
  ]);
  return [logHeadLine(head, '; CURSOR: the last one a node applied'), table(header, rows), ...nodes.flatMap(nodeNotes)].join('\n');
}

/**
 * What holds a node back, one line each under the table: a resync holding it, the event it is
 * retrying, the objects whose events are parked, its GeoServer out of reach, a job under way,
 * its latest job failed, or succeeded but left objects unfixed.
 */
function nodeNotes(node: NodeState): string[] {
  const notes: string[] = [];
  if (node.resync) notes.push(resyncLine(node, node.resync));
  if (node.failing) notes.push(`${node.name}: retrying event ${node.failing.sequence} (attempt ${node.failing.attempts}): ${inline(node.failing.reason)}`);
  for (const entry of node.parked ?? []) {
    const object = entry.object ? inline(`${entry.object.type}/${entry.object.id}`) : 'an unreadable event';
    notes.push(`${node.name}: PARKED ${object}: ${parkedEventsText(entry)}: ${inline(entry.reason)}; after a fix: geocluster redrive ${node.name}`);
  }
  if (node.geoserver?.reachable === false) notes.push(`${node.name}: GeoServer ${node.geoserver.url} unreachable${node.geoserver.lastError ? `: ${inline(node.geoserver.lastError.message)}` : ''}`);
  if (node.job && (node.job.state === 'queued' || node.job.state === 'running' || !knownJobState(node.job.state))) notes.push(jobLine(node.job));
  // A failed resync that holds the node is named by its resync line already.
  if (node.job?.state === 'failed' && node.resync?.job !== node.job.id) notes.push(failedJobLine(node, node.job));
  if (node.job?.state === 'succeeded' && node.job.failures.length > 0) notes.push(unfixedJobLine(node, node.job));
  return notes;
}

/**
 * The node's latest job ended but could not fix some objects (its GeoServer refused them): how
 * many (`progress.failed`; the job lists the first MAX_JOB_FAILURES), the first with why, the
 * command that lists them all, and the one that tries again once their cause is dealt with (a
 * resync's GeoServer leftovers are a reconcile's to fix).
 */
function unfixedJobLine(member: NodeState, job: NodeJob): string {
  const count = Math.max(job.progress.failed ?? 0, job.failures.length);
  const again = job.kind === 'resync' ? 'reconcile' : commandOf(job.kind);
  const listed = unlistedFailures(job) > 0 ? `the first ${job.failures.length} listed` : 'all of them';
  return (
    `${job.node}: ${job.kind} job ${job.id} succeeded but left ${counted(count, 'object')} unfixed, first ${failureText(job.failures[0]!)}; ` +
    `${listed}: geocluster job ${job.node} ${job.id}${again === undefined ? '' : `; after a fix: ${commandLine(member, again)}`}`
  );
}

/**
 * The command line that runs `command` on the node, as the CLI takes it: where it deletes what
 * only the node's GeoServer holds (`deletesUnpublished`), with --yes and what it deletes (for a
 * reconcile, with the commands that list them and that publish them instead; a resync's closing
 * reconcile runs once its hold has ended, when a drift check or capture of a held node would not).
 */
function commandLine(member: NodeState, command: string): string {
  const line = `geocluster ${command} ${member.name}`;
  if ((command !== 'reconcile' && command !== 'resync') || !deletesUnpublished(member, command)) return line;
  const instead = command === 'reconcile' ? `: geocluster drift ${member.name} lists them, geocluster capture ${member.name} publishes them instead` : '';
  return `${line} --yes (${command === 'reconcile' ? 'it deletes' : 'its closing reconcile deletes'} ${DELETED}, held by no other node${instead})`;
}

/** The objects a job could not fix beyond those it lists (it keeps the first MAX_JOB_FAILURES; `progress.failed` counts all). */
function unlistedFailures(job: NodeJob): number {
  return Math.max(0, (job.progress.failed ?? 0) - job.failures.length);
}

/** The command that starts a job of `kind`: none for a kind this CLI does not know (a newer cluster's). */
function commandOf(kind: string): string | undefined {
  return (JOB_KINDS as readonly string[]).includes(kind) ? kind : undefined;
}

/** A job state this CLI knows; another (a newer cluster's) may or may not mean that the job has ended. */
function knownJobState(state: string): boolean {
  return (JOB_STATES as readonly string[]).includes(state);
}

/** One object a job could not fix, and why. */
function failureText(failure: NodeJob['failures'][number]): string {
  return inline(`${failure.type ?? '?'}/${failure.id ?? '?'}: ${failure.message ?? ''}`.trimEnd());
}

/**
 * The node's latest job failed: which, why, where its details are (its failures, its progress),
 * and the command that runs it again once the cause is dealt with (a new job of the same kind
 * replaces this one, and the note with it).
 */
function failedJobLine(member: NodeState, job: NodeJob): string {
  const again = commandOf(job.kind);
  return `${job.node}: ${job.kind} job ${job.id} FAILED: ${inline(job.error ?? 'no reason recorded')}; details: geocluster job ${job.node} ${job.id}${again === undefined ? '' : `; after a fix: ${commandLine(member, again)}`}`;
}

/** A node a resync holds: running, or left half-copied (it applies nothing until a resync finishes). */
function resyncLine(member: NodeState, hold: NonNullable<NodeState['resync']>): string {
  const name = member.name;
  const partial = hold.storeIncomplete ? '; its store holds part of a snapshot and it applies no events until a resync finishes' : '';
  if (hold.state === 'running') return `${name}: held by resync job ${hold.job} (running)`;
  // A hold this CLI does not know (a newer cluster's): in the API's words, not read as stopped.
  if (hold.state !== 'incomplete') return `${name}: held by resync job ${hold.job} (${inline(`${hold.state}${hold.error ? `: ${hold.error}` : ''}`)})${partial}`;
  return `${name}: RESYNC INCOMPLETE (job ${hold.job}: ${inline(hold.error ?? 'stopped')})${partial}; resume: ${commandLine(member, 'resync')}`;
}

/** A GeoServer node's reachability as its apply function last saw it (events or jobs); `-` for a node without one. */
function geoServerCell(state: NodeState['geoserver']): string {
  if (state === undefined) return '-';
  if (state.reachable === null) return 'not yet checked';
  return state.reachable ? `reachable${state.version ? ` (${state.version})` : ''}` : 'UNREACHABLE';
}

async function executions(
  client: ClusterApi,
  rest: string[],
  values: { phase?: string; process?: string; node?: string; limit?: string },
  io: CliIo,
  print: (human: string, data: unknown) => void,
): Promise<number> {
  const [sub, id] = rest;
  if (sub === 'get') {
    const status = await call(client.GET('/executions/{executionId}', { params: { path: { executionId: executionIdArgument(id, 'executions', '<id>') } } }));
    print(describeExecution(status), status);
    return EXIT.ok;
  }
  if (sub === 'reindex') {
    // Each request scans for a few seconds and answers 202 with where to go on; 200 ends the pass.
    const totals = { scanned: 0, rewritten: 0, skipped: 0 };
    let cursor: string | undefined;
    do {
      const data = await call(client.POST('/executions/reindex', { body: cursor ? { cursor } : {} }));
      totals.scanned += data.scanned;
      totals.rewritten += data.rewritten;
      totals.skipped += data.skipped;
      if (data.cursor !== undefined && data.cursor === cursor) throw stalledPage('POST /executions/reindex', `'${data.cursor}'`, `'${cursor}'`);
      cursor = data.cursor;
      if (cursor !== undefined && io.tty) io.err(`reindex: ${counted(totals.scanned, 'status', 'statuses')} read, ${totals.rewritten} rewritten so far`);
    } while (cursor !== undefined);
    print(`reindex done: ${counted(totals.scanned, 'status', 'statuses')} read, ${totals.rewritten} rewritten, ${totals.skipped} written by a node meanwhile (already keyed)`, { ...totals, done: true });
    return EXIT.ok;
  }
  if (sub !== 'list') {
    io.err(HELP.executions as string);
    return EXIT.usage;
  }
  // An empty filter (`--node "$NODE"` with NODE unset) is refused: dropped, it would list every execution as that filter's.
  if (values.node !== undefined && values.node.trim() === '') throw new CliError(`--node must name a node\n${HELP.executions}`, EXIT.usage);
  if (values.process !== undefined && values.process.trim() === '') throw new CliError(`--process must name a process\n${HELP.executions}`, EXIT.usage);
  const query: Record<string, string | number> = {};
  if (values.phase !== undefined) query.phase = phasesOption(values.phase);
  if (values.process) query.processName = values.process;
  if (values.node) query.nodeId = values.node;
  const wanted = values.limit === undefined ? DEFAULT_LIST_LIMIT : wholeNumber(values.limit, '--limit', 1, MAX_LIST_LIMIT);
  // A filtered page may come out short, or empty, with a nextCursor (a second filter dropped most
  // of what it read): paged on, with the same filters and what is left of the limit, until the
  // statuses asked for are in or the listing ends (within a run's bound of requests).
  const listedStatuses: ExecutionStatus[] = [];
  let cursor: string | undefined;
  // The last page's other members (one this CLI does not know included), kept in --json.
  let last: object = {};
  for (let request = 1; ; request++) {
    // The first page as asked (the API's own default limit when none is given), then what is left of it.
    const limit = values.limit === undefined && cursor === undefined ? {} : { limit: wanted - listedStatuses.length };
    const page = await call(client.GET('/executions', { params: { query: { ...query, ...limit, ...(cursor === undefined ? {} : { cursor }) } as never } }));
    listedStatuses.push(...page.executions);
    last = page;
    if (page.nextCursor !== undefined && page.nextCursor === cursor) throw stalledPage('GET /executions', `'${page.nextCursor}'`, `'${cursor}'`);
    cursor = page.nextCursor;
    if (cursor === undefined || listedStatuses.length >= wanted || request >= MAX_LIST_REQUESTS) break;
  }
  const { nextCursor: _, ...others } = last as { nextCursor?: string };
  const data = { ...others, executions: listedStatuses, ...(cursor === undefined ? {} : { nextCursor: cursor }) };
  const rows = data.executions.map((status: ExecutionStatus) => [
    status.executionId,
    status.processName,
    status.phase,
    `${status.progress}%`,
    status.nodeId ?? '-',
    status.lastUpdated ?? '-',
  ]);
  const more = `\n(more match: ${counted(rows.length, 'status', 'statuses')} shown; narrow with --phase, --process or --node${wanted < MAX_LIST_LIMIT ? ', or raise --limit' : ''})`;
  // A table of headings alone reads as output cut short: an empty listing says what it found.
  const none = Object.keys(query).length > 0 ? 'no execution status matches these filters' : 'no execution statuses stored';
  print(rows.length === 0 && !data.nextCursor ? none : table(['EXECUTION', 'PROCESS', 'PHASE', 'PROGRESS', 'NODE', 'UPDATED'], rows) + (data.nextCursor ? more : ''), data);
  return EXIT.ok;
}

/** The characters of a dead letter's body shown on its line (the API sends its first 1,000). */
const DEAD_LETTER_BODY_SHOWN = 200;

/** `dead-letters list <node>` and `dead-letters discard <node> <ids> --yes`. */
async function deadLetters(
  client: ClusterApi,
  rest: string[],
  values: { limit?: string; yes?: boolean },
  io: CliIo,
  print: (human: string, data: unknown) => void,
): Promise<number> {
  const [sub, nodeName, ids] = rest;
  if (sub !== 'list' && sub !== 'discard') {
    io.err(HELP['dead-letters'] as string);
    return EXIT.usage;
  }
  const node = nodeArgument(nodeName, 'dead-letters');
  if (sub === 'list') {
    const limit = values.limit === undefined ? undefined : wholeNumber(values.limit, '--limit', 1, MAX_DEAD_LETTER_PAGE);
    const data = await call(client.GET('/nodes/{node}/dead-letters', { params: { path: { node }, query: limit === undefined ? {} : { limit } } }));
    print(deadLettersText(node, data), data);
    return EXIT.ok;
  }
  const messageIds = required(ids, 'dead-letters', '<id>[,<id>...] (from geocluster dead-letters list)').split(',').map((id) => id.trim());
  if (messageIds.some((id) => id === '')) throw new CliError(`dead-letters discard: an empty message id in '${ids}' (ids are comma-separated)`, EXIT.usage);
  if (!values.yes) {
    throw new CliError(
      `dead-letters discard deletes ${counted(messageIds.length, 'message')} of ${node}'s dead-letter queue for good: if you mean that, ` +
        `geocluster dead-letters discard ${node} ${messageIds.join(',')} --yes (only those its apply function set aside are deleted)`,
      EXIT.usage,
    );
  }
  const data = await call(client.POST('/nodes/{node}/dead-letters/discard', { params: { path: { node } }, body: { messageIds } }));
  const lines = [
    `${node}: ${counted(data.discarded.length, 'message')} discarded${data.discarded.length > 0 ? ` (${data.discarded.join(', ')})` : ''}` +
      (data.kept.length > 0 ? `, ${counted(data.kept.length, 'message')} kept` : ''),
    ...data.kept.map((entry) => inline(`  kept ${entry.messageId}: ${entry.reason}`)),
  ];
  print(lines.join('\n'), data);
  return data.kept.length > 0 ? EXIT.refused : EXIT.ok;
}

type DeadLettersAnswer = paths['/nodes/{node}/dead-letters']['get']['responses'][200]['content']['application/json'];

function deadLettersText(node: string, data: DeadLettersAnswer): string {
  if (data.deadLetterDepth === null) return `${node} consumes no queue (a pure master): it has no dead-letter queue`;
  if (data.messages.length === 0) return `${node}: no dead-letter messages${data.deadLetterDepth > 0 ? ` listed (the queue counts ${data.deadLetterDepth}, held by another reader meanwhile: list again)` : ''}`;
  const lines = [`${node}: ${counted(data.messages.length, 'message')} listed of ${data.deadLetterDepth} in the dead-letter queue${data.more ? ' (more: raise --limit, or redrive the events that failed)' : ''}`];
  for (const message of data.messages) {
    const body = message.body.length > DEAD_LETTER_BODY_SHOWN ? `${message.body.slice(0, DEAD_LETTER_BODY_SHOWN)}…` : `${message.body}${message.bodyTruncated ? '…' : ''}`;
    lines.push(
      inline(`${message.messageId}  ${message.setAside ? 'SET ASIDE' : 'FAILED EVENT'}  sent ${message.sentAt ?? '-'}  ${counted(message.size, 'byte')}  origin ${message.origin ?? '-'}`),
      ...(message.setAside ? [inline(`  reason: ${message.reason ?? '(not recorded)'}`)] : []),
      ...(message.event ? [inline(`  event: #${message.event.sequence} ${message.event.kind} ${message.event.object.type}/${message.event.object.id}`)] : []),
      inline(`  body: ${body}`),
    );
  }
  const setAside = data.messages.filter((message) => message.setAside).map((message) => message.messageId);
  if (setAside.length > 0) lines.push(`to delete those set aside: geocluster dead-letters discard ${node} ${setAside.join(',')} --yes`);
  if (data.messages.some((message) => !message.setAside)) lines.push(`events that failed go back to the queue (after a fix): geocluster redrive ${node}`);
  return lines.join('\n');
}

function describeExecution(status: ExecutionStatus): string {
  const lines = [
    inline(`${status.executionId}  ${status.processName}  ${status.phase}  ${status.progress}%`),
    status.task ? `  task: ${inline(status.task)}` : undefined,
    status.nodeId ? `  node: ${inline(status.nodeId)}` : undefined,
    // Its times: started only once it ran (absent while queued, for one that ended without
    // running, and for one stored before start times were kept), finished only once it ended.
    `  created: ${status.creationTime}`,
    status.startTime ? `  started: ${status.startTime}` : undefined,
    `  updated: ${status.lastUpdated}`,
    status.completionTime ? `  finished: ${status.completionTime}` : undefined,
    status.resultLocation ? `  result: ${inline(status.resultLocation)}` : undefined,
    status.exception ? `  error: ${inline(`${status.exception.code ?? ''} ${status.exception.message ?? ''}`.trimEnd())}` : undefined,
  ];
  return lines.filter((line): line is string => line !== undefined).join('\n');
}

export function progressBar(progress: number, width = 30): string {
  const clamped = Math.max(0, Math.min(100, progress));
  const filled = Math.round((clamped / 100) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${clamped.toFixed(0).padStart(3)}%`;
}

async function watch(client: ClusterApi, executionId: string, values: { intervalMs: number; json?: boolean }, io: Screen): Promise<number> {
  const { intervalMs } = values;
  let last = '';
  for (;;) {
    const status = await call(client.GET('/executions/{executionId}', { params: { path: { executionId } } }));
    const line = inline(`${progressBar(status.progress)} ${status.phase}${status.task ? `  ${status.task}` : ''}`);
    if (values.json) {
      if (line !== last) io.out(JSON.stringify({ phase: status.phase, progress: status.progress, task: status.task }));
    } else if (io.tty) io.redraw(line);
    else if (line !== last) io.out(line);
    last = line;
    // A phase this CLI does not know (a newer cluster's) may or may not be an end: the watch stops
    // there, rather than go on for ever, and says so.
    const unknown = !(PHASES as readonly string[]).includes(status.phase);
    const done = unknown || status.phase === 'SUCCEEDED' || status.phase === 'FAILED' || (status.phase === 'DISMISSING' && status.dismissed);
    if (done) {
      if (io.tty && !values.json) io.out('\n');
      if (values.json) io.out(JSON.stringify(status));
      else if (unknown) io.out(`stopped watching: phase ${inline(status.phase)} is not one this geocluster knows (geocluster executions get ${executionId})`);
      else io.out(inline(status.phase === 'SUCCEEDED' ? `succeeded${status.resultLocation ? `: ${status.resultLocation}` : ''}` : endedText(status.phase === 'FAILED' ? 'failed' : 'dismissed', status.exception)));
      return status.phase === 'SUCCEEDED' ? EXIT.ok : EXIT.executionFailed;
    }
    await sleep(intervalMs);
  }
}

/** How an execution that did not succeed ended, with its exception when its node recorded one. */
function endedText(how: 'failed' | 'dismissed', exception: { code?: string; message?: string } | undefined): string {
  const error = `${exception?.code ?? ''} ${exception?.message ?? ''}`.trim();
  return error === '' ? `${how} (no error recorded)` : `${how}: ${error}`;
}

/** How to follow a job the command does not wait for (any longer): one wording wherever it is said. */
function followIt(node: string, id: string): string {
  return `follow it: geocluster job ${node} ${id} --wait`;
}

const JOB_ROUTES = { drift: '/nodes/{node}/drift', reconcile: '/nodes/{node}/reconcile', capture: '/nodes/{node}/capture' } as const;

/**
 * `drift`, `reconcile`, `capture`: starts the node's job and (unless --detach) waits for it to
 * end; a drift check then prints every difference it found, paged through GET /nodes/{node}/drift.
 */
async function startNodeJob(
  client: ClusterApi,
  kind: keyof typeof JOB_ROUTES,
  node: string,
  values: { detach?: boolean; intervalMs: number; json?: boolean },
  io: CliIo,
  print: (human: string, data: unknown) => void,
): Promise<number> {
  const started = await call(client.POST(JOB_ROUTES[kind], { params: { path: { node } } }));
  if (values.detach) {
    print(`${node}: ${kind} job ${started.job.id} ${started.job.state}; ${followIt(node, started.job.id)}`, started);
    return EXIT.ok;
  }
  const job = await waitForJob(client, node, started.job, values.intervalMs, io);
  if (kind !== 'drift' || job.state !== 'succeeded') {
    print(describeJob(job), { job });
    return endedClean(job) ? EXIT.ok : EXIT.executionFailed;
  }
  const { differences } = await driftPages(client, node, job.id);
  print(driftReport(node, job, differences), { job, differences });
  return EXIT.ok;
}

/**
 * Every difference of the node's latest check, paged through GET /nodes/{node}/drift; refused if
 * another job replaced that check's report while the pages were read (or, with `jobId`, before).
 */
async function driftPages(
  client: ClusterApi,
  node: string,
  jobId?: string,
): Promise<{ job: NodeJob; complete: boolean; differences: DriftEntry[] }> {
  const differences: DriftEntry[] = [];
  let expected = jobId;
  let first: { job: NodeJob; complete: boolean } | undefined;
  let after: number | undefined;
  do {
    const page = await call(client.GET('/nodes/{node}/drift', { params: { path: { node }, query: { limit: 1000, ...(after === undefined ? {} : { after }) } } }));
    // The report is the node's latest job's: another started meanwhile would have replaced it.
    if (expected !== undefined && page.job.id !== expected) {
      throw new CliError(`job ${page.job.id} (${page.job.kind}) started on ${node} meanwhile and replaced this check's report: run drift again`, EXIT.refused);
    }
    expected = page.job.id;
    first ??= { job: page.job, complete: page.complete };
    differences.push(...page.differences);
    const next = page.next === undefined ? undefined : Number(page.next);
    if (next !== undefined && !(Number.isInteger(next) && next > (after ?? 0))) throw stalledPage(`GET /nodes/${node}/drift`, `'${page.next}'`, after ?? 0);
    after = next;
  } while (after !== undefined);
  return { ...first, differences };
}

/**
 * A drift, reconcile or capture refused for a node without a GeoServer (409 NO_GEOSERVER, a node
 * the cluster does not have, 404 NODE_NOT_FOUND, or no check to list for `--last`, 404 NOT_FOUND),
 * with the nodes that have one, from GET /nodes: or, when none has, how to run a cluster with
 * GeoServer nodes. Any other error (or a GET /nodes that fails too) is left as it was.
 */
async function withGeoServerNodes(client: ClusterApi, node: string, error: unknown, known?: NodeState[]): Promise<unknown> {
  if (!(error instanceof ApiRefusal) || !(error.code === 'NO_GEOSERVER' || (error.status === 404 && (error.code === 'NODE_NOT_FOUND' || error.code === 'NOT_FOUND')))) return error;
  let nodes: NodeState[];
  try {
    nodes = known ?? ((await call(client.GET('/nodes'))).nodes as NodeState[]);
  } catch {
    return error;
  }
  const withGeoServer = nodes.filter((member) => member.geoserver !== undefined).map((member) => member.name);
  // A GeoServer node with no check yet: the API's own message says what to do.
  if (withGeoServer.includes(node)) return error;
  const which =
    withGeoServer.length > 0
      ? `the nodes with a GeoServer are ${withGeoServer.join(', ')}`
      : 'no node of this cluster has a GeoServer: drift, reconcile and capture need one (locally: GEOSERVER_URLS=<node>=<url> npm start, ' +
        'README "Real GeoServers as cluster members"; deployed: a node\'s geoserver in the cluster configuration)';
  // NO_GEOSERVER says the node has none, NODE_NOT_FOUND that it is no node at all; a drift report not found says neither.
  const why = error.code === 'NOT_FOUND' ? `${node} has no GeoServer: ` : '';
  return new ApiRefusal(`${error.message}; ${why}${which}`, error.status, error.code);
}

/** What a reconcile of a node that publishes deletes, as every message of the CLI names it. */
const DELETED = "from its GeoServer every object the cluster's store lacks";

/** The roles of a node that does not publish: its GeoServer holds nothing the cluster's store lacks but what drifted. */
const NON_PUBLISHING_ROLES: ReadonlySet<string> = new Set(['slave']);

/**
 * Whether `command` of the node deletes from its GeoServer objects no other node holds, so the
 * CLI runs it only with --yes: a node that publishes (master or both, or a role this CLI does not
 * know, which may publish) with a GeoServer, whose objects made in its web UI and never captured
 * the store lacks. A reconcile deletes them; so does the reconcile a consuming node's resync ends
 * with, while a master's resync (no queue: it runs within the requests) copies its store and
 * ends there, its GeoServer untouched.
 */
function deletesUnpublished(member: Pick<NodeState, 'role' | 'geoserver'>, command: 'reconcile' | 'resync'): boolean {
  if (member.geoserver === undefined || NON_PUBLISHING_ROLES.has(member.role)) return false;
  return command === 'reconcile' || member.role !== 'master';
}

/**
 * `reconcile <node>` or `resync <node>` without --yes: the cluster's nodes (GET /nodes) when the
 * command may go ahead; refused (exit 2) where it deletes what only the node's GeoServer holds
 * (`deletesUnpublished`). A reconcile, and the reconcile a consuming GeoServer node's resync ends
 * with, deletes from that GeoServer every object the store lacks:
 * one made in its web UI and never captured is held by no node, and would be lost for good. A
 * node without a GeoServer, or one GET /nodes does not list, goes ahead (the API names the
 * problem). A GET /nodes that fails starts nothing: whether the node publishes is not known.
 */
async function withoutYes(client: ClusterApi, node: string, command: 'reconcile' | 'resync'): Promise<NodeState[]> {
  const deletes = `${command === 'reconcile' ? 'a reconcile deletes' : 'its resync ends with a reconcile, which deletes'} ${DELETED}`;
  let nodes: NodeState[];
  try {
    nodes = (await call(client.GET('/nodes'))).nodes as NodeState[];
  } catch (error) {
    // A token refused or an API out of reach: the runCli's own words say what to check, and the command would meet them too.
    if (error instanceof TokenRefused || (error instanceof Unreachable && !error.timedOut)) throw error;
    const why = error instanceof Unreachable ? `no answer (${error.why})` : error instanceof CliError ? error.message : String(error);
    throw new CliError(
      `${command} ${node} not started: GET /nodes, which tells whether ${node} publishes, failed: ${why}. ` +
        `For a node that publishes, ${deletes}: try again, or, if you mean that, geocluster ${command} ${node} --yes`,
      error instanceof CliError ? error.exitCode : EXIT.refused,
    );
  }
  const member = nodes.find((entry) => entry.name === node);
  if (member === undefined || !deletesUnpublished(member, command)) return nodes;
  const known = member.role === 'master' || member.role === 'both';
  const what = known ? `${node} is a ${member.role} node:` : `${node} is a node of role ${inline(member.role)}, which this geocluster does not know: it may publish, and`;
  throw new CliError(
    `${what} ${deletes}, such as those made in its web UI and never captured; ` +
      `no other node holds them, so they are lost for good. First list them: geocluster drift ${node} (each one "extra"); ` +
      `to keep them, publish them to the cluster instead: geocluster capture ${node}. To delete them: geocluster ${command} ${node} --yes`,
    EXIT.usage,
  );
}

/** `drift <node> --last`: what the node's latest check found, without starting another. */
async function lastDriftReport(client: ClusterApi, node: string, print: (human: string, data: unknown) => void): Promise<number> {
  const { job, complete, differences } = await driftPages(client, node);
  // Incomplete and ended: it stopped part way, and there is nothing it is still reading.
  if (!complete && job.state === 'failed') {
    print(
      `${jobLine(job)}\n${node}: the latest check (${job.kind} job ${job.id}) failed before it had compared everything: ${inline(job.error ?? 'no reason recorded')}; ` +
        `no differences to list; after a fix, check again: geocluster drift ${node}`,
      { job, complete, differences },
    );
    return EXIT.executionFailed;
  }
  if (!complete) {
    print(`${jobLine(job)}\n${node}: the check is still reading: no differences to list yet (geocluster job ${node} ${job.id} --wait)`, { job, complete, differences });
    return EXIT.ok;
  }
  print(`${jobLine(job)}\n${driftReport(node, job, differences)}`, { job, complete, differences });
  return EXIT.ok;
}

/** The differences of a drift check, one per line, or the news that there are none. */
export function driftReport(node: string, job: NodeJob, differences: readonly DriftEntry[]): string {
  const compared = job.progress.compared === undefined ? '' : ` (${counted(job.progress.compared, 'object')} compared)`;
  if (differences.length === 0) return `${node}: no drift: its GeoServer matches its store${compared}`;
  // The kinds this CLI knows, then any other the report holds (a newer cluster's), so the counts add up.
  const kinds = [...new Set<string>(['missing', 'extra', 'different', ...differences.map((entry) => entry.kind)])];
  const counts = kinds.map((kind) => `${differences.filter((entry) => entry.kind === kind).length} ${kind}`).join(', ');
  const rows = differences.map((entry) => [entry.kind, entry.type, entry.id, entry.kind === 'different' ? (entry.properties ?? []).join(', ') : entry.store ? `${entry.kind === 'missing' ? 'held under ' : ''}store ${entry.store}` : '']);
  return `${node}: ${counted(differences.length, 'difference')}: ${counts}${compared}\n${table(['KIND', 'TYPE', 'ID', 'DETAIL'], rows)}`;
}

/**
 * Whether a job waited for ended as its command's exit 0 says: succeeded, every object fixed or
 * published (a reconcile's, a capture's, a GeoServer node's resync's closing reconcile's
 * `failures` empty). Any other end is exit 4, whichever command waited for it (`resync`, `drift`,
 * `reconcile`, `capture`, `job`): a script reading 0 would take objects left unfixed for done.
 */
function endedClean(job: NodeJob): boolean {
  return job.state === 'succeeded' && job.failures.length === 0;
}

/** A job's state and progress, then one line per failed object. */
export function describeJob(job: NodeJob): string {
  const lines = [
    jobLine(job),
    job.error ? `  error: ${inline(job.error)}` : undefined,
    knownJobState(job.state) ? undefined : `  state ${inline(job.state)} is not one this geocluster knows: whether the job has ended is not known here`,
    ...job.failures.map((failure) => `  failed: ${failureText(failure)}`),
    unlistedFailures(job) > 0 ? `  and ${unlistedFailures(job)} more not listed (the job keeps the first ${job.failures.length}; progress.failed counts them all)` : undefined,
  ];
  return lines.filter((line): line is string => line !== undefined).join('\n');
}

/** One line of a job's state and progress. */
function jobLine(job: NodeJob): string {
  // A resync touches a GeoServer only for a node that has one (it ends with a reconcile): its
  // GeoServer counters are shown only then, beside the objects it copied.
  const geoServerWork = job.kind !== 'resync' || (job.progress.restCalls ?? 0) > 0;
  const progress = Object.entries(job.progress)
    .filter(([key, value]) => value !== undefined && value !== null && (geoServerWork || key === 'copied'))
    .map(([key, value]) => `${key} ${String(value)}`)
    .join(', ');
  const outcome = job.resync ? `; store at sequence ${job.resync.cursor} (snapshot ${job.resync.snapshotSequence}, ${job.resync.appliedFromLog} from the log)` : '';
  // The phase of a job not known to have ended (a state this CLI does not know included), and where a cancelled one stopped.
  const phase = job.state === 'succeeded' || job.state === 'failed' ? '' : ` (${job.phase})`;
  return inline(`${job.node}: ${job.kind} job ${job.id} ${job.state}${phase}${progress ? `: ${progress}` : ''}${outcome}`);
}

/**
 * Polls the job while it is queued or running: until it has ended, or is in a state this CLI does
 * not know (a newer cluster's), which may or may not be an end: waiting on could be for ever. On
 * a terminal, its phase and progress go to stderr, a line each time they change (stdout keeps the
 * result alone); Ctrl-C stops the waiting, not the job.
 */
async function waitForJob(client: ClusterApi, node: string, job: NodeJob, intervalMs: number, io: CliIo): Promise<NodeJob> {
  let current = job;
  let last = '';
  for (;;) {
    if (current.state !== 'queued' && current.state !== 'running') {
      if (io.tty && last !== '') io.err('');
      return current;
    }
    if (io.tty) {
      const line = jobLine(current);
      if (line !== last) io.err(`${last === '' ? `waiting for ${current.kind} job ${current.id} on ${node} (Ctrl-C stops waiting, not the job)\n` : ''}${line}`);
      last = line;
    }
    await sleep(intervalMs);
    current = await pollJob(client, node, current, intervalMs, io);
  }
}

/** Polls of a waited-for job in a row that may fail by themselves (`passesByItself`) before the wait ends. */
const JOB_POLL_RETRIES = 5;

/** An error a poll meets that passes by itself: API Gateway's throttle or 5xx, or no answer at all. */
function passesByItself(error: unknown): boolean {
  return error instanceof Unreachable || (error instanceof ApiRefusal && (error.status === 429 || error.status >= 500));
}

/**
 * The job's record again. A poll that fails by itself (`passesByItself`) is asked again, up to
 * JOB_POLL_RETRIES times with a growing wait: the job goes on in the cluster whatever the CLI does,
 * and a long reconcile would otherwise end its wait at one throttled poll. A wait that ends before
 * the job says so, with how to follow it, before the poll's error: alone, that reads as the job
 * refused, and starting it again would be refused 409 JOB_RUNNING.
 */
async function pollJob(client: ClusterApi, node: string, job: NodeJob, intervalMs: number, io: CliIo): Promise<NodeJob> {
  for (let failed = 0; ; failed++) {
    try {
      return (await call(client.GET('/nodes/{node}/jobs/{id}', { params: { path: { node, id: job.id } } }))).job;
    } catch (error) {
      if (!passesByItself(error) || failed >= JOB_POLL_RETRIES) {
        // An answer not the API's says nothing of the job: its one line alone (`ForeignAnswer`).
        if (!(error instanceof ForeignAnswer)) io.err(inline(`geocluster: stopped waiting for ${job.kind} job ${job.id} on ${node}, which goes on in the cluster; ${followIt(node, job.id)}`));
        throw error;
      }
      await sleep(Math.min(intervalMs * 2 ** (failed + 1), 30_000));
    }
  }
}

/** `--interval`, checked before the command sends anything (a job command would start its job first). */
function intervalOf(values: { interval?: string }): number {
  return values.interval === undefined ? 1000 : wholeNumber(values.interval, '--interval (milliseconds)', 50, 60_000);
}

/**
 * `config publish <file>`: one change as it is; a list (or the API's `{"changes": [...]}`) as
 * change sets, in order, each within the API's bounds: committed all or nothing under one
 * contiguous range of sequences, one request per set where a change at a time took one each. A
 * refused set stops the run: the sets before it stay published, nothing of it or after it is.
 */
async function config(
  client: ClusterApi,
  rest: string[],
  io: CliIo,
  print: (human: string, data: unknown) => void,
  cwd: string,
  json: boolean,
): Promise<number> {
  const [sub, file] = rest;
  if (sub !== 'publish') {
    io.err(HELP.config as string);
    return EXIT.usage;
  }
  const full = path.resolve(cwd, required(file, 'config', '<file>'));
  if (!existsSync(full)) throw new CliError(`no such file: ${full}`, EXIT.usage);
  if (statSync(full).isDirectory()) throw new CliError(`cannot read ${full}: it is a directory`, EXIT.usage);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${full}: ${(error as Error).message}`, EXIT.usage);
  }
  // A byte order mark (some editors save JSON with one) is no part of the JSON.
  let changes = parseJsonFile(full, text.replace(/^\uFEFF/, ''));
  // The API's own change-set body (`{"changes": [...]}`) is the list it holds.
  if (isChangeSetBody(changes)) changes = changes.changes;
  if (!Array.isArray(changes)) {
    const { data, replayed } = await publishSafely(client, changes, 'the change', io).catch((error: unknown) => {
      // Still in progress after every attempt: an earlier attempt committed it and had not answered yet.
      if (error instanceof ApiRefusal && error.code === 'IDEMPOTENT_REQUEST_IN_PROGRESS') {
        throw new CliError(`the change committed, but the request that committed it had not finished after ${PUBLISH_ATTEMPTS} attempts: see geocluster config log: ${error.message}`, error.exitCode);
      }
      throw error;
    });
    // One change sent, so one change's answer (a change set would answer with its range).
    if (!('sequence' in data)) throw new CliError("the API answered with a change set's range, not one change's sequence", EXIT.refused);
    const derived = data.derived ?? [];
    const taken = derived.map((event) => `\n  ${takenAlong(event, 0)}`).join('');
    print(`sequence ${data.sequence}${replayed ? REPLAYED : ''}${data.published ? '' : ' (committed; the topic publish will be retried)'}${taken}`, {
      published: [{ sequence: data.sequence, published: data.published }, ...derived.map((event) => ({ sequence: event.sequence, published: data.published, derivedFrom: 1 }))],
    });
    return EXIT.ok;
  }
  if (changes.length === 0) throw new CliError(`${file} holds an empty list: nothing to publish`, EXIT.usage);
  // `derivedFrom`: the place in the file of the change an event the API added follows (takenAlong).
  const published: { sequence: number; published: boolean; derivedFrom?: number }[] = [];
  for (const set of changeSets(changes)) {
    // "change #3" alone, "changes #3-5" for several: places in the file, counted from 1.
    const range = numbered(set.from + 1, set.from + set.changes.length, 'change', 'changes', '#');
    const them = set.changes.length === 1 ? 'it' : 'them';
    try {
      const { data, replayed } = await publishSafely(client, { changes: set.changes }, range, io);
      if (!('firstSequence' in data)) throw new CliError("the API answered with one change's sequence, not a change set's range", EXIT.refused);
      const derived = new Map((data.derived ?? []).map((event) => [event.sequence, event]));
      for (let offset = 0; offset < data.count; offset++) {
        const sequence = data.firstSequence + offset;
        const from = derived.get(sequence)?.derivedFrom;
        published.push({ sequence, published: data.published, ...(from === undefined ? {} : { derivedFrom: set.from + from + 1 }) });
      }
      if (!json) {
        io.out(`${range}: ${numbered(data.firstSequence, data.lastSequence, 'sequence')}${replayed ? REPLAYED : ''}${data.published ? '' : ' (committed; the topic publish will be retried)'}`);
        for (const event of derived.values()) io.out(`  ${takenAlong(event, set.from)}`);
      }
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      const before = `${published.length - takenAlongCount(published)} published before ${them}${partnersTaken(published)}`;
      // A success the CLI cannot read: the set was likely committed, so it is not said to be refused.
      if (error instanceof ForeignAnswer) {
        throw new CliError(`${range} may or may not be published (see geocluster config log; ${before}): ${error.message}`, error.exitCode);
      }
      // No answer at all: the set may have been committed, so it is not said to be refused.
      if (error.exitCode !== EXIT.refused) throw new CliError(`${error.message} (${before})`, error.exitCode);
      // Still in progress after every attempt: an earlier attempt committed the set and had not answered yet.
      if (error instanceof ApiRefusal && error.code === 'IDEMPOTENT_REQUEST_IN_PROGRESS') {
        throw new CliError(`${range} committed, but the request that committed ${them} had not finished after ${PUBLISH_ATTEMPTS} attempts: see geocluster config log (${before}): ${error.message}`, error.exitCode);
      }
      // The API names a member of the set (`changes[4].object.id`): named here by its place in the file.
      const message = error.message.replace(/changes\[(\d+)\]\.?/g, (_whole, index: string) => `change #${set.from + Number(index) + 1} `);
      throw new CliError(`${range} of ${changes.length} refused, ${set.changes.length === 1 ? 'not' : 'none of them'} published (${before}): ${message}`, error.exitCode);
    }
  }
  print(`${counted(published.length - takenAlongCount(published), 'change')} published${partnersTaken(published)}`, { published });
  return EXIT.ok;
}

/** The events the API added after a change of the file (`takenAlong`), counted apart from the file's changes. */
function takenAlongCount(published: readonly { derivedFrom?: number }[]): number {
  return published.filter((event) => event.derivedFrom !== undefined).length;
}

/** ", 1 partner change taken along" after a count of the file's changes, or nothing when the API took none. */
function partnersTaken(published: readonly { derivedFrom?: number }[]): string {
  const taken = takenAlongCount(published);
  return taken === 0 ? '' : `, ${counted(taken, 'partner change')} taken along`;
}

/**
 * An event the API added after a change of the file (`from`: the set's first change's place in
 * the file, from 0): the partner of a layer or resource taking the `enabled`/`advertised` the
 * change stated, which GeoServer holds once for both. Said, since the file did not ask for it.
 */
function takenAlong(event: NonNullable<Extract<PublishAnswer, { sequence: number }>['derived']>[number], from: number): string {
  const flags = Object.entries(event.patch)
    .map(([flag, value]) => `${flag}: ${JSON.stringify(value)}`)
    .join(', ');
  return `sequence ${event.sequence}: ${event.object.type} ${event.object.id} takes ${flags} along from change #${from + event.derivedFrom + 1} (GeoServer holds them once for a layer and its resource)`;
}

/** A JSON object whose only member is a `changes` list: what POST /config/events takes as a change set. */
function isChangeSetBody(value: unknown): value is { changes: unknown[] } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && Array.isArray((value as { changes?: unknown }).changes);
}

type PublishAnswer = paths['/config/events']['post']['responses'][201]['content']['application/json'];

const REPLAYED = ' (an earlier attempt had published it: answered again, nothing published twice)';
/** Attempts of one publish request that got no answer, or an answer that asks for a retry. */
export const PUBLISH_ATTEMPTS = 5;

/**
 * Sends one publish request (a change or a change set) under an Idempotency-Key of its own and
 * sends it again, with the same key, when it got no answer (the connection failed: it may have
 * been committed or not) or an answer that asks for a retry (409 IDEMPOTENT_REQUEST_IN_PROGRESS,
 * 503, after their Retry-After): the API answers a retry of a committed request with the first
 * answer (`Idempotent-Replayed: true`) and publishes nothing twice. Other refusals end it.
 */
async function publishSafely(client: ClusterApi, body: unknown, what: string, io: CliIo): Promise<{ data: PublishAnswer; replayed: boolean }> {
  const key = randomUUID();
  for (let attempt = 1; ; attempt++) {
    let result;
    try {
      result = await client.POST('/config/events', { params: { header: { 'Idempotency-Key': key } }, body: body as never });
    } catch (error) {
      // An answer came, from something that is not the API (or not as it declares): not retried as a lost request.
      const foreign = foreignAnswer(error);
      if (foreign) throw foreign;
      const cause = noAnswerCause(error);
      if (attempt >= PUBLISH_ATTEMPTS) throw new CliError(`${what}: no answer after ${attempt} attempts (${cause}); it may or may not be published: see geocluster config log`, EXIT.unreachable);
      io.err(`${what}: no answer (${cause}); sending it again with the same Idempotency-Key (attempt ${attempt + 1} of ${PUBLISH_ATTEMPTS})`);
      await sleep(attempt * 1000);
      continue;
    }
    const status = result.response.status;
    const code = (result.error as { code?: string } | undefined)?.code;
    if ((status === 503 || code === 'IDEMPOTENT_REQUEST_IN_PROGRESS') && attempt < PUBLISH_ATTEMPTS) {
      const retryAfter = Number(result.response.headers.get('retry-after') ?? '1');
      io.err(`${what}: ${status}${code ? ` ${code}` : ''}; sending it again with the same Idempotency-Key (attempt ${attempt + 1} of ${PUBLISH_ATTEMPTS})`);
      await sleep((Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 30) : 1) * 1000);
      continue;
    }
    const data = await call(Promise.resolve(result));
    return { data, replayed: result.response.headers.get('idempotent-replayed') === 'true' };
  }
}

/**
 * A list of changes cut into change sets in order, each within the API's bounds: at most
 * MAX_CHANGE_SET_ITEMS changes and MAX_CHANGE_SET_BYTES of request body. A change too large
 * for any set goes alone (the API then names the problem: 413).
 */
export function changeSets(changes: readonly unknown[]): { from: number; changes: unknown[] }[] {
  const envelope = Buffer.byteLength('{"changes":[]}');
  const sets: { from: number; changes: unknown[]; bytes: number }[] = [];
  for (const [index, change] of changes.entries()) {
    const bytes = Buffer.byteLength(JSON.stringify(change)) + 1;
    const last = sets.at(-1);
    if (last && last.changes.length < MAX_CHANGE_SET_ITEMS && last.bytes + bytes <= MAX_CHANGE_SET_BYTES) {
      last.changes.push(change);
      last.bytes += bytes;
    } else {
      sets.push({ from: index, changes: [change], bytes: envelope + bytes });
    }
  }
  return sets.map(({ from, changes: members }) => ({ from, changes: members }));
}


/**
 * `config log`: the latest events, or (with --since) every event after that sequence, paged
 * through GET /config/events until the head (at most 10,000 events per run).
 */
async function configLog(client: ClusterApi, values: { since?: string; limit?: string; json?: boolean }, print: (human: string, data: unknown) => void): Promise<number> {
  const since = values.since === undefined ? undefined : wholeNumber(values.since, '--since', 0);
  const limit = values.limit === undefined ? undefined : wholeNumber(values.limit, '--limit', 1);
  const events: EventSummary[] = [];
  let head = 0;
  // Where the pages start: after --since; for the latest N events where one page (100) cannot
  // hold them, after the head the log had, less N (the latest-events form otherwise asks once).
  let from = since;
  if (since === undefined && limit !== undefined && limit > 100) {
    from = Math.max(0, (await call(client.GET('/config/events', { params: { query: { limit: 1 } } }))).head - limit);
  }
  let after = from;
  // Whether the log goes on past the last page read (its `next`).
  let pagesLeft = false;
  // Pages asked for again while the sequence after the last one read is still being written.
  let waits = 0;
  for (;;) {
    // The API bounds a page (100); --since pages on, the latest-events form asks once.
    const pageLimit = from === undefined ? Math.min(limit ?? 50, 100) : Math.min(limit ?? 100, 100);
    const query = { ...(after === undefined ? {} : { since: after }), limit: pageLimit };
    const page = await call(client.GET('/config/events', { params: { query } }));
    head = page.head;
    events.push(...page.events);
    pagesLeft = page.next !== null;
    if (page.next === null || from === undefined || (limit !== undefined && events.length >= limit) || events.length >= MAX_LOG_EVENTS) break;
    if (page.next === after && page.events.length === 0 && page.head > page.next && waits < WRITING_WAITS) {
      // The sequence after it is allocated to a publisher that has not written it yet (the API
      // ends a page there): it is written, or closed as void, within moments.
      waits += 1;
      await sleep(WRITING_WAIT_MS);
      continue;
    }
    if (page.next <= (after ?? 0)) {
      if (page.next === after && page.head > page.next) {
        throw new CliError(`sequence ${page.next + 1} is still being written after ${(WRITING_WAITS * WRITING_WAIT_MS) / 1000} s (its publisher may have stopped; the nodes close it as void): the rest with geocluster config log --since ${page.next}`, EXIT.refused);
      }
      throw stalledPage('GET /config/events', String(page.next), after ?? 0);
    }
    waits = 0;
    after = page.next;
  }
  // A sequence past the head names no event yet (one from another cluster's log, or from before
  // an npm start --fresh): an empty table would read as "nothing new since".
  if (since !== undefined && since > head) {
    throw new CliError(`--since ${since} is past the end of the log: it ends at sequence ${head} (log head); give --since ${head} or lower`, EXIT.usage);
  }
  const shown = limit === undefined ? events : events.slice(0, limit);
  const rows = shown.map((event) => [
    String(event.sequence),
    event.kind ?? (event.voided ? 'VOID' : 'UNREADABLE'),
    event.object ? `${event.object.type}/${event.object.id}` : '-',
    event.origin,
    event.publishedAt,
    event.unreadable ?? (event.voided ? 'sequence given up, nothing committed' : event.offloaded ? 'body in S3' : ''),
  ]);
  // A --since run that stopped before the log's end (its --limit, or the run's bound) says so and
  // where to go on: a table ending short of the head would read as "nothing after it".
  const last = shown.at(-1);
  const stoppedAt = from !== undefined && last !== undefined && (pagesLeft || shown.length < events.length) ? last.sequence : null;
  const rest =
    stoppedAt === null
      ? ''
      : `\nstopped at sequence ${stoppedAt}, before the end of the log (${limit !== undefined && shown.length >= limit ? `--limit ${limit}` : `at most ${MAX_LOG_EVENTS.toLocaleString('en-US')} events a run`}): the rest with geocluster config log --since ${stoppedAt}`;
  const listed = rows.length > 0 ? table(['SEQ', 'KIND', 'OBJECT', 'ORIGIN', 'PUBLISHED', 'NOTE'], rows) : since === undefined ? 'no events yet' : `no events after sequence ${since} yet`;
  print(`${logHeadLine(head)}\n${listed}${rest}`, { head, events: shown, ...(since === undefined && stoppedAt === null ? {} : { next: stoppedAt }) });
  return EXIT.ok;
}

/**
 * A numeric option as the API would read it, digits only (not `1e3`, `0x64`, ` 5`, which Number
 * takes), from `min` (to `max`): anything else is refused by name before a request.
 */
function wholeNumber(raw: string, flag: string, min: number, max?: number): number {
  const value = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && (max === undefined || value <= max))) {
    throw new CliError(`${flag} must be a whole number ${max === undefined ? `of at least ${min}` : `from ${min} to ${max}`}, got '${raw}'`, EXIT.usage);
  }
  return value;
}

/**
 * `--phase`: one or more of the API's phases, comma-separated, any case (as GET /executions reads
 * it), sent upper-cased; anything else is refused by name before a request.
 */
function phasesOption(raw: string): string {
  const phases = raw.split(',').map((phase) => phase.trim().toUpperCase());
  if (!phases.every((phase) => (PHASES as readonly string[]).includes(phase))) {
    throw new CliError(`--phase must be one or more of ${PHASES.join(', ')} (comma-separated), got '${raw}'`, EXIT.usage);
  }
  return phases.join(',');
}

/** `token issue|revoke <name>`, straight on the credentials table (see the file's opening comment). */
async function token(rest: string[], values: { table?: string; endpoint?: string; region?: string; json?: boolean }, io: CliIo): Promise<number> {
  const [sub, name] = rest;
  if (sub !== 'issue' && sub !== 'revoke') {
    io.err(HELP.token as string);
    return EXIT.usage;
  }
  const nodeId = required(name, 'token', '<name>');
  if (!isNodeName(nodeId)) throw new CliError(`name '${nodeId}' ${NODE_NAME_RULE}`, EXIT.usage);
  const localTable = values.table === undefined && io.env.GEOCLUSTER_CREDENTIALS_TABLE === undefined;
  const local = localTable ? readLocalCluster(io.cwd, ', or name the credentials table with --table or GEOCLUSTER_CREDENTIALS_TABLE') : undefined;
  const table = values.table ?? io.env.GEOCLUSTER_CREDENTIALS_TABLE ?? local?.credentialsTable;
  if (!table) throw new CliError('token needs the credentials table: pass --table (the stack output CredentialsTableName) or set GEOCLUSTER_CREDENTIALS_TABLE', EXIT.usage);
  // The authorizer takes only the tokens of names the cluster declares: a token minted for any
  // other name would be printed as if it worked and refused (403) on every request. The running
  // `npm start` lists its names; a deployed cluster's table (--table) is not checked here.
  if (sub === 'issue' && localTable && Array.isArray(local?.names) && !local.names.includes(nodeId)) {
    throw new CliError(
      `'${nodeId}' is not a node or operator of the running local cluster (${local.names.join(', ')}): its token would be refused on every request. ` +
        'Add it to cluster.nodes or cluster.operators of the cluster configuration and restart npm start',
      EXIT.usage,
    );
  }
  // Locally the table is in DynamoDB Local, which takes any credentials; in AWS the SDK's own chain applies.
  const endpoint = values.endpoint ?? (localTable ? local?.dynamoEndpoint : undefined);
  const client = new DynamoDBClient({
    ...(values.region ? { region: values.region } : {}),
    ...(endpoint ? { endpoint, region: values.region ?? 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  const store = new CredentialsStore(client, table);
  try {
    if (sub === 'issue') {
      const issued = await store.issue(nodeId);
      io.out(values.json ? JSON.stringify({ name: nodeId, token: issued }) : issued);
      return EXIT.ok;
    }
    const revoked = await store.revoke(nodeId);
    io.out(values.json ? JSON.stringify({ name: nodeId, revoked }) : revoked ? `${nodeId}: token revoked` : `${nodeId} had no token`);
    return EXIT.ok;
  } catch (error) {
    const problem = error as { name?: string; message?: string };
    if (problem.name === 'ResourceNotFoundException') throw new CliError(`no credentials table '${table}' there`, EXIT.refused);
    if (problem.name === 'AccessDeniedException' || problem.name === 'UnrecognizedClientException') throw new CliError(`the credentials table refused: ${problem.message}`, EXIT.refused);
    throw new CliError(`cannot reach DynamoDB (${problem.name ?? 'error'}: ${problem.message ?? String(error)})`, EXIT.unreachable);
  } finally {
    client.destroy();
  }
}

/** A file the CLI reads as JSON (.local's, a change list), refused in one wording when it is not: which, and where the parser stopped. */
function parseJsonFile(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file} is not valid JSON: ${(error as Error).message}`, EXIT.usage);
  }
}

/** What a stale cluster.json's error offers beside starting the cluster again, for the API commands. */
const RUNNING_CLUSTER_ELSE = ', or name a running cluster with --url or GEOCLUSTER_URL and its token with --token or GEOCLUSTER_TOKEN (npm start -- --in-memory prints both)';

/**
 * What a running `npm start` wrote to .local/cluster.json, if anything. The file records the pid
 * of the process running that cluster (and, on Linux, its start time), which removes it when it
 * stops (local/cluster-file.ts); one whose process is gone (killed, not stopped), its pid free or
 * held by a later process, names a cluster that is not running: refused, with
 * `otherwise` saying what else would do, as the API unreachable (exit 3: starting it again helps).
 * A file without a pid (an older `npm start`'s) is taken as it is.
 */
function readLocalCluster(cwd: string, otherwise: string): { url?: string; credentialsTable?: string; dynamoEndpoint?: string; masters?: unknown; names?: unknown } | undefined {
  const file = path.join(cwd, '.local', 'cluster.json');
  if (!existsSync(file)) return undefined;
  const local = parseJsonFile(file, readFileSync(file, 'utf8')) as { url?: string; credentialsTable?: string; dynamoEndpoint?: string; masters?: unknown; names?: unknown; pid?: unknown; pidStart?: unknown };
  if (typeof local.pid === 'number' && !writerRuns(local)) {
    // A pid held by a process that started at another time was handed on after the writer ended.
    const reused = processRuns(local.pid) ? ` (pid ${local.pid} now belongs to another process)` : '';
    throw new CliError(
      `${file} names a local cluster that is not running: the npm start that wrote it (pid ${local.pid}) has ended without removing it${reused}. ` +
        `Start the cluster again (npm start)${otherwise}`,
      EXIT.unreachable,
    );
  }
  return local;
}

/** The process entry point (bin/geocluster.cjs): real stdout, stderr, environment and directory. */
export function main(argv = process.argv.slice(2)): Promise<number> {
  return runCli(argv, {
    out: (text) => process.stdout.write(text.startsWith('\r') ? text : `${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    tty: Boolean(process.stdout.isTTY),
    columns: process.stdout.isTTY ? process.stdout.columns : undefined,
    env: process.env,
    cwd: process.cwd(),
  }).catch((error: unknown) => {
    process.stderr.write(`geocluster: unexpected failure: ${String(error)}\n`);
    return 1;
  });
}
