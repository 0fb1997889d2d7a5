-- Who may see a player's real JID (XEP-0045 §4.2): 'semi' (moderators only; Flux
-- has none, so nobody) or 'non' (every occupant). Set by the world file.
ALTER TABLE rooms ADD COLUMN anonymity text NOT NULL DEFAULT 'semi' CHECK (anonymity IN ('semi', 'non'));
