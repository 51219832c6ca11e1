import { EmbassyError } from '../errors.ts';

/** Every way an archive can be refused, each with one line a custodian or operator can act on. */
export type ArchiveErrorCode =
  | 'not_archive'
  | 'unsupported_version'
  | 'truncated'
  | 'bad_header'
  | 'bad_manifest'
  | 'no_matching_stanza'
  | 'stanza_open_failed'
  | 'header_mac_mismatch'
  | 'commitment_mismatch'
  | 'chunk_auth_failed'
  | 'too_large'
  | 'unsigned'
  | 'maker_mismatch'
  | 'bad_argument';

export class ArchiveError extends EmbassyError<ArchiveErrorCode> {}
