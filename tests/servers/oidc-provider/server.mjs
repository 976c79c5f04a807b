// panva's oidc-provider (OpenID Certified) on a free loopback port, for tests that must hold
// against an implementation other than ours. Everything a test varies is data:
//
//   node server.mjs '<config JSON>'
//
// config: { "clients": [ oidc-provider client metadata … ],
//           "accounts": { "<sub>": { "email": …, "name": … } },   (optional)
//           "features": { "<feature>": { "enabled": true }, … },  (optional, over the defaults;
//                                                           e.g. `deviceFlow`)
//           "ttl": { "AccessToken": <seconds>, … },                (optional, over the defaults)
//           "decline": [ "<client_id>", … ],                      (optional)
//           "dpop": { "requireNonce": bool, "resourceNonce": bool },  (optional)
//           "acrValues": [ "<acr>", … ],                           (optional)
//           "staleLogin": { "<client_id>": <seconds ago>, … } }    (optional)
//
// A client's `public_keys_pem: [{ "kid": …, "pem": "-----BEGIN PUBLIC KEY-----…" }]` becomes its
// `jwks` (Node's own PEM to JWK conversion), for `private_key_jwt` clients. The user declines
// (`access_denied`) every authorization request of a client listed in `decline`.
//
// `dpop` sets oidc-provider's DPoP (RFC 9449; on by default, without nonces): `requireNonce`
// makes its token and userinfo endpoints require its nonces. `GET /api/me` is a protected
// resource of ours for its access tokens, checked with `jose` as a resource server would (a
// DPoP proof when the token is bound; `resourceNonce`: nonces of its own); `GET /api/stats`
// counts what it answered.
//
// Prints `ISSUER http://127.0.0.1:PORT` once listening, then one JSON line per event a test may
// wait for (`{"event":"backchannel", …}` is oidc-provider's own debug stream, not ours): `login`
// (client, accountId, ts: the login's time as the interaction reports it), `par` (a pushed
// request: client, dpop_jkt), `code` (an authorization code saved: client, dpop_jkt), `grant`
// (a token endpoint grant: client, grant_type, jkt of the access token issued), `revoked` (a
// grant revoked: client, grantId), `backchannel.success` and `backchannel.error`. A test skips
// those it does not wait for. Exits when its standard input closes, so a test that dies never
// leaves it behind.
//
// The user interaction (login and consent) completes by itself: the account is the
// authorization request's `login_hint`, else the first configured account, else "alice". The
// login meets the first of the request's `acr_values` that `acrValues` lists, else none. A
// client listed in `staleLogin` gets logins backdated by that many seconds (the interaction
// result's `login.ts`, which becomes the ID token's `auth_time`): a user who authenticated long
// ago, for `max_age` checks.
import crypto, { createPublicKey } from 'node:crypto';
import http from 'node:http';
import { once } from 'node:events';
import Provider from 'oidc-provider';
// oidc-provider's own JOSE library (its dependency, locked with it).
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';

const config = JSON.parse(process.argv[2] ?? '{}');
const accounts = config.accounts ?? { alice: { email: 'alice@example.test', name: 'Alice' } };
const decline = new Set(config.decline ?? []);
const staleLogin = config.staleLogin ?? {};
const clients = (config.clients ?? []).map(({ public_keys_pem: pems, ...client }) => {
  if (!pems) return client;
  const keys = pems.map(({ kid, pem }) => ({
    ...createPublicKey(pem).export({ format: 'jwk' }), ...(kid && { kid }),
  }));
  return { ...client, jwks: { keys } };
});

const server = http.createServer();
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const issuer = `http://127.0.0.1:${server.address().port}`;

const acrValues = config.acrValues ?? [];
const provider = new Provider(issuer, {
  ...(acrValues.length && { acrValues }),
  clients,
  async findAccount(ctx, sub) {
    const account = accounts[sub];
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          email: account.email,
          email_verified: account.email_verified ?? true,
          name: account.name,
          preferred_username: sub,
        };
      },
    };
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
  },
  features: {
    devInteractions: { enabled: false },
    revocation: { enabled: true },
    introspection: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    backchannelLogout: { enabled: true },
    claimsParameter: { enabled: true },
    ...(config.features ?? {}),
    ...(config.dpop && {
      dPoP: {
        enabled: true,
        // Nonces are HMACs of the time under this secret (test-only, not a secret).
        nonceSecret: Buffer.alloc(32, 7),
        requireNonce: () => Boolean(config.dpop.requireNonce),
      },
    }),
  },
  // oidc-provider 9 refuses its own outgoing requests to special-use addresses (loopback
  // included) by handing `fetch` a guarded dispatcher; the apps under test listen on loopback,
  // so back-channel logout POSTs go out without it.
  fetch: (url, options) => {
    delete options.dispatcher;
    return globalThis.fetch(url, options);
  },
  // Deterministic keys are not needed: the provider generates its signing keys at start, and a
  // test discovers them through its JWKS as it would any real provider's.
  cookies: { keys: ['test-only-cookie-key-not-a-secret'] },
  ttl: {
    AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, RefreshToken: 86400,
    Interaction: 600, Session: 86400, Grant: 86400,
    ...config.ttl,
  },
});

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params } = details;
  if (decline.has(params.client_id)) {
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'The user declined.',
    }, { mergeWithLastSubmission: false });
  }
  if (prompt.name === 'login') {
    const hint = params.login_hint;
    const accountId = hint && accounts[hint] ? hint : Object.keys(accounts)[0];
    const acr = (params.acr_values ?? '').split(' ').find((value) => acrValues.includes(value));
    const ago = staleLogin[params.client_id];
    const ts = Math.floor(Date.now() / 1000) - (ago ?? 0);
    emit({ event: 'login', client: params.client_id, accountId, ts });
    const login = { accountId, ...(acr && { acr }), ...(ago !== undefined && { ts }) };
    return provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
  }
  if (prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, {
      mergeWithLastSubmission: true,
    });
  }
  res.statusCode = 400;
  res.end(`unexpected prompt ${prompt.name}`);
}

