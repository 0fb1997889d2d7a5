-- Building in the game: builders dig places, make things and creatures
-- while the room runs, into the same tables a world file fills. Replay must start
-- from the world as it was installed, not from the grown one (or it would build
-- twice), so the installed definition is kept as it was read. Rooms installed
-- before this migration have none: nothing was built in them then, so their
-- tables are still their definition.
ALTER TABLE rooms ADD COLUMN installed jsonb;
-- A destroyed thing keeps its row and its number (items are indexed densely), its
-- place NOWHERE (lib/engines/protocol.ts): no location, no carrier.
