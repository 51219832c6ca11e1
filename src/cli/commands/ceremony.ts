import { listCeremonies, runbook, runCeremony } from '../../../ceremonies/index.ts';
import { createRehearsal } from '../../devkit/ceremonies.ts';
import { type Command, parse } from '../command.ts';
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
  --resume [ID]       resume the newest unfinished run of NAME, or transcript ID
  --abort [ID]        abort it (partial shares are destroyed, with signed records)
  --reason TEXT       why it is aborted
  --absent IDS        custodians who cannot present their token this time (comma-separated)
  --param NAME=VALUE  a ceremony parameter as the runbook names it; repeatable
`;

export const ceremony: Command = {
  name: 'ceremony',
  summary: 'list, print and run the key ceremonies',
  help,
  async run(argv, ctx = {}) {
    const { values, positionals } = parse(
      argv,
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
      return;
    }
    if (!name)
      throw new UsageError(`${action ?? 'ceremony'} needs a ceremony NAME (see embassy ceremony list)`);
    if (action === 'runbook') {
      process.stdout.write(runbook(name));
      return;
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
  },
};
