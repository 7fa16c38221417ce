/**
 * The error of an event that does not match the event schema, apart from errors.ts because
 * events.ts throws it and errors.ts names a port type, and the ports import events.ts.
 * errors.ts re-exports it, so callers import every config-sync error from one place.
 */
import { ValidationError } from '../shared/errors';

/** One problem in a request body, named by its dotted field path (e.g. `object.type`). */
export interface FieldIssue {
  readonly field: string;
  readonly message: string;
}

/**
 * 400: a publish request or a delivered event does not match the event schema. The error
 * names the first offending field; `issues` lists every one.
 */
export class InvalidConfigEventError extends ValidationError {
  readonly issues: readonly FieldIssue[];

  constructor(issues: readonly [FieldIssue, ...FieldIssue[]]) {
    const [first] = issues;
    super(first.field, first.message);
    this.issues = issues;
  }
}
