// The bundle cache (cdk/bundle-cache.ts) must never hand out a stale bundle: its key changes
// with every input of a bundle, a cached bundle is staged without running esbuild, and a changed
// input or a damaged entry bundles afresh.
import { App, FileSystem, Stack } from 'aws-cdk-lib';
import type { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { buildSync } from 'esbuild';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BUNDLE_CACHE_CONTEXT, BundleCache, functionBundleKey, projectInputsDigest, type FunctionBundleInputs } from '../../cdk/bundle-cache';
import { withQuietBundling } from '../../cdk/app';
import { ClusterFunction } from '../../cdk/constructs/cluster-function';

// The module object CDK calls spawnSync on (an `import * as` would spy on a copy).
const childProcess: typeof import('node:child_process') = require('node:child_process');

const ROOT = path.join(__dirname, '..', '..');
const scratch = mkdtempSync(path.join(tmpdir(), 'sgc-bundle-cache-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Every file under `dir`, recursively. */
function filesIn(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesIn(path.join(dir, entry.name)) : [path.join(dir, entry.name)],
  );
}

describe('the key of the project inputs', () => {
  // A copy of what the key reads, edited below; the repository itself is never touched.
  const copy = path.join(scratch, 'project');
  beforeAll(() => {
    cpSync(path.join(ROOT, 'lambdas'), path.join(copy, 'lambdas'), { recursive: true });
    for (const name of ['package.json', 'package-lock.json', 'tsconfig.json', path.join('node_modules', '.package-lock.json')]) {
      mkdirSync(path.dirname(path.join(copy, name)), { recursive: true });
      cpSync(path.join(ROOT, name), path.join(copy, name));
    }
  });

  /** The digest after `edit`, which is then undone; the digest is back to `before` after. */
  function digestWith(edit: () => () => void): string {
    const before = projectInputsDigest(copy);
    const undo = edit();
    const after = projectInputsDigest(copy);
    undo();
    expect(projectInputsDigest(copy)).toBe(before);
    return after;
  }
  const appendTo = (relative: string, text: string) => () => {
    const file = path.join(copy, relative);
    const original = readFileSync(file);
    writeFileSync(file, Buffer.concat([original, Buffer.from(text)]));
    return () => writeFileSync(file, original);
  };

  it('is the same for the same files', () => {
    expect(projectInputsDigest(copy)).toMatch(/^[0-9a-f]{64}$/);
    expect(projectInputsDigest(copy)).toBe(projectInputsDigest(copy));
  });

  it.each([
    ['a source file a function imports', 'lambdas/shared/cors.ts'],
    ['a handler', 'lambdas/shared/handlers/cors-preflight.ts'],
    ['the operator console page', 'lambdas/console/console.html'],
    ['package-lock.json', 'package-lock.json'],
    ["npm's record of the installed packages", 'node_modules/.package-lock.json'],
    ['package.json', 'package.json'],
    ['tsconfig.json', 'tsconfig.json'],
  ])('changes when %s changes (%s)', (_what, relative) => {
    expect(existsSync(path.join(copy, relative))).toBe(true);
    expect(digestWith(appendTo(relative, '\n// edited\n'))).not.toBe(projectInputsDigest(copy));
  });

  it('changes when a source file is added, removed or renamed', () => {
    const base = projectInputsDigest(copy);
    const added = path.join(copy, 'lambdas', 'shared', 'added.ts');
    expect(
      digestWith(() => {
        writeFileSync(added, 'export const x = 1;\n');
        return () => rmSync(added);
      }),
    ).not.toBe(base);
    const existing = path.join(copy, 'lambdas', 'shared', 'cors.ts');
    expect(
      digestWith(() => {
        renameSync(existing, `${existing}.moved`);
        return () => renameSync(`${existing}.moved`, existing);
      }),
    ).not.toBe(base);
    expect(
      digestWith(() => {
        const original = readFileSync(existing);
        rmSync(existing);
        return () => writeFileSync(existing, original);
      }),
    ).not.toBe(base);
  });

  it('covers every repository file a function can import: they are all under lambdas/', () => {
    // Every source file under lambdas/ as an entry point (a superset of the functions' entries
    // and deferred modules), packages left out: what esbuild reads from this repository.
    const entryPoints = filesIn(path.join(ROOT, 'lambdas')).filter((file) => file.endsWith('.ts'));
    const result = buildSync({
      entryPoints,
      bundle: true,
      packages: 'external',
      platform: 'node',
      loader: { '.html': 'text' },
      outdir: path.join(scratch, 'imports'),
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile!.inputs).map((input) => path.resolve(ROOT, input));
    expect(inputs.length).toBeGreaterThan(entryPoints.length);
    expect(inputs.filter((input) => !input.startsWith(path.join(ROOT, 'lambdas') + path.sep))).toEqual([]);
  });
});

describe('the key of one function', () => {
  const bundled = path.join(scratch, 'bundled-a.json');
  const samePlaceElsewhere = path.join(scratch, 'elsewhere', 'bundled-a.json');
  beforeAll(() => {
    writeFileSync(bundled, '{"a":1}');
    mkdirSync(path.dirname(samePlaceElsewhere), { recursive: true });
    writeFileSync(samePlaceElsewhere, '{"a":1}');
  });
  const base: FunctionBundleInputs = {
    project: 'p'.repeat(64),
    entry: path.join(ROOT, 'lambdas', 'shared', 'handlers', 'cors-preflight.ts'),
    runtime: 'nodejs22.x',
    architecture: 'arm64',
    bundling: { minify: true, target: 'node22', externalModules: ['a', 'b'], loader: { '.html': 'text' }, mainFields: ['module', 'main'], commandHooks: { afterBundling: ['cp x y'] } },
    bundledFiles: { 'openapi.json': bundled },
    featureFlags: { '@aws-cdk/core:target-partitions': ['aws'] },
  };
  const key = (change: Partial<FunctionBundleInputs>) => functionBundleKey({ ...base, ...change });
  const withBundling = (change: Record<string, unknown>) => key({ bundling: { ...(base.bundling as object), ...change } });

  it('is the same for the same inputs, whatever the order of their keys or the place of a copied file', () => {
    expect(key({})).toBe(functionBundleKey(base));
    const reordered = Object.fromEntries(Object.entries(base.bundling as object).reverse());
    expect(key({ bundling: reordered })).toBe(key({}));
    // A synth writes the copied file into its own output directory: its bytes count, not its path.
    expect(key({ bundledFiles: { 'openapi.json': samePlaceElsewhere } })).toBe(key({}));
  });

  it('changes with every input', () => {
    const other = path.join(scratch, 'bundled-b.json');
    writeFileSync(other, '{"a":2}');
    const variants = [
      key({ project: 'q'.repeat(64) }),
      key({ entry: path.join(ROOT, 'lambdas', 'status', 'handlers', 'conformance.ts') }),
      key({ runtime: 'nodejs20.x' }),
      key({ architecture: 'x86_64' }),
      withBundling({ minify: false }),
      withBundling({ target: 'node20' }),
      withBundling({ externalModules: ['a'] }),
      withBundling({ loader: { '.html': 'file' } }),
      withBundling({ mainFields: ['main', 'module'] }),
      withBundling({ commandHooks: { afterBundling: ['cp x z'] } }),
      withBundling({ sourceMap: true }),
      key({ bundledFiles: { 'openapi.json': other } }),
      key({ bundledFiles: { 'other-name.json': bundled } }),
      key({ bundledFiles: {} }),
      key({ featureFlags: {} }),
    ];
    expect(new Set([key({}), ...variants]).size).toBe(variants.length + 1);
  });

  it('refuses an option it cannot see into (a function), rather than leave it out of the key', () => {
    expect(() => withBundling({ commandHooks: { afterBundling: () => ['cp x y'] } })).toThrow(/function/);
  });
});

describe('a synth with a bundle cache', () => {
  const cacheDir = path.join(scratch, 'cache');
  const bundledFile = path.join(scratch, 'extra.json');

  /** Synthesizes one function into a fresh output directory; returns its bundle's files and the commands spawned. */
  function synth({ duringEsbuild, withCache = true }: { duringEsbuild?: () => void; withCache?: boolean } = {}): { bundle: Record<string, string>; spawned: string[]; assetHash: string; dir: string } {
    const original = childProcess.spawnSync;
    const spawnSync = jest.spyOn(childProcess, 'spawnSync').mockImplementation(((...args: Parameters<typeof original>) => {
      if (duringEsbuild && String(args[1]).includes('esbuild')) duringEsbuild();
      return original(...args);
    }) as typeof original);
    try {
      // No CloudFormation validation: this test is about the bundle (it is seconds of each synth).
      const app = new App({
        outdir: mkdtempSync(path.join(scratch, 'out-')),
        builtinCloudFormationValidation: false,
        context: { ...(withCache ? { [BUNDLE_CACHE_CONTEXT]: cacheDir } : {}), 'aws:cdk:enable-asset-metadata': true },
      });
      const stack = new Stack(app, 'Probe');
      const fn = withQuietBundling(() => new ClusterFunction(stack, 'Preflight', { entry: 'shared/handlers/cors-preflight.ts', bundledFiles: { 'extra.json': bundledFile } }));
      const assembly = app.synth();
      const resource = Object.values(assembly.getStackByName('Probe').template.Resources as Record<string, { Type: string; Metadata?: Record<string, string> }>).find(
        (candidate) => candidate.Type === 'AWS::Lambda::Function',
      );
      const dir = path.join(assembly.directory, resource!.Metadata!['aws:asset:path']!);
      expect(fn).toBeDefined();
      return {
        bundle: Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(path.join(dir, name), 'utf8')])),
        spawned: spawnSync.mock.calls.map(([command, args]) => [command, ...(args ?? [])].join(' ')),
        assetHash: (fn.node.findChild('Code') as Asset).assetHash,
        dir,
      };
    } finally {
      spawnSync.mockRestore();
    }
  }
  const entries = () => (existsSync(cacheDir) ? readdirSync(cacheDir).filter((name) => !name.startsWith('.')) : []);

  it('bundles once, then stages the cached bundle without running esbuild, and bundles again when an input changes', () => {
    writeFileSync(bundledFile, '{"version":1}');
    const first = synth();
    expect(first.spawned.some((command) => command.includes('esbuild'))).toBe(true);
    expect(Object.keys(first.bundle).sort()).toEqual(['extra.json', 'index.js']);
    expect(entries()).toHaveLength(1);

    const second = synth();
    expect(second.spawned).toEqual([]);
    expect(second.bundle).toEqual(first.bundle);

    writeFileSync(bundledFile, '{"version":2}');
    const changed = synth();
    expect(changed.spawned.some((command) => command.includes('esbuild'))).toBe(true);
    expect(changed.bundle['extra.json']).toBe('{"version":2}');
    expect(entries()).toHaveLength(2);
  });

  it('stores nothing when an input changed while esbuild ran, so going back to the old text cannot stage the new one', () => {
    writeFileSync(bundledFile, '{"version":"before"}');
    const before = entries().length;
    const edited = synth({ duringEsbuild: () => writeFileSync(bundledFile, '{"version":"during"}') });
    expect(edited.bundle['extra.json']).toBe('{"version":"during"}');
    expect(entries()).toHaveLength(before);

    writeFileSync(bundledFile, '{"version":"before"}');
    const back = synth();
    expect(back.spawned.some((command) => command.includes('esbuild'))).toBe(true);
    expect(back.bundle['extra.json']).toBe('{"version":"before"}');
    expect(entries()).toHaveLength(before + 1);
  });

  it('is not used without a cache directory (cdk synth, cdk deploy): the asset is hashed by its output, as CDK does, and holds the same bundle', () => {
    writeFileSync(bundledFile, '{"version":"deploy"}');
    const cached = synth();
    const plain = synth({ withCache: false });
    expect(plain.spawned.some((command) => command.includes('esbuild'))).toBe(true);
    expect(plain.assetHash).toBe(FileSystem.fingerprint(plain.dir));
    expect(cached.assetHash).not.toBe(plain.assetHash);
    expect(plain.bundle).toEqual(cached.bundle);
  });

  it('bundles again, and replaces the entry, when a cached bundle was damaged', () => {
    writeFileSync(bundledFile, '{"version":3}');
    const first = synth();
    const entry = entries().find((name) => readFileSync(path.join(cacheDir, name, 'bundle', 'extra.json'), 'utf8') === '{"version":3}')!;
    writeFileSync(path.join(cacheDir, entry, 'bundle', 'index.js'), 'module.exports = "not the bundle";');

    const again = synth();
    expect(again.spawned.some((command) => command.includes('esbuild'))).toBe(true);
    expect(again.bundle).toEqual(first.bundle);
    expect(readFileSync(path.join(cacheDir, entry, 'bundle', 'index.js'), 'utf8')).toBe(first.bundle['index.js']);
  });
});

