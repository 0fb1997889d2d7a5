// The embedded database's own thread: PGlite (PostgreSQL compiled to WASM) runs
// here, so a large statement does not stall the event loop that serves players.
// The main thread talks to it by messages (pglite-thread.ts).
// Plain JavaScript: a worker thread does not get the TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, types } from '@electric-sql/pglite';

const db = await PGlite.create(workerData.dataDir, { parsers: { [types.INT8]: Number } });
parentPort.postMessage({ ready: true });

parentPort.on('message', (request) => {
  void handle(request).then((reply) => parentPort.postMessage(reply));
});

/** One request ({ id, op: 'query' | 'exec' | 'close', sql, params }) -> its reply ({ id, rows, rowCount } or { id, error }). */
async function handle(request) {
  try {
    if (request.op === 'query') {
      const r = await db.query(request.sql, request.params);
      return { id: request.id, rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    }
    if (request.op === 'exec') {
      await db.exec(request.sql);
      return { id: request.id };
    }
    await db.close();
    return { id: request.id };
  } catch (err) {
    return { id: request.id, error: { message: err?.message ?? String(err), ...(err?.code ? { code: err.code } : {}) } };
  }
}
