/**
 * Share health check (docs/DECISIONS.md#d9): every holder of a domain epoch proves possession of their
 * share with the in-token HMAC check value over a one-time challenge that was precomputed at split
 * time (the key-generation or rotation transcript in the audit log holds the challenges and the hashes
 * of their answers). No share leaves a token and nothing is reconstructed. A missing, failing or
 * absent share is reported; a challenge is never used twice (used ones are in earlier health-check
 * transcripts).
 */
import { HsmError, verifyHealthResponse } from '../../hsm/index.ts';
import type { Statement } from '../../src/crypto/statement.ts';
import { OTHER_STATEMENT } from '../../src/protocol/statements.ts';
import { currentEpoch, domain as domainOf } from '../../src/roster/index.ts';
import type { Ceremony } from '../engine.ts';
import { listTranscripts, TRANSCRIPT_ENTRY_KIND } from '../engine.ts';
import type { CeremonyEnv } from '../env.ts';
import { custodianStatement } from '../lib.ts';
import { id, int, paramError } from '../params.ts';
import {
  ALL_ROLES,
  type CeremonyDefinition,
  CeremonyError,
  type JsonObject,
  type Transcript,
} from '../types.ts';

export interface HealthCheckParams {
  domain: string;
  epoch: number;
}

export const definition: CeremonyDefinition = {
  name: 'health-check',
  title: 'Share health check',
  purpose:
    'Checks, without reconstructing anything, that every holder of a domain epoch still holds their share: each token answers a one-time challenge with its in-token check value, compared with the answer hash recorded at split time. A missing or failing share is reported before it is needed.',
  roles: ALL_ROLES,
  params: [
    { name: 'domain', description: 'the domain', required: true, example: 'land' },
    { name: 'epoch', description: 'the epoch (default: the live one)', required: false },
  ],
  steps: [
    {
      id: 'load-challenges',
      title: 'Load the unused one-time challenges',
      actor: 'station',
      action:
        'Find the challenge book recorded when this epoch was split (key-generation or rotation transcript in the audit log) and, per holder, the first challenge no earlier health check used.',
      inputs: ['audit log', 'earlier health-check transcripts'],
      preconditions: ['the epoch was split by a recorded ceremony'],
      signOffs: ['administrator'],
      records: ['source ceremony', 'challenge index per holder'],
    },
    {
      id: 'challenge-custodians',
      title: 'Every holder answers their challenge in the token',
      actor: 'custodians',
      action:
        'Each holder logs in to their token, which computes HMAC(share, challenge) inside the token; the station compares the hash of the answer with the recorded one. The holder signs the result.',
      inputs: ['one challenge per holder'],
      preconditions: ['challenges loaded'],
      signOffs: ['each-custodian', 'witness'],
      records: ['per holder: ok, failing, missing or absent, and the challenge index used', 'signed results'],
    },
    {
      id: 'report',
      title: 'Report the health of the epoch',
      actor: 'administrator',
      action:
        'Summarise: healthy only if every holder answered correctly; name every missing, failing or absent share so that a rotation can be scheduled before the share is needed.',
      inputs: ['results'],
      preconditions: [],
      signOffs: ['administrator', 'witness'],
      records: ['healthy or not', 'missing, failing and absent holders'],
    },
  ],
  onAbort: 'nothing to undo: no key material moved. The challenges already used stay used.',
};

interface Book {
  source: string;
  byCustodian: Map<string, { challenge: string; responseHash: string }[]>;
}

const SPLITTERS = new Set(['key-generation', 'rotation', 'offboarding']);

function bookFrom(t: Transcript, domain: string, epoch: number): Book | undefined {
  if (!SPLITTERS.has(t.ceremony) || t.status !== 'completed') return undefined;
  const rec = [...t.steps]
    .reverse()
    .find((s) => s.step === 'generate-and-split' && s.outcome !== 'failed')?.record;
  if (!rec || rec['domain'] !== domain || rec['epoch'] !== epoch) return undefined;
  const book = rec['challengeBook'] as {
    custodian: string;
    challenges: { challenge: string; responseHash: string }[];
  }[];
  return { source: t.ceremonyId, byCustodian: new Map(book.map((b) => [b.custodian, b.challenges])) };
}

function usedFrom(t: Transcript, domain: string, epoch: number, used: Map<string, Set<number>>) {
  if (t.ceremony !== 'health-check' || t.params['domain'] !== domain || t.params['epoch'] !== epoch) return;
  for (const s of t.steps) {
    if (s.step === 'load-challenges') {
      // Challenges handed out count as used even if the check never finished.
      for (const c of (s.record['issued'] as { custodian: string; index: number }[] | undefined) ?? []) {
        if (!used.has(c.custodian)) used.set(c.custodian, new Set());
        used.get(c.custodian)!.add(c.index);
      }
    }
  }
}

