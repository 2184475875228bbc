import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { QueueName } from '../queue/queue.constants';

/**
 * The one place that reads the environment. Everything else receives an `AppConfig`
 * (injected as a provider in both entrypoints), so configuration is validated once at boot.
 */

export const APP_ROLES = ['all', 'api', 'worker'] as const;
export type AppRole = (typeof APP_ROLES)[number];
export const HMAC_MODES = ['off', 'optional', 'required'] as const;
export type HmacMode = (typeof HMAC_MODES)[number];
export const SMS_PROVIDERS = ['console', 'twilio'] as const;
export type SmsProvider = (typeof SMS_PROVIDERS)[number];
export const EMAIL_PROVIDERS = ['console', 'sendgrid'] as const;
export type EmailProvider = (typeof EMAIL_PROVIDERS)[number];
export const NODE_ENVS = ['development', 'production', 'test'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const QUEUE_NAMES = Object.values(QueueName) as string[];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.map((p) => `Configuration error: ${p}`).join('\n'));
    this.name = 'ConfigError';
  }
}

export interface AppConfig {
  readonly env: NodeEnv;
  readonly isProduction: boolean;
  readonly role: AppRole;
  readonly dataDir: string;
  readonly http: {
    port: number;
    bodyLimitBytes: number;
    keepAliveTimeoutMs: number;
    /** Fastify's trustProxy: false, true, or the proxies' addresses/CIDRs. */
    trustProxy: boolean | string[];
  };
  readonly shutdownTimeoutMs: number;
  readonly log: { level: LogLevel };
  readonly database: {
    /** Unset: the embedded Postgres under `<dataDir>/postgres` is used. */
    url: string | undefined;
    embeddedPort: number;
    migrationsRun: boolean;
    poolSize: number;
    connectTimeoutMs: number;
    statementTimeoutMs: number;
  };
  readonly redis: {
    url: string;
    /** True when REDIS_URL was not set: the local auto-start may run. */
    isDefaultUrl: boolean;
    keyPrefix: string;
  };
  readonly auth: {
    relayWebhookSecret: string | undefined;
    hmacMode: HmacMode;
    hmacToleranceSeconds: number;
    hmacSecret: string | undefined;
    hmacSecretPrevious: string | undefined;
    edgeSecret: string | undefined;
    /** What V0 edge clients send as `auth_token` to `/edge/register`; unset = the Edge token only. */
    edgeRegistrationToken: string | undefined;
    jwtSecret: string;
    jwtExpirySeconds: number;
    adminApiKey: string | undefined;
  };
  readonly llm: {
    apiKey: string | undefined;
    baseUrl: string | undefined;
    model: string;
    visionModel: string;
    timeoutMs: number;
    maxRetries: number;
    /** All the model time one reply may take: every tool round, attempt and backoff. */
    replyTimeoutMs: number;
  };
  readonly photos: {
    storageDir: string;
    maxBytes: number;
    /** How long a reply to a photo message waits for the photo's analysis. */
    analysisWaitMs: number;
  };
  readonly limits: {
    orchestratorPerMin: number;
    /** Messages this process works on at once (every channel); beyond them, 503 at once. */
    concurrentTurns: number;
  };
  readonly cache: { responseTtlSeconds: number };
  readonly sms: {
    provider: SmsProvider;
    twilioAccountSid: string | undefined;
    twilioAuthToken: string | undefined;
    twilioFrom: string | undefined;
    /** Twilio's API origin (a regional edge, a proxy, or a local fake in tests). */
    twilioApiUrl: string;
  };
  /** Codes sent to an email handle (linking an Apple ID email to a person). */
  readonly email: {
    provider: EmailProvider;
    sendgridApiKey: string | undefined;
    /** SendGrid's API origin (the EU region, a proxy, or a local fake in tests). */
    sendgridApiUrl: string;
    from: string | undefined;
  };
  readonly edge: { replyDeadlineMs: number };
  readonly worker: {
    queues: QueueName[];
    /** Jobs at once per queue in this process; undefined: each queue's own default. */
    concurrency: number | undefined;
  };
  /** Every configured secret value, for the log scrubber. */
  readonly secrets: string[];
}

type Env = Record<string, string | undefined>;

