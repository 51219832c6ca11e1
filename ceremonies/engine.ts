/**
 * The ceremony engine (docs/CEREMONIES.md §2): runs any {@link CeremonyDefinition} step by step
 * against the actions bound to its step ids, records a transcript (each step, who, when, outcome,
 * signed statements, attestations, the witness's deviation notes), persists it after every step
 * (`DIR/ceremonies/<id>.json`, temp + fsync + rename), and when the ceremony ends (completed or
 * aborted) signs it with the station key and appends it to the audit log (`ceremony-transcript`).
 *
 * Interruptions: a step that throws leaves the transcript `running` with a `failed` step record; a
 * crash (kill -9) leaves it `running` at the last persisted step. `resume` continues from the first
 * step not done, after running again the steps that rebuild in-memory material the remaining steps
 * use (`provides`/`uses`, `redoable`, `recoveryOnly`); when some material cannot be rebuilt (a key
 * generated in the lost process), the ceremony is aborted through the definition's `abort` action
 * and, if the definition says so, restarted with fresh keys (docs/DECISIONS.md#d8).
 *
 * Closing signs and appends the transcript to the log before the file says `completed` or
 * `aborted`, so the log is the record of a closed ceremony: `resume` finishes a transcript that the
 * log holds but the file does not (or the file closes and the log lacks), and starts a restart that
 * the logged transcript names (`restartedAs`) but that never began. Steps themselves check the world
 * they change (roster in force, tokens) before changing it; see docs/CEREMONIES.md §2.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendEntry, findSecretLookingField } from '../src/audit/log.ts';
import { canonicalize, type JsonValue } from '../src/crypto/jcs.ts';
import { type Statement, signStatement } from '../src/crypto/statement.ts';
import { writeDurablySync } from '../src/fs/durable.ts';
import { type Faults, noFaults } from '../src/fs/faults.ts';
import { OTHER_STATEMENT } from '../src/protocol/statements.ts';
import type { CeremonyEnv } from './env.ts';
import {
  type Attestation,
  type CeremonyDefinition,
  CeremonyError,
  type JsonObject,
  type StepDef,
  type StepOutcome,
  type StepRecord,
  type Transcript,
} from './types.ts';

export const TRANSCRIPT_FORMAT = 'data-embassy/ceremony-transcript/v1';
export const TRANSCRIPT_ENTRY_KIND = 'ceremony-transcript';

export interface StepContext<P> {
  readonly ceremonyId: string;
  /** 32 bytes binding share transfers to this ceremony: SHA-256("data-embassy/v1/ceremony\0" ‖ id). */
  readonly ceremonyDigest: Uint8Array;
  readonly params: P;
  readonly env: CeremonyEnv;
  /** In-memory material of this process (keys); never persisted, lost on a crash. */
  readonly memory: Map<string, unknown>;
  readonly transcript: Readonly<Transcript>;
  /** Crash injection for tests inside a step (`publish-roster:after-store`, …); none in production. */
  readonly faults: Faults;
  /** The record of the last successful run of a step, if any. */
  recordOf(step: string): JsonObject | undefined;
  /** Notes a deviation from the script (by the witness) on the current step. */
  deviation(note: string): void;
}

export interface StepResult {
  record?: JsonObject;
  /** Principals who acted (default: the actor role's principal). */
  who?: string[];
  statements?: Statement[];
}

export type Action<P> = (ctx: StepContext<P>) => Promise<StepResult | undefined>;

export interface AbortResult {
  cleanup: JsonObject;
  statements: Statement[];
}

/** A definition bound to its actions: what the engine runs. */
export interface Ceremony<P> {
  readonly definition: CeremonyDefinition;
  /** Checks and normalises the parameters. @throws {CeremonyError} ceremony_bad_params */
  parseParams(raw: Record<string, unknown>, env: CeremonyEnv): P;
  /** The public form of the parameters for the transcript. */
  paramsJson(p: P): JsonObject;
  readonly actions: { readonly [stepId: string]: Action<P> };
  /** Leaves nothing half done (destroys partial shares, …). */
  abort(ctx: StepContext<P>, reason: string): Promise<AbortResult>;
}

/** Test hook: fail (throw) right before or after a step. */
export interface FailAt {
  step: string;
  when?: 'before' | 'after';
}

