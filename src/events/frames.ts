/**
 * What the live streams say, and how it is written on the wire (text/event-stream).
 * Event shapes are described in openapi.yaml (CarSnapshotEvent, CarBidEvent, CarStatusEvent).
 */

/** A row of car_events as the hub and the replays read it. */
export type EventRow = { id: number; car_id: string; kind: 'bid' | 'status'; data: Record<string, unknown>; at: string };

export type Standing = {
  car_id: string;
  status: string;
  highest_bid: number | null;
  bid_count: number;
  min_next_bid: number;
  auction_ends_at: string | null;
  reserve_met: boolean;
};

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function standingOf(row: EventRow): Standing {
  const d = row.data;
  return {
    car_id: row.car_id,
    status: str(d.status) ?? 'active',
    highest_bid: num(d.highest_bid),
    bid_count: num(d.bid_count) ?? 0,
    min_next_bid: num(d.min_next_bid) ?? 0,
    auction_ends_at: str(d.auction_ends_at),
    reserve_met: d.reserve_met === true,
  };
}

/**
 * The event's `data`, field by field: only what the contract names leaves the server, so a
 * field added to car_events later is not published by accident (and never a dealer's identity).
 */
export function eventData(row: EventRow): Record<string, unknown> {
  const d = row.data;
  if (row.kind === 'bid') {
    return { ...standingOf(row), amount: num(d.amount) ?? 0, created_at: str(d.created_at) ?? row.at, proxy: d.proxy === true };
  }
  return {
    ...standingOf(row),
    ...(typeof d.from === 'string' ? { from: d.from } : {}),
    ...(typeof d.by === 'string' ? { by: d.by } : {}),
    ...(typeof d.reason === 'string' ? { reason: d.reason } : {}),
    ...('decision_due_at' in d ? { decision_due_at: str(d.decision_due_at) } : {}),
    ...(typeof d.sold_for === 'number' ? { sold_for: d.sold_for } : {}),
    at: row.at,
  };
}

/** One SSE frame. JSON never contains a raw newline, so `data` is always one line. */
export function frame(event: string, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export const eventFrame = (row: EventRow): string => frame(row.kind, eventData(row), row.id);
