import { Module } from '@nestjs/common';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { ConversationModule } from '../conversation/conversation.module';
import { MemoryModule } from '../memory/memory.module';
import { PhotosModule } from '../photos/photos.module';
import { UsersModule } from '../users/users.module';
import { AdminUsersController } from './admin-users.controller';
import { CodeDelivery } from './code-delivery';
import { ConsoleEmailSender } from './email/console-email.sender';
import {
  DEFAULT_SENDGRID_BASE_URL,
  EMAIL_SENDER,
  EmailSender,
  SENDGRID_BASE_URL,
} from './email/email-sender';
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
import { DEFAULT_TWILIO_BASE_URL, SMS_SENDER, SmsSender, TWILIO_BASE_URL } from './sms/sms-sender';
import { TwilioSmsSender } from './sms/twilio-sms.sender';
import { UserController } from './user.controller';
import { UserJwtVerifier } from './user-jwt.verifier';

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
    { provide: TWILIO_BASE_URL, useValue: DEFAULT_TWILIO_BASE_URL },
    {
      provide: SMS_SENDER,
      inject: [APP_CONFIG, TWILIO_BASE_URL],
      useFactory: (config: AppConfig, twilioBaseUrl: string): SmsSender =>
        config.sms.provider === 'twilio'
          ? new TwilioSmsSender(
              {
                accountSid: config.sms.twilioAccountSid ?? '',
                authToken: config.sms.twilioAuthToken ?? '',
                from: config.sms.twilioFrom ?? '',
              },
              twilioBaseUrl,
            )
          : new ConsoleSmsSender(),
    },
    { provide: SENDGRID_BASE_URL, useValue: DEFAULT_SENDGRID_BASE_URL },
    {
      provide: EMAIL_SENDER,
      inject: [APP_CONFIG, SENDGRID_BASE_URL],
      useFactory: (config: AppConfig, sendgridBaseUrl: string): EmailSender =>
        config.email.provider === 'sendgrid'
          ? new SendGridEmailSender(
              config.email.sendgridApiKey ?? '',
              config.email.from ?? '',
              sendgridBaseUrl,
            )
          : new ConsoleEmailSender(),
    },
  ],
  exports: [SessionsService],
})
export class PeopleModule {}