export interface EngineOptions {
  env: CeremonyEnv;
  params?: Record<string, unknown>;
  /** Resume an unfinished transcript: its id, or true for the one unfinished one of this ceremony. */
  resume?: string | true;
  /** Abort a running transcript cleanly: its id, or true for the one running one of this ceremony. */
  abort?: string | true;
  abortReason?: string;
  failAt?: FailAt;
  /**
   * Crash injection for tests: called at `before:<step>` and `after:<step>` of every step, at
   * `close:before-append`, `close:after-append` and `close:after-save`, and at the points the steps
   * name inside themselves (docs/CEREMONIES.md §2).
   */
  faults?: Faults;
  /** Progress lines (never secret material). */
  log?: (line: string) => void;
}

export interface EngineResult {
  transcript: Transcript;
  /** The persisted transcript file. */
  path: string;
  /** The signed transcript statement appended to the audit log. */
  statement: Statement;
  /** Audit log sequence number of the `ceremony-transcript` entry. */
  auditSeq: number;
  /** The restarted ceremony when this one was aborted after an interruption (docs/DECISIONS.md#d8). */
  restarted?: EngineResult;
}

const nowIso = (env: CeremonyEnv) => env.now().toISOString();

/** SHA-256 of the JCS of a definition (hex). */
export const definitionDigest = (d: CeremonyDefinition): string =>
  createHash('sha256')
    .update(canonicalize(d as unknown as JsonValue))
    .digest('hex');

export const ceremonyDigestOf = (ceremonyId: string): Uint8Array =>
  new Uint8Array(createHash('sha256').update(`data-embassy/v1/ceremony\u0000${ceremonyId}`).digest());

export const transcriptDir = (dataDir: string) => join(dataDir, 'ceremonies');
export const transcriptPath = (dataDir: string, id: string) => join(transcriptDir(dataDir), `${id}.json`);

/** Checks a definition: unique well-formed step ids, known roles, `uses` provided earlier. */
export function checkDefinition(d: CeremonyDefinition, actions?: object): void {
  const bad = (m: string) => new CeremonyError('ceremony_bad_definition', `ceremony "${d.name}": ${m}`);
  if (!/^[a-z][a-z0-9-]*$/.test(d.name)) throw bad('name must match [a-z][a-z0-9-]*');
  const roles = new Set(d.roles.map((r) => r.id));
  const ids = new Set<string>();
  const provided = new Set<string>();
  for (const s of d.steps) {
    if (!/^[a-z][a-z0-9-]*$/.test(s.id)) throw bad(`step id "${s.id}" must match [a-z][a-z0-9-]*`);
    if (ids.has(s.id)) throw bad(`step id "${s.id}" appears twice`);
    ids.add(s.id);
    if (!roles.has(s.actor)) throw bad(`step "${s.id}": actor "${s.actor}" is not a role of the ceremony`);
    for (const u of s.uses ?? [])
      if (!provided.has(u)) throw bad(`step "${s.id}" uses "${u}", which no earlier step provides`);
    for (const p of s.provides ?? []) provided.add(p);
  }
  if (actions) {
    for (const id of ids) if (!(id in actions)) throw bad(`no action is bound to step "${id}"`);
    for (const id of Object.keys(actions)) if (!ids.has(id)) throw bad(`action "${id}" is bound to no step`);
  }
}

/** Reads a persisted transcript. @throws {CeremonyError} ceremony_no_transcript */
export function loadTranscript(dataDir: string, id: string): Transcript {
  const p = transcriptPath(dataDir, id);
  if (!/^[a-z0-9-]+$/.test(id) || !existsSync(p))
    throw new CeremonyError(
      'ceremony_no_transcript',
      `no ceremony transcript "${id}" in ${transcriptDir(dataDir)}`,
    );
  return JSON.parse(readFileSync(p, 'utf8')) as Transcript;
}

