// Memory access for the rules in index.ts, as WebAssembly loads and stores. The
// portable build (wasm/portable.ts) swaps this module for one over an Int32Array,
// so the same rules source also runs as plain JavaScript (the `js` engine).

@inline export function ld(address: i32): i32 {
  return load<i32>(<usize>address);
}

@inline export function st(address: i32, value: i32): void {
  store<i32>(<usize>address, value);
}

/** Where the host may start laying out tables. */
export function heapBase(): i32 {
  return <i32>__heap_base;
}
