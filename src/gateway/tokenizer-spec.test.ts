/** Which tokenizer a model's prompts get: the gateway config's `tokenizer`, and a Function's (tokenizerOf). */
import { describe, expect, it } from 'vitest';
import { FunctionSpecSchema, type FunctionResource } from '../api/index.js';
import { loadGatewayConfig } from './config.js';
import { tokenizerOf } from './control-table.js';
import { routesFromConfig } from './table.js';

const fn = (spec: Record<string, unknown>): FunctionResource => ({ apiVersion: 'switchyard.dev/v1', kind: 'Function', metadata: { name: 'f' }, spec: FunctionSpecSchema.parse(spec) }) as unknown as FunctionResource;

describe('tokenizerOf (a Function)', () => {
  const cases: { name: string; spec: Record<string, unknown>; want: ReturnType<typeof tokenizerOf> }[] = [
    { name: 'sim with a Hugging Face id: the simulator\'s', spec: { model: 'Qwen/Qwen2.5-1.5B-Instruct', runtime: 'sim' }, want: { tokenizer: 'sim' } },
    { name: 'sim with a local directory: that directory (worker sim --tokenizer)', spec: { model: '/models/llama-3', runtime: 'sim' }, want: { tokenizer: { path: '/models/llama-3' } } },
    { name: 'sim with a command: not the simulator, so the model path', spec: { model: 'org/m', runtime: 'sim', command: 'my-sim --port {port}' }, want: { tokenizer: { path: 'org/m' } } },
    { name: 'vllm with a local directory', spec: { model: 'file:///models/llama-3', runtime: 'vllm' }, want: { tokenizer: { path: '/models/llama-3' } } },
    { name: 'vllm with a Hugging Face id: tried as a local path (logged once when absent)', spec: { model: 'meta-llama/Llama-3.1-8B-Instruct', runtime: 'vllm' }, want: { tokenizer: { path: 'meta-llama/Llama-3.1-8B-Instruct' } } },
    { name: 'routing.tokenizer overrides', spec: { model: 's3://bucket/llama', runtime: 'vllm', routing: { tokenizer: { path: '/tokenizers/llama-3' } } }, want: { tokenizer: { path: '/tokenizers/llama-3' } } },
    { name: "routing.tokenizer 'none'", spec: { model: '/models/llama-3', runtime: 'sglang', routing: { tokenizer: 'none' } }, want: {} },
  ];
  for (const c of cases) it(c.name, () => expect(tokenizerOf(fn(c.spec))).toEqual(c.want));

  it('rejects a malformed routing.tokenizer', () => {
    expect(FunctionSpecSchema.safeParse({ model: 'org/m', runtime: 'vllm', routing: { tokenizer: 'cl100k' } }).success).toBe(false);
    expect(FunctionSpecSchema.safeParse({ model: 'org/m', runtime: 'vllm', routing: { tokenizer: { path: '' } } }).success).toBe(false);
  });
});

describe('gateway config models[].tokenizer', () => {
  const model = (tokenizer: unknown) => ({ name: 'm', ...(tokenizer !== undefined ? { tokenizer } : {}), endpoints: [{ url: 'http://127.0.0.1:8001' }] });
  it("accepts 'sim', 'none' (the default) and { path }", () => {
    const cfg = loadGatewayConfig({ object: { models: [model('sim'), { ...model(undefined), name: 'n' }, { ...model({ path: '/models/llama-3' }), name: 'p' }] } });
    expect(routesFromConfig(cfg).map((r) => r.tokenizer)).toEqual(['sim', undefined, { path: '/models/llama-3' }]);
  });
  it('rejects anything else, naming the path', () => {
    expect(() => loadGatewayConfig({ object: { models: [model('hf')] } })).toThrow(/models\[0\]\.tokenizer/);
    expect(() => loadGatewayConfig({ object: { models: [model({ dir: '/x' })] } })).toThrow(/models\[0\]\.tokenizer/);
  });
});
