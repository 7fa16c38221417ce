/**
 * The GeoServer REST gateway's limits, stated once: the handler enforces them, the CDK construct
 * sizes the function from them, and docs/operations.md explains them. They follow from the
 * platform it runs on:
 * - API Gateway (HTTP API) accepts request bodies up to 10 MB and ends a request whose
 *   integration has not answered after 30 s (the most an HTTP API allows).
 * - Lambda takes a synchronous invocation of at most 6 MB (6,291,456 bytes) of event JSON: the
 *   body travels inside it with the headers, as a JSON string, base64-encoded when it is binary.
 *   A body too large for that is refused by Lambda before the function runs, so the gateway
 *   refuses well below it, with its own 413, whatever the body's encoding.
 * - The answer travels base64-encoded inside Lambda's 6 MB response, hence the cap on what the
 *   master may answer.
 */
import { AppError } from '../../shared/errors';
import { MAX_PROPERTIES_BYTES } from '../events';
import { isWriteMethod } from './rest-paths';

/** API Gateway's own limit on request bodies (HTTP APIs), for the docs and the error message. */
export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Lambda's synchronous invocation payload limit (request event and response). */
export const LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;
/**
 * The largest request body the gateway forwards, counted as the event carries it (base64 for
 * binary bodies): 1 MiB under Lambda's limit leaves room for the headers and the JSON escaping
 * of a text body.
 */
export const MAX_REQUEST_BODY_BYTES = 5 * 1024 * 1024;
/** The largest answer of the master returned to the caller (4 MiB is 5.3 MiB base64-encoded). */
export const MAX_RESPONSE_BODY_BYTES = 4 * 1024 * 1024;
/**
 * The largest answer the gateway reads from the master at all: reading a written object back
 * (a style document as large as the request limit) is not returned to the caller, so only memory
 * bounds it.
 */
export const MAX_READ_BACK_BYTES = 4 * MAX_REQUEST_BODY_BYTES;

/** API Gateway (HTTP API) gives up on the integration after this long. */
export const API_GATEWAY_TIMEOUT_MS = 30_000;
/** The gateway function's Lambda timeout, under API Gateway's. */
export const FUNCTION_TIMEOUT_MS = 29_000;
/**
 * Every call to the master of one request shares this budget from the request's arrival, so the
 * gateway answers (504 at worst) before Lambda or API Gateway cut it off with a bare error.
 */
export const REQUEST_BUDGET_MS = 26_000;
/** No single call to the master waits longer than this, even with budget left. */
export const UPSTREAM_CALL_TIMEOUT_MS = 25_000;
/** Kept back from the budget when the write is forwarded: reading it back and publishing it. */
export const PUBLISH_RESERVE_MS = 3_000;

/**
 * Reads of the master one step of a write makes at once (a namespace's or workspace's data
 * stores, before and after the write): a workspace with hundreds of stores is read in tens of
 * round trips inside REQUEST_BUDGET_MS, not hundreds one after another, without sending one
 * GeoServer more than a few requests at a time.
 */
export const MASTER_READ_CONCURRENCY = 8;

/** How long a write waits for the cluster's write lease before it is answered 503. */
export const LEASE_WAIT_MS = 10_000;
/**
 * How long a lease lasts unless released. Longer than the function may run (Lambda stops it at
 * FUNCTION_TIMEOUT_MS) plus clock skew between instances, so a live holder never loses it; a
 * holder that died blocks writes at most this long.
 */
export const LEASE_TTL_MS = 35_000;

/**
 * How long a run of the gateway's sweep (gateway/sweep.ts) waits for a write lease another
 * holder has. A job of the master's (a capture, a reconcile) takes the lease for one difference
 * or batch at a time, most of them well under this, and is asked to leave it to the sweep between
 * two (`RECOVERY_WANTED_MS`): the run then recovers as soon as the difference in hand is done. The
 * sweep's function runs for 29 s, so the recovery keeps the rest.
 */
