import { Module } from '@nestjs/common';
import { EdgeAgentsRepository } from './edge-agents.repository';

@Module({ providers: [EdgeAgentsRepository], exports: [EdgeAgentsRepository] })
export class EdgeModule {}
