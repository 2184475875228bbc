import { Injectable, Logger } from '@nestjs/common';
import { LlmClient } from '../../core/llm/llm.client';
import { JobName } from '../../core/queue/queue.constants';
import { QueueService } from '../../core/queue/queue.service';
import {
  MEMORY_EXTRACTION_SYSTEM,
  memoryExtractionInput,
  parseExtractedFacts,
} from './memory-extraction.prompt';
import { ExtractionPerson, MemoryExtractionRepository } from './memory-extraction.repository';

/** Consolidation runs once a person's memories have been quiet this long. */
export const CONSOLIDATION_QUIET_MS = 10 * 60_000;

@Injectable()
export class MemoryExtractionService {
  private readonly logger = new Logger(MemoryExtractionService.name);

  constructor(
    private readonly llm: LlmClient,
    private readonly extractions: MemoryExtractionRepository,
    private readonly queues: QueueService,
  ) {}

  /**
   * Extracts what is worth remembering from one inbound message and stores it on the right
   * person: a fact about another participant lands on them, anything else on the speaker — a
   * name the model invents never creates or picks someone else. Running it twice adds nothing
   * (memories are deduplicated per person).
   */
  async extract(messageId: string): Promise<number> {
    const message = await this.extractions.load(messageId);
    if (!message || !message.text.trim()) return 0;
    const { speaker, participants } = message;

    const { data, result } = await this.llm.extractJson({
      system: MEMORY_EXTRACTION_SYSTEM,
      user: memoryExtractionInput({
        speaker,
        participants,
        roomType: message.roomType,
        text: message.text,
      }),
    });
    const facts = parseExtractedFacts(data);
    const { created, changedUserIds } = await this.extractions.store(
      message,
      facts.map((fact) => ({
        userId: this.ownerOf(fact.about, speaker, participants).id,
        type: fact.type,
        content: fact.content,
        confidence: fact.confidence,
      })),
      result,
    );
    for (const userId of changedUserIds) {
      await this.queues.debounce(
        JobName.MemoryConsolidate,
        { userId },
        { key: userId, delayMs: CONSOLIDATION_QUIET_MS },
      );
    }
    if (facts.length) {
      this.logger.log(`message ${messageId}: ${facts.length} facts, ${created} new`);
    }
    return created;
  }

  private ownerOf(
    about: string,
    speaker: ExtractionPerson,
    participants: ExtractionPerson[],
  ): ExtractionPerson {
    const wanted = about.toLowerCase();
    if (wanted === 'speaker' || wanted === speaker.handle.toLowerCase()) return speaker;
    return (
      participants.find(
        (p) => p.handle.toLowerCase() === wanted || (p.name && p.name.toLowerCase() === wanted),
      ) ?? speaker
    );
  }
}
