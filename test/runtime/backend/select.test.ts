import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  AUTO_ORDER,
  BackendUnavailableError,
  defaultWasmDir,
  describeBackendSelection,
  selectBackend,
  type ModuleImporter,
} from "../../../src/runtime/backend/select.js";

const realImport: ModuleImporter = (s) => import(s);

function notFound(pkg: string): Error {
  // The shape Node's ESM loader throws for a missing package.
  return Object.assign(new Error(`Cannot find package '${pkg}' imported from /x/select.ts`), { code: "ERR_MODULE_NOT_FOUND" });
}

/** An importer where the native packages are "not installed" and everything else is real. */
function importer(overrides: Record<string, () => unknown | Promise<unknown>> = {}): ModuleImporter {
  return async (specifier) => {
    const fake = overrides[specifier];
    if (fake) return await fake();
    if (specifier.startsWith("@tensorflow/tfjs-node")) throw notFound(specifier);
    return realImport(specifier);
  };
}

/** What a native package does on import: register the 'tensorflow' backend in the shared engine. */
function registerFakeTensorflow(factory: () => tf.KernelBackend | Promise<tf.KernelBackend>, withKernels: boolean) {
  tf.registerBackend("tensorflow", factory, 3);
  if (withKernels) {
    for (const k of tf.getKernelsForBackend("cpu")) tf.registerKernel({ ...k, backendName: "tensorflow" });
  }
  return { engine: tf.engine }; // shares rnnc's engine, as a deduped install would
}

afterEach(async () => {
  if (tf.engine().registryFactory["tensorflow"] !== undefined) {
    for (const k of tf.getKernelsForBackend("tensorflow")) tf.unregisterKernel(k.kernelName, "tensorflow");
    tf.removeBackend("tensorflow");
  }
  await tf.setBackend("cpu");
});

describe("selectBackend: real backends", () => {
  beforeAll(() => {
    tf.env().set("IS_TEST", true); // silence tfjs's one-time "use tfjs-node" banner
  });

  it("cpu is always available", async () => {
    const sel = await selectBackend("cpu");
    expect(sel).toMatchObject({ name: "cpu", tfBackend: "cpu" });
    expect(sel.fellBackFrom).toBeUndefined();
    expect(sel.tf).toBe(tf);
    expect(Array.from(tf.tidy(() => tf.matMul(tf.eye(2), tf.ones([2, 2])).dataSync()))).toEqual([1, 1, 1, 1]);
  });

  it("wasm initialises offline from the package's own .wasm files", async () => {
    expect(defaultWasmDir()).toMatch(/tfjs-backend-wasm[\\/]dist[\\/]$/);
    const sel = await selectBackend("wasm");
    expect(sel).toMatchObject({ name: "wasm", tfBackend: "wasm" });
    expect(tf.getBackend()).toBe("wasm");
    const y = tf.tidy(() => tf.relu(tf.add(tf.tensor1d([-3, 1, 2]), 1)).dataSync());
    expect(Array.from(y)).toEqual([0, 2, 3]);
    // Selecting it again (already initialised) is fine.
    await selectBackend("cpu");
    expect((await selectBackend("wasm")).tfBackend).toBe("wasm");
  });

  it("auto with the real importer falls back past the absent native packages to wasm", async () => {
    const require = createRequire(import.meta.url);
    const installed = (pkg: string) => {
      try {
        require.resolve(pkg);
        return true;
      } catch {
        return false;
      }
    };
    if (installed("@tensorflow/tfjs-node-gpu") || installed("@tensorflow/tfjs-node")) return; // not this machine
    const sel = await selectBackend("auto");
    expect(sel.name).toBe("wasm");
    expect(sel.fellBackFrom?.map((a) => a.name)).toEqual(["node-gpu", "node"]);
    expect(sel.fellBackFrom?.[0].reason).toMatch(/@tensorflow\/tfjs-node-gpu is not installed .*npm install @tensorflow\/tfjs-node-gpu@4\.22\.0/);
    expect(sel.fellBackFrom?.[1].reason).toMatch(/@tensorflow\/tfjs-node is not installed/);
    expect(describeBackendSelection(sel)).toMatch(/^backend wasm \(tfjs 4\.22\.0, engine backend 'wasm'\); skipped node-gpu: .*; node: /);
  });

  it("auto order is node-gpu, node, wasm, cpu", () => {
    expect(AUTO_ORDER).toEqual(["node-gpu", "node", "wasm", "cpu"]);
  });
});

