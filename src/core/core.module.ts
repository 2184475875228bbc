import { DynamicModule, Module } from '@nestjs/common';
import { Logger } from 'pino';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { LlmModule } from './llm/llm.module';
import { LoggingModule } from './logging/logging.module';
import { QueueModule } from './queue/queue.module';
import { RedisModule } from './redis/redis.module';

/** What both roots share: config, logging, Postgres, Redis, queues, the LLM client. */
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig, rootLogger: Logger): DynamicModule {
    return {
      module: CoreModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(rootLogger),
        DatabaseModule.forRoot(config, rootLogger),
        RedisModule,
        QueueModule,
        LlmModule,
      ],
    };
  }
}
