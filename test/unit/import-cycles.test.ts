// No module of the local runtime, the functions or the CDK app imports itself through other
// modules. A cycle makes module order matter (a value read during another module's load can be
// undefined: representations.ts once had to read a list at call time for that reason) and hides
// which module depends on which. Type-only imports count too: they leave no trace at run time,
// but they tie the modules' meaning together just the same (local/iam.ts and local/template.ts
// once imported a constant one way and a type the other).
//
// madge builds the import graph with TypeScript's own module resolution (tsconfig.json);
// skipTypeImports is off so `import type` and inline `import('...')` types are edges.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import madge from 'madge';

const ROOT = path.join(__dirname, '..', '..');

/** Paths in the answer are relative to `baseDir`. */
async function importGraph(dir: string, baseDir = ROOT) {
  return madge(dir, {
    baseDir,
    fileExtensions: ['ts'],
    tsConfig: path.join(ROOT, 'tsconfig.json'),
    detectiveOptions: { ts: { skipTypeImports: false }, es6: { skipTypeImports: false } },
  });
}

jest.setTimeout(60_000);

// madge's TypeScript parser reads a node property its parser has deprecated, once per inline
// type import; the warning says nothing about this project, so keep it out of the test output.
const emitWarning = process.emitWarning;
beforeAll(() => {
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]): void {
    const message = typeof warning === 'string' ? warning : warning.message;
    if (message.includes('deprecated on TSImportType nodes')) return;
    (emitWarning as (...args: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
});
afterAll(() => {
  process.emitWarning = emitWarning;
});

describe('import graph', () => {
  it.each(['local', 'lambdas', 'cdk'])('%s/ has no import cycle, and every relative import resolves', async (dir) => {
    const graph = await importGraph(path.join(ROOT, dir));
    // A file madge could not resolve would be missing from the graph, and so from the check.
    expect(graph.warnings().skipped).toEqual([]);
    expect(Object.keys(graph.obj()).length).toBeGreaterThan(10);
    expect(graph.circular()).toEqual([]);
  });

  it('finds a cycle made only of a type import one way and a value import the other', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'import-cycle-'));
    try {
      writeFileSync(path.join(dir, 'constants.ts'), "import type { Shape } from './shapes';\nexport const SIDES = 4;\nexport const square: Shape = { sides: SIDES };\n");
      writeFileSync(path.join(dir, 'shapes.ts'), "import { SIDES } from './constants';\nexport interface Shape { sides: number }\nexport const max = SIDES;\n");
      const graph = await importGraph(dir, dir);
      expect(graph.circular()).toEqual([['constants.ts', 'shapes.ts']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
