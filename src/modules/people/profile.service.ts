import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { TraitsService } from '../memory/traits.service';
import { OnboardingService } from '../users/onboarding.service';
import { canonicalTimeZone } from '../users/time-zone';
import {
  ProfileResponseDto,
  TraitProfileDto,
  UpdateProfileDto,
  UserMemoriesDto,
} from './dto/people.dto';
import { toHandleDto } from './handles.service';
import { PeopleRepository, PersonRow } from './people.repository';
import { PersonDataRepository } from './person-data.repository';

/**
 * A signed-in person's view of themselves: profile (handles, onboarding, trait profile),
 * relationship figures, memories.
 */
@Injectable()
export class ProfileService {
  constructor(
    private readonly repo: PeopleRepository,
    private readonly data: PersonDataRepository,
    private readonly onboarding: OnboardingService,
    private readonly traits: TraitsService,
  ) {}

  async person(userId: string): Promise<PersonRow> {
    const person = await this.repo.person(userId);
    if (!person) throw new NotFoundException('No such person');
    return person;
  }

  async profile(userId: string): Promise<ProfileResponseDto> {
    const person = await this.person(userId);
    const [personas, relationship, handles, onboarding, traitProfile] = await Promise.all([
      this.repo.personasTalkedTo(userId),
      this.repo.relationship(userId),
      this.data.handles(userId),
      this.onboarding.of(userId),
      this.traitProfile(userId),
    ]);
    return {
      user_id: person.id,
      name: person.name,
      phone: person.handle,
      time_zone: person.timeZone,
      handles: handles.map(toHandleDto),
      onboarding: {
        state: onboarding.state,
        started_at: onboarding.startedAt?.toISOString() ?? null,
        completed_at: onboarding.completedAt?.toISOString() ?? null,
        missing: onboarding.missing,
      },
      trait_profile: traitProfile,
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
    await this.onboarding.advance(userId);
    return this.profile(userId);
  }

  private async traitProfile(userId: string): Promise<TraitProfileDto | null> {
    const [profile, traits] = await Promise.all([
      this.traits.profile(userId),
      this.traits.traits(userId),
    ]);
    if (!profile) return null;
    return {
      summary: profile.summary,
      updated_at: profile.updatedAt.toISOString(),
      traits: traits.map((t) => ({
        trait: t.trait,
        value: t.value,
        confidence: t.confidence,
        source: t.source,
        updated_at: t.updatedAt.toISOString(),
      })),
    };
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
