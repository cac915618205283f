/**
 * The values the restricted unpickler produces beyond plain JS values, and the options that
 * decide which globals it accepts. Nothing here executes Python: an allowed global is a TypeScript
 * function, and objects of allowed classes are inert records.
 */

/** A global the resolver allowed: calling it (REDUCE / NEWOBJ) runs only this TypeScript code. */
export class PyGlobal {
  constructor(
    readonly qualname: string,
    /** Builds the value for REDUCE / NEWOBJ from the argument tuple. */
    readonly call: (args: readonly unknown[]) => unknown,
  ) {}
}

/** An inert record of a Python object of an allowed class: its constructor arguments and state. */
export class PyObject {
  __state__: unknown = null;
  constructor(readonly __class__: string, readonly __args__: readonly unknown[]) {}
}

/** A global whose call yields an inert `PyObject` of that class. */
export function inertClass(qualname: string): PyGlobal {
  return new PyGlobal(qualname, (args) => new PyObject(qualname, args));
}

export interface UnpickleOptions {
  /** The file the stream came from, for error messages. */
  readonly file: string;
  /** Returns the allowed global for `module.name`, or undefined to refuse it. */
  readonly resolveGlobal: (module: string, name: string) => PyGlobal | undefined;
  /** Turns a persistent id (BINPERSID) into a value; without it persistent ids are refused. */
  readonly persistentLoad?: (pid: unknown) => unknown;
}

/** Type guards for walking unpickled values. */
export const isDict = (v: unknown): v is Map<unknown, unknown> => v instanceof Map;
export const isPyObject = (v: unknown): v is PyObject => v instanceof PyObject;
