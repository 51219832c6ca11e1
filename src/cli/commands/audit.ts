import { readFileSync } from 'node:fs';
import { auditorChecks } from '../../audit/auditor.ts';
import { readBundle, writeBundle } from '../../audit/bundle.ts';
import { type CeremonySummary, type VerifyReport, verifyBundle } from '../../audit/verify.ts';
import { openStore, storeOptionsFromEnv } from '../../store/index.ts';
import { type Command, finding, parse } from '../command.ts';
import { UsageError } from '../errors.ts';
import { dataDirOf } from '../hsm.ts';

const help = `
Usage: embassy audit export -o BUNDLE [--data-dir DIR]
       embassy audit verify BUNDLE --roster-pin HEX --log-key VKEY [--trusted-checkpoint FILE] [--json]

export writes the whole audit log up to its latest signed checkpoint, with the checkpoints and
roster versions, as one file (docs/AUDIT-BUNDLE.md), atomically.

verify needs no network and no database. It recomputes the Merkle tree and every checkpoint root,
checks checkpoint signatures against YOUR log key (never one from the bundle), consistency with
your trusted checkpoint (a rollback or fork is a finding; without one the result is "unanchored"),
every actor signature against the roster version in force, the roster chain from YOUR pin, and
replays every ceremony's policy (threshold, organisations, veto, cool-off, deadline, releases only
after quorum). Exit 1 on any finding, naming the entry.

Options:
  --roster-pin HEX            the genesis roster id you trust
  --log-key VKEY              the log's verifier key (name+keyid+base64), or @FILE
  --trusted-checkpoint FILE   a checkpoint (signed note) you verified before
  --json                      the report as JSON
`;

/** The ceremonies grouped by kind, each with the checks that apply to its kind and their verdict. */
function ceremonyLines(all: readonly CeremonySummary[]): string[] {
  const state = (c: CeremonySummary) => (c.closed ? `closed (${c.closeReason ?? ''})` : 'open');
  const line = (c: CeremonySummary) =>
    c.kind === 'unlock' && c.ceremony === undefined
      ? `    ${c.id}  policy ${c.policy}  approved by ${c.approvedBy.join(', ') || '-'}  released by ${c.releasedBy.join(', ') || '-'}${c.vetoedBy.length ? `  vetoed by ${c.vetoedBy.join(', ')}` : ''}  ${state(c)}`
      : `    ${c.id}  ${c.checks.length ? `${c.checks.join(', ')}: ${c.policy}` : c.policy}  ${state(c)}`;
  const kinds = [...new Set(all.map((c) => c.kind))];
  return kinds.flatMap((k) => [`  ${k}:`, ...all.filter((c) => c.kind === k).map(line)]);
}

function render(r: VerifyReport): string {
  const lines = [
    `log ${r.origin}: ${r.entries} entries, ${r.checkpoints} signed checkpoints (latest size ${r.latestCheckpoint ?? 'none'})`,
    `root ${r.root}`,
    r.anchored
      ? 'anchored: consistent with your trusted checkpoint'
      : 'UNANCHORED: no trusted checkpoint given; a fork or rollback cannot be excluded',
    `statements verified: ${r.statementsVerified}`,
    '',
    `ceremonies (${r.ceremonies.length}):`,
    ...ceremonyLines(r.ceremonies),
    '',
    r.findings.length === 0 ? 'findings: none' : `findings (${r.findings.length}):`,
    ...r.findings.map((f) => `  ${f.seq === undefined ? '' : `entry ${f.seq}: `}${f.code}: ${f.message}`),
    ...r.notes.map((n) => `note: ${n}`),
  ];
  return `${lines.join('\n')}\n`;
}

export const audit: Command = {
  name: 'audit',
  summary: 'export the audit log, verify a bundle offline',
  help,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      {
        output: { type: 'string', short: 'o' },
        'data-dir': { type: 'string' },
        'roster-pin': { type: 'string' },
        'log-key': { type: 'string' },
        'trusted-checkpoint': { type: 'string' },
        json: { type: 'boolean' },
      },
      help,
    );
    const [action, file] = positionals;
    if (action === 'export') {
      if (!values.output) throw new UsageError('export needs -o BUNDLE');
      const store = await openStore(storeOptionsFromEnv(dataDirOf(values)));
      try {
        const r = await writeBundle(store, values.output);
        process.stdout.write(`wrote ${r.path}: ${r.treeSize} entries, ${r.checkpoints} checkpoints\n`);
      } finally {
        await store.close();
      }
      return 0;
    }
    if (action !== 'verify') throw new UsageError('give one of: export -o BUNDLE, verify BUNDLE');
    if (!file) throw new UsageError('verify needs the bundle file');
    if (!values['roster-pin'])
      throw new UsageError('verify needs --roster-pin HEX (the genesis roster id you trust)');
    if (!values['log-key']) throw new UsageError('verify needs --log-key VKEY (the log key you trust)');
    const logKey = values['log-key'].startsWith('@')
      ? readFileSync(values['log-key'].slice(1), 'utf8').trim()
      : values['log-key'];
    const report = verifyBundle(await readBundle(file), {
      logKey,
      rosterPin: values['roster-pin'],
      ...(values['trusted-checkpoint']
        ? { trustedCheckpoint: readFileSync(values['trusted-checkpoint'], 'utf8') }
        : {}),
      ...auditorChecks(),
    });
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : render(report));
    const n = report.findings.length;
    return n === 0 ? 0 : finding(`the bundle has ${n} finding${n === 1 ? '' : 's'} (see the report)`);
  },
};
