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
  processID: commaList(z.string().check(z.minLength(1)), 'Only jobs of these processes (comma-separated or repeated)'),
  status: commaList(
    z.enum(OGC_STATUS_CODES, { error: (issue) => `Unknown status '${String(issue.input)}'; use ${OGC_STATUS_CODES.join(', ')}` }),
    'Only jobs in these statuses (comma-separated or repeated)',
  ),
  cursor: z.optional(
    z
      .string()
      .check(
        z.maxLength(MAX_CURSOR_LENGTH, 'is not a cursor from a next link'),
        z.describe('Opaque page position, as found in a `next` link; signed by the server, any other value is a 400'),
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
 */
export function parseJobListQuery(query: QueryParameters, instance?: string): ParsedJobListQuery {
  const params = query ?? {};
  const limit = params['limit']?.trim();
  const candidate = {
    // Text that is not a whole number is left as text, for the schema to refuse as not an integer.
    limit: limit === undefined || limit === '' ? undefined : /^\d+$/.test(limit) ? Math.min(MAX_LIMIT, Number(limit)) : limit,
    processID: list(params['processID']),
    status: list(params['status']),
    cursor: params['cursor']?.trim() || undefined,
  };
  const result = jobListQuerySchema.safeParse(candidate);
  if (!result.success) {
    const issue = result.error.issues[0];
    const name = String(issue?.path[0] ?? 'query');
    const detail = name === 'limit' ? `limit must be an integer from 1 to ${MAX_LIMIT} (got '${limit}')` : (issue?.message ?? 'is invalid');
    throw invalidParameter(name, detail, instance);
  }
  const parsed = result.data;
  return {
    limit: parsed.limit ?? DEFAULT_LIMIT,
    ...(parsed.processID ? { processIds: parsed.processID } : {}),
    ...(parsed.status ? { statuses: parsed.status as OgcStatusCode[] } : {}),
    ...(parsed.cursor ? { cursor: parsed.cursor } : {}),
  };
}

/** Items of a comma-separated value, each once; undefined when there are none. */
function list(value: string | undefined): string[] | undefined {
  const items = (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return items.length > 0 ? [...new Set(items)] : undefined;
}
