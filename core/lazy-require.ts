import { createRequire } from 'node:module';

/**
 * A CommonJS package loaded on its first use rather than at start: a large SDK (hundreds of modules,
 * tens of MiB) that a hub without that connection should not carry. `from` is the caller's
 * `import.meta.url`, so the package resolves from the caller's folder as a static import would.
 */
// biome-ignore lint/suspicious/noExplicitAny: SDKs without type declarations are used through `any`.
export function lazyRequire<T = any>(from: string, id: string): () => T {
  const require = createRequire(from);
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}
