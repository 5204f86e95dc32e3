#!/usr/bin/env -S node --import tsx
// Generates test/algopin/vectors.json and the vector tables of docs/algopin.md (between the
// `<!-- vectors:begin -->` / `<!-- vectors:end -->` markers) from the engine, after checking every
// hand-written expectation of the verification cases against the virtual lock. Run after a deliberate
// spec change only: `node --import tsx scripts/gen-algopin-vectors.ts` (add --check to only compare).

import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  type CodeKind,
  decodePin,
  derivePin,
  derivePinKey,
  encodeDescriptor,
  HOUR_MS,
  KIND_LIMITS,
  MAX_START_HOUR,
  type PinParams,
  pinTag,
  START_RESIDUE_MODULUS,
  TAG_DOMAIN,
} from '../src/algopin/index.ts';
import { VirtualLock } from '../src/lock/index.ts';

export const VECTORS_PATH = new URL('../test/algopin/vectors.json', import.meta.url);
export const DOC_PATH = new URL('../docs/algopin.md', import.meta.url);

/** Lock key 00 01 02 … 1f. Never use it for a real lock. */
export const TEST_LOCK_KEY_HEX = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
/** 2026-12-01T10:00:00Z in UTC epoch hours. */
const S = Date.UTC(2026, 11, 1, 10) / HOUR_MS;

export interface PinVector {
  name: string;
  epoch: number;
  params: PinParams;
  startsAt: string | null;
  descriptor: number;
  residue: number;
  hmacMessageHex: string;
  tag: number;
  pin: string;
}

export type Step =
  | { op: 'enter'; at: string; pin: string; accepted: boolean; reason_code?: string; note?: string }
  | { op: 'delete_pin'; at: string; pin: string }
  | { op: 'clear_lockout' }
  | { op: 'rotate_key'; lockKeyHex: string; epoch: number };

export interface VerificationCase {
  name: string;
  steps: Step[];
}

export interface Vectors {
  spec: string;
  lockKeyHex: string;
  pinKeys: { epoch: number; pinKeyHex: string }[];
  pins: PinVector[];
  verification: VerificationCase[];
}

const key = Buffer.from(TEST_LOCK_KEY_HEX, 'hex');
const pinKeyOf = (epoch: number): Buffer => derivePinKey(key, epoch);

function h(kind: 'hourly', durationHours: number, variance: number, startHour = S): PinParams {
  return { kind, startHour, durationHours, variance };
}
function d(durationDays: number, variance: number, startHour = S): PinParams {
  return { kind: 'daily', startHour, durationDays, variance };
}
function k(kind: Exclude<CodeKind, 'hourly' | 'daily'>, variance: number, startHour = S): PinParams {
  return { kind, startHour, variance };
}

const PIN_ROWS: [string, PinParams, number?][] = [
  ['hourly, shortest, variance 1', h('hourly', 1, 1)],
  ['hourly, shortest, variance 2', h('hourly', 1, 2)],
  ['hourly, shortest, variance 3', h('hourly', 1, 3)],
  ['hourly, 5 h (the CLI example)', h('hourly', 5, 1)],
  ['hourly, 24 h: longest without activation', h('hourly', 24, 2)],
  ['hourly, 25 h: shortest needing activation', h('hourly', 25, 1)],
  ['hourly, longest, variance 1', h('hourly', 672, 1)],
  ['hourly, longest, variance 3 (descriptor 2015, last hourly)', h('hourly', 672, 3)],
  ['daily, shortest, variance 1 (descriptor 2016, first daily)', d(29, 1)],
  ['daily, shortest, variance 2', d(29, 2)],
  ['daily, shortest, variance 3', d(29, 3)],
  ['daily, 30 days', d(30, 1)],
  ['daily, longest, variance 1', d(367, 1)],
  ['daily, longest, variance 3 (descriptor 3032, last of the class)', d(367, 3)],
  ['one-time, variance 1', k('one_time', 1)],
  ['one-time, variance 2', k('one_time', 2)],
  ['one-time, variance 3', k('one_time', 3)],
  ['one-time, variance 4', k('one_time', 4)],
  ['one-time, variance 5', k('one_time', 5)],
  ['permanent, variance 1', k('permanent', 1)],
  ['permanent, variance 2', k('permanent', 2)],
  ['permanent, variance 3', k('permanent', 3)],
  ['hourly 5 h, key epoch 1 (same code, rotated key)', h('hourly', 5, 1), 1],
  ['hourly, start hour 0 (1970-01-01T00Z)', h('hourly', 1, 1, 0)],
  ['daily, start hour 2^32 − 1 (largest)', d(367, 3, MAX_START_HOUR)],
  ['one-time, start hour ≡ 25 (mod 26)', k('one_time', 5, S + 17)],
  ['permanent, start hour 2^32 − 1', k('permanent', 3, MAX_START_HOUR)],
];

