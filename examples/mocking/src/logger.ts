export const logger = {
  info(message: string): void {
    console.log(`[info] ${message}`);
  },
  warn(message: string): void {
    console.warn(`[warn] ${message}`);
  },
};
