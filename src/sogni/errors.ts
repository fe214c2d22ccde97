/** Thrown when Sogni sends nothing for longer than the idle timeout. */
export class SogniTimeoutError extends Error {
  constructor(readonly seconds: number) {
    super(`Sogni sent nothing for ${seconds} s`);
    this.name = 'SogniTimeoutError';
  }
}

/** Thrown when the stream ends without a finish reason: the connection dropped mid-answer. */
export class SogniStreamDroppedError extends Error {
  constructor() {
    super('The stream from Sogni ended before the answer finished');
    this.name = 'SogniStreamDroppedError';
  }
}
