// The XAA lab as a test fixture from Node: start the real `lab` binary on ephemeral ports, mint an
// ID token with `lab token`, then walk the flow with openid-client: token exchange at the IdP
// (ID token → ID-JAG), jwt-bearer at the resource AS (ID-JAG → access token), the todo API.
// Then a widely used SAML SP library, node-saml with its default settings, signs in at the IdP's
// SAML endpoints and validates the signed Response.
// Run: `npm ci && npm test` (LAB_BIN defaults to ../../target/debug/lab).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import * as client from 'openid-client';
import { SAML } from '@node-saml/node-saml';

const LAB_BIN = resolve(process.env.LAB_BIN ?? fileURLToPath(new URL('../../target/debug/lab', import.meta.url)));
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ID_JAG = 'urn:ietf:params:oauth:token-type:id-jag';

const dir = mkdtempSync(join(tmpdir(), 'xaa-lab-node-'));
const readyFile = join(dir, 'ready.json');
let lab; // the child process
let ready; // {idp, authorization_server, todo_api, notes, console, ca_cert, env: {CLIENT_ID, …}}
let idp; // openid-client Configuration for the IdP (the requestor's IdP client)
let as; // … and for the resource AS (the requestor's resource-AS client)

// `lab token KIND …` for the running lab's URLs: the JSON the issuing endpoint would return.
function mint(kind, ...args) {
  return JSON.parse(execFileSync(LAB_BIN, ['token', kind, '--ready-file', readyFile, ...args], { encoding: 'utf8' }));
}

function stopLab() {
  if (lab && lab.exitCode === null && lab.signalCode === null) lab.kill('SIGTERM');
}
process.on('exit', stopLab); // even if a hook throws before `after` runs

