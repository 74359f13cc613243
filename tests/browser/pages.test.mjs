// pages.test.mjs - Ozma's web pages in headless Chromium, against the
// demo's finished run (run.sh starts it: deploy/demo.sh --headless --then).
//
// Environment: OZ_URL (the server), OZ_TRUTH (the injected signals),
// OZ_ARTIFACTS (where screenshots go), OZ_CHROMIUM (the browser),
// OZ_NODE_MODULES (where playwright-core is installed).
//
// Checks: every page loads without console errors, page errors or failed
// requests; the leaderboards show alice and bob; account, host and team
// pages show their totals, charts and results; the signal browser plots
// every injected signal, its filters work and a click shows a signal's
// details; an account named <script>alert(1)</script> (and a team named
// <img src=x onerror=...>) render as text and run nothing; a page whose
// data is missing shows the error visibly; the home and status pages work
// for the public too, who are not shown the operator's data (a browser
// context whose requests carry X-Forwarded-For, as a proxy's would: the
// server takes them for a stranger's, not the loopback operator's).  A
// screenshot of every page is saved in OZ_ARTIFACTS.
//
// Pages that work everywhere (issue 20): with JavaScript off every page
// still has its navigation, headline numbers and first table page (the
// server wrote them); at 390 px nothing overflows the page sideways; dark
// mode really darkens; an unknown path is an HTML 404 with the navigation,
// an unknown account says so; the unit page lists replicas, hosts by name
// and signals; tables name teams and hosts; credit is explained and has a
// cumulative graph; charts have a text alternative; the signal type filter
// offers exactly the types the API accepts; an empty plot says so; and no
// public page or public JSON holds the project's directory (OZ_DIR: the
// database and recording paths).
import {createRequire} from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(path.join(process.env.OZ_NODE_MODULES, 'x.js'));
const {chromium} = require('playwright-core');

const URL = process.env.OZ_URL;
const ART = process.env.OZ_ARTIFACTS;
const truth = JSON.parse(fs.readFileSync(process.env.OZ_TRUTH, 'utf8')).signals;
const FS = 9765.625;
const XSS = '<script>alert(1)</script>';
const XSS_TEAM = '<img src=x onerror=alert(2)>';
let failures = 0;

function check(cond, what) {
  if (cond) console.log('ok: ' + what);
  else { console.error('FAIL: ' + what); failures++; }
  return cond;
}

async function api(p, opts) {
  const res = await fetch(URL + p, opts);
  const body = await res.json();
  if (!res.ok) throw new Error(p + ': ' + res.status + ' ' + JSON.stringify(body));
  return body;
}

function post(p, body, token) {
  const headers = {'Content-Type': 'application/json'};
  if (token) headers.Authorization = 'Bearer ' + token;
  return api(p, {method: 'POST', headers, body: JSON.stringify(body)});
}

// The hostile names, created before the pages are looked at.
const xss = await post('/api/v1/accounts', {name: XSS});
const xssTeam = await post('/api/v1/teams', {name: XSS_TEAM}, xss.authenticator);
const users = (await api('/api/v1/users?limit=500')).users;
const alice = users.find((u) => u.name === 'alice');
const bob = users.find((u) => u.name === 'bob');
const team = await api('/api/v1/teams/' + alice.team_id);
const host = (await api('/api/v1/hosts')).hosts.find((h) => h.user_name === 'bob');
const aliceHost = (await api('/api/v1/hosts')).hosts.find((h) => h.user_name === 'alice');
const latest = (await api('/api/v1/signals/latest?limit=1')).signals[0];
const unitName = latest.unit_id;
const candId = (await api('/api/v1/candidates?limit=1')).candidates[0].id;
const PROJECT_DIR = process.env.OZ_DIR;

fs.mkdirSync(ART, {recursive: true});
const browser = await chromium.launch({
  executablePath: process.env.OZ_CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  timeout: 60000,
});
const context = await browser.newContext({viewport: {width: 1280, height: 900}});
context.setDefaultTimeout(20000);

