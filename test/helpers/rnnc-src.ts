// Runs the rnnc CLI straight from the TypeScript sources (through tsx), as bin/rnnc.js runs dist/.
import { main } from "../../src/cli/main.js";

process.exitCode = await main(process.argv);
