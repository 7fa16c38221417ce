/**
 * Request schemas of the status API, checked at the edge before any domain code runs.
 *
 * The write, listing and reindex schemas are built on first use (`lazily`): every status function
 * imports this module, most for `executionIdSchema` alone, and building the others' hundred-odd
 * zod objects was part of each one's cold start. A function that parses one of them on every
 * request builds it at its own cold start (e.g. `const writeSchema = statusWriteSchema()` at
 * module level), so its first request does not pay instead.
 */
import * as z from 'zod/mini';
import { lazily } from '../shared/lazily';
import { queryInteger } from '../shared/query';
import { PHASES } from './execution';

/**
 * ISO 8601 with a zone; stored normalised to UTC so string order is time order. The UTC form must
 * keep a four-digit year from 0001 to 9999: `9999-12-31T23:59:59-14:00` is in year 10000 in UTC,
 * which `toISOString` writes `+010000-...`, as it writes year 0 and before `-00000x-...`. Neither
 * is an RFC 3339 or xs:dateTime value, and both would break the string order of the listings.
 */
const instant = lazily(() =>
  z.pipe(
    z.pipe(
      z.iso.datetime({ offset: true }),
      z.transform((value: string) => new Date(value).toISOString()),
    ),
    z.string().check(z.regex(/^(?!0000)\d{4}-/, 'must fall within the years 0001 to 9999 in UTC')),
  ),
);

/**
 * The longest `processName` or `userName` stored, and the longest value a listing filter takes
 * (no longer one could match). Both are index partition keys, which DynamoDB refuses past 2,048
 * bytes (a 500 to the client); 256 UTF-16 units are at most 768 bytes of UTF-8, so even an owner
 * and a process together stay within it.
 */
export const MAX_NAME_LENGTH = 256;

export const EXECUTION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
export const EXECUTION_ID_RULE = 'must be 1-128 letters, digits, or _ . : - (a UUID fits)';
export const executionIdSchema = z.string().check(z.regex(EXECUTION_ID_PATTERN, EXECUTION_ID_RULE));

/** Fields only the server sets; naming them explicitly gives a clearer error than "unrecognized". */
export const SERVER_FIELDS = ['executionId', 'nodeId', 'version', 'lastUpdated', 'startTime', 'completionTime', 'dismissed'] as const;

export const statusWriteSchema = lazily(() =>
  z.strictObject({
  phase: z.enum(PHASES),
  processName: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_NAME_LENGTH))),
  progress: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(100))),
  task: z.optional(z.string().check(z.maxLength(1024))),
  userName: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_NAME_LENGTH))),
  creationTime: z.optional(instant()),
  expirationDate: z.optional(instant()),
  estimatedCompletion: z.optional(instant()),
  nextPoll: z.optional(instant()),
  exception: z.optional(
    z.strictObject({
      code: z.string().check(z.minLength(1), z.maxLength(256)),
      message: z.string().check(z.maxLength(4096)),
    }),
  ),
  // Served to every poller as a link (WPS Reference href, OGC API results link): only schemes a
  // client fetches results over. javascript:, data: or file: links would run script in a
  // viewer's page or point it at its own disk; ftp: and the like no current client follows.
  resultLocation: z.optional(
    z.url({ protocol: /^https?$/, error: 'must be an absolute http: or https: URL' }).check(z.maxLength(2048)),
  ),
  }),
);

/** A description for the document (api/openapi.ts); validation is unchanged. */
const doc = <T extends z.ZodMiniType>(schema: T, description: string): T => schema.check(z.describe(description)) as T;

/** The most statuses one page of GET /executions holds (its `limit`). */
export const MAX_LIST_LIMIT = 1000;

/** GET /executions; the descriptions are what the OpenAPI document says of each filter. */
export const listQuerySchema = lazily(() =>
  z.strictObject({
  phase: doc(
    z.optional(
      z.pipe(
        z.pipe(
          z.string(),
          z.transform((value: string) => value.split(',').map((phase) => phase.trim().toUpperCase())),
        ),
        z.array(z.enum(PHASES)),
      ),
    ),
    `Comma-separated phases: ${PHASES.join(', ')}`,
  ),
  processName: doc(z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_NAME_LENGTH))), 'Only executions of this process (served by an index)'),
  userName: doc(z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_NAME_LENGTH))), 'Only executions of this owner (served by an index)'),
  nodeId: doc(z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_NAME_LENGTH))), 'Only executions run by this node (served by an index)'),
  completedBefore: doc(z.optional(instant()), 'Only executions completed before this instant'),
  completedAfter: doc(z.optional(instant()), 'Only executions completed after this instant'),
  limit: z.optional(queryInteger(1, MAX_LIST_LIMIT, `Statuses per page, 1-${MAX_LIST_LIMIT} (default 100)`)),
  cursor: doc(
    z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
    'The `nextCursor` of the previous page, with the same filters; signed by the server, any other value is a 400',
  ),
  }),
);

/** The most statuses one reindex request reads (its work is bounded by time as well). */
export const MAX_REINDEX_ITEMS = 100_000;

/** POST /executions/reindex: where to go on from, and how much to read at most in this request. */
export const reindexRequestSchema = lazily(() =>
  z.strictObject({
  cursor: doc(
    z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
    'The `cursor` of the previous answer (202): go on from there. Absent: start a pass over the table',
  ),
  limit: doc(
    z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(MAX_REINDEX_ITEMS))),
    `Statuses to read in this request at most, 1-${MAX_REINDEX_ITEMS} (default: as many as its time allows)`,
  ),
  }),
);
