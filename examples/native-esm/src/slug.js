const DEFAULT_SEPARATOR = '-';

export function slugify(title, { separator = DEFAULT_SEPARATOR, maxLength = 60 } = {}) {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, separator)
    .replace(new RegExp(`^\\${separator}+|\\${separator}+$`, 'g'), '');
  return slug.slice(0, maxLength).replace(new RegExp(`\\${separator}+$`), '');
}

export function uniqueSlug(title, taken) {
  const base = slugify(title);
  let candidate = base;
  for (let n = 2; taken.has(candidate); n++) {
    candidate = `${base}-${n}`;
  }
  return candidate;
}

export default slugify;
