import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { testDialects } from '../helpers/databases.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';

// The web dashboard in a real headless Chromium (Debian's `chromium`, driven by playwright-core), against a
// real server on SQLite: sign in, the seeded locks, an hourly code made through the form (with its live
// preview), the calendar, time travel, the virtual keypad, the events feed, and a full slot refused with the
// server's own reason. The server's clock and the browser's are pinned to the same instant, so every date on
// the page is deterministic. Screenshots go to test/web/artifacts/ (gitignored); the device page also to
// docs/screenshots/device-page.png, which the README shows (LATCHKEY_UPDATE_SCREENSHOTS=1 refreshes it).

const CHROMIUM = '/usr/bin/chromium';
const ROOT = new URL('../../', import.meta.url).pathname;
const ARTIFACTS = join(ROOT, 'test/web/artifacts');
const README_SCREENSHOT = join(ROOT, 'docs/screenshots/device-page.png');

/** Monday 7 January 2030, 08:20 UTC: the workspace clock when the test starts. */
const T0 = Date.UTC(2030, 0, 7, 8, 20);
const iso = (ms: number) => new Date(ms).toISOString();
const text = async (locator: Locator) => (await locator.textContent()) ?? '';
const at = (hh: number, mm = 0) => Date.UTC(2030, 0, 7, hh, mm);

const skip = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM}: install Debian's package (apt-get install chromium) to run the browser test`;

const sqlite = testDialects().find((d) => d.name === 'sqlite');
assert.ok(sqlite);

