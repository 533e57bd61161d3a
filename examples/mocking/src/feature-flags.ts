export const flagStore = {
  fetchFlags(): Record<string, boolean> {
    return { darkMode: false, betaCheckout: false };
  },
};

export function isEnabled(flag: string): boolean {
  const flags = flagStore.fetchFlags();
  if (!(flag in flags)) {
    console.warn(`Unknown feature flag "${flag}"`);
    return false;
  }
  return flags[flag];
}

export function shouldSample(rate: number): boolean {
  return Math.random() < rate;
}
