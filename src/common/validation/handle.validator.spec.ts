import { plainToInstance } from 'class-transformer';
import { EdgeMessageDto } from '../../modules/orchestrator/dto/edge-message.dto';
import { OrchestratorMessageDto } from '../../modules/orchestrator/dto/orchestrator-message.dto';
import { normalHandle } from './handle.validator';

describe('normalHandle', () => {
  it('lower-cases email addresses and leaves numbers and anything else as given', () => {
    expect(normalHandle('Sam.Lee@iCloud.COM')).toBe('sam.lee@icloud.com');
    expect(normalHandle('+15551234567')).toBe('+15551234567');
    expect(normalHandle('client:AbC')).toBe('client:AbC');
    expect(normalHandle('Unknown')).toBe('Unknown');
  });

  it('is applied to the sender and participants of both message bodies', () => {
    const plain = {
      sender: 'Sam@iCloud.com',
      participants: ['Sam@iCloud.com', '+15551234567', 42],
    };
    const bodies: { sender: unknown; participants: unknown }[] = [
      plainToInstance(OrchestratorMessageDto, plain),
      plainToInstance(EdgeMessageDto, plain),
    ];
    for (const body of bodies) {
      expect(body.sender).toBe('sam@icloud.com');
      // A value of another type is left for the validators to refuse.
      expect(body.participants).toEqual(['sam@icloud.com', '+15551234567', 42]);
    }
  });
});