/** Logged transcripts (audit log) and local ones (unfinished checks), oldest first. */
async function transcripts(env: CeremonyEnv): Promise<Transcript[]> {
  const rows = await env.store.db
    .selectFrom('audit_entries')
    .select(['seq', 'entry_json'])
    .where('entry_json', 'like', `%"kind":"${TRANSCRIPT_ENTRY_KIND}"%`)
    .orderBy('seq')
    .execute();
  const logged = rows.map(
    (r) => (JSON.parse(r.entry_json) as { statement: { body: Transcript } }).statement.body,
  );
  const ids = new Set(logged.map((t) => t.ceremonyId));
  return [...logged, ...listTranscripts(env.dataDir).filter((t) => !ids.has(t.ceremonyId))];
}

export const ceremony: Ceremony<HealthCheckParams> = {
  definition,
  parseParams(raw, env) {
    const domain = id(definition.name, raw, 'domain', true);
    try {
      domainOf(env.roster(), domain);
    } catch {
      throw paramError(definition.name, `no domain "${domain}" in the roster in force`);
    }
    return {
      domain,
      epoch: int(definition.name, raw, 'epoch', 0, 0xffffffff) ?? currentEpoch(env.roster(), domain).epoch,
    };
  },
  paramsJson: (p) => ({ ...p }),
  actions: {
    async 'load-challenges'({ env, params, ceremonyId }) {
      const all = await transcripts(env);
      let book: Book | undefined;
      const used = new Map<string, Set<number>>();
      for (const t of all) {
        book = bookFrom(t, params.domain, params.epoch) ?? book;
        if (t.ceremonyId !== ceremonyId) usedFrom(t, params.domain, params.epoch, used);
      }
      if (!book)
        throw new CeremonyError(
          'ceremony_precondition',
          `no recorded challenge book for ${params.domain}/${params.epoch}: it was not split by a logged ceremony`,
        );
      const e = domainOf(env.roster(), params.domain).epochs.find((x) => x.epoch === params.epoch);
      const holders = e?.shares.map((s) => s.custodian) ?? [...book.byCustodian.keys()];
      const issued: JsonObject[] = [];
      const exhausted: string[] = [];
      for (const c of holders) {
        const list = book.byCustodian.get(c) ?? [];
        const index = list.findIndex((_, i) => !used.get(c)?.has(i));
        if (index < 0) exhausted.push(c);
        else issued.push({ custodian: c, index, challenge: list[index]!.challenge });
      }
      return { record: { source: book.source, issued, exhausted } };
    },
    async 'challenge-custodians'({ env, params, ceremonyId, recordOf }) {
      const load = recordOf('load-challenges')!;
      const book = (await transcripts(env))
        .map((t) => bookFrom(t, params.domain, params.epoch))
        .find((b) => b?.source === load['source'])!;
      const results: JsonObject[] = [];
      const statements: Statement[] = [];
      for (const c of (load['exhausted'] as string[]) ?? [])
        results.push({ custodian: c, status: 'no-challenge-left' });
      for (const i of load['issued'] as { custodian: string; index: number; challenge: string }[]) {
        if (env.absent.has(i.custodian)) {
          results.push({ custodian: i.custodian, status: 'absent', index: i.index });
          continue;
        }
        const expected = book.byCustodian.get(i.custodian)![i.index]!;
        let status: 'ok' | 'failing' | 'missing';
        try {
          const token = await env.custodian(i.custodian);
          const answer = await token.healthResponse(
            params.domain,
            params.epoch,
            new Uint8Array(Buffer.from(i.challenge, 'base64url')),
          );
          status = verifyHealthResponse(
            {
              challenge: new Uint8Array(Buffer.from(expected.challenge, 'base64url')),
              responseHash: new Uint8Array(Buffer.from(expected.responseHash, 'hex')),
            },
            answer,
          )
            ? 'ok'
            : 'failing';
          answer.fill(0);
        } catch (e) {
          if (e instanceof HsmError && e.code === 'object_missing') status = 'missing';
          else if (e instanceof CeremonyError) {
            results.push({ custodian: i.custodian, status: 'absent', index: i.index });
            continue;
          } else status = 'failing';
        }
        results.push({ custodian: i.custodian, status, index: i.index });
        statements.push(
          await custodianStatement(env, i.custodian, OTHER_STATEMENT.health, {
            ceremonyId,
            domain: params.domain,
            epoch: params.epoch,
            challengeIndex: i.index,
            result: status,
          }),
        );
      }
      return {
        record: { results, ...(statements.length === 0 ? { skipped: true } : {}) },
        statements,
        who: statements.map((s) => s.signer),
      };
    },
    async report({ recordOf }) {
      const results =
        (recordOf('challenge-custodians')!['results'] as { custodian: string; status: string }[]) ?? [];
      const by = (s: string) => results.filter((r) => r.status === s).map((r) => r.custodian);
      const missing = by('missing');
      const failing = by('failing');
      const absent = by('absent');
      const exhausted = by('no-challenge-left');
      return {
        record: {
          healthy: results.length > 0 && results.every((r) => r.status === 'ok'),
          ok: by('ok'),
          missing,
          failing,
          absent,
          exhausted,
          ...(missing.length + failing.length > 0 ? { action: 'schedule a rotation of this domain' } : {}),
        },
      };
    },
  },
  async abort() {
    return { cleanup: { note: 'no key material moved' }, statements: [] };
  },
};
