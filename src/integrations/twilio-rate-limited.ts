/**
 * Its own file so that the client (twilio.ts) and the lazily loaded SDK adapter (twilio-sdk.ts)
 * share it without importing each other.
 */
/** An HTTP 429 seen by the http client, which keeps the Retry-After header the SDK would drop. */
export class TwilioRateLimited extends Error {
  constructor(
    readonly code: number | undefined,
    readonly retryAfter: string | undefined,
  ) {
    super('Twilio answered 429');
    this.name = 'TwilioRateLimited';
  }
}
