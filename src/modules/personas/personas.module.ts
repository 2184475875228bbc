import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PersonaEntity } from './entities/persona.entity';
import { PersonasService } from './personas.service';

@Module({
  imports: [TypeOrmModule.forFeature([PersonaEntity])],
  providers: [PersonasService],
  exports: [PersonasService],
})
export class PersonasModule {}
