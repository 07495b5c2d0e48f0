import { ApiError } from '../errors.js';

/**
 * At most `concurrency` photos processed at once; up to `queueLength` more wait their turn
 * in order, and one beyond that is refused at once with 503 and Retry-After, so memory stays
 * bounded however many uploads arrive.
 */
export function createSlots(concurrency: number, queueLength: number) {
  let running = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  };
  return {
    get running() {
      return running;
    },
    get waiting() {
      return waiting.length;
    },
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (running >= concurrency) {
        if (waiting.length >= queueLength) {
          throw new ApiError(503, 'photo_queue_full', 'Too many photos are being processed; try again shortly', {
            headers: { 'Retry-After': '5' },
          });
        }
        await new Promise<void>((resolve) => waiting.push(resolve));
      } else {
        running += 1;
      }
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}
export type Slots = ReturnType<typeof createSlots>;