describe("selectBackend: fallback chain with fake native modules", () => {
  it("reports a native module that throws at load (broken CUDA) and one whose backend fails to initialise", async () => {
    const sel = await selectBackend("auto", {
      importer: importer({
        "@tensorflow/tfjs-node-gpu": () => {
          throw new Error("libcudart.so.11.0: cannot open shared object file: No such file or directory");
        },
        "@tensorflow/tfjs-node": () =>
          registerFakeTensorflow(() => {
            throw new Error("TF_NewSession failed: no kernel image");
          }, false),
      }),
    });
    expect(sel.name).toBe("wasm");
    expect(sel.fellBackFrom).toEqual([
      {
        name: "node-gpu",
        reason: "@tensorflow/tfjs-node-gpu is installed but failed to load: libcudart.so.11.0: cannot open shared object file: No such file or directory",
      },
      {
        name: "node",
        reason: "@tensorflow/tfjs-node loaded, but backend 'tensorflow' failed to initialise: TF_NewSession failed: no kernel image",
      },
    ]);
  });

  it("captures an asynchronous initialisation failure", async () => {
    const sel = await selectBackend("auto", {
      importer: importer({
        "@tensorflow/tfjs-node-gpu": () => registerFakeTensorflow(() => Promise.reject(new Error("CUDA_ERROR_NO_DEVICE")), false),
      }),
    });
    expect(sel.name).toBe("wasm");
    expect(sel.fellBackFrom?.[0].reason).toMatch(/failed to initialise: CUDA_ERROR_NO_DEVICE/);
  });

  it("rejects a backend that initialises but cannot run an op", async () => {
    const sel = await selectBackend("auto", {
      importer: importer({ "@tensorflow/tfjs-node-gpu": () => registerFakeTensorflow(() => new tf.MathBackendCPU(), false) }),
    });
    expect(sel.name).toBe("wasm");
    expect(sel.fellBackFrom?.[0].reason).toMatch(/initialised but a test op failed: .*not registered for backend 'tensorflow'/);
  });

  it("rejects a native module built against another copy of tfjs-core", async () => {
    const sel = await selectBackend("auto", {
      importer: importer({ "@tensorflow/tfjs-node-gpu": () => ({ engine: () => ({ someOtherEngine: true }) }) }),
    });
    expect(sel.fellBackFrom?.[0].reason).toMatch(/different copy of @tensorflow\/tfjs-core/);
  });

  it("uses a working native module, and notes when tfjs-node-gpu has no GPU device", async () => {
    const sel = await selectBackend("auto", {
      importer: importer({
        "@tensorflow/tfjs-node-gpu": () =>
          registerFakeTensorflow(() => Object.assign(new tf.MathBackendCPU(), { isUsingGpuDevice: false }), true),
      }),
    });
    expect(sel).toMatchObject({ name: "node-gpu", tfBackend: "tensorflow" });
    expect(sel.fellBackFrom).toBeUndefined();
    expect(sel.notes).toEqual(["tfjs-node-gpu found no usable GPU device; TensorFlow runs on the CPU"]);
    expect(tf.getBackend()).toBe("tensorflow");
    expect(Array.from(tf.tidy(() => tf.mul(tf.tensor1d([2, 3]), 2).dataSync()))).toEqual([4, 6]);
    expect(describeBackendSelection(sel)).toMatch(/^backend node-gpu .*note: tfjs-node-gpu found no usable GPU device/);
  });

  it("falls back to cpu when wasm cannot be loaded either", async () => {
    const sel = await selectBackend("auto", {
      importer: importer({
        "@tensorflow/tfjs-backend-wasm": () => {
          throw notFound("@tensorflow/tfjs-backend-wasm");
        },
      }),
    });
    expect(sel.name).toBe("cpu");
    expect(sel.fellBackFrom?.map((a) => a.name)).toEqual(["node-gpu", "node", "wasm"]);
  });
});

describe("selectBackend: explicit choices never fall back", () => {
  it("throws BackendUnavailableError for an absent node-gpu and leaves the previous backend active", async () => {
    await selectBackend("cpu");
    const err = await selectBackend("node-gpu", { importer: importer() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(err).toBeInstanceOf(Error);
    const e = err as BackendUnavailableError;
    expect(e.name).toBe("BackendUnavailableError");
    expect(e.choice).toBe("node-gpu");
    expect(e.attempts).toEqual([
      {
        name: "node-gpu",
        reason: "@tensorflow/tfjs-node-gpu is not installed (optional peer dependency: npm install @tensorflow/tfjs-node-gpu@4.22.0)",
      },
    ]);
    expect(e.message).toBe(
      "The tfjs backend 'node-gpu' is not available.\nTried:\n" +
        "  - node-gpu: @tensorflow/tfjs-node-gpu is not installed (optional peer dependency: npm install @tensorflow/tfjs-node-gpu@4.22.0)\n" +
        "Use --backend auto to fall back to the best available backend.",
    );
    expect(tf.getBackend()).toBe("cpu");
  });

  it("restores the previous backend after a native backend failed mid-initialisation", async () => {
    await selectBackend("cpu");
    const err = await selectBackend("node", {
      importer: importer({
        "@tensorflow/tfjs-node": () =>
          registerFakeTensorflow(() => {
            throw new Error("boom");
          }, false),
      }),
    }).catch((e: unknown) => e);
    expect((err as BackendUnavailableError).attempts[0].reason).toMatch(/failed to initialise: boom/);
    expect(tf.getBackend()).toBe("cpu");
    expect(Array.from(tf.tidy(() => tf.add(tf.scalar(1), 1).dataSync()))).toEqual([2]);
  });

  it("an explicit wasm whose package fails to import is an error, not a cpu fallback", async () => {
    const err = await selectBackend("wasm", {
      importer: importer({
        "@tensorflow/tfjs-backend-wasm": () => {
          throw new SyntaxError("Unexpected token in tf-backend-wasm.node.js");
        },
      }),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toMatch(/- wasm: @tensorflow\/tfjs-backend-wasm is installed but failed to load: Unexpected token/);
  });

  it("rejects unknown names and describes an exhausted auto chain", async () => {
    await expect(selectBackend("webgl" as "cpu")).rejects.toThrow(RangeError);
    const e = new BackendUnavailableError("auto", [
      { name: "wasm", reason: "x" },
      { name: "cpu", reason: "y" },
    ]);
    expect(e.message).toBe("No tfjs backend could be initialised.\nTried:\n  - wasm: x\n  - cpu: y");
  });
});