// Opens a page and returns it with the problems it reports; `expect(page)`
// waits for what the page must show.  expectErrors: console errors that
// are the point of the test (a 404 fetch).
async function visit(name, p, expect, expectErrors = false, ctx = context, status = 200) {
  const page = await ctx.newPage();
  const problems = [];
  const dialogs = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('requestfailed', (r) => problems.push('request failed: ' + r.url()));
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  let ok = true;
  try {
    const res = await page.goto(URL + p, {waitUntil: 'load'});
    ok = check(res.status() === status, name + ': ' + p + ' answers ' + status);
    await expect(page);
  } catch (e) {
    ok = check(false, name + ': ' + p + ': ' + e.message.split('\n')[0]);
  }
  await page.waitForTimeout(300); // late console errors (a chart's second draw)
  await page.screenshot({path: path.join(ART, name + '.png'), fullPage: true});
  check(dialogs.length === 0, name + ': no dialog opened' + (dialogs.length ? ': ' + dialogs : ''));
  if (!expectErrors)
    check(problems.length === 0, name + ': no console errors' + (problems.length ? ': ' + problems.join('; ') : ''));
  return {page, problems, ok};
}

const text = (page, sel) => page.locator(sel).innerText();

// ---- home ----
{
  const {page} = await visit('home', '/', async (pg) => {
    await pg.locator('#datasets td a', {hasText: 'demo'}).waitFor();
    await pg.locator('#signals tbody tr td', {hasText: /spike|gaussian|pulse|triplet|line/}).first().waitFor();
  });
  const cards = await text(page, '#cards');
  check(/3\s*\/\s*3\s*units validated/.test(cards), 'home: 3 / 3 units validated');
  check((await text(page, '#title')) === 'Ozma demo', 'home: the project name');
  const bars = await page.locator('#datasets .bar span.validated').count();
  check(bars === 1, 'home: the dataset progress bar is all validated');
  const results = await page.evaluate(() => {
    const c = window.Chart && window.Chart.getChart(document.getElementById('throughput'));
    return c ? c.data.datasets[0].data.reduce((a, b) => a + b, 0) : -1;
  });
  check(results === 6, 'home: the throughput chart counts the 6 results (' + results + ')');
  await page.close();
}

// ---- leaderboards ----
for (const order of ['total', 'rac']) {
  const {page} = await visit('users-' + order, '/users?order=' + order, async (pg) => {
    await pg.locator('#board td a', {hasText: 'alice'}).waitFor();
  });
  const names = await page.locator('#board tbody td:nth-child(2)').allInnerTexts();
  check(names.includes('alice') && names.includes('bob'), 'users?order=' + order + ': alice and bob listed');
  const teamCells = await page.locator('#board tbody td:nth-child(3)').allInnerTexts();
  check(teamCells.includes('Demo team') && !teamCells.some((c) => /^team \d+$/.test(c)),
        'users?order=' + order + ': teams by name');
  check(names.includes(XSS), 'users?order=' + order + ': the ' + XSS + ' account is listed as text');
  check(await page.locator('#tabs a[aria-current="page"]').innerText() ===
        (order === 'total' ? 'Total credit' : 'Recent average credit'), 'users: the order tab');
  await page.close();
}
{
  const {page} = await visit('hosts', '/hosts', async (pg) => {
    await pg.locator('#board td a', {hasText: 'bob'}).waitFor();
  });
  const owners = await page.locator('#board tbody td:nth-child(3)').allInnerTexts();
  check(owners.includes('alice') && owners.includes('bob'), 'hosts: a host of alice and one of bob');
  await page.close();
}
{
  const {page} = await visit('teams', '/teams', async (pg) => {
    await pg.locator('#board td a', {hasText: 'Demo team'}).waitFor();
  });
  const names = await page.locator('#board tbody td:nth-child(2)').allInnerTexts();
  check(names.includes(XSS_TEAM), 'teams: the ' + XSS_TEAM + ' team is listed as text');
  check(await page.locator('#board img').count() === 0, 'teams: no <img> element was made from a name');
  await page.close();
}

