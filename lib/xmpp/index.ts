export { XmppEdge, type EdgeOptions } from './edge.ts';
export { MucRoom } from './muc.ts';
export { SOFTWARE_NAME, SOFTWARE_VERSION } from './service-info.ts';
