import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { ProfileResponseDto, UpdateProfileDto, UserMemoriesDto } from './dto/people.dto';
import { PeopleRepository, PersonRow } from './people.repository';

/** The IANA name of a zone in its canonical spelling, or undefined when it is not one. */
export function canonicalTimeZone(value: string): string | undefined {
  // Names only (Region/City, UTC): offsets such as "+01:00" are not IANA zones.
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(value)) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** A signed-in person's view of themselves: profile, relationship figures, memories. */
@Injectable()
export class ProfileService {
  constructor(private readonly repo: PeopleRepository) {}

  async person(userId: string): Promise<PersonRow> {
    const person = await this.repo.person(userId);
    if (!person) throw new NotFoundException('No such person');
    return person;
  }

  async profile(userId: string): Promise<ProfileResponseDto> {
    const person = await this.person(userId);
    const [personas, relationship] = await Promise.all([
      this.repo.personasTalkedTo(userId),
      this.repo.relationship(userId),
    ]);
    return {
      user_id: person.id,
      name: person.name,
      phone: person.handle,
      time_zone: person.timeZone,
      personas,
      relationship: {
        first_contact_at: relationship.firstContactAt?.toISOString() ?? null,
        messages_exchanged: relationship.messagesExchanged,
        memories_count: relationship.memoriesCount,
      },
      created_at: person.createdAt.toISOString(),
    };
  }

  async update(userId: string, dto: UpdateProfileDto): Promise<ProfileResponseDto> {
    let timeZone: string | null | undefined = dto.time_zone;
    if (typeof timeZone === 'string') {
      timeZone = canonicalTimeZone(timeZone);
      if (!timeZone) {
        throw new BadRequestException([
          'time_zone must be an IANA time zone such as America/New_York',
        ]);
      }
    }
    const name = typeof dto.name === 'string' ? dto.name.trim() : dto.name;
    const updated = await this.repo.updatePerson(userId, { name, timeZone });
    if (!updated) throw new NotFoundException('No such person');
    return this.profile(userId);
  }

  async memories(userId: string): Promise<UserMemoriesDto> {
    const rows = await this.repo.memories(userId);
    return {
      memories: rows.map((r) => ({
        id: r.id,
        type: r.type,
        content: r.content,
        source: r.source,
        confidence: r.confidence,
        created_at: r.createdAt.toISOString(),
      })),
    };
  }

  async deleteMemory(userId: string, memoryId: string): Promise<void> {
    if (!(await this.repo.deleteMemory(userId, memoryId))) {
      throw new NotFoundException('No such memory');
    }
  }
}
