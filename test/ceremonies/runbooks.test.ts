/** Paper and code cannot drift: checked-in runbooks equal the generator's output, and list exactly the steps the engine runs, in order. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDefinition, resumePlan } from '../../ceremonies/engine.ts';
import { RUNBOOK_DIR } from '../../ceremonies/generate-runbooks.ts';
import { ceremonyByName, listCeremonies, runbook } from '../../ceremonies/index.ts';
import type { Transcript } from '../../ceremonies/types.ts';

const names = listCeremonies().map((c) => c.name);

describe('ceremony runbooks', () => {
  it('lists the seven ceremonies', () => {
    expect(names).toEqual([
      'key-generation',
      'custodian-enrolment',
      'unlock',
      'rotation',
      'offboarding',
      'health-check',
      'policy-change',
    ]);
  });

  it.each(names)('%s: the checked-in runbook is what renderRunbook produces', (name) => {
    expect(readFileSync(join(RUNBOOK_DIR, `${name}.md`), 'utf8')).toBe(runbook(name));
  });

  it.each(names)('%s: the runbook lists the steps the engine runs, in the same order', (name) => {
    const c = ceremonyByName(name);
    checkDefinition(c.definition, c.actions); // every step bound to an action, no stray action
    const inBook = [...runbook(name).matchAll(/^### Step \d+\. .* `([a-z0-9-]+)`$/gm)].map((m) => m[1]);
    expect(inBook).toEqual(c.definition.steps.map((s) => s.id));
    // a fresh run executes every non-recovery step in definition order
    const empty = { steps: [] } as unknown as Transcript;
    expect(resumePlan(c.definition, empty).remaining.map((s) => s.id)).toEqual(
      c.definition.steps.filter((s) => !s.recoveryOnly).map((s) => s.id),
    );
  });

  it('refuses an unknown ceremony with a clear error', () => {
    expect(() => runbook('nope')).toThrow(/no ceremony "nope"/);
  });
});
