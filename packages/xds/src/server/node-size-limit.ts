import { XdsError, XdsErrorCode } from "../resource/xds-error.ts";

/**
 * 256 KiB. Envoy 1.40's own node is about 60 KB, nearly all of it the list of
 * its extensions (measured: e2e/xds-core/node-size.test.ts), so 64 KiB would
 * leave no room for metadata; 256 KiB leaves plenty and is still a sixteenth
 * of what a client could put in a 4 MiB request.
 */
export const defaultMaxNodeBytes = 256 * 1024;

/** Throws XdsError "invalid_argument" unless `maxNodeBytes` is absent or an integer >= 1024. */
export function checkMaxNodeBytesOption(maxNodeBytes: number | undefined): void {
  if (maxNodeBytes !== undefined && !(Number.isInteger(maxNodeBytes) && maxNodeBytes >= 1024)) {
    throw new XdsError(XdsErrorCode.InvalidArgument, `maxNodeBytes must be an integer >= 1024, not ${maxNodeBytes}`);
  }
}

/**
 * The one rule for every transport (gRPC streams, REST fetch; issue 14): a request
 * whose `node` takes more than maxNodeBytes encoded is refused, with this message
 * naming both sizes; undefined when the node is within the limit (or absent).
 */
export function nodeSizeRefusal(options: { nodeBytes: number | undefined; maxNodeBytes: number | undefined; messageName: string }): string | undefined {
  const max = options.maxNodeBytes ?? defaultMaxNodeBytes;
  if (options.nodeBytes === undefined || options.nodeBytes <= max) return undefined;
  return `the node in this ${options.messageName} is ${options.nodeBytes} bytes encoded, over the server's limit of ${max} (maxNodeBytes): send less node metadata, or raise the limit`;
}
