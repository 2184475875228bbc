import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { PersonaEntity } from './entities/persona.entity';

/** Personas change by migration only, so they are read once and kept for a minute. */
const CACHE_MS = 60_000;

@Injectable()
export class PersonasService {
  private readonly logger = new Logger(PersonasService.name);
  private readonly warnedUnknown = new Set<string>();
  private cache?: { at: number; byId: Map<string, PersonaEntity>; fallback: PersonaEntity };

  constructor(
    @InjectRepository(PersonaEntity) private readonly personas: Repository<PersonaEntity>,
  ) {}

  /**
   * The persona for an id; an unknown or missing id is the default persona (Sage). Deployed edge
   * clients send ids of their own (`luna`, …), so an unknown id is a warning, never a 400.
   */
  async resolve(id: string | undefined): Promise<PersonaEntity> {
    const { byId, fallback } = await this.load();
    if (!id) return fallback;
    const persona = byId.get(id.toLowerCase());
    if (persona) return persona;
    if (!this.warnedUnknown.has(id)) {
      this.warnedUnknown.add(id);
      this.logger.warn(`unknown persona_id "${id.slice(0, 64)}": using ${fallback.id}`);
    }
    return fallback;
  }

  async list(): Promise<PersonaEntity[]> {
    return [...(await this.load()).byId.values()];
  }

  private async load() {
    if (this.cache && Date.now() - this.cache.at < CACHE_MS) return this.cache;
    const all = await this.personas.find({ order: { id: 'ASC' } });
    const fallback = all.find((p) => p.isDefault) ?? all[0];
    if (!fallback) throw new Error('No personas: the InitialSchema migration seeds them');
    this.cache = { at: Date.now(), byId: new Map(all.map((p) => [p.id, p])), fallback };
    return this.cache;
  }
}
