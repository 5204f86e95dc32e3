// The published vectors: the engine must reproduce them, an independent transcription of the spec must
// reproduce them, the lock must give the documented verification outcomes, and docs/algopin.md must carry
// exactly the same tables.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  buildVectors,
  DOC_PATH,
  docBlock,
  normalizeMarkdown,
  renderMarkdown,
  runCase,
  VECTORS_PATH,
  type Vectors,
} from '../../scripts/gen-algopin-vectors.ts';
import {
  decodePin,
  derivePin,
  derivePinKey,
  encodeDescriptor,
  KIND_LIMITS,
  pinTag,
} from '../../src/algopin/index.ts';

const vectors = JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as Vectors;
const lockKey = Buffer.from(vectors.lockKeyHex, 'hex');

/** docs/algopin.md §2 and §4 written out again with BigInt and raw HMAC (RFC 5869 by hand), sharing no code. */
function referencePin(key: Buffer, epoch: number, p: Vectors['pins'][number]['params']): string {
  const hmac = (k: Buffer, data: Buffer): Buffer => createHmac('sha256', k).update(data).digest();
  const prk = hmac(Buffer.from('latchkey-algopin-v1', 'ascii'), key);
  const kPin = hmac(prk, Buffer.concat([Buffer.from(`apin1|epoch=${epoch}`, 'ascii'), Buffer.from([1])]));
  const table = {
    hourly: { L: 10, nd: 3033, d: () => ((p.durationHours as number) - 1) * 3 + (p.variance - 1) },
    daily: { L: 10, nd: 3033, d: () => 2016 + ((p.durationDays as number) - 29) * 3 + (p.variance - 1) },
    one_time: { L: 8, nd: 5, d: () => p.variance - 1 },
    permanent: { L: 9, nd: 3, d: () => p.variance - 1 },
  }[p.kind];
  const D = BigInt(table.d());
  const S = BigInt(p.startHour);
  const T = 10n ** BigInt(table.L) / (26n * BigInt(table.nd));
  const msg = Buffer.alloc(12);
  msg.write('apin1', 0, 'ascii');
  msg[5] = table.L;
  msg.writeUInt32BE(p.startHour, 6);
  msg.writeUInt16BE(Number(D), 10);
  const tag = hmac(kPin, msg).readBigUInt64BE(0) % T;
  const P = (26n * D + (S % 26n)) * T + tag;
  return P.toString().padStart(table.L, '0');
}

describe('algoPIN test vectors', () => {
  it('has at least 20 derivation rows covering every kind, every variance and the range extremes', () => {
    assert.ok(vectors.pins.length >= 20);
    for (const kind of ['hourly', 'daily', 'one_time', 'permanent'] as const) {
      const rows = vectors.pins.filter((r) => r.params.kind === kind);
      const variances = new Set(rows.map((r) => r.params.variance));
      assert.equal(variances.size, KIND_LIMITS[kind].maxVariance, `${kind}: every variance`);
      const range = KIND_LIMITS[kind].duration;
      if (range && kind !== 'one_time') {
        const durations = rows.map((r) =>
          kind === 'hourly' ? r.params.durationHours : r.params.durationDays,
        );
        assert.ok(
          durations.includes(range.min) && durations.includes(range.max),
          `${kind}: both duration extremes`,
        );
      }
    }
    assert.ok(vectors.pins.some((r) => r.params.startHour === 0));
    assert.ok(vectors.pins.some((r) => r.params.startHour === 2 ** 32 - 1));
  });

  it('derives the pin keys of the vectors with HKDF-SHA256', () => {
    for (const k of vectors.pinKeys)
      assert.equal(derivePinKey(lockKey, k.epoch).toString('hex'), k.pinKeyHex);
  });

  for (const row of vectors.pins) {
    it(`derives vector "${row.name}"`, () => {
      const pinKey = derivePinKey(lockKey, row.epoch);
      assert.equal(derivePin(pinKey, row.params), row.pin);
      const descriptor = encodeDescriptor(row.params);
      assert.equal(descriptor, row.descriptor);
      assert.equal(pinTag(pinKey, row.pin.length as 8 | 9 | 10, row.params.startHour, descriptor), row.tag);
      const decoded = decodePin(row.pin);
      assert.ok(decoded);
      assert.equal(decoded.kind, row.params.kind);
      assert.equal(decoded.variance, row.params.variance);
      assert.equal(decoded.residue, row.residue);
      assert.equal(decoded.tag, row.tag);
    });
  }

  it('is reproduced by an independent transcription of the spec', () => {
    for (const row of vectors.pins)
      assert.equal(referencePin(lockKey, row.epoch, row.params), row.pin, row.name);
  });

  for (const c of vectors.verification) {
    it(`lock verification case "${c.name}"`, () => {
      assert.deepEqual(runCase(c, vectors.lockKeyHex), []);
    });
  }

  it('matches what the generator produces now (vectors.json is not stale)', () => {
    assert.deepEqual(buildVectors(), vectors);
  });

  it('appears verbatim in docs/algopin.md', () => {
    const doc = readFileSync(DOC_PATH, 'utf8');
    const block = docBlock(doc);
    assert.ok(block, 'the vector markers are in the doc');
    assert.equal(normalizeMarkdown(block), normalizeMarkdown(renderMarkdown(vectors)));
  });
});