// The protected resource `GET /api/me` (RFC 9449 §7): the token's account, for a bearer token
// or a DPoP-bound one with a valid proof by its key.
const resourceStats = { ok: 0, nonceChallenges: 0, refused: 0 };
const seenJtis = new Set();
let resourceNonce = crypto.randomBytes(16).toString('base64url');

function refuse(res, error, description, nonce) {
  res.statusCode = 401;
  res.setHeader('WWW-Authenticate', `DPoP algs="ES256", error="${error}", error_description="${description}"`);
  if (nonce) res.setHeader('DPoP-Nonce', nonce);
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ error, error_description: description }));
  if (error === 'use_dpop_nonce') resourceStats.nonceChallenges += 1; else resourceStats.refused += 1;
}

async function resource(req, res) {
  const [scheme, token] = (req.headers.authorization ?? '').split(' ');
  const accessToken = token && await provider.AccessToken.find(token);
  if (!accessToken || accessToken.isExpired) return refuse(res, 'invalid_token', 'unknown token');
  const bound = accessToken.jkt;
  if (scheme.toLowerCase() === 'bearer' && !bound) {
    resourceStats.ok += 1;
    res.setHeader('Content-Type', 'application/json');
    return res.end(JSON.stringify({ sub: accessToken.accountId }));
  }
  if (scheme !== 'DPoP') return refuse(res, 'invalid_token', 'a DPoP-bound token is no bearer token');
  const proof = req.headers.dpop;
  if (typeof proof !== 'string') return refuse(res, 'invalid_dpop_proof', 'no DPoP proof');
  let verified;
  try {
    verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] });
  } catch {
    return refuse(res, 'invalid_dpop_proof', 'the proof does not verify');
  }
  const { payload, protectedHeader } = verified;
  const url = new URL(req.url, issuer);
  const htu = URL.parse(payload.htu ?? '');
  if (htu) { htu.search = ''; htu.hash = ''; }
  const now = Math.floor(Date.now() / 1000);
  const ath = crypto.hash('sha256', token, 'base64url');
  if (payload.htm !== req.method) return refuse(res, 'invalid_dpop_proof', 'htm mismatch');
  if (htu?.href !== `${issuer}${url.pathname}`) return refuse(res, 'invalid_dpop_proof', 'htu mismatch');
  if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > 60) return refuse(res, 'invalid_dpop_proof', 'iat not recent');
  if (payload.ath !== ath) return refuse(res, 'invalid_dpop_proof', 'ath mismatch');
  if (config.dpop?.resourceNonce && payload.nonce !== resourceNonce) {
    return refuse(res, 'use_dpop_nonce', 'use the DPoP-Nonce', resourceNonce);
  }
  if (typeof payload.jti !== 'string' || seenJtis.has(payload.jti)) return refuse(res, 'invalid_dpop_proof', 'jti replayed');
  seenJtis.add(payload.jti);
  if (bound && await calculateJwkThumbprint(protectedHeader.jwk) !== bound) {
    return refuse(res, 'invalid_token', 'the token is bound to another key');
  }
  resourceStats.ok += 1;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ sub: accessToken.accountId, jkt: bound ?? null }));
}

function emit(event) {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

const callback = provider.callback();
server.on('request', (req, res) => {
  if (req.method === 'GET' && req.url.split('?')[0] === '/api/me') {
    resource(req, res).catch((err) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  } else if (req.method === 'GET' && req.url === '/api/stats') {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(resourceStats));
  } else if (req.method === 'POST' && req.url === '/api/rotate-nonce') {
    resourceNonce = crypto.randomBytes(16).toString('base64url');
    res.end();
  } else if (req.method === 'GET' && req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  } else {
    callback(req, res);
  }
});

for (const event of ['backchannel.error', 'server_error', 'grant.error']) {
  provider.on(event, (...args) => {
    const err = args.find((a) => a instanceof Error);
    process.stderr.write(`oidc-provider ${event}: ${err?.stack ?? err}\n`);
  });
}
// oidc-provider emits these with the request's context first.
provider.on('backchannel.error', (ctx, err, client, accountId, sid) => {
  emit({ event: 'backchannel.error', client: client?.clientId, sid, error: String(err) });
});
provider.on('backchannel.success', (ctx, client, accountId, sid) => {
  emit({ event: 'backchannel.success', client: client.clientId, sid });
});
provider.on('pushed_authorization_request.success', (ctx, client) => {
  emit({ event: 'par', client: client.clientId, dpop_jkt: ctx.oidc.params.dpop_jkt ?? null });
});
provider.on('authorization_code.saved', (code) => {
  emit({ event: 'code', client: code.clientId, dpop_jkt: code.dpopJkt ?? null });
});
provider.on('grant.success', (ctx) => {
  emit({
    event: 'grant',
    client: ctx.oidc.client?.clientId,
    grant_type: ctx.oidc.params.grant_type,
    jkt: ctx.oidc.entities.AccessToken?.jkt ?? null,
  });
});
provider.on('grant.revoked', (ctx, grantId) => {
  emit({ event: 'revoked', client: ctx.oidc.client?.clientId, grantId });
});

process.stdout.write(`ISSUER ${issuer}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
