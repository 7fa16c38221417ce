/**
 * JSON Schemas of OGC API - Processes - Part 1: Core 1.0, transcribed from the official OpenAPI
 * components (schemas.opengis.net/ogcapi/processes/part1/1.0/openapi/schemas/*.yaml) into
 * JSON Schema draft-07 for ajv. Constraints are kept as published (required members, enums,
 * formats, ranges, no additionalProperties restriction), so a response that passes here passes
 * the standard's own schema. The one deliberate narrowing is marked where it is.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

const ID = 'https://schemas.opengis.net/ogcapi/processes/part1/1.0/openapi/schemas/';

/** link.yaml */
export const linkSchema = {
  $id: `${ID}link.yaml`,
  type: 'object',
  required: ['href'],
  properties: {
    href: { type: 'string' },
    rel: { type: 'string' },
    type: { type: 'string' },
    hreflang: { type: 'string' },
    title: { type: 'string' },
  },
} as const;

/** statusCode.yaml */
export const statusCodeSchema = {
  $id: `${ID}statusCode.yaml`,
  type: 'string',
  enum: ['accepted', 'running', 'successful', 'failed', 'dismissed'],
} as const;

/** statusInfo.yaml */
export const statusInfoSchema = {
  $id: `${ID}statusInfo.yaml`,
  type: 'object',
  required: ['jobID', 'status', 'type'],
  properties: {
    processID: { type: 'string' },
    type: { type: 'string', enum: ['process'] },
    jobID: { type: 'string' },
    status: { $ref: 'statusCode.yaml' },
    message: { type: 'string' },
    created: { type: 'string', format: 'date-time' },
    started: { type: 'string', format: 'date-time' },
    finished: { type: 'string', format: 'date-time' },
    updated: { type: 'string', format: 'date-time' },
    progress: { type: 'integer', minimum: 0, maximum: 100 },
    links: { type: 'array', items: { $ref: 'link.yaml' } },
  },
} as const;

/** jobList.yaml */
export const jobListSchema = {
  $id: `${ID}jobList.yaml`,
  type: 'object',
  required: ['jobs', 'links'],
  properties: {
    jobs: { type: 'array', items: { $ref: 'statusInfo.yaml' } },
    links: { type: 'array', items: { $ref: 'link.yaml' } },
  },
} as const;

/** exception.yaml (RFC 7807 based; extra members allowed). */
export const exceptionSchema = {
  $id: `${ID}exception.yaml`,
  title: 'Exception Schema',
  type: 'object',
  required: ['type'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
  },
  additionalProperties: true,
} as const;

/** confClasses.yaml */
export const confClassesSchema = {
  $id: `${ID}confClasses.yaml`,
  type: 'object',
  required: ['conformsTo'],
  properties: { conformsTo: { type: 'array', items: { type: 'string' } } },
} as const;

/**
 * results.yaml maps each output id to inlineOrRefData (an inline value, a qualified value or a
 * link). Narrowed here to the link form, the only one this API emits, so a malformed link is
 * caught instead of passing as "some inline value".
 */
export const resultsSchema = {
  $id: `${ID}results.yaml`,
  type: 'object',
  additionalProperties: { $ref: 'link.yaml' },
} as const;

export type OgcSchemaName = 'statusInfo' | 'jobList' | 'exception' | 'confClasses' | 'results';

const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
for (const schema of [linkSchema, statusCodeSchema, statusInfoSchema, jobListSchema, exceptionSchema, confClassesSchema, resultsSchema]) {
  ajv.addSchema(schema);
}

const validators: Record<OgcSchemaName, ValidateFunction> = {
  statusInfo: ajv.getSchema(statusInfoSchema.$id) as ValidateFunction,
  jobList: ajv.getSchema(jobListSchema.$id) as ValidateFunction,
  exception: ajv.getSchema(exceptionSchema.$id) as ValidateFunction,
  confClasses: ajv.getSchema(confClassesSchema.$id) as ValidateFunction,
  results: ajv.getSchema(resultsSchema.$id) as ValidateFunction,
};

/**
 * Validates a value as the JSON a client would receive (it goes through JSON.stringify first,
 * so `undefined` members and Date objects are judged as they would be on the wire).
 */
export function validateOgc(value: unknown, schema: OgcSchemaName): { valid: boolean; errors: string } {
  const wire: unknown = JSON.parse(JSON.stringify(value));
  const validate = validators[schema];
  const valid = validate(wire);
  return { valid, errors: valid ? '' : ajv.errorsText(validate.errors, { separator: '\n' }) };
}
