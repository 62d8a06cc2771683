// A real OpenID Connect provider for the dashboard's OIDC tests: panva's oidc-provider
// (certified by the OpenID Foundation), on loopback, with one confidential client (the
// dashboard under test) and a few people who sign in with a password on its own page.
//
// Started by tests/oidc_provider/loopback.py:
//   node provider.mjs    with PROVIDER_PORT (0: any free one), CLIENT_ID, CLIENT_SECRET,
//                        REDIRECT_URIS and POST_LOGOUT_REDIRECT_URIS (comma-separated)
// It prints one line, "listening on <issuer>", once it answers.
//
// One door is for the tests only: POST /test/next-id-token with a JSON object of claims
// makes the token endpoint's next ID token carry them instead (numbers for "exp"/"iat"
// count seconds from now), re-signed with the provider's own key. That is how a test
// gets a token for another audience, or one that has already expired, from a provider
// that is otherwise doing everything for real.

import { createServer } from "node:http";
import { generateKeyPair, exportJWK, decodeJwt, decodeProtectedHeader, SignJWT, importJWK } from "jose";
import Provider from "oidc-provider";

// The people of the company. The groups claim is what a directory would send: names the
// dashboard knows (Support, Supervisor) and one it does not.
const PEOPLE = {
  dana: {
    password: "dana-company-password",
    given_name: "Dana",
    family_name: "Scully",
    email: "dana@example.com",
    groups: ["Support", "Everyone at Example"],
  },
  erin: {
    password: "erin-company-password",
    given_name: "Erin",
    family_name: "Reyes",
    email: "erin@example.com",
    groups: ["Supervisor"],
  },
};

const env = (name, fallback) => process.env[name] ?? fallback;
const list = (name) => env(name, "").split(",").filter(Boolean);

const { privateKey } = await generateKeyPair("RS256", { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: "test-key-1", alg: "RS256", use: "sig" };

let nextIdTokenClaims = null;

const server = createServer();
await new Promise((resolve) => server.listen(Number(env("PROVIDER_PORT", "0")), "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: env("CLIENT_ID", "dashboard"),
      client_secret: env("CLIENT_SECRET", "dashboard-secret"),
      redirect_uris: list("REDIRECT_URIS"),
      post_logout_redirect_uris: list("POST_LOGOUT_REDIRECT_URIS"),
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: ["test-provider-cookie-key"] },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "given_name", "family_name", "preferred_username"],
    groups: ["groups"],
  },
  scopes: ["openid", "email", "profile", "groups"],
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
  },
  // The dashboard is the company's own application: no consent screen.
  async loadExistingGrant(ctx) {
    const grantId =
      ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid email profile groups");
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    const person = PEOPLE[id];
    if (!person) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          preferred_username: id,
          name: `${person.given_name} ${person.family_name}`,
          given_name: person.given_name,
          family_name: person.family_name,
          email: person.email,
          email_verified: true,
          groups: person.groups,
        };
      },
    };
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: { IdToken: 300 },
});

// The test door (see the top of this file), after the token endpoint has answered.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === "/token" && nextIdTokenClaims && ctx.body?.id_token) {
    const claims = { ...decodeJwt(ctx.body.id_token) };
    const now = Math.floor(Date.now() / 1000);
    for (const [name, value] of Object.entries(nextIdTokenClaims)) {
      claims[name] = (name === "exp" || name === "iat") ? now + value : value;
    }
    nextIdTokenClaims = null;
    const header = decodeProtectedHeader(ctx.body.id_token);
    const key = await importJWK(signingKey, "RS256");
    ctx.body = { ...ctx.body, id_token: await new SignJWT(claims).setProtectedHeader(header).sign(key) };
  }
});

const escape = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function signInPage(uid, problem) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Example Corp sign-in</title></head>
<body><h1>Example Corp sign-in</h1>
${problem ? `<p role="alert">${escape(problem)}</p>` : ""}
<form method="post" action="/interaction/${escape(uid)}/login">
<p><label for="login">Company username</label> <input id="login" name="login" autocomplete="username" required></p>
<p><label for="password">Company password</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Sign in</button></p>
</form></body></html>`;
}

async function readForm(req) {
  let body = "";
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

const providerCallback = provider.callback();

server.on("request", async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    if (url.pathname === "/test/next-id-token" && req.method === "POST") {
      let body = "";
      for await (const chunk of req) body += chunk;
      nextIdTokenClaims = JSON.parse(body);
      res.writeHead(204).end();
      return;
    }
    const match = url.pathname.match(/^\/interaction\/([^/]+)(\/login)?$/);
    if (!match) {
      providerCallback(req, res);
      return;
    }
    const details = await provider.interactionDetails(req, res);
    if (req.method === "GET") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(signInPage(details.uid));
      return;
    }
    const form = await readForm(req);
    const person = PEOPLE[form.get("login")];
    if (!person || person.password !== form.get("password")) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" })
        .end(signInPage(details.uid, "Wrong username or password."));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: form.get("login") } }, {
      mergeWithLastSubmission: false,
    });
  } catch (error) {
    res.writeHead(500, { "content-type": "text/plain" }).end(`provider error: ${error.message}`);
  }
});

console.log(`listening on ${issuer}`);
