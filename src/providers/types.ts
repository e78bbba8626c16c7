/**
 * Providers turn a Deployment (one Function on one cluster) into running replicas.
 * One interface, several implementations (local processes, static endpoints; later
 * Kubernetes, SkyPilot, Dynamo), one contract suite (./contract.ts).
 *
 * Providers are level-triggered: `apply` is called with the whole desired state, again and
 * again (after restarts, on every reconcile tick), and must converge without duplicating work.
 */

/**
 * Replica lifecycle, one line per state:
 * - pending:  wanted, not started yet (e.g. waiting for a port or a restart backoff)
 * - starting: process started / endpoint registered, readiness probe not passed yet
 * - ready:    readiness probe passed; receives traffic
 * - draining: being stopped gracefully (no new traffic, in-flight work finishing)
 * - stopped:  exited on purpose
 * - failed:   exited or unreachable unexpectedly; will be restarted with backoff
 */
export type ReplicaState = 'pending' | 'starting' | 'ready' | 'draining' | 'stopped' | 'failed';

export type Runtime = 'vllm' | 'sglang' | 'trtllm' | 'dynamo' | 'llamacpp' | 'sim' | 'custom';

export interface ReplicaStatus {
  /** 0-based replica index within the deployment. */
  readonly index: number;
  /** Stable id, e.g. `llama-aws-us-east-0`. */
  readonly id: string;
  readonly state: ReplicaState;
  /** Base URL of the OpenAI-compatible server, e.g. `http://127.0.0.1:41235`, once known. */
  readonly endpoint?: string;
  /** Where it publishes vLLM KV events (ZMQ PUB) and serves their replay (ROUTER), if it does. */
  readonly kvEvents?: { readonly endpoint: string; readonly replayEndpoint?: string };
  readonly pid?: number;
  readonly restarts: number;
  /** Why it is in this state (exit code, probe error, ...). */
  readonly message?: string;
  /** ISO timestamp of the current process start / registration. */
  readonly startedAt?: string;
}

/** Desired state of one deployment, as the reconciler computes it from Function + Deployment + Cluster. */
export interface DeploymentTarget {
  /** Deployment name; the provider's key. */
  readonly deployment: string;
  readonly cluster: string;
  readonly function: string;
  /** The model name clients use (`model` in requests). */
  readonly servedName: string;
  /** Model URI: Hugging Face id, local path or s3:// URI. */
  readonly model: string;
  readonly runtime: Runtime;
  readonly replicas: number;
  readonly gpu: { readonly type: string; readonly count: number };
  readonly tensorParallelSize: number;
  readonly maxModelLen?: number;
  readonly quantization?: string;
  /** Extra engine arguments, appended to the command. */
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Command template for vllm/sglang/custom, e.g. `vllm serve {model} --port {port}`. */
  readonly command?: string;
  /** Simulator options (runtime sim): time speed-up and simulated network delay. */
  readonly sim?: { readonly speedup?: number; readonly networkDelayMs?: number };
  /** Static provider: the endpoints that already exist. */
  readonly endpoints?: readonly string[];
  /** Hash of everything above that requires a restart when it changes; replicas are replaced when it differs. */
  readonly specHash: string;
}

export interface LogOptions {
  /** Keep streaming new lines until the signal aborts. */
  readonly follow?: boolean;
  /** Only the last N lines of what exists now. */
  readonly tail?: number;
  readonly signal?: AbortSignal;
}

export interface Provider {
  /** 'local', 'static', ... */
  readonly kind: string;
  /**
   * Converge the deployment to `target`: start missing replicas, stop extra ones, replace those
   * whose specHash differs, restart failed ones with backoff. Idempotent; returns once the
   * changes are started (it does not wait for readiness).
   */
  apply(target: DeploymentTarget): Promise<void>;
  /** Stop all replicas of a deployment gracefully (drain, then kill) and forget it. */
  remove(deployment: string): Promise<void>;
  /** Current replicas of a deployment ([] if unknown). */
  status(deployment: string): ReplicaStatus[];
  /** Deployments this provider has replicas for, including ones adopted after a restart. */
  deployments(): string[];
  /** Notified (with the deployment name) whenever a replica's state or endpoint changes. */
  onChange(cb: (deployment: string) => void): () => void;
  /** Log lines of one replica (stdout and stderr, in order). */
  logs(deployment: string, replica: number, options?: LogOptions): AsyncIterable<string>;
  /**
   * Stop watching. With `stopReplicas: true` (Ctrl-C of `switchyard up`), replicas are drained and
   * stopped; with false (a crash-like exit), they keep running and a new provider adopts them.
   */
  close(options: { stopReplicas: boolean }): Promise<void>;
}
