import type { Message } from "@bufbuild/protobuf";

/** One generated Envoy resource and the object that answers for it. */
export interface BuiltResource {
  readonly typeUrl: string;
  readonly name: string;
  readonly message: Message;
  /** objectKey blamed for a problem found in this resource, by field path (see ownerOf). */
  readonly owner: (violationPath: string) => string;
  /**
   * objectKeys that produced this resource, sorted: the objects an Envoy NACK
   * naming this resource points at (status/nack-objects.ts).
   */
  readonly objects: readonly string[];
}
