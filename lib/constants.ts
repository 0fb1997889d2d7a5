// Every limit Flux enforces, with its unit last (STYLE.md §2-3). Limits an operator
// may need to move are defaults here and overridable through config (DESIGN §2).
import { assert } from './assert.ts';

/** Default batch tick: a room's open batch closes this long after its first command. */
export const TICK_MS_DEFAULT = 50;
/** Default and hard cap of commands per batch. */
export const BATCH_COMMANDS_DEFAULT = 256;
export const BATCH_COMMANDS_MAX = 4096;
/** Commands waiting in one room's queue beyond the open batch; more are refused. */
export const ROOM_QUEUE_COMMANDS_MAX = 8192;

/** Message body size accepted from a player, in UTF-8 bytes. */
export const BODY_BYTES_DEFAULT = 1024;
export const BODY_BYTES_MAX = 65536;
/**
 * A stanza from the XMPP server larger than this is refused, unread: the gate in
 * front of the parser keeps counting its bytes but hands none of the rest on
 * (RFC 6120 §13.12 lets a server bound stanza size; we bound what we accept from ours).
 */
export const STANZA_BYTES_MAX = 256 * 1024;
/** Nick length in characters (XEP-0045 leaves it to the service). */
export const NICK_CHARS_MAX = 32;

/** Token bucket per occupant. */
export const COMMANDS_PER_S_DEFAULT = 10;
export const COMMANDS_BURST_DEFAULT = 20;

/** Occupants (joined players) per room and characters (ever joined) per room. */
export const OCCUPANTS_DEFAULT = 500;
export const OCCUPANTS_MAX = 10000;
export const CHARACTERS_PER_ROOM_MAX = 65536;
/** Locations per world. */
export const LOCATIONS_PER_ROOM_MAX = 65536;
/** Items and NPCs per world (the rules scan a room's items; an NPC tick moves every NPC). */
export const ITEMS_PER_ROOM_MAX = 4096;
export const NPCS_PER_ROOM_MAX = 256;
/** How often a room with players in it gives its NPCs a turn. */
export const NPC_TICK_MS_DEFAULT = 6000;
/** How often an instance tries to take the rooms another instance holds (takeover after a death). */
export const OWNERSHIP_RETRY_MS = 1000;
/** bin/flux load: clients one generator drives, and how long one may take to log in and join. */
export const LOAD_CLIENTS_MAX = 5000;
export const LOAD_CONNECT_MS_MAX = 30000;
/**
 * Bytes waiting to be written to the XMPP server beyond which the component sheds
 * load: new commands and joins are refused until the server has caught up, so a
 * slow server cannot make Flux buffer without bound.
 */
export const OUTGOING_BYTES_MAX = 16 * 1024 * 1024;
/** Reconnecting to the XMPP server: the first pause, and the longest (doubling between, with jitter). */
export const RECONNECT_DELAY_MS_MIN = 500;
export const RECONNECT_DELAY_MS_MAX = 30000;
/** Rooms served by one instance. */
export const ROOMS_MAX = 1024;
/** Join history (XEP-0045 §7.2.15): public lines kept per location, and how many a join gets unless it asks. */
export const HISTORY_LINES_PER_LOCATION_MAX = 50;
export const HISTORY_LINES_DEFAULT = 20;
/** A player's presence status text, as other occupants see it, in characters. */
export const STATUS_CHARS_MAX = 200;
/** Invitations one message may carry (XEP-0045 §7.8.2 allows several). */
export const INVITES_PER_MESSAGE_MAX = 5;
/** Sessions (resources) one occupant may join with. */
export const SESSIONS_PER_OCCUPANT_MAX = 16;

/** Actuation: retries of a failed batch transaction before its commands are refused. */
export const ACTUATION_RETRIES_MAX = 3;
/** Pause before retry n is n times this. */
export const ACTUATION_RETRY_MS = 50;
/** A batch whose COMMIT outcome is unknown: how long to keep asking the database before reloading the room. */
export const COMMIT_OUTCOME_WAIT_MS_MAX = 30000;
/** Shutdown: time allowed to commit open batches before exiting anyway. */
export const SHUTDOWN_MS_MAX = 10000;
/** Database pool size for the pg adapter. */
export const DB_POOL_CONNECTIONS_MAX = 8;

/** WASM linear memory ceiling (64 KiB pages): 1 GiB. */
export const WASM_PAGES_MAX = 16384;

assert(BATCH_COMMANDS_DEFAULT <= BATCH_COMMANDS_MAX, 'default batch within cap');
assert(BATCH_COMMANDS_MAX <= ROOM_QUEUE_COMMANDS_MAX, 'a full batch fits the queue');
assert(BODY_BYTES_MAX < STANZA_BYTES_MAX, 'a maximal body fits a stanza');
assert(RECONNECT_DELAY_MS_MIN <= RECONNECT_DELAY_MS_MAX, 'reconnection pauses grow up to their ceiling');
assert(HISTORY_LINES_DEFAULT <= HISTORY_LINES_PER_LOCATION_MAX, 'the default history is kept');
assert(OCCUPANTS_DEFAULT <= OCCUPANTS_MAX && OCCUPANTS_MAX <= CHARACTERS_PER_ROOM_MAX, 'occupants are characters');
