/**
 * `npm start -- --auth oidc`: a local OIDC issuer and the token check API Gateway's JWT
 * authorizer makes (infra/local/README.md "Local mode with real tokens").
 *
 * At start an RS256 key pair is made (jose); its public half is published as a JWKS on
 * loopback (`GET /_local/jwks.json`, and the discovery document under the issuer URL).
 * `POST /_local/token` hands out GitHub-Actions-like tokens. Every `/v1` request's
 * `Authorization` header is checked the way the API Gateway Developer Guide describes it
 * ("Control access to HTTP APIs with JWT authorizers in API Gateway"): the token, with or
 * without `Bearer `; RS256 only (what GitHub signs with; API Gateway accepts any RSA-based
 * algorithm, RS384 and RS512 too); a `kid` naming the published key; `iss` equal to the issuer;
 * `aud` (or `client_id` when there is no `aud`) one of the audiences; `exp` after now, `nbf`
 * and `iat` before now. A failure is `401 {"message":"Unauthorized"}`, with
 * `www-authenticate: Bearer scope="" error="invalid_token" error_description="..."` when a
 * token was given ("Troubleshooting issues with HTTP API JWT authorizers"). The claims of a
 * good token reach the handler as strings in `requestContext.authorizer.jwt.claims`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, jwtVerify, decodeProtectedHeader, errors, type JWK, type JWTPayload, type CryptoKey } from 'jose';

/** The subject of `POST /_local/token {"operator": true}`; main.ts adds it to FLEDGE_OPERATORS unless that is set. */
export const LOCAL_OPERATOR_SUBJECT = 'fledge-local:operator';
export const DEFAULT_LOCAL_AUDIENCE = 'fledge';
const DEFAULT_EXPIRES_IN = 3600;
export const DEFAULT_LOCAL_EVENT_NAME = 'push';
const MAX_EXPIRES_IN = 24 * 3600;

export interface TokenRequest {
  repository?: string;
  actor?: string;
  audience?: string;
  /** seconds; negative makes an already-expired token (for tests) */
  expiresIn?: number;
  ref?: string;
  operator?: boolean;
  /** another `iss` than this issuer's (to see the check refuse it) */
  issuer?: string;
  /** the `repository_owner_id` claim (digits); default: `localOwnerId` of the owner's name */
  repositoryOwnerId?: string;
  /** the `event_name` claim: the GitHub event that started the job; default `push` */
  eventName?: string;
}

/**
 * The stand-in for GitHub's numeric owner id in local tokens: the same for the same owner name
 * (ignoring case, as GitHub logins do) on every run, so FLEDGE_OIDC_OWNERS may name it; a
 * real GitHub id of that owner differs. `POST /_local/token {"repositoryOwnerId": "..."}` sets
 * another (to play a renamed owner: another name, the same id).
 */
export function localOwnerId(owner: string): string {
  return String(parseInt(createHash('sha256').update(`fledge-local-owner:${owner.toLowerCase()}`).digest('hex').slice(0, 8), 16));
}

/** Like `localOwnerId`, for the `repository_id` claim (from the full `owner/name`). */
export function localRepositoryId(repository: string): string {
  return String(parseInt(createHash('sha256').update(`fledge-local-repository:${repository.toLowerCase()}`).digest('hex').slice(0, 8), 16));
}

export type Verdict =
  | { ok: true; claims: Record<string, string> }
  /** `description` undefined: no token was sent (API Gateway then sends no www-authenticate) */
  | { ok: false; description?: string };

export interface LocalIssuer {
  issuer: string;
  /** the `kid` of the published key */
  kid: string;
  audiences: readonly string[];
  jwks(): { keys: JWK[] };
  discovery(): Record<string, unknown>;
  issue(request: TokenRequest): Promise<{ token: string; claims: JWTPayload }>;
  verify(authorization: string | undefined): Promise<Verdict>;
}

export class InvalidTokenRequest extends Error {
  constructor(readonly path: string, message: string) {
    super(message);
  }
}

/** Parses the body of `POST /_local/token` (400 on anything else). */
export function parseTokenRequest(body: unknown): TokenRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidTokenRequest('', 'the body must be a JSON object');
  const input = body as Record<string, unknown>;
  const known = new Set(['repository', 'actor', 'audience', 'expiresIn', 'ref', 'operator', 'issuer', 'repositoryOwnerId', 'eventName']);
  for (const key of Object.keys(input)) if (!known.has(key)) throw new InvalidTokenRequest(key, 'unknown field');
  const str = (key: string, pattern: RegExp, hint: string) => {
    const value = input[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !pattern.test(value)) throw new InvalidTokenRequest(key, hint);
    return value;
  };
  const operator = input.operator;
  if (operator !== undefined && typeof operator !== 'boolean') throw new InvalidTokenRequest('operator', 'must be true or false');
  const repository = str('repository', /^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/, 'must be owner/name');
  if (!repository && operator !== true) throw new InvalidTokenRequest('repository', 'required (owner/name), unless {"operator": true}');
  const expiresIn = input.expiresIn;
  if (expiresIn !== undefined && (typeof expiresIn !== 'number' || !Number.isInteger(expiresIn) || expiresIn > MAX_EXPIRES_IN || expiresIn < -MAX_EXPIRES_IN)) {
    throw new InvalidTokenRequest('expiresIn', `must be an integer number of seconds up to ${MAX_EXPIRES_IN}`);
  }
  return {
    repository,
    actor: str('actor', /^[A-Za-z0-9_.\-[\]]{1,100}$/, 'must be a GitHub login'),
    audience: str('audience', /^[\x21-\x7e]{1,200}$/, 'must be a non-empty string'),
    ref: str('ref', /^refs\/[\x21-\x7e]{1,240}$/, 'must look like refs/heads/<branch>'),
    expiresIn: expiresIn as number | undefined,
    operator: operator as boolean | undefined,
    issuer: str('issuer', /^[\x21-\x7e]{1,200}$/, 'must be a non-empty string'),
    repositoryOwnerId: repositoryOwnerId(input.repositoryOwnerId, repository),
    // GitHub spells events in lowercase letters and _ (push, pull_request_target): as FLEDGE_OIDC_REFUSED_EVENTS checks them
    eventName: str('eventName', /^[a-z][a-z_]{0,63}$/, 'must be a GitHub event name (lowercase letters and _, e.g. push or pull_request_target)'),
  };
}

