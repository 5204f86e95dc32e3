// The virtual lock: what the firmware of an offline keypad lock does with a typed PIN.
// It knows its key, its own clock and its own stored state, and nothing else: never the server's codes.
// Its only project import is the algoPIN engine.

import {
  type CodeKind,
  codeWindow,
  type DecodedPin,
  decodePin,
  derivePinKey,
  LOCK_KEY_BYTES,
  MAX_EPOCH,
  type PinParams,
  verifyCandidate,
} from '../algopin/index.ts';
import { type ClockState, localTime, syncedClock } from './clock.ts';
import { emptyLockout, isLockedOut, type LockoutState, leak, recordFailure } from './lockout.ts';
import {
  type AccessLogEntry,
  type ActivatedEntry,
  type Capacities,
  DEFAULT_CAPACITIES,
  type DenialReason,
  type Detail,
  type LockState,
  LockStateError,
  ONLINE_PIN,
  type OneTimeUse,
  parseState,
  type Revocation,
  STATE_FORMAT,
  STATE_VERSION,
} from './state.ts';

export interface EnterPinResult {
  accepted: boolean;
  reason_code?: DenialReason;
  detail: Detail;
  /** The code the PIN was recognised as (absent when it was not recognised). */
  kind?: CodeKind;
  startHour?: number;
  variance?: number;
  durationHours?: number;
  durationDays?: number;
  /** True when this entry activated a long code (first use inside its 24 h activation window). */
  activated?: boolean;
  /** True when the PIN opened as an online code (programmed through the bridge); kind etc. are then absent. */
  online?: true;
  /** The lock's own clock at the attempt. */
  lockTimeMs: number;
  /** Set when the keypad is locked after (or during) this attempt: lock-clock instant it reopens. */
  lockedUntilMs?: number;
}

export interface DeletePinResult {
  /** True when the PIN is now on the revocation list (false: it cannot be an algoPIN at all). */
  revoked: boolean;
  /** True when the lock recognised the code (activated, or its start hour is recent) and knows its end. */
  recognized: boolean;
  /** Lock-clock instant after which the revocation entry may be dropped; null = kept for ever. */
  untilMs: number | null;
}

export interface CreateOptions {
  lockKey: Uint8Array;
  epoch?: number;
  /** Initial clock error (lock minus true time) in ms. */
  clockOffsetMs?: number;
  /** Crystal drift in parts per million, counted from rateAnchorMs (default 0). */
  clockRatePpm?: number;
  rateAnchorMs?: number;
  capacities?: Partial<Capacities>;
}

/** The lock refused an admin operation because a bounded table is full of live entries. */
export class LockStorageFullError extends Error {
  override readonly name = 'LockStorageFullError';
}

interface Outcome {
  accepted: boolean;
  reason?: DenialReason;
  detail: Detail;
  /** Whether a refusal counts toward the lockout (storage-full refusals of a genuine code do not). */
  counts: boolean;
  params?: PinParams;
  decoded?: DecodedPin;
  activated?: boolean;
  online?: true;
}

export class VirtualLock {
  #state: LockState;
  #pinKey: Buffer;

  private constructor(state: LockState) {
    this.#state = state;
    this.#pinKey = derivePinKey(Buffer.from(state.lockKey, 'hex'), state.epoch);
  }

  static create(opts: CreateOptions): VirtualLock {
    if (!(opts.lockKey instanceof Uint8Array) || opts.lockKey.length !== LOCK_KEY_BYTES) {
      throw new RangeError(`lockKey must be ${LOCK_KEY_BYTES} bytes`);
    }
    const capacities = { ...DEFAULT_CAPACITIES, ...opts.capacities };
    for (const [k, v] of Object.entries(capacities)) {
      if (!Number.isSafeInteger(v) || v < 1)
        throw new RangeError(`capacities.${k} must be a positive integer`);
    }
    return new VirtualLock({
      format: STATE_FORMAT,
      version: STATE_VERSION,
      lockKey: Buffer.from(opts.lockKey).toString('hex'),
      epoch: opts.epoch ?? 0,
      clock: {
        offsetMs: opts.clockOffsetMs ?? 0,
        ratePpm: opts.clockRatePpm ?? 0,
        rateAnchorMs: opts.rateAnchorMs ?? 0,
      },
      lockout: emptyLockout(),
      activated: [],
      oneTimeUsed: [],
      revoked: [],
      onlineCodes: [],
      log: { nextSeq: 1, entries: [] },
      capacities,
    });
  }

