import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type BridgeWork,
  bridgeWork,
  checkOnlineCode,
  type OnlineTimeFrame,
  planOnlineTimeFrame,
  wantedOnLock,
} from '../../../src/domain/access-codes/online.ts';
import { AccessCodeRuleError } from '../../../src/domain/access-codes/rule-error.ts';

// The pure rules of online codes (contract §6): their time frame, the PINs a keypad takes, and what the
// bridge must do to a lock at a given instant for each state a code can be in. Instants are relative to a
// fixed clock, deliberately not on the hour.

const NOW = Date.parse('2030-01-07T09:30:12.345Z');
const MIN = 60_000;
const HOUR = 60 * MIN;

/** Runs `f`, which must throw an AccessCodeRuleError 400 invalid_input whose message matches `message`. */
function assertInvalid(f: () => unknown, message: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof AccessCodeRuleError, String(e));
    assert.equal(e.status, 400);
    assert.equal(e.type, 'invalid_input');
    assert.match(e.message, message);
    return true;
  });
}

describe('planOnlineTimeFrame', () => {
  const ok: [string, { starts_at?: number; ends_at?: number }, OnlineTimeFrame][] = [
    ['neither instant: ongoing', {}, { type: 'ongoing', starts_at: null, ends_at: null }],
    [
      'both, in the future: time-bound, instants unrounded',
      { starts_at: NOW + HOUR + 7, ends_at: NOW + 3 * HOUR + 11 },
      { type: 'time_bound', starts_at: NOW + HOUR + 7, ends_at: NOW + 3 * HOUR + 11 },
    ],
    [
      'a start in the past is fine (the code is live at once)',
      { starts_at: NOW - 5 * HOUR, ends_at: NOW + HOUR },
      { type: 'time_bound', starts_at: NOW - 5 * HOUR, ends_at: NOW + HOUR },
    ],
    [
      'the shortest frame: 1 ms, ending 1 ms from now',
      { starts_at: NOW, ends_at: NOW + 1 },
      { type: 'time_bound', starts_at: NOW, ends_at: NOW + 1 },
    ],
    [
      'no upper bound on the length (online codes have no algoPIN ranges)',
      { starts_at: NOW, ends_at: NOW + 5 * 366 * 24 * HOUR },
      { type: 'time_bound', starts_at: NOW, ends_at: NOW + 5 * 366 * 24 * HOUR },
    ],
  ];
  for (const [name, request, want] of ok) {
    it(name, () => assert.deepEqual(planOnlineTimeFrame({ ...request, now: NOW }), want));
  }

  const refused: [string, { starts_at?: number; ends_at?: number }, RegExp][] = [
    ['a start without an end', { starts_at: NOW + HOUR }, /both starts_at and ends_at/],
    ['an end without a start', { ends_at: NOW + HOUR }, /both starts_at and ends_at/],
    ['an end equal to the start', { starts_at: NOW + HOUR, ends_at: NOW + HOUR }, /after starts_at/],
    ['an end before the start', { starts_at: NOW + 2 * HOUR, ends_at: NOW + HOUR }, /after starts_at/],
    ['an end now', { starts_at: NOW - HOUR, ends_at: NOW }, /in the future.*2030-01-07T09:30:12\.345Z/],
    ['an end in the past', { starts_at: NOW - 2 * HOUR, ends_at: NOW - HOUR }, /in the future/],
  ];
  for (const [name, request, message] of refused) {
    it(`refuses ${name} with 400 invalid_input`, () =>
      assertInvalid(() => planOnlineTimeFrame({ ...request, now: NOW }), message));
  }
});

describe('checkOnlineCode', () => {
  for (const code of ['1234', '0000', '12345', '123456', '000000', '999999']) {
    it(`takes ${code} (${code.length} digits)`, () => assert.doesNotThrow(() => checkOnlineCode(code)));
  }
  const refused: [string, string][] = [
    ['', 'empty'],
    ['123', '3 digits'],
    ['1234567', '7 digits (the length of an algoPIN)'],
    ['1234567890', '10 digits'],
    ['12a4', 'a letter'],
    ['abcd', 'letters only'],
    ['12 34', 'a space'],
    ['-1234', 'a sign'],
    ['12.45', 'a decimal point'],
    ['１２３４', 'full-width digits'],
    ['١٢٣٤', 'Arabic-Indic digits'],
    ['1234\n', 'a trailing newline'],
  ];
  for (const [code, why] of refused) {
    it(`refuses ${JSON.stringify(code)} (${why}) with 400 invalid_input naming the lengths`, () =>
      assertInvalid(() => checkOnlineCode(code), /4, 5, 6 digits/));
  }
});

type Desired = Parameters<typeof wantedOnLock>[0];

const ongoing: Desired = { starts_at: null, ends_at: null, delete_requested: false };
const START = NOW + 2 * HOUR;
const END = START + 3 * HOUR;
const bounded: Desired = { starts_at: START, ends_at: END, delete_requested: false };

describe('wantedOnLock', () => {
  const cases: [string, Desired, number, boolean][] = [
    ['ongoing, now', ongoing, NOW, true],
    ['ongoing, years later', ongoing, NOW + 10 * 366 * 24 * HOUR, true],
    ['ongoing, deleted', { ...ongoing, delete_requested: true }, NOW, false],
    ['time-bound, before its start', bounded, START - 1, false],
    ['time-bound, at its start', bounded, START, true],
    ['time-bound, inside', bounded, START + HOUR, true],
    ['time-bound, 1 ms before its end', bounded, END - 1, true],
    ['time-bound, at its end', bounded, END, false],
    ['time-bound, after its end', bounded, END + HOUR, false],
    ['time-bound, deleted inside its frame', { ...bounded, delete_requested: true }, START + HOUR, false],
    ['open end (start only), after the start', { ...bounded, ends_at: null }, END + HOUR, true],
    ['open start (end only), before the end', { ...bounded, starts_at: null }, NOW, true],
  ];
  for (const [name, code, t, want] of cases) {
    it(`${name}: ${want ? 'on the lock' : 'off the lock'}`, () => assert.equal(wantedOnLock(code, t), want));
  }
});

