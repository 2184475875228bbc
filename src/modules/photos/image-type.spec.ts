import { detectImageType } from './image-type';

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(
    parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))),
  );

function ftyp(major: string, compatible: string[]): Buffer {
  const size = 16 + 4 * compatible.length;
  const head = Buffer.alloc(4);
  head.writeUInt32BE(size);
  return bytes([...head], 'ftyp', major, [0, 0, 0, 0], compatible.join(''), 'payload');
}

describe('detectImageType', () => {
  it.each([
    ['JPEG', bytes([0xff, 0xd8, 0xff, 0xe1], 'Exif'), 'image/jpeg'],
    ['PNG', bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'IHDR'), 'image/png'],
    ['GIF87a', bytes('GIF87a', [1, 0]), 'image/gif'],
    ['GIF89a', bytes('GIF89a', [1, 0]), 'image/gif'],
    ['WebP', bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 '), 'image/webp'],
    ['HEIC', ftyp('heic', ['mif1', 'heic']), 'image/heic'],
    ['HEIC sequence', ftyp('hevc', ['msf1']), 'image/heic'],
    ['HEIF (mif1 + heic)', ftyp('mif1', ['mif1', 'heic']), 'image/heic'],
    ['HEIF (mif1 only)', ftyp('mif1', ['mif1', 'miaf']), 'image/heif'],
  ])('%s', (_name, head, mime) => {
    expect(detectImageType(head)).toBe(mime);
  });

  it.each([
    ['text', bytes('hello, I am a .jpg')],
    ['PDF', bytes('%PDF-1.7')],
    ['TIFF', bytes('II*\0', [8, 0, 0, 0])],
    ['AVIF', ftyp('avif', ['avif', 'mif1'])],
    ['AVIF under mif1', ftyp('mif1', ['mif1', 'avif'])],
    ['MP4', ftyp('isom', ['isom', 'mp41'])],
    ['RIFF that is not WebP', bytes('RIFF', [0, 0, 0, 0], 'WAVEfmt ')],
    ['truncated JPEG', bytes([0xff, 0xd8])],
    ['empty', Buffer.alloc(0)],
  ])('%s is not an accepted image', (_name, head) => {
    expect(detectImageType(head)).toBeUndefined();
  });
});
