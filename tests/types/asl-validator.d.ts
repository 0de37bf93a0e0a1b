/** asl-validator 4 ships no declarations; this is the part of its API the tests use. */
declare module "asl-validator" {
  interface AslValidatorResult {
    isValid: boolean;
    errors: unknown[];
    errorsText(separator?: string): string;
  }
  export default function aslValidator(
    definition: unknown,
    options?: Record<string, unknown>,
  ): AslValidatorResult;
}
