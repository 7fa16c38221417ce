/**
 * GeoServer's REST reference (the Swagger 2.0 files in test/fixtures/geoserver-rest-api/, CC BY 4.0,
 * © Open Source Geospatial Foundation, copied without changes from geoserver/geoserver
 * doc/en/api/1.0.0) loaded with a YAML parser and turned into a request checker: does the
 * reference describe this method on this path, with this content type, and (where it defines a
 * body schema) this JSON body?
 *
 * Hand-written because no library validates requests against Swagger 2.0 documents this loose:
 * the fixture README lists the caveats honoured here (doubled `/rest` prefix in styles.yaml,
 * flat body definitions where GeoServer wants a wrapper, lists written as `{"entry": [...]}`).
 * A few facts the YAML leaves out but GeoServer's own documentation or source states are added
 * in `SUPPLEMENTS`, each with where it is documented.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const REFERENCE_DIR = join(__dirname, '..', '..', 'fixtures', 'geoserver-rest-api');

type Schema = {
  type?: string;
  $ref?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
};

interface SwaggerParameter {
  name: string;
  in: 'path' | 'query' | 'body' | 'header' | 'formData';
  schema?: Schema;
}

interface SwaggerOperation {
  operationId?: string;
  consumes?: string[];
  parameters?: SwaggerParameter[];
  responses?: Record<string, unknown>;
}

export interface DocumentedOperation {
  /** reference file that documents it, e.g. `workspaces.yaml` */
  file: string;
  /** path template relative to `/geoserver/rest`, with the styles.yaml `/rest` doubling removed */
  template: string;
  method: string;
  /** media types the operation accepts; undefined when the reference names none */
  consumes: string[] | undefined;
  queryParameters: Set<string>;
  /** the body parameter's schema, resolved against its file's definitions */
  bodySchema: Schema | undefined;
  definitions: Record<string, Schema>;
  /** the reference documents this method only as "405 not permitted" */
  documentedNotAllowed: boolean;
  /** where a supplement (not the YAML) documents it */
  supplementedBy?: string;
}

export type Match =
  /** `path`: the decoded path routed, without its representation extension. */
  | { ok: true; operation: DocumentedOperation; params: Record<string, string>; extension: string | undefined; path: string }
  | { ok: false; status: 400 | 404 | 405; reason: string };

/**
 * Facts GeoServer documents outside these 18 files, each cited. They extend the reference; they
 * never relax a check the YAML makes.
 */
const SUPPLEMENTS: {
  template: string;
  method: string;
  consumes?: string[];
  query?: string[];
  citation: string;
}[] = [
  {
    template: '/about/version',
    method: 'GET',
    citation:
      "GeoServer's manifests.yaml (doc/en/api/1.0.0/manifests.yaml, not among the copied files) documents GET /about/version; AboutController serves it",
  },
  {
    template: '/styles',
    method: 'POST',
    query: ['raw'],
    citation:
      'StyleController.styleSLDPost (src/restconfig/.../rest/catalog/StyleController.java) reads ?raw= on the one-step upload, as the REST user manual says for PUT',
  },
  {
    template: '/workspaces/{workspace}/styles',
    method: 'POST',
    query: ['raw'],
    citation: 'StyleController.styleSLDPost reads ?raw= for workspace styles too',
  },
];

/** Extensions GeoServer strips from the last path segment to choose the representation
 * (the YAML descriptions: 'append an extension to the endpoint (example "/workspaces.xml")'):
 * those RestConfiguration.configureContentNegotiation registers, the style formats' among them. */
export const REPRESENTATION_EXTENSIONS = ['json', 'xml', 'html', 'sld', 'xslt', 'ftl', 'css', 'ysld', 'mbstyle'];

/** Media types GeoServer's catalog controllers accept for an object body when the YAML lists
 * none (e.g. POST .../coverages): `consumes` of those controllers' @PostMapping/@PutMapping. */
const DEFAULT_OBJECT_MEDIA_TYPES = ['application/json', 'text/json', 'application/xml', 'text/xml'];

interface CompiledPath {
  template: string;
  pattern: RegExp;
  names: string[];
  operations: Map<string, DocumentedOperation>;
}

export class RestReference {
  private readonly paths: CompiledPath[] = [];

