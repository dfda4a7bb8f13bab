/**
 * Errors of the data layer.
 *
 * Every problem with a user's data file (unreadable, malformed, unsupported, non-finite values)
 * is reported as a `DataError` whose message starts with the file name, so the CLI can print it
 * as is and users know which file to fix.
 */
export class DataError extends Error {
  /** The file (or `file.npz:member`) the error is about, when there is one. */
  readonly file: string | undefined;

  constructor(message: string, file?: string) {
    super(message);
    this.name = "DataError";
    this.file = file;
  }
}

/** Build a DataError whose message is `<file>: <what>`. */
export function dataError(file: string, what: string): DataError {
  return new DataError(`${file}: ${what}`, file);
}