describe('web dashboard in headless Chromium (sqlite)', { skip, timeout: 90_000 }, () => {
  let server: TestServer;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const problems: string[] = [];

  before(async () => {
    server = await startTestServer(sqlite);
    server.clock.now = T0;
    profile = mkdtempSync(join(tmpdir(), 'latchkey-chromium-'));
    mkdirSync(ARTIFACTS, { recursive: true });
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 860 },
      deviceScaleFactor: 1,
      timezoneId: 'UTC',
      locale: 'en-GB',
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(10_000);
    // The page clock is the server's: both at T0 (advance_clock then moves the workspace ahead of it).
    await page.clock.setFixedTime(T0);
    // Any script error, failed asset or CSP violation fails the test. The API's refusals the test asks for
    // (a wrong key, a full slot) are logged by Chromium as failed loads: those are expected.
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      const line = message.text();
      if (message.type() !== 'error' || /responded with a status of (401|409)\b/.test(line)) return;
      problems.push(`console: ${line}`);
    });
  });

  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await server?.close();
  });

  const shot = async (name: string) => {
    const path = join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
  };

  it('serves the page with a strict CSP', async () => {
    const response = await fetch(`${server.url}/`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(response.headers.get('content-security-policy') ?? '', /^default-src 'self'/);
    const js = await fetch(`${server.url}/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    const css = await fetch(`${server.url}/styles.css`);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
  });

  it('signs in with the API key and lists the seeded locks', async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await shot('sign-in');
    await page.getByLabel('API key').fill('seam_wrong_key_00000000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'unauthorized' }).waitFor();
    await shot('sign-in-refused');
    await page.getByLabel('API key').fill(server.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();

    const devices = page.getByRole('table', { name: 'Devices' });
    await devices.getByRole('link', { name: 'Front Door' }).waitFor();
    await devices.getByRole('link', { name: 'Back Door' }).waitFor();
    await devices.getByText('0 of 199').first().waitFor();
    assert.equal(await devices.getByText('0 of 199').count(), 2);
    await devices.getByText('keypad only (no bridge)').waitFor();
    await devices.getByText('bridge online').waitFor();
    await page.getByTestId('workspace-name').getByText('sandbox').waitFor();
    // The key is kept for this tab only.
    const storage = await page.evaluate(() => ({
      session: sessionStorage.getItem('latchkey.api_key'),
      local: localStorage.length,
    }));
    assert.deepEqual(storage, { session: server.apiKey, local: 0 });
    await shot('devices');
  });

  let pin = '';
  let codeId = '';

  it('creates an hourly code through the form, with the preview before submitting', async () => {
    await page.getByRole('link', { name: 'Front Door' }).click();
    await page.getByRole('heading', { name: 'Front Door', level: 1 }).waitFor();
    await page.getByText('No access codes on this lock yet.').waitFor();

    await page.getByLabel('Name').fill('Guest');
    await page.getByLabel('starts_at (UTC)').fill('2030-01-07T10:15');
    await page.getByLabel('ends_at (UTC)').fill('2030-01-07T13:40');
    const preview = page.getByTestId('preview');
    await preview.locator('[data-preview="kind"]').filter({ hasText: 'hourly-bound' }).waitFor();
    assert.match(await text(preview.locator('[data-preview="kind"]')), /hourly-bound · 10-digit PIN/);
    assert.match(
      await text(preview.locator('[data-preview="window"]')),
      /2030-01-07T10:00:00\.000Z → 2030-01-07T14:00:00\.000Z/,
    );
    assert.match(await text(preview.locator('[data-preview="window"]')), /\(4 h\)/);
    assert.match(await text(preview.locator('[data-preview="rounding"]')), /^20 min — within the default/);
    assert.match(await text(preview.locator('[data-preview="slot"]')), /0 of 3 used, 3 free/);
    await preview.getByText('The server will accept this.').waitFor();
    // The draft's slot is outlined on the calendar.
    await page.locator('.cal-cell.preview[data-hour="2030-01-07T10:00:00.000Z"]').waitFor();

    await page.getByRole('button', { name: 'Create offline code' }).click();
    const created = page.locator('[data-created-pin]');
    await created.waitFor();
    pin = (await text(created)).trim();
    assert.match(pin, /^\d{10}$/);

    // In the codes list: kind, status, the rounded window and the PIN with its copy button.
    const row = page
      .getByRole('table', { name: 'Access codes' })
      .getByRole('row')
      .filter({ hasText: 'Guest' });
    await row.getByText(pin).waitFor();
    codeId = (await row.getAttribute('data-access-code-id')) ?? '';
    assert.ok(codeId);
    const rowText = await text(row);
    assert.match(rowText, /hourly-bound/);
    assert.match(rowText, /unset/);
    assert.match(rowText, /Mon 7 Jan 2030, 10:00 → 14:00 UTC \(4 h\)/);
    await row.getByRole('button', { name: 'Copy the PIN of Guest' }).waitFor();
    await page.getByTestId('codes-used').getByText('1 of 199 codes used').waitFor();

    // And on the calendar: its slot (1 of 3 hourly-bound at 10:00) and its window, 10:00 to 14:00.
    const cell = page.locator('.cal-cell[data-hour="2030-01-07T10:00:00.000Z"]');
    assert.match(await text(cell), /H 1\/3/);
    const bar = page.locator(`[data-code-window="${codeId}"]`);
    assert.equal(await bar.count(), 1);
    const barBox = await bar.boundingBox();
    const startBox = await cell.boundingBox();
    const endBox = await page.locator('.cal-cell[data-hour="2030-01-07T13:00:00.000Z"]').boundingBox();
    assert.ok(barBox && startBox && endBox);
    assert.ok(Math.abs(barBox.y - startBox.y) <= 2, 'the window starts at 10:00');
    assert.ok(Math.abs(barBox.y + barBox.height - (endBox.y + endBox.height)) <= 3, 'and ends at 14:00');
  });

  it('advances the clock and opens the lock with the PIN on the virtual keypad', async () => {
    const clock = page.getByTestId('workspace-clock');
    assert.match(await text(clock), /Mon 7 Jan 2030, 08:20 UTC/);
    await page.getByRole('button', { name: '+1 hour' }).click();
    await clock.getByText('09:20').waitFor();
    await page.getByRole('button', { name: '+1 hour' }).click();
    await clock.getByText('10:20').waitFor();
    // The code's start has passed: set on the lock.
    const row = page
      .getByRole('table', { name: 'Access codes' })
      .getByRole('row')
      .filter({ hasText: 'Guest' });
    await row.getByText('set', { exact: true }).waitFor();

    const keypad = page.getByRole('group', { name: 'Keypad' });
    for (const digit of pin) await keypad.getByRole('button', { name: digit, exact: true }).click();
    assert.equal(await page.getByLabel('PIN', { exact: true }).inputValue(), pin);
    await keypad.getByRole('button', { name: 'Enter' }).click();
    await page.getByTestId('keypad-result').getByText('accepted').waitFor();
    await page.locator('[data-event-type="lock.unlocked"]').waitFor();
    await shot('device-keypad');

    // A wrong PIN is refused with the lock's reason.
    await page.getByLabel('PIN', { exact: true }).fill('9999999999');
    await keypad.getByRole('button', { name: 'Enter' }).click();
    await page.getByTestId('keypad-result').getByText('refused').waitFor();
    assert.match(await text(page.getByTestId('keypad-result')), /unknown_code/);

    // The events feed shows the unlock (and the refusal), with the code's name.
    const unlocked = page.locator('[data-event-type="lock.unlocked"]');
    await unlocked.waitFor();
    assert.match(await text(unlocked), /unlocked by keycode · Guest/);
    await page.locator('[data-event-type="lock.access_denied"]').waitFor();
    await page.locator('[data-event-type="access_code.set_on_device"]').waitFor();
  });

  it('shows a full slot on the calendar, and the form refuses a 4th code there with the server’s reason', async () => {
    const deviceId = server.sandbox.devices.find((d) => d.name === 'Front Door')?.device_id;
    for (const name of ['Cleaner 1', 'Cleaner 2', 'Cleaner 3']) {
      const r = await call(server, '/access_codes/create', {
        body: {
          device_id: deviceId,
          name,
          starts_at: iso(at(15)),
          ends_at: iso(at(16)),
          is_offline_access_code: true,
        },
      });
      assert.equal(r.status, 200, r.text);
    }
    // The events feed notices the new codes and the page reloads them: the 15:00 slot is full.
    const full = page.locator('.cal-cell[data-hour="2030-01-07T15:00:00.000Z"]');
    await page.locator('.cal-cell[data-hour="2030-01-07T15:00:00.000Z"][data-full="hourly"]').waitFor();
    assert.match(await text(full), /H 3\/3/);
    assert.match((await full.getAttribute('aria-label')) ?? '', /hourly-bound 3 of 3 \(full\)/);
    await page.getByTestId('codes-used').getByText('4 of 199 codes used').waitFor();

    await page.getByLabel('Name').fill('Fourth');
    await page.getByLabel('starts_at (UTC)').fill('2030-01-07T15:00');
    await page.getByLabel('ends_at (UTC)').fill('2030-01-07T16:00');
    const preview = page.getByTestId('preview');
    await preview.locator('[data-preview="slot"]').getByText('full').waitFor();
    const predicted = preview.getByRole('alert');
    await predicted.getByText('offline_code_slot_full').waitFor();
    const predictedMessage = await text(predicted.locator('.error-message'));
    assert.match(
      predictedMessage,
      /already has 3 hourly-bound offline codes starting at 2030-01-07T15:00:00.000Z/,
    );

    await page.getByRole('button', { name: 'Create offline code' }).click();
    const outcome = page.getByTestId('create-outcome').getByRole('alert');
    await outcome.getByText('409 offline_code_slot_full').waitFor();
    // The preview said exactly what the server answered (and now says so instead of repeating it).
    assert.equal(await text(outcome.locator('.error-message')), predictedMessage);
    await preview.getByText('the server answered exactly that').waitFor();
    await page.getByTestId('codes-used').getByText('4 of 199 codes used').waitFor();

    const path = await shot('device-page');
    assert.ok(statSync(path).size < 400_000, 'the README screenshot stays small');
    // The PINs differ on every run (each test server has its own master key), so the committed copy is
    // refreshed only when asked (or when it is missing): a plain test run leaves the working tree clean.
    if (process.env.LATCHKEY_UPDATE_SCREENSHOTS === '1' || !existsSync(README_SCREENSHOT)) {
      mkdirSync(join(ROOT, 'docs/screenshots'), { recursive: true });
      copyFileSync(path, README_SCREENSHOT);
    }
  });

  it('signs out, forgetting the key', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    assert.deepEqual(problems, []);
  });
});
