/**
 * What applying changes to a node's GeoServer needs: its REST API (an HTTP adapter in
 * adapters/geoserver-http.ts, an in-memory fake in the unit tests) and a record of how the
 * GeoServer is doing, which GET /nodes shows.
 */
import type { ObjectType } from '../events';

export interface RestRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Relative to `<geoserver>/rest`, e.g. `/workspaces/topp`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  /** A JSON value (sent as `application/json`) or a document with its content type. */
  readonly body?: { readonly json: unknown } | { readonly text: string; readonly contentType: string };
  /** The media type asked for; JSON unless said (a style's document is read as SLD). */
  readonly accept?: string;
}

export interface RestResponse {
  readonly status: number;
  /** The answer's text (GeoServer explains a refusal in it), possibly cut short. */
  readonly text: string;
}

/**
 * One GeoServer's REST API. `send` resolves with any HTTP answer, 4xx and 5xx included; it
 * rejects with `GeoServerUnreachableError` when no answer came (refused, reset, timed out).
 */
export interface GeoServerRest {
  /** The GeoServer's base URL, for messages (never with credentials). */
  readonly url: string;
  send(request: RestRequest): Promise<RestResponse>;
}

/** A change GeoServer refused, as GET /nodes lists it. */
export interface RejectedChange {
  readonly sequence: number;
  readonly type: ObjectType;
  readonly id: string;
  /** The refused call, e.g. `POST /workspaces/topp/datastores`. */
  readonly request: string;
  /**
   * GeoServer's status and answer; `null` when no REST call could express the change, or the
   * GeoServer never answered its call while it answered others (`GeoServerCallTimedOutError`; a
   * proxy's 504 keeps its status).
   */
  readonly status: number | null;
  readonly answer: string;
  readonly at: string;
}

/** A merge patch deleted properties that a PUT could not clear on the GeoServer. */
export interface UnclearedProperties {
  readonly sequence: number;
  readonly type: ObjectType;
  readonly id: string;
  /** Dotted paths, e.g. `abstract`, `metadata.cacheAgeMax`. */
  readonly properties: readonly string[];
  readonly at: string;
}

/** What GET /nodes shows about a node's GeoServer. */
export interface GeoServerStatus {
  readonly url: string;
  /** Whether the last call got an answer; `null` before the first. */
  readonly reachable: boolean | null;
  /** `/rest/about/version`'s GeoServer version, once read. */
  readonly version: string | null;
  readonly checkedAt: string | null;
  readonly lastError: { readonly message: string; readonly status: number | null; readonly sequence: number | null; readonly at: string } | null;
  /** Most recent first, at most `MAX_RECORDED`. */
  readonly rejected: readonly RejectedChange[];
  readonly unclearedProperties: readonly UnclearedProperties[];
}

/** Entries kept in each list of a status. */
export const MAX_RECORDED = 20;

/** Where the apply function records its GeoServer's status (after batches and job slices) and GET /nodes reads it. */
export interface GeoServerStatusStore {
  read(node: string): Promise<GeoServerStatus | undefined>;
  write(node: string, status: GeoServerStatus): Promise<void>;
}
