/**
 * The query of `GET /jobs` as one zod schema: the OpenAPI document publishes it
 * (../api.ts, operation getJobs) and the handler parses with it, so the two cannot drift. The
 * schema describes the parameters' values (an integer, lists): query strings arrive as text, so
 * `parseJobListQuery` first splits the lists (a repeated parameter arrives comma-joined from
 * API Gateway) and reads a whole number, then parses. Kept apart from ./ogcapi.ts, which every
 * polling function imports, so that only the job list loads zod.
 */
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { MAX_CURSOR_LENGTH } from '../../shared/signed-cursor';
import type { QueryParameters } from './kvp';
import { DEFAULT_LIMIT, MAX_LIMIT, OGC_STATUS_CODES, invalidParameter, type JobListQuery, type OgcStatusCode } from './ogcapi';
import { MAX_PAGE_SIZE } from './job-list';
import { MAX_NAME_LENGTH } from '../schemas';

z.config(en());

const commaList = <T extends z.ZodMiniType>(items: T, description: string) =>
  z.optional(z.array(items).check(z.minLength(1), z.meta({ description, style: 'form', explode: false })));

export const jobListQuerySchema = z.object({
  limit: z.optional(
    z.int().check(
      z.minimum(1),
      z.maximum(MAX_LIMIT),
      z.meta({
        default: DEFAULT_LIMIT,
        description: `Jobs per page. At most ${MAX_PAGE_SIZE} are returned per page whatever the limit; follow the \`next\` link.`,
      }),
    ),
  ),
  processID: commaList(z.string().check(z.minLength(1), z.maxLength(MAX_NAME_LENGTH)), 'Only jobs of these processes (comma-separated or repeated)'),
  status: commaList(
    z.enum(OGC_STATUS_CODES, { error: (issue) => `Unknown status '${String(issue.input)}'; use ${OGC_STATUS_CODES.join(', ')}` }),
    'Only jobs in these statuses (comma-separated or repeated)',
  ),
  type: commaList(z.string().check(z.minLength(1)), 'Only jobs of these types (comma-separated or repeated); every job of this API is of type `process`'),
  datetime: z.optional(
    z.string().check(
      z.describe(
        'Only jobs created at this instant or within this interval, both ends included (RFC 3339 with a zone; `..` for an open end): ' +
          '`2026-12-01T00:00:00Z`, `2026-12-01T00:00:00Z/2026-12-02T00:00:00Z`, `../2026-12-02T00:00:00Z`',
      ),
    ),
  ),
  minDuration: z.optional(z.int().check(z.minimum(0), z.describe('Only jobs that have run (from `started`, their first RUNNING write, until they finished or now) at least this many seconds; a job without `started` is left out'))),
  maxDuration: z.optional(z.int().check(z.minimum(0), z.describe('Only jobs that have run at most this many seconds; a job without `started` is left out'))),
  cursor: z.optional(
    z
      .string()
      .check(
        z.maxLength(MAX_CURSOR_LENGTH, 'is not a cursor from a next link'),
        z.describe('Opaque page position, as found in a `next` link; signed by the server, any other value is a 400'),
      ),
  ),
  f: z.optional(
    z.enum(['json'], { error: (issue) => `the job list is served as json only (got '${String(issue.input)}')` }).check(
      z.describe("The answer's format, as OGC API's `f` parameter names it: `json`, the only one served (as with no `f`)"),
    ),
  ),
});

export interface ParsedJobListQuery extends JobListQuery {
  cursor?: string;
}

/**
 * The job list's query, parsed with jobListQuerySchema; a bad value is a 400 OGC exception
 * naming the parameter. A limit above the maximum is served as the maximum (Processes 1.0 lets a
 * server serve fewer jobs than asked), as is the limit of an empty value the default.
 * A parameter the schema does not name is refused, as GET /executions refuses one: names are
 * case-sensitive, and a misspelt filter (`processId`) dropped without a word would hand the
 * caller every job as if it were filtered.
 */
