// Accounts through Cognito's own JSON API (sign up, confirm, sign in, refresh, sign out), with the
// session kept in localStorage so it survives reloads. The page holds no secrets: the app client
// has none, and only the user's own tokens are stored.

import { storage } from './storage.js';

const SESSION_KEY = 'mumble.session';
/** Refresh this long before the id token expires, so API calls never carry a stale token. */
const REFRESH_AHEAD_MS = 5 * 60 * 1000;
/** A token this close to expiry is refreshed before it is used. */
const USE_MARGIN_MS = 60 * 1000;
const RETRY_REFRESH_MS = 30 * 1000;

export class AuthError extends Error {
  constructor(code, detail = '') {
    super(`${code}${detail ? `: ${detail}` : ''}`);
    this.name = 'AuthError';
    this.code = code;
    this.detail = detail;
  }
}

/** Whether a sign-in failed because the account was moved from the old Mumble (see #startMovedReset). */
export function isMovedAccount(error) {
  return error instanceof AuthError && error.code === 'PasswordResetRequiredException';
}

/** Decodes a JWT's claims without verifying it: the API verifies; the page only reads email and expiry. */
export function decodeJwtClaims(token) {
  const part = String(token).split('.')[1];
  if (!part) return {};
  try {
    const base64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}

export class Auth extends EventTarget {
  #config;
  #session;
  #refreshing = null;
  #timer = 0;

  constructor(config) {
    super();
    this.#config = config;
    this.#session = readSession();
    this.#scheduleRefresh();
    // Another tab signing in or out changes this one too.
    window.addEventListener('storage', (event) => {
      if (event.key !== SESSION_KEY) return;
      const wasSignedIn = this.signedIn;
      this.#session = readSession();
      this.#scheduleRefresh();
      if (wasSignedIn !== this.signedIn) this.#changed({});
    });
  }

  get signedIn() {
    return this.#session !== null;
  }

  get email() {
    return this.#session?.email ?? '';
  }

  get userId() {
    return this.#session?.sub ?? '';
  }

  signUp(email, password) {
    return this.#call('SignUp', {
      ClientId: this.#config.userPoolClientId,
      Username: email,
      Password: password,
      UserAttributes: [{ Name: 'email', Value: email }],
    });
  }

  confirmSignUp(email, code) {
    return this.#call('ConfirmSignUp', {
      ClientId: this.#config.userPoolClientId,
      Username: email,
      ConfirmationCode: code,
    });
  }

  resendCode(email) {
    return this.#call('ResendConfirmationCode', {
      ClientId: this.#config.userPoolClientId,
      Username: email,
    });
  }

  /** Starts a password reset: Cognito sends a code to the account's email. */
  forgotPassword(email) {
    return this.#call('ForgotPassword', {
      ClientId: this.#config.userPoolClientId,
      Username: email,
    });
  }

  /** Sets a new password with the code from `forgotPassword`'s email. */
  confirmForgotPassword(email, code, password) {
    return this.#call('ConfirmForgotPassword', {
      ClientId: this.#config.userPoolClientId,
      Username: email,
      ConfirmationCode: code,
      Password: password,
    });
  }

  async signIn(email, password) {
    let answer;
    try {
      answer = await this.#call('InitiateAuth', {
        ClientId: this.#config.userPoolClientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD: password },
      });
    } catch (error) {
      if (isMovedAccount(error)) await this.#startMovedReset(email);
      throw error;
    }
    if (!answer.AuthenticationResult?.IdToken) {
      throw new AuthError(answer.ChallengeName ? 'UnsupportedChallenge' : 'unknown', answer.ChallengeName ?? '');
    }
    this.#keep(answer.AuthenticationResult, null, email);
    this.#changed({ signedIn: true });
  }

  /** A current id token for the API, refreshed first when it is about to expire. */
  async idToken() {
    if (!this.#session) throw new AuthError('NotSignedIn');
    if (Date.now() >= this.#session.expiresAt - USE_MARGIN_MS) await this.refresh();
    return this.#session.idToken;
  }

  /** Exchanges the refresh token for new tokens; concurrent callers share one request. */
  refresh() {
    if (!this.#session) return Promise.reject(new AuthError('NotSignedIn'));
    if (!this.#refreshing) {
      const { refreshToken, email } = this.#session;
      this.#refreshing = this.#call('InitiateAuth', {
        ClientId: this.#config.userPoolClientId,
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        AuthParameters: { REFRESH_TOKEN: refreshToken },
      })
        .then((answer) => {
          if (!answer.AuthenticationResult?.IdToken) throw new AuthError('NotAuthorizedException');
          this.#keep(answer.AuthenticationResult, refreshToken, email);
        })
        .catch((error) => {
          if (error instanceof AuthError && error.code === 'NetworkError') {
            // Offline for now: keep the session and try again shortly.
            this.#scheduleRefresh(RETRY_REFRESH_MS);
          } else {
            this.signOut({ expired: true });
          }
          throw error;
        })
        .finally(() => {
          this.#refreshing = null;
        });
    }
    return this.#refreshing;
  }

  /** Forgets the session here and, best effort, revokes the refresh token at Cognito. */
  signOut({ expired = false } = {}) {
    const refreshToken = this.#session?.refreshToken;
    this.#session = null;
    storage.remove(SESSION_KEY);
    clearTimeout(this.#timer);
    if (refreshToken && !expired) {
      this.#call('RevokeToken', { ClientId: this.#config.userPoolClientId, Token: refreshToken }).catch(() => {
        // The local session is gone either way; a failed revoke only leaves the token to expire.
      });
    }
    this.#changed({ signedIn: false, expired });
  }

  #keep(result, previousRefreshToken, email) {
    const claims = decodeJwtClaims(result.IdToken);
    const expiresAt = Number.isFinite(claims.exp)
      ? claims.exp * 1000
      : Date.now() + (Number(result.ExpiresIn) || 3600) * 1000;
    this.#session = {
      idToken: result.IdToken,
      accessToken: result.AccessToken ?? '',
      // REFRESH_TOKEN_AUTH answers without a new refresh token: keep the one we have.
      refreshToken: result.RefreshToken ?? previousRefreshToken,
      expiresAt,
      email: claims.email ?? email ?? '',
      sub: claims.sub ?? '',
    };
    storage.setJson(SESSION_KEY, this.#session);
    this.#scheduleRefresh();
  }

  #scheduleRefresh(delay) {
    clearTimeout(this.#timer);
    if (!this.#session) return;
    const wait = delay ?? Math.max(this.#session.expiresAt - REFRESH_AHEAD_MS - Date.now(), 5_000);
    // setTimeout overflows past ~24.8 days; tokens never live that long, but stay safe.
    this.#timer = setTimeout(() => this.refresh().catch(() => {}), Math.min(wait, 2 ** 31 - 1));
  }

  #changed(detail) {
    this.dispatchEvent(new CustomEvent('change', { detail }));
  }

  // --- Accounts moved from the old Mumble -------------------------------------------------------
  // `cargo xtask migrate` leaves every old account in Cognito's RESET_REQUIRED state, so signing in
  // answers PasswordResetRequiredException: a reset code goes out by e-mail here, and the sign-in
  // form (account.js) opens the new-password form for that address with "Mumble has moved: set a
  // new password" (auth.error.PasswordResetRequiredException).
  async #startMovedReset(email) {
    try {
      await this.#call('ForgotPassword', { ClientId: this.#config.userPoolClientId, Username: email });
    } catch {
      // The reset form can ask for the code again; the sign-in error already says what to do.
    }
  }

  async #call(target, body) {
    let response;
    try {
      response = await fetch(this.#config.cognitoEndpoint, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-amz-json-1.1',
          'X-Amz-Target': `AWSCognitoIdentityProviderService.${target}`,
        },
        body: JSON.stringify(body),
      });
    } catch {
      throw new AuthError('NetworkError');
    }
    const text = await response.text();
    let data = {};
    try {
      data = text ? JSON.parse(text) : {};
    } catch {
      data = {};
    }
    if (!response.ok) {
      // Cognito names the error in `__type`, sometimes prefixed with a namespace and '#'.
      const type = String(data.__type ?? data.code ?? response.headers.get('x-amzn-ErrorType') ?? 'unknown');
      const code = type.split('#').pop().split(':')[0];
      throw new AuthError(code, data.message ?? data.Message ?? `HTTP ${response.status}`);
    }
    return data;
  }
}

function readSession() {
  const session = storage.getJson(SESSION_KEY);
  if (!session || typeof session.idToken !== 'string' || typeof session.refreshToken !== 'string') return null;
  return session;
}
