// Offline CLI: derive PINs from a key file and "type" them into a lock state file, with no server.
// `latchkey pin …` uses only the algoPIN engine; `latchkey lock …` drives the virtual lock, whose whole
// persistent state (key included) lives in one JSON file that is rewritten atomically after each command.

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  type CodeKind,
  codeWindow,
  DRIFT_GRACE_MS,
  decodePin,
  derivePin,
  derivePinKey,
  HOUR_MS,
  KIND_LIMITS,
  type PinParams,
  parseLockKeyHex,
} from '../algopin/index.ts';
import { type EnterPinResult, VirtualLock } from '../lock/index.ts';

export interface OfflineIo {
  out: (text: string) => void;
  /** The true time used when --at is not given. */
  now: () => number;
}

const defaultIo: OfflineIo = { out: (text) => process.stdout.write(text), now: () => Date.now() };

/** A usage error with a message meant for the person at the terminal. */
export class OfflineCliError extends Error {
  override readonly name = 'OfflineCliError';
}

// --- parsing helpers ---

/** ISO 8601 instant with an explicit zone (Z or ±hh:mm); a zoneless time would silently be local time. */
export function parseInstant(text: string, what: string): number {
  const ms = Date.parse(text);
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(text) ||
    Number.isNaN(ms)
  ) {
    throw new OfflineCliError(
      `${what} must be an ISO 8601 time with a zone, e.g. 2026-12-01T10:00Z (got "${text}")`,
    );
  }
  return ms;
}

/** Signed ISO 8601 duration (PT15M, -PT1H, P1DT2H, PT0.5S) or an integer number of milliseconds. */
export function parseDurationMs(text: string, what: string): number {
  if (/^[+-]?\d+$/.test(text)) return Number(text);
  const m = /^([+-])?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(text);
  if (!m || text.replace(/^[+-]/, '').toUpperCase() === 'P' || /T$/i.test(text)) {
    throw new OfflineCliError(
      `${what} must be an ISO 8601 duration like PT5M or -PT1H, or milliseconds (got "${text}")`,
    );
  }
  const [, sign, d, h, min, s] = m;
  const ms =
    Number(d ?? 0) * 24 * HOUR_MS +
    Number(h ?? 0) * HOUR_MS +
    Number(min ?? 0) * 60_000 +
    Number(s ?? 0) * 1000;
  return Math.round(sign === '-' ? -ms : ms);
}

function parseInteger(text: string | undefined, what: string, fallback?: number): number {
  if (text === undefined) {
    if (fallback === undefined) throw new OfflineCliError(`${what} is required`);
    return fallback;
  }
  if (!/^\d+$/.test(text)) throw new OfflineCliError(`${what} must be a whole number (got "${text}")`);
  return Number(text);
}

const KINDS = Object.keys(KIND_LIMITS) as CodeKind[];

function readKeyFile(path: string): Buffer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new OfflineCliError(`cannot read key file ${path}: ${(e as Error).message}`);
  }
  try {
    return parseLockKeyHex(text);
  } catch {
    throw new OfflineCliError(
      `key file ${path} must hold 64 hexadecimal digits (create one with: latchkey pin keygen)`,
    );
  }
}

/** Write a secret file atomically (temp file + rename), readable by the owner only. */
function writeSecret(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

function loadLock(path: string): VirtualLock {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new OfflineCliError(
      `cannot read lock state ${path}: ${(e as Error).message} (create one with: latchkey lock init)`,
    );
  }
  try {
    return VirtualLock.restore(text);
  } catch (e) {
    throw new OfflineCliError(`lock state ${path} is not usable: ${(e as Error).message}`);
  }
}

const saveLock = (path: string, lock: VirtualLock): void => writeSecret(path, `${lock.serialize()}\n`);

const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

function print(
  io: OfflineIo,
  json: boolean | undefined,
  data: Record<string, unknown>,
  human: string[],
): void {
  io.out(json ? `${JSON.stringify(data, null, 2)}\n` : `${human.join('\n')}\n`);
}

