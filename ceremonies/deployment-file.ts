/**
 * `DIR/ceremony-deployment.json`: what a ceremony needs to know about a deployment that the
 * deployment itself does not say (the pinned roster, the station's key file, the people in the room,
 * where the PINs come from). One schema for the writers (src/devkit/ for development deployments)
 * and the reader ({@link openDeployment} in ./env.ts).
 *
 * @example
 * writeDeploymentFile(dir, {
 *   format: DEPLOYMENT_FORMAT,
 *   rosterPin,
 *   station: { id: 'station-lux', keyFile: 'station-lux.pem' },
 *   administrator: 'A. Administrator',
 *   witness: 'W. Witness',
 *   dev: true,
 * });
 * readDeploymentFile(dir).station.keyFile; // 'station-lux.pem'
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeDurablySync } from '../src/fs/durable.ts';
import { CeremonyError } from './types.ts';

export const DEPLOYMENT_FILE = 'ceremony-deployment.json';
export const DEPLOYMENT_FORMAT = 'data-embassy/ceremony-deployment/v1';

export const DeploymentFileSchema = z.object({
  format: z.literal(DEPLOYMENT_FORMAT),
  /** rosterId (hex) of the pinned genesis roster. */
  rosterPin: z.string().regex(/^[0-9a-f]{64}$/),
  /** The station's Ed25519 key file (PKCS#8 PEM), relative to DIR. */
  station: z.object({ id: z.string().min(1), keyFile: z.string().min(1) }),
  administrator: z.string().min(1),
  witness: z.string().min(1),
  /** Read PINs from DIR/dev-pins.json (SoftHSM2 development tokens only). */
  dev: z.boolean(),
  /** A PIN file, relative to DIR. */
  pinFile: z.string().min(1).optional(),
});

export type DeploymentFile = z.infer<typeof DeploymentFileSchema>;

/**
 * Reads and checks `DIR/ceremony-deployment.json`.
 * @throws {CeremonyError} ceremony_precondition when it is missing or not a deployment file
 */
export function readDeploymentFile(dir: string): DeploymentFile {
  const path = join(dir, DEPLOYMENT_FILE);
  if (!existsSync(path))
    throw new CeremonyError(
      'ceremony_precondition',
      `${path} does not exist: describe the deployment (roster pin, station key) first, or use --rehearse`,
    );
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    json = undefined;
  }
  const parsed = DeploymentFileSchema.safeParse(json);
  if (!parsed.success)
    throw new CeremonyError('ceremony_precondition', `${path} is not a ceremony deployment file`);
  return parsed.data;
}

/** Writes `DIR/ceremony-deployment.json` (checked against the schema; mode 0600, crash-safe). */
export function writeDeploymentFile(dir: string, dep: DeploymentFile): void {
  const checked = DeploymentFileSchema.parse(dep);
  writeDurablySync(join(dir, DEPLOYMENT_FILE), `${JSON.stringify(checked, null, 2)}\n`, { mode: 0o600 });
}
