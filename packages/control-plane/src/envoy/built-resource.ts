import type { Message } from "@bufbuild/protobuf";

/** One generated Envoy resource and the object that answers for it. */
export interface BuiltResource {
  readonly typeUrl: string;
  readonly name: string;
  readonly message: Message;
  /** objectKey blamed for a problem found in this resource, by field path (see ownerOf). */
  readonly owner: (violationPath: string) => string;
}
