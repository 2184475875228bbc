import { randomUUID } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import fastifyMultipart from '@fastify/multipart';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { AllExceptionsFilter, errorBody } from '../../common/filters/all-exceptions.filter';
import { inputShapeProblem } from '../../common/validation/input-shape';
import { createValidationPipe } from '../../common/pipes/validation.pipe';
import { MetricsService } from '../metrics/metrics.service';
import { setupSwagger } from './swagger';

/** Probes and scrapes, which would drown the request log. */
const UNLOGGED_URLS = new Set(['/health', '/metrics']);

export function createFastifyAdapter(config: AppConfig): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: config.http.bodyLimitBytes,
    // Edge clients keep sockets alive for reuse; a shorter server timeout causes resets on reuse.
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    // On shutdown idle keep-alive sockets close at once; busy ones finish their request first.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    trustProxy: config.http.trustProxy,
    // A caller's X-Request-Id is kept when sane, so one id can follow a request across services.
    requestIdHeader: false,
    genReqId: (req: IncomingMessage) => {
      const header = req.headers['x-request-id'];
      return typeof header === 'string' && /^[\w.:-]{1,128}$/.test(header) ? header : randomUUID();
    },
  });
}

/** Everything both the real server and the e2e tests need on top of the modules. */
export function configureHttp(
  app: NestFastifyApplication,
  config: AppConfig,
  rootLogger: Logger,
): void {
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter());

  // multipart/form-data (photo uploads): parsed on demand by the route, which streams the file
  // to disk; the file size is capped while it arrives (413), never buffered whole.
  void app.register(fastifyMultipart, {
    throwFileSizeLimit: true,
    limits: { fileSize: config.photos.maxBytes, files: 1, fields: 16, fieldSize: 64 * 1024 },
  });

  const fastify = app.getHttpAdapter().getInstance();
  // The request id (see createFastifyAdapter) goes back to the caller and into every log line.
  fastify.addHook('onRequest', (request, reply, done) => {
    (request.raw as { id?: string }).id = request.id;
    void reply.header('X-Request-Id', request.id);
    done();
  });

  // Before any guard, pipe or handler: input no endpoint accepts is a 400 like malformed JSON,
  // rather than a stack overflow in validation or a failed Postgres write (a 500).
  fastify.addHook('preValidation', async (request, reply) => {
    const problem =
      // Validation would read a JSON `null` as `{}`, and an all-optional DTO would accept it.
      (request.body === null ? 'body must be a JSON object' : undefined) ??
      inputShapeProblem(request.body, 'body') ??
      inputShapeProblem(request.query, 'query') ??
      inputShapeProblem(request.params, 'path');
    if (problem) return reply.status(400).send(errorBody(400, problem));
  });

  const metrics = app.get(MetricsService);
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    metrics.observeHttp(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      status,
      reply.elapsedTime / 1000,
    );
    // One line per request, with its id. A hook rather than pino-http as a Nest middleware: that
    // ran every request through middie and an AsyncLocalStorage scope, which in Node 20 puts a
    // hook on every promise the request creates (without it bench:orchestrator's echo route
    // went from ~5,800 to ~7,800 req/s).
    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    if (rootLogger.isLevelEnabled(level) && !UNLOGGED_URLS.has(request.url)) {
      rootLogger[level](
        {
          req: { id: request.id, method: request.method, url: request.url },
          res: { statusCode: status },
          responseTime: Math.round(reply.elapsedTime),
        },
        'request completed',
      );
    }
    done();
  });

  const server = app.getHttpServer();
  // Must exceed keepAliveTimeout, or Node may cut a socket the client is about to reuse.
  server.headersTimeout = config.http.keepAliveTimeoutMs + 1000;

  setupSwagger(app);
}