  static load(dir: string = REFERENCE_DIR): RestReference {
    const reference = new RestReference();
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.yaml')).sort()) {
      const document = parse(repairClosingQuotes(readFileSync(join(dir, file), 'utf8'))) as {
        paths: Record<string, Record<string, SwaggerOperation | SwaggerParameter[]>>;
        definitions?: Record<string, Schema>;
      };
      const definitions = document.definitions ?? {};
      for (const [rawTemplate, item] of Object.entries(document.paths)) {
        // README caveat: styles.yaml writes two path groups with the base path's /rest doubled.
        const template = rawTemplate.startsWith('/rest/') ? rawTemplate.slice('/rest'.length) : rawTemplate;
        for (const [method, operation] of Object.entries(item)) {
          if (method === 'parameters' || Array.isArray(operation)) continue;
          reference.add(template, method.toUpperCase(), file, operation, definitions);
        }
      }
    }
    for (const supplement of SUPPLEMENTS) {
      const existing = reference.compiled(supplement.template).operations.get(supplement.method);
      if (existing) {
        for (const name of supplement.query ?? []) existing.queryParameters.add(name);
        existing.supplementedBy = supplement.citation;
      } else {
        reference.compiled(supplement.template).operations.set(supplement.method, {
          file: '(supplement)',
          template: supplement.template,
          method: supplement.method,
          consumes: supplement.consumes,
          queryParameters: new Set(supplement.query ?? []),
          bodySchema: undefined,
          definitions: {},
          documentedNotAllowed: false,
          supplementedBy: supplement.citation,
        });
      }
    }
    return reference;
  }

  /** Every documented (method, template) pair: the unit tests walk it. */
  operations(): DocumentedOperation[] {
    return this.paths.flatMap((path) => [...path.operations.values()]);
  }

  private compiled(template: string): CompiledPath {
    let path = this.paths.find((candidate) => candidate.template === template);
    if (!path) {
      const names: string[] = [];
      const source = template
        .split('/')
        .map((segment) =>
          segment.replace(/\{([^}]+)\}|([^{]+)/g, (_whole, name: string | undefined, literal: string | undefined) => {
            if (name !== undefined) {
              names.push(name);
              // `{method}.{format}` shares one segment: a name stops at the dot that follows it.
              return '([^/.]+|[^/]+?)';
            }
            return (literal ?? '').replace(/[.*+?^$()|[\]\\]/g, '\\$&');
          }),
        )
        .join('/');
      path = { template, pattern: new RegExp(`^${source}$`), names, operations: new Map() };
      this.paths.push(path);
    }
    return path;
  }

  private add(
    template: string,
    method: string,
    file: string,
    operation: SwaggerOperation,
    definitions: Record<string, Schema>,
  ): void {
    const parameters = operation.parameters ?? [];
    const statuses = Object.keys(operation.responses ?? {});
    const body = parameters.find((parameter) => parameter.in === 'body');
    const path = this.compiled(template);
    if (path.operations.has(method)) return; // duplicated operationIds (README caveat): first wins
    path.operations.set(method, {
      file,
      template,
      method,
      consumes: operation.consumes,
      queryParameters: new Set(parameters.filter((p) => p.in === 'query').map((p) => p.name)),
      bodySchema: body?.schema,
      definitions,
      documentedNotAllowed: statuses.length > 0 && statuses.every((status) => status === '405' || status === '401'),
    });
  }

  /**
   * What GeoServer answers an OPTIONS with on `sentPath`, which no REST controller declares:
   * Spring MVC's own answer, `Allow` naming the methods the handlers matching the path declare
   * (here: those the reference documents other than only as 405), HEAD beside GET, then OPTIONS.
   * A path no handler matches is 404 (and one with an encoded "/" 400) as for any method.
   */
  allowedMethods(sentPath: string): { ok: true; allow: string[] } | { ok: false; status: 400 | 404; reason: string } {
    const allow: string[] = [];
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE']) {
      const found = this.match(method, sentPath);
      if (!found.ok && found.status !== 405) return { ok: false, status: found.status, reason: found.reason };
      if (found.ok) allow.push(method);
      if (method === 'GET' && found.ok && !allow.includes('HEAD')) allow.push('HEAD');
    }
    if (allow.length === 0) return { ok: false, status: 404, reason: `the reference documents no method on ${sentPath} but as not permitted (405)` };
    return { ok: true, allow: [...new Set(allow), 'OPTIONS'] };
  }

  /**
   * Finds what documents `method` on `restPath` (the path after `/geoserver/rest`, as sent). As
   * GeoServer, it routes the decoded path: RestConfiguration's path helper decodes the whole path
   * (java.net.URLDecoder, so "+" is a space) before Spring matches it and reads a representation
   * extension off it, so `pg%2Ejson` is store `pg` asked for as JSON, and `%63overagestores` is
   * `coveragestores`. An encoded "/" is refused, as the servlet container refuses it by default.
   */
  match(method: string, sentPath: string): Match {
    let restPath: string;
    try {
      const segments = sentPath.split('/').map((segment) => decodeURIComponent(segment.replaceAll('+', ' ')));
      if (segments.some((segment) => segment.includes('/'))) return { ok: false, status: 400, reason: `an encoded "/" in ${sentPath}` };
      restPath = segments.join('/');
    } catch {
      return { ok: false, status: 400, reason: `a malformed percent-encoding in ${sentPath}` };
    }
    const last = restPath.slice(restPath.lastIndexOf('/') + 1);
    const dot = last.lastIndexOf('.');
    const extension = dot > 0 ? last.slice(dot + 1) : undefined;
    const candidates: { path: string; extension: string | undefined }[] = [];
    if (extension && REPRESENTATION_EXTENSIONS.includes(extension)) {
      candidates.push({ path: restPath.slice(0, restPath.length - extension.length - 1), extension });
    }
    candidates.push({ path: restPath, extension: undefined });

    let pathKnown = false;
    for (const candidate of candidates) {
      // Literal segments beat variables: /workspaces/{ws}/settings before /workspaces/{ws}/{x}.
      const hits = this.paths
        .map((path) => ({ path, found: path.pattern.exec(candidate.path) }))
        .filter((hit) => hit.found !== null)
        .sort((a, b) => a.path.names.length - b.path.names.length);
      for (const { path, found } of hits) {
        pathKnown = true;
        const operation = path.operations.get(method);
        if (!operation) continue;
        const params: Record<string, string> = {};
        // Already decoded with the whole path (above).
        path.names.forEach((name, index) => {
          params[name] = found![index + 1] ?? '';
        });
        if (operation.documentedNotAllowed) {
          return {
            ok: false,
            status: 405,
            reason: `${operation.file} documents ${method} ${operation.template} only as not permitted (405)`,
          };
        }
        return { ok: true, operation, params, extension: candidate.extension, path: candidate.path };
      }
    }
    return pathKnown
      ? { ok: false, status: 405, reason: `the reference documents no ${method} on ${restPath}` }
      : { ok: false, status: 404, reason: `the reference documents no path matching ${restPath}` };
  }
}

