import { beforeEach, describe, expect, jest, test } from '@jest/globals';

// ESM mocks must be registered before the module graph is imported, so the
// modules under test are loaded with a dynamic import after the mock.
jest.unstable_mockModule('../src/http.js', () => ({
  BASE_URL: 'mock://weather',
  getJson: jest.fn(),
}));

const { getJson } = await import('../src/http.js');
const { dailySummary, compareCities } = await import('../src/forecast.js');

const hours = (spec) => spec.map(([tempC, rainMm]) => ({ tempC, rainMm }));

describe('forecast with jest.unstable_mockModule', () => {
  beforeEach(() => {
    getJson.mockReset();
  });

  test('the imported http module is the mock', () => {
    expect(jest.isMockFunction(getJson)).toBe(true);
  });

  test('summarizes a dry day', async () => {
    getJson.mockResolvedValue({ city: 'Lisbon', hours: hours([[14, 0], [21, 0], [18, 0]]) });
    await expect(dailySummary('Lisbon')).resolves.toEqual({
      city: 'Lisbon',
      range: '14°C to 21°C',
      umbrella: false,
    });
    expect(getJson).toHaveBeenCalledWith('/forecast/lisbon');
  });

  test('recommends an umbrella after three rainy hours', async () => {
    getJson.mockResolvedValue({
      city: 'Bergen',
      hours: hours([[8, 1.2], [9, 0.4], [9, 0], [7, 3.1]]),
    });
    const summary = await dailySummary('Bergen');
    console.log('bergen summary:', summary);
    expect(summary.umbrella).toBe(true);
  });

  test('compares several cities', async () => {
    getJson.mockImplementation(async (path) => {
      const city = path.split('/').pop();
      const rain = city === 'sao-paulo' ? 5 : 0;
      return { city, hours: hours([[20, rain], [25, rain], [22, rain]]) };
    });
    await expect(compareCities(['Oslo', 'São Paulo', 'Rome'])).resolves.toEqual(['oslo', 'rome']);
    expect(getJson).toHaveBeenCalledTimes(3);
  });

  test('propagates request failures', async () => {
    getJson.mockRejectedValue(new Error('GET /forecast/atlantis failed with status 404'));
    await expect(dailySummary('Atlantis')).rejects.toThrow('status 404');
  });
});
