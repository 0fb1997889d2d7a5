export { render, exitsLine, type BatchText, type Message, type Place, type RenderInput, type Rendered, type Speech } from './render.ts';
