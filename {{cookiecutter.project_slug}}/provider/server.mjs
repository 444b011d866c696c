// A local OpenID provider for development and tests: panva's oidc-provider (OpenID Certified),
// issuing client-credentials access tokens as RFC 9068 JWTs for the service's audience.
// Not for production: clients, keys and grants live in this process (the service trusts
// whatever issuer OIDC_ISSUER names, e.g. Keycloak, Entra ID, Auth0).
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const env = process.env;
const issuer = env.ISSUER ?? 'http://localhost:9000';
const audience = env.AUDIENCE ?? 'api://items';
const scopes = env.SCOPES ?? 'items:read items:write';

// The signing keys: a JWKS file (tests rotate keys by rewriting it and restarting), else one
// RSA key made at start, so a restart invalidates earlier tokens.
function signingKeys() {
  if (env.JWKS_FILE && existsSync(env.JWKS_FILE)) {
    return JSON.parse(readFileSync(env.JWKS_FILE, 'utf8'));
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: randomUUID(), alg: 'RS256', use: 'sig' }] };
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: env.CLIENT_ID ?? 'dev-client',
      client_secret: env.CLIENT_SECRET ?? 'dev-secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: scopes,
    },
  ],
  jwks: signingKeys(),
  scopes: scopes.split(' '),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    // Access tokens for one resource server, as JWTs carrying the granted scopes.
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: scopes,
        audience,
        accessTokenFormat: 'jwt',
        accessTokenTTL: Number(env.TOKEN_TTL ?? 300),
      }),
    },
  },
});

const port = Number(env.PORT ?? 9000);
const server = provider.listen(port, env.HOST ?? '0.0.0.0', () => {
  console.log(`oidc-provider: issuer ${issuer} listening on ${port}`);
});
// Stop at once on SIGTERM (PID 1 in a container; the tests' restarts).
process.on('SIGTERM', () => server.close(() => process.exit(0)));
