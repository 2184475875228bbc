/** The image types accepted (SPEC §6): what the vision model and the edge client deal in. */
export const IMAGE_MIMES = [
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'image/heic',
  'image/heif',
] as const;
export type ImageMime = (typeof IMAGE_MIMES)[number];

/** How many leading bytes `detectImageType` looks at (enough for an ISO-BMFF `ftyp` box). */
export const SNIFF_BYTES = 64;

/** HEIC major brands (HEVC-coded still images and sequences). */
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);
/** Generic HEIF brands; the compatible brands tell HEIC from AVIF. */
const HEIF_BRANDS = new Set(['mif1', 'msf1']);
const AVIF_BRANDS = new Set(['avif', 'avis']);

/**
 * The image type of a file by its first bytes (magic numbers), never by its name or declared
 * type. Undefined for anything else (text, PDF, TIFF, AVIF, truncated headers…).
 */
export function detectImageType(head: Buffer): ImageMime | undefined {
  const ascii = (start: number, end: number) => head.subarray(start, end).toString('latin1');
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) {
    return 'image/jpeg';
  }
  if (head.length >= 8 && head.subarray(0, 8).equals(PNG_SIGNATURE)) return 'image/png';
  if (head.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) {
    return 'image/gif';
  }
  if (head.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  if (head.length >= 12 && ascii(4, 8) === 'ftyp') return heifType(head);
  return undefined;
}

/** ISO-BMFF: `size(4) 'ftyp' major(4) minor_version(4) compatible(4)*`. */
function heifType(head: Buffer): ImageMime | undefined {
  const boxSize = head.readUInt32BE(0);
  if (boxSize < 16) return undefined;
  const major = head.subarray(8, 12).toString('latin1');
  const compatible: string[] = [];
  for (let at = 16; at + 4 <= Math.min(boxSize, head.length); at += 4) {
    compatible.push(head.subarray(at, at + 4).toString('latin1'));
  }
  if (HEIC_BRANDS.has(major)) return 'image/heic';
  if (!HEIF_BRANDS.has(major)) return undefined;
  if (compatible.some((brand) => AVIF_BRANDS.has(brand))) return undefined;
  return compatible.some((brand) => HEIC_BRANDS.has(brand)) ? 'image/heic' : 'image/heif';
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
