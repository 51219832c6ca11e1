import {
  CeremonyError,
  listCeremonies,
  type RunCeremonyResult,
  runbook,
  runCeremony,
} from '../../../ceremonies/index.ts';
import { createRehearsal } from '../../devkit/ceremonies.ts';
import { type Command, type CommandContext, finding, parse } from '../command.ts';
import { UsageError } from '../errors.ts';

const help = `
Usage: embassy ceremony list
       embassy ceremony runbook NAME
       embassy ceremony run NAME [--rehearse] [--data-dir DIR] [--resume [ID]] [--abort [ID] --reason TEXT]
                               [--absent ID,ID] [--param name=value]...

The state's key ceremonies as code (docs/CEREMONIES.md): each definition gives the roles, steps,
sign-offs and records; the runbook is generated from the same definition, so paper and code cannot
drift. run executes it step by step, writes a transcript after every step (DIR/ceremonies/), signs
it and appends it to the audit log. An interrupted run is resumed or aborted cleanly, and the
transcript says which. --rehearse runs on throwaway SoftHSM2 tokens.

Options:
  --rehearse          throwaway SoftHSM2 deployment (in --data-dir, else a temporary directory)
  --data-dir DIR      the deployment (DIR/ceremony-deployment.json)
  --resume [ID]       resume the one unfinished run of NAME (refused if several), or transcript ID
  --abort [ID]        abort it (partial shares are destroyed, with signed records)
  --reason TEXT       why it is aborted
  --absent IDS        custodians who cannot present their token this time (comma-separated)
  --param NAME=VALUE  a ceremony parameter as the runbook names it; repeatable
`;

/**
 * An unknown ceremony name or a missing or malformed parameter is a usage error (exit status 2); a
 * ceremony that cannot proceed (precondition, failed step) stays a failure (1).
 */
function asUsage(e: unknown): never {
  if (e instanceof CeremonyError && (e.code === 'ceremony_unknown' || e.code === 'ceremony_bad_params'))
    throw new UsageError(e.message);
  throw e;
}

/** A health check that found a missing, failing or absent share: one line naming the custodians. */
function unhealthy(r: Pick<RunCeremonyResult, 'transcript'>): string | undefined {
  for (const s of r.transcript.steps) {
    if (s.record['healthy'] !== false) continue;
    const names = (k: string) => (s.record[k] as string[] | undefined) ?? [];
    const bad = ['missing', 'failing', 'absent', 'exhausted'].flatMap((k) =>
      names(k).map((c) => `${c} ${k}`),
    );
    return `health check not passed: ${bad.join(', ') || 'no share answered'}`;
  }
  return undefined;
}

/**
 * `--resume` and `--abort` take an optional transcript id, as the runbook writes them: a bare one
 * (last, or followed by another option or the ceremony name) means the one unfinished ceremony.
 * Only `cer-…` ids and `latest` are taken as values.
 */
const bareResumeAbort = (argv: string[]): string[] =>
  argv.map((a, i) =>
    (a === '--resume' || a === '--abort') && !/^(cer-[a-z0-9-]+|latest)$/.test(argv[i + 1] ?? '')
      ? `${a}=latest`
      : a,
  );

async function run(argv: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parse(
    bareResumeAbort(argv),
    {
      rehearse: { type: 'boolean' },
      'data-dir': { type: 'string' },
      resume: { type: 'string' },
      abort: { type: 'string' },
      reason: { type: 'string' },
      absent: { type: 'string' },
      param: { type: 'string', multiple: true },
    },
    help,
  );
  const [action, name] = positionals;
  if (action === 'list') {
    for (const c of listCeremonies())
      process.stdout.write(`${c.name.padEnd(20)} ${c.steps} steps  ${c.title}: ${c.purpose}\n`);
    return 0;
  }
  if (!name)
    throw new UsageError(`${action ?? 'ceremony'} needs a ceremony NAME (see embassy ceremony list)`);
  if (action === 'runbook') {
    process.stdout.write(runbook(name));
    return 0;
  }
  if (action !== 'run') throw new UsageError('give one of: list, runbook NAME, run NAME');
  const params: Record<string, string> = {};
  for (const p of values.param ?? []) {
    const i = p.indexOf('=');
    if (i < 1) throw new UsageError(`--param ${p}: expected NAME=VALUE`);
    params[p.slice(0, i)] = p.slice(i + 1);
  }
  const flag = (v: string | undefined) =>
    v === undefined ? undefined : v === '' || v === 'latest' ? true : v;
  const resume = flag(values.resume);
  const abort = flag(values.abort);
  const r = await runCeremony(name, {
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    // The rehearsal's development deployment comes from devkit, injected here: ceremonies/ never imports it.
    ...(values.rehearse ? { rehearse: createRehearsal } : {}),
    ...(resume !== undefined ? { resume } : {}),
    ...(abort !== undefined ? { abort } : {}),
    ...(values.reason ? { abortReason: values.reason } : {}),
    ...(values.absent ? { absent: values.absent.split(',') } : {}),
    params,
    ...(ctx.faults ? { faults: ctx.faults } : {}),
    log: (l) => process.stdout.write(`${l}\n`),
  });
  process.stdout.write(`transcript ${r.path} (audit entry ${r.auditSeq})\n`);
  const failed = unhealthy(r.restarted ?? r);
  return failed === undefined ? 0 : finding(failed);
}

export const ceremony: Command = {
  name: 'ceremony',
  summary: 'list, print and run the key ceremonies',
  help,
  run: (argv, ctx = {}) => run(argv, ctx).catch(asUsage),
};
