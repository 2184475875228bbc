import { ConfigError, loadConfig } from './app-config';

const base = { NODE_ENV: 'test', JWT_SECRET: 'j'.repeat(40) };

describe('loadConfig', () => {
  it('applies the SPEC §4 defaults', () => {
    const config = loadConfig(base);
    expect(config).toMatchObject({
      role: 'all',
      http: { port: 3000 },
      database: { url: undefined, migrationsRun: true },
      redis: { url: 'redis://127.0.0.1:6379', isDefaultUrl: true },
      auth: { hmacMode: 'optional', hmacToleranceSeconds: 300, jwtExpirySeconds: 3600 },
      llm: { apiKey: undefined, model: 'gpt-4o-mini', visionModel: 'gpt-4o', timeoutMs: 20_000 },
      photos: { maxBytes: 10 * 1024 * 1024 },
      limits: { orchestratorPerMin: 60, concurrentTurns: 500 },
      cache: { responseTtlSeconds: 3600 },
      sms: { provider: 'console' },
      edge: { replyDeadlineMs: 20_000 },
      worker: { queues: ['photo-analysis', 'memory-extraction', 'scheduled-messages'] },
    });
  });

  it('derives HMAC and edge secrets from the relay secret unless set', () => {
    const config = loadConfig({ ...base, RELAY_WEBHOOK_SECRET: 'relay-1234' });
    expect(config.auth.hmacSecret).toBe('relay-1234');
    expect(config.auth.edgeSecret).toBe('relay-1234');
    const own = loadConfig({
      ...base,
      RELAY_WEBHOOK_SECRET: 'relay-1234',
      EDGE_SECRET: 'edge-5678',
    });
    expect(own.auth.edgeSecret).toBe('edge-5678');
  });

  it('in production, names each missing secret on its own line', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    try {
      loadConfig({ NODE_ENV: 'production', EDGE_SECRET: 'e'.repeat(10) });
    } catch (err) {
      expect((err as ConfigError).message.split('\n')).toEqual([
        'Configuration error: RELAY_WEBHOOK_SECRET is required when NODE_ENV=production',
        'Configuration error: JWT_SECRET is required when NODE_ENV=production',
      ]);
    }
  });

  it('in production, takes provider APIs over https only, or plain http to localhost', () => {
    const prod = {
      NODE_ENV: 'production',
      RELAY_WEBHOOK_SECRET: 'r'.repeat(20),
      EDGE_SECRET: 'e'.repeat(20),
      JWT_SECRET: 'j'.repeat(40),
    };
    expect(() => loadConfig({ ...prod, TWILIO_API_URL: 'http://twilio-proxy.internal' })).toThrow(
      'TWILIO_API_URL must be https: in production (http: only to localhost)',
    );
    expect(() => loadConfig({ ...prod, SENDGRID_API_URL: 'http://10.0.0.5:8080' })).toThrow(
      'SENDGRID_API_URL must be https: in production (http: only to localhost)',
    );
    const allowed = loadConfig({
      ...prod,
      TWILIO_API_URL: 'http://127.0.0.1:8025',
      SENDGRID_API_URL: 'https://api.eu.sendgrid.com',
    });
    expect(allowed.sms.twilioApiUrl).toBe('http://127.0.0.1:8025');
    expect(allowed.email.sendgridApiUrl).toBe('https://api.eu.sendgrid.com');
    expect(
      loadConfig({ ...base, TWILIO_API_URL: 'http://twilio-fake:9000' }).sms.twilioApiUrl,
    ).toBe('http://twilio-fake:9000');
  });

  it('rejects bad values with one clear error each', () => {
    expect(() => loadConfig({ ...base, PORT: 'eighty' })).toThrow(
      'PORT must be an integer between 0 and 65535',
    );
    expect(() => loadConfig({ ...base, APP_ROLE: 'both' })).toThrow(
      'APP_ROLE must be one of all, api, worker',
    );
    expect(() => loadConfig({ ...base, HMAC_MODE: 'sometimes' })).toThrow(
      'HMAC_MODE must be one of',
    );
    expect(() => loadConfig({ ...base, REDIS_URL: 'http://x' })).toThrow('REDIS_URL must be a URL');
    expect(() => loadConfig({ ...base, WORKER_QUEUES: 'photo-analysis,emails' })).toThrow(
      'WORKER_QUEUES has unknown queue(s) emails',
    );
    expect(() => loadConfig({ ...base, SMS_PROVIDER: 'twilio' })).toThrow(
      'TWILIO_ACCOUNT_SID is required',
    );
    expect(() => loadConfig({ ...base, EMAIL_PROVIDER: 'sendgrid' })).toThrow(
      'SENDGRID_API_KEY is required when EMAIL_PROVIDER=sendgrid',
    );
    expect(() => loadConfig({ ...base, TWILIO_API_URL: 'api.twilio.com' })).toThrow(
      'TWILIO_API_URL must be a URL starting with https: or http://',
    );
    expect(() => loadConfig({ ...base, EMAIL_PROVIDER: 'smtp' })).toThrow(
      'EMAIL_PROVIDER must be one of console, sendgrid',
    );
    expect(() => loadConfig({ ...base, EMAIL_FROM: 'not an address' })).toThrow(
      'EMAIL_FROM must be an email address',
    );
    expect(() => loadConfig({ ...base, JWT_SECRET: 'short' })).toThrow('at least 32 characters');
  });

  it('parses WORKER_QUEUES and knows which values are secrets', () => {
    const config = loadConfig({
      ...base,
      WORKER_QUEUES: ' photo-analysis , photo-analysis,scheduled-messages',
      REDIS_URL: 'redis://:redis-pass-99@10.0.0.1:6380/2',
      ADMIN_API_KEY: 'admin-key-1',
      OPENAI_API_KEY: 'sk-abc-123',
      EMAIL_PROVIDER: 'sendgrid',
      SENDGRID_API_KEY: 'SG.sendgrid-key-42',
      EMAIL_FROM: 'codes@archety.example',
    });
    expect(config.worker.queues).toEqual(['photo-analysis', 'scheduled-messages']);
    expect(config.redis.isDefaultUrl).toBe(false);
    expect(config.secrets).toEqual(
      expect.arrayContaining([
        'admin-key-1',
        'sk-abc-123',
        'redis-pass-99',
        'SG.sendgrid-key-42',
        'j'.repeat(40),
      ]),
    );
  });
});
