import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * A full garbage collection, without asking the caller to start node with --expose-gc:
 * the flag set at run time exposes `gc` to contexts created afterwards. Timed runs call
 * it first, so one run's garbage is not collected on the next run's clock.
 */
export const forceGc: () => void = (() => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as (() => void) | undefined;
  return gc ?? (() => {});
})();
