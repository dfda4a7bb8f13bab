/** Raised when a program cannot be interpreted: unbound dims, inconsistent shapes, bad arguments. */
export class InterpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InterpError";
  }
}
