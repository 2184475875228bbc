import { Module } from '@nestjs/common';
import { OnboardingService } from './onboarding.service';

/** People as the conversation knows them: handles (SQL shared by callers) and onboarding. */
@Module({ providers: [OnboardingService], exports: [OnboardingService] })
export class UsersModule {}
