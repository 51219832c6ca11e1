/**
 * Signing roster versions. A roster signature is a signed statement (src/crypto/statement.ts,
 * docs/DECISIONS.md#d10) that is never sent whole: only `{ signer, sig }` travels, next to the document,
 * and the verifier rebuilds the statement
 * ```
 * { type: "roster", roster: hex(rosterIdOf(doc)), signer: "custodian/<id>", body: doc }
 * ```
 * so the signing payload is
 * ```
 * SHA-256( "data-embassy/v1/roster" ‖ 0x00 ‖ rosterIdOf(doc) ‖ JCS({body: doc, roster, signer, type}) )
 * ```
 * The rosterId in the payload is the id of **the document being signed itself** (not of the previous
 * version, nor zeros): every signer of version N+1, old root or new, signs the same id, and that id is
 * what clients pin and what statements made under this version name. The chain link is `previous`,
 * inside the document.
 *
 * The signature is ES256 over the 32 payload bytes, raw `r ‖ s` (64 bytes): a custodian token signs
 * `SHA-256(payload)` with `CKM_ECDSA` (hsm/custodian.ts `Custodian.sign(digest)`), or the payload with
 * `CKM_ECDSA_SHA256`. {@link tokenSigner} adapts the former.
 *
 * @example
 * const doc = buildGenesis({...});
 * const sigs = await Promise.all(custodians.map((c) => signRoster(doc, c.id, tokenSigner(c.token))));
 * const signed = assembleSignedRoster(doc, sigs);   // { roster: doc, signatures }
 * @module
 */
import { createHash, type KeyObject, sign as nodeSign } from 'node:crypto';
import { toHex } from '../crypto/bytes.ts';
import type { JsonValue } from '../crypto/jcs.ts';
import { rosterIdOf, statementPayload, toBase64Url, type UnsignedStatement } from '../crypto/statement.ts';
import { parseRosterDoc, parseSignedRoster } from './check.ts';
import { RosterError } from './errors.ts';
import type { RosterDoc, RosterSignature, SignedRoster } from './schema.ts';

/** The statement type of a roster signature. */
export const ROSTER_STATEMENT_TYPE = 'roster';

/** Signs the 32-byte payload: ECDSA P-256 with SHA-256 over it (ES256), raw 64-byte `r ‖ s`. */
export type PayloadSigner = (payload: Uint8Array) => Promise<Uint8Array>;

/** The statement `signer` of a principal: `<role>/<id>`, e.g. `custodian/alice`. */
export const signerRef = (role: 'custodian' | 'station' | 'job' | 'auditor', id: string): string =>
  `${role}/${id}`;

/** The rosterId of a document, as 64 lowercase hex digits (the `--roster-pin` value). */
export const rosterIdHex = (doc: RosterDoc): string => toHex(rosterIdOf(doc));

/** The statement a roster signature signs (without `sig`). */
export function rosterStatement(doc: RosterDoc, custodianId: string): UnsignedStatement {
  return {
    type: ROSTER_STATEMENT_TYPE,
    roster: rosterIdHex(doc),
    signer: signerRef('custodian', custodianId),
    body: doc as unknown as JsonValue,
  };
}

/** The 32-byte signing payload of custodian `custodianId`'s signature over `doc`. */
export const rosterSigningPayload = (doc: RosterDoc, custodianId: string): Uint8Array =>
  statementPayload(rosterStatement(doc, custodianId));

/**
 * Signs `doc` (checked with {@link parseRosterDoc} first: nobody signs a malformed version) as
 * custodian `custodianId`. @throws {RosterError} on a malformed document or a signer that returns
 * anything but 64 bytes.
 */
export async function signRoster(
  doc: RosterDoc,
  custodianId: string,
  sign: PayloadSigner,
): Promise<RosterSignature> {
  const checked = parseRosterDoc(doc);
  if (!checked.custodians.some((c) => c.id === custodianId))
    throw new RosterError(
      'roster_unknown_signer',
      `roster version ${checked.version}: "${custodianId}" is not a custodian of this version`,
    );
  const sig = await sign(rosterSigningPayload(checked, custodianId));
  if (!(sig instanceof Uint8Array) || sig.length !== 64)
    throw new RosterError('roster_bad_signature', `signer "${custodianId}" returned a malformed signature`);
  return { signer: custodianId, sig: toBase64Url(sig) };
}

/** A {@link PayloadSigner} over a node:crypto P-256 private key (software: tests, demo, ceremonies). */
export const softwareSigner =
  (privateKey: KeyObject): PayloadSigner =>
  async (payload) =>
    new Uint8Array(nodeSign('sha256', payload, { key: privateKey, dsaEncoding: 'ieee-p1363' }));

/** A {@link PayloadSigner} over a token that signs a 32-byte digest with `CKM_ECDSA`. */
export const tokenSigner =
  (token: { sign(digest: Uint8Array): Promise<Uint8Array> }): PayloadSigner =>
  async (payload) =>
    token.sign(new Uint8Array(createHash('sha256').update(payload).digest()));

/**
 * `{ roster: doc, signatures }`, schema-checked (signatures are verified by verify.ts, not here).
 * @throws {RosterError}
 */
export const assembleSignedRoster = (doc: RosterDoc, signatures: readonly RosterSignature[]): SignedRoster =>
  parseSignedRoster({ roster: doc, signatures: [...signatures] });
