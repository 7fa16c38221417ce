// Files esbuild bundles as text (cdk/constructs/cluster-function.ts sets the loader).
declare module '*.html' {
  const content: string;
  export default content;
}
