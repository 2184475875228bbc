import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { LlmClient } from '../../core/llm/llm.client';
import { JobName } from '../../core/queue/queue.constants';
import { QueueService } from '../../core/queue/queue.service';
import { UsageService } from '../usage/usage.service';
import { OnboardingService } from '../users/onboarding.service';
import {
  ExtractedProfile,
  MEMORY_EXTRACTION_SYSTEM,
  memoryExtractionInput,
  parseExtraction,
} from './memory-extraction.prompt';
import { MemoryService } from './memory.service';
import { TraitsService } from './traits.service';

/** Consolidation runs once a person's memories have been quiet this long. */
export const CONSOLIDATION_QUIET_MS = 10 * 60_000;

interface Person {
  id: string;
  handle: string;
  name: string | null;
}

@Injectable()
export class MemoryExtractionService {
  private readonly logger = new Logger(MemoryExtractionService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly llm: LlmClient,
    private readonly memory: MemoryService,
    private readonly traits: TraitsService,
    private readonly onboarding: OnboardingService,
    private readonly usage: UsageService,
    private readonly queues: QueueService,
  ) {}

  /**
   * Extracts what is worth remembering from one inbound message and stores it on the right
   * person: a fact about another participant lands on them, anything else on the speaker — a
   * name the model invents never creates or picks someone else. The speaker's stable traits go
   * to user_traits (refreshing their trait profile), and a name or time zone they give fills
   * their profile when it has none, which moves their onboarding on. Running it twice adds
   * nothing (memories and traits are deduplicated per person).
   */
  async extract(messageId: string): Promise<number> {
    const [message] = await this.dataSource.query(
      `SELECT m.id, m.text, m.room_id AS "roomId", r.type AS "roomType", m.created_at AS "createdAt",
              u.id AS "speakerId", u.handle AS "speakerHandle", u.name AS "speakerName"
       FROM messages m JOIN rooms r ON r.id = m.room_id JOIN users u ON u.id = m.sender_user_id
       WHERE m.id = $1 AND m.direction = 'inbound'`,
      [messageId],
    );
    if (!message || !message.text.trim()) return 0;
    const participants: Person[] = await this.dataSource.query(
      `SELECT u.id, u.handle, u.name FROM room_participants p JOIN users u ON u.id = p.user_id
       WHERE p.room_id = $1 AND p.active`,
      [message.roomId],
    );
    const speaker: Person = {
      id: message.speakerId,
      handle: message.speakerHandle,
      name: message.speakerName,
    };

    const [before] = (await this.dataSource.query(
      `SELECT text FROM messages
        WHERE room_id = $1 AND direction = 'outbound' AND created_at < $2
        ORDER BY created_at DESC LIMIT 1`,
      [message.roomId, message.createdAt],
    )) as { text: string }[];

    const { data, result } = await this.llm.extractJson({
      system: MEMORY_EXTRACTION_SYSTEM,
      user: memoryExtractionInput({
        speaker,
        participants,
        roomType: message.roomType,
        assistantBefore: before?.text.slice(0, 500),
        text: message.text,
      }),
    });
    const { facts, traits, profile } = parseExtraction(data);
    let created = 0;
    const changed = new Set<string>();
    await this.dataSource.transaction(async (manager) => {
      for (const fact of facts) {
        const owner = this.ownerOf(fact.about, speaker, participants);
        const stored = await this.memory.remember(
          {
            userId: owner.id,
            roomId: message.roomId,
            type: fact.type,
            content: fact.content,
            confidence: fact.confidence,
            source: 'extraction',
            sourceMessageId: message.id,
          },
          manager,
        );
        if (stored.created) {
          created++;
          changed.add(owner.id);
        }
      }
      const source = { source: 'extraction', messageId: message.id };
      if (await this.traits.observe(manager, speaker.id, traits, source)) {
        await this.traits.refreshProfile(manager, speaker.id);
      }
      await this.fillProfile(manager, speaker.id, profile);
      await this.usage.record(
        manager,
        { userId: speaker.id, roomId: message.roomId, purpose: 'memory-extraction' },
        [result],
      );
    });
    for (const userId of changed) {
      await this.queues.debounce(
        JobName.MemoryConsolidate,
        { userId },
        { key: userId, delayMs: CONSOLIDATION_QUIET_MS },
      );
    }
    if (facts.length || traits.length) {
      this.logger.log(
        `message ${messageId}: ${facts.length} facts, ${created} new; ${traits.length} traits`,
      );
    }
    return created;
  }

  /**
   * What the person said about themselves fills a profile field only while it is empty: a name
   * or zone they set themselves (or told before) is never overwritten by a later reading.
   */
  private async fillProfile(
    manager: EntityManager,
    userId: string,
    profile: ExtractedProfile,
  ): Promise<void> {
    if (!profile.name && !profile.timeZone) return;
    await manager.query(
      `UPDATE users SET name = COALESCE(name, $2), time_zone = COALESCE(time_zone, $3),
              updated_at = now()
        WHERE id = $1 AND ((name IS NULL AND $2::text IS NOT NULL)
                        OR (time_zone IS NULL AND $3::text IS NOT NULL))`,
      [userId, profile.name, profile.timeZone],
    );
    await this.onboarding.advance(userId, manager);
  }

  private ownerOf(about: string, speaker: Person, participants: Person[]): Person {
    const wanted = about.toLowerCase();
    if (wanted === 'speaker' || wanted === speaker.handle.toLowerCase()) return speaker;
    return (
      participants.find(
        (p) => p.handle.toLowerCase() === wanted || (p.name && p.name.toLowerCase() === wanted),
      ) ?? speaker
    );
  }
}
