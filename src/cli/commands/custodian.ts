import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { decide, pendingCeremonies, release, showCeremony } from '../../custodian/client.ts';
import { ReleaseJournal } from '../../custodian/journal.ts';
import type { CheckedCeremony } from '../../protocol/check.ts';
import { type Command, CommandError, parse } from '../command.ts';
import { UsageError } from '../errors.ts';
import { dataDirOf, HSM_HELP, hsmOptions } from '../hsm.ts';
import { custodianClient, REMOTE_HELP, remoteOptions } from '../remote.ts';

const help = `
Usage: embassy custodian pending
       embassy custodian show ID
       embassy custodian approve ID [--yes]
       embassy custodian veto ID --reason TEXT [--yes]
       embassy custodian release ID

A custodian's client. Everything the coordinator returns is checked against the pinned roster
first. approve and veto sign a decision in your token (it carries no share). release lets your
token release your share, wrapped to the station's keys named in the request, only after this
client itself checked t approvals from K organisations, no veto, the cool-off and the deadline,
and never twice for one ceremony (journal in DIR).

Options:
  --token LABEL   your token (default: the --as id)
  --reason TEXT   why you veto
  --yes           do not ask for confirmation
${REMOTE_HELP}
${HSM_HELP}
`;

function describe(c: CheckedCeremony): string {
  const r = c.request;
  return [
    `ceremony      ${c.id}`,
    `station       ${c.station}`,
    `domain        ${r.domain} (epoch ${r.epoch})`,
    `snapshots     ${r.snapshots.join(', ')}`,
    `legal basis   ${r.justification.legalBasis}, case ${r.justification.caseReference}`,
    `reason        ${r.justification.text}`,
    `recipient     keys ${c.recipientKeys.slice(0, 32)}… (SHA-256 of the station's P-256 and X-Wing keys)`,
    `deadline      ${r.deadline}`,
    `decisions     ${c.decisions.map((d) => `${d.custodian}: ${d.decision}`).join(', ') || 'none yet'}`,
    `state         ${c.verdict.state} (${c.verdict.approvers.length} approvals, ${c.verdict.organisations.length} organisations)`,
  ].join('\n');
}

async function confirm(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) throw new UsageError('not on a terminal: add --yes to confirm');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`${question} [y/N] `);
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new CommandError('not confirmed; nothing was signed');
}

export const custodian: Command = {
  name: 'custodian',
  summary: 'list, review, approve, veto and release (custodians)',
  help,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      {
        ...remoteOptions,
        ...hsmOptions,
        token: { type: 'string' },
        reason: { type: 'string' },
        yes: { type: 'boolean' },
      },
      help,
    );
    const [action, id] = positionals;
    if (!action || !['pending', 'show', 'approve', 'veto', 'release'].includes(action)) {
      throw new UsageError('give one of: pending, show ID, approve ID, veto ID, release ID');
    }
    if (action !== 'pending' && !id) throw new UsageError(`${action} needs a ceremony id`);
    const { roster, token, client } = await custodianClient(values);
    try {
      const session = {
        id: values.as!,
        roster,
        client,
        token,
        journal: new ReleaseJournal(join(dataDirOf(values), `${values.as}-release-journal.jsonl`)),
      };
      if (action === 'pending') {
        const list = await pendingCeremonies(session);
        process.stdout.write(
          list.length === 0
            ? 'no pending ceremonies for your domains\n'
            : `${list.map(describe).join('\n\n')}\n`,
        );
      } else if (action === 'show') {
        process.stdout.write(`${describe(await showCeremony(session, id!))}\n`);
      } else if (action === 'approve' || action === 'veto') {
        if (action === 'veto' && !values.reason) throw new UsageError('a veto needs --reason TEXT');
        process.stderr.write(`${describe(await showCeremony(session, id!))}\n`);
        await confirm(`${action} this request with your token?`, values.yes);
        const v = await decide(session, id!, action, values.reason);
        process.stdout.write(
          `${action === 'approve' ? 'approved' : 'vetoed'}; ceremony is ${v.state} (${v.verdict.state})\n`,
        );
      } else {
        const v = await release(session, id!);
        process.stdout.write(`share released to the station's keys; ${v.releases.length} releases so far\n`);
      }
    } finally {
      token.close();
    }
    return 0;
  },
};
