import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { Logger } from 'pino';

/**
 * Nest's logger on the pino root logger. Requests are logged by a Fastify hook
 * (configure-http.ts), so nestjs-pino mounts no middleware (`forRoutes: []`): its per-request
 * AsyncLocalStorage scope costs every promise a hook, and log lines outside the request log
 * carry no request id.
 */
@Module({})
export class LoggingModule {
  static forRoot(rootLogger: Logger): DynamicModule {
    return {
      module: LoggingModule,
      global: true,
      imports: [LoggerModule.forRoot({ forRoutes: [], pinoHttp: { logger: rootLogger } })],
      exports: [LoggerModule],
    };
  }
}
