// A real, certified OpenID Provider (oidc-provider) that REQUIRES PKCE, for the portal's tests.
//
// Listens on 127.0.0.1 on a free port and prints "LISTENING <issuer>" once ready. One client is
// registered (redirect URI exact), one account exists and is signed in automatically: the
// interaction route below plays the person who logs in and consents, so tests run with plain HTTP.
//
// Environment: REDIRECT_URI, POST_LOGOUT_REDIRECT_URI, CLIENT_ID, CLIENT_SECRET, ACCOUNT_JSON
// (the account's claims, with "sub").
import http from 'node:http';
import { Provider } from 'oidc-provider';

const account = JSON.parse(process.env.ACCOUNT_JSON);
const client = {
  client_id: process.env.CLIENT_ID,
  client_secret: process.env.CLIENT_SECRET,
  redirect_uris: [process.env.REDIRECT_URI],
  post_logout_redirect_uris: [process.env.POST_LOGOUT_REDIRECT_URI],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
};

async function finishInteraction(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    await provider.interactionFinished(req, res, { login: { accountId: account.sub } },
      { mergeWithLastSubmission: false });
    return;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  const missing = details.prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } },
    { mergeWithLastSubmission: true });
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [client],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
    },
    findAccount: async (ctx, sub) => (sub === account.sub
      ? { accountId: sub, claims: async () => ({ ...account }) }
      : undefined),
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['test-only-cookie-key-not-a-secret'] },
  });
  const handle = provider.callback();
  server.on('request', (req, res) => {
    if (!req.url.startsWith('/interaction/')) {
      handle(req, res);
      return;
    }
    finishInteraction(provider, req, res).catch((error) => {
      res.statusCode = 500;
      res.end(`interaction failed: ${error}`);
    });
  });
  console.log(`LISTENING ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
