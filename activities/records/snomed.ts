/**
 * SNOMED CT concept id shape: 6 to 18 digits, no leading zero, and a partition identifier (the two digits
 * before the check digit) that says "concept" (`00` core, `10` extension such as the UK edition).
 * The Verhoeff check digit is deliberately not tested here: refusing a real code at the bedside is worse than
 * letting a typo through to the reports, where codes are validated against the terminology server.
 */
export function isValidSnomedConceptId(id: string): boolean {
  if (!/^[1-9][0-9]{5,17}$/.test(id)) return false;
  const partition = id.slice(-3, -1);
  return partition === '00' || partition === '10';
}
