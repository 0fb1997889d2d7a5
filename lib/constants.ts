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
/**
 * Elements nested inside one stanza, its own children at level 1; a deeper one
 * cuts the stanza at the gate, unread. XMPP's deepest ordinary stanzas (a
 * forwarded carbon, a pubsub item, a data form) stay under 10.
 */
export const STANZA_NESTING_MAX = 32;
/** Nick length in characters (XEP-0045 leaves it to the service). */
export const NICK_CHARS_MAX = 32;

/**
 * Token bucket per bare JID, kept across leaves and rejoins: commands, joins,
 * leaves, presence updates, extra sessions and invitations all spend it.
 */
export const COMMANDS_PER_S_DEFAULT = 10;
export const COMMANDS_BURST_DEFAULT = 20;
/** Bare JIDs whose buckets a room remembers; past it, buckets that are full again (owed nothing) are forgotten. */
export const JID_BUCKETS_PER_ROOM_MAX = 65536;
/** Nicks (occupants) one bare JID may hold in a room at once, and sessions over all of them. */
export const OCCUPANTS_PER_JID_MAX = 2;
export const SESSIONS_PER_JID_MAX = 16;
/** Characters one bare JID may own in a world (each nick it ever joined with is one). */
export const CHARACTERS_PER_JID_MAX = 4;
/**
 * New characters per minute from one server's JIDs (a burst of as many): anonymous
 * logins give every connection a fresh bare JID, so only the domain bounds how
 * fast one stranger can squat nicks.
 */
export const NEW_CHARACTERS_PER_DOMAIN_PER_MIN_DEFAULT = 120;
export const NEW_CHARACTERS_PER_DOMAIN_PER_MIN_MAX = 1_000_000;
/**
 * Guests: JIDs of the server domains an operator names (SASL ANONYMOUS hosts give
 * a fresh JID every login, so a guest's character is never played again). Such a
 * character is released this long after its last session leaves: its things drop
 * where it stood and its nick is free again. A room looks for released guests
 * every GUEST_SWEEP_MS; the domains named are at most GUEST_DOMAINS_MAX.
 */
export const GUEST_RELEASE_S_DEFAULT = 300;
export const GUEST_RELEASE_S_MAX = 30 * 24 * 60 * 60;
export const GUEST_DOMAINS_MAX = 64;
export const GUEST_SWEEP_MS = 250;
/** Invitations (XEP-0045 §7.8.2): distinct people one bare JID may invite per hour, and the pause before inviting the same one again. */
export const INVITEES_PER_HOUR_MAX = 10;
export const INVITE_REPEAT_MS_MIN = 10 * 60 * 1000;

/**
 * Output budget per room, in bytes (of serialized stanzas) per second, with a
 * burst of two seconds. A room that spends it refuses new commands and joins with
 * a "busy" reply until it has refilled; other rooms go on. What a committed batch
 * says is always written, even past the budget.
 */
export const ROOM_OUTPUT_BYTES_PER_S_DEFAULT = 8 * 1024 * 1024;
export const ROOM_OUTPUT_BURST_S = 2;

/** Occupants (joined players) per room and characters (ever joined) per room. */
export const OCCUPANTS_DEFAULT = 500;
export const OCCUPANTS_MAX = 10000;
export const CHARACTERS_PER_ROOM_DEFAULT = 10000;
export const CHARACTERS_PER_ROOM_MAX = 65536;
/**
 * A place where more than this many others stand is a crowd: "Also here" names
 * this many, then "and N others"; `who` names this many per place; and nobody
 * there is told of each arrival and departure (a join or a leave still reaches
 * every client as the MUC presence).
 */
export const NAMES_LISTED_MAX = 10;
/** Things named in a description; more are summed up as "and N more things". */
export const THINGS_LISTED_MAX = 15;
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
 * Bytes waiting to be written to the XMPP server beyond which the rooms that
 * have spent over half their output budget refuse new commands and joins, so a
 * slow server cannot make Flux buffer without bound; quiet rooms go on.
 */
export const OUTGOING_BYTES_MAX = 16 * 1024 * 1024;
/**
 * Bytes written to the XMPP server and not yet known to be read (no probe written
 * after them has come back: lib/xmpp/server-lag.ts) past which the server counts
 * as behind: a congestion window, clocked by the probes, sent every
 * SERVER_LAG_PROBE_MS. While it is full (and the server is slow to answer a
 * probe: SHED_LAG_MS), the rooms writing the most refuse new commands with a
 * "busy" reply; joins wait while it is full: every answer then waits at most
 * about one window's worth of the server's work (about 200 ms for Prosody here,
 * which reads a component stream at 1-2 MB/s; one join into a room of 500). A
 * server slowed by others' traffic refuses nobody here unless Flux's own output
 * piles up in front of it.
 */
export const IN_FLIGHT_BYTES_MAX = 256 * 1024;
/**
 * The window grows past IN_FLIGHT_BYTES_MAX to what the server has been seen to
 * read in this many ms (lib/xmpp/server-lag.ts), up to IN_FLIGHT_BYTES_CEILING: a
 * say to a thousand players is about 180 KB, so a fixed 256 KiB refused the second
 * say of a tick even where ejabberd read it all in a few tens of ms.
 */
