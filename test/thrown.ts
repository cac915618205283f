import { expect } from 'vitest';
import { NetdefError } from '../common/errors.js';

/** The NetdefError `f` throws synchronously (fails the test when it throws something else or nothing). */
export function thrownNetdefError(f: () => unknown): NetdefError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(NetdefError);
    return e as NetdefError;
  }
  throw new Error('expected an error');
}
