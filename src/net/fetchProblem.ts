/** What kind of refusal or failure, for callers that treat some differently (a private link is not shown at all). */
export type FetchProblemCode = 'private-address' | 'not-a-link' | 'redirects' | 'content-type' | 'too-large' | 'http-status' | 'timeout' | 'network';

/** Why a download was refused or failed: the message is a short reason for the user, the detail is for logs. */
export class FetchProblem extends Error {
  readonly code: FetchProblemCode;
  readonly detail: string;

  constructor(code: FetchProblemCode, reason: string, detail = reason) {
    super(reason);
    this.name = 'FetchProblem';
    this.code = code;
    this.detail = detail;
  }
}

/** A size for a user: "25 MB", "12.4 MB", "150 KB". */
export function formatMB(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024)} KB`;
  // Number() drops a trailing ".0": 25 MB, not 25.0 MB.
  return `${Number((bytes / 1024 / 1024).toFixed(1))} MB`;
}
