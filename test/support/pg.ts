/**
 * The PostgreSQL database the tests and benchmarks use: `EMBASSY_TEST_DATABASE_URL`, default
 * `postgres://postgres@127.0.0.1:5432/test` (trust authentication, database `test`). Every test
 * works in its own random schema and drops it afterwards, so runs never collide.
 *
 * @example
 * EMBASSY_TEST_DATABASE_URL=postgres://me@db.internal:5433/ci npx vitest run test/store
 */
export const TEST_DATABASE_URL =
  process.env['EMBASSY_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
