// Join history (XEP-0045 §7.2.15). A room of Flux is a world of places, and what
// is said in one place is heard only there, so history is kept per location: a
// joiner gets the recent public lines (says and emotes) of the place they stand in,
// as they were shown after COMMIT. In memory only: a restarted component starts
// with none.
import type { Speech } from '../effects/index.ts';
import { HISTORY_LINES_DEFAULT, HISTORY_LINES_PER_LOCATION_MAX } from '../constants.ts';
import { NS_MUC, type Element } from './stanzas.ts';

export interface Line {
  readonly speaker: string;
  readonly body: string;
  readonly stampMs: number;
  /** The line as a stanza, cut where the recipient goes: serialized once, however many join. */
  wire?: { readonly head: string; readonly tail: string };
}

/** What a join asked for (§7.2.15): every bound it gave, each optional. */
export interface HistoryRequest {
  readonly maxStanzas?: number;
  readonly maxChars?: number;
  readonly seconds?: number;
  readonly sinceMs?: number;
}

export class History {
  private readonly byLocation = new Map<number, Line[]>();

  record(speech: readonly Speech[], nowMs: number): void {
    for (const { where, speaker, body } of speech) {
      let lines = this.byLocation.get(where);
      if (!lines) this.byLocation.set(where, (lines = []));
      lines.push({ speaker, body, stampMs: nowMs });
      if (lines.length > HISTORY_LINES_PER_LOCATION_MAX) lines.shift();
    }
  }

  /**
   * The lines a join at `location` gets, oldest first. `size` measures a line as
   * sent, for maxchars (§7.2.15 counts the characters of the whole stanzas); it is
   * called only when the join asked for maxchars.
   */
  recent(location: number, request: HistoryRequest, nowMs: number, size: (line: Line) => number): Line[] {
    const lines = this.byLocation.get(location) ?? [];
    const after = Math.max(request.sinceMs ?? -Infinity, request.seconds === undefined ? -Infinity : nowMs - request.seconds * 1000);
    const picked: Line[] = [];
    let chars = 0;
    const stanzasMax = request.maxStanzas ?? HISTORY_LINES_DEFAULT;
    for (let i = lines.length - 1; i >= 0 && picked.length < stanzasMax; i--) {
      const line = lines[i]!;
      if (line.stampMs < after) break;
      if (request.maxChars !== undefined) {
        chars += size(line);
        if (chars > request.maxChars) break;
      }
      picked.push(line);
    }
    return picked.reverse();
  }
}

/** The <history/> bounds of a join presence; absent or malformed ones are left out (the defaults apply). */
export function historyRequest(presence: Element): HistoryRequest {
  const history = presence.getChild('x', NS_MUC)?.getChild('history');
  if (!history) return {};
  const count = (name: string) => {
    const value = history.attrs[name] as string | undefined;
    return value !== undefined && /^\d{1,9}$/.test(value) ? Number(value) : undefined;
  };
  const since = Date.parse(String(history.attrs.since ?? ''));
  return {
    ...(count('maxstanzas') !== undefined ? { maxStanzas: count('maxstanzas') } : {}),
    ...(count('maxchars') !== undefined ? { maxChars: count('maxchars') } : {}),
    ...(count('seconds') !== undefined ? { seconds: count('seconds') } : {}),
    ...(Number.isNaN(since) ? {} : { sinceMs: since }),
  };
}
