import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { EdgeAdminController } from './edge-admin.controller';
import { EdgeCommandsModule } from './edge-commands.module';
import { EdgeController } from './edge.controller';
import { EdgeGateway } from './edge.gateway';
import { EdgeHealthSeenMiddleware } from './edge-health-seen.middleware';

/**
 * The API side of the edge agents: the `/edge/ws` WebSocket gateway, the legacy `/edge/*`
 * endpoints and the admin view. Re-exports EdgeCommandsModule (agents, commands, presence);
 * worker modules import EdgeCommandsModule itself.
 */
@Module({
  imports: [AuthModule, EdgeCommandsModule],
  controllers: [EdgeController, EdgeAdminController],
  providers: [EdgeGateway],
  exports: [EdgeCommandsModule, EdgeGateway],
})
export class EdgeModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(EdgeHealthSeenMiddleware)
      .forRoutes({ path: 'health', method: RequestMethod.GET });
  }
}
