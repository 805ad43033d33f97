// The OpenID provider the web front's sign-in tests run against: the certified
// `oidc-provider` package, configured like an organisation's identity provider would be
// for this system. Never shipped; started by tests/oidc/provider.py.
//
// Configuration (environment):
//   OIDC_PORT            port to listen on (127.0.0.1)
//   OIDC_CLIENTS         JSON: [{client_id, redirect_uris, post_logout_redirect_uris, audience}]
//                        every client is public (no secret) and must use PKCE (S256)
//   OIDC_ACCOUNTS        JSON: {login: {name, claims: {buddy_role, buddy_projects, ...}}}
//   OIDC_RESOURCE        the resource indicator of the services (their access tokens' resource)
//   OIDC_ACCESS_TTL_S    lifetime of access tokens
//
// The dev interactions (a plain login form: any password, the login is the account) stand
// in for the organisation's login page; consent is implied for these first-party clients.
// Access tokens are JWTs (RS256) for the resource server of the client's `audience`,
// carrying the account's claims; refresh tokens are issued and rotated. One JSON line per
// event goes to stdout, without tokens (the tests read what happened there).
import Provider, { errors } from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.OIDC_CLIENTS);
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS);
const resource = process.env.OIDC_RESOURCE;
const accessTtl = Number(process.env.OIDC_ACCESS_TTL_S || 300);
const audienceOf = Object.fromEntries(clients.map((c) => [c.client_id, c.audience]));

const say = (event, fields = {}) => process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);

const provider = new Provider(issuer, {
  clients: clients.map((c) => ({
    client_id: c.client_id,
    token_endpoint_auth_method: 'none',
    application_type: 'web',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris,
  })),
  pkce: { required: () => true },
  scopes: ['openid', 'profile', 'offline_access'],
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'] },
  conformIdTokenClaims: false, // the name goes in the ID token, as Keycloak does
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, name: account.name, preferred_username: id };
      },
    };
  },
  async extraTokenClaims(ctx, token) {
    if (token.kind !== 'AccessToken') return undefined;
    return accounts[token.accountId]?.claims;
  },
  async issueRefreshToken(ctx, client) {
    return client.grantTypeAllowed('refresh_token');
  },
  async loadExistingGrant(ctx) {
    const { client, session } = ctx.oidc;
    const existing = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
    if (existing) {
      const grant = await ctx.oidc.provider.Grant.find(existing);
      if (grant) return grant;
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope('openid profile offline_access');
    grant.addResourceScope(resource, 'buddy');
    await grant.save();
    return grant;
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) { // the default page loads a web font; this one loads nothing
        ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign out</title></head>
<body><main><h1>Sign out at the test provider?</h1>${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button></main></body></html>`;
      },
    },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo(ctx, indicator, client) {
        if (indicator !== resource) throw new errors.InvalidTarget();
        return {
          scope: 'buddy',
          audience: audienceOf[client.clientId],
          accessTokenTTL: accessTtl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  ttl: {
    AccessToken: accessTtl,
    AuthorizationCode: 60,
    IdToken: 3600,
    Session: 3600,
    Interaction: 600,
    Grant: 3600,
    RefreshToken: 3600,
  },
  cookies: { keys: ['buddy-test-provider-cookie-key'] },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!doctype html><title>error</title><h1>${out.error}</h1>`;
  },
});

for (const event of ['grant.success', 'grant.error', 'grant.revoked', 'end_session.success',
  'refresh_token.consumed', 'authorization_code.consumed', 'revocation.error', 'server_error']) {
  provider.on(event, (ctx, err) => {
    say(event, {
      client: ctx?.oidc?.client?.clientId,
      grant_type: ctx?.oidc?.params?.grant_type,
      error: err?.error || (err instanceof Error ? err.message : undefined),
    });
  });
}

provider.listen(port, '127.0.0.1', () => say('listening', { issuer }));
