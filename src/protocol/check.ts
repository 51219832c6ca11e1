/**
 * What a client checks in a ceremony the coordinator serves, against its own pinned roster (the
 * coordinator is not trusted to say which keys are real, docs/DECISIONS.md#d1): the request is signed
 * by a station of the roster and names a live epoch; every decision is signed by a custodian of
 * the domain and names this request and its recipient keys; the policy verdict is recomputed
 * from the signed decisions alone. Custodian clients run it before they release, stations before
 * they combine.
 *
 * @example
 * const c = checkCeremony(pinnedRoster, await client.get<CeremonyView>(`/v1/ceremonies/${id}`), new Date());
 * if (c.verdict.state === 'releasable') …
 */
import { toHex } from '../crypto/bytes.ts';
import { fromBase64Url, type Statement, statementId, verifyStatement } from '../crypto/statement.ts';
import { EmbassyError } from '../errors.ts';
import {
  domainAcceptsLegalBasis,
  domain as domainOf,
  findEpoch,
  principalKey,
  type RosterDoc,
  stationMayAsk,
} from '../roster/index.ts';
import { type CeremonyId, PrincipalRef } from './ids.ts';
import { evaluateUnlock, type SignedDecision, type UnlockVerdict } from './policy.ts';
import { sha256Hex } from './request.ts';
import {
  recipientKeysHash,
  STATEMENT,
  STATEMENTS,
  type StatementType,
  UnlockRequestBody,
} from './statements.ts';

export class CeremonyCheckError extends EmbassyError<'ceremony_check_failed'> {
  constructor(message: string) {
    super('ceremony_check_failed', message);
  }
}

export interface CheckedCeremony {
  id: CeremonyId;
  request: UnlockRequestBody;
  requestHash: string;
  station: string;
  recipientP256: Uint8Array;
  recipientXWing: Uint8Array;
  recipientKeys: string;
  decisions: SignedDecision[];
  verdict: UnlockVerdict;
}

const fail = (m: string): never => {
  throw new CeremonyCheckError(m);
};

/** Checks that `s` is signed, against the pinned roster, by the role its type names; returns the id. */
function signedBy(roster: RosterDoc, s: Statement, type: StatementType): string {
  const role = STATEMENTS[type].signer;
  const ref = PrincipalRef.safeParse(s.signer);
  const [r, id] = ref.success ? ref.data.split('/') : [];
  if (r !== role || !id) return fail(`statement signer "${s.signer}" is not a ${role}`);
  let ok = false;
  try {
    ok = verifyStatement(s, principalKey(roster, s.signer));
  } catch {
    ok = false;
  }
  if (!ok) fail(`the ${s.type} statement of "${s.signer}" does not verify against the pinned roster`);
  return id;
}

export function checkCeremony(
  roster: RosterDoc,
  view: { id: string; request: Statement; decisions: { statement: Statement }[] },
  now: Date,
): CheckedCeremony {
  const req = view.request;
  if (req.type !== STATEMENT.unlockRequest) fail('the ceremony does not hold an unlock request');
  const station = signedBy(roster, req, STATEMENT.unlockRequest);
  const parsed = UnlockRequestBody.safeParse(req.body);
  if (!parsed.success) return fail('the unlock request body is malformed');
  const body = parsed.data;
  if (body.ceremonyId !== view.id) fail('the unlock request names another ceremony');
  const dom = domainOf(roster, body.domain);
  const epoch = findEpoch(roster, body.domain, body.epoch);
  if (!epoch || epoch.retired)
    fail(`domain "${body.domain}" has no live epoch ${body.epoch} in the pinned roster`);
  if (!domainAcceptsLegalBasis(roster, dom, body.justification.legalBasis))
    fail(`the legal basis is not accepted for domain "${body.domain}" in the pinned roster`);
  if (!stationMayAsk(dom, station))
    fail(`station "${station}" may not ask to unlock domain "${body.domain}"`);
  const requestHash = toHex(statementId(req));
  const recipientP256 = fromBase64Url(body.recipientP256)!;
  const recipientXWing = fromBase64Url(body.recipientXWing)!;
  const recipientKeys = recipientKeysHash(recipientP256, recipientXWing);
  const decisions: SignedDecision[] = view.decisions.map(({ statement }) => {
    if (statement.type !== STATEMENT.decision) fail('a decision has the wrong statement type');
    const custodian = signedBy(roster, statement, STATEMENT.decision);
    const d = STATEMENTS[STATEMENT.decision].body.safeParse(statement.body);
    if (!d.success) return fail(`the decision of "${custodian}" is malformed`);
    if (
      d.data.ceremonyId !== body.ceremonyId ||
      d.data.requestHash !== requestHash ||
      d.data.recipientKeys !== recipientKeys
    ) {
      fail(`the decision of "${custodian}" names another request or other recipient keys`);
    }
    return { custodian, decision: d.data.decision, createdAt: d.data.createdAt };
  });
  const verdict = evaluateUnlock(dom, roster, body, decisions, now);
  return {
    id: body.ceremonyId,
    request: body,
    requestHash,
    station,
    recipientP256,
    recipientXWing,
    recipientKeys,
    decisions,
    verdict,
  };
}

/** A custodian's release statement, checked against the blob it came with. */
export function checkRelease(
  roster: RosterDoc,
  c: CheckedCeremony,
  r: { custodian: string; blob: string; statement: Statement },
): Uint8Array {
  if (r.statement?.type !== STATEMENT.release)
    fail(`the release of "${r.custodian}" has no release statement`);
  const custodian = signedBy(roster, r.statement, STATEMENT.release);
  if (custodian !== r.custodian) fail(`the release of "${r.custodian}" is signed by "${custodian}"`);
  const b = STATEMENTS[STATEMENT.release].body.safeParse(r.statement.body);
  if (!b.success) return fail(`the release statement of "${custodian}" is malformed`);
  const blob = fromBase64Url(r.blob);
  if (!blob) return fail(`the release blob of "${custodian}" is not base64url`);
  const hash = sha256Hex(blob);
  if (
    b.data.blobHash !== hash ||
    b.data.requestHash !== c.requestHash ||
    b.data.recipientKeys !== c.recipientKeys
  ) {
    fail(`the release of "${custodian}" does not match its signed statement`);
  }
  return blob;
}
