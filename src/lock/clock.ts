// The lock's real-time clock, simulated against a "true" time the caller supplies on every call.
// local(true) = true + offsetMs + trunc(ratePpm × (true − rateAnchorMs) / 10^6)
// offsetMs is the error at rateAnchorMs; ratePpm is how fast the crystal gains (+) or loses (−) after that.

export interface ClockState {
  offsetMs: number;
  ratePpm: number;
  rateAnchorMs: number;
}

export function localTime(clock: ClockState, trueNowMs: number): number {
  return trueNowMs + clock.offsetMs + Math.trunc((clock.ratePpm * (trueNowMs - clock.rateAnchorMs)) / 1e6);
}

/** Bluetooth time sync: from trueNowMs on, the clock reads lockTimeMs (and drifts again from there). */
export function syncedClock(clock: ClockState, trueNowMs: number, lockTimeMs: number): ClockState {
  return { offsetMs: lockTimeMs - trueNowMs, ratePpm: clock.ratePpm, rateAnchorMs: trueNowMs };
}
