/**
 * Stop sequences over streamed text, as vLLM applies them: output text is scanned as it is
 * generated; when a stop string appears, generation ends and the text is cut before it
 * (or after it, with include_stop_str_in_output). While the tail of the text could still
 * become a stop string, those characters are held back so a client never sees a partial stop.
 */

export interface StopFeed {
  /** Text that is safe to send now. */
  emit: string;
  /** A stop string matched: finish with finish_reason 'stop'. */
  stopped: boolean;
}

export class StopChecker {
  private held = '';
  private done = false;
  private readonly maxLen: number;

  constructor(private readonly stops: readonly string[], private readonly includeStop = false) {
    this.maxLen = stops.reduce((m, s) => Math.max(m, s.length), 0);
  }

  get active(): boolean {
    return this.stops.length > 0;
  }

  feed(text: string): StopFeed {
    if (this.done) return { emit: '', stopped: true };
    if (this.stops.length === 0) return { emit: text, stopped: false };
    const buf = this.held + text;
    let best = -1;
    let bestStop = '';
    for (const s of this.stops) {
      if (s.length === 0) continue;
      const i = buf.indexOf(s);
      if (i >= 0 && (best < 0 || i < best)) {
        best = i;
        bestStop = s;
      }
    }
    if (best >= 0) {
      this.done = true;
      this.held = '';
      return { emit: buf.slice(0, this.includeStop ? best + bestStop.length : best), stopped: true };
    }
    // Hold back the longest suffix that is a proper prefix of some stop string.
    let hold = 0;
    for (let k = Math.min(this.maxLen - 1, buf.length); k > 0; k--) {
      const tail = buf.slice(buf.length - k);
      if (this.stops.some((s) => s.startsWith(tail))) {
        hold = k;
        break;
      }
    }
    this.held = buf.slice(buf.length - hold);
    return { emit: buf.slice(0, buf.length - hold), stopped: false };
  }

  /** At the end of generation (not by a stop string), release any held text. */
  flush(): string {
    const h = this.held;
    this.held = '';
    return this.done ? '' : h;
  }
}
