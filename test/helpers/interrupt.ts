// Starts `rnnc ARGS` from the sources and sends it Ctrl-C (SIGINT) as soon as its output matches
// `when`: for the tests that interrupt training and resume it.
import { spawn } from "node:child_process";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");
const entry = join(root, "test", "helpers", "rnnc-src.ts");

export async function interruptWhen(args: string[], when: RegExp): Promise<{ code: number; stdout: string; sent: boolean }> {
  const child = spawn(process.execPath, ["--import", "tsx", entry, ...args], { cwd: root });
  let stdout = "";
  let sent = false;
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
    if (!sent && when.test(stdout)) {
      sent = true;
      child.kill("SIGINT");
    }
  });
  const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? -1)));
  return { code, stdout, sent };
}