/** Reads and validates the environment. Throws a ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer between ${min} and ${max}`);
      return fallback;
    }
    return value;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      problems.push(`${name} must be one of ${allowed.join(', ')}`);
      return fallback;
    }
    return raw as T;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = str(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes'].includes(raw)) return true;
    if (['false', '0', 'no'].includes(raw)) return false;
    problems.push(`${name} must be true or false`);
    return fallback;
  };
  const url = (name: string, protocols: string[]): string | undefined => {
    const raw = str(name);
    if (raw === undefined) return undefined;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) throw new Error('protocol');
      return raw;
    } catch {
      problems.push(`${name} must be a URL starting with ${protocols.join(' or ')}//`);
      return undefined;
    }
  };

  const nodeEnv = oneOf('NODE_ENV', NODE_ENVS, 'development');
  const isProduction = nodeEnv === 'production';
  // A provider's API carries its credentials (Twilio's auth token, SendGrid's key) and the codes
  // themselves: in production only over https, or plain http to a proxy on this host.
  const providerUrl = (name: string): string | undefined => {
    const raw = url(name, ['https:', 'http:']);
    if (raw === undefined || !isProduction) return raw;
    const { protocol, hostname } = new URL(raw);
    if (protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(hostname)) return raw;
    problems.push(`${name} must be https: in production (http: only to localhost)`);
    return undefined;
  };
  const dataDir = resolve(str('DATA_DIR') ?? '.data');

  const relayWebhookSecret = str('RELAY_WEBHOOK_SECRET');
  const edgeSecret = str('EDGE_SECRET') ?? relayWebhookSecret;
  let jwtSecret = str('JWT_SECRET');
  if (isProduction) {
    // One line per missing secret, naming it: production never runs with an open door.
    for (const [name, value] of [
      ['RELAY_WEBHOOK_SECRET', relayWebhookSecret],
      ['EDGE_SECRET', str('EDGE_SECRET')],
      ['JWT_SECRET', jwtSecret],
    ] as const) {
      if (!value) problems.push(`${name} is required when NODE_ENV=production`);
    }
  }
  const jwtTooShort = jwtSecret !== undefined && jwtSecret.length < 32;
  if (jwtTooShort) problems.push('JWT_SECRET must be at least 32 characters');

  const workerQueuesRaw = str('WORKER_QUEUES');
  let workerQueues = Object.values(QueueName);
  if (workerQueuesRaw) {
    const names = workerQueuesRaw
      .split(',')
      .map((q) => q.trim())
      .filter(Boolean);
    const unknown = names.filter((q) => !QUEUE_NAMES.includes(q));
    if (unknown.length) {
      problems.push(
        `WORKER_QUEUES has unknown queue(s) ${unknown.join(', ')}; known: ${QUEUE_NAMES.join(', ')}`,
      );
    } else {
      workerQueues = [...new Set(names)] as QueueName[];
    }
  }

  const smsProvider = oneOf('SMS_PROVIDER', SMS_PROVIDERS, 'console');
  if (smsProvider === 'twilio') {
    for (const name of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM']) {
      if (!str(name)) problems.push(`${name} is required when SMS_PROVIDER=twilio`);
    }
  }

  const emailProvider = oneOf('EMAIL_PROVIDER', EMAIL_PROVIDERS, 'console');
  if (emailProvider === 'sendgrid') {
    for (const name of ['SENDGRID_API_KEY', 'EMAIL_FROM']) {
      if (!str(name)) problems.push(`${name} is required when EMAIL_PROVIDER=sendgrid`);
    }
  }
  const emailFrom = str('EMAIL_FROM');
  if (emailFrom && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(emailFrom)) {
    problems.push('EMAIL_FROM must be an email address');
  }

  const redisUrl = url('REDIS_URL', ['redis:', 'rediss:']);
  const config = {
    env: nodeEnv,
    isProduction,
    role: oneOf('APP_ROLE', APP_ROLES, 'all'),
    dataDir,
    http: {
      port: int('PORT', 3000, 0, 65535),
      bodyLimitBytes: 1024 * 1024,
      keepAliveTimeoutMs: 65_000,
      trustProxy: trustProxy(str('TRUST_PROXY')),
    },
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', 10_000, 1000, 120_000),
    log: { level: oneOf('LOG_LEVEL', LOG_LEVELS, 'info') },
    database: {
      url: url('DATABASE_URL', ['postgres:', 'postgresql:']),
      embeddedPort: int('EMBEDDED_POSTGRES_PORT', 54329, 1, 65535),
      migrationsRun: bool('DB_MIGRATIONS_RUN', true),
      poolSize: int('DB_POOL_SIZE', 10, 1, 200),
      connectTimeoutMs: int('DB_CONNECT_TIMEOUT_MS', 5000, 100, 60_000),
      statementTimeoutMs: int('DB_STATEMENT_TIMEOUT_MS', 15_000, 100, 600_000),
    },
    redis: {
      url: redisUrl ?? 'redis://127.0.0.1:6379',
      isDefaultUrl: str('REDIS_URL') === undefined,
      keyPrefix: str('REDIS_KEY_PREFIX') ?? 'archety',
    },
    auth: {
      relayWebhookSecret,
      hmacMode: oneOf('HMAC_MODE', HMAC_MODES, 'optional'),
      hmacToleranceSeconds: int('HMAC_TOLERANCE_SECONDS', 300, 1, 3600),
      hmacSecret: str('HMAC_SECRET') ?? relayWebhookSecret,
      hmacSecretPrevious: str('HMAC_SECRET_PREVIOUS'),
      edgeSecret,
      edgeRegistrationToken: str('EDGE_REGISTRATION_TOKEN'),
      jwtSecret: '',
      jwtExpirySeconds: int('JWT_EXPIRY', 3600, 60, 86_400),
      adminApiKey: str('ADMIN_API_KEY'),
    },
    llm: {
      apiKey: str('OPENAI_API_KEY'),
      baseUrl: url('OPENAI_BASE_URL', ['http:', 'https:']),
      model: str('OPENAI_MODEL') ?? 'gpt-4o-mini',
      visionModel: str('OPENAI_VISION_MODEL') ?? 'gpt-4o',
      timeoutMs: int('OPENAI_TIMEOUT_MS', 20_000, 100, 600_000),
      maxRetries: int('OPENAI_MAX_RETRIES', 2, 0, 10),
      replyTimeoutMs: int('REPLY_TIMEOUT_MS', 50_000, 1000, 600_000),
    },
    photos: {
      storageDir: resolve(str('PHOTO_STORAGE_DIR') ?? join(dataDir, 'photos')),
      maxBytes: int('PHOTO_MAX_BYTES', 10 * 1024 * 1024, 1024, 100 * 1024 * 1024),
      analysisWaitMs: int('PHOTO_ANALYSIS_WAIT_MS', 8000, 0, 30_000),
    },
    limits: {
      orchestratorPerMin: int('RATE_LIMIT_ORCHESTRATOR_PER_MIN', 60, 1, 100_000),
      concurrentTurns: int('MAX_CONCURRENT_TURNS', 500, 1, 100_000),
    },
    cache: { responseTtlSeconds: int('RESPONSE_CACHE_TTL_SECONDS', 3600, 0, 30 * 86_400) },
    sms: {
      provider: smsProvider,
      twilioAccountSid: str('TWILIO_ACCOUNT_SID'),
      twilioAuthToken: str('TWILIO_AUTH_TOKEN'),
      twilioFrom: str('TWILIO_FROM'),
      twilioApiUrl: providerUrl('TWILIO_API_URL') ?? 'https://api.twilio.com',
    },
    email: {
      provider: emailProvider,
      sendgridApiKey: str('SENDGRID_API_KEY'),
      sendgridApiUrl: providerUrl('SENDGRID_API_URL') ?? 'https://api.sendgrid.com',
      from: emailFrom,
    },
    edge: { replyDeadlineMs: int('EDGE_REPLY_DEADLINE_MS', 20_000, 100, 55_000) },
    worker: {
      queues: workerQueues,
      concurrency:
        str('WORKER_CONCURRENCY') === undefined ? undefined : int('WORKER_CONCURRENCY', 1, 1, 1000),
    },
    secrets: [] as string[],
  };

  if (problems.length) throw new ConfigError(problems);

  // Development only: a JWT secret generated once and kept under the data directory, so
  // sessions survive restarts without anyone having to invent a secret.
  if (!jwtSecret) jwtSecret = developmentJwtSecret(dataDir);
  config.auth.jwtSecret = jwtSecret;
  config.secrets = [
    relayWebhookSecret,
    str('EDGE_SECRET'),
    config.auth.edgeRegistrationToken,
    config.auth.hmacSecret,
    config.auth.hmacSecretPrevious,
    jwtSecret,
    config.auth.adminApiKey,
    config.llm.apiKey,
    config.sms.twilioAuthToken,
    config.email.sendgridApiKey,
    ...passwordsIn([config.database.url, redisUrl]),
  ].filter((s): s is string => typeof s === 'string' && s.length >= 4);
  return config;
}

/**
 * Whose X-Forwarded-For to believe. Off by default: trusting it from anyone would let a client
 * pick its own IP (and a fresh IP rate-limit bucket). Behind a load balancer, name its addresses.
 */
function trustProxy(value: string | undefined): boolean | string[] {
  if (value === undefined || value.toLowerCase() === 'false') return false;
  if (value.toLowerCase() === 'true') return true;
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

function developmentJwtSecret(dataDir: string): string {
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

function passwordsIn(urls: (string | undefined)[]): string[] {
  return urls.flatMap((u) => {
    if (!u) return [];
    try {
      const password = decodeURIComponent(new URL(u).password);
      return password ? [password] : [];
    } catch {
      return [];
    }
  });
}
