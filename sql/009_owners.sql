-- Which instance owns each room (DESIGN §5). The advisory lock keeps two
-- instances from serving one room; this row says who does and where its peer
-- link listens, so the others forward that room's stanzas there. owner_epoch
-- grows by one at every claim, and every batch is fenced on it as well as on
-- the version: an owner that lost the room (partition, lost lock session) can
-- write nothing more, even before the new owner has written anything.
ALTER TABLE rooms ADD COLUMN owner_instance text;
ALTER TABLE rooms ADD COLUMN owner_endpoint text;
ALTER TABLE rooms ADD COLUMN owner_epoch bigint NOT NULL DEFAULT 0;

-- Where the instance's peer link listens (host:port), '' when it has none.
ALTER TABLE instances ADD COLUMN endpoint text NOT NULL DEFAULT '';

-- The sessions in each room (XEP-0045 occupants: nick and full JID), kept by the
-- owner as they join and leave, so an instance that takes a room over (after a
-- crash, or handed over on SIGTERM) serves the same occupants without asking
-- anyone to join again. Presence details are the player's to send again.
CREATE TABLE room_sessions (
  room_id text NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  session_jid text NOT NULL,
  nick text NOT NULL,
  PRIMARY KEY (room_id, session_jid)
);
