import { EmbassyError } from '../errors.ts';

/** A command line that cannot be run as given (an option missing, malformed or refused). */
export class UsageError extends EmbassyError<'usage'> {
  constructor(message: string) {
    super('usage', message);
  }
}
