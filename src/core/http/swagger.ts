import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AuthScheme } from '../../common/auth/auth.decorators';

/** Swagger UI at /docs and the OpenAPI JSON at /docs-json, with every scheme of SPEC §5. */
export function setupSwagger(app: INestApplication): void {
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
  });
}
