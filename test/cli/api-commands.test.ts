import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseBookings } from '../../src/cli/client/bookings.ts';
import { CsvSyntaxError, parseCsv } from '../../src/cli/client/csv.ts';
import { CliUsageError } from '../../src/cli/client/http.ts';
import { previewCode } from '../../src/cli/client/preview.ts';
import { testDialects } from '../helpers/databases.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';

// The API-client commands of the real `latchkey` binary, spawned as a user runs them, against a real
// server on SQLite (the server's storage is covered per dialect elsewhere; this is about the CLI).

const repoRoot = new URL('../..', import.meta.url).pathname;
const fixture = (name: string) => new URL(`fixtures/${name}`, import.meta.url).pathname;
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const cliEnv = (extra: Record<string, string>) => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of ['DATABASE_URL', 'LATCHKEY_API_URL', 'SEAM_API_KEY'])
    if (!(name in extra)) delete env[name];
  return env;
};

function runCli(args: string[], extraEnv: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      // Generous: a loaded 2-core machine can take seconds per start; a hang still ends the test.
      { cwd: repoRoot, env: cliEnv(extraEnv), timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        const killed = error?.killed ? `\n(killed after 60 s: ${error.signal})` : '';
        resolve({ code, stdout, stderr: stderr + killed });
      },
    );
  });
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const children = new Set<ChildProcess>();

