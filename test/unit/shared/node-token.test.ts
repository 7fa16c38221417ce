import { generateToken, hashSecret, parseAuthorizationHeader, secretMatches } from '../../../lambdas/shared/node-token';

describe('generateToken', () => {
  it('issues a token that parses back to the node and a secret whose hash is the stored one', () => {
    const { token, secretHash } = generateToken('master-1');
    const parsed = parseAuthorizationHeader(`Bearer ${token}`);
    expect(parsed?.nodeId).toBe('master-1');
    expect(token).toBe(`master-1.${parsed?.secret}`);
    expect(hashSecret(parsed!.secret)).toBe(secretHash);
    expect(secretMatches(parsed!.secret, secretHash)).toBe(true);
  });

  it('stores only a SHA-256 hex hash, never the secret itself', () => {
    const { token, secretHash } = generateToken('slave-2');
    const secret = token.slice('slave-2.'.length);
    expect(secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(secretHash).not.toContain(secret);
  });

  it('issues a different secret every time', () => {
    const a = generateToken('master-1');
    const b = generateToken('master-1');
    expect(a.token).not.toBe(b.token);
    expect(a.secretHash).not.toBe(b.secretHash);
  });
});

describe('hashSecret', () => {
  it('is the SHA-256 hex digest of the secret', () => {
    expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('secretMatches', () => {
  const secret = 'a'.repeat(43);
  const stored = hashSecret(secret);

  it('accepts the right secret', () => {
    expect(secretMatches(secret, stored)).toBe(true);
  });

  it('rejects a wrong secret', () => {
    expect(secretMatches(`${secret.slice(0, -1)}b`, stored)).toBe(false);
    expect(secretMatches(generateToken('x').token.split('.')[1]!, stored)).toBe(false);
  });

  it('rejects a stored hash of a different length instead of throwing', () => {
    expect(secretMatches(secret, stored.slice(0, 62))).toBe(false);
    expect(secretMatches(secret, `${stored}00`)).toBe(false);
    expect(secretMatches(secret, '')).toBe(false);
    expect(secretMatches(secret, 'not hex at all')).toBe(false);
  });
});

describe('parseAuthorizationHeader', () => {
  const secret = 'Abc_def-0123456789xyz'; // 21 characters of the base64url alphabet

  it('reads node and secret from a Bearer token', () => {
    expect(parseAuthorizationHeader(`Bearer master-1.${secret}`)).toEqual({ nodeId: 'master-1', secret });
  });

  it.each(['bearer', 'BEARER', 'BeArEr'])('accepts the scheme in any case (%s)', (scheme) => {
    expect(parseAuthorizationHeader(`${scheme} node-a.${secret}`)).toEqual({ nodeId: 'node-a', secret });
  });

  it('tolerates surrounding whitespace and several spaces after the scheme', () => {
    expect(parseAuthorizationHeader(`  Bearer   node-a.${secret}  `)).toEqual({ nodeId: 'node-a', secret });
  });

  it('keeps the secret exactly as sent (its case matters)', () => {
    const mixed = 'AbCdEfGhIjKlMnOpQrStUv';
    expect(parseAuthorizationHeader(`Bearer n.${mixed}`)?.secret).toBe(mixed);
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['another scheme', `Basic node-a.${secret}`],
    ['no scheme', `node-a.${secret}`],
    ['no space after the scheme', `Bearernode-a.${secret}`],
    ['no dot', `Bearer node-a${secret}`],
    ['no node', `Bearer .${secret}`],
    ['no secret', 'Bearer node-a.'],
    ['a secret shorter than 20 characters', `Bearer node-a.${'x'.repeat(19)}`],
    ['a secret outside base64url', `Bearer node-a.${secret}+/=`],
    ['a node name with an underscore', `Bearer node_a.${secret}`],
    ['a node name with a dot', `Bearer node.a.${secret}`],
    ['a node name longer than 31 characters', `Bearer ${'n'.repeat(32)}.${secret}`],
    ['a node name with upper-case letters', `Bearer Master-1.${secret}`],
    ['a node name starting with a dash', `Bearer -node.${secret}`],
    ['a token followed by more text', `Bearer node-a.${secret} extra`],
  ])('rejects %s', (_, header) => {
    expect(parseAuthorizationHeader(header)).toBeUndefined();
  });

  it('accepts the shortest secret (20 characters) and the longest node name (31 characters)', () => {
    const name = `a${'b'.repeat(30)}`;
    expect(parseAuthorizationHeader(`Bearer ${name}.${'s'.repeat(20)}`)).toEqual({ nodeId: name, secret: 's'.repeat(20) });
  });
});
