// Every error leaves the server in the Seam envelope: {"error": {type, message, data?, validation_errors?}, "ok": false}.

export interface ErrorBody {
  type: string;
  message: string;
  data?: unknown;
  validation_errors?: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly type: string,
    message: string,
    readonly extra: { data?: unknown; validation_errors?: unknown } = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): ErrorBody {
    return { type: this.type, message: this.message, ...this.extra };
  }
}

/** 404 for an id that is unknown or belongs to another workspace: the two must be indistinguishable. */
export function notFound(thing: string, message: string, data?: unknown): ApiError {
  return new ApiError(404, `${thing}_not_found`, message, data === undefined ? {} : { data });
}

export function invalidInput(message: string, validation_errors?: unknown): ApiError {
  return new ApiError(
    400,
    'invalid_input',
    message,
    validation_errors === undefined ? {} : { validation_errors },
  );
}
