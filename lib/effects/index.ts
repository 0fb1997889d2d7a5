export { render, exitsLine, type BatchText, type Message, type RenderInput } from './render.ts';
