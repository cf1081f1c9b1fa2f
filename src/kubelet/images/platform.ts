/**
 * Platform matching for image indexes, as containerd's `platforms` package: os and architecture
 * normalized (`x86_64` is `amd64`, `aarch64` is `arm64`), then compared; the variant must match
 * after normalization, except that amd64 accepts the micro-architecture levels the node runs.
 */
import type { Descriptor, Platform } from './media-types.ts';

/** The platform Skiff's nodes run (the kubelet runs Linux containers on amd64). */
export const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };

/** Normalizes a platform as containerd's `platforms.Normalize`. */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() ?? '';
  switch (architecture) {
    case 'i386':
      architecture = '386';
      variant = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      architecture = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'aarch64':
    case 'arm64':
      architecture = 'arm64';
      if (variant === '8' || variant === 'v8') variant = '';
      break;
    case 'armhf':
      architecture = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      architecture = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === '' || variant === '7') variant = 'v7';
      else if (variant === '5' || variant === '6' || variant === '8') variant = `v${variant}`;
      break;
  }
  return { os, architecture, ...(variant !== '' ? { variant } : {}) };
}

/** Whether an index entry's platform can run on `wanted` (both normalized first). */
export function platformMatches(candidate: Platform, wanted: Platform = DEFAULT_PLATFORM): boolean {
  const c = normalizePlatform(candidate);
  const w = normalizePlatform(wanted);
  if (c.os !== w.os || c.architecture !== w.architecture) return false;
  if ((c.variant ?? '') === (w.variant ?? '')) return true;
  // amd64 micro-architecture levels are backward compatible: a v2 machine runs v1 images.
  if (c.architecture === 'amd64') return amd64Level(c.variant) <= amd64Level(w.variant ?? 'v2');
  return false;
}

function amd64Level(variant: string | undefined): number {
  return variant ? Number(variant.slice(1)) || 1 : 1;
}

/**
 * Picks the manifest for `wanted` from an index's entries: the exact variant first, then a
 * compatible one, in index order within each (containerd orders matches the same way).
 * Returns undefined when none matches.
 */
export function selectManifest(manifests: Descriptor[], wanted: Platform = DEFAULT_PLATFORM): Descriptor | undefined {
  const matching = manifests.filter((d) => d.platform !== undefined && platformMatches(d.platform, wanted));
  const w = normalizePlatform(wanted);
  return (
    matching.find((d) => (normalizePlatform(d.platform!).variant ?? '') === (w.variant ?? '')) ??
    matching[0] ??
    // An index entry without a platform is taken by containerd as runnable anywhere.
    manifests.find((d) => d.platform === undefined)
  );
}

/** `os/arch[/variant]`, for messages. */
export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}
