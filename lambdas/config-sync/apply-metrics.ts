/**
 * The per-node metrics of what a node applied, recorded alike wherever it applies events: a
 * batch of its queue and a job's slice (a resync's catch-up) in its apply function, and a pure
 * master's resync slice within the ResyncNode request that runs it. Imported by the apply
 * function and by job-slices.ts, never by ResyncNode's index (whose cold start loads neither).
 */
import type { AppliedEvent } from './apply';
import { GeoServerUnavailableError } from './geoserver/errors';
import { addNodeMetric, metrics, METRIC, MetricUnit, type MetricUnitName } from '../shared/observability';

/** Records one value of a per-node metric of the node whose events are reported. */
export type NodeMetricRecorder = (name: string, unit: MetricUnitName, value: number) => void;

/** For a function that serves one node: its metrics carry the node as their default dimension (the apply function). */
export const ownNodeMetrics: NodeMetricRecorder = (name, unit, value) => metrics.addMetric(name, unit, value);

/** For a function that serves any node (ResyncNode): each value with the node's dimension. */
export const nodeMetrics =
  (node: string): NodeMetricRecorder =>
  (name, unit, value) =>
    addNodeMetric(name, node, unit, value);

/**
 * Events applied (`EventsApplied`: every event committed to the node's store, a parked one too)
 * and those of them parked (`EventsParked`, only when any: what a dead-letter queue's depth
 * would have shown; they are alarmed on). Each event is reported by the one call that
 * committed it (the store's commit moves the node's cursor past it under a compare-and-swap),
 * so a slice redone from its checkpoint, which applies from the cursor, never reports it again.
 */
export function recordApplied(record: NodeMetricRecorder, applied: readonly AppliedEvent[]): void {
  record(METRIC.eventsApplied, MetricUnit.Count, applied.length);
  const parked = applied.filter((event) => event.effect === 'parked').length;
  if (parked > 0) record(METRIC.eventsParked, MetricUnit.Count, parked);
}

/**
 * Changes the node's GeoServer refused, and a GeoServer that could not take changes at all
 * (`GeoServerErrors`): of a batch, or of a job slice (its catch-up's events, its reconcile's
 * fixes (`refusedFixes`), a slice the GeoServer could not serve). For a node with a GeoServer only.
 */
export function recordGeoServerErrors(record: NodeMetricRecorder, applied: readonly AppliedEvent[], failure: unknown, refusedFixes = 0): void {
  const refused = applied.filter((event) => event.geoserver?.kind === 'rejected').length + refusedFixes;
  const errors = refused + (failure instanceof GeoServerUnavailableError ? 1 : 0);
  if (errors > 0) record(METRIC.geoServerErrors, MetricUnit.Count, errors);
}
