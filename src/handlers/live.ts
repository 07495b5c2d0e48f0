import type { Handler, StreamReply } from '../api/types.js';
import { clientKey } from '../api/client-key.js';
import { ApiError } from '../errors.js';
import type { Deps } from '../deps.js';
import { openAllCarsStream, openCarStream, StreamRefused, type OpenedStream } from '../usecases/live.js';

/**
 * The live auction streams (Server-Sent Events): one car's, and every car's. The hub
 * (src/events/hub.ts) admits the stream and feeds it live rows; these handlers write what
 * comes first — a snapshot, or the events a reconnecting client missed.
 */

function hubOf(deps: Deps) {
  if (!deps.events) throw new ApiError(503, 'not_configured', 'Live events are not available on this server');
  return deps.events;
}

/** `Last-Event-ID` as a car_events id, or null for anything else (absent, garbage, negative). */
function parseLastEventId(header: string | undefined): number | null {
  if (header === undefined || !/^\d{1,15}$/.test(header.trim())) return null;
  return Number(header.trim());
}

/** The hub's refusals as the spec's answers: 503 while stopping or full, 429 for a client at its own limit. */
async function streamReply(open: () => Promise<OpenedStream>): Promise<StreamReply> {
  try {
    const opened = await open();
    return { status: 200, stream: (res) => opened.attach(res) };
  } catch (error) {
    if (!(error instanceof StreamRefused)) throw error;
    const headers = { 'Retry-After': error.reason === 'shutting_down' ? '1' : '5' };
    if (error.reason === 'shutting_down') {
      throw new ApiError(503, 'shutting_down', 'This instance is stopping; reconnect to continue', { headers });
    }
    if (error.reason === 'instance_full') {
      throw new ApiError(503, 'too_many_streams', `This instance holds its maximum of ${error.limit} live streams; try again shortly`, {
        headers,
      });
    }
    throw new ApiError(429, 'too_many_streams', `At most ${error.limit} live streams per client; close one first`, { headers });
  }
}

const streamCarEvents: Handler<'streamCarEvents'> = ({ params, req, deps }) =>
  streamReply(() => openCarStream(hubOf(deps), deps, params.car_id, clientKey(req), parseLastEventId(req.get('last-event-id'))));

const streamAllEvents: Handler<'streamAllEvents'> = ({ req, deps }) =>
  streamReply(() => openAllCarsStream(hubOf(deps), deps, clientKey(req), parseLastEventId(req.get('last-event-id'))));

export const liveHandlers = { streamCarEvents, streamAllEvents };
