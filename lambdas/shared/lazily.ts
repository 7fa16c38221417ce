/**
 * A value built on its first use and kept: for module-level values that most functions
 * importing the module never use, so that their cold start does not build them (zod schemas
 * in particular: each schema object costs its constructor's work at import).
 */
export function lazily<T>(build: () => T): () => T {
  let built: { readonly value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}
