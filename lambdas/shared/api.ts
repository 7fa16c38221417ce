/**
 * What a route of a service manifest says about itself to API clients: its operation (summary,
 * description, tag), its parameters and bodies as zod schemas, and its answers. api/openapi.ts
 * assembles the OpenAPI document from these at synth; nothing of the document is written
 * anywhere else. Where a handler validates with zod, the declaration names that same schema
 * object, so what the document says and what the handler accepts cannot differ.
 *
 * Descriptions and examples sit on the schemas themselves (`z.describe`, `z.meta`), which
 * zod's own JSON Schema conversion carries into the document.
 */
import * as z from 'zod/mini';

/** One media type of a body: its schema and, optionally, named examples (OpenAPI `examples`). */
export interface MediaDeclaration {
  readonly schema: z.ZodMiniType;
  readonly examples?: Readonly<Record<string, { readonly summary: string; readonly value: unknown }>>;
}

export type Content = Readonly<Record<string, MediaDeclaration>>;

/** Response headers the document defines once (api/openapi.ts) and answers name. */
export type ResponseHeader = 'ETag' | 'CacheControl' | 'RetryAfter' | 'Allow' | 'Location' | 'XClusterReplicated' | 'XClusterSequence' | 'XClusterJob';

export interface ResponseDeclaration {
  readonly description: string;
  readonly content?: Content;
  readonly headers?: readonly ResponseHeader[];
}

/** Tags group operations in the document; their descriptions are in api/openapi.ts. */
export type ApiTag = 'Execution status' | 'WPS' | 'OGC API - Processes' | 'Configuration sync' | 'GeoServer REST gateway' | 'Operations' | 'API';

export interface OperationDeclaration {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: ApiTag;
  /**
   * Parameters, one zod object per location: each property is one parameter, required unless
   * optional; its description (and OpenAPI's `style`/`explode`, as metadata) comes from the
   * property's schema.
   */
  readonly path?: z.ZodMiniObject;
  readonly query?: z.ZodMiniObject;
  readonly headers?: z.ZodMiniObject;
  readonly body?: { readonly required: boolean; readonly content: Content };
  /**
   * Keyed by HTTP status; `default` for every other status (an answer passed through from
   * elsewhere). The authorizer's 401 and 403 are added to authorized routes by the document.
   */
  readonly responses: Readonly<Record<number, ResponseDeclaration>> & { readonly default?: ResponseDeclaration };
}

/** A JSON body of one schema. */
export const jsonContent = (schema: z.ZodMiniType, examples?: MediaDeclaration['examples']): Content => ({
  'application/json': examples ? { schema, examples } : { schema },
});

/** The one error body of the JSON API (lambdas/shared/http.ts maps every typed error to it). */
export const errorSchema = z
  .looseObject({
    code: z.string().check(z.meta({ example: 'INVALID_TRANSITION' })),
    message: z.string(),
    field: z.optional(z.string().check(z.describe('The request field the error is about'))),
  })
  .check(z.describe('`{code, message, field?}`; some errors add members (for example `job`, `pausedSince`)'));

/** An error answer of the JSON API. */
export const errorResponse = (description: string): ResponseDeclaration => ({ description, content: jsonContent(errorSchema) });

/** A date-time string as the API writes it (ISO 8601, UTC). */
export const dateTime = () => z.iso.datetime({ offset: true });

/** `If-None-Match` of a conditional poll. */
export const ifNoneMatchHeader = z.optional(
  z.string().check(z.describe('An ETag from an earlier answer: 304 with no body while it is current')),
);

export const NOT_MODIFIED: ResponseDeclaration = { description: 'Not modified: the If-None-Match tag is current', headers: ['ETag'] };

/** A document that is not JSON (XML, HTML), with an optional link to its official schema. */
export const textDocument = (description: string, schemaUrl?: string): z.ZodMiniString =>
  z.string().check(z.meta({ description, ...(schemaUrl ? { externalDocs: { description: 'Official XML schema', url: schemaUrl } } : {}) }));