function repositoryOwnerId(value: unknown, repository: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,20}$/.test(value)) throw new InvalidTokenRequest('repositoryOwnerId', 'must be a GitHub owner id: a string of digits');
  if (!repository) throw new InvalidTokenRequest('repositoryOwnerId', 'needs a repository (the owner is its first part)');
  return value;
}

/** A claim as API Gateway passes it to the integration: a string (lists as `[a b]`). */
export function claimString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map(claimString).join(' ')}]`;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

export interface LocalIssuerOptions {
  issuer: string;
  audiences?: readonly string[];
  /** the key pair and kid (tests sign their own tokens with them); default: made now */
  keys?: { publicKey: CryptoKey; privateKey: CryptoKey; kid: string };
}

export async function createLocalIssuer(options: LocalIssuerOptions): Promise<LocalIssuer> {
  const { publicKey, privateKey } = options.keys ?? (await generateKeyPair('RS256'));
  const kid = options.keys?.kid ?? randomUUID();
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const issuer = options.issuer;
  const audiences = options.audiences?.length ? options.audiences : [DEFAULT_LOCAL_AUDIENCE];

  async function issue(request: TokenRequest): Promise<{ token: string; claims: JWTPayload }> {
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = request.expiresIn ?? DEFAULT_EXPIRES_IN;
    const actor = request.actor ?? (request.operator ? 'operator' : 'octocat');
    const ref = request.ref ?? 'refs/heads/main';
    const eventName = request.eventName ?? DEFAULT_LOCAL_EVENT_NAME;
    const claims: JWTPayload = request.operator && !request.repository
      ? { sub: LOCAL_OPERATOR_SUBJECT, actor, event_name: eventName }
      : {
          sub: request.operator ? LOCAL_OPERATOR_SUBJECT : `repo:${request.repository}:ref:${ref}`,
          repository: request.repository,
          repository_id: localRepositoryId(request.repository!),
          repository_owner: request.repository!.split('/')[0],
          repository_owner_id: request.repositoryOwnerId ?? localOwnerId(request.repository!.split('/')[0]!),
          ref,
          actor,
          event_name: eventName,
        };
    Object.assign(claims, {
      iss: request.issuer ?? issuer,
      aud: request.audience ?? audiences[0],
      iat: Math.min(now, now + expiresIn),
      nbf: Math.min(now, now + expiresIn),
      exp: now + expiresIn,
      jti: randomUUID(),
    });
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(privateKey as CryptoKey);
    return { token, claims };
  }

  async function verify(authorization: string | undefined): Promise<Verdict> {
    const raw = authorization?.trim();
    if (!raw) return { ok: false };
    const token = /^bearer\s+/i.test(raw) ? raw.replace(/^bearer\s+/i, '').trim() : raw;
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      return { ok: false, description: 'the token is not a valid JWT' };
    }
    if (header.alg !== 'RS256') return { ok: false, description: `signing method ${String(header.alg)} is invalid` };
    if (header.kid !== kid) return { ok: false, description: 'the token was not signed by a key of the issuer (kid)' };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, publicKey, { algorithms: ['RS256'], issuer, requiredClaims: ['exp'], clockTolerance: 0 }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) return { ok: false, description: 'the token has expired' };
      if (error instanceof errors.JWTClaimValidationFailed) {
        if (error.claim === 'iss') return { ok: false, description: 'the token does not have a valid issuer' };
        if (error.claim === 'nbf') return { ok: false, description: 'the token is not valid yet' };
        return { ok: false, description: `the token's ${error.claim} claim is invalid` };
      }
      return { ok: false, description: 'the token signature is invalid' };
    }
    // aud, or client_id only when there is no aud (API Gateway's rule)
    const audience = payload.aud !== undefined ? payload.aud : (payload as { client_id?: unknown }).client_id;
    const given = Array.isArray(audience) ? audience : [audience];
    if (!given.some((a) => typeof a === 'string' && audiences.includes(a))) return { ok: false, description: 'the token does not have a valid audience' };
    if (typeof payload.iat === 'number' && payload.iat > Math.floor(Date.now() / 1000)) return { ok: false, description: 'the token was issued in the future' };
    return { ok: true, claims: Object.fromEntries(Object.entries(payload).map(([key, value]) => [key, claimString(value)])) };
  }

  return {
    issuer,
    kid,
    audiences,
    jwks: () => ({ keys: [publicJwk] }),
    discovery: () => ({
      issuer,
      jwks_uri: new URL('/_local/jwks.json', issuer).toString(),
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      claims_supported: ['sub', 'aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'ref', 'repository', 'repository_id', 'repository_owner', 'repository_owner_id', 'actor', 'event_name'],
    }),
    issue,
    verify,
  };
}