export function parseJobListQuery(query: QueryParameters, instance?: string): ParsedJobListQuery {
  const params = query ?? {};
  const known = Object.keys(jobListQuerySchema.shape);
  const unknown = Object.keys(params).find((name) => !known.includes(name));
  if (unknown !== undefined) {
    throw invalidParameter(unknown, `${unknown} is not a parameter of GET /jobs (${known.join(', ')}); parameter names are case-sensitive`, instance);
  }
  const limit = params['limit']?.trim();
  const text = (name: string): string | undefined => params[name]?.trim() || undefined;
  const candidate = {
    // Text that is not a whole number is left as text, for the schema to refuse as not an integer.
    limit: limit === undefined || limit === '' ? undefined : /^\d+$/.test(limit) ? Math.min(MAX_LIMIT, Number(limit)) : limit,
    processID: list(params['processID']),
    status: list(params['status']),
    type: list(params['type']),
    datetime: text('datetime'),
    minDuration: wholeNumber(text('minDuration')),
    maxDuration: wholeNumber(text('maxDuration')),
    cursor: text('cursor'),
    f: text('f'),
  };
  const result = jobListQuerySchema.safeParse(candidate);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = String(issue?.path[0] ?? 'query');
    const detail =
      name === 'limit'
        ? `limit must be an integer from 1 to ${MAX_LIMIT} (got '${limit}')`
        : name === 'minDuration' || name === 'maxDuration'
          ? `${name} must be a whole number of seconds, at most ${Number.MAX_SAFE_INTEGER} (got '${text(name)}')`
          : (issue?.message ?? 'is invalid');
    throw invalidParameter(name, detail, instance);
  }
  const parsed = result.data;
  const { minDuration, maxDuration } = parsed;
  if (minDuration !== undefined && maxDuration !== undefined && minDuration > maxDuration) {
    throw invalidParameter('minDuration', `minDuration (${minDuration}) is more than maxDuration (${maxDuration})`, instance);
  }
  return {
    limit: parsed.limit ?? DEFAULT_LIMIT,
    ...(parsed.processID ? { processIds: parsed.processID } : {}),
    ...(parsed.status ? { statuses: parsed.status as OgcStatusCode[] } : {}),
    ...(parsed.type ? { types: parsed.type } : {}),
    ...(parsed.datetime === undefined ? {} : { created: parseDatetime(parsed.datetime, instance) }),
    ...(minDuration === undefined ? {} : { minDuration }),
    ...(maxDuration === undefined ? {} : { maxDuration }),
    ...(parsed.cursor ? { cursor: parsed.cursor } : {}),
  };
}

/** A whole number as a number; other text as it is, for the schema to refuse as not an integer. */
function wholeNumber(value: string | undefined): number | string | undefined {
  return value === undefined ? undefined : /^\d+$/.test(value) ? Number(value) : value;
}

/** RFC 3339 date-time with a zone (`Z` or an offset), as OGC API's `datetime` takes it. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
/**
 * The same instants as GET /executions takes: a real calendar date and time (`Date.parse` rolls
 * `2026-02-30` over to March 2nd, and `T24:00:00` to the next day).
 */
const CALENDAR_INSTANT = z.iso.datetime({ offset: true });

/**
 * The `datetime` parameter (OGC API - Common, as Processes 1.0's job list takes it): an instant,
 * or an interval `start/end` whose either end may be `..` (or empty) for open. As epoch ms.
 */
function parseDatetime(value: string, instance?: string): { from?: number; to?: number } {
  const bad = (why: string) => invalidParameter('datetime', `datetime ${why} (got '${value}')`, instance);
  const instant = (part: string): number | undefined => {
    if (part === '' || part === '..') return undefined;
    const time = RFC3339.test(part) && CALENDAR_INSTANT.safeParse(part.toUpperCase()).success ? Date.parse(part) : Number.NaN;
    if (Number.isNaN(time)) throw bad('must be an RFC 3339 instant with a zone, or an interval of two ("start/end", ".." for an open end)');
    return time;
  };
  const parts = value.split('/');
  if (parts.length > 2) throw bad('holds more than one "/"');
  if (parts.length === 1) {
    const at = instant(parts[0] as string);
    if (at === undefined) throw bad('is an open end alone');
    return { from: at, to: at };
  }
  const [from, to] = [instant(parts[0] as string), instant(parts[1] as string)];
  if (from === undefined && to === undefined) throw bad('has two open ends');
  if (from !== undefined && to !== undefined && from > to) throw bad('ends before it starts');
  return { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}

/** Items of a comma-separated value, each once; undefined when there are none. */
function list(value: string | undefined): string[] | undefined {
  const items = (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return items.length > 0 ? [...new Set(items)] : undefined;
}
