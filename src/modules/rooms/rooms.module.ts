import { Module } from '@nestjs/common';
import { RoomsRepository } from './rooms.repository';

@Module({ providers: [RoomsRepository], exports: [RoomsRepository] })
export class RoomsModule {}
