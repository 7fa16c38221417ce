/**
 * Keeping the gateway private: `cluster.gateway.allowedSourceIps` lists the addresses and CIDR
 * blocks that may call it, and the gateway function refuses (403) any other caller before
 * anything reaches the master GeoServer.
 *
 * Why in the function: the cluster API is an API Gateway HTTP API, which has no resource policies,
 * no AWS WAF association and no private endpoint type (those are REST API features). The source
 * address the function checks is `requestContext.http.sourceIp`, which API Gateway takes from the
 * connection itself; a caller's `X-Forwarded-For` is never read. The local runtime fills the same
 * field from its socket, so the list is enforced there too. Matching uses Node's `net.BlockList`.
 */
import { BlockList, isIP } from 'node:net';
import { AppError } from '../../shared/errors';

/** 403: the caller's address is not in the gateway's allow list. */
export class SourceNotAllowedError extends AppError {
  constructor(sourceIp: string) {
    super(
      403,
      'SOURCE_NOT_ALLOWED',
      `The GeoServer gateway accepts calls only from the addresses in the cluster configuration's gateway.allowedSourceIps; ${sourceIp || 'this caller'} is not among them`,
    );
  }
}

/**
 * An address (`203.0.113.7`, `2001:db8::1`) or a CIDR block (`203.0.113.0/24`, `2001:db8::/32`):
 * the problem with it, or undefined when it is one.
 */
export function allowListEntryProblem(entry: string): string | undefined {
  const slash = entry.indexOf('/');
  const address = slash < 0 ? entry : entry.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return `'${entry}' is not an IPv4 or IPv6 address or CIDR block (like '203.0.113.0/24')`;
  if (slash < 0) return undefined;
  const prefix = entry.slice(slash + 1);
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) return `'${entry}' has a prefix length that is not 0-${max}`;
  return undefined;
}

export interface SourceAllowList {
  allows(sourceIp: string): boolean;
}

/** Everyone may call (no list configured). */
export const ALLOW_ALL: SourceAllowList = { allows: () => true };

/** @throws Error naming the first bad entry */
export function sourceAllowList(entries: readonly string[]): SourceAllowList {
  const list = new BlockList();
  for (const entry of entries) {
    const problem = allowListEntryProblem(entry);
    if (problem) throw new Error(problem);
    const [address, prefix] = entry.split('/') as [string, string?];
    const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return {
    allows(sourceIp) {
      // An IPv4 peer of a dual-stack socket reads as ::ffff:a.b.c.d.
      const plain = sourceIp.startsWith('::ffff:') && isIP(sourceIp.slice(7)) === 4 ? sourceIp.slice(7) : sourceIp;
      const family = isIP(plain);
      if (family === 0) return false;
      return list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
