/**
 * Holds every answer an integration test receives to the OpenAPI document the same cluster
 * serves (`GET /openapi.json`): the status must be one the operation documents, and a JSON
 * answer must validate against that response's schema. So the published schemas are checked
 * against real answers from the real handlers, on every route the tests exercise, not only
 * against answers built in a unit test.
 *
 * Paths the document does not describe (the local runtime's `/__local/...`, the console's
 * static pages) are not checked. An answer documented as any media type (`*` `/` `*`: the GeoServer
 * REST gateway's pass-through of GeoServer's own answers) is held to its status only.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
interface Doc {
  paths: Record<string, Record<string, Operation>>;
  components?: unknown;
}
interface Checker {
  check(method: string, path: string, status: number, contentType: string | null, body: unknown): string | undefined;
}

/**
 * OpenAPI 3.0 writes exclusive bounds as JSON Schema draft 4 did (`minimum` with a boolean
 * `exclusiveMinimum`); ajv reads draft 7 (the bound itself in `exclusiveMinimum`).
 */
function draft7(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(draft7);
  if (value === null || typeof value !== 'object') return value;
  const schema = Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, draft7(inner)])) as Record<string, unknown>;
  for (const [exclusive, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (typeof schema[exclusive] !== 'boolean') continue;
    if (schema[exclusive] === true) {
      schema[exclusive] = schema[bound];
      delete schema[bound];
    } else delete schema[exclusive];
  }
  return schema;
}

const checkers = new Map<string, Promise<Checker>>();

/** Problems with one answer, or undefined when it is what the document says. */
export async function answerProblem(
  baseUrl: string,
  method: string,
  path: string,
  status: number,
  contentType: string | null,
  body: unknown,
): Promise<string | undefined> {
  let checker = checkers.get(baseUrl);
  if (!checker) checkers.set(baseUrl, (checker = loadChecker(baseUrl)));
  return (await checker).check(method, path, status, contentType, body);
}

async function loadChecker(baseUrl: string): Promise<Checker> {
  const response = await fetch(`${baseUrl}/openapi.json`);
  if (response.status !== 200) throw new Error(`GET ${baseUrl}/openapi.json answered ${response.status}`);
  const doc = (await response.json()) as Doc;
  const ajv = new Ajv({ strict: false, unicodeRegExp: true, validateSchema: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(draft7({ components: doc.components, paths: doc.paths }) as object, 'doc');
  const templates = Object.keys(doc.paths).map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
    // A literal segment beats a parameter: `/jobs/{jobId}/results` over `/jobs/{jobId}/{x}`.
    parameters: (template.match(/\{/g) ?? []).length,
  }));
  const compiled = new Map<string, ValidateFunction>();
  const pointer = (...parts: string[]) => parts.map((part) => part.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

  return {
    check(method, path, status, contentType, body) {
      const pathname = new URL(path, 'http://x').pathname;
      const matches = templates.filter(({ pattern }) => pattern.test(pathname)).sort((a, b) => a.parameters - b.parameters);
      const verb = method.toLowerCase();
      const found = matches.find(({ template }) => doc.paths[template]?.[verb] !== undefined);
      if (!found) return undefined;
      const operation = doc.paths[found.template]![verb]!;
      const key = operation.responses?.[String(status)] ? String(status) : operation.responses?.default ? 'default' : undefined;
      if (key === undefined) {
        return `${method} ${path} answered ${status}, which ${method} ${found.template} does not document (it documents ${Object.keys(operation.responses ?? {}).join(', ')})`;
      }
      const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
      if (!/^application\/([\w.+-]+\+)?json$/.test(media) || body === undefined) return undefined;
      const content = operation.responses![key]!.content ?? {};
      const mediaOf = (type: string) => type.split(';')[0]!.trim().toLowerCase();
      const declared =
        Object.keys(content).find((type) => mediaOf(type) === media) ??
        Object.keys(content).find((type) => /json$/.test(mediaOf(type))) ??
        Object.keys(content).find((type) => type === '*/*');
      if (declared === '*/*') return undefined;
      if (declared === undefined) return `${method} ${path} answered ${status} with ${media}, which ${method} ${found.template} does not document for ${key}`;
      if (content[declared]!.schema === undefined) return undefined;
      const ref = `doc#/${pointer('paths', found.template, verb, 'responses', key, 'content', declared, 'schema')}`;
      let validate = compiled.get(ref);
      if (!validate) {
        try {
          validate = ajv.compile({ $ref: ref });
        } catch (error) {
          return `${method} ${found.template}'s ${key} schema is not valid OpenAPI 3.0 JSON Schema: ${(error as Error).message}`;
        }
        compiled.set(ref, validate);
      }
      if (validate(body)) return undefined;
      const errors = (validate.errors ?? []).slice(0, 5).map((error) => `${error.instancePath || '/'} ${error.message}`).join('; ');
      return `${method} ${path} answered ${status} with a body that does not match ${method} ${found.template}'s ${key} schema: ${errors}; body ${JSON.stringify(body).slice(0, 300)}`;
    },
  };
}
