import { getJson } from './http.js';
import { slugify } from './slug.js';

export async function dailySummary(city) {
  const data = await getJson(`/forecast/${slugify(city)}`);
  const temps = data.hours.map((hour) => hour.tempC);
  const min = Math.min(...temps);
  const max = Math.max(...temps);
  const rainy = data.hours.filter((hour) => hour.rainMm > 0).length;
  return {
    city: data.city,
    range: `${min}°C to ${max}°C`,
    umbrella: rainy >= 3,
  };
}

export async function compareCities(cities) {
  const summaries = await Promise.all(cities.map((city) => dailySummary(city)));
  return summaries.filter((summary) => !summary.umbrella).map((summary) => summary.city);
}
