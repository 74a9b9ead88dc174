/**
 * NHS number rules (NHS Data Dictionary, Modulus 11). Pure, so the workflow sandbox, the API, the
 * record store and the Spine sandbox all apply the same rule.
 */

const WEIGHTS = [10, 9, 8, 7, 6, 5, 4, 3, 2] as const;

/** Strips the spaces of the 3-3-4 display form (`943 476 5919`); does not validate. */
export function normaliseNhsNumber(input: string): string {
  return input.replace(/\s+/g, '');
}

/**
 * True when `input` (spaces allowed) is 10 digits whose 10th is the Modulus 11 check digit of the first nine.
 * A check value of 10 is never issued, so such numbers are invalid.
 */
export function isValidNhsNumber(input: string): boolean {
  const digits = normaliseNhsNumber(input);
  if (!/^\d{10}$/.test(digits)) return false;
  const sum = WEIGHTS.reduce((acc, weight, i) => acc + weight * Number(digits[i]), 0);
  const check = 11 - (sum % 11);
  if (check === 10) return false;
  return (check === 11 ? 0 : check) === Number(digits[9]);
}

/** The 3-3-4 form clinicians read and say aloud. */
export function formatNhsNumber(nhsNumber: string): string {
  const d = normaliseNhsNumber(nhsNumber);
  return `${d.slice(0, 3)} ${d.slice(3, 6)} ${d.slice(6)}`;
}
