import assert from 'node:assert/strict';
import { derivePin, derivePinKey, type PinParams } from '../../src/algopin/index.ts';
import type { EnterPinResult, VirtualLock } from '../../src/lock/index.ts';

export const power = (lock: VirtualLock, cycle: boolean): VirtualLock =>
  cycle ? (lock.constructor as typeof VirtualLock).restore(lock.serialize()) : lock;

/**
 * "Not opened by this code": a refusal, or an acceptance that is genuinely another code with the same digits
 * (same descriptor, a start hour 26·k hours away, probability 1/T), which the lock must accept.
 */
export function assertNotOpenedAs(
  r: EnterPinResult,
  key: Uint8Array,
  epoch: number,
  p: PinParams,
  pin: string,
): void {
  if (!r.accepted) return;
  assert.notEqual(r.startHour, p.startHour, `opened as the code itself: ${JSON.stringify(r)}`);
  assert.equal(derivePin(derivePinKey(key, epoch), { ...p, startHour: r.startHour as number }), pin);
}
