import { notFound } from '../errors.js';
import type { Deps } from '../deps.js';
import type { EventHub, OpenedStream } from '../events/hub.js';

export { StreamRefused, type OpenedStream } from '../events/hub.js';
import { frame, eventFrame } from '../events/frames.js';
import { allEventsBetween, carEventsAfter, carSnapshot, eventExists } from '../events/queries.js';

/**
 * The live auction streams (Server-Sent Events): one car's, and every car's. The hub
 * (src/events/hub.ts) admits the stream and feeds it live rows; these write what comes
 * first — a snapshot, or the events a reconnecting client missed.
 */

type LiveDeps = Pick<Deps, 'db' | 'config'>;

const retry = (deps: LiveDeps) => `retry: ${deps.config.SSE_RETRY_MS}\n`;

export function openCarStream(
  hub: EventHub,
  deps: LiveDeps,
  carId: string,
  client: string,
  lastEventId: number | null,
): Promise<OpenedStream> {
  return hub.open(carId, client, async (stream) => {
    if (lastEventId !== null) {
      const missed = await carEventsAfter(deps.db, carId, lastEventId, deps.config.SSE_REPLAY_LIMIT);
      if (missed) {
        stream.lastId = missed.at(-1)?.id ?? lastEventId;
        return retry(deps) + '\n' + missed.map(eventFrame).join('');
      }
    }
    // First visit, or an id this car's log cannot resume from: start again from a snapshot.
    const snapshot = await carSnapshot(deps.db, carId);
    if (!snapshot) throw notFound('Car');
    stream.lastId = snapshot.lastEventId ?? 0;
    return retry(deps) + frame('snapshot', snapshot.standing, snapshot.lastEventId ?? undefined);
  });
}

export function openAllCarsStream(hub: EventHub, deps: LiveDeps, client: string, lastEventId: number | null): Promise<OpenedStream> {
  return hub.open(null, client, async (stream) => {
    // Ids rise in commit order: everything up to the hub's position is there to be read.
    const upTo = hub.position;
    if (lastEventId === null) {
      stream.lastId = upTo;
      // An id without data: the browser's EventSource remembers it, so even a client that saw
      // no event yet resumes from here.
      return `${retry(deps)}id: ${upTo}\n\n`;
    }
    // Ahead of this instance is fine (another instance got there first), if the id exists.
    const known = lastEventId <= upTo || (await eventExists(deps.db, lastEventId));
    const missed = known ? await allEventsBetween(deps.db, lastEventId, upTo, deps.config.SSE_REPLAY_LIMIT) : null;
    if (!missed) {
      stream.lastId = upTo;
      return retry(deps) + frame('reset', { reason: 'too_far_behind', missed_more_than: deps.config.SSE_REPLAY_LIMIT }, upTo);
    }
    stream.lastId = Math.max(lastEventId, upTo);
    return retry(deps) + '\n' + missed.map(eventFrame).join('');
  });
}
