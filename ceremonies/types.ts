/**
 * The ceremony definition format (docs/CEREMONIES.md §1). A definition is pure data: the roles, the
 * ordered steps with their actor, inputs, preconditions, sign-offs and what each step records. The
 * runbook is rendered from it (runbook.ts) and the engine (engine.ts) runs it step by step, calling
 * the action bound to each step id. Nothing here holds or names secret material.
 * @module
 */
import type { JsonValue } from '../src/crypto/jcs.ts';
import type { Statement } from '../src/crypto/statement.ts';
import { EmbassyError } from '../src/errors.ts';

/** The four roles of every ceremony. */
export type RoleId = 'administrator' | 'custodians' | 'witness' | 'station';

export interface RoleDef {
  readonly id: RoleId;
  readonly title: string;
  readonly duties: string;
}

/**
 * A sign-off a step needs before it counts as done:
 * - `administrator`, `witness`: the named person confirms the step (attestation in the transcript);
 * - `each-custodian`: a signed statement from every custodian the step involves (their token key);
 * - `quorum`: signed statements from at least the threshold of custodians the step involves;
 * - `root-quorum`: roster signatures of a threshold of the old and the new roster root.
 */
export type SignOffKind = 'administrator' | 'witness' | 'each-custodian' | 'quorum' | 'root-quorum';

export interface StepDef {
  /** Unique within the definition, `[a-z][a-z0-9-]*`; the action is bound to this id. */
  readonly id: string;
  readonly title: string;
  /** Who performs the step. */
  readonly actor: RoleId;
  /** What is done, in words for the runbook. */
  readonly action: string;
  /** What the step takes (parameters, earlier records, tokens). */
  readonly inputs: readonly string[];
  /** What must hold before the step starts. */
  readonly preconditions: readonly string[];
  readonly signOffs: readonly SignOffKind[];
  /** What the transcript records for this step (public facts only). */
  readonly records: readonly string[];
  /** In-memory material (never persisted) that this step produces, e.g. `old-key`. */
  readonly provides?: readonly string[];
  /** In-memory material this step needs from an earlier step. */
  readonly uses?: readonly string[];
  /**
   * After an interruption, may the step be run again to rebuild what it `provides`? Default false:
   * a ceremony whose remaining steps need material only a non-redoable step made is aborted.
   */
  readonly redoable?: boolean;
  /** Runs only on resume, to recover what it provides (e.g. a new-epoch quorum release). */
  readonly recoveryOnly?: boolean;
}

export interface ParamDef {
  readonly name: string;
  readonly description: string;
  readonly required: boolean;
  /** Shown in the runbook. */
  readonly example?: string;
}

export interface CeremonyDefinition {
  /** `[a-z][a-z0-9-]*`: the CLI name and the transcript's `ceremony`. */
  readonly name: string;
  readonly title: string;
  readonly purpose: string;
  readonly roles: readonly RoleDef[];
  readonly params: readonly ParamDef[];
  readonly steps: readonly StepDef[];
  /** What an abort does (the bound `abort` action), in words for the runbook. */
  readonly onAbort: string;
  /** After an abort caused by an interruption, start again with fresh keys (docs/DECISIONS.md#d8). */
  readonly restartAfterAbort?: boolean;
}

/** The roles every ceremony uses, with default duties. */
export const ROLES: Record<RoleId, RoleDef> = {
  administrator: {
    id: 'administrator',
    title: 'Ceremony administrator',
    duties:
      'Runs the script step by step on the station, reads every step aloud, collects the sign-offs; the transcript is signed with the station key they operate.',
  },
  custodians: {
    id: 'custodians',
    title: 'Custodians',
    duties:
      'Bring their own token and PIN, check what they sign against the pinned roster, and sign with their token identity key.',
  },
  witness: {
    id: 'witness',
    title: 'Internal witness',
    duties:
      'Observes every step, confirms it happened as scripted, and notes every deviation in the transcript.',
  },
  station: {
    id: 'station',
    title: 'Station',
    duties:
      'The offline recovery station: generates, combines and zeroises keys in memory; signs the transcript.',
  },
};

export const ALL_ROLES: readonly RoleDef[] = [
  ROLES.administrator,
  ROLES.custodians,
  ROLES.witness,
  ROLES.station,
];

export type JsonObject = { [k: string]: JsonValue };

/** A witness's note on a step that did not go exactly as scripted. */
export interface Deviation {
  readonly at: string;
  readonly step: string;
  readonly note: string;
  /** The witness who noted it. */
  readonly witness: string;
}

/** An attestation by the administrator or the witness (who, when, optional note). */
export interface Attestation {
  readonly role: 'administrator' | 'witness';
  readonly who: string;
  readonly at: string;
  readonly note?: string;
}

export type StepOutcome = 'done' | 'failed' | 'redone' | 'recovered';

/** One executed step in the transcript (a step run again after a resume appears again). */
export interface StepRecord {
  readonly step: string;
  readonly actor: RoleId;
  /** Principals that acted (`station/…`, `custodian/…`, people's names). */
  readonly who: readonly string[];
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly outcome: StepOutcome;
  /** Public facts the step records; never secret material. */
  readonly record: JsonObject;
  /** Custodians' signed statements (acceptances, approvals, destruction records, …). */
  readonly statements: readonly Statement[];
  readonly attestations: readonly Attestation[];
  /** On failure: the error code and message (never secret material). */
  readonly error?: { readonly code: string; readonly message: string };
}

export type TranscriptStatus = 'running' | 'completed' | 'aborted';

/** The transcript (docs/CEREMONIES.md §3), persisted after every step and logged when closed. */
export interface Transcript {
  readonly format: 'data-embassy/ceremony-transcript/v1';
  readonly ceremonyId: string;
  readonly ceremony: string;
  /** SHA-256 of the JCS of the definition that ran (hex): the runbook's digest too. */
  readonly definitionDigest: string;
  readonly params: JsonObject;
  readonly rehearsal: boolean;
  readonly station: string;
  readonly administrator: string;
  readonly witness: string;
  readonly startedAt: string;
  status: TranscriptStatus;
  /** Every resume: when, from which step, which steps were run again. */
  resumptions: { at: string; fromStep: string; redo: string[] }[];
  steps: StepRecord[];
  deviations: Deviation[];
  /** Set when the transcript is closed. */
  finishedAt?: string;
  abort?: { at: string; reason: string; cleanup: JsonObject; statements: Statement[] };
  /** A ceremony restarted after this one was aborted (docs/DECISIONS.md#d8). */
  restartedAs?: string;
  /** The aborted ceremony this one restarts. */
  restartOf?: string;
}

export type CeremonyErrorCode =
  | 'ceremony_unknown'
  | 'ceremony_bad_params'
  | 'ceremony_bad_definition'
  | 'ceremony_precondition'
  | 'ceremony_step_failed'
  | 'ceremony_not_resumable'
  | 'ceremony_no_transcript'
  | 'ceremony_closed'
  | 'ceremony_ambiguous'
  | 'ceremony_published'
  | 'ceremony_sign_off_missing';

export class CeremonyError extends EmbassyError<CeremonyErrorCode> {
  constructor(
    code: CeremonyErrorCode,
    message: string,
    readonly step?: string,
  ) {
    super(code, message);
  }
}
