import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';

/**
 * Global validation: unknown fields are refused (no mass assignment), payloads are transformed to
 * their DTO classes, and the 400 names every failing field by its full path (`attachments.0.guid`).
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new BadRequestException(validationMessages(errors)),
  });
}

export function validationMessages(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((m) =>
      // class-validator starts messages with the bare property name; show the full path.
      parent && m.startsWith(error.property) ? `${path}${m.slice(error.property.length)}` : m,
    );
    return [...own, ...validationMessages(error.children ?? [], path)];
  });
}
