/**
 * The tokens `npm start` gives the declared nodes and operators (local/cluster.ts), and what it
 * keeps of them in .local/node-tokens.json. The credentials table is the truth: a persisted
 * restart keeps every credential the table already holds, so a token minted since with
 * `geocluster token issue` goes on working, and a name revoked with `geocluster token revoke`
 * stays revoked. The file holds only tokens the table accepts. A new table (first run, --fresh,
 * --in-memory) gets a fresh token for every name.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseAuthorizationHeader, secretMatches } from '../lambdas/shared/node-token';
import { LocalStartError } from './errors';
import { replaceFile } from './replace-file';

/** The two calls of the credentials table (lambdas/shared/adapters/credentials-store.ts) this needs. */
export interface TokenTable {
  secretHashOf(name: string): Promise<string | undefined>;
  issue(name: string): Promise<string>;
}

/** Why a name has no token this start can print. */
export type HeldElsewhere = 'issued' | 'revoked';

export interface StartTokens {
  /** The token of every name whose token this start knows, each one the table accepts. */
  readonly tokens: Record<string, string>;
  /** The names the table keeps a credential for that this start does not know ('issued', by `geocluster token issue`) or keeps none for ('revoked'). */
  readonly elsewhere: Record<string, HeldElsewhere>;
}

/**
 * Why `JSON.parse` refused a file of secrets, without its text: V8 quotes the text around an
 * unexpected token (`Unexpected token 'A', ..."x": ABCDEFGHIJ"... is not valid JSON`), which here
 * is a secret. Such a message is not repeated; one naming a position is.
 */
export function unquotedJsonError(error: unknown): string {
  const reason = (error as Error).message;
  return / is not valid JSON$/.test(reason) ? 'an unexpected character' : reason;
}

/** The tokens file of an earlier run: a JSON object from name to token; anything else is refused, naming the file. */
export function readTokenFile(tokenFile: string): Record<string, string> {
  if (!existsSync(tokenFile)) return {};
  let saved: unknown;
  try {
    saved = JSON.parse(readFileSync(tokenFile, 'utf8'));
  } catch (error) {
    throw new LocalStartError(`${tokenFile} is not JSON (${unquotedJsonError(error)}): fix it, or start over with --fresh`);
  }
  if (typeof saved !== 'object' || saved === null || Array.isArray(saved) || !Object.values(saved).every((token) => typeof token === 'string')) {
    throw new LocalStartError(`${tokenFile} must be a JSON object from each node or operator name to its token: fix it, or start over with --fresh`);
  }
  return saved as Record<string, string>;
}

/**
 * Settles each name's token. `tableIsNew`: the credentials table was created by this start, so
 * nothing in it is kept and every name gets a new token. Otherwise, per name: a saved token the
 * table still accepts is kept; a credential the table holds that no saved token matches is one
 * minted since, kept in the table and left out of the file; no credential for a name the file
 * held is a revocation, kept; no credential for a name the file never held (a name the cluster
 * configuration added since) gets a new token.
 */
export async function settleTokens(table: TokenTable, names: readonly string[], saved: Readonly<Record<string, string>>, tableIsNew: boolean): Promise<StartTokens> {
  const tokens: Record<string, string> = {};
  const elsewhere: Record<string, HeldElsewhere> = {};
  for (const name of names) {
    if (tableIsNew) {
      tokens[name] = await table.issue(name);
      continue;
    }
    const secretHash = await table.secretHashOf(name);
    const savedToken = Object.hasOwn(saved, name) ? saved[name] : undefined;
    const parsed = parseAuthorizationHeader(savedToken === undefined ? undefined : `Bearer ${savedToken}`);
    if (secretHash !== undefined) {
      if (parsed && parsed.nodeId === name && secretMatches(parsed.secret, secretHash)) tokens[name] = savedToken as string;
      else elsewhere[name] = 'issued';
    } else if (savedToken !== undefined) {
      elsewhere[name] = 'revoked';
    } else {
      tokens[name] = await table.issue(name);
    }
  }
  return { tokens, elsewhere };
}

/**
 * Writes the tokens the table accepts to the tokens file, readable by its owner only. The mode
 * applies only to a file being created: written into an existing file (one made by hand, with the
 * umask's 0644), the tokens would take its mode. So they go into a new file that replaces it.
 */
export function writeTokenFile(tokenFile: string, tokens: Readonly<Record<string, string>>): void {
  writePrivateJson(tokenFile, tokens);
}

/** A file of secrets as JSON, readable by its owner only, whatever the file it replaces allowed (`writeTokenFile`). */
export function writePrivateJson(file: string, value: Readonly<Record<string, string>>): void {
  replaceFile(file, `${JSON.stringify(value, null, 2)}\n`, 0o600);
}
