export { Room, type RoomOptions, type StageTimes } from './room.ts';
export { replayRoom, firstDifference, type ReplayResult } from './replay.ts';
export { encodeBatch, Names, type Encoded } from './encode.ts';
export { embeddedLocks, postgresLocks, recordOwner, releaseOwner, claimedSince, listRoomOwners, type RoomLocks, type RoomListing } from './ownership.ts';
export { Affiliations, AFFILIATIONS, type Affiliation, type AffiliationChange, type Listed, type Refusal, type Role } from './affiliations.ts';