describe('bridgeWork', () => {
  type Code = Parameters<typeof bridgeWork>[0];
  const code = (over: Partial<Code>): Code => ({
    ...bounded,
    code: '482913',
    programmed_code: null,
    ...over,
  });
  const nothing = (next_at: number | null): BridgeWork => ({
    remove: null,
    program: null,
    finished: false,
    next_at,
  });

  const cases: [string, Code, number, BridgeWork][] = [
    // Before the start: nothing to do until the start.
    ['time-bound, before its start, not programmed', code({}), NOW, nothing(START)],
    ['time-bound, 1 ms before its start', code({}), START - 1, nothing(START)],
    // Started, not programmed yet (the job at the start, or a bridge that was off-line).
    [
      'time-bound, started, not programmed',
      code({}),
      START,
      { remove: null, program: '482913', finished: false, next_at: END },
    ],
    [
      'ongoing, not programmed',
      code({ ...ongoing }),
      NOW,
      { remove: null, program: '482913', finished: false, next_at: null },
    ],
    // Programmed and wanted: steady, the next visit at the end.
    ['time-bound, programmed, inside', code({ programmed_code: '482913' }), START + HOUR, nothing(END)],
    ['ongoing, programmed', code({ ...ongoing, programmed_code: '482913' }), NOW, nothing(null)],
    // The PIN changed by an update: swap it on the lock.
    [
      'time-bound, code changed while programmed, inside',
      code({ code: '1357', programmed_code: '482913' }),
      START + HOUR,
      { remove: '482913', program: '1357', finished: false, next_at: END },
    ],
    [
      'ongoing, code changed while programmed',
      code({ ...ongoing, code: '24680', programmed_code: '482913' }),
      NOW,
      { remove: '482913', program: '24680', finished: false, next_at: null },
    ],
    [
      'code changed before the start, not programmed: nothing until the start',
      code({ code: '1357' }),
      NOW,
      nothing(START),
    ],
    // The frame moved into the future while programmed: off the lock until the new start.
    [
      'programmed, frame moved later',
      code({ programmed_code: '482913' }),
      NOW,
      { remove: '482913', program: null, finished: false, next_at: START },
    ],
    [
      'programmed with the old PIN, frame moved later and code changed',
      code({ code: '1357', programmed_code: '482913' }),
      NOW,
      { remove: '482913', program: null, finished: false, next_at: START },
    ],
    // Deleted through the API.
    [
      'deleted, programmed',
      code({ programmed_code: '482913', delete_requested: true }),
      START + HOUR,
      { remove: '482913', program: null, finished: true, next_at: null },
    ],
    [
      'deleted, programmed with an old PIN (update then delete before the swap)',
      code({ code: '1357', programmed_code: '482913', delete_requested: true }),
      START + HOUR,
      { remove: '482913', program: null, finished: true, next_at: null },
    ],
    [
      'deleted, ongoing, programmed',
      code({ ...ongoing, programmed_code: '482913', delete_requested: true }),
      NOW,
      { remove: '482913', program: null, finished: true, next_at: null },
    ],
    [
      'deleted, never programmed (before its start)',
      code({ delete_requested: true }),
      NOW,
      { remove: null, program: null, finished: true, next_at: null },
    ],
    [
      'deleted, never programmed (inside its frame: bridge off-line)',
      code({ delete_requested: true }),
      START + HOUR,
      { remove: null, program: null, finished: true, next_at: null },
    ],
    // Ended.
    [
      'ended, programmed: removed at its end',
      code({ programmed_code: '482913' }),
      END,
      { remove: '482913', program: null, finished: true, next_at: null },
    ],
    [
      'ended long ago, programmed (the bridge was off-line at the end)',
      code({ programmed_code: '482913' }),
      END + 24 * HOUR,
      { remove: '482913', program: null, finished: true, next_at: null },
    ],
    [
      'ended, never programmed (off-line for its whole frame)',
      code({}),
      END,
      { remove: null, program: null, finished: true, next_at: null },
    ],
    [
      'ended with a changed PIN still waiting: only the programmed one comes off',
      code({ code: '1357', programmed_code: '482913' }),
      END,
      { remove: '482913', program: null, finished: true, next_at: null },
    ],
  ];
  for (const [name, c, t, want] of cases) {
    it(name, () => assert.deepEqual(bridgeWork(c, t), want));
  }

  it('is idempotent: applying the work leaves nothing to do at the same instant', () => {
    for (const [name, c, t] of cases) {
      const work = bridgeWork(c, t);
      const after: Code = {
        ...c,
        programmed_code: work.program ?? (work.remove !== null ? null : c.programmed_code),
      };
      const again = bridgeWork(after, t);
      assert.equal(again.remove, null, name);
      assert.equal(again.program, null, name);
      assert.equal(again.finished, work.finished, name);
    }
  });

  it('never programs a code it is not meant to hold, and never leaves a stale PIN on the lock', () => {
    for (const [name, c, t] of cases) {
      const work = bridgeWork(c, t);
      const wanted = wantedOnLock(c, t);
      if (work.program !== null) assert.ok(wanted && work.program === c.code, name);
      const held = work.program ?? (work.remove !== null ? null : c.programmed_code);
      assert.equal(held, wanted ? c.code : null, `${name}: the lock then holds exactly what is wanted`);
    }
  });
});
