/** The backup job as a library: seal a snapshot, then register it (`embassy snapshot` is a shell over it). */
export {
  type RegisterOptions,
  type Registration,
  registerSnapshot,
  registrationOf,
} from './register.ts';
export { type SealedSnapshot, type SealSnapshotOptions, sealSnapshot } from './seal.ts';