export const IN_FLIGHT_WORK_MS = 150;
export const IN_FLIGHT_BYTES_CEILING = 4 * 1024 * 1024;
export const SERVER_LAG_PROBE_MS = 50;
/** A full window counts as the server being behind only once it has owed a probe's answer this long. */
export const SHED_LAG_MS = 50;
/**
 * Under load a probe also follows every this many bytes written, up to
 * PROBES_OUT_MAX out at once: the window is then freed as the server reads, and
 * joins released meanwhile keep it busy.
 */
export const PROBE_SPACING_BYTES = 64 * 1024;
export const PROBES_OUT_MAX = 16;
/**
 * Joins are held while the congestion window above is full and go to the batch
 * as their presences fit in it (lib/xmpp/muc.ts `joinsFitting`), a presence
 * counted at this many bytes.
 */
export const PRESENCE_BYTES_ESTIMATE = 256;
/** Reconnecting to the XMPP server: the first pause, and the longest (doubling between, with jitter). */
export const RECONNECT_DELAY_MS_MIN = 500;
export const RECONNECT_DELAY_MS_MAX = 30000;
/**
 * A hot standby (Prosody takes one connection per component domain and refuses the
 * next with <conflict/>): how often it knocks again. Fixed, not backed off: the pause
 * bounds how long the domain goes unserved after the active instance dies.
 */
export const STANDBY_RETRY_MS = 1000;
/**
 * How often an instance writes its row in the instances table (bin/flux status),
 * by default; one not heard from for INSTANCE_SILENT_HEARTBEATS intervals is
 * shown as silent, and rows silent for INSTANCE_ROW_KEEP_MS are deleted by the
 * next heartbeat of any instance.
 */
export const HEARTBEAT_MS_DEFAULT = 5000;
export const HEARTBEAT_MS_MIN = 100;
export const HEARTBEAT_MS_MAX = 600000;
export const INSTANCE_SILENT_HEARTBEATS = 3;
export const INSTANCE_ROW_KEEP_MS = 24 * 60 * 60 * 1000;
/**
 * The link between instances (lib/cluster): a stanza for a room another instance
 * owns is forwarded there. FORWARD_WAIT_MS_MAX bounds how long a stanza waits for
 * a room to have a reachable owner (a takeover after a death, a handover on
 * SIGTERM) before its sender is told the world is not served right now;
 * FORWARD_QUEUE_MAX bounds the stanzas waiting per room meanwhile; FORWARD_HOPS_MAX
 * bounds how often one stanza is passed on (an owner that moved on passes it again).
 */
export const FORWARD_WAIT_MS_MAX = 5000;
export const FORWARD_QUEUE_MAX = 2048;
export const FORWARD_HOPS_MAX = 3;
/** A peer that connects must prove the shared secret within this time, or it is cut off. */
export const PEER_AUTH_MS_MAX = 5000;
/** A stopping instance waits at most this long for its peers to answer its farewell (they stop sending to it). */
export const PEER_FAREWELL_MS_MAX = 2000;
/** Largest frame on the link: a stanza at its limit, escaped as JSON, with room to spare. */
export const PEER_FRAME_BYTES_MAX = 4 * STANZA_BYTES_MAX;
/** How often a room's occupants (room_sessions) are written while they change. */
export const SESSION_JOURNAL_MS = 250;
/** No lag probe came back for this long (a cluster routed one to an instance that could not pass it on): another is sent. */
export const PROBE_RESEND_MS = 3000;
/** Rooms served by one instance. */
export const ROOMS_MAX = 1024;
/** Join history (XEP-0045 §7.2.15): public lines kept per location, and how many a join gets unless it asks. */
export const HISTORY_LINES_PER_LOCATION_MAX = 50;
export const HISTORY_LINES_DEFAULT = 20;
/** A player's presence status text, as other occupants see it, in characters. */
export const STATUS_CHARS_MAX = 200;
/** Invitations one message may carry (XEP-0045 §7.8.2 allows several). */
export const INVITES_PER_MESSAGE_MAX = 5;
/** XEP-0045 §10: owners a world may name (its file's `owners`, and grants at run time). */
export const OWNERS_PER_ROOM_MAX = 64;
/** XEP-0045 §9, §10: JIDs with an affiliation (owner, admin, member or outcast) one room keeps. */
export const AFFILIATIONS_PER_ROOM_MAX = 4096;
/** Items one muc#admin iq set may carry (XEP-0045 §9.5 and on allow several). */
export const ADMIN_ITEMS_PER_IQ_MAX = 32;
/** A kick's or a ban's reason, in characters. */
export const REASON_CHARS_MAX = 200;
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
/** GET /readyz: how long the database may take to answer a query before it counts as not ready (probes time out after a few seconds). */
export const READY_DB_MS_MAX = 2000;
/** Database pool size for the pg adapter. */
export const DB_POOL_CONNECTIONS_MAX = 8;

/** WASM linear memory ceiling (64 KiB pages): 1 GiB. */
export const WASM_PAGES_MAX = 16384;

