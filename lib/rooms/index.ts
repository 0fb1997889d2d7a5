export { Room, type RoomOptions, type StageTimes } from './room.ts';
export { replayRoom, firstDifference, type ReplayResult } from './replay.ts';
export { encodeBatch, Names, type Encoded } from './encode.ts';
export { embeddedLocks, postgresLocks, type RoomLocks } from './ownership.ts';