export const SWEEP_LEASE_WAIT_MS = 10_000;
/**
 * How long the mark a sweep run leaves when it finds the lease held (`recoveryWantedUntil` on the
 * lease item) stands: meanwhile a job of the master's takes the lease for no further difference,
 * and the first holder that recovers intents (this run, the next one, or a gateway write) takes
 * it and clears the mark. Longer than the sweep's schedule (every minute) and its wait, so a
 * difference that outlasts this run's wait leaves the lease free for the next run; short enough
 * that a sweep that stopped running holds a job back no longer than this, once.
 */
export const RECOVERY_WANTED_MS = 90_000;

/**
 * How long an upload's intent is kept after it was recorded, a capture of the master asked for
 * by each holder of the lease that finds it (gateway/recovery.ts). An upload answered 504 (it ran
 * past REQUEST_BUDGET_MS) is still being read by the master GeoServer after its lease was given
 * back, for as long as the file takes: a capture asked for at once may scan the master before the
 * upload lands. Kept this long, the intent has a capture asked for after it lands (each sweep, a
 * minute apart, asks again; one not begun covers the next), and a master's reconcile removes
 * nothing the master holds and its store lacks meanwhile. An upload that takes the master longer
 * still lands with no capture after it: a capture of the master then brings it over.
 */
export const UPLOAD_SETTLE_MS = 10 * 60_000;

/**
 * An intent older than this is reported by each run of the sweep (handlers/recover-gateway-writes.ts:
 * an error log line naming it, and the StaleGatewayIntents metric, which alarms). A write's intent
 * is recovered within a minute or so of its writer's end; one still there after this long has a
 * recovery that keeps failing (the master answering 500 on one of its paths, say), which nobody
 * gives up, and meanwhile every master reconcile leaves its extras on the master. Longer than
 * UPLOAD_SETTLE_MS, which an upload's intent is kept on purpose.
 */
export const STALE_INTENT_MS = 15 * 60_000;

/** 413: a request body over MAX_REQUEST_BODY_BYTES, refused before anything is forwarded. */
export class GatewayBodyTooLargeError extends AppError {
  constructor(bytes: number) {
    super(
      413,
      'PAYLOAD_TOO_LARGE',
      `Request body is ${bytes} bytes; the GeoServer gateway forwards at most ${MAX_REQUEST_BODY_BYTES} bytes (5 MiB, binary bodies counted base64-encoded) ` +
        `because Lambda takes at most ${LAMBDA_SYNC_PAYLOAD_BYTES} bytes (6 MB) per request, below API Gateway's ${API_GATEWAY_MAX_BODY_BYTES} bytes (10 MB). ` +
        'Send larger uploads to the master GeoServer directly.',
      'body',
    );
  }
}

/**
 * The largest body of a write to a replicated path: the cluster replicates an object of at most
 * this much JSON (events.ts, a style with its document included), so a larger write would be
 * applied by the master and reach no other node.
 */
export const MAX_REPLICATED_WRITE_BYTES = MAX_PROPERTIES_BYTES;

/** 413: a write to a replicated path larger than the cluster can replicate, refused before it reaches the master. */
export class ReplicatedWriteTooLargeError extends AppError {
  constructor(bytes: number) {
    super(
      413,
      'PAYLOAD_TOO_LARGE',
      `Request body is ${bytes} bytes; a write to a replicated path may carry at most ${MAX_REPLICATED_WRITE_BYTES} bytes (1 MiB), ` +
        'the most the cluster replicates of one object: the master would apply it and no other node would.',
      'body',
    );
  }
}

/** A call to the master whose answer the gateway stopped reading at MAX_READ_BACK_BYTES. */
export interface UnreadAnswer {
  readonly method: string;
  readonly path: string;
  /** The answer's size as its Content-Length gave it; unknown when it was streamed past the cap. */
  readonly bytes?: number;
}

