/** Re-keying jobs (docs/JOBS.md): rewrap after a rotation, home-key rotation, key-age policy. */
export {
  type ArchiveRef,
  archivesFromDirectory,
  archivesFromStore,
  type JobCounters,
  JobError,
  type JobErrorCode,
} from './common.ts';
export { type HomeRotateOptions, type HomeRotateResult, homeRotateJob } from './home-rotate.ts';
export {
  type HealthFailure,
  type KeyAgeOptions,
  type KeyAgeResult,
  keyAgeJob,
  ROTATION_REQUIRED,
  type RotationReason,
  type RotationRequest,
} from './key-age.ts';
export {
  type ArchiveFailure,
  defaultRewrapJobId,
  type RewrapJobOptions,
  type RewrapRecipient,
  type RewrapResult,
  rewrapJob,
} from './rewrap.ts';
