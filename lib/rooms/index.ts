export { Room, type RoomOptions, type StageTimes } from './room.ts';
