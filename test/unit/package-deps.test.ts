// package.json tells the truth about what the code imports: product code (lambdas/, cdk/, and
// cli/, the package's `geocluster` bin) uses only `dependencies`, the local runtime, tools, bench and tests may also use
// `devDependencies`, nothing is imported undeclared, nothing is declared unused, and the AWS
// SDK packages sit at one version.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'fixtures' ? [] : sourceFiles(full);
    return /\.(ts|cjs|js)$/.test(name) ? [full] : [];
  });
}

/** Package names a folder's files import (static, dynamic and require), type-only imports included. */
function importedPackages(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of sourceFiles(path.join(ROOT, dir))) {
    const text = readFileSync(file, 'utf8');
    const specifiers = [
      ...text.matchAll(/^(?:import|export)\b[^;]*?\sfrom\s+'([^']+)'/gm),
      ...text.matchAll(/^import\s+'([^']+)'/gm),
      ...text.matchAll(/\b(?:import|require)\(\s*'([^']+)'\s*\)/g),
    ].map((match) => match[1] as string);
    for (const specifier of specifiers) {
      if (specifier.startsWith('.') || specifier.startsWith('/')) continue;
      if (specifier.startsWith('node:')) continue;
      const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] as string);
      if (!found.has(name)) found.set(name, path.relative(ROOT, file));
    }
  }
  return found;
}

/** Type-only packages are declared as their @types package. */
const declaredAs = (name: string) => (name === 'aws-lambda' ? '@types/aws-lambda' : name);

describe('package.json', () => {
  const product = new Map([...importedPackages('lambdas'), ...importedPackages('cdk'), ...importedPackages('cli')]);
  const support = new Map(['local', 'tools', 'bench', 'test'].flatMap((dir) => [...importedPackages(dir)]));

  it('declares what product code imports as dependencies (type-only packages as devDependencies)', () => {
    const missing = [...product].filter(([name]) => {
      const declared = declaredAs(name);
      return declared.startsWith('@types/') ? !(declared in pkg.devDependencies) : !(declared in pkg.dependencies);
    });
    expect(missing).toEqual([]);
  });

  it('declares what local/, tools/, bench/ and test/ import', () => {
    const missing = [...support].filter(([name]) => !(declaredAs(name) in pkg.dependencies) && !(declaredAs(name) in pkg.devDependencies));
    expect(missing).toEqual([]);
  });

  it('keeps packages that product code does not import out of dependencies', () => {
    expect(Object.keys(pkg.dependencies).filter((name) => !product.has(name))).toEqual([]);
  });

  // Clients and lib-* packages are released together under one version; util-* packages have
  // their own numbering (util-dynamodb, which tests use, is at 3.996.x).
  it('pins every AWS SDK client and lib package at one version', () => {
    const versions = new Set(
      Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })
        .filter(([name]) => /^@aws-sdk\/(client|lib)-/.test(name))
        .map(([, version]) => version),
    );
    expect([...versions]).toHaveLength(1);
  });
});
