/** A rehearsal deployment per test file (PKCS#11 state is per process; vitest runs files in forks). */
import { rmSync } from 'node:fs';
import { type CeremonyEnv, createRehearsal, openDeployment } from '../../ceremonies/index.ts';
import { entries, treeHead } from '../../src/audit/log.ts';

export async function rehearsal(opts: { domains?: string[]; absent?: string[] } = {}) {
  const dataDir = await createRehearsal({ domains: opts.domains ?? ['land'] });
  const env = await openDeployment(dataDir, opts.absent ? { absent: opts.absent } : {});
  return {
    dataDir,
    env,
    async reopen(absent?: string[]): Promise<CeremonyEnv> {
      return openDeployment(dataDir, absent ? { absent } : {});
    },
    cleanup: async (e: CeremonyEnv = env) => {
      await e.close().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Every audit entry of a kind, parsed. */
export async function auditEntries(env: CeremonyEnv, kind: string) {
  const head = await treeHead(env.store.db);
  const all = await entries(env.store.db, 0, head.size);
  return all.map((e) => JSON.parse(e.entry) as Record<string, any>).filter((e) => e['kind'] === kind);
}
