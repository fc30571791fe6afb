// The two errors a job handler throws to choose its fate (any other error counts as retryable).

/** A failure worth trying again later (the default for any error a handler throws). */
export class RetryableJobError extends Error {
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'RetryableJobError';
  }
}

/** A failure that another attempt cannot fix (bad payload, unknown shop): dead letter at once. */
export class PermanentJobError extends Error {
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'PermanentJobError';
  }
}
