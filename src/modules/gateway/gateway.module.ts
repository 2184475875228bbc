import { Module } from '@nestjs/common';
import { AdminClientsModule } from '../admin-clients/admin-clients.module';
import { ConversationModule } from '../conversation/conversation.module';
import { ChatController } from './chat.controller';
import { ChatService } from './chat.service';
import { ClientJwtVerifier } from './client-jwt.verifier';
import { ClientScopeGuard } from './client-scope.guard';
import { GatewayRepository } from './gateway.repository';
import { HistoryController } from './history.controller';
import { IdempotencyStore } from './idempotency.store';
import { TokenController } from './token.controller';
import { TokenService } from './token.service';
import { ToolsController } from './tools.controller';

/**
 * The gateway for API clients: `/auth/token` and `/v1/*`. Its ClientJwtVerifier is found by the
 * AuthService at start-up through its `@VerifiesScheme` mark, like every verifier.
 */
@Module({
  imports: [AdminClientsModule, ConversationModule],
  controllers: [TokenController, ChatController, HistoryController, ToolsController],
  providers: [
    TokenService,
    ClientJwtVerifier,
    ClientScopeGuard,
    ChatService,
    GatewayRepository,
    IdempotencyStore,
  ],
})
export class GatewayModule {}
