export { render, exitsLine, type Message, type RenderInput } from './render.ts';
