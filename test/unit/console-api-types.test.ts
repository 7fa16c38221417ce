/**
 * The console (lambdas/console/console.html) is one static page with no build step, so it cannot
 * import the typed client; instead its script names each answer's type in JSDoc, and this test
 * type-checks the script with the TypeScript compiler against the types cli/api-types.ts
 * generates from the OpenAPI document: a field the console reads that the API does not answer
 * (or answers under another name) fails here, as it would in the CLI's or the tests' code.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..');
const html = readFileSync(path.join(ROOT, 'lambdas', 'console', 'console.html'), 'utf8');
const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';

/** The answer types the script's JSDoc names: the success answers' JSON of each route it calls. */
const TYPES = `
import type { paths } from ${JSON.stringify(path.join(ROOT, 'cli', 'api-types'))};
type Answer<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: infer R }
  ? { [S in keyof R]: S extends 200 | 201 | 202 ? (R[S] extends { content: { 'application/json': infer B } } ? B : never) : never }[keyof R]
  : never;
declare global {
  type NodesAnswer = Answer<'/nodes', 'get'>;
  type ExecutionsAnswer = Answer<'/executions', 'get'>;
  type EventsAnswer = Answer<'/config/events', 'get'>;
  type RedriveAnswer = Answer<'/nodes/{node}/redrive', 'post'>;
  type ResyncAnswer = Answer<'/nodes/{node}/resync', 'post'>;
  type PauseAnswer = Answer<'/nodes/{node}/pause', 'post'>;
  type JobAnswer = Answer<'/nodes/{node}/drift', 'post'>;
  type DriftAnswer = Answer<'/nodes/{node}/drift', 'get'>;
  type DeadLettersAnswer = Answer<'/nodes/{node}/dead-letters', 'get'>;
  type DiscardAnswer = Answer<'/nodes/{node}/dead-letters/discard', 'post'>;
}
export {};
`;

function typeErrors(source: string): string[] {
  const files: Record<string, string> = { [path.join(ROOT, '.console-check', 'console.js')]: source, [path.join(ROOT, '.console-check', 'answers.d.ts')]: TYPES };
  const options: ts.CompilerOptions = {
    allowJs: true,
    checkJs: true,
    noEmit: true,
    // The page's own DOM code is plain JavaScript; what is checked is its use of the API's answers.
    strict: false,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
    types: [],
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) =>
    name in files ? ts.createSourceFile(name, files[name] as string, version) : getSourceFile(name, version, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name in files || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => files[name] ?? readFile(name);
  const program = ts.createProgram(Object.keys(files), options, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
}

test('the console reads only what the API documents in its answers', () => {
  expect(script).toContain('@type {NodesAnswer}');
  expect(typeErrors(script)).toEqual([]);
}, 60_000);

test('a field the API does not answer fails the check', () => {
  const wrong = script
    .replace('status.progress +', 'status.progres +')
    .replace('node.deadLetterDepth,', 'node.deadLetters,')
    // In what holds a node back, and in a parking record's events.
    .replace("'retrying #' + node.failing.sequence", "'retrying #' + node.failing.sequenc")
    .replace('entry.overflow.through', 'entry.overflow.thru')
    // In the dead letters panel: a message's kind, and what a discard kept.
    .replace('letter.setAside ?', 'letter.setAsid ?')
    .replace('result.kept.map(', 'result.keep.map(');
  expect(wrong).not.toBe(script);
  const errors = typeErrors(wrong);
  expect(errors).toEqual(
    expect.arrayContaining([
      expect.stringContaining("'progres'"), expect.stringContaining("'deadLetters'"), expect.stringContaining("'sequenc'"), expect.stringContaining("'thru'"),
      expect.stringContaining("'setAsid'"), expect.stringContaining("'keep'"),
    ]),
  );
}, 60_000);

test('a value the API declares that one of the console\'s maps of known values leaves out fails the check', () => {
  const wrong = script.replace('both: true };', '};').replace("different: 'RUNNING' };", '};');
  expect(wrong).not.toBe(script);
  expect(typeErrors(wrong)).toEqual(expect.arrayContaining([expect.stringContaining("'both'"), expect.stringContaining("'different'")]));
}, 60_000);
