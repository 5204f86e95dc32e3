// The igloohome API's two error shapes. Resource routes answer {"status":"ERROR","code":"422","message":…}
// (the code a string, as igloohome sends it); the OAuth2 token endpoint answers RFC 6749 §5.2 errors.

export class IgloohomeError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'IgloohomeError';
  }

  toBody(): IgloohomeErrorBody {
    return { status: 'ERROR', code: String(this.statusCode), message: this.message };
  }
}

export interface IgloohomeErrorBody {
  status: 'ERROR';
  code: string;
  message: string;
}

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'server_error';

export class OAuthError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: OAuthErrorCode,
    readonly description?: string,
  ) {
    super(description ?? error);
    this.name = 'OAuthError';
  }

  toBody(): { error: OAuthErrorCode; error_description?: string } {
    return this.description === undefined
      ? { error: this.error }
      : { error: this.error, error_description: this.description };
  }
}

/** 400: the request is malformed (a field missing, of the wrong type or format). */
export const badRequest = (message: string) => new IgloohomeError(400, message);
/** 422: well-formed, but outside igloohome's limits (durations, variance, name length). */
export const unprocessable = (message: string) => new IgloohomeError(422, message);
