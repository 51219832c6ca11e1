/**
 * The HSM boundary of data-embassy. Everything that touches a PKCS#11 module lives in hsm/; this is
 * its public surface. No pkcs11js type crosses it: keys are named by label and id, bytes are
 * Uint8Array, failures are {@link HsmError} with a `code`. See docs/HSM.md.
 */
export {
  type Custodian,
  type CustodianPublicKeys,
  type DestructionRecord,
  type ImportExpectation,
  type InstallTrustedKeyOptions,
  installTrustedStationKey,
  openCustodian,
  type ReleaseRequest,
  type ShareInfo,
  type TokenOptions,
  type TrustedReleaseRequest,
} from './custodian.ts';
export {
  type DevPins,
  devTokenLabels,
  type InitOptions,
  type InitResult,
  initDevTokens,
} from './dev/init.ts';
export { HsmError, type HsmErrorCode } from './errors.ts';
export {
  type ParsedImport,
  type ParsedRelease,
  parseImportEnvelope,
  parseReleaseEnvelope,
  SHARE_LENGTH,
  shareCommitment,
  shareLabel,
} from './format.ts';
export { DEK_LENGTH, type HomeHsm, openHome, WRAPPED_DEK_LENGTH } from './home.ts';
export { type LogToken, openLogToken } from './logkey.ts';
export { type PinOptions, type PinSource, pinEnvName, type ResolvedPin, resolvePin } from './pins.ts';
export type { KeyFacts } from './pkcs11/keys.ts';
export { DEFAULT_MODULE, resolveModulePath } from './pkcs11/module.ts';
export {
  type CeremonyKeys,
  commitShare,
  createCeremonyKeys,
  type HealthChallenge,
  precomputeHealthChallenges,
  receiveRelease,
  receiveTrustedRelease,
  type ShareCommitmentRecord,
  verifyHealthResponse,
  verifyShareCommitment,
  wrapShareForImport,
  zeroizeCeremonyKeys,
} from './station.ts';
export { verifyEd25519, verifyP256 } from './verify.ts';
