import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeviceRecord } from '../../src/domain/records.ts';
import { hasCapability, toSeamDevice } from '../../src/domain/seam/device.ts';
import { assertSeamShape } from '../helpers/seam-schemas.ts';

const base: DeviceRecord = {
  device_id: '11111111-1111-4111-8111-444444444444',
  workspace_id: '11111111-1111-4111-8111-000000000000',
  connected_account_id: '11111111-1111-4111-8111-222222222222',
  device_type: 'igloohome_lock',
  name: 'Front Door',
  model_name: 'igloohome Smart Deadbolt 02',
  has_bridge: false,
  bridge_online: false,
  time_zone: null,
  provider_device_id: '545636388',
  key_epoch: 0,
  custom_metadata: {},
  created_at: Date.UTC(2026, 10, 30),
};

describe('an igloohome lock as a Seam device', () => {
  const cases: {
    name: string;
    device: Partial<DeviceRecord>;
    online: boolean;
    canOnline: boolean;
    errors: string[];
    warnings: string[];
    constraints: string[];
  }[] = [
    {
      name: 'keypad only: offline codes only, no custom PINs, bridge recommended',
      device: {},
      online: false,
      canOnline: false,
      errors: [],
      warnings: ['hub_required_for_additional_capabilities'],
      constraints: ['cannot_specify_pin_code'],
    },
    {
      name: 'with its bridge online: online and offline codes',
      device: { has_bridge: true, bridge_online: true },
      online: true,
      canOnline: true,
      errors: [],
      warnings: [],
      constraints: [],
    },
    {
      name: 'with its bridge offline: hub_disconnected',
      device: { has_bridge: true, bridge_online: false },
      online: false,
      canOnline: true,
      errors: ['hub_disconnected'],
      warnings: [],
      constraints: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const record = { ...base, ...c.device };
      const device = toSeamDevice(record);
      assertSeamShape('device', device);
      assert.equal(device.properties.online, c.online);
      assert.equal(device.can_program_offline_access_codes, true);
      assert.equal(device.can_program_online_access_codes, c.canOnline);
      assert.equal(hasCapability(record, 'can_program_online_access_codes'), c.canOnline);
      assert.deepEqual(
        device.errors.map((e) => e.error_code),
        c.errors,
      );
      assert.deepEqual(
        device.warnings.map((w) => w.warning_code),
        c.warnings,
      );
      assert.deepEqual(
        device.properties.code_constraints.map((x) => x.constraint_type),
        c.constraints,
      );
      assert.equal(device.properties.max_active_codes_supported, 199);
      assert.equal(device.created_at, '2026-11-30T00:00:00.000Z');
    });
  }
  it('reports the lock time zone under location when it has one', () => {
    assert.deepEqual(toSeamDevice({ ...base, time_zone: 'Europe/Paris' }).location, {
      time_zone: 'Europe/Paris',
    });
  });
  it('counts flags a lock never reports (thermostat ones) as false', () => {
    assert.equal(hasCapability(base, 'can_hvac_heat'), false);
  });
});
