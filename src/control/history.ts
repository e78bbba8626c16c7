/**
 * GitOps history: every spec change is also a commit in a git repository in the data
 * directory (`<dataDir>/history`), one commit per change, authored by the caller. Files are
 * `<plural>/<name>.yaml` holding the manifest (apiVersion, kind, metadata name/labels/
 * annotations, spec). The store stays the source of truth; on start, `sync` commits any
 * difference left by a crash between a store commit and its git commit.
 *
 * Uses the git CLI (always present where Switchyard is developed and deployed), serialised
 * through one queue so commits never interleave.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { KINDS, type Kind } from '../api/index.js';
import { SwitchyardError } from '../core/index.js';
import type { JsonObject } from '../store/index.js';
import type { SpecChange } from './resources.js';

export interface HistoryEntry {
  revision: string;
  author: string;
  date: string;
  message: string;
}

const SEP = '\x1f';

export class GitHistory {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly dir: string) {}

  /** Open (creating if needed) the history repository at `dir`. */
  static async open(dir: string): Promise<GitHistory> {
    const h = new GitHistory(dir);
    await mkdir(dir, { recursive: true });
    await h.git(['init', '-q', '-b', 'main']).catch(() => h.git(['init', '-q']));
    await h.git(['config', 'user.name', 'switchyard']);
    await h.git(['config', 'user.email', 'switchyard@localhost']);
    await h.git(['config', 'commit.gpgsign', 'false']);
    return h;
  }

  private path(kind: Kind, name: string): string {
    return `${KINDS[kind].plural}/${name}.yaml`;
  }

  /** Record committed changes, one git commit each. */
  record(changes: readonly SpecChange[]): Promise<void> {
    return this.enqueue(async () => {
      for (const c of changes) await this.commitOne(c);
    });
  }

  private async commitOne(c: SpecChange): Promise<void> {
    const rel = this.path(c.kind, c.name);
    const file = join(this.dir, rel);
    if (c.manifest) {
      await mkdir(join(this.dir, KINDS[c.kind].plural), { recursive: true });
      await writeFile(file, stringify(c.manifest));
    } else {
      await rm(file, { force: true });
    }
    await this.git(['add', '-A', '--', rel]);
    const status = await this.git(['status', '--porcelain', '--', rel]);
    if (status.trim() === '') return; // nothing changed on disk (e.g. a replayed change)
    const verb = c.action === 'deleted' ? 'delete' : c.action === 'created' ? 'create' : 'update';
    const subject = `${verb} ${c.kind}/${c.name}${c.generation ? ` (generation ${c.generation})` : ''}${c.note ? `: ${c.note}` : ''}`;
    const author = `${sanitize(c.actor.name)} <${sanitize(c.actor.name).replace(/\s+/g, '.')}@switchyard>`;
    await this.git(['commit', '-q', '--no-verify', `--author=${author}`, '-m', subject, '--', rel]);
  }

  /** Changes of one resource, newest first. */
  log(kind: Kind, name: string): Promise<HistoryEntry[]> {
    return this.enqueue(async () => {
      const out = await this.git(['log', `--format=%H${SEP}%an${SEP}%aI${SEP}%s`, '--', this.path(kind, name)]).catch(() => '');
      return out
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [revision = '', author = '', date = '', message = ''] = line.split(SEP);
          return { revision, author, date, message };
        });
    });
  }

  /** The manifest of a resource at a revision (full or abbreviated sha, or e.g. HEAD~2). */
  show(kind: Kind, name: string, revision: string): Promise<JsonObject> {
    return this.enqueue(async () => {
      if (!/^[A-Za-z0-9~^._-]{1,64}$/.test(revision)) throw new SwitchyardError('invalid_argument', `'${revision}' is not a revision; use one from 'switchyard history'`, { param: 'to' });
      const entries = (await this.git(['log', '--format=%H', '--', this.path(kind, name)]).catch(() => '')).split('\n').filter(Boolean);
      const full = await this.git(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`]).catch(() => '');
      const sha = full.trim();
      if (!sha || !entries.includes(sha)) throw new SwitchyardError('not_found', `revision '${revision}' is not in the history of ${kind}/${name}; see 'switchyard history ${KINDS[kind].plural}/${name}'`, { param: 'to' });
      const text = await this.git(['show', `${sha}:${this.path(kind, name)}`]).catch(() => '');
      if (!text) throw new SwitchyardError('not_found', `${kind}/${name} did not exist at revision ${revision.slice(0, 12)} (it was deleted there)`, { param: 'to' });
      return parse(text) as JsonObject;
    });
  }

  /**
   * Make the repository match the store after a crash: commit every resource whose file
   * differs (or is missing), and delete files of resources that no longer exist.
   */
  sync(current: readonly { kind: Kind; name: string; manifest: JsonObject }[]): Promise<number> {
    return this.enqueue(async () => {
      let n = 0;
      const want = new Set<string>();
      for (const r of current) {
        const rel = this.path(r.kind, r.name);
        want.add(rel);
        const text = stringify(r.manifest);
        const onDisk = await readFile(join(this.dir, rel), 'utf8').catch(() => '');
        if (onDisk !== text) {
          await this.commitOne({ kind: r.kind, name: r.name, action: onDisk ? 'configured' : 'created', actor: { name: 'switchyard' }, manifest: r.manifest, generation: 0, note: 'recorded at start-up (missed before a crash)' });
          n++;
        }
      }
      const tracked = (await this.git(['ls-files'])).split('\n').filter(Boolean);
      for (const rel of tracked) {
        if (want.has(rel)) continue;
        const [plural, file] = rel.split('/');
        const kind = (Object.keys(KINDS) as Kind[]).find((k) => KINDS[k].plural === plural);
        if (!kind || !file) continue;
        await this.commitOne({ kind, name: file.replace(/\.yaml$/, ''), action: 'deleted', actor: { name: 'switchyard' }, manifest: null, generation: 0, note: 'recorded at start-up (missed before a crash)' });
        n++;
      }
      return n;
    });
  }

  /** Wait for queued commits. */
  flush(): Promise<void> {
    return this.enqueue(async () => undefined);
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private git(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('git', args, { cwd: this.dir, maxBuffer: 16 << 20, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' } }, (err, stdout, stderr) => {
        if (err) reject(new SwitchyardError('internal_error', `git ${args[0]} failed: ${stderr.trim() || err.message}`, { cause: err }));
        else resolve(stdout);
      });
    });
  }
}

function sanitize(name: string): string {
  return name.replace(/[<>\n\r]/g, '').slice(0, 100) || 'unknown';
}
