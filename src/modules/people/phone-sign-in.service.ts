import { Injectable } from '@nestjs/common';
import { OnboardingService } from '../users/onboarding.service';
import { CodeSent, OneTimeCodesService } from './one-time-codes.service';
import { PeopleRepository } from './people.repository';
import { IssuedTokens, SessionsService } from './sessions.service';

/**
 * Phone sign-in with one-time codes (OneTimeCodesService: 10 minutes, 5 attempts, 3 per phone
 * per 10 minutes). The answer to `start` never depends on whether the phone belongs to someone
 * already.
 */
@Injectable()
export class PhoneSignInService {
  constructor(
    private readonly codes: OneTimeCodesService,
    private readonly repo: PeopleRepository,
    private readonly sessions: SessionsService,
    private readonly onboarding: OnboardingService,
  ) {}

  start(phone: string): Promise<CodeSent> {
    return this.codes.send({ handle: phone, purpose: 'sign_in' }, (code) => ({
      subject: 'Your Archety code',
      text: `Your Archety code is ${code}. It expires in 10 minutes.`,
    }));
  }

  async confirm(phone: string, code: string, name: string | undefined): Promise<IssuedTokens> {
    const scope = { handle: phone, purpose: 'sign_in' as const };
    const outcome = await this.repo.transaction(async (m) => {
      const refused = await this.codes.check(m, scope, code);
      if (refused) return { refused };
      const person = await this.repo.personForSignIn(m, phone, name);
      // A name given at sign-in is one thing fewer for onboarding to ask.
      await this.onboarding.advance(person.id, m);
      return { tokens: await this.sessions.start(m, person.id) };
    });
    if (outcome.tokens) return outcome.tokens;
    throw this.codes.refusal(
      outcome.refused,
      'No code is pending for this phone: request one first',
    );
  }
}
