/**
 * The master's GeoServer as the gateway reads its writes back (gateway.ts, `GatewayOptions.readBack`):
 * every call made with the master node's own credentials (its secret, cached by the provider),
 * in place of any the call carries, as the sweep and a capture read the master. A caller's
 * credentials would show only the part of the catalog GeoServer's data security lets that user
 * see, and what it hides would be published as removed.
 *
 * The credentials' read shares the call's time (`timeoutMs`, what is left of the request's
 * budget), and is cancelled when that runs out (not left running past the request); one that
 * fails or runs out is the master out of reach (UpstreamUnavailableError, timed out or not), its
 * message naming the secret's variable, never its value, nor an AWS resource (the caller reads it;
 * the function's log has them, from its `cause`). A 401 drops the
 * cached credentials (rotated since they were read): the next call reads them again.
 */
import { UpstreamUnavailableError } from '../adapters/geoserver-upstream';
import type { CredentialsProvider, GeoServerCredentials } from '../adapters/geoserver-http';
import { CONFIG_SYNC_ENV } from '../env-names';
import { withoutArns } from '../../shared/errors';
import type { Upstream } from './gateway';

export function masterReadBack(upstream: Upstream, credentials: CredentialsProvider): Upstream {
  return {
    async send(call, timeoutMs) {
      let held: GeoServerCredentials;
      try {
        held = await withinTime((signal) => credentials.get(signal), timeoutMs);
      } catch (error) {
        // The message is the caller's 502: IAM's refusal names the function's role and the secret
        // with the account id, which stay in the function's log (`cause`).
        throw new UpstreamUnavailableError(
          `could not read the master node's GeoServer credentials (${CONFIG_SYNC_ENV.geoserverCredentialsSecret}) to read the write back: ${withoutArns(error instanceof Error ? error.message : String(error))}`,
          error instanceof CredentialsTimeoutError,
          error,
        );
      }
      const authorization = `Basic ${Buffer.from(`${held.username}:${held.password}`, 'utf8').toString('base64')}`;
      const answer = await upstream.send({ ...call, headers: { ...call.headers, authorization } }, timeoutMs);
      if (answer.status === 401) credentials.invalidate();
      return answer;
    },
  };
}

class CredentialsTimeoutError extends Error {}

/** What `start` answers, or a CredentialsTimeoutError once `timeoutMs` has passed, when `start`'s signal is aborted. */
async function withinTime<T>(start: (signal?: AbortSignal) => Promise<T>, timeoutMs: number | undefined): Promise<T> {
  if (timeoutMs === undefined) return start();
  const giveUp = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new CredentialsTimeoutError(`no answer within ${timeoutMs} ms`);
      reject(error); // first, so the call fails with it rather than with the cancelled read's error
      giveUp.abort(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([start(giveUp.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
