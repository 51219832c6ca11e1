/**
 * The roster: data-embassy's trust root (docs/DECISIONS.md#d1; docs/ROSTER.md). Pure library.
 * @module
 */
export * from './build.ts';
export { checkRosterDoc, liveEpoch, parseRosterDoc, parseSignedRoster } from './check.ts';
export * from './errors.ts';
export * from './lookup.ts';
export * from './schema.ts';
export * from './sign.ts';
export * from './verify.ts';
