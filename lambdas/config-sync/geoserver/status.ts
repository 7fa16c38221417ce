/**
 * A GeoServer node's status as GET /nodes shows it, computed from what one apply invocation
 * (a batch of events, or a slice of a job) saw: reachable or not, its version, the last error
 * with its time, the changes it refused and the properties a PUT could not clear.
 */
import type { AppliedEvent } from '../apply';
import { GeoServerUnavailableError } from './errors';
import { MAX_RECORDED, type GeoServerStatus, type RejectedChange, type UnclearedProperties } from './ports';
import { withoutArns } from '../../shared/errors';

export function initialStatus(url: string): GeoServerStatus {
  return { url, reachable: null, version: null, checkedAt: null, lastError: null, rejected: [], unclearedProperties: [] };
}

export interface InvocationOutcome {
  /** Every event this invocation applied, in order. */
  readonly applied: readonly AppliedEvent[];
  /** Why it stopped early, if it did. */
  readonly failure?: unknown;
  /** The sequence it was applying when it failed. */
  readonly failedSequence?: number;
  /** `/rest/about/version`, when read in this invocation. */
  readonly version?: string;
  /** The GeoServer answered a call besides the applied events' (a job's reads and fixes). */
  readonly answered?: boolean;
}

/** The status after an invocation; `previous` unchanged (same object) when nothing changed. */
export function nextStatus(previous: GeoServerStatus, outcome: InvocationOutcome, now: Date): GeoServerStatus {
  const at = now.toISOString();
  const rejected: RejectedChange[] = [];
  const uncleared: UnclearedProperties[] = [];
  let answered = outcome.answered === true;
  for (const event of outcome.applied) {
    const result = event.geoserver;
    if (!result || !event.object) continue;
    answered = true;
    if (result.kind === 'rejected') {
      rejected.push({
        sequence: event.sequence,
        type: event.object.type,
        id: event.object.id,
        request: result.request,
        status: result.status,
        answer: result.answer,
        at,
      });
    } else if (result.uncleared.length > 0) {
      uncleared.push({ sequence: event.sequence, type: event.object.type, id: event.object.id, properties: result.uncleared, at });
    }
  }
  const unavailable = outcome.failure instanceof GeoServerUnavailableError ? outcome.failure : undefined;
  if (!answered && !unavailable && outcome.version === undefined) return previous;

  let lastError = previous.lastError;
  const lastRejected = rejected[rejected.length - 1];
  if (lastRejected) {
    lastError = {
      message: `${lastRejected.request} refused: ${lastRejected.status ?? ''} ${lastRejected.answer}`.replace(/\s+/g, ' ').trim(),
      status: lastRejected.status,
      sequence: lastRejected.sequence,
      at,
    };
  }
  if (unavailable) {
    lastError = { message: withoutArns(unavailable.message), status: unavailable.geoserverStatus, sequence: outcome.failedSequence ?? null, at };
  }
  // Reachable: it takes changes. Silence, a timeout, 5xx or refused credentials: it does not
  // (lastError says which).
  const reachable = unavailable === undefined;
  return {
    url: previous.url,
    reachable,
    version: outcome.version ?? previous.version,
    checkedAt: at,
    lastError,
    rejected: [...rejected.reverse(), ...previous.rejected].slice(0, MAX_RECORDED),
    unclearedProperties: [...uncleared.reverse(), ...previous.unclearedProperties].slice(0, MAX_RECORDED),
  };
}

/**
 * Longest version taken: GeoServer's are `2.25.2`, `2.27-SNAPSHOT`. Whatever answers on the
 * GeoServer's address states it, and it is written into the node's status record (a DynamoDB
 * item of at most 400 KB, whose strings must be UTF-8): one past these bounds would fail every
 * write of the status, which GET /nodes would then show as it last was, for good.
 */
export const MAX_VERSION_CHARS = 64;

/**
 * `{"about": {"resource": [{"@name": "GeoServer", "Version": "2.25.2", ...}]}}` → `2.25.2`;
 * undefined for none a GeoServer states (empty, longer than `MAX_VERSION_CHARS`, a control
 * character, or a lone surrogate, which a JSON escape can make and UTF-8 cannot hold).
 */
export function parseVersion(text: string): string | undefined {
  const version = statedVersion(text);
  return version !== undefined && version.length > 0 && version.length <= MAX_VERSION_CHARS && version.isWellFormed() && !/\p{Cc}/u.test(version) ? version : undefined;
}

function statedVersion(text: string): string | undefined {
  try {
    const about = (JSON.parse(text) as { about?: { resource?: unknown } }).about;
    const resources = Array.isArray(about?.resource) ? about.resource : [about?.resource];
    for (const resource of resources as { '@name'?: unknown; Version?: unknown }[]) {
      if (resource?.['@name'] === 'GeoServer' && (typeof resource.Version === 'string' || typeof resource.Version === 'number')) {
        return String(resource.Version);
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}
