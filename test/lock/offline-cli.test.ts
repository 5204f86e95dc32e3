// The offline CLI, driven through a tiny commander program; all files live in a temp dir removed afterwards.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Command } from 'commander';
import { OfflineCliError, parseDurationMs, registerOfflineCommands } from '../../src/cli/offline.ts';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-offline-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(...args: string[]): Promise<string> {
  let out = '';
  const program = new Command('latchkey')
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  registerOfflineCommands(program, { out: (s) => (out += s), now: () => Date.UTC(2026, 11, 1, 12) });
  await program.parseAsync(args, { from: 'user' });
  return out;
}
const json = async (...args: string[]) => JSON.parse(await run(...args, '--json'));

describe('offline CLI', () => {
  const keyFile = join(dir, 'lock.key');
  const state = join(dir, 'lock.json');

  it('derives, types and deletes PINs with no server', async () => {
    await run('pin', 'keygen', '--out', keyFile);
    assert.match(readFileSync(keyFile, 'utf8'), /^[0-9a-f]{64}\n$/);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    await assert.rejects(run('pin', 'keygen', '--out', keyFile), OfflineCliError);

    const human = await run(
      ...['pin', 'derive', '--key-file', keyFile, '--kind', 'hourly', '--start', '2026-12-01T10:00Z'],
      ...['--hours', '5', '--variance', '1'],
    );
    assert.match(human, /^PIN {9}\d{10}$/m);
    assert.match(human, /2026-12-01T09:45:00.000Z → 2026-12-01T15:15:00.000Z/);
    const code = await json(
      ...[
        'pin',
        'derive',
        '--key-file',
        keyFile,
        '--kind',
        'hourly',
        '--start',
        '2026-12-01T10:00Z',
        '--hours',
        '5',
      ],
    );
    assert.equal(code.kind, 'hourly');
    assert.equal(code.ends_at, '2026-12-01T15:00:00.000Z');
    assert.match(human, new RegExp(code.pin));

    await run('lock', 'init', '--key-file', keyFile, '--state', state);
    assert.match(await run('lock', 'enter', '--state', state, '--pin', code.pin), /^ACCEPTED/);
    const early = await json(
      'lock',
      'enter',
      '--state',
      state,
      '--pin',
      code.pin,
      '--at',
      '2026-12-01T09:00Z',
    );
    assert.equal(early.accepted, false);
    assert.equal(early.reason_code, 'unknown_code');

    await run('lock', 'drift', '--state', state, '--by', 'PT20M', '--at', '2026-12-01T15:00Z');
    const late = await json(
      'lock',
      'enter',
      '--state',
      state,
      '--pin',
      code.pin,
      '--at',
      '2026-12-01T14:56Z',
    );
    assert.equal(late.reason_code, 'expired_code');
    await run('lock', 'set-time', '--state', state, '--at', '2026-12-01T14:57Z');
    assert.equal(
      (await json('lock', 'enter', '--state', state, '--pin', code.pin, '--at', '2026-12-01T14:58Z'))
        .accepted,
      true,
    );

    const del = await json(
      'lock',
      'delete-pin',
      '--state',
      state,
      '--pin',
      code.pin,
      '--at',
      '2026-12-01T14:59Z',
    );
    assert.equal(del.revoked, true);
    const blocked = await json(
      'lock',
      'enter',
      '--state',
      state,
      '--pin',
      code.pin,
      '--at',
      '2026-12-01T14:59:30Z',
    );
    assert.equal(blocked.reason_code, 'blocklisted_code');

    const shown = await json('lock', 'show', '--state', state, '--at', '2026-12-01T15:00Z');
    assert.equal(shown.revoked, 1);
    assert.equal(shown.lockout.totalFailures, 3);
    assert.equal(shown.lockout.failures, 2); // one leaked: 6 h since the first wrong PIN
    assert.ok(shown.log.length >= 5);
    assert.equal(statSync(state).mode & 0o777, 0o600);
  });

  it('locks out after wrong PINs and clears over "Bluetooth"', async () => {
    const s = join(dir, 'lockout.json');
    await run('lock', 'init', '--key-file', keyFile, '--state', s);
    let last: { reason_code?: string; locked_until?: string } = {};
    for (let i = 0; i < 7; i++) last = await json('lock', 'enter', '--state', s, '--pin', '9999999999');
    assert.equal(last.reason_code, 'too_many_attempts');
    await run('lock', 'clear-lockout', '--state', s);
    assert.equal(
      (await json('lock', 'enter', '--state', s, '--pin', '9999999999')).reason_code,
      'unknown_code',
    );
  });

  it('rotates the key of a lock state file', async () => {
    const s = join(dir, 'rotate.json');
    const k2 = join(dir, 'second.key');
    await run('lock', 'init', '--key-file', keyFile, '--state', s);
    await run('pin', 'keygen', '--out', k2);
    assert.equal((await json('lock', 'rotate-key', '--state', s, '--key-file', k2, '--epoch', '1')).epoch, 1);
    const p = await json(
      ...[
        'pin',
        'derive',
        '--key-file',
        k2,
        '--epoch',
        '1',
        '--kind',
        'one_time',
        '--start',
        '2026-12-01T11:00Z',
      ],
    );
    assert.equal(p.pin.length, 8);
    assert.equal((await json('lock', 'enter', '--state', s, '--pin', p.pin)).accepted, true);
    await assert.rejects(
      run('lock', 'rotate-key', '--state', s, '--key-file', k2, '--epoch', '1'),
      /above the current/,
    );
  });

  it('decodes a PIN without the key', async () => {
    const d = await json('pin', 'decode', '0040654939');
    assert.deepEqual([d.kind, d.duration_hours, d.variance, d.start_hour_mod_26], ['hourly', 5, 1, 8]);
    assert.equal((await json('pin', 'decode', '12345')).algopin, false);
  });

  it('explains bad input', async () => {
    const derive = ['pin', 'derive', '--key-file', keyFile, '--kind'];
    await assert.rejects(
      run(...derive, 'hourly', '--start', '2026-12-01T10:30Z', '--hours', '5'),
      /whole UTC hour/,
    );
    await assert.rejects(
      run(...derive, 'hourly', '--start', '2026-12-01T10:00', '--hours', '5'),
      /with a zone/,
    );
    await assert.rejects(run(...derive, 'hourly', '--start', '2026-12-01T10:00Z'), /--hours is required/);
    await assert.rejects(
      run(...derive, 'daily', '--start', '2026-12-01T10:00Z', '--days', '20'),
      /29\.\.367/,
    );
    await assert.rejects(run(...derive, 'weekly', '--start', '2026-12-01T10:00Z'), /--kind must be one of/);
    await assert.rejects(
      run('lock', 'enter', '--state', join(dir, 'missing.json'), '--pin', '1'),
      /lock init/,
    );
  });

  it('parses ISO 8601 durations for clock drift', () => {
    assert.equal(parseDurationMs('PT15M', 'x'), 900_000);
    assert.equal(parseDurationMs('-PT1H', 'x'), -3_600_000);
    assert.equal(parseDurationMs('P1DT2H', 'x'), 26 * 3_600_000);
    assert.equal(parseDurationMs('PT0.5S', 'x'), 500);
    assert.equal(parseDurationMs('-1500', 'x'), -1500);
    for (const bad of ['P', 'PT', '15M', 'PT1HX'])
      assert.throws(() => parseDurationMs(bad, 'x'), OfflineCliError);
  });
});
