import { DynamicModule, Module, Type } from '@nestjs/common';
import { Logger as PinoLogger } from 'pino';
import { AppConfig } from './core/config/app-config';
import { CoreModule } from './core/core.module';
import { HealthModule } from './core/health/health.module';
import { MetricsModule } from './core/metrics/metrics.module';
import { RateLimitModule } from './core/rate-limit/rate-limit.module';
import { AdminClientsModule } from './modules/admin-clients/admin-clients.module';
import { AuthModule } from './modules/auth/auth.module';
import { GatewayModule } from './modules/gateway/gateway.module';
import { OrchestratorModule } from './modules/orchestrator/orchestrator.module';
import { PeopleModule } from './modules/people/people.module';
import { PhotosModule } from './modules/photos/photos.module';
import { workerModulesFor } from './worker.module';

/**
 * API root: core + feature modules. With APP_ROLE=all (the local quick start) the worker modules
 * join the same process; with APP_ROLE=api they run elsewhere.
 */
@Module({})
export class AppModule {
  static register(config: AppConfig, rootLogger: PinoLogger, extra: Type[] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config, rootLogger),
        HealthModule,
        MetricsModule,
        AuthModule,
        OrchestratorModule,
        PhotosModule,
        RateLimitModule,
        AdminClientsModule,
        GatewayModule,
        PeopleModule,
        ...(config.role === 'all' ? workerModulesFor(config) : []),
        ...extra,
      ],
    };
  }
}