function hmacMessage(pinLength: number, startHour: number, descriptor: number): Buffer {
  const m = Buffer.alloc(12);
  m.write(TAG_DOMAIN, 0, 'ascii');
  m[5] = pinLength;
  m.writeUInt32BE(startHour, 6);
  m.writeUInt16BE(descriptor, 10);
  return m;
}

function pinVector([name, params, epoch = 0]: [string, PinParams, number?]): PinVector {
  const len = KIND_LIMITS[params.kind].pinLength;
  const descriptor = encodeDescriptor(params);
  const startMs = params.startHour * HOUR_MS;
  return {
    name,
    epoch,
    params,
    startsAt: Number.isSafeInteger(startMs) && startMs <= 8.64e15 ? new Date(startMs).toISOString() : null,
    descriptor,
    residue: params.startHour % START_RESIDUE_MODULUS,
    hmacMessageHex: hmacMessage(len, params.startHour, descriptor).toString('hex'),
    tag: pinTag(pinKeyOf(epoch), len, params.startHour, descriptor),
    pin: derivePin(pinKeyOf(epoch), params),
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();
const MIN = 60_000;
const t0 = S * HOUR_MS;

function verificationCases(pin: (p: PinParams, epoch?: number) => string): VerificationCase[] {
  const hourly5 = pin(h('hourly', 5, 1));
  const daily30 = pin(d(30, 1));
  const perm = pin(k('permanent', 1));
  const once = pin(k('one_time', 1));
  const hourly25 = pin(h('hourly', 25, 1));
  const enter = (at: number, p: string, accepted: boolean, reason_code?: string, note?: string): Step => {
    const s: Step = { op: 'enter', at: iso(at), pin: p, accepted };
    if (reason_code) s.reason_code = reason_code;
    if (note) s.note = note;
    return s;
  };
  const tampered = hourly5.slice(0, 9) + String((Number(hourly5[9]) + 1) % 10);
  const wrong = (at: number, i: number): Step =>
    enter(at, tampered, false, 'unknown_code', i === 6 ? '6th failure: keypad locked 1 min' : `failure ${i}`);
  return [
    { name: 'hourly 5 h: at its start', steps: [enter(t0, hourly5, true)] },
    { name: 'hourly 5 h: 15 min early (drift grace)', steps: [enter(t0 - 15 * MIN, hourly5, true)] },
    {
      name: 'hourly 5 h: 1 ms before the grace',
      steps: [enter(t0 - 15 * MIN - 1, hourly5, false, 'unknown_code')],
    },
    {
      name: 'hourly 5 h: last ms of the late grace',
      steps: [enter(t0 + 5 * HOUR_MS + 15 * MIN - 1, hourly5, true)],
    },
    {
      name: 'hourly 5 h: end + grace',
      steps: [enter(t0 + 5 * HOUR_MS + 15 * MIN, hourly5, false, 'expired_code')],
    },
    {
      name: 'hourly 25 h: the first use activates it, then it works to its end',
      steps: [
        enter(t0 + 24 * HOUR_MS, hourly25, true, undefined, 'first use inside 24 h + grace: activated'),
        enter(t0 + 25 * HOUR_MS + 15 * MIN - 1, hourly25, true, undefined, 'from the activated table'),
        enter(t0 + 25 * HOUR_MS + 15 * MIN, hourly25, false, 'expired_code'),
      ],
    },
    {
      name: 'daily 30 d: activated at the last moment, works to its end',
      steps: [
        enter(t0 + 24 * HOUR_MS + 15 * MIN - 1, daily30, true, undefined, 'activation deadline − 1 ms'),
        enter(t0 + 29 * 24 * HOUR_MS, daily30, true),
        enter(t0 + 30 * 24 * HOUR_MS + 15 * MIN - 1, daily30, true),
        enter(t0 + 30 * 24 * HOUR_MS + 15 * MIN, daily30, false, 'expired_code'),
      ],
    },
    {
      name: 'daily 30 d: activation window missed',
      steps: [
        enter(
          t0 + 24 * HOUR_MS + 15 * MIN,
          daily30,
          false,
          'expired_code',
          'recognised, too late to activate',
        ),
        enter(t0 + 3 * 24 * HOUR_MS, daily30, false, 'unknown_code', 'start hour no longer a candidate'),
      ],
    },
    {
      name: 'permanent: activated, then works years later',
      steps: [enter(t0 + HOUR_MS, perm, true), enter(t0 + 10 * 365 * 24 * HOUR_MS, perm, true)],
    },
    { name: 'permanent: never activated', steps: [enter(t0 + 48 * HOUR_MS, perm, false, 'unknown_code')] },
    {
      name: 'one-time: opens once',
      steps: [enter(t0 + HOUR_MS, once, true), enter(t0 + 2 * HOUR_MS, once, false, 'expired_code')],
    },
    {
      name: 'one-time: 24 h + grace after its start',
      steps: [enter(t0 + 24 * HOUR_MS + 15 * MIN, once, false, 'expired_code')],
    },
    {
      name: 'deleted over Bluetooth',
      steps: [
        enter(t0, hourly5, true),
        { op: 'delete_pin', at: iso(t0 + MIN), pin: hourly5 },
        enter(t0 + 2 * MIN, hourly5, false, 'blocklisted_code'),
      ],
    },
    {
      name: 'not algoPINs',
      steps: [
        enter(t0, '9999999999', false, 'unknown_code', 'descriptor out of range: no HMAC'),
        enter(t0, '1234567', false, 'unknown_code', '7 digits: no algoPIN class'),
        enter(t0, tampered, false, 'unknown_code', 'last digit of a valid PIN changed'),
      ],
    },
    {
      name: 'lockout: not reset by a correct PIN',
      steps: [
        ...[1, 2, 3, 4, 5, 6].map((i) => wrong(t0 + i * 1000, i)),
        enter(t0 + 30_000, hourly5, false, 'too_many_attempts', 'valid PIN, but locked'),
        enter(t0 + 66_000, hourly5, true, undefined, 'lockout over'),
        enter(t0 + 67_000, tampered, false, 'unknown_code', '7th failure: locked 2 min'),
        enter(t0 + 68_000, hourly5, false, 'too_many_attempts'),
        { op: 'clear_lockout' },
        enter(t0 + 69_000, hourly5, true, undefined, 'admin cleared the lockout'),
      ],
    },
    {
      name: 'key rotation to epoch 1',
      steps: [
        enter(t0 + HOUR_MS, daily30, true, undefined, 'activated under epoch 0'),
        { op: 'rotate_key', lockKeyHex: TEST_LOCK_KEY_HEX, epoch: 1 },
        enter(t0 + 2 * HOUR_MS, daily30, true, undefined, 'activated codes survive rotation'),
        enter(t0 + 2 * HOUR_MS, hourly5, false, 'unknown_code', 'never-used epoch-0 PIN'),
        enter(t0 + 2 * HOUR_MS, pin(h('hourly', 5, 1), 1), true, undefined, 'epoch-1 PIN of the same code'),
      ],
    },
  ];
}

/** Run one case on a fresh lock (clock = true time). Returns a list of mismatches. */
export function runCase(c: VerificationCase, lockKeyHex: string): string[] {
  const lock = VirtualLock.create({ lockKey: Buffer.from(lockKeyHex, 'hex') });
  const problems: string[] = [];
  c.steps.forEach((s, i) => {
    if (s.op === 'enter') {
      const r = lock.enterPin(s.pin, Date.parse(s.at));
      if (r.accepted !== s.accepted || r.reason_code !== s.reason_code) {
        problems.push(
          `${c.name} step ${i + 1}: expected ${s.accepted}/${s.reason_code}, got ${r.accepted}/${r.reason_code}`,
        );
      }
    } else if (s.op === 'delete_pin') lock.deletePin(s.pin, Date.parse(s.at));
    else if (s.op === 'clear_lockout') lock.clearLockout();
    else lock.rotateKey(Buffer.from(s.lockKeyHex, 'hex'), s.epoch);
  });
  return problems;
}

export function buildVectors(): Vectors {
  const pins = PIN_ROWS.map(pinVector);
  const vectors: Vectors = {
    spec: 'algoPIN v1, docs/algopin.md',
    lockKeyHex: TEST_LOCK_KEY_HEX,
    pinKeys: [0, 1].map((epoch) => ({ epoch, pinKeyHex: pinKeyOf(epoch).toString('hex') })),
    pins,
    verification: verificationCases((p, epoch = 0) => derivePin(pinKeyOf(epoch), p)),
  };
  for (const p of pins)
    if (decodePin(p.pin)?.descriptor !== p.descriptor) throw new Error(`decode ${p.name}`);
  const problems = vectors.verification.flatMap((c) => runCase(c, TEST_LOCK_KEY_HEX));
  if (problems.length > 0)
    throw new Error(`the lock disagrees with the expected outcomes:\n${problems.join('\n')}`);
  return vectors;
}

function paramsCell(p: PinParams): string {
  const dur =
    p.durationHours !== undefined
      ? `${p.durationHours} h`
      : p.durationDays !== undefined
        ? `${p.durationDays} d`
        : '–';
  return `${p.kind} | ${p.startHour} | ${dur} | ${p.variance}`;
}

/** The Markdown that docs/algopin.md carries between the vector markers. */
export function renderMarkdown(v: Vectors): string {
  const lines = [
    `Lock key (hex): \`${v.lockKeyHex}\``,
    '',
    ...v.pinKeys.map((k) => `- K_pin for epoch ${k.epoch}: \`${k.pinKeyHex}\``),
    '',
    '#### Derivation vectors',
    '',
    '| # | case | epoch | kind | start hour | duration | variance | starts at (UTC) | D | r | HMAC message (hex) | tag | PIN |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...v.pins.map(
      (p, i) =>
        `| ${i + 1} | ${p.name} | ${p.epoch} | ${paramsCell(p.params)} | ${p.startsAt ?? 'beyond year 275760'} | ${p.descriptor} | ${p.residue} | \`${p.hmacMessageHex}\` | ${p.tag} | \`${p.pin}\` |`,
    ),
    '',
    '#### Verification vectors',
    '',
    'Each case starts from a fresh lock holding the key above at epoch 0, clock exact, empty tables.',
    '`at` is the lock clock; `expected` is `accept` or `reject` with the Seam reason code.',
    '',
  ];
  lines.push('| # | case | step | PIN | at (lock clock) | expected |', '|---|---|---|---|---|---|');
  v.verification.forEach((c, ci) => {
    c.steps.forEach((s, si) => {
      const head = si === 0 ? `| ${ci + 1} | ${c.name} |` : `| ${ci + 1} | |`;
      if (s.op === 'enter') {
        const outcome = s.accepted ? 'accept' : `reject \`${s.reason_code}\``;
        lines.push(`${head} type | \`${s.pin}\` | ${s.at} | ${outcome}${s.note ? ` — ${s.note}` : ''} |`);
      } else if (s.op === 'delete_pin') lines.push(`${head} Bluetooth: delete | \`${s.pin}\` | ${s.at} | |`);
      else if (s.op === 'clear_lockout') lines.push(`${head} Bluetooth: clear lockout | | | |`);
      else lines.push(`${head} Bluetooth: rotate to the same lock key, epoch ${s.epoch} | | | |`);
    });
  });
  return lines.join('\n');
}

export const BEGIN = '<!-- vectors:begin (generated by scripts/gen-algopin-vectors.ts; do not edit) -->';
export const END = '<!-- vectors:end -->';

/**
 * Markdown in a comparable form: Biome aligns table columns, so table rows are compared cell by cell
 * (trimmed) and separator rows as '---'; other lines without trailing spaces.
 */
export function normalizeMarkdown(md: string): string {
  return md
    .split('\n')
    .map((line) => {
      if (!line.startsWith('|')) return line.trimEnd();
      const cells = line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
      return cells.every((c) => /^:?-+:?$/.test(c)) ? '---' : cells.join('|');
    })
    .join('\n')
    .trim();
}

export function docBlock(doc: string): string | null {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  return a < 0 || b < a ? null : doc.slice(a + BEGIN.length, b).trim();
}

function main(): void {
  const v = buildVectors();
  const json = `${JSON.stringify(v, null, 2)}\n`;
  const doc = readFileSync(DOC_PATH, 'utf8');
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error('docs/algopin.md lacks the vector markers');
  const newDoc = `${doc.slice(0, a + BEGIN.length)}\n\n${renderMarkdown(v)}\n\n${doc.slice(b)}`;
  if (process.argv.includes('--check')) {
    const block = docBlock(doc);
    const same =
      readFileSync(VECTORS_PATH, 'utf8') === json &&
      block !== null &&
      normalizeMarkdown(block) === normalizeMarkdown(renderMarkdown(v));
    console.log(same ? 'vectors up to date' : 'vectors differ from the engine');
    process.exitCode = same ? 0 : 1;
    return;
  }
  writeFileSync(VECTORS_PATH, json);
  writeFileSync(DOC_PATH, newDoc);
  console.log(`wrote ${v.pins.length} derivation and ${v.verification.length} verification vectors`);
  console.log('now run: npx biome format --write docs/algopin.md (it aligns the tables)');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
