/**
 * A namespace's URI, which GeoServer requires: CatalogImpl.validate(NamespaceInfo) throws
 * "Namespace uri must not be null" for a URI that is absent or blank, and RestControllerAdvice
 * answers that with 500, as if the master had failed. A POST to `/namespaces` creates the
 * namespace from the body alone, so it needs a URI there; a PUT copies only what the body
 * gives (CatalogBuilder.updateNamespace skips what is absent or null), so it keeps the
 * namespace's URI unless it gives a blank one. The gateway refuses those writes itself, with 400
 * naming `uri`, before anything reaches the master.
 */
import type { ManagedPath } from './rest-paths';

/** Why the write's namespace would have no URI, or undefined when it would have one (or is no namespace write). */
export function namespaceUriProblem(
  target: ManagedPath,
  method: string,
  uri: { readonly present: boolean; readonly value?: unknown },
): string | undefined {
  if (target.type !== 'namespace') return undefined;
  const creates = method === 'POST' && target.id === undefined;
  const updates = method === 'PUT' && target.id !== undefined;
  if (!creates && !updates) return undefined;
  const blank = typeof uri.value === 'string' && uri.value.trim() === '';
  if (creates && (!uri.present || uri.value === null || uri.value === undefined || blank)) {
    return 'a namespace is created with its URI, and this body gives none (GeoServer refuses it: "Namespace uri must not be null"); add a uri, e.g. "http://example.com/<prefix>"';
  }
  if (updates && blank) {
    return 'a blank uri would leave the namespace without one (GeoServer refuses it: "Namespace uri must not be null"); leave uri out to keep the current one, or give a new one';
  }
  return undefined;
}
