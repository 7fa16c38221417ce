/**
 * Validates XML against the official OGC schemas with xmllint, offline: the catalog in
 * test/fixtures/ogc-schemas maps every schemas.opengis.net and w3.org URL to a local copy, and
 * --nonet makes a missing mapping fail instead of silently fetching from the internet.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** Kept in the repository, so a clean clone validates the same anywhere. */
const SCHEMAS_DIR = path.resolve(__dirname, '../fixtures/ogc-schemas');
const CATALOG = path.join(SCHEMAS_DIR, 'catalog.xml');

export type SchemaName = 'wps1-execute-response' | 'wps2' | 'ows11' | 'ows20';

interface SchemaSpec {
  file: string;
  /**
   * Root elements accepted for this schema, as `{namespace}localName`. xmllint accepts any
   * global element of every schema the main one imports, so without this check an OWS
   * ExceptionReport would "validate" as a WPS ExecuteResponse.
   */
  roots: readonly string[];
}

const WPS1 = 'http://www.opengis.net/wps/1.0.0';
const WPS2 = 'http://www.opengis.net/wps/2.0';
const OWS11 = 'http://www.opengis.net/ows/1.1';
const OWS20 = 'http://www.opengis.net/ows/2.0';

const SCHEMAS: Record<SchemaName, SchemaSpec> = {
  'wps1-execute-response': {
    file: 'schemas.opengis.net/wps/1.0.0/wpsExecute_response.xsd',
    roots: [`{${WPS1}}ExecuteResponse`],
  },
  wps2: {
    file: 'schemas.opengis.net/wps/2.0/wps.xsd',
    roots: [`{${WPS2}}StatusInfo`, `{${WPS2}}Result`, `{${WPS2}}GetStatus`, `{${WPS2}}GetResult`, `{${WPS2}}Dismiss`],
  },
  ows11: { file: 'schemas.opengis.net/ows/1.1.0/owsExceptionReport.xsd', roots: [`{${OWS11}}ExceptionReport`] },
  ows20: { file: 'schemas.opengis.net/ows/2.0/owsExceptionReport.xsd', roots: [`{${OWS20}}ExceptionReport`] },
};

export interface ValidationResult {
  valid: boolean;
  /** xmllint's messages (or the root mismatch), for the failure message of a test. */
  errors: string;
}

/** Fails fast with an actionable message when the tool or the schemas are missing. */
export function assertXmllintAvailable(): void {
  const probe = spawnSync('xmllint', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    throw new Error('xmllint not found: install it with `apt-get install -y libxml2-utils` (.ci/run does)');
  }
  if (!existsSync(CATALOG)) throw new Error(`OGC schema catalog not found at ${CATALOG}`);
}

export function validateXml(xml: string, schema: SchemaName): ValidationResult {
  const spec = SCHEMAS[schema];
  const env = { ...process.env, XML_CATALOG_FILES: CATALOG };
  const result = spawnSync(
    'xmllint',
    ['--noout', '--nonet', '--schema', path.join(SCHEMAS_DIR, spec.file), '-'],
    { input: xml, encoding: 'utf8', env },
  );
  if (result.error) throw result.error;
  if (result.status !== 0) return { valid: false, errors: result.stderr.trim() };

  const root = rootName(xml, env);
  if (!spec.roots.includes(root)) {
    return { valid: false, errors: `root element ${root} is not one of ${spec.roots.join(', ')}` };
  }
  return { valid: true, errors: '' };
}

function rootName(xml: string, env: NodeJS.ProcessEnv): string {
  return execFileSync(
    'xmllint',
    ['--nonet', '--xpath', "concat('{', namespace-uri(/*), '}', local-name(/*))", '-'],
    { input: xml, encoding: 'utf8', env },
  ).trim();
}