/** Every persisted transcript of the data directory, oldest first. */
export function listTranscripts(dataDir: string): Transcript[] {
  const dir = transcriptDir(dataDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^cer-[a-z0-9-]+\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Transcript)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

function persist(dataDir: string, t: Transcript): string {
  mkdirSync(transcriptDir(dataDir), { recursive: true, mode: 0o700 });
  const path = transcriptPath(dataDir, t.ceremonyId);
  writeDurablySync(path, `${JSON.stringify(t, null, 2)}\n`, { mode: 0o600 });
  return path;
}

function guardPublic(value: unknown, where: string): void {
  const p = findSecretLookingField(value, '');
  if (p !== null)
    throw new CeremonyError(
      'ceremony_bad_definition',
      `${where}: ${p} looks like secret material; transcripts record public facts only`,
    );
  try {
    canonicalize(value as JsonValue);
  } catch (e) {
    throw new CeremonyError('ceremony_bad_definition', `${where} is not JSON: ${(e as Error).message}`);
  }
}

const errorInfo = (e: unknown): { code: string; message: string } => {
  const err = e as { code?: unknown; message?: unknown };
  return {
    code: typeof err?.code === 'string' ? err.code : 'error',
    message: typeof err?.message === 'string' ? err.message : String(e),
  };
};

/** Steps done so far (their last successful outcome), by id. */
function doneSteps(t: Transcript): Map<string, StepRecord> {
  const m = new Map<string, StepRecord>();
  for (const r of t.steps) if (r.outcome !== 'failed') m.set(r.step, r);
  return m;
}

/**
 * What a resume must run: the steps to run again (to rebuild memory), then the remaining steps;
 * or `unrecoverable` naming the material that cannot be rebuilt.
 */
export function resumePlan(
  d: CeremonyDefinition,
  t: Transcript,
): { redo: StepDef[]; remaining: StepDef[]; unrecoverable?: string } {
  const done = doneSteps(t);
  const remaining = d.steps.filter((s) => !s.recoveryOnly && !done.has(s.id));
  const redo = new Map<string, StepDef>();
  const need = (keys: readonly string[], before: number): string | undefined => {
    for (const k of keys) {
      const providers = d.steps.slice(0, before).filter((s) => (s.provides ?? []).includes(k));
      const again =
        providers.find((s) => s.redoable && done.has(s.id)) ?? providers.find((s) => s.recoveryOnly);
      if (!again) return k;
      if (redo.has(again.id)) continue;
      redo.set(again.id, again);
      const inner = need(again.uses ?? [], d.steps.indexOf(again));
      if (inner !== undefined) return inner;
    }
    return undefined;
  };
  for (const s of remaining) {
    const missing = need(s.uses ?? [], d.steps.indexOf(s));
    if (missing !== undefined) return { redo: [], remaining, unrecoverable: missing };
  }
  const order = [...redo.values()].sort((a, b) => d.steps.indexOf(a) - d.steps.indexOf(b));
  return { redo: order, remaining };
}

class Run<P> {
  readonly memory = new Map<string, unknown>();
  private current = '';

  constructor(
    readonly ceremony: Ceremony<P>,
    readonly env: CeremonyEnv,
    readonly t: Transcript,
    readonly params: P,
    readonly opts: EngineOptions,
  ) {}

  save() {
    persist(this.env.dataDir, this.t);
  }

  ctx(): StepContext<P> {
    const run = this;
    return {
      ceremonyId: this.t.ceremonyId,
      ceremonyDigest: ceremonyDigestOf(this.t.ceremonyId),
      params: this.params,
      env: this.env,
      memory: this.memory,
      transcript: this.t,
      faults: this.opts.faults ?? noFaults,
      recordOf(step) {
        return doneSteps(run.t).get(step)?.record;
      },
      deviation(note) {
        run.t.deviations.push({ at: nowIso(run.env), step: run.current, note, witness: run.env.witness });
      },
    };
  }

  private inject(step: string, when: 'before' | 'after') {
    this.opts.faults?.at(`${when}:${step}`);
    const f = this.opts.failAt;
    if (!f || f.step !== step || (f.when ?? 'before') !== when) return;
    throw new CeremonyError('ceremony_step_failed', `injected failure ${when} step "${step}"`, step);
  }

  async runStep(s: StepDef, outcome: StepOutcome): Promise<void> {
    const action = this.ceremony.actions[s.id];
    if (!action) throw new CeremonyError('ceremony_bad_definition', `no action bound to step "${s.id}"`);
    this.current = s.id;
    const startedAt = nowIso(this.env);
    this.opts.log?.(`step ${s.id}: ${s.title}`);
    try {
      this.inject(s.id, 'before');
      const res = (await action(this.ctx())) ?? {};
      const record = res.record ?? {};
      guardPublic(record, `step "${s.id}" record`);
      const statements = res.statements ?? [];
      guardPublic(statements, `step "${s.id}" statements`);
      if (
        (s.signOffs.includes('each-custodian') || s.signOffs.includes('quorum')) &&
        statements.length === 0 &&
        record['skipped'] !== true
      )
        throw new CeremonyError(
          'ceremony_sign_off_missing',
          `step "${s.id}" needs custodians' signed statements and got none`,
          s.id,
        );
      const attestations: Attestation[] = [];
      for (const role of ['administrator', 'witness'] as const) {
        if (!s.signOffs.includes(role)) continue;
        const a = await this.env.confirm(role, s.id, s.title);
        attestations.push({ role, who: a.who, at: nowIso(this.env), ...(a.note ? { note: a.note } : {}) });
        if (a.note && role === 'witness')
          this.t.deviations.push({ at: nowIso(this.env), step: s.id, note: a.note, witness: a.who });
      }
      this.t.steps.push({
        step: s.id,
        actor: s.actor,
        who: res.who ?? [s.actor === 'station' ? this.env.station.ref : s.actor],
        startedAt,
        finishedAt: nowIso(this.env),
        outcome,
        record,
        statements,
        attestations,
      });
      this.save();
      this.inject(s.id, 'after');
    } catch (e) {
      const info = errorInfo(e);
      if (!this.t.steps.some((r) => r.step === s.id && r.startedAt === startedAt)) {
        this.t.steps.push({
          step: s.id,
          actor: s.actor,
          who: [s.actor === 'station' ? this.env.station.ref : s.actor],
          startedAt,
          finishedAt: nowIso(this.env),
          outcome: 'failed',
          record: {},
          statements: [],
          attestations: [],
          error: info,
        });
        this.save();
      }
      if (e instanceof CeremonyError) throw e;
      throw new CeremonyError(
        'ceremony_step_failed',
        `ceremony ${this.t.ceremonyId} step "${s.id}" failed: ${info.message}; resume or abort it`,
        s.id,
      );
    }
  }

  async abort(reason: string): Promise<EngineResult> {
    this.current = 'abort';
    const res = await this.ceremony.abort(this.ctx(), reason);
    guardPublic(res.cleanup, 'abort cleanup');
    this.t.abort = { at: nowIso(this.env), reason, cleanup: res.cleanup, statements: res.statements };
    this.t.status = 'aborted';
    return close(this.env, this.t, this.opts);
  }
}

const signedPath = (dataDir: string, id: string) => join(transcriptDir(dataDir), `${id}.signed.json`);

/** The signed transcript statement the audit log holds for a ceremony, with its seq, if any. */
async function loggedTranscript(
  env: CeremonyEnv,
  ceremonyId: string,
): Promise<{ seq: number; statement: Statement } | undefined> {
  const row = await env.store.db
    .selectFrom('audit_entries')
    .select(['seq', 'entry_json'])
    .where('entry_json', 'like', `%"kind":"${TRANSCRIPT_ENTRY_KIND}"%`)
    .where('entry_json', 'like', `%"ceremonyId":"${ceremonyId}"%`)
    .executeTakeFirst();
  if (!row) return undefined;
  const entry = JSON.parse(row.entry_json) as { statement: Statement };
  return { seq: Number(row.seq), statement: entry.statement };
}

/**
 * Closes a transcript whose status is set (completed or aborted) in this order: sign it with the
 * station key and append it to the audit log (once: an entry for the same ceremonyId is never
 * written twice), then persist the file with its closed status, then the signed copy
 * (`<id>.signed.json`). A crash before the append leaves the file `running` (resume closes it); a
 * crash after it leaves the log ahead of the file, and the logged transcript wins.
 */
async function close(env: CeremonyEnv, t: Transcript, opts: EngineOptions): Promise<EngineResult> {
  const faults = opts.faults ?? noFaults;
  const id = t.ceremonyId;
  let logged = await loggedTranscript(env, id);
  if (!logged) {
    t.finishedAt = t.finishedAt ?? nowIso(env);
    const statement = await signStatement(
      {
        type: OTHER_STATEMENT.transcript,
        roster: env.coordinator.rosterId,
        signer: env.station.ref,
        body: t as unknown as JsonValue,
      },
      env.station.sign,
    );
    faults.at('close:before-append');
    logged = await env.store.transaction(async (trx) => {
      const have = await trx
        .selectFrom('audit_entries')
        .select(['seq', 'entry_json'])
        .where('entry_json', 'like', `%"kind":"${TRANSCRIPT_ENTRY_KIND}"%`)
        .where('entry_json', 'like', `%"ceremonyId":"${id}"%`)
        .executeTakeFirst();
      if (have)
        return {
          seq: Number(have.seq),
          statement: (JSON.parse(have.entry_json) as { statement: Statement }).statement,
        };
      const a = await appendEntry(trx, {
        kind: TRANSCRIPT_ENTRY_KIND,
        actor: env.station.ref,
        statement,
        data: { ceremonyId: id, ceremony: t.ceremony, status: t.status },
      });
      return { seq: a.seq, statement };
    });
    faults.at('close:after-append');
  }
  // The logged transcript is the record: the file and the signed copy are made to match it.
  const closed = logged.statement.body as unknown as Transcript;
  const path = persist(env.dataDir, closed);
  faults.at('close:after-save');
  // A finished ceremony is a close: the log signs a checkpoint of it (when this deployment signs).
  await env.coordinator.checkpoint();
  writeDurablySync(signedPath(env.dataDir, id), `${JSON.stringify(logged.statement)}\n`, { mode: 0o600 });
  opts.log?.(`ceremony ${id} ${closed.status}; transcript in the audit log at seq ${logged.seq}`);
  return { transcript: closed, path, statement: logged.statement, auditSeq: logged.seq };
}

/**
 * Is anything left to do for this transcript? Running; or closed without its signed copy (the
 * file or the log may lack it); or closed naming a restart whose transcript does not exist.
 */
function unfinished(dataDir: string, t: Transcript): boolean {
  if (t.status === 'running' || !existsSync(signedPath(dataDir, t.ceremonyId))) return true;
  return t.restartedAs !== undefined && !existsSync(transcriptPath(dataDir, t.restartedAs));
}

/**
 * The transcript to resume or abort: the one named, or the one unfinished transcript of the
 * ceremony (abort: running ones only); refuses, in one line, when there is none or several.
 */
function pickUnfinished(
  dataDir: string,
  name: string,
  which: string | true,
  op: 'resume' | 'abort',
): Transcript {
  if (which !== true) {
    const t = loadTranscript(dataDir, which);
    if (t.ceremony !== name)
      throw new CeremonyError(
        'ceremony_no_transcript',
        `transcript ${which} is of ceremony "${t.ceremony}", not "${name}"`,
      );
    return t;
  }
  const open = listTranscripts(dataDir).filter(
    (t) => t.ceremony === name && (op === 'abort' ? t.status === 'running' : unfinished(dataDir, t)),
  );
  if (open.length > 1)
    throw new CeremonyError(
      'ceremony_ambiguous',
      `${open.length} unfinished "${name}" ceremonies (${open.map((t) => t.ceremonyId).join(', ')}); name one: --${op} ID`,
    );
  const t = open[0];
  if (!t)
    throw new CeremonyError(
      'ceremony_no_transcript',
      `no unfinished "${name}" ceremony in ${transcriptDir(dataDir)}`,
    );
  return t;
}

const newCeremonyId = (d: CeremonyDefinition, env: CeremonyEnv): string => {
  const stamp = env
    .now()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'z')
    .toLowerCase();
  return `cer-${d.name}-${stamp}-${randomBytes(4).toString('hex')}`;
};