/**
 * layergroups.yaml closes two multi-line single-quoted examples with a quote indented at its
 * key's level. PyYAML accepts that; YAML 1.2 (the `yaml` package) requires continuation lines
 * to be indented deeper, and fails. The repair, in memory only, indents such a lone closing
 * quote two spaces further; the parsed paths then equal PyYAML's for every file (checked when
 * this was written), and the files on disk stay unmodified copies.
 */
function repairClosingQuotes(source: string): string {
  return source.replace(/^( *)'$/gm, "$1  '");
}

/** The media type without parameters (`application/json; charset=UTF-8` -> `application/json`). */
export function mediaType(contentType: string | undefined): string | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return type ? type : undefined;
}

export function acceptedMediaTypes(operation: DocumentedOperation): string[] {
  return operation.consumes ?? (operation.bodySchema ? DEFAULT_OBJECT_MEDIA_TYPES : []);
}

export function isJsonMediaType(type: string | undefined): boolean {
  return type === 'application/json' || type === 'text/json';
}

function resolve(schema: Schema, definitions: Record<string, Schema>): Schema {
  let current = schema;
  for (let depth = 0; current.$ref && depth < 10; depth++) {
    const name = current.$ref.replace('#/definitions/', '');
    current = definitions[name] ?? {};
  }
  return current;
}

