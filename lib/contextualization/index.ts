export { loadRoom, listRooms, type Character, type Location, type LoadedRoom, type Projection, type RoomWorld } from './room-state.ts';
