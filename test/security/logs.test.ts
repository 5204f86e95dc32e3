import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { call } from '../helpers/server.ts';
import { serve, stop } from '../helpers/server-process.ts';

// A real server process, a realistic session (codes, keypad, PINs in query strings, webhooks, wrong keys),
// then a grep of everything it logged: no API key, PIN or webhook secret may appear in a log line.

describe('the logs of a real server session hold no secrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-logs-'));
  const apiKey = `seam_logs_${randomBytes(12).toString('hex')}`;
  let server: Awaited<ReturnType<typeof serve>>;
  const secrets: string[] = [apiKey];

  before(async () => {
    server = await serve({
      DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
      LATCHKEY_DATA_DIR: join(dir, 'data'),
      LATCHKEY_BOOTSTRAP_API_KEY: apiKey,
      LATCHKEY_RATE_LIMIT: '0',
      LOG_LEVEL: 'debug',
    });
  });
  after(async () => {
    await stop(server.child);
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs one line per request, and none of the secrets it handled', async () => {
    const api = { url: server.url, apiKey };
    const devices = (await call(api, '/devices/list')).json.devices as {
      device_id: string;
      display_name: string;
    }[];
    const front = devices.find((d) => d.display_name === 'Front Door')?.device_id ?? '';
    const back = devices.find((d) => d.display_name === 'Back Door')?.device_id ?? '';
    const hook = await call(api, '/webhooks/create', { body: { url: 'http://127.0.0.1:9/hook' } });
    secrets.push(hook.json.webhook.secret);
    for (const body of [
      { device_id: front, is_offline_access_code: true },
      {
        device_id: front,
        is_offline_access_code: true,
        is_one_time_use: true,
        starts_at: new Date().toISOString(),
      },
      { device_id: back, code: '738291' },
    ]) {
      const created = await call(api, '/access_codes/create', { body });
      assert.equal(created.status, 200, created.text);
      const pin: string = created.json.access_code.code;
      secrets.push(pin);
      await call(api, '/locks/simulate/keypad_code_entry', { body: { device_id: front, code: pin } });
      await call(api, `/access_codes/get?device_id=${front}&code=${pin}`, { method: 'GET' });
    }
    await call(api, '/devices/list', { key: `seam_wrong_${randomBytes(12).toString('hex')}` });
    await call(api, '/devices/list', { key: `${apiKey}x` });
    await call(api, '/workspaces/simulate/advance_clock', { body: { by: 'PT2H' } });
    // Give the job runners a moment to log whatever they do.
    await new Promise((r) => setTimeout(r, 800));

    const { stdout, stderr } = server.output();
    // The start-up banner prints the first API key on purpose (contract §2); everything after it is the log.
    const logLines = stdout.split('\n').filter((l) => l.startsWith('{'));
    assert.ok(logLines.length >= 10, `expected request log lines, got ${logLines.length}`);
    for (const line of logLines) assert.doesNotThrow(() => JSON.parse(line), 'structured JSON lines');
    const log = `${logLines.join('\n')}\n${stderr}`;
    for (const secret of secrets)
      assert.ok(!log.includes(secret), `a secret reached the log: ${secret.slice(0, 4)}…`);
    assert.ok(!log.includes('seam_wrong_'), 'a wrong key reached the log');
  });
});
