import { ConflictException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { handleKind } from '../../common/validation/handle.validator';
import { JobName } from '../../core/queue/queue.constants';
import { QueueService } from '../../core/queue/queue.service';
import { ResponseCacheService } from '../conversation/response-cache.service';
import { CONSOLIDATION_QUIET_MS } from '../memory/memory-extraction.service';
import { TraitsService } from '../memory/traits.service';
import { OnboardingService } from '../users/onboarding.service';
import { HandleDto, LinkHandleResponseDto, MergedPersonDto } from './dto/people.dto';
import { CodeRefusal, CodeSent, OneTimeCodesService } from './one-time-codes.service';
import { CodeScope } from './people.repository';
import { PersonDataRepository } from './person-data.repository';

type LinkOutcome =
  | { kind: 'refused'; refused: CodeRefusal }
  | { kind: 'gone' }
  | { kind: 'conflict' }
  | { kind: 'linked'; merged: MergedPersonDto | null };

/** How many link codes one person may ask for per hour, whatever the handles (ours). */
export const LINK_STARTS_PER_HOUR = 10;

export function toHandleDto(row: {
  handle: string;
  verifiedAt: Date | null;
  createdAt: Date;
  primary: boolean;
}): HandleDto {
  return {
    handle: row.handle,
    kind: handleKind(row.handle) ?? 'other',
    primary: row.primary,
    verified: row.verifiedAt !== null,
    added_at: row.createdAt.toISOString(),
  };
}

/**
 * Identity across handles: a signed-in person links a second handle (phone or Apple ID email)
 * by confirming a code sent to it. What arrives through that handle is theirs from then on.
 * When the handle already belongs to someone iMessage knows but who never signed in, that
 * someone is the same person seen through another handle: their messages, memories, traits and
 * photos merge into the signed-in person. When it belongs to someone who has signed in (an
 * account someone controls), linking is refused (409): two accounts are never merged silently.
 */
@Injectable()
export class HandlesService {
  private readonly logger = new Logger(HandlesService.name);

  constructor(
    private readonly data: PersonDataRepository,
    private readonly codes: OneTimeCodesService,
    private readonly traits: TraitsService,
    private readonly onboarding: OnboardingService,
    private readonly cache: ResponseCacheService,
    private readonly queues: QueueService,
  ) {}

  async list(userId: string): Promise<HandleDto[]> {
    return (await this.data.handles(userId)).map(toHandleDto);
  }

  /**
   * Sends a code to the handle. The answer does not depend on whether someone else has the
   * handle (no enumeration); only a handle that is already the caller's own is a 409. The
   * handle comes in its normal form (normalHandle, applied by the DTO).
   */
  async start(userId: string, handle: string): Promise<CodeSent> {
    if ((await this.data.ownerOf(handle)) === userId) {
      throw new ConflictException('This handle is already one of yours');
    }
    this.codes.ensureDeliverable(handle);
    // Sending to arbitrary numbers costs money: a person gets a few per hour.
    await this.codes.count(
      `otp:link:${this.codes.hash('link', userId)}`,
      LINK_STARTS_PER_HOUR,
      3600,
      `At most ${LINK_STARTS_PER_HOUR} link codes per hour`,
    );
    const what = handleKind(handle) === 'phone' ? 'number' : 'address';
    return this.codes.send(this.scope(userId, handle), (code) => ({
      subject: 'Your Archety code',
      text:
        `Your Archety code to add this ${what} to your account is ${code}. ` +
        'It expires in 10 minutes. If you did not ask for it, ignore this message.',
    }));
  }

  async confirm(userId: string, handle: string, code: string): Promise<LinkHandleResponseDto> {
    const outcome = await this.data.transaction(async (m): Promise<LinkOutcome> => {
      const refused = await this.codes.check(m, this.scope(userId, handle), code);
      if (refused) return { kind: 'refused', refused };
      if (!(await this.data.lockPerson(m, userId))) return { kind: 'gone' };
      const claim = await this.data.claimHandle(m, userId, handle);
      if (claim.added) return { kind: 'linked', merged: null };
      const { owner } = claim;
      if (owner.userId === userId) {
        await this.data.verifyHandle(m, handle);
        return { kind: 'linked', merged: null };
      }
      if (owner.claimed) return { kind: 'conflict' };
      const counts = await this.data.merge(m, owner.userId, userId);
      await this.data.verifyHandle(m, handle);
      await this.traits.refreshProfile(m, userId);
      await this.onboarding.advance(userId, m);
      return { kind: 'linked', merged: { user_id: owner.userId, ...counts } };
    });
    switch (outcome.kind) {
      case 'refused':
        throw this.codes.refusal(
          outcome.refused,
          'No code is pending for this handle: request one first',
        );
      case 'gone':
        throw new NotFoundException('No such person');
      case 'conflict':
        throw new ConflictException(
          'This handle belongs to another account that has signed in; accounts are not merged',
        );
    }
    if (outcome.merged) await this.afterMerge(outcome.merged.user_id, userId);
    return { handle, merged: outcome.merged, handles: await this.list(userId) };
  }

  /**
   * Outside the transaction: the merged person's cached replies and consolidation job go (their
   * id no longer exists), and the combined memories get a consolidation pass of their own.
   */
  private async afterMerge(from: string, into: string): Promise<void> {
    await this.cache.forgetPerson(from);
    await this.queues.removeJobs(JobName.MemoryConsolidate, [from]);
    await this.queues.debounce(
      JobName.MemoryConsolidate,
      { userId: into },
      { key: into, delayMs: CONSOLIDATION_QUIET_MS },
    );
    this.logger.log(`person ${from} merged into ${into}`);
  }

  private scope(userId: string, handle: string): CodeScope {
    return { handle, purpose: 'link_handle', userId };
  }
}
