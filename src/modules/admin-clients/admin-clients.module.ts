import { Module } from '@nestjs/common';
import { AdminClientsController } from './admin-clients.controller';
import { AdminClientsService } from './admin-clients.service';
import { ApiClientsRepository } from './api-clients.repository';

/** API clients of the gateway: `/admin/clients` (Admin key), their keys and live status. */
@Module({
  controllers: [AdminClientsController],
  providers: [AdminClientsService, ApiClientsRepository],
  exports: [AdminClientsService, ApiClientsRepository],
})
export class AdminClientsModule {}
