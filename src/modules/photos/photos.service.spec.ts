import { cleanCaption, looksLikeGroupChat, mentionsAny, photoNote } from './photos.service';

describe('photo rules', () => {
  it('cleanCaption strips U+FFFC and trims; empty is null', () => {
    expect(cleanCaption('\uFFFC')).toBeNull();
    expect(cleanCaption('  \uFFFCsplit this luna ')).toBe('split this luna');
    expect(cleanCaption('a\uFFFC\uFFFCb')).toBe('ab');
    expect(cleanCaption(undefined)).toBeNull();
  });

  it('mentionsAny: whole words, any case', () => {
    const names = ['Luna', 'luna', 'Sage'];
    expect(mentionsAny('split this LUNA', names)).toBe(true);
    expect(mentionsAny('@sage look', names)).toBe(true);
    expect(mentionsAny('luna, what is this?', names)).toBe(true);
    expect(mentionsAny('lunatics', names)).toBe(false);
    expect(mentionsAny('sagebrush', names)).toBe(false);
    expect(mentionsAny('no one', names)).toBe(false);
  });

  it('looksLikeGroupChat', () => {
    expect(looksLikeGroupChat('chat123456789')).toBe(true);
    expect(looksLikeGroupChat('iMessage;+;chat123')).toBe(true);
    expect(looksLikeGroupChat('imessage:chat123')).toBe(true);
    expect(looksLikeGroupChat('+15551234567')).toBe(false);
    expect(looksLikeGroupChat('iMessage;-;+15551234567')).toBe(false);
    expect(looksLikeGroupChat('someone@icloud.com')).toBe(false);
    expect(looksLikeGroupChat('chatty@icloud.com')).toBe(false);
  });

  it('photoNote: summary then the non-empty lists, bounded', () => {
    const note = photoNote(
      {
        summary: 'A dog on a beach.',
        activities: ['walking'],
        people: [],
        places: ['a beach'],
        preferences: [],
      },
      'look!',
    );
    expect(note).toBe(
      'Photo (caption: "look!"): A dog on a beach. | activities: walking | places: a beach',
    );
    const long = photoNote(
      { summary: 'x'.repeat(2000), activities: [], people: [], places: [], preferences: [] },
      null,
    );
    expect(long.length).toBeLessThanOrEqual(600);
  });
});
