/** Region prefixes each data-residency setting allows. FR keeps everything in French regions. */
const ALLOWED_REGION_PREFIXES: Record<string, string[]> = {
  FR: ['fr-'],
  EU: ['fr-', 'de-', 'nl-', 'be-', 'lu-', 'es-', 'it-', 'pl-', 'ie-', 'se-', 'fi-', 'at-', 'dk-', 'pt-', 'eu-'],
};

export function regionAllowed(dataResidency: string, region: string): boolean {
  return (ALLOWED_REGION_PREFIXES[dataResidency] ?? []).some((prefix) => region.startsWith(prefix));
}
