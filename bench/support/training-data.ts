/**
 * Seeded synthetic datasets for bench/training-overhead, one per base-model family, as CSV text
 * (what a tenant uploads). Nothing here reads a file.
 */
import { seededRandom as random } from '../../gpu-worker/src/random';

function gaussian(next: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

const REGIONS = ['IDF', 'ARA', 'NAQ', 'OCC', 'HDF', 'GES', 'PAC', 'BRE'];
const SEGMENTS = ['retail', 'premium', 'young', 'senior', 'business'];
const CHANNELS = ['branch', 'web', 'mobile', 'phone'];

/**
 * A credit-risk-like table: 7 numeric columns (about 1 % blanks in two of them), 3 categorical
 * ones, a numeric `spend` (the regressor's target) and a 3-class `risk` (the classifier's target)
 * that depends on the other columns plus noise, so both models have something to learn.
 */
export function tabularCsv(rows: number, seed: number): string {
  const next = random(seed);
  const lines = ['age,income,balance,tenure_months,products,credit_score,utilisation,region,segment,channel,spend,risk'];
  for (let i = 0; i < rows; i++) {
    const age = 18 + Math.floor(next() * 62);
    const income = Math.max(800, 2200 + 900 * gaussian(next) + age * 15);
    const balance = Math.max(0, income * (0.5 + 3 * next()) + 500 * gaussian(next));
    const tenure = Math.floor(next() * 240);
    const products = 1 + Math.floor(next() * 5);
    const score = Math.round(Math.min(850, Math.max(300, 650 + 80 * gaussian(next) + tenure * 0.2)));
    const utilisation = Math.min(1, Math.max(0, 0.35 + 0.25 * gaussian(next)));
    const region = REGIONS[Math.floor(next() * REGIONS.length)];
    const segment = SEGMENTS[Math.floor(next() * SEGMENTS.length)];
    const channel = CHANNELS[Math.floor(next() * CHANNELS.length)];
    const spend = Math.max(0, 0.18 * income + 40 * products + (segment === 'premium' ? 400 : 0) + 120 * gaussian(next));
    const latent =
      -0.004 * (score - 650) + 2.2 * (utilisation - 0.35) - 0.00012 * (income - 2500) + (segment === 'young' ? 0.5 : 0) + (region === 'HDF' ? 0.3 : 0) - 0.002 * tenure + 0.45 * gaussian(next);
    const risk = latent < -0.35 ? 'low' : latent < 0.35 ? 'medium' : 'high';
    const blank = (value: string) => (next() < 0.01 ? '' : value);
    lines.push(
      `${age},${blank(income.toFixed(0))},${balance.toFixed(2)},${tenure},${products},${blank(String(score))},${utilisation.toFixed(3)},${region},${segment},${channel},${spend.toFixed(2)},${risk}`,
    );
  }
  return lines.join('\n') + '\n';
}

const POSITIVE = ['excellent', 'parfait', 'formidable', 'rapide', 'agréable', 'recommande', 'superbe', 'efficace', 'chaleureux', 'impeccable'];
const NEGATIVE = ['décevant', 'lent', 'sale', 'bruyant', 'cher', 'froid', 'médiocre', 'impoli', 'cassé', 'inacceptable'];
const NEUTRAL = ['correct', 'moyen', 'normal', 'standard', 'classique', 'habituel'];
const FILLER = ['le', 'la', 'service', 'hôtel', 'restaurant', 'personnel', 'chambre', 'repas', 'accueil', 'était', 'très', 'vraiment', 'un', 'peu', 'et', 'mais', 'nous', 'avons', 'trouvé', 'séjour', 'livraison', 'produit', 'prix', 'qualité'];

/** Short French reviews with a 3-class sentiment; the words that decide the class are mixed with filler. */
export function textCsv(rows: number, seed: number): string {
  const next = random(seed);
  const pick = (words: readonly string[]) => words[Math.floor(next() * words.length)];
  const lines = ['avis,sentiment'];
  for (let i = 0; i < rows; i++) {
    const roll = next();
    const [label, words] = roll < 0.4 ? ['positif', POSITIVE] : roll < 0.8 ? ['negatif', NEGATIVE] : ['neutre', NEUTRAL];
    const length = 8 + Math.floor(next() * 14);
    const tokens: string[] = [];
    for (let k = 0; k < length; k++) tokens.push(next() < 0.25 ? pick(words) : next() < 0.05 ? pick(POSITIVE.concat(NEGATIVE)) : pick(FILLER));
    lines.push(`"${tokens.join(' ')}",${label}`);
  }
  return lines.join('\n') + '\n';
}

/** A daily series with a trend, weekly and yearly seasonality and noise. */
export function seriesCsv(points: number, seed: number): string {
  const next = random(seed);
  const lines = ['day,demand'];
  for (let t = 0; t < points; t++) {
    const value = 500 + 0.05 * t + 60 * Math.sin((2 * Math.PI * t) / 7) + 120 * Math.sin((2 * Math.PI * t) / 365) + 25 * gaussian(next);
    lines.push(`${t},${value.toFixed(2)}`);
  }
  return lines.join('\n') + '\n';
}
