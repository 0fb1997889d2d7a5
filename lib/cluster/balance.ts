// How rooms spread over the live instances of a domain (DESIGN §5): a fair share of
// `total` rooms is the floor or the ceiling of total / instances. An instance
// serving more than the floor hands a room to a peer below the floor; one serving
// more than the ceiling, to a peer below the ceiling. Once every instance is within
// the two, nothing moves, so rooms never go back and forth.

/**
 * The peer to hand one room to, or null: the one serving fewest among those the
 * rule allows. `serving`: rooms this instance serves; `peers`: rooms each peer serves.
 */
export function handOverTo<P extends { readonly rooms: number }>(serving: number, peers: readonly P[], total: number): P | null {
  const floor = Math.floor(total / (peers.length + 1));
  const ceiling = Math.ceil(total / (peers.length + 1));
  if (serving <= floor) return null;
  const below = peers.filter((p) => p.rooms < floor || (serving > ceiling && p.rooms < ceiling));
  return below.sort((a, b) => a.rooms - b.rooms)[0] ?? null;
}
