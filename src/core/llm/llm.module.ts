import { Global, Module } from '@nestjs/common';
import { LlmClient } from './llm.client';

/** Global: any module may inject `LlmClient`. Needs `ConfigModule.forRoot(config)` in the app. */
@Global()
@Module({ providers: [LlmClient], exports: [LlmClient] })
export class LlmModule {}
