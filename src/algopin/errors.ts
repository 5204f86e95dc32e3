/** An out-of-range or malformed PIN parameter. `field` names the offending PinParams field. */
export class AlgoPinParamError extends RangeError {
  override readonly name = 'AlgoPinParamError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** A lock key or epoch that cannot be used (wrong length, not an integer...). */
export class AlgoPinKeyError extends RangeError {
  override readonly name = 'AlgoPinKeyError';
}
