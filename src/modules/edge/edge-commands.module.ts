import { Module } from '@nestjs/common';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { EdgeAgentsRepository } from './edge-agents.repository';
import { EdgeCommandsRepository } from './edge-commands.repository';
import { EdgeCommandsService } from './edge-commands.service';
import { EdgePresenceService } from './edge-presence.service';
import { EDGE_TIMINGS, edgeTimingsFrom } from './edge-timings';

/**
 * Edge agents and their command queue, without sockets: importable by the API and by worker
 * modules alike (a worker creates commands; the API instance holding the socket pushes them).
 */
@Module({
  providers: [
    {
      provide: EDGE_TIMINGS,
      inject: [APP_CONFIG],
      useFactory: (c: AppConfig) => edgeTimingsFrom(c),
    },
    EdgeAgentsRepository,
    EdgeCommandsRepository,
    EdgeCommandsService,
    EdgePresenceService,
  ],
  exports: [EDGE_TIMINGS, EdgeAgentsRepository, EdgeCommandsService, EdgePresenceService],
})
export class EdgeCommandsModule {}
