/** @module Image bytes for the browser: thumbnails and full images, only from inside the images root, cached on disk. */
import { existsSync } from 'node:fs';
import { mkdir, readFile, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { AutolabelError, type ImageRecord, SKIP_REASONS, writeFileAtomic } from '@autolabel/core';
import sharp, { type Sharp } from 'sharp';

/** Skips whose bytes are there but are no picture; the others have no file to serve. */
const UNDECODABLE = new Set<string>(['not-an-image', 'corrupt', 'too-large']);

/** A file the scan skipped has no picture: say why instead of failing in the decoder. */
function refuseSkipped(image: ImageRecord): void {
  if (image.skipReason === null) return;
  const why = `image ${image.path} was skipped when scanned: ${SKIP_REASONS[image.skipReason]}`;
  if (UNDECODABLE.has(image.skipReason)) throw new AutolabelError('IMAGE_UNREADABLE', why);
  throw new AutolabelError('IMAGE_NOT_FOUND', why);
}

/** Formats every browser shows as they are; anything else is converted to JPEG. */
const WEB_TYPES: Readonly<Record<string, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
};

export interface Media {
  readonly bytes: Uint8Array;
  readonly contentType: string;
}

export class MediaCache {
  constructor(
    private readonly imagesRoot: string,
    private readonly cacheDir: string,
  ) {}

  async thumbnail(image: ImageRecord, size: number): Promise<Media> {
    refuseSkipped(image);
    return this.#cachedJpeg(image, `${size}`, (pixels) =>
      pixels.resize(size, size, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 80 }),
    );
  }

  async full(image: ImageRecord): Promise<Media> {
    refuseSkipped(image);
    const type = image.format ? WEB_TYPES[image.format] : undefined;
    if (type) return { bytes: await this.#source(image), contentType: type };
    return this.#cachedJpeg(image, 'full', (pixels) => pixels.jpeg({ quality: 90 }));
  }

  /** A JPEG rendering of the image (upright, alpha on white), made once and kept by content hash. */
  async #cachedJpeg(image: ImageRecord, variant: string, render: (pixels: Sharp) => Sharp): Promise<Media> {
    // The source is checked even when cached: a file that left the images root is not served.
    const source = await this.#source(image);
    const file = join(this.cacheDir, `${image.contentHash}-${variant}.jpg`);
    if (existsSync(file)) return { bytes: await readFile(file), contentType: 'image/jpeg' };
    const pixels = sharp(source, { failOn: 'none', animated: false }).autoOrient().flatten({ background: '#ffffff' });
    const bytes = await render(pixels)
      .toBuffer()
      .catch((error: unknown) => {
        // Readable at scan, not now: the file changed since (`scan` will mark it).
        throw new AutolabelError('IMAGE_UNREADABLE', `image ${image.path} cannot be decoded`, {
          hint: { action: 'scan' },
          cause: error,
        });
      });
    await mkdir(this.cacheDir, { recursive: true });
    await writeFileAtomic(file, [bytes]);
    return { bytes, contentType: 'image/jpeg' };
  }

  /** The file's bytes, refusing anything whose real path (links resolved) leaves the images root. */
  async #source(image: ImageRecord): Promise<Buffer> {
    const root = await realpath(this.imagesRoot);
    const path = await realpath(join(root, image.path)).catch(() => {
      throw new AutolabelError('IMAGE_NOT_FOUND', `image file ${image.path} is gone`, { hint: { action: 'scan' } });
    });
    if (!path.startsWith(root + sep)) {
      throw new AutolabelError('IMAGE_NOT_FOUND', `image ${image.path} resolves outside the images folder`);
    }
    return readFile(path);
  }
}
