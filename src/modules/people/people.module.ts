import { Logger, Module } from '@nestjs/common';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { ConversationModule } from '../conversation/conversation.module';
import { MemoryModule } from '../memory/memory.module';
import { PhotosModule } from '../photos/photos.module';
import { UsersModule } from '../users/users.module';
import { AdminUsersController } from './admin-users.controller';
import { CodeDelivery } from './code-delivery';
import { ConsoleEmailSender } from './email/console-email.sender';
import { EMAIL_SENDER, EmailSender } from './email/email-sender';
import { SendGridEmailSender } from './email/sendgrid-email.sender';
import { HandlesService } from './handles.service';
import { OneTimeCodesService } from './one-time-codes.service';
import { PeopleAuthController } from './people-auth.controller';
import { PeopleRepository } from './people.repository';
import { PersonDataRepository } from './person-data.repository';
import { PersonDataService } from './person-data.service';
import { PhoneSignInService } from './phone-sign-in.service';
import { ProfileService } from './profile.service';
import { SessionsService } from './sessions.service';
import { ConsoleSmsSender } from './sms/console-sms.sender';
import { SMS_SENDER, SmsSender } from './sms/sms-sender';
import { TwilioSmsSender } from './sms/twilio-sms.sender';
import { UnconfiguredSender } from './unconfigured-sender';
import { UserController } from './user.controller';
import { UserJwtVerifier } from './user-jwt.verifier';

function warnUnconfigured(variable: string, refused: string): void {
  new Logger('CodeDelivery').warn(
    `${variable}=console in production: codes are never logged here, so ${refused} answer 503 until a provider is configured`,
  );
}

/**
 * People: sign-in with one-time codes (by SMS), sessions (rotating refresh tokens, HTTP-only
 * cookies, CSRF double-submit), and the person's own data under /user: profile, handles (linked
 * with codes by SMS or email), export and erasure, which an admin can also run. Erasure reaches
 * into photos (files), memory and the conversation's response cache through their services. Its
 * UserJwtVerifier is found by the AuthService through its `@VerifiesScheme` mark.
 */
@Module({
  imports: [ConversationModule, MemoryModule, PhotosModule, UsersModule],
  controllers: [PeopleAuthController, UserController, AdminUsersController],
  providers: [
    PeopleRepository,
    PersonDataRepository,
    OneTimeCodesService,
    CodeDelivery,
    PhoneSignInService,
    HandlesService,
    PersonDataService,
    SessionsService,
    ProfileService,
    UserJwtVerifier,
    {
      provide: SMS_SENDER,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): SmsSender => {
        const { provider, twilioAccountSid, twilioAuthToken, twilioFrom, twilioApiUrl } =
          config.sms;
        if (provider === 'twilio') {
          return new TwilioSmsSender(
            {
              accountSid: twilioAccountSid ?? '',
              authToken: twilioAuthToken ?? '',
              from: twilioFrom ?? '',
            },
            twilioApiUrl,
          );
        }
        if (!config.isProduction) return new ConsoleSmsSender();
        warnUnconfigured('SMS_PROVIDER', 'phone sign-in and linking phones');
        return new UnconfiguredSender('text message');
      },
    },
    {
      provide: EMAIL_SENDER,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): EmailSender => {
        const { provider, sendgridApiKey, from, sendgridApiUrl } = config.email;
        if (provider === 'sendgrid') {
          return new SendGridEmailSender(sendgridApiKey ?? '', from ?? '', sendgridApiUrl);
        }
        if (!config.isProduction) return new ConsoleEmailSender();
        warnUnconfigured('EMAIL_PROVIDER', 'linking email addresses');
        return new UnconfiguredSender('email');
      },
    },
  ],
  exports: [SessionsService],
})
export class PeopleModule {}
