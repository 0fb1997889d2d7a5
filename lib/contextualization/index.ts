export {
  loadRoom, listRooms, engineStateOf,
  type Character, type Item, type ItemInfo, type Location, type LoadedRoom, type NpcInfo, type Projection, type RoomWorld,
} from './room-state.ts';
