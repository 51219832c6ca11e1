/**
 * The human runbook of a ceremony, rendered from the same definition the engine runs, so the paper
 * script and the code cannot drift. `ceremonies/runbooks/<name>.md` are checked-in renderings; a test
 * compares them with this function's output.
 * @module
 */
import { definitionDigest } from './engine.ts';
import type { CeremonyDefinition, SignOffKind, StepDef } from './types.ts';

const SIGN_OFF_TEXT: Record<SignOffKind, string> = {
  administrator: 'the ceremony administrator confirms',
  witness: 'the internal witness confirms (and notes any deviation)',
  'each-custodian': 'every custodian involved signs with their token',
  quorum: 'a threshold of the custodians involved sign with their tokens',
  'root-quorum': 'a threshold of the old and of the new roster root sign the roster version',
};

const list = (items: readonly string[]) =>
  items.length ? items.map((i) => `  - ${i}`).join('\n') : '  - none';

function step(s: StepDef, n: number, d: CeremonyDefinition): string {
  const actor = d.roles.find((r) => r.id === s.actor)?.title ?? s.actor;
  const lines = [
    `### Step ${n}. ${s.title} \`${s.id}\``,
    '',
    `**Actor:** ${actor}${s.recoveryOnly ? ' — *only when resuming after an interruption*' : ''}`,
    '',
    s.action,
    '',
    '- Inputs:',
    list(s.inputs),
    '- Preconditions:',
    list(s.preconditions),
    '- Sign-offs:',
    list(s.signOffs.map((k) => SIGN_OFF_TEXT[k])),
    '- Recorded in the transcript:',
    list(s.records),
  ];
  if (s.provides?.length || s.uses?.length) {
    lines.push('- Held only in the station memory:');
    if (s.provides?.length) lines.push(`  - makes: ${s.provides.join(', ')}`);
    if (s.uses?.length) lines.push(`  - needs: ${s.uses.join(', ')}`);
    lines.push(
      `  - after an interruption: ${s.redoable ? 'run again on resume' : s.recoveryOnly ? 'recovers the material on resume' : 'cannot be redone'}`,
    );
  }
  lines.push('', '- [ ] done    Administrator: ________    Witness: ________', '');
  return lines.join('\n');
}

/** Renders the Markdown runbook of a definition (deterministic: no dates, no randomness). */
export function renderRunbook(d: CeremonyDefinition): string {
  const out = [
    `# Ceremony runbook: ${d.title}`,
    '',
    `<!-- generated from ceremonies/definitions/${d.name}.ts by renderRunbook(); do not edit by hand -->`,
    '',
    `Ceremony \`${d.name}\` · definition digest \`${definitionDigest(d)}\``,
    '',
    d.purpose,
    '',
    `Run it with \`embassy ceremony run ${d.name}\` (rehearse first with \`--rehearse\`, on throwaway SoftHSM2 tokens). The station records a transcript after every step, signs it and appends it to the audit log when the ceremony is completed or aborted.`,
    '',
    '## Roles',
    '',
    '| role | who | duties |',
    '| --- | --- | --- |',
    ...d.roles.map((r) => `| \`${r.id}\` | ${r.title} | ${r.duties} |`),
    '',
    '## Parameters',
    '',
    ...(d.params.length
      ? [
          '| name | required | meaning | example |',
          '| --- | --- | --- | --- |',
          ...d.params.map(
            (p) =>
              `| \`${p.name}\` | ${p.required ? 'yes' : 'no'} | ${p.description} | ${p.example ? `\`${p.example}\`` : ''} |`,
          ),
        ]
      : ['None.']),
    '',
    '## Steps',
    '',
    ...d.steps.map((s, i) => step(s, i + 1, d)),
    '## If the ceremony is interrupted',
    '',
    'The transcript on the station (`DIR/ceremonies/<id>.json`) is written after every step. Resume with `embassy ceremony run ' +
      `${d.name} --resume\`: steps already done are not repeated, except those that rebuild material held only in the station's memory (marked above). When such material cannot be rebuilt, the ceremony is aborted instead${d.restartAfterAbort ? ' and started again with fresh keys' : ''}.`,
    '',
    `Abort with \`embassy ceremony run ${d.name} --abort\`: ${d.onAbort}`,
    '',
  ];
  return out.join('\n');
}
