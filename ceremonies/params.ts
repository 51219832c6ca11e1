/** Parameter parsing for ceremony definitions: CLI strings or typed values, one clear error each. */
import {
  type Domain,
  LEGAL_BASIS_CODE_RE,
  organisationsOf,
  type Policy,
  type RosterDoc,
} from '../src/roster/index.ts';
import { CeremonyError, type ParamDef } from './types.ts';

const bad = (ceremony: string, m: string) => new CeremonyError('ceremony_bad_params', `${ceremony}: ${m}`);

export function str(c: string, raw: Record<string, unknown>, name: string): string | undefined {
  const v = raw[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw bad(c, `--${name} must be text`);
  if (v.length > 256) throw bad(c, `--${name} is too long`);
  return v;
}

export function reqStr(c: string, raw: Record<string, unknown>, name: string): string {
  const v = str(c, raw, name);
  if (v === undefined) throw bad(c, `--${name} is required`);
  return v;
}

export function id(c: string, raw: Record<string, unknown>, name: string, required: true): string;
export function id(
  c: string,
  raw: Record<string, unknown>,
  name: string,
  required?: false,
): string | undefined;
export function id(
  c: string,
  raw: Record<string, unknown>,
  name: string,
  required = false,
): string | undefined {
  const v = required ? reqStr(c, raw, name) : str(c, raw, name);
  if (v !== undefined && !/^[a-z][a-z0-9-]{0,62}$/.test(v))
    throw bad(c, `--${name} must match [a-z][a-z0-9-]*`);
  return v;
}

export function int(
  c: string,
  raw: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const v = raw[name];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw bad(c, `--${name} must be an integer in ${min}..${max}`);
  return n;
}

export function ids(c: string, raw: Record<string, unknown>, name: string): string[] | undefined {
  const v = raw[name];
  if (v === undefined || v === null || v === '') return undefined;
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',').map((s) => s.trim()) : null;
  if (!list?.every((x) => typeof x === 'string' && /^[a-z][a-z0-9-]{0,62}$/.test(x)))
    throw bad(c, `--${name} must be a comma-separated list of ids`);
  if (new Set(list).size !== list.length) throw bad(c, `--${name} names an id twice`);
  return list as string[];
}

export function bool(c: string, raw: Record<string, unknown>, name: string): boolean {
  const v = raw[name];
  if (v === undefined || v === null || v === '' || v === false || v === 'false') return false;
  if (v === true || v === 'true') return true;
  throw bad(c, `--${name} must be true or false`);
}

export { bad as paramError };

/** A domain's policy as ceremonies set it: the unlock rules and who may seal to and ask for it. */
export interface DomainPolicy {
  minOrganisations: number;
  policy: Policy;
  /** Jobs allowed to seal to the domain (each roster job that lists it). */
  jobs: string[];
}

/** Every list value that lifts a policy list's restriction (the roster's whole list applies). */
const ALL = '*';

/** The parameters of {@link domainPolicy}, for the definitions that take them (runbook order). */
export const DOMAIN_POLICY_PARAMS: readonly ParamDef[] = [
  {
    name: 'min-organisations',
    description: 'distinct organisations an unlock needs (≤ threshold)',
    required: false,
    example: '2',
  },
  {
    name: 'cool-off-seconds',
    description: 'seconds between quorum and the first release, during which any custodian may veto',
    required: false,
    example: '60',
  },
  {
    name: 'max-deadline-seconds',
    description: 'the longest deadline an unlock request may set, in seconds',
    required: false,
    example: '604800',
  },
  {
    name: 'max-epoch-age-days',
    description: 'days after which `embassy jobs key-age` asks for a rotation of the epoch',
    required: false,
    example: '365',
  },
  { name: 'veto', description: "`any` (one custodian's veto stops an unlock) or `none`", required: false },
  {
    name: 'legal-bases',
    description: 'legal-basis codes of the roster an unlock may cite (`*`: every one)',
    required: false,
    example: 'EMERGENCY-RESTORE,DRILL',
  },
  {
    name: 'stations',
    description: 'stations of the roster allowed to ask (`*`: every one)',
    required: false,
    example: 'station-lux',
  },
  {
    name: 'jobs',
    description: 'jobs of the roster allowed to seal to the domain',
    required: false,
    example: 'backup-job',
  },
];

/** A comma-separated list of `re` items, or `*`; undefined when not given. */
function listOrAll(c: string, raw: Record<string, unknown>, name: string, re: RegExp) {
  const v = raw[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (v === ALL) return ALL;
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',').map((s) => s.trim()) : null;
  if (!list?.every((x) => typeof x === 'string' && re.test(x)))
    throw bad(c, `--${name} must be \`*\` or a comma-separated list`);
  if (new Set(list).size !== list.length) throw bad(c, `--${name} names an entry twice`);
  return list as string[];
}

