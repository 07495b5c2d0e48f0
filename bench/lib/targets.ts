/** Issue 15: reads at least 0.9× hand-written Express and 0.6× bare node:http; the bid 0.8× Express; a point read ≤ 0.25 ms CPU. */
export const TARGET_VS_EXPRESS = 0.9;
export const TARGET_VS_BARE = 0.6;
export const TARGET_BID_VS_EXPRESS = 0.8;
export const TARGET_POINT_READ_CPU_MS = 0.25;
export const POINT_READS = new Set(['car_get', 'car_bids']);
/** The car list's p50 at --scaling-large cars within this many times its p50 at --scaling-small. */
export const TARGET_SCALING = 1.5;
/** Footprint targets (issue 11): a 256 MB container must hold the server with room to spare. */
export const TARGET_RSS_AFTER_START_MB = 100;
export const TARGET_RSS_PEAK_MB = 150;
export const TARGET_START_MS = 1500;
