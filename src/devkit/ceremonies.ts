/**
 * Development deployments as ceremony deployments: the deployment file that lets
 * `embassy ceremony run NAME --data-dir DIR` run on one, and the throwaway rehearsal deployment
 * the CLI injects into `ceremony run --rehearse` (ceremonies/ never imports devkit).
 *
 * @example
 * const dir = await createRehearsal({ domains: ['land'] }); // DIR/ceremony-deployment.json, dev PINs
 * const env = await openDeployment(dir);
 * @module
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEPLOYMENT_FILE, DEPLOYMENT_FORMAT, writeDeploymentFile } from '../../ceremonies/deployment-file.ts';
import { initDevTokens } from '../../hsm/index.ts';
import { buildDevDeployment, type DevCustodian, type DevDeployment } from './deployment.ts';

/**
 * Describes a development deployment in its own directory as a ceremony deployment: its pinned
 * roster, its station key file, the people in the room, development PINs (DIR/dev-pins.json).
 */
export function describeForCeremonies(
  d: Pick<DevDeployment, 'dataDir' | 'rosterPin' | 'station'>,
  people: { administrator: string; witness: string },
): void {
  writeDeploymentFile(d.dataDir, {
    format: DEPLOYMENT_FORMAT,
    rosterPin: d.rosterPin,
    station: { id: d.station.id, keyFile: `${d.station.id}.pem` },
    ...people,
    dev: true,
  });
}

export interface RehearsalOptions {
  /** Where to build it (default: a new temporary directory). */
  dataDir?: string;
  /** Domains with an epoch-1 key in the genesis roster (default `land`). */
  domains?: string[];
  /** Custodians in the genesis roster (default 5); one spare token more is created for enrolment. */
  custodians?: number;
  threshold?: number;
  log?: (line: string) => void;
}

/**
 * A throwaway deployment on SoftHSM2 (initDevTokens): N custodian tokens plus one spare, a key per
 * domain, the genesis roster signed by every custodian token, a station key, and the store.
 * Returns the data directory; open it with `openDeployment` (ceremonies/env.ts). A directory that
 * already holds a deployment file is returned as it is (a rehearsal resumed in place).
 */
export async function createRehearsal(opts: RehearsalOptions = {}): Promise<string> {
  const dataDir = resolve(opts.dataDir ?? mkdtempSync(join(tmpdir(), 'embassy-rehearsal-')));
  mkdirSync(dataDir, { recursive: true });
  if (existsSync(join(dataDir, DEPLOYMENT_FILE))) return dataDir;
  const n = opts.custodians ?? 5;
  await initDevTokens({ dataDir, custodians: n + 1 });
  const names = ['Kadri Tamm', 'Jaan Saar', 'Liis Kask', 'Peeter Mägi', 'Anu Rebane', 'Mart Kull'];
  const orgs = ['Ministry of Justice', 'State Treasury', 'Information System Authority'];
  const custodians: DevCustodian[] = Array.from({ length: n }, (_, i) => ({
    id: `custodian-${i + 1}`,
    name: names[i % names.length]!,
    organisation: orgs[Math.floor(i / 2) % orgs.length]!,
  }));
  const deployment = await buildDevDeployment({
    dataDir,
    custodians,
    domains: opts.domains ?? ['land'],
    threshold: opts.threshold ?? 3,
    ...(opts.log ? { log: opts.log } : {}),
  });
  await deployment.close();
  describeForCeremonies(deployment, {
    administrator: 'Rehearsal administrator',
    witness: 'Rehearsal witness',
  });
  writeFileSync(join(dataDir, 'REHEARSAL'), 'throwaway SoftHSM2 deployment for a ceremony rehearsal\n');
  return dataDir;
}
