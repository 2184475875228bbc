import {
  Body,
  Controller,
  HttpCode,
  Injectable,
  Module,
  OnApplicationBootstrap,
  Post,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Public } from '../../src/common/auth/auth.decorators';

/** The one room every `db-turn` row goes to; created (or found) once at start-up. */
const BENCH_CHAT_GUID = 'bench:db-turn';

@Injectable()
class BenchRoom implements OnApplicationBootstrap {
  id = '';

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async onApplicationBootstrap(): Promise<void> {
    // Migrations have run by now: the DataSource provider only resolves once they are applied.
    const rows: { id: string }[] = await this.dataSource.query(
      `INSERT INTO rooms (chat_guid, type) VALUES ($1, 'direct')
       ON CONFLICT (chat_guid) DO UPDATE SET updated_at = now()
       RETURNING id`,
      [BENCH_CHAT_GUID],
    );
    this.id = rows[0].id;
  }
}

/**
 * The benchmark's reference routes (never part of the product; mounted by bench/orchestrator/api.ts):
 * - `POST /__bench/echo`: the framework's ceiling (Fastify, Nest pipeline, global guards, pipes).
 * - `POST /__bench/db-turn`: the unavoidable database work of one turn, done plainly: one
 *   transaction inserting the inbound and the outbound row through the app's own pool.
 */
@Controller('__bench')
class BenchController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly room: BenchRoom,
  ) {}

  @Public()
  @Post('echo')
  @HttpCode(200)
  echo(@Body() body: Record<string, unknown>): Record<string, unknown> {
    return body;
  }

  @Public()
  @Post('db-turn')
  @HttpCode(200)
  async dbTurn(@Body() body: Record<string, unknown>): Promise<{ ok: true; id: string }> {
    const sender = typeof body.sender === 'string' ? body.sender : null;
    const text = typeof body.text === 'string' ? body.text : '';
    const id = await this.dataSource.transaction(async (manager) => {
      const [inbound]: { id: string }[] = await manager.query(
        `INSERT INTO messages (room_id, direction, sender_handle, text, dedup_key, status, metadata, sent_at)
         VALUES ($1, 'inbound', $2, $3, NULL, 'answered', '{}', now())
         RETURNING id`,
        [this.room.id, sender, text],
      );
      await manager.query(
        `INSERT INTO messages (room_id, direction, text, dedup_key, status, reply_to_id, metadata, sent_at)
         VALUES ($1, 'outbound', $2, NULL, 'sent', $3, '{}', now())`,
        [this.room.id, `Reply to: ${text}`, inbound.id],
      );
      return inbound.id;
    });
    return { ok: true, id };
  }
}

@Module({ controllers: [BenchController], providers: [BenchRoom] })
export class BenchModule {}