/**
 * Checks a JSON body against the operation's body definition, returning the problems found and
 * the object inside the wrapper as GeoServer reads it.
 * `root` is the wrapper GeoServer's JSON carries (`{"featureType": {...}}`); the reference's
 * definitions are mostly written without it (README caveat), so a definition that is not itself
 * the wrapper is applied to the object inside it. Types are checked where declared; properties
 * the definitions do not list are allowed (the README: they lag behind GeoServer's objects).
 * Declared arrays also accept GeoServer's JSON list form, an object such as `{"entry": [...]}` or
 * `{"string": [...]}` (REFERENCE.md: "Maps are written {"entry": [...]}").
 *
 * GeoServer reads JSON through Jettison's mapped convention, which turns every value into the
 * text of an element (a number 4326 the text "4326", an array repeated elements, `{"$": t, "@a":
 * v}` an element with text t and attribute a), and XStream then converts that text to the
 * field's type. So a declared scalar takes any JSON scalar that converts: any as a string; any as
 * a boolean (true when the text is "true" in any case, false otherwise); for an integer, text in
 * Java's Long.decode syntax; for a number, text Java's Double.valueOf reads. Text that does not
 * convert fails the whole request with 500 (`unreadable`: XStream's ConversionException reaches
 * the REST controller advice's general handler). The returned `inner` holds booleans and numbers
 * as read; text stays as sent.
 */
export function checkJsonBody(
  body: unknown,
  root: string,
  operation: DocumentedOperation,
): { problems: string[]; unreadable: string[]; inner: Record<string, unknown> | undefined } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { problems: ['the body is not a JSON object'], unreadable: [], inner: undefined };
  }
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== root) {
    return {
      problems: [`the body must be wrapped as {"${root}": {...}}, found keys [${keys.join(', ')}]`],
      unreadable: [],
      inner: undefined,
    };
  }
  const inner = (body as Record<string, unknown>)[root];
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) {
    return { problems: [`"${root}" must be an object`], unreadable: [], inner: undefined };
  }
  const found: Found = { problems: [], unreadable: [] };
  let read = inner as Record<string, unknown>;
  if (operation.bodySchema) {
    const definition = resolve(operation.bodySchema, operation.definitions);
    const wrapped = definition.properties && Object.keys(definition.properties).length === 1 && definition.properties[root];
    if (wrapped) read = (readValue(body, definition, operation.definitions, '', found) as Record<string, unknown>)[root] as Record<string, unknown>;
    else read = readValue(inner, definition, operation.definitions, root, found) as Record<string, unknown>;
  }
  return { problems: found.problems, unreadable: found.unreadable, inner: read };
}

interface Found {
  /** values of a shape the reference does not describe for their property */
  problems: string[];
  /** text GeoServer's reader cannot convert to its field's type */
  unreadable: string[];
}

/** Java's Long.decode: a sign, then hexadecimal (0x, 0X, #), octal (a leading 0) or decimal digits. */
const JAVA_LONG_DECODE = /^[+-]?(?:0[xX][0-9a-fA-F]+|#[0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/;
/** Java's Double.valueOf (FloatingDecimal), hexadecimal floats left out: blanks around, a sign,
 * NaN, Infinity, or decimal digits with an optional exponent and an optional f/F/d/D suffix. */
const JAVA_DOUBLE_VALUE_OF = /^[\x00-\x20]*[+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?)[\x00-\x20]*$/;

/** The text Jettison gives a JSON scalar, or `{"$": text}` with attributes; undefined for anything else. */
function elementText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    const text = (value as Record<string, unknown>).$;
    if (
      text !== undefined &&
      entries.every(([key, child]) => (key === '$' || key.startsWith('@')) && child !== null && typeof child !== 'object')
    ) {
      return String(text);
    }
  }
  return undefined;
}