/**
 * 502: the master's answer is too large: the answer to the caller's own call, over what is
 * returned through Lambda (`bytes`); or any answer the gateway read for the request, the caller's
 * or a write's read of its object, over what the gateway reads at all (`unread`, the call it was).
 */
export class MasterAnswerTooLargeError extends AppError {
  /**
   * @param method the caller's: a write may have been applied, which recovery then publishes
   * @param written for an answer read whole (a number) to a write: what the master answered and the
   *   sequences the cluster published of it, which the caller would otherwise send again
   */
  constructor(answer: number | UnreadAnswer, method = 'GET', written?: { readonly status: number; readonly sequences: readonly number[] }) {
    const advice = 'Ask for less (paging, a narrower path), or read it from the master GeoServer directly.';
    const applied =
      written === undefined || !isWriteMethod(method)
        ? ''
        : ` The master answered this ${method} with ${written.status}` +
          (written.sequences.length > 0 ? `, and the cluster published what it changed (sequence ${written.sequences.join(', ')})` : '') +
          ': only its answer is not returned. Read the object from the gateway to see it rather than sending the write again.';
    super(
      502,
      'GEOSERVER_ANSWER_TOO_LARGE',
      typeof answer === 'number'
        ? `The master GeoServer's answer is ${answer} bytes; the gateway returns at most ${MAX_RESPONSE_BODY_BYTES} bytes (4 MiB, base64-encoded inside Lambda's ${LAMBDA_SYNC_PAYLOAD_BYTES}-byte response).${applied || ` ${advice}`}`
        : `The master GeoServer's answer to ${answer.method} ${answer.path} is ${answer.bytes === undefined ? 'over' : `${answer.bytes} bytes, over`} the ${MAX_READ_BACK_BYTES} bytes ` +
            `(20 MiB) the gateway reads of any answer of the master's, which it stopped reading there; it returns at most ${MAX_RESPONSE_BODY_BYTES} bytes (4 MiB). ${advice}` +
            (isWriteMethod(method)
              ? ' The master may have applied this write: what the cluster replicates of it is published by the next write through the gateway, or by its sweep within a minute (docs/operations.md, "When publishing fails").'
              : ''),
    );
  }
}

/** 504: the master did not answer in time. The write may still be applied there, unpublished. */
export class MasterTimeoutError extends AppError {
  constructor(detail: string, method: string, master: string) {
    super(
      504,
      'GEOSERVER_TIMEOUT',
      `${detail}. The gateway answers every request within ${REQUEST_BUDGET_MS / 1000} s, before API Gateway ends it at ${API_GATEWAY_TIMEOUT_MS / 1000} s.` +
        (isWriteMethod(method)
          ? ` The master may still apply this write without it being published: read it back from the master, and compare the master with the cluster (GET /nodes/${master}/drift) before retrying.`
          : ''),
    );
  }
}

/**
 * Room kept, beside a style's document, for the style's own fields (name, format, language
 * version, file name, workspace) in the properties that carry both (a few hundred bytes in
 * practice).
 */
export const STYLE_FIELDS_ALLOWANCE_BYTES = 16 * 1024;

/**
 * 413: a style document within the replicated write limit as sent, but over it as the cluster
 * carries it (a JSON string in the style's properties, where each quote, backslash, line break
 * and control character takes two bytes or more), refused before it reaches the master.
 */
export class StyleDocumentTooLargeError extends AppError {
  constructor(bytesAsJson: number) {
    super(
      413,
      'PAYLOAD_TOO_LARGE',
      `The style document is ${bytesAsJson} bytes as a JSON string (its quotes and line breaks escaped, as the cluster carries it in the style's properties); ` +
        `with ${STYLE_FIELDS_ALLOWANCE_BYTES} bytes kept for the style's own fields that is over the ${MAX_REPLICATED_WRITE_BYTES} bytes (1 MiB) the cluster replicates of one object: ` +
        'the master would store it and no other node would. Make the document smaller (fewer rules, no indentation).',
      'body',
    );
  }
}
