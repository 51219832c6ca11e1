/** Sealed archives: format v1 (docs/FORMAT.md). */
export { ArchiveError, type ArchiveErrorCode } from './errors.ts';
export { type Header, STANZA_HOME, STANZA_QUORUM } from './header.ts';
export { homeUnwrapper, homeWrapper } from './home.ts';
export { type ArchiveSummary, inspectArchive } from './inspect.ts';
export {
  atomicFileSink,
  bufferSink,
  bufferSource,
  fileSource,
  type Sink,
  type Source,
  streamSink,
  streamSource,
} from './io.ts';
export {
  checkMakerFacts,
  type MakerBody,
  type MakerFacts,
  type MakerSigner,
  STANZA_MAKER,
} from './maker.ts';
export { encodeManifest, type Manifest, parseManifest, validateManifest } from './manifest.ts';
export { type HomeUnwrapper, type OpenOptions, openArchive, recoverDek } from './open.ts';
export {
  type HeaderRewrite,
  inPlace,
  quorumStanzas,
  type Replacement,
  type ReplaceStep,
  type RewrapOptions,
  replaceHeader,
  rewrapArchive,
} from './rekey.ts';
export { type HomeWrapper, type QuorumRecipient, type SealOptions, sealArchive } from './seal.ts';
