import { Transform } from 'class-transformer';
import { registerDecorator, ValidationOptions } from 'class-validator';

const E164 = /^\+[1-9]\d{6,14}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{2,}$/;

/** An iMessage handle: an E.164 phone number or an Apple ID email address. */
export function isHandle(value: unknown): value is string {
  return handleKind(value) !== undefined;
}

/** Which kind of iMessage handle a value is, or undefined when it is neither. */
export function handleKind(value: unknown): 'phone' | 'email' | undefined {
  if (typeof value !== 'string' || value.length > 320) return undefined;
  if (E164.test(value)) return 'phone';
  return EMAIL.test(value) ? 'email' : undefined;
}

/**
 * A handle as people are told apart: email addresses in lower case (Apple IDs arrive in whatever
 * case a phone or a person typed them, and one address must be one person), numbers and
 * anything else as given.
 */
export function normalHandle(handle: string): string {
  return handleKind(handle) === 'email' ? handle.toLowerCase() : handle;
}

/**
 * A DTO field holding a handle, or an array of them, stored in its normal form (normalHandle).
 * Values of other types pass untouched, for the field's validators to refuse.
 */
export function NormalHandle(): PropertyDecorator {
  const normal = (value: unknown) => (typeof value === 'string' ? normalHandle(value) : value);
  return Transform(({ value }: { value: unknown }) =>
    Array.isArray(value) ? value.map(normal) : normal(value),
  );
}

export function IsHandle(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isHandle',
      target: target.constructor,
      propertyName,
      options: {
        message: `${propertyName} must be an E.164 phone number or an email address`,
        ...options,
      },
      validator: { validate: isHandle },
    });
}

/**
 * A timestamp in Unix seconds or milliseconds (clients send both); values above 10^11 are
 * milliseconds (10^11 s is the year 5138).
 */
export function timestampToDate(value: number): Date {
  return new Date(value > 1e11 ? value : value * 1000);
}
