/**
 * A cache of the functions' esbuild bundles across synths, for the synths this repository runs
 * in-process: every local cluster start (`npm start`, each integration test file's cluster, the
 * benches) and the infra tests that bundle. Each of those synthesizes into a fresh cloud
 * assembly, so without it every start bundled all ~32 functions again (about a minute of CPU)
 * from sources that had not changed.
 *
 * Hand-written because nothing does this for us: CDK reuses a bundle only within one synth
 * (AssetStaging's in-memory cache, keyed by the output directory); NodejsFunction has no
 * persistent cache (the feature request, aws/aws-cdk#26020, is open); esbuild keeps none; and
 * build caches (nx, turbo) cache whole commands, not one construct's asset inside a synth.
 *
 * How: a function whose synth has a cache directory (context BUNDLE_CACHE_CONTEXT) gets a custom
 * asset hash, the key below, so CDK knows its staging directory `<outdir>/asset.<hash>` before
 * bundling and skips bundling when that directory exists (core AssetStaging). Before the
 * function is built, a cached bundle of the same key is copied there; after, a bundle esbuild
 * made is stored. `cdk synth` and `cdk deploy` set no cache directory, so they hash assets as
 * CDK always has (the bundle's output); the key is not theirs to rely on.
 *
 * The key is deliberately conservative (any change below rebundles every function; a stale
 * bundle must never be reused):
 * - every file under lambdas/, path and bytes: the functions import nothing else from this
 *   repository (test/infra/bundle-cache.test.ts fails if one starts to);
 * - package.json, package-lock.json, node_modules/.package-lock.json (npm's record of what is
 *   installed, so an install that did not update the lock file still counts) and tsconfig.json
 *   (esbuild reads it);
 * - the versions of esbuild, aws-cdk-lib (which turns the options into esbuild's arguments) and
 *   Node.js, the platform, the working directory (where NodejsFunction finds the lock file) and
 *   the environment esbuild reads (NODE_PATH, ESBUILD_BINARY_PATH);
 * - the function's own bundling: entry, runtime, architecture, every bundling option, the
 *   commands its hooks run (rendered) and the bytes of the files copied into its bundle;
 * - the app's feature flags (`@aws-cdk/...` context).
 *
 * Concurrency: `npm start` and a test run may fill the cache at once. An entry is written into
 * a private temporary directory and renamed into place (rename is atomic; the loser of a race
 * drops its copy), entries are never changed after, and an eviction renames the entry away
 * before deleting it. A bundle is copied out under a temporary name and renamed into the
 * assembly, each file checked against the entry's manifest (sha256), so a reader never stages
 * a partial or damaged bundle: it rebundles instead. A bundle is stored only if the inputs,
 * read again after esbuild ran, still give its key (a file saved during `npm start`'s synth).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, chmodSync } from 'node:fs';
import * as path from 'node:path';

/** Context key: the cache directory. Unset (as for `cdk synth`/`cdk deploy`): no cache. */
export const BUNDLE_CACHE_CONTEXT = 'geocluster:bundleCacheDir';

const REPO_ROOT = path.resolve(__dirname, '..');

/** Where in-process synths keep bundles: beside the dependencies, so `npm ci` starts it afresh. */
export const DEFAULT_BUNDLE_CACHE_DIR = path.join(REPO_ROOT, 'node_modules', '.cache', 'geocluster-bundles');

/** Bump when the entry format or the key's recipe changes. */
const FORMAT = 'geocluster-bundle-cache-v1';

/** Entries kept (~0.5 MB each, ~31 per set of sources); the least recently used go first. */
const MAX_ENTRIES = 200;

/** A crashed writer's temporary directory older than this is removed by the next eviction. */
const STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * The cache directory an in-process synth uses: GEOCLUSTER_BUNDLE_CACHE=off turns the cache off,
 * a path puts it elsewhere, unset means DEFAULT_BUNDLE_CACHE_DIR.
 */