before(async () => {
  let logs = '';
  lab = spawn(LAB_BIN, ['--ephemeral-ports', '--in-memory', '--ready-file', readyFile], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let spawnError;
  lab.on('error', (e) => (spawnError = e)); // e.g. ENOENT: build it with `cargo build --bin lab`
  lab.stderr.on('data', (chunk) => (logs = (logs + chunk).slice(-4000)));
  const deadline = Date.now() + 20_000;
  while (!existsSync(readyFile)) {
    if (spawnError || lab.exitCode !== null || lab.signalCode !== null) {
      throw new Error(`lab (${LAB_BIN}) exited before it was ready: ${spawnError ?? ''}\n${logs}`);
    }
    if (Date.now() > deadline) throw new Error(`no ready file after 20 s:\n${logs}`);
    await sleep(20);
  }
  ready = JSON.parse(readFileSync(readyFile, 'utf8'));
  const { env } = ready;
  // The lab runs plain http on loopback; openid-client v6 refuses http unless told otherwise.
  const insecure = { execute: [client.allowInsecureRequests] };
  idp = await client.discovery(new URL(ready.idp), env.CLIENT_ID, env.CLIENT_SECRET, undefined, insecure);
  as = await client.discovery(new URL(ready.authorization_server), env.RESOURCE_CLIENT_ID, env.RESOURCE_CLIENT_SECRET,
    undefined, { ...insecure, algorithm: 'oauth2' });
});

after(() => {
  stopLab();
  rmSync(dir, { recursive: true, force: true });
});

test('ID token → ID-JAG → access token → todo API', async () => {
  const { id_token } = mint('id-token', '--email', 'alice@acme.example', '--client', ready.env.CLIENT_ID);

  const jag = await client.genericGrantRequest(idp, TOKEN_EXCHANGE, {
    requested_token_type: ID_JAG,
    subject_token: id_token,
    subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
    audience: ready.authorization_server,
    resource: ready.todo_api,
    scope: 'todos.read',
  });
  assert.equal(jag.issued_token_type, ID_JAG);
  assert.equal(jag.token_type, 'n_a'); // the lab sends "N_A"; openid-client lower-cases token_type

  const token = await client.genericGrantRequest(as, JWT_BEARER, { assertion: jag.access_token });
  assert.equal(token.token_type, 'bearer');
  assert.equal(token.scope, 'todos.read');

  const response = await client.fetchProtectedResource(as, token.access_token, new URL('/api/todos', ready.todo_api), 'GET');
  assert.equal(response.status, 200);
  const todos = await response.json();
  assert.equal(todos.success, true);
  assert.ok(Array.isArray(todos.data));
});

test('an expired ID-JAG is refused at the AS with invalid_grant', async () => {
  const { access_token: expired } = mint('id-jag', '--client', ready.env.CLIENT_ID, '--expired');
  await assert.rejects(client.genericGrantRequest(as, JWT_BEARER, { assertion: expired }), (err) => {
    assert.equal(err.status, 400);
    assert.equal(err.error, 'invalid_grant');
    return true;
  });
});

// The value of the hidden input `name` in an HTML page.
function hidden(html, name) {
  const match = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  assert.ok(match, `no hidden ${name} in ${html}`);
  return match[1].replaceAll('&#x2b;', '+').replaceAll('&#x2f;', '/').replaceAll('&#x3d;', '=');
}

test('node-saml with its default settings signs in at the IdP and validates the signed Response', async () => {
  const metadata = await (await fetch(`${ready.idp}/saml/metadata`)).text();
  const idpCert = metadata.match(/<ds:X509Certificate>([^<]+)</)[1];
  // The fixture SAML service provider (fixtures/saml.json), the SP of the requestor client.
  const saml = new SAML({
    entryPoint: `${ready.idp}/saml/sso`,
    issuer: 'http://localhost:3000/saml/metadata',
    callbackUrl: 'http://localhost:3000/saml/acs',
    idpCert,
    authnRequestBinding: 'HTTP-POST',
  });
  // node-saml DEFLATE-compresses the AuthnRequest on the HTTP-POST binding too.
  const form = await saml.getAuthorizeFormAsync('relay-7');
  const samlRequest = hidden(form, 'SAMLRequest');
  assert.notEqual(Buffer.from(samlRequest, 'base64').toString('utf8').trimStart()[0], '<', 'the request is deflated');

  // A browser without JavaScript: the IdP's email and code pages, cookies carried by hand.
  const origin = { Origin: ready.idp };
  const post = (path, fields, cookie) =>
    fetch(`${ready.idp}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...origin, ...(cookie ? { Cookie: cookie } : {}), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
  const loginPage = await post('/saml/sso', { SAMLRequest: samlRequest, RelayState: 'relay-7' });
  assert.equal(loginPage.status, 200);
  const cookie = loginPage.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const html = await loginPage.text();
  const [login, csrf] = [hidden(html, 'login'), hidden(html, 'csrf')];
  assert.equal((await post('/login/email', { login, csrf, email: 'alice@acme.example' }, cookie)).status, 200);
  const done = await post('/login/code', { login, csrf, code: '123456' }, cookie);
  assert.equal(done.status, 200);
  const page = await done.text();
  assert.equal(hidden(page, 'RelayState'), 'relay-7');

  // Defaults: wantAuthnResponseSigned and wantAssertionsSigned are both true.
  const { profile, loggedOut } = await saml.validatePostResponseAsync({ SAMLResponse: hidden(page, 'SAMLResponse') });
  assert.equal(loggedOut, false);
  assert.equal(profile.nameID, 'alice@acme.example');
  assert.equal(profile.issuer, `${ready.idp}/saml`);

  // A tampered Response is refused.
  const tampered = Buffer.from(Buffer.from(hidden(page, 'SAMLResponse'), 'base64').toString('utf8')
    .replaceAll('alice@acme.example', 'mallory@acme.example')).toString('base64');
  await assert.rejects(saml.validatePostResponseAsync({ SAMLResponse: tampered }));
});
