/**
 * A signed-request client of the coordinator, for custodians, stations, jobs and auditors. It
 * signs every mutating request (and the station's fetch of releases) as docs/API.md §2 says, with
 * whatever signs for the principal: a custodian's token (ECDSA over SHA-256 of the payload inside
 * the HSM) or a software Ed25519 key. `fetch` is injectable, so tests drive the real Hono app
 * in-process and the CLI talks HTTP.
 *
 * @example
 * const client = new CoordinatorClient({ baseUrl, principal: 'custodian-1', rosterId, sign });
 * await client.post('/v1/ceremonies/cer-…/decisions', statement);
 */
import { randomBytes } from 'node:crypto';
import { type Statement, signStatement, toBase64Url, type UnsignedStatement } from '../crypto/statement.ts';
import { EmbassyError } from '../errors.ts';
import { HEADER, requestPayload } from './request.ts';

export type PayloadSigner = (payload: Uint8Array) => Promise<Uint8Array>;
export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

export interface ClientOptions {
  baseUrl: string;
  /** Roster principal id (e.g. `custodian-1`). */
  principal: string;
  /** `<role>/<id>`, how statements name the signer. */
  signer: string;
  /** rosterId (hex) of the roster version the client pinned and checked. */
  rosterId: string;
  sign: PayloadSigner;
  fetch?: Fetch;
  now?: () => Date;
}

/** The coordinator answered with an error; `code` is its machine-readable code. */
export class CoordinatorError extends EmbassyError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}

export class CoordinatorClient {
  constructor(private readonly opts: ClientOptions) {}

  get principal() {
    return this.opts.principal;
  }

  get rosterId() {
    return this.opts.rosterId;
  }

  /** Signs a raw payload as this principal (e.g. an archive's maker statement). */
  sign(payload: Uint8Array): Promise<Uint8Array> {
    return this.opts.sign(payload);
  }

  withRoster(rosterId: string): CoordinatorClient {
    return new CoordinatorClient({ ...this.opts, rosterId });
  }

  /** Signs a statement as this principal against the pinned roster. */
  statement(type: string, body: UnsignedStatement['body']): Promise<Statement> {
    return signStatement(
      { type, roster: this.opts.rosterId, signer: this.opts.signer, body },
      this.opts.sign,
    );
  }

  get<T>(path: string, signed = false): Promise<T> {
    return this.send<T>('GET', path, undefined, signed);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.send<T>('POST', path, body, true);
  }

  private async send<T>(method: string, path: string, body: unknown, signed: boolean): Promise<T> {
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (signed) {
      const timestamp = (this.opts.now?.() ?? new Date()).toISOString();
      const nonce = randomBytes(16).toString('hex');
      const payload = requestPayload(
        {
          method,
          path,
          body: new TextEncoder().encode(text),
          timestamp,
          nonce,
          principal: this.opts.principal,
        },
        Buffer.from(this.opts.rosterId, 'hex'),
      );
      Object.assign(headers, {
        [HEADER.principal]: this.opts.principal,
        [HEADER.timestamp]: timestamp,
        [HEADER.nonce]: nonce,
        [HEADER.roster]: this.opts.rosterId,
        [HEADER.signature]: toBase64Url(await this.opts.sign(payload)),
      });
    }
    const f = this.opts.fetch ?? fetch;
    let res: Response;
    try {
      res = await f(new URL(path, this.opts.baseUrl).toString(), {
        method,
        headers,
        ...(body === undefined ? {} : { body: text }),
      });
    } catch (e) {
      throw new CoordinatorError(
        0,
        'unreachable',
        `coordinator at ${this.opts.baseUrl} is unreachable: ${(e as Error).message}`,
      );
    }
    const data = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
    if (!res.ok) {
      throw new CoordinatorError(
        res.status,
        data.error?.code ?? 'http_error',
        data.error?.message ?? `HTTP ${res.status}`,
      );
    }
    return data as T;
  }
}
