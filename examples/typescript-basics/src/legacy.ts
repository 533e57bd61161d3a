/**
 * Not imported by any test: with `collectCoverageFrom` it still shows up in coverage reports,
 * at 0 %, as Jest's default runner shows it.
 */
export function legacyDiscount(totalCents: number, loyaltyYears: number): number {
  if (loyaltyYears >= 5) return Math.round(totalCents * 0.9);
  if (loyaltyYears >= 2) return Math.round(totalCents * 0.95);
  return totalCents;
}
