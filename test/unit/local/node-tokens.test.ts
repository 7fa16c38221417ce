/**
 * The tokens file `npm start` keeps (.local/node-tokens.json): readable by its owner only,
 * whatever the file it replaces allowed.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readTokenFile, writeTokenFile } from '../../../local/node-tokens';
import { localSecrets } from '../../../local/cluster';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'node-tokens-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const TOKENS = { 'master-1': `master-1.${'s'.repeat(43)}` };
const modeOf = (file: string) => statSync(file).mode & 0o777;

test('a new tokens file is readable by its owner only', () => {
  const file = path.join(dir, '.local', 'node-tokens.json');
  writeTokenFile(file, TOKENS);
  expect(modeOf(file)).toBe(0o600);
  expect(readTokenFile(file)).toEqual(TOKENS);
});

test('tokens written over a file others could read are readable by its owner only', () => {
  // A file made by hand (an editor, `echo '{}' >`) gets the umask's 0644; writing into it kept that.
  const file = path.join(dir, 'node-tokens.json');
  writeFileSync(file, '{}\n');
  chmodSync(file, 0o644);
  writeTokenFile(file, TOKENS);
  expect(modeOf(file)).toBe(0o600);
  expect(readTokenFile(file)).toEqual(TOKENS);
  expect(readFileSync(file, 'utf8')).toBe(`${JSON.stringify(TOKENS, null, 2)}\n`);
  // Nothing else is left beside it.
  expect(readdirSync(dir)).toEqual(['node-tokens.json']);
});

test('a tokens file that is not JSON is refused without quoting any of it', () => {
  // A token pasted without its quotes: the parser's own message quotes the text around it.
  const secret = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq';
  const file = path.join(dir, 'node-tokens.json');
  for (const text of [`{"master-1": ${secret}}`, `{"master-1": "master-1.x",\n "slave-1": ${secret}}`, `slave-1.${secret}`]) {
    writeFileSync(file, text);
    let message = '';
    try {
      readTokenFile(file);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(`${file} is not JSON`);
    expect(message).not.toContain(secret.slice(0, 4));
    expect(message).not.toContain('slave-1.');
  }
});

test('a tokens file that is not JSON is refused with where the parser stopped, when it says so without quoting', () => {
  const file = path.join(dir, 'node-tokens.json');
  writeFileSync(file, '{"master-1": "master-1.x"');
  expect(() => readTokenFile(file)).toThrow(/is not JSON \(.*position 25.*\): fix it, or start over with --fresh/);
});

describe("the stack's generated secrets (.local/secrets.json)", () => {
  test('written over a file others could read, they are readable by their owner only, and kept across restarts', () => {
    const file = path.join(dir, 'secrets.json');
    writeFileSync(file, '{}\n');
    chmodSync(file, 0o644);
    const secret = localSecrets(file)('CursorKey');
    expect(modeOf(file)).toBe(0o600);
    expect(localSecrets(file)('CursorKey')).toBe(secret);
    expect(readdirSync(dir)).toEqual(['secrets.json']);
  });

  test('a file that is not JSON is refused without quoting any of it', () => {
    const file = path.join(dir, 'secrets.json');
    writeFileSync(file, '{"CursorKey": ABCDEFGHIJKLMNOP}\n');
    expect(() => localSecrets(file)).toThrow(/secrets\.json is not JSON \(an unexpected character\)/);
    expect(() => localSecrets(file)).not.toThrow(/ABCDEF/);
  });
});
