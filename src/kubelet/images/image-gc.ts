/**
 * Image garbage collection as the kubelet's image GC manager: when the disk holding the images
 * is at or above `highThresholdPercent` used, remove unused images, least recently used first,
 * until usage is back below `lowThresholdPercent`. Upstream's defaults: 85 and 80.
 */
import { ImageError } from './errors.ts';
import type { Image, ImageService } from './image-service.ts';

/** Options of {@link garbageCollectImages}. */
export interface ImageGcOptions {
  /** Usage (percent of capacity) at or above which collection starts. Default 85. */
  highThresholdPercent?: number;
  /** Usage collection brings the disk below. Default 80. */
  lowThresholdPercent?: number;
  /** Whether a container (running or not) uses the image; such images are never removed. */
  inUse: (image: Image) => boolean | Promise<boolean>;
  /** Images used more recently than this many ms ago are kept (upstream's `imageMinimumGCAge`; default 0). */
  minAgeMs?: number;
  /** Capacity and available bytes of the disk (default: statfs of the store's root). */
  diskUsage?: () => Promise<{ capacity: number; available: number }>;
  /** Milliseconds since the epoch (default `Date.now`). */
  clock?: () => number;
}

/** What a collection did. */
export interface ImageGcResult {
  /** Usage in percent before collecting. */
  usagePercent: number;
  /** Bytes it aimed to free (0 when under the high threshold). */
  bytesToFree: number;
  freedBytes: number;
  /** Ids of the images removed, in order. */
  removed: string[];
}

/**
 * Runs one collection. Images in use get `lastUsed` = now first (as upstream's detection pass).
 * @throws ImageError (code `ERR_IMAGE_GC`) when freeing all eligible images was not enough, after removing them.
 */
export async function garbageCollectImages(service: ImageService, options: ImageGcOptions): Promise<ImageGcResult> {
  const high = options.highThresholdPercent ?? 85;
  const low = options.lowThresholdPercent ?? 80;
  if (!(low >= 0 && low <= high && high <= 100)) throw new RangeError(`image GC thresholds: need 0 <= low (${low}) <= high (${high}) <= 100`);
  const clock = options.clock ?? Date.now;
  const now = clock();
  const images = await service.list();
  const used = new Set<string>();
  for (const image of images) {
    if (await options.inUse(image)) {
      used.add(image.id);
      await service.markUsed(image.id, now);
    }
  }
  const { capacity, available } = await (options.diskUsage ?? (() => service.diskUsage()))();
  const usagePercent = capacity > 0 ? 100 - (available * 100) / capacity : 0;
  const result: ImageGcResult = { usagePercent, bytesToFree: 0, freedBytes: 0, removed: [] };
  if (usagePercent < high) return result;
  result.bytesToFree = Math.ceil((capacity * (100 - low)) / 100 - available);
  const candidates = (await service.list())
    .filter((i) => !used.has(i.id) && now - i.lastUsed >= (options.minAgeMs ?? 0))
    .sort((a, b) => a.lastUsed - b.lastUsed);
  for (const image of candidates) {
    if (result.freedBytes >= result.bytesToFree) break;
    const { freedBytes } = await service.remove(image.id);
    result.freedBytes += freedBytes;
    result.removed.push(image.id);
  }
  if (result.freedBytes < result.bytesToFree) {
    throw new ImageError(
      'ERR_IMAGE_GC',
      `image garbage collection: wanted to free ${result.bytesToFree} bytes, but only ${result.freedBytes} bytes of unused images could be removed (removed ${result.removed.length} images)`,
    );
  }
  return result;
}
