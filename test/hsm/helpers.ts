/**
 * Test helpers: every test file provisions its own SoftHSM2 data directory (own token dir, own
 * SOFTHSM2_CONF) before anything loads the module; vitest runs each file in its own fork.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DevPins, type InitResult, initDevTokens } from '../../hsm/dev/init.ts';

export const MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface DevTokens extends InitResult {
  pins: DevPins;
  cleanup(): void;
}

export async function devTokens(custodians = 3): Promise<DevTokens> {
  const dir = mkdtempSync(join(tmpdir(), 'embassy-hsm-test-'));
  const r = await initDevTokens({ dataDir: dir, custodians });
  const pins = JSON.parse(readFileSync(r.pinsPath, 'utf8')) as DevPins;
  return { ...r, pins, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const digest32 = (n: number) => new Uint8Array(32).fill(n);
