// A real OpenID Connect provider for the tests of "Войти через Госуслуги": panva's
// oidc-provider (OpenID Certified), configured like a strict production provider —
// authorization code flow only, PKCE S256 required, ID tokens signed with RS256 or ES256
// from a JWKS made at start-up — with one test-only part: the login page. Instead of a
// password it takes the id of one of the ACCOUNTS below and logs it in, so the tests can
// drive it with plain HTTP (GET the page, POST the form).
//
// Started by tests/identity/oidc/oidc_provider.py; configured by the environment:
//   PORT          the port to listen on (127.0.0.1)
//   CLIENTS_JSON  the registered clients: [{client_id, client_secret, redirect_uris, ...}]
//   ACCOUNTS_JSON the people who can log in: {"<account id>": {<claims>}, ...}
// When it is ready it prints "ready <issuer>" on stdout.

import crypto from 'node:crypto';

import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
if (!port) {
  console.error('PORT is required');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.CLIENTS_JSON ?? '[]');
const accounts = JSON.parse(process.env.ACCOUNTS_JSON ?? '{}');

function signingKey(type, options, alg) {
  const { privateKey } = crypto.generateKeyPairSync(type, options);
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, alg, use: 'sig', kid: `${alg.toLowerCase()}-${crypto.randomBytes(4).toString('hex')}` };
}

const configuration = {
  clients,
  jwks: {
    keys: [
      signingKey('rsa', { modulusLength: 2048 }, 'RS256'),
      signingKey('ec', { namedCurve: 'P-256' }, 'ES256'),
    ],
  },
  responseTypes: ['code'],
  pkce: { required: () => true },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'phone'],
  claims: {
    openid: ['sub'],
    profile: ['family_name', 'given_name', 'middle_name'],
    email: ['email', 'email_verified'],
    phone: ['phone_number', 'phone_number_verified'],
  },
  async findAccount(ctx, id) {
    const claims = accounts[id];
    if (!claims) {
      return undefined;
    }
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
  // The portal is a first-party client: what it asks for is granted without a consent screen.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(ctx.oidc.params.scope ?? 'openid');
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: { devInteractions: { enabled: false }, userinfo: { enabled: true } },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 120,
    IdToken: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  renderError(ctx, out) {
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = `error: ${out.error}\n${out.error_description ?? ''}\n`;
  },
};

const provider = new Provider(issuer, configuration);

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) {
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function loginPage(uid, message) {
  return `<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>Вход (тестовый провайдер)</title></head>
<body><h1>Вход</h1>${message ? `<p class="error">${escape(message)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
<label>Учётная запись <input name="account" autocomplete="off"></label>
<button type="submit">Войти</button></form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Отказаться</button></form>
</body></html>`;
}

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([\w-]+)(?:\/(login|abort))?$/);
  if (!match) {
    return next();
  }
  const [, uid, action] = match;
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) {
    ctx.throw(400, 'interaction mismatch');
  }
  ctx.set('Cache-Control', 'no-store');
  if (!action && ctx.method === 'GET') {
    ctx.type = 'html';
    ctx.body = loginPage(uid, '');
    return undefined;
  }
  if (ctx.method !== 'POST') {
    ctx.throw(405);
  }
  let result;
  if (action === 'abort') {
    result = { error: 'access_denied', error_description: 'End-User aborted interaction' };
  } else {
    const account = (await formBody(ctx.req)).get('account') ?? '';
    if (!accounts[account]) {
      ctx.status = 200;
      ctx.type = 'html';
      ctx.body = loginPage(uid, 'Нет такой учётной записи');
      return undefined;
    }
    result = { login: { accountId: account } };
  }
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(returnTo);
  return undefined;
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
