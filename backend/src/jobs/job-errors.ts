// The errors a job handler throws to choose its fate (any other error counts as retryable).

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

/**
 * Something the job depends on is down or throttling for longer than its own retries last (the
 * Admin API answering 5xx/429/THROTTLED, or not answering). Not the job's fault, so the runner
 * tries again later without counting the attempt — for as long as the job's outage patience
 * lasts (RunnerOptions.outagePatienceMs, 24 h by default: Flow's own retry window); after that it
 * counts like any retryable failure.
 */
export class DependencyUnavailableError extends RetryableJobError {
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'DependencyUnavailableError';
  }
}
