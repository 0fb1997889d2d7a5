export {
  loadRoom, listRooms, engineStateOf, isPlayer,
  type Character, type Item, type ItemInfo, type Location, type LoadedRoom, type NpcInfo, type Projection, type RoomWorld,
} from './room-state.ts';
