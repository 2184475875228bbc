import { Module } from '@nestjs/common';
import { MemoryService } from './memory.service';
import { TraitsService } from './traits.service';

/** What the assistant knows about people: memories, and traits with their profile. */
@Module({ providers: [MemoryService, TraitsService], exports: [MemoryService, TraitsService] })
export class MemoryModule {}
