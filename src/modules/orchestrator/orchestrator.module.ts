import { Module } from '@nestjs/common';
import { ConversationModule } from '../conversation/conversation.module';
import { EdgeModule } from '../edge/edge.module';
import { EdgeMessageController } from './edge-message.controller';
import { EdgeReplyService } from './edge-reply.service';
import { OrchestratorController } from './orchestrator.controller';

/** The relay channels into the conversation engine: `/orchestrator/*` and `/edge/message`. */
@Module({
  imports: [ConversationModule, EdgeModule],
  controllers: [OrchestratorController, EdgeMessageController],
  providers: [EdgeReplyService],
})
export class OrchestratorModule {}
