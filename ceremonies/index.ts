/**
 * The library entry point of ceremonies/ for the CLI (`embassy ceremony list | runbook NAME |
 * run NAME [--rehearse] [--resume [ID]] [--abort [ID]]`). See docs/CEREMONIES.md.
 *
 * @example
 * listCeremonies();                        // [{ name: 'key-generation', title, purpose, steps }, …]
 * process.stdout.write(runbook('rotation'));
 * // a rehearsal on a development deployment (createRehearsal from src/devkit/ceremonies.ts):
 * const r = await runCeremony('health-check', { rehearse: createRehearsal, params: { domain: 'land' } });
 * @module
 */
import { rmSync } from 'node:fs';
import type { Faults } from '../src/fs/faults.ts';
import { ceremony as custodianEnrolment } from './definitions/custodian-enrolment.ts';
import { ceremony as healthCheck } from './definitions/health-check.ts';
import { ceremony as keyGeneration } from './definitions/key-generation.ts';
import { ceremony as offboarding } from './definitions/offboarding.ts';
import { ceremony as policyChange } from './definitions/policy-change.ts';
import { ceremony as rotation } from './definitions/rotation.ts';
import { ceremony as unlock } from './definitions/unlock.ts';
import { type Ceremony, type EngineResult, type FailAt, runEngine } from './engine.ts';
import { type BuildRehearsal, type CeremonyEnv, type Confirm, openDeployment } from './env.ts';
import { renderRunbook } from './runbook.ts';
import { type CeremonyDefinition, CeremonyError } from './types.ts';

export { type BuildRehearsal, type CeremonyEnv, openDeployment } from './env.ts';
export { renderRunbook } from './runbook.ts';
export * from './types.ts';

// biome-ignore lint/suspicious/noExplicitAny: the registry holds ceremonies of different parameter types
const REGISTRY: readonly Ceremony<any>[] = [
  keyGeneration,
  custodianEnrolment,
  unlock,
  rotation,
  offboarding,
  healthCheck,
  policyChange,
];

export interface CeremonySummary {
  name: string;
  title: string;
  purpose: string;
  steps: number;
}

/** Every ceremony definition, in a fixed order. */
export function listCeremonies(): CeremonySummary[] {
  return REGISTRY.map((c) => ({
    name: c.definition.name,
    title: c.definition.title,
    purpose: c.definition.purpose,
    steps: c.definition.steps.length,
  }));
}

/** The bound ceremony (definition + actions). @throws {CeremonyError} ceremony_unknown */
// biome-ignore lint/suspicious/noExplicitAny: see REGISTRY
export function ceremonyByName(name: string): Ceremony<any> {
  const c = REGISTRY.find((x) => x.definition.name === name);
  if (!c)
    throw new CeremonyError(
      'ceremony_unknown',
      `no ceremony "${name}"; known: ${REGISTRY.map((x) => x.definition.name).join(', ')}`,
    );
  return c;
}

export const definitionOf = (name: string): CeremonyDefinition => ceremonyByName(name).definition;

/** The Markdown runbook of a ceremony, generated from its definition. */
export const runbook = (name: string): string => renderRunbook(definitionOf(name));

export interface RunCeremonyOptions {
  /** The deployment's data directory (DIR/ceremony-deployment.json); with `rehearse`, where to build the rehearsal (default: a temporary directory). */
  dataDir?: string;
  /** Rehearse: run on the throwaway development deployment this builds instead of the real one. */
  rehearse?: BuildRehearsal;
  /** Keep a rehearsal directory made in the temporary directory (default: removed afterwards). */
  keep?: boolean;
  /** Ceremony parameters, by the names the runbook lists (CLI strings are fine). */
  params?: Record<string, unknown>;
  /** Resume the one unfinished transcript of this ceremony (true; refused if several) or the one with this id. */
  resume?: string | true;
  /** Abort the one running transcript of this ceremony (true; refused if several) or the one with this id. */
  abort?: string | true;
  abortReason?: string;
  /** Custodians that cannot present their token in this run. */
  absent?: string[];
  /** Asks the administrator and the witness to confirm steps; default confirms automatically. */
  confirm?: Confirm;
  /** An already open deployment (tests, the demo); dataDir and rehearse are then ignored. */
  env?: CeremonyEnv;
  /** Test hook: an injected failure. */
  failAt?: FailAt;
  /** Crash injection for tests (the test-support CLI wrapper); none by default. */
  faults?: Faults;
  log?: (line: string) => void;
}

export interface RunCeremonyResult extends EngineResult {
  /** The data directory the ceremony ran against. */
  dataDir: string;
}

/** Runs, resumes or aborts a ceremony; the transcript is signed and in the audit log when it returns. */
export async function runCeremony(name: string, opts: RunCeremonyOptions = {}): Promise<RunCeremonyResult> {
  const c = ceremonyByName(name);
  let env = opts.env;
  let dataDir = env?.dataDir;
  let temporary = false;
  if (!env) {
    if (opts.rehearse) {
      temporary = opts.dataDir === undefined && !opts.keep;
      dataDir = await opts.rehearse({
        ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
        ...(opts.log ? { log: opts.log } : {}),
      });
    } else {
      if (!opts.dataDir)
        throw new CeremonyError('ceremony_precondition', 'a data directory is needed (--data-dir)');
      dataDir = opts.dataDir;
    }
    env = await openDeployment(dataDir!, {
      ...(opts.confirm ? { confirm: opts.confirm } : {}),
      ...(opts.absent ? { absent: opts.absent } : {}),
    });
  }
  try {
    const r = await runEngine(c, {
      env,
      ...(opts.params ? { params: opts.params } : {}),
      ...(opts.resume !== undefined ? { resume: opts.resume } : {}),
      ...(opts.abort !== undefined ? { abort: opts.abort } : {}),
      ...(opts.abortReason ? { abortReason: opts.abortReason } : {}),
      ...(opts.failAt ? { failAt: opts.failAt } : {}),
      ...(opts.faults ? { faults: opts.faults } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
    return { ...r, dataDir: dataDir! };
  } finally {
    if (!opts.env) {
      await env.close();
      if (temporary && dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
  }
}