describe('latchkey API-client commands against a running server', () => {
  let server: TestServer;
  let front: string;
  let back: string;
  let hour: number;
  const cli = (...args: string[]) =>
    runCli(args, { LATCHKEY_API_URL: server.url, SEAM_API_KEY: server.apiKey });
  const ok = (r: CliResult, what: string) =>
    assert.equal(r.code, 0, `${what} failed:\n${r.stderr}\n${r.stdout}`);
  // biome-ignore lint/suspicious/noExplicitAny: responses are read ad hoc
  const codesOn = async (deviceId: string): Promise<any[]> => {
    const res = await call(server, '/access_codes/list', { body: { device_id: deviceId } });
    assert.equal(res.status, 200);
    return res.json.access_codes;
  };

  before(async () => {
    server = await startTestServer(testDialects()[0]!); // SQLite, always first
    const byName = (name: string) => server.sandbox.devices.find((d) => d.name === name)!.device_id;
    front = byName('Front Door');
    back = byName('Back Door');
    hour = Math.floor(server.clock.now / HOUR) * HOUR;
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await server?.close();
  });

  it('device list: a table of both sandbox locks, and --json that parses', async () => {
    const [table, json] = await Promise.all([cli('device', 'list'), cli('device', 'list', '--json')]);
    ok(table, 'device list');
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0]!, /device_id\s+name\s+bridge\s+online/);
    assert.equal(lines.length, 3);
    assert.match(table.stdout, new RegExp(`${front}\\s+Front Door\\s+no`));
    assert.match(table.stdout, new RegExp(`${back}\\s+Back Door\\s+yes\\s+yes`));
    ok(json, 'device list --json');
    const devices = JSON.parse(json.stdout);
    assert.deepEqual(devices.map((d: { device_id: string }) => d.device_id).sort(), [front, back].sort());
  });

  let hourlyPin = '';
  it('code create: the preview (kind, rounded window, rounding), then the created offline code', async () => {
    const r = await cli(
      'code',
      'create',
      '--device',
      front,
      '--name',
      'guest',
      '--starts-at',
      iso(hour + 2 * HOUR + 20 * 60_000),
      '--ends-at',
      iso(hour + 5 * HOUR),
    );
    ok(r, 'code create');
    const [preview, created] = r.stdout.split('created:');
    assert.ok(created, r.stdout);
    assert.match(preview!, /kind\s+hourly-bound \(time_bound\)/);
    assert.match(preview!, new RegExp(`starts_at\\s+${iso(hour + 2 * HOUR)}`));
    assert.match(preview!, new RegExp(`ends_at\\s+${iso(hour + 5 * HOUR)}`));
    assert.match(preview!, /rounding\s+20 min/);
    assert.match(preview!, /max_time_rounding\s+1h \(1 hour is enough\)/);
    assert.match(preview!, /verdict\s+ok/);
    hourlyPin = /pin\s+(\d+)/.exec(created)?.[1] ?? '';
    assert.match(hourlyPin, /^\d{10}$/);
    assert.match(created, /kind\s+hourly-bound/);
    assert.match(created, /status\s+unset/);
    const stored = await codesOn(front);
    assert.equal(stored.length, 1);
    assert.equal(stored[0].code, hourlyPin);
    assert.equal(stored[0].is_offline_access_code, true);
  });

  it('code create --dry-run: the preview only, no request (valid → 0, invalid → the server’s error, ≠ 0)', async () => {
    const before = (await codesOn(front)).length;
    // Pointed at a port where nothing listens: a dry run must not need the server at all.
    const nowhere = {
      LATCHKEY_API_URL: `http://127.0.0.1:${await closedPort()}`,
      SEAM_API_KEY: server.apiKey,
    };
    const daily = [
      '--starts-at',
      iso(hour + 30 * HOUR),
      '--ends-at',
      iso(hour + 30 * HOUR + 40 * 24 * HOUR + 5 * HOUR),
    ];
    const [valid, validJson, invalid, withDay] = await Promise.all([
      runCli(
        ['code', 'create', '--device', front, '--one-time', '--starts-at', iso(hour + 3 * HOUR), '--dry-run'],
        nowhere,
      ),
      runCli(['code', 'create', '--device', front, '--dry-run', '--json'], nowhere),
      runCli(['code', 'create', '--device', front, ...daily, '--dry-run'], nowhere),
      runCli(
        ['code', 'create', '--device', front, ...daily, '--max-time-rounding', '1d', '--dry-run'],
        nowhere,
      ),
    ]);
    ok(valid, 'dry run (one-time)');
    assert.match(valid.stdout, /kind\s+one-time-use/);
    assert.match(valid.stdout, new RegExp(`ends_at\\s+${iso(hour + 27 * HOUR)}`));
    assert.equal(valid.stderr, '');
    assert.doesNotMatch(valid.stdout, /created:/);

    ok(validJson, 'dry run --json (permanent)');
    const { preview } = JSON.parse(validJson.stdout);
    assert.equal(preview.valid, true);
    assert.equal(preview.kind, 'permanent');
    assert.equal(preview.type, 'ongoing');
    assert.deepEqual(preview.expected_warnings, ['igloo_algopin_must_be_used_within_24_hours']);

    assert.notEqual(invalid.code, 0);
    assert.match(invalid.stdout, /kind\s+daily-bound/);
    assert.match(invalid.stdout, /1d needed .*pass --max-time-rounding 1d/);
    assert.match(
      invalid.stderr,
      /max_time_rounding_exceeded \(HTTP 400\): Rounding to what the lock can enforce/,
    );
    assert.doesNotMatch(invalid.stderr, /Could not reach/);

    ok(withDay, 'dry run with --max-time-rounding 1d');
    assert.match(withDay.stdout, /duration\s+41 days/);

    assert.equal((await codesOn(front)).length, before, 'a dry run created nothing');
  });

  it('a full slot: the 409 with the free slots on stderr, exit ≠ 0 (table and --json)', async () => {
    const startsAt = iso(hour + 30 * HOUR);
    const endsAt = iso(hour + 32 * HOUR);
    for (let i = 0; i < 3; i++) {
      const res = await call(server, '/access_codes/create', {
        body: { device_id: front, starts_at: startsAt, ends_at: endsAt, is_offline_access_code: true },
      });
      assert.equal(res.status, 200, res.text);
    }
    const args = ['code', 'create', '--device', front, '--starts-at', startsAt, '--ends-at', endsAt];
    const [human, json] = await Promise.all([cli(...args), cli(...args, '--json')]);
    assert.notEqual(human.code, 0);
    assert.match(human.stdout, /verdict\s+ok/, 'the preview cannot know the slot is full');
    assert.match(human.stderr, /offline_code_slot_full \(HTTP 409\): This lock already has 3 hourly-bound/);
    assert.match(human.stderr, /Free slots nearby/);
    assert.match(human.stderr, new RegExp(`${iso(hour + 31 * HOUR)}\\s+3`));
    assert.notEqual(json.code, 0);
    assert.equal(json.stdout, '');
    const { error } = JSON.parse(json.stderr);
    assert.equal(error.type, 'offline_code_slot_full');
    assert.equal(error.status, 409);
    assert.equal(error.data.nearby_free_slots[0].starts_at, iso(hour + 31 * HOUR));
    assert.equal((await codesOn(front)).length, 4);
  });

  it('code list / get (--json parses) / delete of an offline code (the server’s refusal)', async () => {
    const [stored] = await codesOn(front);
    const [table, got, deleted] = await Promise.all([
      cli('code', 'list', '--device', front),
      cli('code', 'get', stored.access_code_id, '--json'),
      cli('code', 'delete', stored.access_code_id),
    ]);
    ok(table, 'code list');
    assert.equal(table.stdout.trim().split('\n').length, 1 + 4);
    assert.match(
      table.stdout,
      new RegExp(`${stored.access_code_id}\\s+guest\\s+${hourlyPin}\\s+hourly-bound\\s+unset`),
    );
    ok(got, 'code get');
    assert.equal(JSON.parse(got.stdout).code, stored.code);
    assert.notEqual(deleted.code, 0);
    assert.match(deleted.stderr, /cannot_delete_offline_access_code \(HTTP 400\): Offline access codes/);
  });

  it('code import: one code per row, progress on stderr, per-row results, exit ≠ 0 for the bad row', async () => {
    const [human, json] = await Promise.all([
      cli('code', 'import', fixture('bookings.csv'), '--device', front),
      cli('code', 'import', fixture('bookings.csv'), '--device', back, '--json'),
    ]);
    assert.equal(human.code, 1, human.stderr);
    for (let i = 1; i <= 5; i++) assert.match(human.stderr, new RegExp(`^\\[${i}/5\\] row ${i} `, 'm'));
    assert.match(human.stderr, /\[4\/5\] row 4 "Long stay": max_time_rounding_exceeded/);
    const rows = human.stdout.split('\n');
    assert.match(rows[0]!, /^row\s+name\s+pin\s+kind\s+starts_at\s+ends_at\s+error$/);
    assert.match(human.stdout, /^1\s+Smith, John\s+\d{10}\s+hourly-bound/m);
    assert.match(human.stdout, /^3\s+Plumber "Bob"\s+\d{8}\s+one-time-use\s+2099-06-02T09:00:00.000Z/m);
    assert.match(human.stdout, /^4\s+Long stay\s+max_time_rounding_exceeded: Rounding/m);
    assert.match(human.stdout, /4 created, 1 failed \(of 5 rows\)/);
    const names = (await codesOn(front)).map((c) => c.name);
    for (const name of ['Smith, John', 'Garcia', 'Plumber "Bob"', 'Müller'])
      assert.ok(names.includes(name), name);
    assert.ok(!names.includes('Long stay'));

    assert.equal(json.code, 1, json.stderr);
    const results = JSON.parse(json.stdout);
    assert.deepEqual(
      results.map((r: { row: number; ok: boolean }) => [r.row, r.ok]),
      [
        [1, true],
        [2, true],
        [3, true],
        [4, false],
        [5, true],
      ],
    );
    assert.equal(results[3].error.type, 'max_time_rounding_exceeded');
    assert.equal(results[4].starts_at, '2099-06-12T13:00:00.000Z', 'an offset is honoured');
    assert.equal((await codesOn(back)).length, 4);
  });

  it('keypad: refused before the start, accepted after `clock advance`; events list shows both', async () => {
    const refused = await cli('keypad', front, hourlyPin);
    ok(refused, 'keypad');
    assert.match(refused.stdout, /^refused: \w+/);
    const advanced = await cli('clock', 'advance', 'PT2H30M');
    ok(advanced, 'clock advance');
    assert.match(advanced.stdout, new RegExp(`now\\s+${iso(server.clock.now + 2.5 * HOUR)}`));
    const accepted = await cli('keypad', front, hourlyPin, '--json');
    ok(accepted, 'keypad --json');
    assert.equal(JSON.parse(accepted.stdout).accepted, true);

    const [table, json] = await Promise.all([
      cli('events', 'list', '--device', front, '--type', 'lock.unlocked,lock.access_denied'),
      cli('events', 'list', '--device', front, '--json'),
    ]);
    ok(table, 'events list');
    const lines = table.stdout.trim().split('\n').slice(1);
    assert.equal(lines.length, 2, table.stdout);
    assert.match(lines[0]!, /lock\.access_denied .*reason=/);
    assert.match(lines[1]!, /lock\.unlocked .*method=keycode/);
    ok(json, 'events list --json');
    const types = JSON.parse(json.stdout).map((e: { event_type: string }) => e.event_type);
    assert.ok(types.includes('access_code.created'));
    assert.ok(types.includes('access_code.set_on_device'), 'the advance set the code on the device');
    assert.ok(types.indexOf('lock.access_denied') < types.indexOf('lock.unlocked'));
  });

  it('events tail --for 3: prints an event created while it runs, then stops by itself', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'events',
        'tail',
        '--device',
        front,
        '--for',
        '3',
        '--interval',
        '0.5',
      ],
      { cwd: repoRoot, env: cliEnv({ LATCHKEY_API_URL: server.url, SEAM_API_KEY: server.apiKey }) },
    );
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Only once it has taken in the past (which it does not print) is a new event "new".
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tail never got ready: ${stderr}`)), 60_000);
      child.stderr.on('data', (d: Buffer) => {
        stderr += d;
        if (stderr.includes('following events')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const res = await call(server, '/locks/simulate/keypad_code_entry', {
      body: { device_id: front, code: '13579' },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(await exited, 0, stderr);
    children.delete(child);
    const lines = stdout.trim().split('\n');
    assert.equal(lines.length, 1, `only the new event is printed:\n${stdout}`);
    assert.match(lines[0]!, new RegExp(`lock\\.access_denied\\s+device=${front}\\s+reason=unknown_code`));
  });

  it('sandbox devices and webhooks: device create/disconnect/connect, clock drift, webhook create/list/deliveries', async () => {
    const created = await cli(
      'device',
      'create',
      '--name',
      'Garage',
      '--bridge',
      '--time-zone',
      'Europe/Paris',
      '--json',
    );
    ok(created, 'device create');
    const garage = JSON.parse(created.stdout);
    assert.equal(garage.location.time_zone, 'Europe/Paris');
    const [off, drift, hook] = await Promise.all([
      cli('device', 'disconnect', garage.device_id),
      cli('clock', 'drift', garage.device_id, '-PT10M', '--json'),
      cli(
        'webhook',
        'create',
        'http://127.0.0.1:9/hook',
        '--events',
        'lock.unlocked,lock.access_denied',
        '--json',
      ),
    ]);
    ok(off, 'device disconnect');
    assert.match(off.stdout, /online\s+no/);
    assert.match(off.stdout, /errors\s+hub_disconnected/);
    ok(drift, 'clock drift');
    assert.equal(JSON.parse(drift.stdout).clock_drift_ms, -600_000);
    ok(hook, 'webhook create');
    const webhook = JSON.parse(hook.stdout);
    assert.match(webhook.secret, /^whsec_/);
    const [on, hooks, deliveries] = await Promise.all([
      cli('device', 'connect', garage.device_id),
      cli('webhook', 'list'),
      cli('webhook', 'deliveries', webhook.webhook_id, '--json'),
    ]);
    ok(on, 'device connect');
    assert.match(on.stdout, /online\s+yes/);
    ok(hooks, 'webhook list');
    assert.match(
      hooks.stdout,
      new RegExp(`${webhook.webhook_id}\\s+http://127.0.0.1:9/hook\\s+lock.unlocked, lock.access_denied`),
    );
    ok(deliveries, 'webhook deliveries');
    assert.ok(Array.isArray(JSON.parse(deliveries.stdout)));
  });

  it('an unknown API key: the 401 said plainly, exit ≠ 0; an unreachable server: which URL was tried', async () => {
    const port = await closedPort();
    const [unknown, flag, unreachable, noKey] = await Promise.all([
      runCli(['device', 'list'], {
        LATCHKEY_API_URL: server.url,
        SEAM_API_KEY: 'seam_not_a_real_key_0123456789',
      }),
      runCli(
        [
          'code',
          'list',
          '--device',
          front,
          '--api-url',
          server.url,
          '--api-key',
          'seam_nope_0123456789abcdef',
        ],
        {},
      ),
      runCli(['device', 'list', '--api-url', `http://127.0.0.1:${port}`], { SEAM_API_KEY: server.apiKey }),
      runCli(['device', 'list', '--api-url', server.url], {}),
    ]);
    for (const r of [unknown, flag]) {
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /unauthorized \(HTTP 401\): The API key is not valid \(unknown or revoked\)\./);
    }
    assert.match(unknown.stderr, /The key came from SEAM_API_KEY/);
    assert.match(flag.stderr, /The key came from --api-key/);
    assert.notEqual(unreachable.code, 0);
    assert.match(
      unreachable.stderr,
      new RegExp(
        `Could not reach the Latchkey server at http://127\\.0\\.0\\.1:${port}/devices/list \\(ECONNREFUSED\\)`,
      ),
    );
    assert.notEqual(noKey.code, 0);
    assert.match(noKey.stderr, /No API key: pass --api-key or set SEAM_API_KEY/);
  });
});