  /** Power-on from persisted state. Throws LockStateError on a corrupt state. */
  static restore(json: string): VirtualLock {
    const state = parseState(json);
    try {
      return new VirtualLock(state);
    } catch (e) {
      throw new LockStateError(`state.lockKey/epoch unusable: ${(e as Error).message}`);
    }
  }

  /** The persistent state as JSON, in normal form (restore(s).serialize() === s). */
  serialize(): string {
    return JSON.stringify(parseState(JSON.stringify(this.#state)));
  }

  // --- read-only views ---

  get epoch(): number {
    return this.#state.epoch;
  }

  /** What the lock's clock reads at this true instant. */
  lockTime(trueNowMs: number): number {
    return localTime(this.#state.clock, trueNowMs);
  }

  get clock(): Readonly<ClockState> {
    return { ...this.#state.clock };
  }

  get capacities(): Readonly<Capacities> {
    return { ...this.#state.capacities };
  }

  get accessLog(): readonly AccessLogEntry[] {
    return this.#state.log.entries.map((e) => ({ ...e }));
  }

  /** Log entries with seq > afterSeq (what a bridge or phone would upload). */
  accessLogSince(afterSeq: number): AccessLogEntry[] {
    return this.#state.log.entries.filter((e) => e.seq > afterSeq).map((e) => ({ ...e }));
  }

  get activatedCodes(): readonly ActivatedEntry[] {
    return this.#state.activated.map((e) => ({ ...e }));
  }

  get revokedPins(): readonly Revocation[] {
    return this.#state.revoked.map((e) => ({ ...e }));
  }

  get oneTimeUsed(): readonly OneTimeUse[] {
    return this.#state.oneTimeUsed.map((e) => ({ ...e }));
  }

  /** The online PINs the bridge has programmed, oldest first. */
  get onlineCodes(): readonly string[] {
    return this.#state.onlineCodes.map((e) => e.pin);
  }

  /** Lockout counter as it stands at trueNowMs (the leak applied, state untouched). */
  lockoutStatus(trueNowMs: number): {
    failures: number;
    totalFailures: number;
    lockedUntilMs: number;
    lockedOut: boolean;
  } {
    const now = this.lockTime(trueNowMs);
    const copy: LockoutState = { ...this.#state.lockout };
    leak(copy, now);
    return {
      failures: copy.failures,
      totalFailures: copy.totalFailures,
      lockedUntilMs: copy.lockedUntilMs,
      lockedOut: isLockedOut(copy, now),
    };
  }

  // --- keypad ---

  enterPin(pin: string, trueNowMs: number): EnterPinResult {
    if (typeof pin !== 'string') throw new TypeError('pin must be a string of digits');
    requireInt('trueNowMs', trueNowMs);
    const now = this.lockTime(trueNowMs);
    const lockout = this.#state.lockout;
    leak(lockout, now);
    if (isLockedOut(lockout, now)) {
      // Not checked, not counted: nothing is learned and the lockout is not extended by hammering.
      this.#log({
        at: now,
        event: 'pin_denied',
        pin,
        reason_code: 'too_many_attempts',
        detail: 'locked_out',
      });
      return {
        accepted: false,
        reason_code: 'too_many_attempts',
        detail: 'locked_out',
        lockTimeMs: now,
        lockedUntilMs: lockout.lockedUntilMs,
      };
    }
    // The length says which table: 4–6 digits are online codes, never algoPINs (those are 7 or more).
    const o = ONLINE_PIN.test(pin) ? this.#checkOnline(pin) : this.#check(pin, now);
    const result: EnterPinResult = { accepted: o.accepted, detail: o.detail, lockTimeMs: now };
    if (o.reason) result.reason_code = o.reason;
    if (o.params) {
      result.kind = o.params.kind;
      result.startHour = o.params.startHour;
      result.variance = o.params.variance;
      if (o.decoded?.durationHours !== undefined) result.durationHours = o.decoded.durationHours;
      if (o.decoded?.durationDays !== undefined) result.durationDays = o.decoded.durationDays;
    }
    if (o.activated) result.activated = true;
    if (o.online) result.online = true;
    if (!o.accepted && o.counts) {
      const until = recordFailure(lockout, now);
      if (until > 0) result.lockedUntilMs = until;
    }
    this.#log({
      at: now,
      event: o.accepted ? 'pin_accepted' : 'pin_denied',
      pin,
      reason_code: o.reason,
      detail: o.detail,
      kind: o.params?.kind,
      startHour: o.params?.startHour,
      variance: o.params?.variance,
    });
    return result;
  }

  /**
   * An online code: exact match against what the bridge programmed; no key, no window. The lock never sees the
   * server's list, only this table. A miss counts toward the lockout like any wrong PIN; the caller has
   * already refused the attempt if the keypad is locked.
   */
  #checkOnline(pin: string): Outcome {
    if (this.#state.onlineCodes.some((e) => e.pin === pin)) {
      return { accepted: true, detail: 'online_code', counts: false, online: true };
    }
    // Same detail as before the table existed: a 4–6 digit PIN is not an algoPIN, and it is not programmed.
    return { accepted: false, reason: 'unknown_code', detail: 'not_an_algopin', counts: true };
  }

  /** The verification procedure of docs/algopin.md §6, at lock time `now`. At most one HMAC. */
  #check(pin: string, now: number): Outcome {
    const revoked = this.#state.revoked.find((r) => r.pin === pin);
    if (revoked && (revoked.untilMs === null || now < revoked.untilMs)) {
      return { accepted: false, reason: 'blocklisted_code', detail: 'revoked', counts: true };
    }
    const decoded = decodePin(pin);
    if (decoded === null)
      return { accepted: false, reason: 'unknown_code', detail: 'not_an_algopin', counts: true };

    // Always compute the candidate (one HMAC), even when the table will answer: constant work per attempt,
    // and a PIN that happens to equal an older activated one is still recognised for its own start hour.
    const cand = verifyCandidate(this.#pinKey, decoded, now);
    const entries = this.#state.activated.filter((e) => e.pin === pin);
    const live = entries.find(
      (e) => e.acceptFromMs <= now && (e.acceptUntilMs === null || now < e.acceptUntilMs),
    );
    if (live) {
      return {
        accepted: true,
        detail: 'activated_code',
        counts: false,
        decoded,
        params: { ...paramsFromEntry(live, decoded) },
      };
    }
    if (cand?.tagMatches) {
      const w = codeWindow(cand.params);
      const base = { decoded, params: cand.params };
      if (now < w.acceptFromMs)
        return { ...base, accepted: false, reason: 'unknown_code', detail: 'no_match', counts: true };
      if (w.acceptUntilMs !== null && now >= w.acceptUntilMs) {
        return { ...base, accepted: false, reason: 'expired_code', detail: 'window_ended', counts: true };
      }
      if (w.oneTimeUse) {
        const used = this.#state.oneTimeUsed;
        if (used.some((u) => u.pin === pin && u.startHour === cand.startHour)) {
          return { ...base, accepted: false, reason: 'expired_code', detail: 'already_used', counts: true };
        }
        dropExpired(used, (u) => u.untilMs <= now);
        if (used.length >= this.#state.capacities.oneTime) {
          return {
            ...base,
            accepted: false,
            reason: 'unknown_code',
            detail: 'one_time_memory_full',
            counts: false,
          };
        }
        used.push({ pin, startHour: cand.startHour, usedAtMs: now, untilMs: w.acceptUntilMs as number });
        return { ...base, accepted: true, detail: 'one_time_used_now', counts: false };
      }
      if (w.activationDeadlineMs === null)
        return { ...base, accepted: true, detail: 'within_window', counts: false };
      if (entries.some((e) => e.startHour === cand.startHour)) {
        // Activated earlier and no longer live (its window ended, or the clock was set back before its start).
        return { ...base, accepted: false, reason: 'expired_code', detail: 'window_ended', counts: true };
      }
      if (now >= w.activationDeadlineMs) {
        return {
          ...base,
          accepted: false,
          reason: 'expired_code',
          detail: 'activation_window_missed',
          counts: true,
        };
      }
      const table = this.#state.activated;
      if (table.length >= this.#state.capacities.activated) {
        // Make room only by dropping codes whose window is over; never evict a live one.
        dropExpired(table, (e) => e.acceptUntilMs !== null && e.acceptUntilMs <= now);
        if (table.length >= this.#state.capacities.activated) {
          return {
            ...base,
            accepted: false,
            reason: 'unknown_code',
            detail: 'activation_table_full',
            counts: false,
          };
        }
      }
      table.push({
        pin,
        kind: cand.params.kind,
        startHour: cand.startHour,
        variance: cand.params.variance,
        windowHours: decoded.windowHours,
        acceptFromMs: w.acceptFromMs,
        acceptUntilMs: w.acceptUntilMs,
        activatedAtMs: now,
        epoch: this.#state.epoch,
      });
      return { ...base, accepted: true, detail: 'activated_now', activated: true, counts: false };
    }
    if (entries.length > 0) {
      const last = entries[entries.length - 1] as ActivatedEntry;
      return {
        accepted: false,
        reason: 'expired_code',
        detail: 'window_ended',
        counts: true,
        decoded,
        params: paramsFromEntry(last, decoded),
      };
    }
    return { accepted: false, reason: 'unknown_code', detail: 'no_match', counts: true };
  }

  // --- Bluetooth admin operations (authenticated owner session; not subject to the keypad lockout) ---

  /** Time sync from the admin's phone: from now on the lock clock reads lockTimeMs (default: true time). */
  setTime(trueNowMs: number, lockTimeMs: number = trueNowMs): void {
    requireInt('trueNowMs', trueNowMs);
    requireInt('lockTimeMs', lockTimeMs);
    this.#state.clock = syncedClock(this.#state.clock, trueNowMs, lockTimeMs);
    this.#log({ at: lockTimeMs, event: 'set_time' });
  }

  /**
   * Simulation knob (not a lock operation, so not logged): make the clock run driftMs ahead (+) or
   * behind (−) of true time. With trueNowMs the rate drift is also re-anchored there.
   */
  setClockDrift(driftMs: number, trueNowMs?: number): void {
    requireInt('driftMs', driftMs);
    const c = this.#state.clock;
    if (trueNowMs !== undefined) requireInt('trueNowMs', trueNowMs);
    this.#state.clock = { offsetMs: driftMs, ratePpm: c.ratePpm, rateAnchorMs: trueNowMs ?? c.rateAnchorMs };
  }

  /** Simulation knob: the crystal gains (+) or loses (−) ppm from trueNowMs on, keeping the current reading. */
  setClockRate(ratePpm: number, trueNowMs: number): void {
    if (!Number.isFinite(ratePpm)) throw new RangeError('ratePpm must be a finite number');
    requireInt('trueNowMs', trueNowMs);
    const reading = this.lockTime(trueNowMs);
    this.#state.clock = { offsetMs: reading - trueNowMs, ratePpm, rateAnchorMs: trueNowMs };
  }

  /**
   * Delete a PIN over Bluetooth: it never opens again. The PIN goes on the revocation list until its code
   * cannot be valid any more (for ever when the lock cannot tell its start, or for permanent codes), and
   * leaves the activated table. `untilMs` (lock clock) may be supplied by the admin app, which knows the end.
   */
  deletePin(pin: string, trueNowMs?: number, opts: { untilMs?: number | null } = {}): DeletePinResult {
    // Without a time the lock can still revoke, but cannot recognise a never-used code (no candidate hour).
    const now = trueNowMs === undefined ? null : this.lockTime(trueNowMs);
    const decoded = decodePin(pin);
    if (decoded === null) return { revoked: false, recognized: false, untilMs: null };
    let until: number | null = null;
    let recognized = false;
    const entries = this.#state.activated.filter((e) => e.pin === pin);
    const cand = now === null ? null : verifyCandidate(this.#pinKey, decoded, now);
    const ends: (number | null)[] = entries.map((e) => e.acceptUntilMs);
    if (cand?.tagMatches) ends.push(codeWindow(cand.params).acceptUntilMs);
    if (ends.length > 0) {
      recognized = true;
      until = ends.includes(null) ? null : Math.max(...(ends as number[]));
    } else if (opts.untilMs !== undefined) {
      until = opts.untilMs;
    }
    const list = this.#state.revoked;
    const existing = list.find((r) => r.pin === pin);
    if (existing) {
      existing.untilMs =
        existing.untilMs === null || until === null ? null : Math.max(existing.untilMs, until);
    } else {
      if (now !== null) dropExpired(list, (r) => r.untilMs !== null && r.untilMs <= now);
      if (list.length >= this.#state.capacities.revoked) {
        throw new LockStorageFullError(`revocation list full (${list.length} live entries)`);
      }
      list.push({ pin, revokedAtMs: now, untilMs: until });
    }
    this.#state.activated = this.#state.activated.filter((e) => e.pin !== pin);
    this.#log({ at: now, event: 'delete_pin', pin });
    return { revoked: true, recognized, untilMs: existing ? existing.untilMs : until };
  }

  /** Owner clears the keypad lockout over Bluetooth. */
  clearLockout(trueNowMs?: number): void {
    const lockout = this.#state.lockout;
    lockout.failures = 0;
    lockout.lockedUntilMs = 0;
    this.#log({ at: trueNowMs === undefined ? null : this.lockTime(trueNowMs), event: 'clear_lockout' });
  }

  /**
   * Install a new lock key (two-phase on the server: it switches only after the lock confirms).
   * Activated codes, revocations and one-time memory stay; never-used PINs of the old epoch stop working.
   */
  rotateKey(newKey: Uint8Array, epoch: number, trueNowMs?: number): void {
    if (!(newKey instanceof Uint8Array) || newKey.length !== LOCK_KEY_BYTES) {
      throw new RangeError(`new key must be ${LOCK_KEY_BYTES} bytes`);
    }
    if (!Number.isInteger(epoch) || epoch <= this.#state.epoch || epoch > MAX_EPOCH) {
      throw new RangeError(`new epoch must be an integer above the current one (${this.#state.epoch})`);
    }
    this.#pinKey = derivePinKey(newKey, epoch);
    this.#state.lockKey = Buffer.from(newKey).toString('hex');
    this.#state.epoch = epoch;
    this.#log({ at: trueNowMs === undefined ? null : this.lockTime(trueNowMs), event: 'rotate_key', epoch });
  }

  // --- bridge admin operations (online codes; authenticated like Bluetooth: logged, no keypad lockout) ---

  /**
   * Program an online code (4–6 digits) through the bridge. Idempotent: a PIN already in the table is left as
   * it is, so a retried bridge job succeeds. A full table throws LockStorageFullError and evicts nothing.
   */
  programOnlineCode(pin: string, trueNowMs: number): void {
    requireOnlinePin(pin);
    requireInt('trueNowMs', trueNowMs);
    const now = this.lockTime(trueNowMs);
    const table = this.#state.onlineCodes;
    if (!table.some((e) => e.pin === pin)) {
      if (table.length >= this.#state.capacities.onlineCodes) {
        throw new LockStorageFullError(`online-code table full (${table.length} codes)`);
      }
      table.push({ pin, programmedAtMs: now });
    }
    this.#log({ at: now, event: 'program_online_code', pin });
  }

  /** Remove an online code through the bridge. Idempotent: returns false when the PIN was not programmed. */
  removeOnlineCode(pin: string, trueNowMs: number): boolean {
    requireOnlinePin(pin);
    requireInt('trueNowMs', trueNowMs);
    const now = this.lockTime(trueNowMs);
    const table = this.#state.onlineCodes;
    const i = table.findIndex((e) => e.pin === pin);
    if (i >= 0) table.splice(i, 1);
    this.#log({ at: now, event: 'remove_online_code', pin });
    return i >= 0;
  }

  #log(entry: Omit<AccessLogEntry, 'seq'>): void {
    const log = this.#state.log;
    const clean: AccessLogEntry = { seq: log.nextSeq++, at: entry.at, event: entry.event };
    for (const k of ['pin', 'reason_code', 'detail', 'kind', 'startHour', 'variance', 'epoch'] as const) {
      if (entry[k] !== undefined) (clean as unknown as Record<string, unknown>)[k] = entry[k];
    }
    log.entries.push(clean);
    // shift() is O(1) in V8 (left-trimming); splice(0, n) copied the whole ring on every attempt.
    while (log.entries.length > this.#state.capacities.log) log.entries.shift();
  }
}

function paramsFromEntry(e: ActivatedEntry, decoded: DecodedPin): PinParams {
  const p: PinParams = { kind: e.kind, startHour: e.startHour, variance: e.variance };
  if (e.kind === 'hourly') p.durationHours = decoded.durationHours as number;
  if (e.kind === 'daily') p.durationDays = decoded.durationDays as number;
  return p;
}

function dropExpired<T>(list: T[], expired: (item: T) => boolean): void {
  for (let i = list.length - 1; i >= 0; i--) if (expired(list[i] as T)) list.splice(i, 1);
}

function requireOnlinePin(pin: string): void {
  if (typeof pin !== 'string' || !ONLINE_PIN.test(pin))
    throw new RangeError('an online code must be 4 to 6 digits');
}

function requireInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v)) throw new RangeError(`${name} must be an integer number of milliseconds`);
}