export function bundleCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const setting = env.GEOCLUSTER_BUNDLE_CACHE;
  if (setting === undefined || setting === '') return DEFAULT_BUNDLE_CACHE_DIR;
  if (setting === 'off') return undefined;
  return path.resolve(setting);
}

/** The project's inputs every bundle shares (see the file's opening comment), as one digest. */
export function projectInputsDigest(root: string = REPO_ROOT): string {
  const hash = createHash('sha256').update(FORMAT);
  const add = (label: string, content: Buffer | string) => {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    hash.update(`${label}\0${bytes.length}\0`).update(bytes);
  };
  for (const file of sourceFilesUnder(path.join(root, 'lambdas'))) add(`src:${path.relative(root, file)}`, readFileSync(file));
  for (const name of ['package.json', 'package-lock.json', path.join('node_modules', '.package-lock.json'), 'tsconfig.json']) {
    const file = path.join(root, name);
    add(`file:${name}`, existsSync(file) ? readFileSync(file) : '(absent)');
  }
  add('esbuild', packageVersion('esbuild'));
  add('aws-cdk-lib', packageVersion('aws-cdk-lib'));
  add('node', `${process.version} ${process.platform} ${process.arch}`);
  add('cwd', process.cwd());
  add('env', JSON.stringify([process.env.NODE_PATH ?? null, process.env.ESBUILD_BINARY_PATH ?? null]));
  return hash.digest('hex');
}

/** What one function's bundle is made from, beyond the project's shared inputs. */
export interface FunctionBundleInputs {
  /** projectInputsDigest() */
  readonly project: string;
  /** Absolute path of the entry file. */
  readonly entry: string;
  readonly runtime: string;
  readonly architecture: string;
  /** Every bundling option, with the hooks rendered as the commands they return (JSON-serializable). */
  readonly bundling: unknown;
  /** Files copied into the bundle: name in the bundle -> absolute path now (their bytes count, not the path). */
  readonly bundledFiles: Readonly<Record<string, string>>;
  /** Feature flags and other `@aws-cdk/` context. */
  readonly featureFlags: Readonly<Record<string, unknown>>;
}

/** The key of one function's bundle: a sha256 over every input (see the opening comment). */
export function functionBundleKey(inputs: FunctionBundleInputs): string {
  const files = Object.entries(inputs.bundledFiles)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, file]) => [name, createHash('sha256').update(readFileSync(file)).digest('hex')]);
  const flags = Object.entries(inputs.featureFlags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const description = JSON.stringify([FORMAT, inputs.project, inputs.entry, inputs.runtime, inputs.architecture, sortKeys(inputs.bundling), files, flags]);
  return createHash('sha256').update(description).digest('hex');
}

interface Manifest {
  format: string;
  /** Path in the bundle (posix) -> sha256 and mode. */
  files: Record<string, { sha256: string; mode: number }>;
}

/** The cache directory: `<key>/manifest.json` and `<key>/bundle/` per entry. */
export class BundleCache {
  constructor(readonly dir: string) {}

  has(key: string): boolean {
    return existsSync(path.join(this.dir, key, 'manifest.json'));
  }