describe('RFC 4180 reader', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks; CRLF or LF; a BOM', () => {
    const records = parseCsv('\uFEFFa,"b, c","say ""hi"""\r\n"multi\nline",,x\n');
    assert.deepEqual(records, [
      { fields: ['a', 'b, c', 'say "hi"'], line: 1 },
      { fields: ['multi\nline', '', 'x'], line: 2 },
    ]);
  });
  it('keeps a last record without a line break, empty fields and blank lines', () => {
    assert.deepEqual(
      parseCsv('a,\n\n"",b').map((r) => r.fields),
      [['a', ''], [''], ['', 'b']],
    );
    assert.deepEqual(parseCsv(''), []);
  });
  it('refuses what RFC 4180 does not allow, naming the line', () => {
    assert.throws(
      () => parseCsv('a,b\nc"d,e\n'),
      (e: unknown) => e instanceof CsvSyntaxError && e.line === 2,
    );
    assert.throws(() => parseCsv('a,"b"c\n'), /line 1: unexpected "c" after a closing quote/);
    assert.throws(() => parseCsv('a\n"open,b\nc\n'), /line 2: a quoted field is never closed/);
    assert.throws(() => parseCsv('a\rb'), /carriage return/);
  });
});

describe('bookings file', () => {
  it('maps columns by header (any order, one_time optional), flags bad rows without stopping', () => {
    const rows = parseBookings(
      'Ends_At,name,starts_at,one_time\n2099-01-02T00:00Z,A,2099-01-01T00:00Z,yes\n,B,,\n,,2099-01-01T00:00Z,\nx,C,y,maybe\nq,D\n\n',
    );
    assert.deepEqual(
      rows.map((r) => [r.row, r.name, r.starts_at, r.ends_at, r.one_time, r.error?.type]),
      [
        [1, 'A', '2099-01-01T00:00Z', '2099-01-02T00:00Z', true, undefined],
        [2, 'B', undefined, undefined, false, undefined],
        [3, '', '2099-01-01T00:00Z', undefined, false, 'invalid_row'],
        [4, 'C', 'y', 'x', false, 'invalid_row'],
        [5, 'D', undefined, 'q', false, 'invalid_row'],
      ],
    );
  });
  it('refuses a file without the right header', () => {
    assert.throws(() => parseBookings(''), CliUsageError);
    assert.throws(() => parseBookings('name,start,ends_at\n'), /missing starts_at; unknown "start"/);
  });
});

