import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { getAbsoluteFSPath } from 'swagger-ui-dist';
import { AuthScheme } from '../../common/auth/auth.decorators';

/** The Swagger UI files /docs needs, served from swagger-ui-dist. */
const UI_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const UI_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Archety backend API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: '/docs-json',
      dom_id: '#swagger-ui',
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: 'StandaloneLayout',
      persistAuthorization: true,
    });
  </script>
</body>
</html>`;

/**
 * Swagger UI at /docs and the OpenAPI JSON at /docs-json, with every scheme of SPEC §5. The UI's
 * files are served here rather than through @nestjs/swagger's static serving, which needs
 * @fastify/static, whose current line requires Node 22.
 */
export function setupSwagger(app: NestFastifyApplication): void {
  const document = new DocumentBuilder()
    .setTitle('Archety backend')
    .setDescription(
      'The API behind the Archety companion: relay/orchestrator and edge agents, API clients, ' +
        'people in the web app, and admin. Every route names its authentication scheme.',
    )
    .setVersion('1')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        description: 'Authorization: Bearer <RELAY_WEBHOOK_SECRET>',
      },
      AuthScheme.RelayBearer,
    )
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'X-Signature',
        description:
          'Hex HMAC-SHA256 of `${X-Timestamp}${raw body}` with HMAC_SECRET; X-Timestamp in Unix seconds (±300 s). Enforced per HMAC_MODE.',
      },
      AuthScheme.Hmac,
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        description: 'EDGE_SECRET, or base64 of `agent_id:phone:ts:hex-hmac` (valid 24 h)',
      },
      AuthScheme.EdgeToken,
    )
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'Authorization',
        description:
          'The Edge token; or, for V0 clients, no Authorization header and the body’s `auth_token` equal to EDGE_REGISTRATION_TOKEN',
      },
      AuthScheme.EdgeRegistration,
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'API client token from POST /auth/token',
      },
      AuthScheme.ClientJwt,
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'User access token from phone sign-in (also accepted from the session cookie)',
      },
      AuthScheme.UserJwt,
    )
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <ADMIN_API_KEY>' },
      AuthScheme.Admin,
    )
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, document), {
    jsonDocumentUrl: 'docs-json',
    ui: false,
  });

  const assetsDir = getAbsoluteFSPath();
  const assets = new Map(
    Object.entries(UI_ASSETS).map(([file, type]) => [
      file,
      { type, body: readFileSync(join(assetsDir, file)) },
    ]),
  );
  const fastify = app.getHttpAdapter().getInstance();
  fastify.get('/docs', (_request, reply) => {
    void reply.type('text/html; charset=utf-8').send(UI_PAGE);
  });
  fastify.get<{ Params: { file: string } }>('/docs/:file', (request, reply) => {
    const asset = assets.get(request.params.file);
    if (!asset) {
      void reply.status(404).send({ statusCode: 404, error: 'Not Found', message: 'No such file' });
      return;
    }
    void reply.type(asset.type).header('cache-control', 'public, max-age=86400').send(asset.body);
  });
}
