/**
 * The `yaml` package, loaded by its first use: a server whose clients send JSON reads no YAML
 * after start-up, and should not hold the parser (~2 MB of heap and code) for the kubeconfig it
 * wrote once.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let loaded: typeof Yaml | undefined;

/** The `yaml` module (its CommonJS build, loaded synchronously the first time). */
export function yaml(): typeof Yaml {
  loaded ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return loaded;
}
