/**
 * The price-estimate rule, pure: which comparable sales count, when to widen,
 * when to say there are too few. The SQL (src/handlers/estimates.ts) counts and
 * takes the percentiles of both windows in one statement; this decides.
 */

export type ComparableWindow = { years: number; mileageKm: number };

/** First try: year within ±2, mileage within ±40,000 km. */
export const NARROW: ComparableWindow = { years: 2, mileageKm: 40_000 };
/** Fewer than MIN_SAMPLE in the first window: widen once to ±4 years, ±80,000 km. */
export const WIDE: ComparableWindow = { years: 4, mileageKm: 80_000 };
/** Below this many sales a percentile says more about the one car than the market. */
export const MIN_SAMPLE = 5;

/** The winning prices of one window: how many, and their 25th / 50th / 75th percentiles (continuous). */
export type WindowStats = { count: number; p25: number | null; p50: number | null; p75: number | null };

export type Estimate = {
  low: number;
  median: number;
  high: number;
  sample_size: number;
  currency: 'ISK';
  widened: boolean;
};

/** To the nearest 1,000 kr. (half up). */
export const roundToThousand = (amount: number): number => Math.round(amount / 1000) * 1000;

/** The estimate from the narrow window when it has enough sales, else from the wide one, else none. */
export function chooseEstimate(narrow: WindowStats, wide: WindowStats): Estimate | null {
  const pick = (w: WindowStats, widened: boolean): Estimate | null =>
    w.count >= MIN_SAMPLE && w.p25 !== null && w.p50 !== null && w.p75 !== null
      ? {
          low: roundToThousand(w.p25),
          median: roundToThousand(w.p50),
          high: roundToThousand(w.p75),
          sample_size: w.count,
          currency: 'ISK',
          widened,
        }
      : null;
  return pick(narrow, false) ?? pick(wide, true);
}
