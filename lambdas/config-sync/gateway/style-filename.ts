/**
 * A style's file name, which GeoServer requires of its catalog entry: CatalogImpl.validate(StyleInfo)
 * throws "Style fileName must not be null" for a filename that is absent or blank, and
 * RestControllerAdvice answers that with 500, as if the master had failed. A POST of a style's
 * info (JSON or XML, the first of the two steps) adds the entry as the body gives it, so it needs
 * a filename there; only the one-step upload of a style file names the file after the style. A
 * PUT of the info copies only what the body gives (CatalogBuilder.updateStyle skips nulls), so it
 * keeps the style's filename unless it gives a blank one. The gateway refuses those writes
 * itself, with 400 naming `filename`, before anything reaches the master.
 */
import type { ManagedPath } from './rest-paths';

/**
 * Why the write's style would have no file name, or undefined when it would have one (or is no
 * write of a style's info: `representation` says whether the body is one).
 */
export function styleFilenameProblem(
  target: ManagedPath,
  method: string,
  representation: boolean,
  filename: { readonly present: boolean; readonly value?: unknown },
): string | undefined {
  if (target.type !== 'style' || !representation) return undefined;
  const creates = method === 'POST' && target.id === undefined;
  const updates = method === 'PUT' && target.id !== undefined;
  if (!creates && !updates) return undefined;
  const blank = typeof filename.value === 'string' && filename.value.trim() === '';
  if (creates && (!filename.present || filename.value === null || filename.value === undefined || blank)) {
    return 'a style\'s info is created with its file name, and this body gives none (GeoServer refuses it: "Style fileName must not be null"); add a filename, e.g. "<name>.sld", or upload the style file in one step with ?name=';
  }
  if (updates && blank) {
    return 'a blank filename would leave the style without one (GeoServer refuses it: "Style fileName must not be null"); leave filename out to keep the current one, or give a new one';
  }
  return undefined;
}