  /**
   * Copies the cached bundle of `key` to `target` (which must not exist yet), every file checked
   * against the manifest; true when it did. A missing, partial or damaged entry gives false
   * (and a damaged one is evicted), never a partial `target`.
   */
  restore(key: string, target: string): boolean {
    const entry = path.join(this.dir, key);
    let manifest: Manifest;
    try {
      manifest = JSON.parse(readFileSync(path.join(entry, 'manifest.json'), 'utf8')) as Manifest;
    } catch {
      return false;
    }
    const temporary = `${target}.restoring-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      if (manifest.format !== FORMAT || Object.keys(manifest.files).length === 0) throw new DamagedEntry();
      for (const [name, { sha256, mode }] of Object.entries(manifest.files)) {
        const bytes = readFileSync(path.join(entry, 'bundle', ...name.split('/')));
        if (createHash('sha256').update(bytes).digest('hex') !== sha256) throw new DamagedEntry();
        const file = path.join(temporary, ...name.split('/'));
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, bytes, { mode });
        chmodSync(file, mode);
      }
      renameSync(temporary, target);
    } catch (error) {
      // Evicted meanwhile, or damaged: CDK bundles instead.
      rmSync(temporary, { recursive: true, force: true });
      if (error instanceof DamagedEntry) this.evict(key);
      return false;
    }
    // Recently used: eviction goes by the entry's modification time.
    const now = new Date();
    try {
      utimesSync(entry, now, now);
    } catch {
      // evicted meanwhile: the copy made is complete and checked all the same
    }
    return true;
  }

  /** Stores the bundle in `source` (a directory of regular files) under `key`, unless present. */
  store(key: string, source: string): void {
    if (this.has(key)) return;
    mkdirSync(this.dir, { recursive: true });
    const temporary = path.join(this.dir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      const manifest: Manifest = { format: FORMAT, files: {} };
      for (const file of filesUnder(source)) {
        const name = path.relative(source, file).split(path.sep).join('/');
        const bytes = readFileSync(file);
        const mode = statSync(file).mode & 0o777;
        const copy = path.join(temporary, 'bundle', ...name.split('/'));
        mkdirSync(path.dirname(copy), { recursive: true });
        writeFileSync(copy, bytes, { mode });
        manifest.files[name] = { sha256: createHash('sha256').update(bytes).digest('hex'), mode };
      }
      if (Object.keys(manifest.files).length === 0) throw new Error(`bundle ${source} is empty`);
      // The manifest last: an entry without one is never read.
      writeFileSync(path.join(temporary, 'manifest.json'), JSON.stringify(manifest));
      renameSync(temporary, path.join(this.dir, key));
    } catch {
      // Lost a race to another writer of the same key (its entry is as good), or the disk
      // refused: either way the next synth bundles or reads the other entry.
      rmSync(temporary, { recursive: true, force: true });
      return;
    }
    this.evictBeyond(MAX_ENTRIES);
  }

  /** Removes the least recently used entries beyond `keep`, and crashed writers' leftovers. */
  evictBeyond(keep: number): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    const entries: { name: string; used: number }[] = [];
    for (const name of names) {
      let stats;
      try {
        stats = statSync(path.join(this.dir, name));
      } catch {
        continue;
      }
      if (name.startsWith('.')) {
        if (Date.now() - stats.mtimeMs > STALE_TEMP_MS) rmSync(path.join(this.dir, name), { recursive: true, force: true });
        continue;
      }
      entries.push({ name, used: stats.mtimeMs });
    }
    entries.sort((a, b) => b.used - a.used);
    for (const { name } of entries.slice(keep)) this.evict(name);
  }

  /** Renames the entry away (readers then miss it whole), then deletes it. */
  private evict(key: string): void {
    const trash = path.join(this.dir, `.trash-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      renameSync(path.join(this.dir, key), trash);
    } catch {
      return;
    }
    rmSync(trash, { recursive: true, force: true });
  }
}

class DamagedEntry extends Error {}

/** Files under a source directory, recursively, in a stable order; symbolic links followed. */
function sourceFilesUnder(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const full = path.join(dir, name);
      return statSync(full).isDirectory() ? sourceFilesUnder(full) : [full];
    });
}

/** Regular files under a bundle, recursively, in a stable order. Anything else is refused. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return filesUnder(full);
      if (entry.isFile()) return [full];
      throw new Error(`${full} is neither a file nor a directory`);
    });
}

/** The version of the package this process bundles with (CDK and the hooks resolve it from here too). */
function packageVersion(name: string): string {
  const file = require.resolve(`${name}/package.json`);
  return `${(JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version} ${file}`;
}

/**
 * A JSON value with object keys sorted (so the key does not depend on property order). A
 * function is refused: JSON would drop it silently, and with it an input of the bundle.
 */
function sortKeys(value: unknown): unknown {
  if (typeof value === 'function') throw new Error('A bundling option is a function: render it into the key (as the command hooks are) before keying the bundle');
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}