describe('code preview', () => {
  const now = Date.parse('2030-01-07T10:20:00Z');
  it('says the exact error of the server for each rule, before anything is sent', () => {
    const device_id = '00000000-0000-0000-0000-000000000000';
    const cases: [Parameters<typeof previewCode>[0], string][] = [
      [{ device_id, code: '1234' }, 'cannot_specify_offline_code'],
      [{ device_id, online: true, one_time: true }, 'invalid_input'],
      [{ device_id, starts_at: '2030-01-08T10:00:00' }, 'invalid_input'],
      [{ device_id, starts_at: '2030-01-08T10:00:00Z' }, 'time_frame_out_of_range'],
      [
        { device_id, starts_at: '2030-01-08T10:00:00Z', ends_at: '2031-06-01T10:00:00Z' },
        'time_frame_out_of_range',
      ],
      [{ device_id, online: true, code: '12345678' }, 'invalid_input'],
    ];
    for (const [request, type] of cases) {
      const preview = previewCode(request, now);
      assert.equal(preview.valid, false, JSON.stringify(request));
      assert.equal(preview.error?.type, type, JSON.stringify(request));
    }
  });
  it('describes valid requests: permanent, online', () => {
    const permanent = previewCode({ device_id: 'x' }, now);
    assert.equal(permanent.kind, 'permanent');
    assert.equal(permanent.starts_at, '2030-01-07T10:00:00.000Z');
    assert.equal(permanent.ends_at, null);
    const online = previewCode(
      {
        device_id: 'x',
        online: true,
        code: '4321',
        starts_at: '2030-01-08T10:10:00Z',
        ends_at: '2030-01-08T12:00:00Z',
      },
      now,
    );
    assert.equal(online.kind, 'online');
    assert.equal(online.starts_at, '2030-01-08T10:10:00.000Z', 'online instants are kept as given');
  });
});
