-- A guest's character (an anonymous login gives a fresh JID every visit) is
-- released a while after its last session leaves. Its row stays, so character ids
-- stay dense and the command log still replays, but its nick is no longer held:
-- only characters not released hold their nick.
ALTER TABLE characters ADD COLUMN released boolean NOT NULL DEFAULT false;
ALTER TABLE characters DROP CONSTRAINT characters_room_id_nick_key;
CREATE UNIQUE INDEX characters_nick_held ON characters (room_id, nick) WHERE NOT released;