describe('the cache directory', () => {
  const source = path.join(scratch, 'source-bundle');
  beforeAll(() => {
    mkdirSync(path.join(source, 'sub'), { recursive: true });
    writeFileSync(path.join(source, 'index.js'), 'exports.handler = 1;');
    writeFileSync(path.join(source, 'sub', 'chunk.js'), 'exports.x = 2;');
  });
  const readTree = (dir: string) => Object.fromEntries(filesIn(dir).map((file) => [path.relative(dir, file), readFileSync(file, 'utf8')]));

  it('restores exactly what was stored, and nothing for an unknown key', () => {
    const cache = new BundleCache(mkdtempSync(path.join(scratch, 'c-')));
    cache.store('k1', source);
    const target = path.join(scratch, 'restored-1');
    expect(cache.restore('k1', target)).toBe(true);
    expect(readTree(target)).toEqual(readTree(source));
    expect(cache.restore('unknown', path.join(scratch, 'restored-none'))).toBe(false);
    expect(existsSync(path.join(scratch, 'restored-none'))).toBe(false);
  });

  it('keeps the first entry when another writer stored the same key meanwhile, and leaves no temporary files', () => {
    const dir = mkdtempSync(path.join(scratch, 'c-'));
    const first = new BundleCache(dir);
    first.store('k', source);
    // The second writer checked before the first renamed its entry into place.
    const second = new BundleCache(dir);
    jest.spyOn(second, 'has').mockReturnValue(false);
    const other = path.join(scratch, 'other-bundle');
    mkdirSync(other, { recursive: true });
    writeFileSync(path.join(other, 'index.js'), 'exports.handler = "other";');
    second.store('k', other);
    expect(readdirSync(dir)).toEqual(['k']);
    const target = path.join(scratch, 'restored-2');
    expect(first.restore('k', target)).toBe(true);
    expect(readTree(target)).toEqual(readTree(source));
  });

  it('ignores an entry a writer did not finish (no manifest) and one whose files went missing', () => {
    const dir = mkdtempSync(path.join(scratch, 'c-'));
    const cache = new BundleCache(dir);
    mkdirSync(path.join(dir, 'partial', 'bundle'), { recursive: true });
    writeFileSync(path.join(dir, 'partial', 'bundle', 'index.js'), 'half');
    expect(cache.restore('partial', path.join(scratch, 'restored-3'))).toBe(false);
    cache.store('k', source);
    rmSync(path.join(dir, 'k', 'bundle', 'sub', 'chunk.js'));
    expect(cache.restore('k', path.join(scratch, 'restored-4'))).toBe(false);
    expect(existsSync(path.join(scratch, 'restored-4'))).toBe(false);
    expect(readdirSync(scratch).filter((name) => name.includes('.restoring-'))).toEqual([]);
  });

  it('evicts the least recently used entries beyond its bound', () => {
    const cache = new BundleCache(mkdtempSync(path.join(scratch, 'c-')));
    for (const key of ['a', 'b', 'c']) cache.store(key, source);
    const old = new Date(Date.now() - 60_000);
    for (const key of ['a', 'b', 'c']) utimesSync(path.join(cache.dir, key), old, old);
    expect(cache.restore('a', path.join(scratch, 'restored-5'))).toBe(true); // used now
    cache.evictBeyond(2);
    expect(readdirSync(cache.dir).sort()).toEqual(['a', expect.stringMatching(/^[bc]$/)]);
  });
});
