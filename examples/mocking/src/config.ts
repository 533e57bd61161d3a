export interface AppConfig {
  mode: 'development' | 'production';
  apiUrl: string;
  retries: number;
}

function load(): AppConfig {
  const mode = process.env.APP_MODE === 'production' ? 'production' : 'development';
  return {
    mode,
    apiUrl: mode === 'production' ? 'https://api.example.invalid' : 'http://localhost:3000',
    retries: Number(process.env.APP_RETRIES ?? 3),
  };
}

// Evaluated once, when the module is first imported.
export const config: Readonly<AppConfig> = Object.freeze(load());

let reads = 0;

export function getSetting<K extends keyof AppConfig>(key: K): AppConfig[K] {
  reads++;
  return config[key];
}

export function readCount(): number {
  return reads;
}
