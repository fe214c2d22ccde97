/** An error whose message is written for the user and is shown to them as it is. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** What the user reads when something failed that they cannot fix (the details go to the log). */
export const UNEXPECTED_LINE = '⚠️ Something went wrong on my side. Try again in a moment.';