/** A declared scalar read as GeoServer reads it, or `value` unchanged with the problem recorded. */
function readScalar(value: unknown, type: string, where: string, found: Found): unknown {
  const text = elementText(value);
  const article = type === 'integer' ? 'an' : 'a';
  if (text === undefined) {
    found.problems.push(`${where} must be ${article} ${type}`);
    return value;
  }
  switch (type) {
    case 'string':
      // Kept as sent: GeoServer's JSON writer answers text that reads as a number or boolean
      // unquoted (featuretypes.yaml's `"responseSRS": {"string": [4326]}`), and `{"$": ...}` as it came.
      return value;
    case 'boolean':
      return text.toLowerCase() === 'true';
    case 'integer':
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      if (!JAVA_LONG_DECODE.test(text)) {
        found.unreadable.push(`${where}: "${text}" is not ${article} ${type} (For input string: "${text}")`);
        return value;
      }
      return javaLongDecode(text);
    default: // number
      if (typeof value === 'number') return value;
      if (!JAVA_DOUBLE_VALUE_OF.test(text)) {
        found.unreadable.push(`${where}: "${text}" is not ${article} ${type} (For input string: "${text}")`);
        return value;
      }
      return Number.parseFloat(text.trim().replace(/[fFdD]$/, ''));
  }
}

function javaLongDecode(text: string): number {
  const negative = text.startsWith('-');
  const digits = text.replace(/^[+-]/, '');
  const magnitude = /^0[xX]/.test(digits)
    ? Number.parseInt(digits.slice(2), 16)
    : digits.startsWith('#')
      ? Number.parseInt(digits.slice(1), 16)
      : digits.length > 1 && digits.startsWith('0')
        ? Number.parseInt(digits.slice(1), 8)
        : Number.parseInt(digits, 10);
  return negative ? -magnitude : magnitude;
}

/**
 * Definitions of a reference to a style, which GeoServer reads with XStreamPersister's
 * ReferenceConverter (a layer's `defaultStyle` and `styles`, a layer group's `styles`): by its
 * `name` child or, given as text, by the text, so "roads" names the style roads as
 * `{"name": "roads"}` does (the catalog resolves both alike, catalog.ts readStyleText).
 */
const STYLE_REFERENCE_DEFINITIONS = new Set(['#/definitions/StyleReference', '#/definitions/LayergroupStyle']);

function readValue(value: unknown, schema: Schema, definitions: Record<string, Schema>, at: string, found: Found): unknown {
  if (value === null || value === undefined) return value; // GeoServer ignores nulls (see catalog.ts)
  if (typeof value === 'string' && schema.$ref !== undefined && STYLE_REFERENCE_DEFINITIONS.has(schema.$ref)) return value;
  const resolved = resolve(schema, definitions);
  const where = at || '(body)';
  switch (resolved.type) {
    case 'string':
    case 'integer':
    case 'number':
    case 'boolean':
      // An array is Jettison's repeated element (`{"string": [4326]}`): each item is one element's text.
      if (Array.isArray(value)) return value.map((item, i) => readScalar(item, resolved.type!, `${where}[${i}]`, found));
      return readScalar(value, resolved.type, where, found);
    case 'array':
      if (Array.isArray(value)) {
        if (resolved.items) return value.map((item, i) => readValue(item, resolved.items!, definitions, `${where}[${i}]`, found));
      } else if (typeof value !== 'object' && !(typeof value === 'string' && resolved.items?.$ref !== undefined && STYLE_REFERENCE_DEFINITIONS.has(resolved.items.$ref))) {
        // A list of one style may be given as its one entry, and so as text (`"style": "roads"`).
        found.problems.push(`${where} must be a list`);
      }
      return value;
    case 'object':
    case undefined:
      // A reference given as text: GeoServer reads an element without children by its text
      // (XStreamPersister's ReferenceConverter), and "" or "null" names nothing, a null. Its own
      // JSON answers write a null list entry as "null" (a layer group's null style,
      // layergroups.yaml's examples), which a client sends back.
      if (value === '' || value === 'null') return value;
      if (resolved.type === 'object' && (typeof value !== 'object' || Array.isArray(value))) {
        found.problems.push(`${where} must be an object`);
        return value;
      }
      if (typeof value === 'object' && !Array.isArray(value) && resolved.properties) {
        const read: Record<string, unknown> = { ...(value as Record<string, unknown>) };
        for (const [name, child] of Object.entries(value as Record<string, unknown>)) {
          const property = resolved.properties[name];
          if (property) read[name] = readValue(child, property, definitions, at ? `${at}.${name}` : name, found);
        }
        for (const name of resolved.required ?? []) {
          if (!(name in (value as Record<string, unknown>))) found.problems.push(`${where} lacks required "${name}"`);
        }
        return read;
      }
      return value;
    default:
      return value;
  }
}