function describeParams(p: {
  kind: CodeKind;
  durationHours?: number;
  durationDays?: number;
  variance: number;
}) {
  const dur =
    p.kind === 'hourly' ? `${p.durationHours} h, ` : p.kind === 'daily' ? `${p.durationDays} days, ` : '';
  return `${p.kind}, ${dur}variance ${p.variance}`;
}

// --- commands ---

export function registerOfflineCommands(program: Command, io: OfflineIo = defaultIo): void {
  const pin = program.command('pin').description('algoPIN offline: keys and PINs, no server involved');

  pin
    .command('keygen')
    .description('create a random 256-bit lock key file (64 hex digits)')
    .requiredOption('--out <file>', 'key file to create')
    .option('--force', 'overwrite an existing file')
    .option('--json', 'print JSON')
    .action((opts: { out: string; force?: boolean; json?: boolean }) => {
      if (existsSync(opts.out) && !opts.force) {
        throw new OfflineCliError(
          `${opts.out} exists; use --force to overwrite it (its PINs would stop working)`,
        );
      }
      writeSecret(opts.out, `${randomBytes(32).toString('hex')}\n`);
      print(io, opts.json, { key_file: opts.out }, [`wrote a new lock key to ${opts.out} (keep it secret)`]);
    });

  pin
    .command('derive')
    .description('derive the PIN of a code from a lock key file')
    .requiredOption('--key-file <file>', 'lock key file (64 hex digits)')
    .requiredOption('--kind <kind>', `one of ${KINDS.join(', ')}`)
    .requiredOption('--start <iso>', 'start, a whole UTC hour, e.g. 2026-12-01T10:00Z')
    .option('--hours <n>', 'hourly: duration in hours (1-672)')
    .option('--days <n>', 'daily: duration in days (29-367)')
    .option('--variance <n>', 'which of the PINs of this slot (1-3, one_time 1-5)', '1')
    .option('--epoch <n>', 'key epoch', '0')
    .option('--json', 'print JSON')
    .action((opts: Record<string, string | boolean | undefined>) => {
      const kind = opts.kind as CodeKind;
      if (!KINDS.includes(kind)) throw new OfflineCliError(`--kind must be one of ${KINDS.join(', ')}`);
      const startMs = parseInstant(opts.start as string, '--start');
      if (startMs % HOUR_MS !== 0) {
        throw new OfflineCliError(
          `--start must be a whole UTC hour (codes start on hour slots): ${iso(startMs)} is not; ` +
            `try ${iso(Math.floor(startMs / HOUR_MS) * HOUR_MS)}`,
        );
      }
      const params: PinParams = {
        kind,
        startHour: startMs / HOUR_MS,
        variance: parseInteger(opts.variance as string, '--variance'),
      };
      if (kind === 'hourly') params.durationHours = parseInteger(opts.hours as string | undefined, '--hours');
      else if (opts.hours !== undefined) throw new OfflineCliError(`--hours is only for hourly codes`);
      if (kind === 'daily') params.durationDays = parseInteger(opts.days as string | undefined, '--days');
      else if (opts.days !== undefined) throw new OfflineCliError(`--days is only for daily codes`);
      const epoch = parseInteger(opts.epoch as string, '--epoch');
      const key = readKeyFile(opts.keyFile as string);
      let code: string;
      try {
        code = derivePin(derivePinKey(key, epoch), params);
      } catch (e) {
        throw new OfflineCliError((e as Error).message);
      }
      const w = codeWindow(params);
      const data = {
        pin: code,
        kind,
        start_hour: params.startHour,
        starts_at: iso(w.startMs),
        ends_at: iso(w.endMs),
        ...(params.durationHours !== undefined ? { duration_hours: params.durationHours } : {}),
        ...(params.durationDays !== undefined ? { duration_days: params.durationDays } : {}),
        variance: params.variance,
        epoch,
        one_time_use: w.oneTimeUse,
        lock_accepts_from: iso(w.acceptFromMs),
        lock_accepts_until: iso(w.acceptUntilMs),
        must_first_use_before: iso(w.activationDeadlineMs),
      };
      const grace = `${DRIFT_GRACE_MS / 60_000} min clock-drift grace`;
      print(io, opts.json as boolean, data, [
        `PIN         ${code}`,
        `code        ${describeParams(params)} (key epoch ${epoch})`,
        `valid       ${data.starts_at} → ${data.ends_at ?? 'no end'}${w.oneTimeUse ? ', opens once' : ''}`,
        `lock opens  ${data.lock_accepts_from} → ${data.lock_accepts_until ?? 'no end'} (${grace})`,
        ...(w.activationDeadlineMs !== null
          ? [`first use   before ${data.must_first_use_before}, or it never opens (24 h activation window)`]
          : []),
      ]);
    });

  pin
    .command('decode')
    .description('show what a PIN says in clear (kind, duration, variance, start hour mod 26); no key needed')
    .argument('<pin>', 'the digits')
    .option('--json', 'print JSON')
    .action((digits: string, opts: { json?: boolean }) => {
      const d = decodePin(digits);
      if (d === null) {
        print(io, opts.json, { pin: digits, algopin: false }, [
          `${digits} is not an algoPIN (8, 9 or 10 digits)`,
        ]);
        return;
      }
      const data = {
        pin: digits,
        algopin: true,
        kind: d.kind,
        ...(d.durationHours !== undefined && d.kind === 'hourly' ? { duration_hours: d.durationHours } : {}),
        ...(d.durationDays !== undefined ? { duration_days: d.durationDays } : {}),
        variance: d.variance,
        descriptor: d.descriptor,
        start_hour_mod_26: d.residue,
        tag: d.tag,
      };
      print(io, opts.json, data, [
        `${digits}: ${describeParams(d)}; descriptor ${d.descriptor}, start hour ≡ ${d.residue} (mod 26), tag ${d.tag}`,
        'only the lock key can tell whether the tag is genuine',
      ]);
    });

  const lock = program
    .command('lock')
    .description('a virtual lock in a state file: type PINs, admin operations');

  lock
    .command('init')
    .description('create a lock state file holding a key (as if freshly paired)')
    .requiredOption('--key-file <file>', 'lock key file (64 hex digits)')
    .requiredOption('--state <file>', 'lock state file to create')
    .option('--epoch <n>', 'key epoch', '0')
    .option('--drift <duration>', 'clock error, e.g. PT5M (fast) or -PT5M (slow)', '0')
    .option('--force', 'overwrite an existing state file')
    .option('--json', 'print JSON')
    .action(
      (opts: {
        keyFile: string;
        state: string;
        epoch: string;
        drift: string;
        force?: boolean;
        json?: boolean;
      }) => {
        if (existsSync(opts.state) && !opts.force)
          throw new OfflineCliError(`${opts.state} exists; use --force to replace it`);
        const v = VirtualLock.create({
          lockKey: readKeyFile(opts.keyFile),
          epoch: parseInteger(opts.epoch, '--epoch'),
          clockOffsetMs: parseDurationMs(opts.drift, '--drift'),
        });
        saveLock(opts.state, v);
        print(io, opts.json, { state: opts.state, epoch: v.epoch, clock_offset_ms: v.clock.offsetMs }, [
          `lock state written to ${opts.state} (epoch ${v.epoch}, clock offset ${v.clock.offsetMs} ms)`,
        ]);
      },
    );

  lock
    .command('enter')
    .description('type a PIN on the keypad at a given true time and print the outcome')
    .requiredOption('--state <file>', 'lock state file (updated)')
    .requiredOption('--pin <digits>', 'the digits typed')
    .option('--at <iso>', 'true time of the attempt (default: now)')
    .option('--json', 'print JSON')
    .action((opts: { state: string; pin: string; at?: string; json?: boolean }) => {
      const v = loadLock(opts.state);
      const at = opts.at === undefined ? io.now() : parseInstant(opts.at, '--at');
      const r = v.enterPin(opts.pin, at);
      saveLock(opts.state, v);
      print(io, opts.json, enterJson(opts.pin, r), enterHuman(opts.pin, r));
    });

  lock
    .command('drift')
    .description('simulate clock error: the lock clock runs this far ahead (+) or behind (-)')
    .requiredOption('--state <file>', 'lock state file (updated)')
    .requiredOption('--by <duration>', 'e.g. PT10M, -PT2H, or milliseconds')
    .option('--at <iso>', 'true time (default: now)')
    .option('--json', 'print JSON')
    .action((opts: { state: string; by: string; at?: string; json?: boolean }) => {
      const v = loadLock(opts.state);
      const at = opts.at === undefined ? io.now() : parseInstant(opts.at, '--at');
      v.setClockDrift(parseDurationMs(opts.by, '--by'), at);
      saveLock(opts.state, v);
      print(io, opts.json, { clock_offset_ms: v.clock.offsetMs, lock_time: iso(v.lockTime(at)) }, [
        `lock clock now reads ${iso(v.lockTime(at))} (offset ${v.clock.offsetMs} ms)`,
      ]);
    });

  lock
    .command('set-time')
    .description('Bluetooth admin: set the lock clock (default: to the true time)')
    .requiredOption('--state <file>', 'lock state file (updated)')
    .option('--at <iso>', 'true time of the operation (default: now)')
    .option('--to <iso>', 'what the lock clock should read (default: the true time)')
    .option('--json', 'print JSON')
    .action((opts: { state: string; at?: string; to?: string; json?: boolean }) => {
      const v = loadLock(opts.state);
      const at = opts.at === undefined ? io.now() : parseInstant(opts.at, '--at');
      v.setTime(at, opts.to === undefined ? at : parseInstant(opts.to, '--to'));
      saveLock(opts.state, v);
      print(io, opts.json, { lock_time: iso(v.lockTime(at)) }, [`lock clock set to ${iso(v.lockTime(at))}`]);
    });

  lock
    .command('delete-pin')
    .description('Bluetooth admin: delete a PIN; it never opens again')
    .requiredOption('--state <file>', 'lock state file (updated)')
    .requiredOption('--pin <digits>', 'the PIN to delete')
    .option('--at <iso>', 'true time (default: now)')
    .option('--json', 'print JSON')
    .action((opts: { state: string; pin: string; at?: string; json?: boolean }) => {
      const v = loadLock(opts.state);
      const at = opts.at === undefined ? io.now() : parseInstant(opts.at, '--at');
      const r = v.deletePin(opts.pin, at);
      saveLock(opts.state, v);
      const data = {
        pin: opts.pin,
        revoked: r.revoked,
        recognized: r.recognized,
        blocked_until: iso(r.untilMs),
      };
      print(io, opts.json, data, [
        r.revoked
          ? `${opts.pin} deleted: blocklisted ${r.untilMs === null ? 'for ever' : `until ${iso(r.untilMs)}`}` +
            (r.recognized ? '' : ' (the lock did not recognise it as a current code)')
          : `${opts.pin} is not an algoPIN; nothing to delete`,
      ]);
    });

  lock
    .command('clear-lockout')
    .description('Bluetooth admin: clear the wrong-PIN counter and lockout')
    .requiredOption('--state <file>', 'lock state file (updated)')
    .option('--at <iso>', 'true time (default: now)')
    .option('--json', 'print JSON')
    .action((opts: { state: string; at?: string; json?: boolean }) => {
      const v = loadLock(opts.state);
      v.clearLockout(opts.at === undefined ? io.now() : parseInstant(opts.at, '--at'));
      saveLock(opts.state, v);
      print(io, opts.json, { cleared: true }, ['lockout cleared']);
    });

  lock
    .command('rotate-key')
    .description('Bluetooth admin: install a new lock key under a higher epoch')
    .requiredOption('--state <file>', 'lock state file (updated)')
    .requiredOption('--key-file <file>', 'new lock key file')
    .requiredOption('--epoch <n>', 'new epoch (greater than the current one)')
    .option('--at <iso>', 'true time (default: now)')
    .option('--json', 'print JSON')
    .action((opts: { state: string; keyFile: string; epoch: string; at?: string; json?: boolean }) => {
      const v = loadLock(opts.state);
      try {
        v.rotateKey(
          readKeyFile(opts.keyFile),
          parseInteger(opts.epoch, '--epoch'),
          opts.at ? parseInstant(opts.at, '--at') : io.now(),
        );
      } catch (e) {
        throw e instanceof OfflineCliError ? e : new OfflineCliError((e as Error).message);
      }
      saveLock(opts.state, v);
      print(io, opts.json, { epoch: v.epoch }, [`key rotated; epoch ${v.epoch}`]);
    });

  lock
    .command('show')
    .description('print the lock clock, lockout, tables and the latest log entries')
    .requiredOption('--state <file>', 'lock state file')
    .option('--at <iso>', 'true time (default: now)')
    .option('--log <n>', 'how many log entries', '10')
    .option('--json', 'print JSON')
    .action((opts: { state: string; at?: string; log: string; json?: boolean }) => {
      const v = loadLock(opts.state);
      const at = opts.at === undefined ? io.now() : parseInstant(opts.at, '--at');
      const st = v.lockoutStatus(at);
      const n = parseInteger(opts.log, '--log');
      const log = n === 0 ? [] : v.accessLog.slice(-n);
      const data = {
        lock_time: iso(v.lockTime(at)),
        clock: v.clock,
        epoch: v.epoch,
        lockout: { ...st, lockedUntil: iso(st.lockedUntilMs || null) },
        activated: v.activatedCodes.length,
        one_time_used: v.oneTimeUsed.length,
        revoked: v.revokedPins.length,
        capacities: v.capacities,
        log: log.map((e) => ({ ...e, at: iso(e.at) })),
      };
      print(io, opts.json, data, [
        `lock time   ${data.lock_time} (offset ${v.clock.offsetMs} ms, rate ${v.clock.ratePpm} ppm)`,
        `key epoch   ${v.epoch}`,
        `lockout     ${st.failures} wrong PIN(s) counted${st.lockedOut ? `, LOCKED until ${iso(st.lockedUntilMs)}` : ''}`,
        `tables      ${data.activated}/${v.capacities.activated} activated, ${data.one_time_used}/${v.capacities.oneTime} one-time used, ${data.revoked}/${v.capacities.revoked} revoked`,
        ...log.map(
          (e) =>
            `  #${e.seq} ${iso(e.at) ?? '(no time)'} ${e.event}${e.pin ? ` ${e.pin}` : ''}${e.reason_code ? ` ${e.reason_code}` : ''}${e.detail ? ` (${e.detail})` : ''}`,
        ),
      ]);
    });
}

function enterJson(pin: string, r: EnterPinResult): Record<string, unknown> {
  return {
    pin,
    ...r,
    lock_time: iso(r.lockTimeMs),
    ...(r.lockedUntilMs !== undefined ? { locked_until: iso(r.lockedUntilMs) } : {}),
  };
}

function enterHuman(pin: string, r: EnterPinResult): string[] {
  const code =
    r.kind === undefined
      ? ''
      : ` (${describeParams({ kind: r.kind, durationHours: r.durationHours, durationDays: r.durationDays, variance: r.variance ?? 0 })}, start ${iso((r.startHour ?? 0) * HOUR_MS)})`;
  const lines = [
    r.accepted
      ? `ACCEPTED ${pin}${code}${r.activated ? ' — activated now' : ''}`
      : `REFUSED  ${pin}: ${r.reason_code} (${r.detail.replaceAll('_', ' ')})${code}`,
    `lock time ${iso(r.lockTimeMs)}`,
  ];
  if (r.lockedUntilMs !== undefined) lines.push(`keypad locked until ${iso(r.lockedUntilMs)} (lock time)`);
  return lines;
}
