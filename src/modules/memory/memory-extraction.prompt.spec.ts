import { memoryExtractionInput, parseExtraction } from './memory-extraction.prompt';

describe('parseExtraction', () => {
  it('keeps well-formed facts, traits and profile, and drops the rest', () => {
    const parsed = parseExtraction({
      facts: [
        { about: 'speaker', type: 'activity', content: ' climbs on weekends ', confidence: 0.9 },
        { about: 'speaker', type: 'gossip', content: 'not a type' },
        { about: 'speaker', type: 'fact', content: '' },
        'not an object',
      ],
      traits: [
        { trait: 'Communication Style', value: 'brief lowercase texts', confidence: 0.6 },
        { trait: 'communication_style', value: 'long paragraphs', confidence: 0.3 },
        { trait: '1st', value: 'bad name' },
        { trait: 'humor', value: '  ', confidence: 0.5 },
        { trait: 'humor', value: 'dry', confidence: 7 },
      ],
      profile: { name: ' Sam  Lee ', time_zone: 'america/chicago' },
    });
    expect(parsed.facts).toEqual([
      { about: 'speaker', type: 'activity', content: 'climbs on weekends', confidence: 0.9 },
    ]);
    expect(parsed.traits).toEqual([
      { trait: 'communication_style', value: 'brief lowercase texts', confidence: 0.6 },
      // an out-of-range confidence falls back to the default
      { trait: 'humor', value: 'dry', confidence: 0.5 },
    ]);
    expect(parsed.profile).toEqual({ name: 'Sam Lee', timeZone: 'America/Chicago' });
  });

  it('refuses a profile that is not a name or not an IANA zone', () => {
    for (const profile of [
      { name: 'null', time_zone: '+01:00' },
      { name: '1234', time_zone: 'Central Time' },
      { name: 'x'.repeat(101), time_zone: null },
      null,
    ]) {
      expect(parseExtraction({ profile }).profile).toEqual({ name: null, timeZone: null });
    }
  });

  it('answers empty parts for an empty or malformed answer', () => {
    const empty = { facts: [], traits: [], profile: { name: null, timeZone: null } };
    expect(parseExtraction({})).toEqual(empty);
    expect(parseExtraction(null)).toEqual(empty);
    expect(parseExtraction({ facts: 'x', traits: {}, profile: 'y' })).toEqual(empty);
  });

  it('takes at most five traits from one message', () => {
    const traits = Array.from({ length: 9 }, (_, i) => ({ trait: `t${i}`, value: 'v' }));
    expect(parseExtraction({ traits }).traits).toHaveLength(5);
  });
});

describe('memoryExtractionInput', () => {
  it('puts the assistant’s last text before the message it may answer', () => {
    const input = memoryExtractionInput({
      speaker: { handle: '+15550001111', name: null },
      participants: [],
      roomType: 'direct',
      assistantBefore: 'what should i call you?',
      text: 'Sam',
    });
    expect(input.split('\n').slice(-2)).toEqual([
      'The assistant had just said: what should i call you?',
      'Message: Sam',
    ]);
  });
});
