/**
 * Errors the record store raises itself, with a stable `code` and a `retryable` flag so that callers
 * (activities, the API) can decide what to do without reading messages.
 */
export class StoreError extends Error {
  override readonly name: string = 'StoreError';
  constructor(
    message: string,
    readonly code: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An NHS number that fails the Modulus 11 rule never reaches the patients table. */
export class InvalidNhsNumberError extends StoreError {
  constructor() {
    // The number itself is left out of the message: messages end up in logs and workflow histories.
    super('NHS number is not 10 digits with a valid Modulus 11 check digit', 'INVALID_NHS_NUMBER', false);
  }
}

/** `createMigration` refuses to diff against a database that has not had every migration applied. */
export class PendingMigrationsError extends StoreError {
  constructor(readonly pending: string[]) {
    super(`Apply the pending migrations first: ${pending.join(', ')}`, 'PENDING_MIGRATIONS', false);
  }
}