/** A parameter by its CLI name or, in a transcript written before the CLI names, its field name. */
const either = (raw: Record<string, unknown>, name: string, field: string) => raw[name] ?? raw[field];

/**
 * The domain policy the parameters set over `base` (the domain's policy in force, or for a new domain
 * the defaults: cool-off 0, deadline 7 days, veto any, no jobs), checked against `roster` before any
 * step runs: known legal bases, stations and jobs, 1 ≤ minOrganisations ≤ min(threshold,
 * organisations of the custodians). @throws {CeremonyError} ceremony_bad_params
 */
export function domainPolicy(
  c: string,
  raw: Record<string, unknown>,
  roster: RosterDoc,
  domain: { name: string; custodians: readonly string[]; threshold: number },
  base?: Pick<Domain, 'minOrganisations' | 'policy'>,
): DomainPolicy {
  const orgs = organisationsOf(roster, domain.custodians).size;
  const norm = { ...raw };
  for (const [name, field] of [
    ['min-organisations', 'minOrganisations'],
    ['cool-off-seconds', 'coolOffSeconds'],
    ['max-deadline-seconds', 'maxDeadlineSeconds'],
    ['max-epoch-age-days', 'maxEpochAgeDays'],
    ['legal-bases', 'legalBases'],
  ] as const)
    norm[name] = either(raw, name, field);
  const minOrganisations =
    int(c, norm, 'min-organisations', 1, 1024) ?? base?.minOrganisations ?? Math.min(2, orgs);
  if (minOrganisations > domain.threshold)
    throw bad(c, `--min-organisations ${minOrganisations} is above the threshold ${domain.threshold}`);
  if (minOrganisations > orgs)
    throw bad(c, `--min-organisations ${minOrganisations}: the custodians span only ${orgs} organisations`);
  const veto = str(c, norm, 'veto');
  if (veto !== undefined && veto !== 'any' && veto !== 'none') throw bad(c, '--veto must be any or none');
  const prev = base?.policy;
  const policy: Policy = {
    coolOffSeconds: int(c, norm, 'cool-off-seconds', 0, 366 * 86400) ?? prev?.coolOffSeconds ?? 0,
    maxDeadlineSeconds:
      int(c, norm, 'max-deadline-seconds', 1, 366 * 86400) ?? prev?.maxDeadlineSeconds ?? 7 * 86400,
    veto: (veto as Policy['veto'] | undefined) ?? prev?.veto ?? 'any',
    maxEpochAgeDays: int(c, norm, 'max-epoch-age-days', 1, 100 * 366) ?? prev?.maxEpochAgeDays ?? 365,
  };
  const bases = listOrAll(c, norm, 'legal-bases', LEGAL_BASIS_CODE_RE);
  for (const b of bases === ALL ? [] : (bases ?? []))
    if (!roster.legalBases.some((l) => l.code === b))
      throw bad(c, `--legal-bases: "${b}" is not in the roster`);
  const legalBases = bases === undefined ? prev?.legalBases : bases === ALL ? undefined : bases;
  if (legalBases) policy.legalBases = legalBases;
  const ID = /^[a-z][a-z0-9-]{0,62}$/;
  const st = listOrAll(c, norm, 'stations', ID);
  for (const s of st === ALL ? [] : (st ?? []))
    if (!roster.stations.some((x) => x.id === s))
      throw bad(c, `--stations: "${s}" is not a station of the roster`);
  const stations = st === undefined ? prev?.stations : st === ALL ? undefined : st;
  if (stations) policy.stations = stations;
  const jobs =
    ids(c, norm, 'jobs') ?? roster.jobs.filter((j) => j.domains.includes(domain.name)).map((j) => j.id);
  for (const j of jobs)
    if (!roster.jobs.some((x) => x.id === j)) throw bad(c, `--jobs: "${j}" is not a job of the roster`);
  return { minOrganisations, policy, jobs };
}

/** The roster's jobs with `domain` listed exactly by the jobs named. */
export const jobsSealing = (roster: RosterDoc, domain: string, jobs: readonly string[]): RosterDoc['jobs'] =>
  roster.jobs.map((j) => {
    const others = j.domains.filter((d) => d !== domain);
    return { ...j, domains: jobs.includes(j.id) ? [...others, domain] : others };
  });

/** The transcript form of a domain policy: the CLI parameter names, so a resume parses it again. */
export const domainPolicyJson = (p: DomainPolicy) => ({
  'min-organisations': p.minOrganisations,
  'cool-off-seconds': p.policy.coolOffSeconds,
  'max-deadline-seconds': p.policy.maxDeadlineSeconds,
  'max-epoch-age-days': p.policy.maxEpochAgeDays,
  veto: p.policy.veto,
  'legal-bases': p.policy.legalBases ?? ALL,
  stations: p.policy.stations ?? ALL,
  jobs: p.jobs,
});
