// Browser tests of the portal (/portal/) and GraphiQL (/) in headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core — never a browser download of its own), against a
// running platform: ECL_BASE_URL (e.g. http://127.0.0.1:PORT) with the bootstrap operator's
// password in ECL_OPERATOR_PASSWORD. tests/browser.rs starts an embedded platform and runs this.
//
// ECL_SCREENSHOTS=dir writes the main screens there (docs/screenshots for the README).

import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { step as totpStep, totp } from './totp.mjs';

const BASE = process.env.ECL_BASE_URL || 'http://127.0.0.1:8080';
const OP_PASSWORD = process.env.ECL_OPERATOR_PASSWORD || 'Operator-pass-1';
const SHOTS = process.env.ECL_SCREENSHOTS || null;
const CHROMIUM = process.env.ECL_CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'Portal-pass-1';
const run = Date.now().toString(36);

// ---- the API, for setup and for causing events (what a partner integration would do) --------

async function api(token, query, variables = {}) {
  const r = await fetch(`${BASE}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await r.json();
  if (body.errors) throw new Error(`${query.slice(0, 60)}…: ${JSON.stringify(body.errors)}`);
  return body.data;
}
const signIn = async (l, p) => (await api(null, 'mutation($l:String!,$p:String!){ signIn(loginId:$l,password:$p){ accessToken } }', { l, p })).signIn.accessToken;
const contractInput = (name, ext, owner) => ({
  name,
  externalId: ext,
  customer: { company: `${name} K.K.`, address: '1-1 Otemachi, Tokyo', contactName: 'Hanako Sato', contactEmail: 'contact@example.com' },
  owner: { loginId: owner, email: `${owner}@example.com`, password: PASSWORD },
});

async function until(what, f, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---- a tiny sequential runner ---------------------------------------------------------------

let passed = 0;
let failed = 0;
const consoleErrors = [];
let current = null;

async function check(name, f) {
  process.stdout.write(`test ${name} ... `);
  const t0 = Date.now();
  try {
    await f();
    passed++;
    console.log(`ok (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log('FAILED');
    console.log(e.stack || e);
    if (consoleErrors.length) console.log(`console errors so far:\n${consoleErrors.join('\n')}`);
    if (current) await current.screenshot({ path: join(process.env.TMPDIR || '/tmp', `ecl-browser-failure-${run}.png`), fullPage: true }).catch(() => {});
    throw e;
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

async function shot(page, name, fullPage = false) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

/** Every form control on the screen has a label (its own, aria-label or aria-labelledby). */
async function labelled(page) {
  const bare = await page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea')]
      .filter((e) => e.type !== 'hidden' && !e.labels?.length && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
      .map((e) => e.outerHTML));
  assert(bare.length === 0, `unlabelled controls on ${page.url()}:\n${bare.join('\n')}`);
}

function watch(page, label) {
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // Chromium logs every 4xx reply as "Failed to load resource"; from /graphql that is an API
    // answer (a refused sign-in, invalid input) which the portal shows next to the form.
    const apiAnswer = m.location().url === `${BASE}/graphql` && /status of 4\d\d/.test(m.text());
    if (!apiAnswer) consoleErrors.push(`${label}: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`${label}: page error ${e.message}`));
  // Offline: any request that leaves the platform's origin fails the test (and is refused).
  page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(BASE) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    consoleErrors.push(`${label}: request off the platform: ${url}`);
    return route.abort();
  });
}

// ---- the scenario -----------------------------------------------------------------------------

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});

const S = {}; // what the steps learn: ids, tokens

try {
  await check('setup: a partner with an admin and 11 children, through the API', async () => {
    S.op = await signIn('operator', OP_PASSWORD);
    S.partnerOwner = `p-owner-${run}`;
    const p = await api(S.op, 'mutation($i:ContractInput!){ createPartnerContract(input:$i){ id } }', { i: contractInput(`Partner ${run}`, null, S.partnerOwner) });
    S.partner = p.createPartnerContract.id;
    const owner = await signIn(S.partnerOwner, PASSWORD);
    S.partnerAdmin = `p-admin-${run}`;
    await api(owner, 'mutation($c:ID!,$i:UserInput!){ createUser(contractId:$c, input:$i){ id } }', {
      c: S.partner, i: { loginId: S.partnerAdmin, email: `${S.partnerAdmin}@example.com`, password: PASSWORD, role: 'ADMIN' },
    });
    for (let i = 1; i <= 11; i++) {
      const n = String(i).padStart(2, '0');
      await api(owner, 'mutation($p:ID!,$i:ContractInput!){ createChildContract(parentId:$p, input:$i){ id } }', {
        p: S.partner, i: contractInput(`Child ${n}`, `C-${n}`, `c${n}-${run}`),
      });
    }
  });

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', acceptDownloads: true });
  const page = await ctx.newPage();
  current = page;
  watch(page, 'partner');

  await check('first load of /portal/ is under 300 KB compressed', async () => {
    let bytes = 0;
    const sizes = [];
    page.on('requestfinished', async (req) => {
      if (!req.url().startsWith(`${BASE}/portal/`)) return;
      const s = await req.sizes();
      sizes.push(s.responseBodySize + s.responseHeadersSize);
    });
    await page.goto(`${BASE}/portal/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.waitForLoadState('networkidle');
    bytes = sizes.reduce((a, b) => a + b, 0);
    console.log(`    first load: ${sizes.length} files, ${(bytes / 1024).toFixed(1)} KB transferred`);
    assert(bytes > 0 && bytes < 300 * 1024, `first load ${bytes} bytes`);
  });

  await check('a wrong password shows the error on the form', async () => {
    await page.getByLabel('Login ID').fill(S.partnerOwner);
    await page.getByLabel('Password').fill('wrong-password-1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.form-error').waitFor();
    assert((await page.locator('.form-error').innerText()).includes('Not signed in or wrong credentials'), 'error shown');
    await labelled(page);
  });

  await check('partner owner signs in and enrols TOTP (QR code, recovery codes shown once)', async () => {
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: `Partner ${run}` }).waitFor();
    await page.getByRole('link', { name: 'Security' }).click();
    await page.getByRole('button', { name: 'Set up two-step verification' }).click();
    const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
    await qr.waitFor();
    assert((await qr.getAttribute('src')).startsWith('data:image/png;base64,'), 'QR code is a PNG');
    S.secret = (await page.locator('#totp-secret').innerText()).trim();
    // Near the end of a step, wait for the next, so the previous step's code stays valid.
    await until('a fresh TOTP step', () => (Date.now() / 1000) % 30 < 25, 10_000);
    S.enrolStep = totpStep();
    await page.getByLabel('Code').fill(totp(S.secret, S.enrolStep - 1));
    await shot(page, 'security-totp-enrolment');
    await labelled(page);
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.locator('#recovery-codes li').first().waitFor();
    assert((await page.locator('#recovery-codes li').count()) === 10, 'ten recovery codes');
    S.recovery = (await page.locator('#recovery-codes li').first().innerText()).trim();
    await page.getByRole('button', { name: 'I have stored them' }).click();
    assert((await page.locator('#recovery-codes').count()) === 0, 'codes are gone once acknowledged');
  });

  await check('partner owner signs in again with the TOTP second step', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Login ID').fill(S.partnerOwner);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    await shot(page, 'sign-in-totp');
    // The current step's code: enrolment claimed the one before, each is accepted once.
    await page.getByLabel('Code').fill(totp(S.secret, totpStep()));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: `Partner ${run}` }).waitFor();
    await shot(page, 'contract-overview');
  });

  await check('creating a child: the API error lands on the field it names, then it succeeds', async () => {
    await page.getByRole('link', { name: 'Child contracts' }).click();
    const form = page.locator('form', { has: page.getByRole('heading', { name: 'New child contract' }) });
    await form.getByLabel('Name', { exact: true }).fill('Portal Child');
    await form.getByLabel('External ID').fill('PC-001');
    await form.getByLabel('Company').fill('Portal Child K.K.');
    await form.getByLabel('Contact email').fill('not-an-email');
    await form.getByLabel('Owner login ID').fill(`child-owner-${run}`);
    await form.getByLabel('Owner email').fill(`child-owner-${run}@example.com`);
    await form.getByLabel('Owner initial password').fill(PASSWORD);
    await form.getByRole('button', { name: 'Create' }).click();
    const err = form.locator('[data-field="customer.contactEmail"] .error');
    await err.waitFor();
    assert((await err.innerText()).includes('Invalid input'), 'contact email error under its field');
    assert((await form.getByLabel('Contact email').getAttribute('aria-invalid')) === 'true', 'field marked invalid');
    await form.getByLabel('Contact email').fill('portal-child@example.com');
    await form.getByRole('button', { name: 'Create' }).click();
    await form.getByText('Child contract Portal Child created.').waitFor();
  });

  await check('the new child is found by search on the second page', async () => {
    const search = page.getByRole('search');
    await search.getByLabel('Name').fill('child');
    await search.getByLabel('Status').selectOption('ACTIVE');
    await search.getByRole('button', { name: 'Search' }).click();
    await page.getByText('Page 1 of 2 · 12 in all').waitFor();
    assert((await page.getByRole('link', { name: 'Portal Child' }).count()) === 0, 'not on page 1');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('Page 2 of 2 · 12 in all').waitFor();
    await shot(page, 'child-contracts-search');
    await labelled(page);
    // And by its external id alone.
    await search.getByLabel('Name').fill('');
    await search.getByLabel('External ID').fill('PC-001');
    await search.getByRole('button', { name: 'Search' }).click();
    await page.getByText('Page 1 of 1 · 1 in all').waitFor();
    await page.getByRole('link', { name: 'Portal Child' }).click();
    await page.getByRole('heading', { name: 'Portal Child' }).waitFor();
    S.child = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
    await page.getByText('Portal Child K.K.').waitFor(); // customer information, for the partner's owner
  });

  await check('a tenant and a user in the child, and access granted (partner users included)', async () => {
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    const uf = page.locator('form', { has: page.getByRole('heading', { name: 'New user' }) });
    S.childUser = `child-user-${run}`;
    await uf.getByLabel('Login ID').fill(S.childUser);
    await uf.getByLabel('Email').fill(`${S.childUser}@example.com`);
    await uf.getByLabel('Initial password').fill(PASSWORD);
    await uf.getByLabel('Role').selectOption('USER');
    await uf.getByRole('button', { name: 'Create' }).click();
    await uf.getByText(`User ${S.childUser} created.`).waitFor();
    await page.getByRole('cell', { name: S.childUser, exact: true }).waitFor();

    await page.getByRole('link', { name: 'Tenants' }).click();
    const tf = page.locator('form', { has: page.getByRole('heading', { name: 'New tenant' }) });
    await tf.getByLabel('Tenant name').fill('web-prod');
    await tf.getByLabel('Region').fill('moon');
    await tf.getByRole('button', { name: 'Create' }).click();
    await tf.locator('[data-field="region"] .error').waitFor();
    await tf.getByLabel('Region').fill('jp1');
    await tf.getByRole('button', { name: 'Create' }).click();
    await tf.getByText('Tenant web-prod created.').waitFor();
    await page.getByRole('button', { name: 'Access rights: web-prod' }).click();
    await page.getByRole('heading', { name: 'Access rights of web-prod' }).waitFor();
    const grant = page.locator('form.inline');
    const options = await grant.getByLabel('User').locator('option').allInnerTexts();
    assert(options.some((o) => o === `${S.partnerAdmin} (partner)`), `partner users offered: ${options}`);
    await grant.getByLabel('User').selectOption({ label: `${S.childUser} (User)` });
    await grant.getByRole('button', { name: 'Grant' }).click();
    await page.locator('.access').getByRole('cell', { name: S.childUser, exact: true }).waitFor();
    await grant.getByLabel('User').selectOption({ label: `${S.partnerAdmin} (partner)` });
    await grant.getByRole('button', { name: 'Grant' }).click();
    await page.locator('.access').getByRole('cell', { name: `${S.partnerAdmin} (partner)` }).waitFor();
    await page.getByRole('button', { name: `Revoke: ${S.partnerAdmin}` }).click();
    await until('the revoke to show', async () => (await page.locator('.access').getByRole('cell', { name: `${S.partnerAdmin} (partner)` }).count()) === 0);
    await shot(page, 'tenants-access');
    await labelled(page);
  });

  await check("the child's bill: estimate, tree with tiers, summary per workspace, CSV download", async () => {
    // Usage, recorded the way resource controllers do, so the bill has lines.
    const owner = await signIn(S.partnerOwner, PASSWORD).catch(() => null);
    const tok = owner || S.op;
    const t = await api(S.op, 'query($id:ID!){ contract(id:$id){ tenants(first:10){ edges { node { id name } } } } }', { id: S.child });
    S.tenant = t.contract.tenants.edges.find((e) => e.node.name === 'web-prod').node.id;
    const at = new Date(Date.now() - 20 * 60_000).toISOString();
    const events = [
      { id: `vm-${run}`, tenantId: S.tenant, resourceId: `srv-${run}`, menuCode: 'compute', kind: 'START', at, plan: '1CPU-4GB', status: 'Running', resourceName: 'web-1' },
      { id: `vol-${run}`, tenantId: S.tenant, resourceId: `srv-${run}`, menuCode: 'volume', kind: 'START', at, plan: '15GB', resourceName: 'web-1-disk' },
    ];
    await until('metering to know the tenant', async () => {
      const r = (await api(S.op, 'mutation($e:[UsageEventInput!]!){ recordUsage(events:$e){ outcome code } }', { e: events })).recordUsage;
      return r.every((x) => x.outcome !== 'REJECTED');
    });
    void tok;
    await page.getByRole('link', { name: 'Billing' }).click();
    await page.getByRole('heading', { name: "This month's estimate" }).waitFor();
    await page.locator('#estimate-total').waitFor();
    await page.locator('tr.tier-1').first().waitFor();
    await page.locator('tr[data-kind="USAGE"], tr[data-kind="RESOURCE"]').first().waitFor({ state: 'attached' });
    await page.getByRole('heading', { name: /Summary per workspace/ }).waitFor();
    await page.locator('section', { has: page.getByRole('heading', { name: /Summary per workspace/ }) }).getByRole('cell', { name: 'Total', exact: true }).waitFor();
    await shot(page, 'billing', true);
    await labelled(page);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Detail CSV' }).click()]);
    const csv = readFileSync(await download.path(), 'utf8');
    assert(download.suggestedFilename().startsWith(S.child) && download.suggestedFilename().endsWith('.csv'), download.suggestedFilename());
    assert(csv.split('\n')[0].includes(','), `CSV header: ${csv.slice(0, 80)}`);
    assert(csv.includes(S.child), 'CSV is the child\'s');
    // The partner sees each child's bill from its own billing page.
    await page.goto(`${BASE}/portal/#/contracts/${S.partner}/billing`);
    await page.getByRole('heading', { name: /Children's bills/ }).waitFor();
    const bills = page.locator('section', { has: page.getByRole('heading', { name: /Children's bills/ }) });
    await bills.getByRole('link', { name: 'Child 01' }).waitFor();
    await bills.getByRole('button', { name: 'Next' }).click();
    await bills.getByRole('link', { name: 'Portal Child' }).waitFor();
    assert(/[¥$]\d/.test(await bills.locator('tr', { has: page.getByRole('link', { name: 'Portal Child' }) }).innerText()), 'the child\'s total');
  });

  await check('switching to Japanese', async () => {
    await page.goto(`${BASE}/portal/#/contracts/${S.child}/billing`);
    await page.getByRole('heading', { name: "This month's estimate" }).waitFor();
    await page.getByLabel('Language').selectOption('ja');
    await page.getByRole('heading', { name: '今月の見込み額' }).waitFor();
    assert((await page.getAttribute('html', 'lang')) === 'ja', 'html lang');
    await page.getByRole('link', { name: '請求' }).waitFor();
    await page.locator('tr.tier-1').first().waitFor();
    await shot(page, 'billing-ja');
    await page.reload();
    await page.getByRole('heading', { name: '今月の見込み額' }).waitFor(); // the choice is kept
    await page.getByLabel('言語').selectOption('en');
    await page.getByRole('heading', { name: "This month's estimate" }).waitFor();
  });

  await check('phone width: no sideways scrolling, forms still labelled', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${BASE}/portal/#/contracts/${S.partner}/children`);
    await page.getByRole('search').waitFor();
    await page.locator('.pager table').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 0, `page is ${overflow}px wider than the screen`);
    await shot(page, 'phone-child-contracts');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await check('keyboard: the sign-in form works with Tab and Enter alone', async () => {
    const kctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    const kp = await kctx.newPage();
    watch(kp, 'keyboard');
    await kp.goto(`${BASE}/portal/`);
    await kp.getByRole('heading', { name: 'Sign in' }).waitFor();
    // The login field has focus; type, Tab to the password, Enter submits.
    await kp.keyboard.type(S.partnerAdmin);
    await kp.keyboard.press('Tab');
    await kp.keyboard.type(PASSWORD);
    await kp.keyboard.press('Enter');
    await kp.getByRole('heading', { name: `Partner ${run}` }).waitFor();
    await kctx.close();
  });

  await check('a recovery code signs in once as the second step', async () => {
    const rctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    const rp = await rctx.newPage();
    watch(rp, 'recovery');
    const attempt = async () => {
      await rp.goto(`${BASE}/portal/#/signin`);
      await rp.getByLabel('Login ID').fill(S.partnerOwner);
      await rp.getByLabel('Password').fill(PASSWORD);
      await rp.getByRole('button', { name: 'Sign in' }).click();
      await rp.getByLabel('Code').fill(S.recovery);
      await rp.getByRole('button', { name: 'Verify' }).click();
    };
    await attempt();
    await rp.getByRole('heading', { name: `Partner ${run}` }).waitFor();
    await rp.getByRole('button', { name: 'Sign out' }).click();
    await rp.getByRole('heading', { name: 'Sign in' }).waitFor();
    await attempt();
    await rp.locator('.form-error').waitFor(); // spent
    await rctx.close();
  });

  await check('a child user signs in and cannot see the parent', async () => {
    const cctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    const cp = await cctx.newPage();
    current = cp;
    watch(cp, 'child-user');
    await cp.goto(`${BASE}/portal/`);
    await cp.getByLabel('Login ID').fill(S.childUser);
    await cp.getByLabel('Password').fill(PASSWORD);
    await cp.getByRole('button', { name: 'Sign in' }).click();
    await cp.getByRole('heading', { name: 'Portal Child' }).waitFor();
    assert(!(await cp.content()).includes(`Partner ${run}`), 'no trace of the parent on the page');
    assert((await cp.getByRole('link', { name: /Partner/ }).count()) === 0, 'no link to the partner');
    await cp.getByRole('link', { name: 'Tenants' }).click();
    await cp.getByRole('cell', { name: 'web-prod', exact: true }).waitFor();
    await cp.goto(`${BASE}/portal/#/contracts/${S.partner}`);
    await cp.getByText('Not found').waitFor();
    assert(!(await cp.content()).includes(`Partner ${run}`), 'the parent stays hidden');
    await cctx.close();
    current = page;
  });

  await check('API keys: created with scopes, secret shown once, revoked', async () => {
    await page.goto(`${BASE}/portal/#/contracts/${S.partner}/keys`);
    const kf = page.locator('form', { has: page.getByRole('heading', { name: 'New API key' }) });
    await kf.getByLabel('Key name').fill('billing export');
    await kf.getByRole('button', { name: 'Create' }).click();
    await kf.locator('[data-field="scopes"] .error').waitFor(); // no scope chosen
    await kf.getByLabel('BILLING_READ').check();
    await kf.getByRole('button', { name: 'Create' }).click();
    const secret = (await page.locator('#api-key-secret').innerText()).trim();
    assert(secret.startsWith('ecl_'), 'secret shown');
    const me = await fetch(`${BASE}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': secret }, body: JSON.stringify({ query: `{ contract(id:"${S.partner}"){ name } }` }) }).then((r) => r.json());
    assert(me.data?.contract?.name === `Partner ${run}`, `the key works: ${JSON.stringify(me)}`);
    await shot(page, 'api-keys');
    await labelled(page);
    await page.getByRole('button', { name: 'Revoke: billing export' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('cell', { name: /^Revoked/ }).waitFor();
  });

  await check('users: role and usage visibility changed in place, then deleted', async () => {
    await page.goto(`${BASE}/portal/#/contracts/${S.partner}/users`);
    const row = page.locator('tr', { has: page.getByRole('cell', { name: S.partnerAdmin, exact: true }) });
    await row.waitFor();
    await row.getByLabel(`Role: ${S.partnerAdmin}`).selectOption('USER');
    await row.getByLabel(`May see usage and bills: ${S.partnerAdmin}`).uncheck();
    await row.getByRole('button', { name: 'Update' }).click();
    await row.getByText('Saved.').waitFor();
    await labelled(page);
    const u = await api(S.op, 'query($id:ID!){ contract(id:$id){ users(first:50){ edges { node { loginId role canViewUsage } } } } }', { id: S.partner });
    const admin = u.contract.users.edges.map((e) => e.node).find((x) => x.loginId === S.partnerAdmin);
    assert(admin.role === 'USER' && admin.canViewUsage === false, JSON.stringify(admin));
    await row.getByLabel(`Role: ${S.partnerAdmin}`).selectOption('ADMIN');
    await row.getByLabel(`May see usage and bills: ${S.partnerAdmin}`).check();
    await row.getByRole('button', { name: 'Update' }).click();
    await row.getByText('Saved.').waitFor();
    // A user made here and deleted again.
    const uf = page.locator('form', { has: page.getByRole('heading', { name: 'New user' }) });
    await uf.getByLabel('Login ID').fill(`temp-${run}`);
    await uf.getByLabel('Email').fill(`temp-${run}@example.com`);
    await uf.getByLabel('Initial password').fill(PASSWORD);
    await uf.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('button', { name: `Delete: temp-${run}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await until('the user to go', async () => (await page.getByRole('cell', { name: `temp-${run}`, exact: true }).count()) === 0);
  });

  await check('contract groups: created, a child added, a parent user assigned', async () => {
    await page.goto(`${BASE}/portal/#/contracts/${S.partner}/groups`);
    const gf = page.locator('form', { has: page.getByRole('heading', { name: 'New contract group' }) });
    await gf.getByLabel('Group name').fill('East region');
    await gf.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('button', { name: 'Manage: East region' }).click();
    await page.getByRole('heading', { name: 'East region' }).waitFor();
    await page.getByLabel('Add child contract').selectOption({ label: 'Portal Child' });
    await page.getByRole('button', { name: 'Add child contract' }).click();
    await page.getByRole('button', { name: 'Remove: Portal Child' }).waitFor();
    await page.getByLabel('Assign user').selectOption({ label: S.partnerAdmin });
    await page.getByRole('button', { name: 'Assign user' }).click();
    await page.getByRole('button', { name: `Remove: ${S.partnerAdmin}` }).waitFor();
    await shot(page, 'contract-groups');
    await labelled(page);
    // Undo, so the admin keeps managing every child.
    await page.getByRole('button', { name: `Remove: ${S.partnerAdmin}` }).click();
    await until('the admin unassigned', async () => (await page.getByRole('button', { name: `Remove: ${S.partnerAdmin}` }).count()) === 0);
  });

  await check('a child changed, then abolished with the force confirmation (it has a tenant)', async () => {
    const kids = await api(S.op, 'query($id:ID!){ contract(id:$id){ children(filter:{externalId:"C-02"}){ edges { node { id } } } } }', { id: S.partner });
    const id = kids.contract.children.edges[0].node.id;
    await api(S.op, 'mutation($c:ID!,$i:TenantInput!){ createTenant(contractId:$c, input:$i){ id } }', { c: id, i: { name: 'old-tenant', region: 'jp2' } });
    await page.goto(`${BASE}/portal/#/contracts/${id}`);
    const ef = page.locator('section', { has: page.getByRole('heading', { name: 'Change contract' }) });
    await ef.getByLabel('Name', { exact: true }).fill('Child 02 (renamed)');
    await ef.getByLabel('External ID').fill('bad id!');
    await ef.getByRole('button', { name: 'Save' }).click();
    await ef.locator('[data-field="externalId"] .error').waitFor();
    await ef.getByLabel('External ID').fill('C-02');
    await ef.getByRole('button', { name: 'Save' }).click();
    await ef.getByText('Saved.').waitFor();
    await labelled(page);
    await page.getByRole('button', { name: 'Abolish contract' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Abolish contract' }).click();
    // Refused while tenants remain: the portal asks a second time, and forcing it goes through.
    await page.getByRole('dialog').getByText('still has tenants').waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete tenants and abolish' }).click();
    await page.getByRole('heading', { name: /Child 02 \(renamed\)\s*Abolished/ }).waitFor();
  });

  await check('GraphiQL loads offline and runs a query and a subscription', async () => {
    const gctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const gp = await gctx.newPage();
    current = gp;
    watch(gp, 'graphiql');
    const token = await signIn(S.partnerAdmin, PASSWORD);
    await gp.goto(`${BASE}/`);
    await gp.locator('.graphiql-container').waitFor();
    await gp.locator('.graphiql-query-editor .CodeMirror').waitFor();
    const setEditor = (sel, text) => gp.evaluate(([s, v]) => document.querySelector(s).CodeMirror.setValue(v), [sel, text]);
    // GraphiQL takes in an edit after a debounce (it then stores the query): run only after it.
    const setQuery = async (text) => {
      await setEditor('.graphiql-query-editor .CodeMirror', text);
      await gp.waitForFunction((v) => localStorage.getItem('graphiql:query') === v, text);
    };
    // The headers editor (a CodeMirror like the query editor), opened from its tab.
    await gp.getByRole('button', { name: 'Headers' }).click();
    await gp.locator('.graphiql-editor-tool .CodeMirror').last().waitFor();
    await setEditor('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror', JSON.stringify({ Authorization: `Bearer ${token}` }));
    await setQuery('{ me { loginId role } }');
    await gp.locator('.graphiql-execute-button').click();
    const result = gp.locator('.graphiql-response');
    await until('the query result', async () => (await result.innerText()).includes(S.partnerAdmin));
    await setQuery(`subscription { contractEvents(contractId: "${S.child}") { kind contractId } }`);
    await gp.locator('.graphiql-execute-button').click();
    // The subscription is live once the server has it; cause events until one arrives.
    let n = 0;
    await until('a subscription event in GraphiQL', async () => {
      const txt = await result.innerText();
      if (txt.includes('TENANT_CREATED')) return true;
      await api(token, 'mutation($c:ID!,$i:TenantInput!){ createTenant(contractId:$c, input:$i){ id } }', { c: S.child, i: { name: `live-${n++}`, region: 'jp1' } });
      await new Promise((r) => setTimeout(r, 250));
      return false;
    }, 20_000);
    await shot(gp, 'graphiql');
    await gctx.close();
    current = page;
  });

  await check('no console errors and nothing loaded from off the platform', async () => {
    assert(consoleErrors.length === 0, consoleErrors.join('\n'));
  });
} catch {
  /* reported by check() */
} finally {
  await browser.close();
}

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
