-- XEP-0045 §5.2 affiliations, kept with the room. `rooms.owners` are the
-- world file's owners as imported (what `world export` writes back and replay starts
-- from); `affiliations` is the live list, changed only by committed `affiliate`
-- commands in the room's batches. A JID without a row has the affiliation none.
ALTER TABLE rooms ADD COLUMN owners text[] NOT NULL DEFAULT '{}';
CREATE TABLE affiliations (
  room_id     text NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  jid         text NOT NULL,
  affiliation text NOT NULL CHECK (affiliation IN ('owner', 'admin', 'member', 'outcast')),
  reason      text,
  PRIMARY KEY (room_id, jid)
);