assert(BATCH_COMMANDS_DEFAULT <= BATCH_COMMANDS_MAX, 'default batch within cap');
assert(BATCH_COMMANDS_MAX <= ROOM_QUEUE_COMMANDS_MAX, 'a full batch fits the queue');
assert(BODY_BYTES_MAX < STANZA_BYTES_MAX, 'a maximal body fits a stanza');
assert(RECONNECT_DELAY_MS_MIN <= RECONNECT_DELAY_MS_MAX, 'reconnection pauses grow up to their ceiling');
assert(HEARTBEAT_MS_MIN <= HEARTBEAT_MS_DEFAULT && HEARTBEAT_MS_DEFAULT <= HEARTBEAT_MS_MAX, 'the default heartbeat is allowed');
assert(HEARTBEAT_MS_MAX * INSTANCE_SILENT_HEARTBEATS < INSTANCE_ROW_KEEP_MS, 'a row is shown silent long before it is deleted');
assert(STANDBY_RETRY_MS <= RECONNECT_DELAY_MS_MAX, 'a standby knocks at least as often as a reconnecting instance at its slowest');
assert(HISTORY_LINES_DEFAULT <= HISTORY_LINES_PER_LOCATION_MAX, 'the default history is kept');
assert(OCCUPANTS_DEFAULT <= OCCUPANTS_MAX && OCCUPANTS_MAX <= CHARACTERS_PER_ROOM_MAX, 'occupants are characters');
assert(OCCUPANTS_DEFAULT <= CHARACTERS_PER_ROOM_DEFAULT && CHARACTERS_PER_ROOM_DEFAULT <= CHARACTERS_PER_ROOM_MAX, 'a default world holds its default crowd');
assert(OCCUPANTS_PER_JID_MAX <= CHARACTERS_PER_JID_MAX, 'a JID can be present as each of its characters');
assert(SESSIONS_PER_OCCUPANT_MAX <= SESSIONS_PER_JID_MAX, 'one occupant can use all its sessions');
assert(OWNERS_PER_ROOM_MAX <= AFFILIATIONS_PER_ROOM_MAX, 'the owners fit the affiliation list');
assert(ADMIN_ITEMS_PER_IQ_MAX * (1 + OCCUPANTS_PER_JID_MAX) <= BATCH_COMMANDS_MAX, 'one admin request and its kicks fit a batch');
assert(GUEST_SWEEP_MS < 1000, 'rooms look for guests to release more often than the shortest release time (1 s)');
assert(GUEST_RELEASE_S_DEFAULT <= GUEST_RELEASE_S_MAX, 'the default release time is allowed');

// --- World file texts and database time bounds (lib/world/definition.ts, lib/db) ---
/**
 * World file texts, in characters (Unicode code points). Joins and looks send
 * them to players again and again, so a world file may not make them unbounded.
 * NPC names are nicks (NICK_CHARS_MAX).
 */
export const WORLD_TITLE_CHARS_MAX = 80;
export const WORLD_SUBJECT_CHARS_MAX = 200;
export const LOCATION_TITLE_CHARS_MAX = 80;
export const LOCATION_DESCRIPTION_CHARS_MAX = 1000;
export const ITEM_NAME_CHARS_MAX = 80;
export const ITEM_DESCRIPTION_CHARS_MAX = 1000;
export const NPC_DESCRIPTION_CHARS_MAX = 1000;
export const NPC_THANKS_CHARS_MAX = 500;
/** Keys of locations, items and NPCs in a world file, in characters (stored, exported, named in errors). */
export const WORLD_KEY_CHARS_MAX = 64;
/** Keywords per item or NPC, and one keyword in characters: every name a player types is matched against them. */
export const KEYWORDS_PER_THING_MAX = 16;
export const KEYWORD_CHARS_MAX = 32;
/** PostgreSQL cancels a statement (lock waits included) that runs longer than this: statement_timeout, set per connection. */
export const DB_STATEMENT_MS_MAX = 5000;
/** A query the database does not answer at all (hung, unreachable) fails on our side after this: node-postgres query_timeout. */
export const DB_QUERY_MS_MAX = 6000;
/** Opening a database connection, or waiting for a free one in the pool: node-postgres connectionTimeoutMillis. */
export const DB_CONNECT_MS_MAX = 5000;

assert(IN_FLIGHT_BYTES_MAX <= IN_FLIGHT_BYTES_CEILING && IN_FLIGHT_BYTES_CEILING < OUTGOING_BYTES_MAX, 'the congestion window grows within what the process may hold');
assert(DB_STATEMENT_MS_MAX < DB_QUERY_MS_MAX, 'the server cancels a slow statement before the client gives up on its connection');
assert(DB_QUERY_MS_MAX < SHUTDOWN_MS_MAX, 'a hung statement fails before shutdown gives up on the open batches');
assert((LOCATION_TITLE_CHARS_MAX + LOCATION_DESCRIPTION_CHARS_MAX) * 4 < STANZA_BYTES_MAX, 'a place\'s title and description fit one stanza, even in 4-byte UTF-8');
