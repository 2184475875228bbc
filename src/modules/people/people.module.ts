import { Module } from '@nestjs/common';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { PeopleAuthController } from './people-auth.controller';
import { PeopleRepository } from './people.repository';
import { PhoneSignInService } from './phone-sign-in.service';
import { ProfileService } from './profile.service';
import { SessionsService } from './sessions.service';
import { ConsoleSmsSender } from './sms/console-sms.sender';
import { DEFAULT_TWILIO_BASE_URL, SMS_SENDER, SmsSender, TWILIO_BASE_URL } from './sms/sms-sender';
import { TwilioSmsSender } from './sms/twilio-sms.sender';
import { UserController } from './user.controller';
import { UserJwtVerifier } from './user-jwt.verifier';

/**
 * People: phone sign-in (one-time codes by SMS), sessions (rotating refresh tokens, HTTP-only
 * cookies, CSRF double-submit) and the person's own data under /user. Its UserJwtVerifier is found
 * by the AuthService through its `@VerifiesScheme` mark.
 */
@Module({
  controllers: [PeopleAuthController, UserController],
  providers: [
    PeopleRepository,
    PhoneSignInService,
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
  ],
  exports: [SessionsService],
})
export class PeopleModule {}