/**
 * Finishes a transcript the log or the file says is closed: logs it if the log lacks it, makes the
 * file and the signed copy match the log, and starts the restart it names if that never began.
 */
async function finish<P>(ceremony: Ceremony<P>, opts: EngineOptions, t: Transcript): Promise<EngineResult> {
  const closed = await close(opts.env, t, opts);
  const next = closed.transcript.restartedAs;
  if (next === undefined || existsSync(transcriptPath(opts.env.dataDir, next))) return closed;
  const restarted = await start(ceremony, { ...opts, resume: undefined }, t.params, t.ceremonyId, next);
  return { ...closed, restarted };
}

/** Runs, resumes or aborts a ceremony. @throws {CeremonyError} */
export async function runEngine<P>(ceremony: Ceremony<P>, opts: EngineOptions): Promise<EngineResult> {
  const d = ceremony.definition;
  checkDefinition(d, ceremony.actions);
  const env = opts.env;
  if (opts.abort !== undefined) {
    const t = pickUnfinished(env.dataDir, d.name, opts.abort, 'abort');
    const logged = await loggedTranscript(env, t.ceremonyId);
    if (logged) {
      const done = await finish(ceremony, opts, t);
      throw new CeremonyError(
        'ceremony_closed',
        `ceremony ${t.ceremonyId} is already ${done.transcript.status} (audit entry ${done.auditSeq}); nothing to abort`,
      );
    }
    if (t.status !== 'running')
      throw new CeremonyError('ceremony_closed', `ceremony ${t.ceremonyId} is already ${t.status}`);
    const run = new Run(ceremony, env, t, ceremony.parseParams(t.params, env), opts);
    return run.abort(opts.abortReason ?? 'aborted by the ceremony administrator');
  }
  if (opts.resume !== undefined) {
    const t = pickUnfinished(env.dataDir, d.name, opts.resume, 'resume');
    if (t.status !== 'running' || (await loggedTranscript(env, t.ceremonyId))) {
      if (!unfinished(env.dataDir, t))
        throw new CeremonyError(
          'ceremony_closed',
          `ceremony ${t.ceremonyId} is already ${t.status}; nothing to resume`,
        );
      return finish(ceremony, opts, t);
    }
    if (t.definitionDigest !== definitionDigest(d))
      throw new CeremonyError(
        'ceremony_not_resumable',
        `ceremony ${t.ceremonyId} ran another version of the "${d.name}" definition; abort it`,
      );
    const params = ceremony.parseParams(t.params, env);
    const run = new Run(ceremony, env, t, params, opts);
    const plan = resumePlan(d, t);
    if (plan.unrecoverable !== undefined) {
      // The restart's id is fixed and persisted before the abort, so the link is in the signed,
      // logged transcript and survives a crash anywhere in the abort or the restart.
      if (d.restartAfterAbort && t.restartedAs === undefined) {
        t.restartedAs = newCeremonyId(d, env);
        run.save();
      }
      const aborted = await run.abort(
        `interrupted; "${plan.unrecoverable}" existed only in the lost station process, so the ceremony cannot resume`,
      );
      if (t.restartedAs === undefined) return aborted;
      const restarted = await start(
        ceremony,
        { ...opts, resume: undefined },
        t.params,
        t.ceremonyId,
        t.restartedAs,
      );
      return { ...aborted, restarted };
    }
    t.resumptions.push({
      at: nowIso(env),
      fromStep: plan.remaining[0]?.id ?? '(close)',
      redo: plan.redo.map((s) => s.id),
    });
    run.save();
    for (const s of plan.redo) await run.runStep(s, s.recoveryOnly ? 'recovered' : 'redone');
    for (const s of plan.remaining) await run.runStep(s, 'done');
    t.status = 'completed';
    return close(env, t, opts);
  }
  return start(ceremony, opts, opts.params ?? {});
}

async function start<P>(
  ceremony: Ceremony<P>,
  opts: EngineOptions,
  rawParams: Record<string, unknown>,
  restartOf?: string,
  ceremonyId?: string,
): Promise<EngineResult> {
  const d = ceremony.definition;
  const env = opts.env;
  // Every parameter is checked against the roster in force before the transcript or any step exists.
  const params = ceremony.parseParams(rawParams, env);
  const t: Transcript = {
    format: TRANSCRIPT_FORMAT,
    ceremonyId: ceremonyId ?? newCeremonyId(d, env),
    ceremony: d.name,
    definitionDigest: definitionDigest(d),
    params: ceremony.paramsJson(params),
    rehearsal: env.rehearsal,
    station: env.station.ref,
    administrator: env.administrator,
    witness: env.witness,
    startedAt: nowIso(env),
    status: 'running',
    resumptions: [],
    steps: [],
    deviations: [],
    ...(restartOf ? { restartOf } : {}),
  };
  guardPublic(t.params, 'ceremony parameters');
  const run = new Run(ceremony, env, t, params, opts);
  run.save();
  for (const s of d.steps) if (!s.recoveryOnly) await run.runStep(s, 'done');
  t.status = 'completed';
  return close(env, t, opts);
}
