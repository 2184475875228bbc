// swagger-ui-dist ships no types; this is the one function we use.
declare module 'swagger-ui-dist' {
  export function getAbsoluteFSPath(): string;
}
