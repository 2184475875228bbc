import { AppConfig } from '../../core/config/app-config';

/**
 * Redis pub/sub between the API instances (and workers, which only publish). ioredis's key prefix
 * does not apply to channel names, so they carry the deployment prefix themselves.
 */
export function edgeChannels(config: AppConfig): { commands: string; connections: string } {
  const prefix = config.redis.keyPrefix;
  return {
    /** `{ agentId }`: this agent has new commands; whoever holds its socket pushes them. */
    commands: `${prefix}:edge:commands`,
    /** `{ agentId, instanceId, connectionId, generation }`: a socket opened; older ones close. */
    connections: `${prefix}:edge:connections`,
  };
}

export interface CommandsReadyMessage {
  agentId: string;
}

export interface ConnectionOpenedMessage {
  agentId: string;
  instanceId: string;
  connectionId: string;
  /** Ordered across instances (Redis INCR): the higher generation wins. */
  generation: number;
}

/** The redis key (under the app client's automatic prefix) naming the instance of an agent. */
export function presenceKey(agentId: string): string {
  return `edge:presence:${agentId}`;
}

/** `edge:connection-generation`: the counter behind ConnectionOpenedMessage.generation. */
export const CONNECTION_GENERATION_KEY = 'edge:connection-generation';
