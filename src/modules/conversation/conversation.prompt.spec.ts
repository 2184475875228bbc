import { PersonaEntity } from '../personas/entities/persona.entity';
import { buildPrompt, PromptInput } from './conversation.prompt';

const persona = { id: 'sage', name: 'Sage', systemPrompt: 'You are Sage.' } as PersonaEntity;

function system(overrides: Partial<PromptInput>): string {
  const prompt = buildPrompt({
    persona,
    roomType: 'direct',
    sender: { handle: '+15550001111', name: null, timeZone: null },
    context: { name: null, preferences: [], memories: [] },
    traitProfile: null,
    onboarding: null,
    history: [],
    text: 'hi',
    now: new Date('2026-01-01T00:00:00Z'),
    ...overrides,
  });
  return prompt.cacheable[0].content as string;
}

describe('buildPrompt', () => {
  it('carries the trait profile in what the assistant knows', () => {
    const text = system({ traitProfile: 'humor: dry; communication style: brief texts' });
    expect(text).toContain('What they are like: humor: dry; communication style: brief texts.');
    expect(text).not.toContain('You do not know anything about them yet.');
    expect(system({})).toContain('You do not know anything about them yet.');
  });

  it('introduces the persona on a first message and asks for what is missing', () => {
    const first = system({ onboarding: { first: true, missing: ['name', 'time_zone'] } });
    expect(first).toContain('introduce yourself as Sage');
    expect(first).toContain('what to call them and where in the world they are');
    const later = system({ onboarding: { first: false, missing: ['time_zone'] } });
    expect(later).not.toContain('introduce yourself');
    expect(later).toContain('where in the world they are');
    expect(later).not.toContain('what to call them');
  });

  it('never onboards in a group or once nothing is missing', () => {
    const onboarding = { first: true, missing: ['name' as const] };
    expect(system({ roomType: 'group', onboarding })).not.toContain('introduce yourself');
    expect(system({ roomType: 'group', onboarding })).not.toContain('what to call them');
    expect(system({ onboarding: null })).not.toContain('getting to know them');
  });
});
