/**
 * Request bodies and query strings a config-sync handler validates with zod, apart from api.ts (which publishes
 * them in the OpenAPI document with every operation's prose and examples). Each is built on first
 * use (`lazily`): esbuild keeps every top-level zod call of an imported module, so the resync
 * function built the event log's, catalog's and drift's query schemas (about 120 zod objects)
 * at each cold start. A handler that parses on every request builds its schema at cold start.
 */
import * as z from 'zod/mini';
import { lazily } from '../shared/lazily';
import { nodeNameSchema } from '../shared/cluster-model';
import { queryFlag, queryInteger, queryIntegerOr } from '../shared/query';
import { DEFAULT_EVENT_PAGE, MAX_EVENT_PAGE } from './event-log-view';
import { MAX_OBJECT_KEY_BYTES, OBJECT_TYPES, objectRefSchema, utf8Bytes, type ObjectType } from './objects';

/** Body of POST /nodes/{node}/resync (handlers/resync-node.ts). */
export const resyncRequestSchema = lazily(() =>
  z.strictObject({
    source: z.optional(nodeNameSchema.check(z.describe('The node whose store is copied; another node than the target'))),
  }),
);

/** Query of GET /config/events (handlers/list-events.ts). */
export const eventLogQuerySchema = lazily(() =>
  z.strictObject({
    since: z.optional(queryInteger(0, Number.MAX_SAFE_INTEGER, 'Events after this sequence (0 for the first page of the whole log)')),
    limit: queryIntegerOr(DEFAULT_EVENT_PAGE, 1, MAX_EVENT_PAGE, `Events per page, at most ${MAX_EVENT_PAGE}`),
  }),
);

const NOT_A_NEXT = 'is not the next value of a previous page';

/**
 * Why `next` is no position of the listing of `type` (every type when undefined), or undefined
 * when it is one: the key (`type/id`) of an object of that type, with an id such an object can
 * have. A key from the listing of another type, or of no object at all, would otherwise start
 * the listing over (or end it) without a word, and a client following it would read page one again.
 */
function nextProblem(next: string, type: ObjectType | undefined): string | undefined {
  const slash = next.indexOf('/');
  const keyType = next.slice(0, slash);
  const id = next.slice(slash + 1);
  if (type !== undefined && keyType !== type) {
    return `${NOT_A_NEXT} of this listing: with type=${type} it is the key \`${type}/<id>\` of a ${type}, not of a ${keyType || 'type'}`;
  }
  if (!(OBJECT_TYPES as readonly string[]).includes(keyType)) {
    return `${NOT_A_NEXT}: it is the key \`type/id\` of an object, and "${keyType}" is no object type (${OBJECT_TYPES.join(', ')})`;
  }
  const ref = objectRefSchema().safeParse({ type: keyType, id });
  if (!ref.success) return `${NOT_A_NEXT}: it is the key \`${keyType}/<id>\` of a ${keyType}, whose id ${ref.error.issues[0]?.message ?? 'is invalid'}`;
  return undefined;
}

/** Query of GET /nodes/{node}/catalog (handlers/get-catalog.ts). */
export const catalogQuerySchema = lazily(() =>
  z.strictObject({
    type: z.optional(z.enum(OBJECT_TYPES).check(z.describe('Only objects of this type'))),
    limit: queryIntegerOr(100, 1, 1000, 'Objects per page'),
    next: z.optional(
      z
        .string()
        .check(
          z.maxLength(MAX_OBJECT_KEY_BYTES, NOT_A_NEXT),
          // An object key is a DynamoDB sort key: longer ones (in bytes) cannot be compared with one.
          z.refine((next) => utf8Bytes(next) <= MAX_OBJECT_KEY_BYTES, NOT_A_NEXT),
          z.includes('/', NOT_A_NEXT),
          z.describe('The `next` of the previous page of the same listing (an object key, `type/id`, of the listed `type` if one is given)'),
        ),
    ),
    includeDeleted: queryFlag('Include the tombstones of removed objects, and what a remove with `recurse` took (as `deleted`)'),
  }).check(
    z.superRefine(({ type, next }, ctx) => {
      const problem = next === undefined ? undefined : nextProblem(next, type);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['next'], message: problem });
    }),
  ),
);

/** Query of GET /nodes/{node}/drift (handlers/read-node-jobs.ts). */
export const driftQuerySchema = lazily(() =>
  z.strictObject({
    limit: queryIntegerOr(100, 1, 1000, 'Differences per page'),
    after: queryIntegerOr(0, 0, 999_999_999, 'The `next` of the previous page'),
  }),
);

/** The most dead-letter messages one GET /nodes/{node}/dead-letters lists, and one discard names. */
export const MAX_DEAD_LETTER_PAGE = 100;
export const MAX_DISCARD_IDS = 100;
/** An SQS message id as a listing shows it: letters, digits and hyphens (a UUID on AWS and on the emulator). */
const MESSAGE_ID_PATTERN = /^[A-Za-z0-9-]{1,128}$/;

/** Query of GET /nodes/{node}/dead-letters (handlers/list-dead-letters.ts). */
export const deadLettersQuerySchema = lazily(() =>
  z.strictObject({
    limit: queryIntegerOr(20, 1, MAX_DEAD_LETTER_PAGE, `Messages to list, at most ${MAX_DEAD_LETTER_PAGE}`),
  }),
);

/** Body of POST /nodes/{node}/dead-letters/discard (handlers/discard-dead-letters.ts). */
export const discardRequestSchema = lazily(() =>
  z.strictObject({
    messageIds: z
      .array(
        z.string().check(
          z.regex(MESSAGE_ID_PATTERN, 'is not a message id: letters, digits and hyphens, as GET /nodes/{node}/dead-letters lists them'),
        ),
      )
      .check(
        z.minLength(1, 'must name at least one message id'),
        z.maxLength(MAX_DISCARD_IDS, `names more than ${MAX_DISCARD_IDS} message ids: send them in several requests`),
        z.refine((ids) => new Set(ids).size === ids.length, 'names a message id twice'),
        z.describe(`The ids of the messages to discard (from GET /nodes/{node}/dead-letters), at most ${MAX_DISCARD_IDS}`),
      ),
  }),
);