// ---- account, host, team ----
{
  const {page} = await visit('user-alice', '/users/' + alice.id, async (pg) => {
    await pg.locator('#results td', {hasText: 'Valid'}).first().waitFor();
  });
  check((await text(page, '#title')) === 'Account: alice', 'user page: the name');
  const hostCells = await page.locator('#results tbody td:nth-child(4)').allInnerTexts();
  check(hostCells.length === 3 && hostCells.every((c) => c === aliceHost.name),
        'user page: results name their host (' + hostCells.join(', ') + ')');
  check(/credit is .*recent average/is.test(await text(page, '.credit-note')), 'user page: credit is explained');
  const cum = await page.evaluate(() => {
    const c = window.Chart.getChart(document.getElementById('credit-cumulative'));
    return c ? c.data.datasets[0].data.at(-1) : -1;
  });
  check(Math.abs(cum - alice.total_credit) <= 1e-9 * alice.total_credit,
        'user page: the cumulative credit graph ends at the total (' + cum + ')');
  check(/values of credit per day/.test(await text(page, '#credit-text')) &&
        /values of cumulative credit/.test(await text(page, '#credit-cumulative-text')),
        'user page: both credit charts have a text alternative');

  check((await page.locator('#results tbody tr').count()) === 3, 'user page: 3 recent results, valid');
  check(await page.locator('#about a', {hasText: 'Demo team'}).count() === 1, 'user page: the team');
  check(await page.locator('#list a').count() === 1, 'user page: one host');
  const credit = await page.evaluate(() => {
    const c = window.Chart.getChart(document.getElementById('credit'));
    return c.data.datasets[0].data.reduce((a, b) => a + b, 0);
  });
  check(Math.abs(credit - alice.total_credit) <= 1e-9 * alice.total_credit,
        'user page: the credit chart adds up to the total');
  await page.locator('#results tbody td a[href^="/unit/"]').first().click();
  await page.waitForURL(/\/unit\//);
  check((await text(page, '#title')).startsWith('Unit '), 'user page: a unit id links to its page');
  await page.close();
}
{
  const {page} = await visit('user-xss', '/users/' + xss.account_id, async (pg) => {
    await pg.locator('#title', {hasText: 'Account:'}).waitFor();
  });
  check((await page.locator('#title').textContent()) === 'Account: ' + XSS,
        'the ' + XSS + ' account page shows its name as text');
  const scripts = await page.evaluate(() => [...document.scripts].map((s) => s.src || 'inline:' + s.text));
  check(scripts.length === 3 && scripts.every((s) => s.startsWith(URL + '/static/')),
        'no script element was made from the name (' + scripts.join(', ') + ')');
  check(await page.evaluate(() => document.title) === 'Account ' + XSS + ' - Ozma', 'the tab title is the text');
  await page.close();
}
{
  const {page} = await visit('host', '/hosts/' + host.id, async (pg) => {
    await pg.locator('#about a', {hasText: 'bob'}).waitFor();
    await pg.locator('#results td', {hasText: 'Valid'}).first().waitFor();
  });
  check((await text(page, '#about')).includes('GFLOPS'), 'host page: its speed and owner');
  await page.close();
}
{
  const {page} = await visit('team', '/teams/' + team.id, async (pg) => {
    await pg.locator('#list td a', {hasText: 'bob'}).waitFor();
  });
  const members = await page.locator('#list tbody td:nth-child(1)').allInnerTexts();
  check(members.includes('alice') && members.includes('bob'), 'team page: alice and bob are members');
  await page.close();
}
{
  const {page} = await visit('team-xss', '/teams/' + xssTeam.team_id, async (pg) => {
    await pg.locator('#title', {hasText: 'Team:'}).waitFor();
  });
  check((await page.locator('#title').textContent()) === 'Team: ' + XSS_TEAM, 'the hostile team name is text');
  await page.close();
}
{
  const {page, problems} = await visit('user-missing', '/users/999999', async (pg) => {
    await pg.locator('#message').waitFor();
  }, true, context, 404);
  check((await text(page, '#title')) === 'No such account' &&
        (await text(page, '#message')) === 'There is no account 999999.',
        'a missing account: the page says there is no such account (no "Loading...")');
  check(problems.every((p) => p.includes('404')), 'a missing account: only the 404 is reported');
  await page.close();
}
{
  const {page} = await visit('not-found', '/no/such/page', async (pg) => {
    await pg.locator('#nav a', {hasText: 'Signals'}).waitFor();
  }, true, context, 404);
  check((await text(page, '#title')) === 'Page not found', 'an unknown path: an HTML 404 page');
  check(await page.locator('#nav a').count() === 8, 'an unknown path: the navigation is there');
  await page.close();
}

// ---- the signal browser ----
{
  const {page} = await visit('signals', '/signals?dataset=demo', async (pg) => {
    await pg.waitForFunction(() => document.body.dataset.signals !== undefined);
    await pg.locator('#table tbody tr.clickable').first().waitFor();
  });
  const pts = await page.evaluate(() => {
    const c = window.Chart.getChart(document.getElementById('plot'));
    const area = c.chartArea;
    const out = [];
    c.data.datasets.forEach((d, i) => {
      const meta = c.getDatasetMeta(i);
      d.data.forEach((p, j) => {
        const e = meta.data[j];
        out.push({type: p.s.type, f: p.s.freq_hz, t: p.s.time_s, fft: p.s.fft_len, id: p.s.id,
                  x: e.x, y: e.y, inside: e.x >= area.left - 1 && e.x <= area.right + 1 &&
                  e.y >= area.top - 1 && e.y <= area.bottom + 1});
      });
    });
    return out;
  });
  const shown = Number(await page.evaluate(() => document.body.dataset.signals));
  check(pts.length === shown && shown > 0, 'signals: the plot has every signal listed (' + shown + ')');
  check(pts.every((p) => p.inside), 'signals: every point is drawn inside the plot area');
  const missing = truth.filter((t) => !pts.some((p) => p.type === t.type &&
      Math.abs(p.f - (t.freq_hz + t.chirp_hz_s * (p.t - t.time_s))) <= Math.max(1, FS / p.fft)));
  check(missing.length === 0, 'signals: every injected signal is plotted' +
        (missing.length ? ' (missing ' + missing.map((t) => t.type).join(', ') + ')' : ''));
  // click a point of the plot: its details appear
  const spike = pts.find((p) => p.type === 'spike');
  const box = await page.locator('#plot').boundingBox();
  await page.mouse.click(box.x + spike.x, box.y + spike.y);
  await page.locator('#detail h2').waitFor();
  const detail = await text(page, '#detail');
  check(detail.includes('spike'), 'signals: clicking a point shows its details');
  // a table row too
  await page.locator('#table tbody tr.clickable').nth(1).click();
  check((await page.locator('#table tr.selected').count()) === 1, 'signals: clicking a row selects it');
  // filters: type and frequency range
  await page.selectOption('#f-type', 'spike');
  await page.click('#filters button');
  await page.waitForFunction(() => {
    const c = window.Chart.getChart(document.getElementById('plot'));
    return c && c.data.datasets.length === 1 && c.data.datasets[0].label === 'spike';
  });
  check(page.url().includes('type=spike'), 'signals: the filter is kept in the URL');
  await page.fill('#f-fmin', '1421');
  await page.click('#filters button');
  await page.waitForFunction(() => document.body.dataset.signals === '0');
  check((await text(page, '#table')).includes('No signal matches'), 'signals: a frequency range with nothing in it');
  check(/no signals/i.test(await text(page, '#plot-empty')), 'signals: the empty plot says there are no signals');
  await page.screenshot({path: path.join(ART, 'signals-filtered.png'), fullPage: true});
  await page.close();
}

// ---- candidates: the sky map, the ranked table, one candidate ----
{
  const {page} = await visit('candidates', '/candidates', async (pg) => {
    await pg.waitForFunction(() => document.body.dataset.candidates !== undefined);
    await pg.locator('#table tbody tr').first().waitFor();
  });
  const n = Number(await page.evaluate(() => document.body.dataset.candidates));
  const pts = await page.evaluate(() => {
    const c = window.Chart.getChart(document.getElementById('sky'));
    const area = c.chartArea;
    const out = [];
    c.data.datasets.forEach((d, i) => {
      const meta = c.getDatasetMeta(i);
      d.data.forEach((p, j) => {
        const e = meta.data[j];
        out.push({id: p.c.id, r: e.options.radius, score: p.c.score, x: e.x, y: e.y,
                  inside: e.x >= area.left - 1 && e.x <= area.right + 1 && e.y >= area.top - 1 && e.y <= area.bottom + 1});
      });
    });
    return out;
  });
  check(n >= 4 && pts.length === n && pts.every((p) => p.inside),
        'candidates: every candidate is a point inside the sky map (' + n + ')');
  const byScore = [...pts].sort((a, b) => b.score - a.score);
  check(byScore[0].r > byScore[byScore.length - 1].r, 'candidates: points are sized by score');
  check((await page.locator('#table tbody tr').count()) === n, 'candidates: the ranked table lists them');
  await page.locator('#table tbody tr a').first().click();
  await page.waitForURL(/\/candidates\/\d+$/);
  await page.waitForFunction(() => document.body.dataset.detections !== undefined);
  const det = Number(await page.evaluate(() => document.body.dataset.detections));
  const plotted = await page.evaluate(() => window.Chart.getChart(document.getElementById('plot'))
    .data.datasets.reduce((k, d) => k + d.data.length, 0));
  check(det > 0 && plotted === det, 'candidate: its ' + det + ' detections are on the frequency-time plot');
  check((await text(page, '#observations')).includes('demo'), 'candidate: its observation is listed');
  await page.screenshot({path: path.join(ART, 'candidate.png'), fullPage: true});
  await page.close();
}

// ---- server status ----
{
  const {page} = await visit('status', '/status', async (pg) => {
    await pg.locator('#cards .ok', {hasText: 'serving'}).waitFor();
    await pg.locator('#jobs td', {hasText: 'validator'}).waitFor();
  });
  check((await text(page, '#queues')).includes('ozma.db'), 'status: the database and its size');
  check((await page.locator('#jobs .ok').count()) === 3, 'status: every job idle');
  check(await page.locator('#operator-only').isHidden(), 'status: no operators-only note for the operator');
  await page.close();
}

// ---- the public: home and status without the operator's data ----
{
  const pub = await browser.newContext({viewport: {width: 1280, height: 900},
                                        extraHTTPHeaders: {'X-Forwarded-For': '203.0.113.7'}});
  pub.setDefaultTimeout(20000);
  const home = await visit('public-home', '/', async (pg) => {
    await pg.locator('#datasets td a', {hasText: 'demo'}).waitFor();
  }, false, pub);
  check((await text(home.page, '#title')) === 'Ozma demo', 'public home: the project name');
  await home.page.close();
  const {page, problems} = await visit('public-status', '/status', async (pg) => {
    await pg.locator('#operator-only').waitFor();
    await pg.locator('#jobs td', {hasText: 'validator'}).waitFor();
  }, true, pub);
  check(problems.every((m) => m.includes('403')) && problems.length <= 1,
        'public status: nothing wrong but the one 403 of /api/v1/server' +
        (problems.length ? ': ' + problems.join('; ') : ''));
  check((await page.locator('#jobs .ok').count()) === 3, 'public status: every job idle');
  const shown = await text(page, 'main');
  check(!shown.includes('ozma.db') && (await page.locator('#operator-sections').isHidden()),
        'public status: no database path, no error lists');
  check(await page.locator('#error').isHidden(), 'public status: no error banner');
  await page.close();
  await pub.close();
}

// ---- without JavaScript, on a phone (390 px): the server's first screen ----
{
  const nojs = await browser.newContext({viewport: {width: 390, height: 844}, javaScriptEnabled: false,
                                         extraHTTPHeaders: {'X-Forwarded-For': '203.0.113.8'}});
  const pages = [
    ['/', async (pg) => /3\s*\/\s*3/.test(await text(pg, '#cards')) &&
                       (await text(pg, '#title')) === 'Ozma demo' &&
                       await pg.locator('#datasets td a', {hasText: 'demo'}).count() === 1 &&
                       await pg.locator('#signals tbody tr').count() === 10],
    ['/users', async (pg) => {
      const n = await pg.locator('#board tbody td:nth-child(2)').allInnerTexts();
      return n.includes('alice') && n.includes(XSS) &&
             (await pg.locator('#board tbody td:nth-child(3)').allInnerTexts()).includes('Demo team');
    }],
    ['/hosts?order=rac', async (pg) => (await pg.locator('#board tbody td:nth-child(3)').allInnerTexts()).includes('bob') &&
                       await pg.locator('#tabs a[aria-current="page"]').innerText() === 'Recent average credit'],
    ['/teams', async (pg) => (await pg.locator('#board tbody td:nth-child(2)').allInnerTexts()).includes(XSS_TEAM) &&
                           await pg.locator('#board img').count() === 0],
    ['/users/' + alice.id, async (pg) => (await text(pg, '#title')) === 'Account: alice' &&
                           await pg.locator('#results tbody tr').count() === 3 &&
                           (await text(pg, '#about')).includes('Demo team') &&
                           /In the last 30 days/.test(await text(pg, '#credit-text'))],
    ['/users/' + xss.account_id, async (pg) => (await pg.locator('#title').textContent()) === 'Account: ' + XSS &&
                                  await pg.title() === 'Account: ' + XSS + ' - Ozma'],
    ['/hosts/' + host.id, async (pg) => (await text(pg, '#about')).includes('GFLOPS') &&
                          (await text(pg, '#about')).includes('bob')],
    ['/teams/' + team.id, async (pg) => (await pg.locator('#list tbody td:nth-child(1)').allInnerTexts()).includes('alice')],
    ['/signals?dataset=demo', async (pg) => await pg.locator('#table tbody tr').count() ===
                          (await api('/api/v1/signals?dataset=demo&limit=100')).signals.length],
    ['/signals?dataset=no-such-set', async (pg) =>
      (await text(pg, '#plot-empty')) === 'No signals match these filters yet.'],
    ['/candidates', async (pg) => await pg.locator('#table tbody tr').count() > 0],
    ['/candidates/' + candId, async (pg) => await pg.locator('#table tbody tr').count() > 0],
    ['/status', async (pg) => await pg.locator('#operator-only').isVisible() &&
                            (await text(pg, '#jobs')).includes('validator')],
    ['/unit/' + unitName, async (pg) => {
      const hosts = await pg.locator('#replicas tbody td:nth-child(2)').allInnerTexts();
      const states = await pg.locator('#replicas tbody td:nth-child(5)').allInnerTexts();
      return hosts.length >= 2 && hosts.every((h) => h && !/^host \d+$/.test(h)) &&
             states.every((s) => s === 'Valid') && await pg.locator('#signals tbody tr').count() > 0;
    }],
  ];
  for (const [p, want] of pages) {
    const page = await nojs.newPage();
    const res = await page.goto(URL + p);
    const name = 'nojs ' + p;
    check(res.status() === 200, name + ': 200');
    check(await page.locator('#nav a').count() === 8, name + ': the navigation');
    check(await want(page), name + ': the numbers and first table page are in the HTML');
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    check(w <= 390, name + ': no sideways overflow at 390 px (' + w + ')');
    await page.screenshot({path: path.join(ART, 'nojs' + p.replace(/[^a-z0-9]+/gi, '-') + '.png'), fullPage: true});
    await page.close();
  }
  // the type filter offers exactly the signal types the API accepts
  const page = await nojs.newPage();
  await page.goto(URL + '/signals');
  const offered = (await page.locator('#f-type option').evaluateAll((os) => os.map((o) => o.value))).filter((v) => v);
  const accepted = [];
  for (const t of offered.concat(['bogus', 'Spike']))
    if ((await fetch(URL + '/api/v1/signals?limit=1&type=' + t)).ok) accepted.push(t);
  const seen = new Set((await api('/api/v1/signals?limit=500')).signals.map((s) => s.type));
  check(offered.length === 6 && accepted.join() === offered.join() && [...seen].every((t) => offered.includes(t)),
        'signals: the type filter offers exactly the types the API accepts (' + offered.join(', ') + ')');
  await page.close();
  await nojs.close();
}

// ---- with JavaScript on a phone, and in dark mode ----
{
  const phone = await browser.newContext({viewport: {width: 390, height: 844}, colorScheme: 'dark'});
  phone.setDefaultTimeout(20000);
  for (const [p, sel] of [['/', '#signals tbody tr'], ['/signals?dataset=demo', '#table tbody tr.clickable'],
                          ['/users/' + alice.id, '#results tbody tr'], ['/candidates', '#table tbody tr'],
                          ['/status', '#jobs .ok']]) {
    const page = await phone.newPage();
    await page.goto(URL + p);
    await page.locator(sel).first().waitFor();
    await page.waitForTimeout(200);
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    check(w <= 390, 'phone ' + p + ': no sideways overflow at 390 px (' + w + ')');
    await page.screenshot({path: path.join(ART, 'phone-dark' + p.replace(/[^a-z0-9]+/gi, '-') + '.png'), fullPage: true});
    await page.close();
  }
  const bg = async (ctx) => {
    const page = await ctx.newPage();
    await page.goto(URL + '/');
    const c = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.close();
    return c;
  };
  const light = await bg(context), dark = await bg(phone);
  const lum = (c) => c.match(/\d+/g).slice(0, 3).reduce((a, b) => a + Number(b), 0);
  check(lum(dark) < 150 && lum(light) > 600, 'dark mode: the background darkens (' + light + ' -> ' + dark + ')');
  await phone.close();
}

// ---- no public page or JSON shows where the project lives on the server ----
{
  const pub = {headers: {'X-Forwarded-For': '203.0.113.9'}};
  const paths = ['/', '/users', '/hosts', '/teams', '/users/' + alice.id, '/hosts/' + host.id, '/teams/' + team.id,
    '/signals', '/candidates', '/candidates/' + candId, '/status', '/unit/' + unitName, '/no/such/page',
    '/api/v1/status', '/api/v1/datasets', '/api/v1/signals?limit=500', '/api/v1/signals/latest',
    '/api/v1/candidates', '/api/v1/candidates/' + candId, '/api/v1/users', '/api/v1/hosts', '/api/v1/teams',
    '/api/v1/users/' + alice.id, '/api/v1/hosts/' + host.id, '/api/v1/teams/' + team.id,
    '/api/v1/units/' + unitName, '/api/v1/throughput', '/api/v1/users/' + alice.id + '/results',
    '/metrics', '/api/v1/server'];
  const leaks = [];
  for (const p of paths) {
    const body = await (await fetch(URL + p, pub)).text();
    if (body.includes(PROJECT_DIR)) leaks.push(p);
  }
  check(PROJECT_DIR && PROJECT_DIR.length > 4 && leaks.length === 0,
        'public pages and JSON hold no server path (' + (leaks.join(', ') || paths.length + ' answers read') + ')');
  check((await (await fetch(URL + '/api/v1/server', pub)).status) === 403, 'the server details are 403 to the public');
  const op = await api('/api/v1/datasets');
  check(op.datasets[0].recording && op.datasets[0].recording.includes(PROJECT_DIR),
        'the operator (loopback) still sees the recording path');
  const unit = await api('/api/v1/units/' + unitName);
  check(unit.unit_id === unitName && unit.replicas.length >= 2 && unit.replicas.every((x) => x.host_name) &&
        unit.signals.length > 0 && unit.signals.every((x) => x.unit_id === unitName),
        'GET /api/v1/units/NAME: the unit, its replicas with host names, its signals');
}

await browser.close();
console.log('screenshots in ' + ART);
if (failures) {
  console.error(failures + ' failure(s)');
  process.exit(1);
}
console.log('all browser checks passed');
