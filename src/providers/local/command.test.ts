import { describe, expect, it } from 'vitest';
import { SwitchyardError } from '../../core/index.js';
import type { DeploymentTarget } from '../types.js';
import { renderCommand, renderTemplate, tokenize } from './command.js';

const base: DeploymentTarget = {
  deployment: 'llama-local',
  cluster: 'local',
  function: 'llama',
  servedName: 'llama-8b',
  model: 'meta-llama/Llama-3.1-8B-Instruct',
  runtime: 'sim',
  replicas: 1,
  gpu: { type: 'A100', count: 2 },
  tensorParallelSize: 2,
  args: [],
  env: {},
  specHash: 'h1',
};
const ctx = { port: 41000, replica: 3, switchyardBin: ['/usr/bin/node', '/opt/sy/bin/switchyard.js'] };

describe('renderCommand', () => {
  const cases: { name: string; target: Partial<DeploymentTarget>; argv: string[] }[] = [
    {
      name: 'sim: the switchyard worker with model, port, gpu, tp and log level',
      target: {},
      argv: ['/usr/bin/node', '/opt/sy/bin/switchyard.js', 'worker', 'sim', '--model', 'llama-8b', '--port', '41000', '--gpu', 'A100', '--tensor-parallel-size', '2', '--log-level', 'info'],
    },
    {
      name: 'sim: max-model-len, speedup and extra args',
      target: { maxModelLen: 4096, sim: { speedup: 100 }, args: ['--seed', '7'] },
      argv: [
        ...['/usr/bin/node', '/opt/sy/bin/switchyard.js', 'worker', 'sim', '--model', 'llama-8b', '--port', '41000', '--gpu', 'A100'],
        ...['--tensor-parallel-size', '2', '--max-model-len', '4096', '--speedup', '100', '--log-level', 'info', '--seed', '7'],
      ],
    },
    {
      name: 'sim: a local model directory is simulated with its tokenizer (--tokenizer)',
      target: { model: 'file:///models/llama-3' },
      argv: ['/usr/bin/node', '/opt/sy/bin/switchyard.js', 'worker', 'sim', '--model', 'llama-8b', '--port', '41000', '--gpu', 'A100', '--tensor-parallel-size', '2', '--tokenizer', '/models/llama-3', '--log-level', 'info'],
    },
    {
      name: 'vllm: default template',
      target: { runtime: 'vllm' },
      argv: ['vllm', 'serve', 'meta-llama/Llama-3.1-8B-Instruct', '--served-model-name', 'llama-8b', '--host', '127.0.0.1', '--port', '41000', '--tensor-parallel-size', '2'],
    },
    {
      name: 'vllm: max-model-len, quantization, args',
      target: { runtime: 'vllm', maxModelLen: 8192, quantization: 'fp8', args: ['--enable-prefix-caching'] },
      argv: [
        ...['vllm', 'serve', 'meta-llama/Llama-3.1-8B-Instruct', '--served-model-name', 'llama-8b', '--host', '127.0.0.1', '--port', '41000'],
        ...['--tensor-parallel-size', '2', '--max-model-len', '8192', '--quantization', 'fp8', '--enable-prefix-caching'],
      ],
    },
    {
      name: 'sglang: default template',
      target: { runtime: 'sglang' },
      argv: ['python', '-m', 'sglang.launch_server', '--model-path', 'meta-llama/Llama-3.1-8B-Instruct', '--served-model-name', 'llama-8b', '--host', '127.0.0.1', '--port', '41000', '--tp', '2'],
    },
    {
      name: 'custom: every placeholder, quoting kept shell-free',
      target: { runtime: 'custom', command: `serve "{model}" --name={servedName} -p {port} --tp {tp} --gpus {gpuCount} --len {maxModelLen} 'r{replica}' {deployment}`, maxModelLen: 2048 },
      argv: ['serve', 'meta-llama/Llama-3.1-8B-Instruct', '--name=llama-8b', '-p', '41000', '--tp', '2', '--gpus', '2', '--len', '2048', 'r3', 'llama-local'],
    },
    {
      name: 'a command overrides the runtime default (vllm)',
      target: { runtime: 'vllm', command: '/opt/venv/bin/vllm serve {model} --port {port}', args: ['--x'] },
      argv: ['/opt/venv/bin/vllm', 'serve', 'meta-llama/Llama-3.1-8B-Instruct', '--port', '41000', '--x'],
    },
    {
      name: 'trtllm with a command',
      target: { runtime: 'trtllm', command: 'trtllm-serve {model} --port {port}' },
      argv: ['trtllm-serve', 'meta-llama/Llama-3.1-8B-Instruct', '--port', '41000'],
    },
    {
      name: 'braces that are not placeholders stay as they are (inline JavaScript)',
      target: { runtime: 'custom', command: `node -e "require('http').createServer((q, r) => { r.end('{}') }).listen({port})"` },
      argv: ['node', '-e', `require('http').createServer((q, r) => { r.end('{}') }).listen(41000)`],
    },
    {
      name: 'a placeholder value with spaces stays one argument',
      target: { runtime: 'custom', command: 'serve {model}', model: '/models/my model' },
      argv: ['serve', '/models/my model'],
    },
  ];
  it.each(cases)('$name', ({ target, argv }) => {
    expect(renderCommand({ ...base, ...target }, ctx)).toEqual(argv);
  });

  const errors: { name: string; target: Partial<DeploymentTarget>; message: RegExp }[] = [
    { name: 'trtllm without a command', target: { runtime: 'trtllm' }, message: /local provider needs 'command' for runtime 'trtllm'/ },
    { name: 'dynamo without a command', target: { runtime: 'dynamo' }, message: /needs 'command' for runtime 'dynamo'/ },
    { name: 'llamacpp without a command', target: { runtime: 'llamacpp' }, message: /needs 'command' for runtime 'llamacpp'/ },
    { name: 'custom without a command', target: { runtime: 'custom' }, message: /needs 'command' for runtime 'custom'/ },
    { name: 'unknown placeholder', target: { runtime: 'custom', command: 'serve --port {port} --gpu {gpuType}' }, message: /unknown placeholder \{gpuType\}/ },
    { name: 'placeholder without a value', target: { runtime: 'custom', command: 'serve --len {maxModelLen}' }, message: /placeholder \{maxModelLen\} has no value/ },
    { name: 'unterminated quote', target: { runtime: 'custom', command: 'serve "{model}' }, message: /unterminated " quote/ },
  ];
  it.each(errors)('error: $name', ({ target, message }) => {
    let err: unknown;
    try {
      renderCommand({ ...base, ...target }, ctx);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SwitchyardError);
    expect((err as SwitchyardError).code).toBe('invalid_config');
    expect((err as SwitchyardError).message).toMatch(message);
  });
});

describe('tokenize', () => {
  it.each([
    ['a b  c', ['a', 'b', 'c']],
    ['  lead and trail  ', ['lead', 'and', 'trail']],
    [`'single quoted' "double \\"quoted\\""`, ['single quoted', 'double "quoted"']],
    [`x'a b'y`, ['xa by']],
    ['escaped\\ space', ['escaped space']],
    [`""`, ['']],
    ['', []],
    ['a\tb\nc', ['a', 'b', 'c']],
  ])('%j', (line, argv) => {
    expect(tokenize(line)).toEqual(argv);
  });
});

describe('renderTemplate', () => {
  it('substitutes inside tokens', () => {
    expect(renderTemplate('--url=http://127.0.0.1:{port}/v1', { port: '9' })).toEqual(['--url=http://127.0.0.1:9/v1']);
  });
});
