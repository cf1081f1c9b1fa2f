/**
 * `@peculiar/x509`, loaded on first use: only making certificates and signing requests needs it.
 * With its ASN.1 schemas and `tsyringe` it costs a process ~10 MB, which a server restarting on
 * certificates that still fit (checked with `node:crypto`) need not pay.
 */
import type * as X509 from '@peculiar/x509';

let loading: Promise<typeof X509> | undefined;

/** The library, loaded once, with its crypto provider set to Node's WebCrypto. */
export function x509(): Promise<typeof X509> {
  loading ??= (async () => {
    // Must come before `@peculiar/x509`, whose dependency `tsyringe` needs it while loading.
    await import('./reflect-metadata.ts');
    const lib = await import('@peculiar/x509');
    lib.cryptoProvider.set(crypto);
    return lib;
  })();
  return loading;
}
