// The tensor backend, chosen once per process: @tensorflow/tfjs-node when it is installed and
// loads (native TensorFlow), else @tensorflow/tfjs with the WebAssembly backend (~35x the pure
// JS backend here). The choice is part of a model version's identity: the same snapshot, seed
// and parameters give the same bytes only on the same backend.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type Tf = typeof import('@tensorflow/tfjs');

export interface TensorBackend {
  tf: Tf;
  /** 'tensorflow' (tfjs-node) or 'wasm' — recorded with every model version. */
  name: string;
  /** e.g. 'tfjs-node@4.22.0' or 'tfjs-backend-wasm@4.22.0 (simd, 1 thread)'. */
  description: string;
  /** Why tfjs-node was not used, when it was not. */
  fallbackReason: string | null;
}

let chosen: Promise<TensorBackend> | undefined;
const require = createRequire(import.meta.url);

async function choose(preferNative: boolean): Promise<TensorBackend> {
  let fallbackReason: string | null = preferNative ? null : 'SHOPML_TENSOR_BACKEND=wasm';
  if (preferNative) {
    try {
      const tfn = require('@tensorflow/tfjs-node') as Tf & { version: { 'tfjs-node'?: string } };
      await tfn.ready();
      return { tf: tfn, name: tfn.getBackend(), description: `tfjs-node@${tfn.version['tfjs-node'] ?? '?'}`, fallbackReason: null };
    } catch (err) {
      fallbackReason = `@tensorflow/tfjs-node unavailable (${(err as Error).message.split('\n')[0]})`;
    }
  }
  const tf = (await import('@tensorflow/tfjs')) as unknown as Tf;
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // In Node the .wasm binaries are read from the package folder.
  wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/'));
  if (!(await tf.setBackend('wasm'))) throw new Error('the TensorFlow.js wasm backend failed to initialize');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return { tf, name: 'wasm', description: `tfjs-backend-wasm@${wasm.version_wasm}${simd ? ' (simd)' : ''}`, fallbackReason };
}

/** `SHOPML_TENSOR_BACKEND=wasm` forces the wasm backend even where tfjs-node is installed. */
export function tensorBackend(): Promise<TensorBackend> {
  chosen ??= choose(process.env.SHOPML_TENSOR_BACKEND !== 'wasm');
  return chosen;
}
