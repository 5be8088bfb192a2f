// The subscription loop in a real browser (Debian's chromium, headless, JavaScript off, a phone's viewport):
// subscribe, open the confirmation link from the delivered mail, change preferences, unsubscribe.
// Usage: node subscription.mjs <service base URL> <outbox folder> <email>
// Started by SubscriptionBrowserTests, which then checks the database. Exits non-zero with the reason on failure.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [rawBase, outbox, email] = process.argv.slice(2);
const base = (rawBase ?? '').replace(/\/+$/, '');
if (!rawBase || !outbox || !email) {
  console.error('usage: node subscription.mjs <base URL> <outbox folder> <email>');
  process.exit(2);
}

const fail = (message) => { throw new Error(message); };

async function expectHeading(page, text) {
  const heading = (await page.textContent('h1'))?.trim();
  if (heading !== text) fail(`expected the heading "${text}" at ${page.url()}, found "${heading}"`);
}

// The text part of the .eml the outbox wrote, decoded (quoted-printable or base64, RFC 2045 §6.7-6.8).
function textPart(eml) {
  const parts = eml.split(/\r?\n--[^\r\n]+\r?\n/);
  const part = parts.find((p) => /^Content-Type: text\/plain/im.test(p)) ?? fail('the mail has no text/plain part');
  const [head, ...rest] = part.split(/\r?\n\r?\n/);
  const body = rest.join('\n\n');
  if (/Content-Transfer-Encoding: quoted-printable/i.test(head)) {
    return body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
  }
  if (/Content-Transfer-Encoding: base64/i.test(head)) return Buffer.from(body, 'base64').toString('utf8');
  return body;
}

async function waitForConfirmationLink() {
  for (let attempt = 0; attempt < 300; attempt++) {
    let files = [];
    try { files = readdirSync(outbox).filter((f) => f.startsWith('confirm_') && f.endsWith('.eml')); } catch { /* not yet created */ }
    for (const file of files) {
      const eml = readFileSync(join(outbox, file), 'latin1');
      if (!new RegExp(`^To: .*${email.replace(/[.@]/g, '\\$&')}`, 'mi').test(eml)) continue;
      const link = textPart(eml).match(/https?:\/\/\S+\/confirm\?t=[A-Za-z0-9._-]+/) ?? fail('no confirmation link in the mail');
      // The mail links to the public base URL; the service under test listens on its own port.
      const url = new URL(link[0]);
      return base + url.pathname + url.search;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return fail(`no confirmation mail to ${email} in ${outbox} within 30 s`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  // Chromium's sandbox refuses to run as root, which CI is.
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
try {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, javaScriptEnabled: false, isMobile: true });
  const page = await context.newPage();
  const steps = [];

  await page.goto(`${base}/subscribe`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  if (overflow > 0) fail(`the subscribe page is ${overflow}px wider than a 360px phone screen`);
  await page.fill('#email', email);
  await page.check('input[name=topics][value=nuclear]');
  await page.check('input[name=cadence][value=weekly]');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  await expectHeading(page, 'Check your inbox');
  steps.push('subscribed');

  await page.goto(await waitForConfirmationLink());
  await expectHeading(page, 'Confirm your subscription');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  await expectHeading(page, 'You are subscribed');
  steps.push('confirmed');

  await Promise.all([page.waitForNavigation(), page.click('text=Change topics or cadence')]);
  await expectHeading(page, 'Your subscription');
  if (!(await page.isChecked('input[name=topics][value=nuclear]'))) fail('the preferences page does not show the chosen topic');
  await page.uncheck('input[name=topics][value=nuclear]');
  await page.check('input[name=topics][value=sanctions]');
  await page.check('input[name=cadence][value=daily]');
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Save")')]);
  if (!(await page.isVisible('text=Saved.'))) fail('no "Saved." notice after saving the preferences');
  if (!(await page.isChecked('input[name=cadence][value=daily]'))) fail('the saved page does not show the new cadence');
  steps.push('preferences saved');

  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Unsubscribe")')]);
  await expectHeading(page, 'You are unsubscribed');
  steps.push('unsubscribed');

  console.log(JSON.stringify({ ok: true, steps }));
} finally {
  await browser.close();
}
