import { isMessage, type Message } from "@bufbuild/protobuf";
import { contentHash } from "../resource/content-hash.ts";
import { type EncodedResource, encodedOf, lazyEncodedResource } from "../resource/encoded-resource.ts";
import { resourceType, resourceTypeByName } from "../resource/resource-types.ts";
import { typeNameOf } from "../resource/type-urls.ts";
import { XdsError, XdsErrorCode } from "../resource/xds-error.ts";
import type { TypeResources } from "../protocol/sotw-selection.ts";
import { validateMessage } from "../validate/validate-message.ts";
import { findDanglingReferences } from "./snapshot-consistency.ts";

/** A consistent set of resources for one node (or node group), by type. Immutable. */
export interface Snapshot {
  /** The caller's version, or a content hash over every resource. */
  readonly version: string;
  /** Type URLs present in the snapshot. */
  readonly typeUrls: readonly string[];
  /** The version_info sent for a type: the caller's version, or a content hash of that type's resources. */
  typeVersion(typeUrl: string): string;
  /** A hash of a type's content (names and resource versions), whatever version the caller gave. */
  typeContentHash(typeUrl: string): string;
  /** The resources of a type, by name (empty when the type is absent). */
  resources(typeUrl: string): ReadonlyMap<string, EncodedResource>;
  /** The resources of a type with their version, as the server consumes them. */
  typeResources(typeUrl: string): TypeResources;
}

/** Options of {@link createSnapshot}. */
export interface SnapshotOptions {
  /**
   * The version to send as version_info for every type. Without it, versions are
   * content hashes, so the same configuration always has the same version (on
   * restarts and across replicas) and unchanged types keep theirs.
   */
  readonly version?: string;
  /** Typed protobuf-es messages (type taken from $typeName) or pre-encoded resources. */
  readonly resources: ReadonlyArray<Message | EncodedResource>;
  /** Skip the EDS/RDS reference check (for partial snapshots served next to other caches). */
  readonly skipConsistencyCheck?: boolean;
  /**
   * Check every resource against the protoc-gen-validate rules of Envoy's
   * protos, which Envoy enforces by NACKing the whole response: a bad resource
   * then fails here, at set time, with the field path, instead of fleet-wide.
   */
  readonly validate?: boolean;
  /**
   * Encode every resource now instead of on first use, so that one that
   * cannot be encoded (a number beyond its field's range) throws here, as
   * XdsError "invalid_resource" naming each, rather than when a stream or a
   * watched setSnapshot first needs it. For callers that compute the
   * versions right away anyway, and want a bad resource refused at build time.
   */
  readonly encode?: boolean;
}

const emptyItems: ReadonlyMap<string, EncodedResource> = new Map();

/**
 * Builds a snapshot. Each resource is encoded once, on first use (a stream
 * served it, or a version was asked for), and shared by every snapshot built
 * from the same message object.
 * Throws XdsError "duplicate_resource" when two resources of one type share a
 * name (Envoy NACKs such a response), and "inconsistent_snapshot" naming every
 * dangling EDS or RDS reference (docs/xds-protocol.md § Consistency before sending).
 */
export function createSnapshot(options: SnapshotOptions): Snapshot {
  const byType = new Map<string, Map<string, EncodedResource>>();
  const duplicates: string[] = [];
  // Resources mostly come grouped by type: the type's map is looked up again
  // only when the type changes, not for each of 20,000 resources.
  let lastTypeUrl: string | undefined;
  let items: Map<string, EncodedResource> | undefined;
  for (const input of options.resources) {
    const encoded = isMessage(input) ? encodeMessage(input) : input;
    if (encoded.typeUrl !== lastTypeUrl || items === undefined) {
      lastTypeUrl = encoded.typeUrl;
      items = byType.get(lastTypeUrl);
      if (!items) byType.set(lastTypeUrl, (items = new Map()));
    }
    const size = items.size;
    items.set(encoded.name, encoded);
    // A name already present leaves the size as it was: one lookup, not two.
    if (items.size === size) duplicates.push(`${typeNameOf(encoded.typeUrl)} '${encoded.name}'`);
  }
  if (options.encode) {
    const failures: string[] = [];
    for (const items of byType.values()) {
      for (const r of items.values()) {
        try {
          r.any;
        } catch (error) {
          failures.push(error instanceof Error ? error.message : String(error));
        }
      }
    }
    if (failures.length > 0) throw new XdsError(XdsErrorCode.InvalidResource, `resources cannot be encoded: ${failures.join("; ")}`, { details: failures });
  }
  if (duplicates.length > 0) {
    throw new XdsError(XdsErrorCode.DuplicateResource, `duplicate resource names in snapshot: ${duplicates.join(", ")}`, { details: duplicates });
  }
  if (!options.skipConsistencyCheck) {
    const dangling = findDanglingReferences(byType);
    if (dangling.length > 0) {
      throw new XdsError(XdsErrorCode.InconsistentSnapshot, `inconsistent snapshot: ${dangling.join("; ")}`, { details: dangling });
    }
  }
  if (options.validate) {
    const invalid = findRuleViolations(byType);
    if (invalid.length > 0) {
      throw new XdsError(XdsErrorCode.InvalidResource, `resources break Envoy's validation rules: ${invalid.join("; ")}`, { details: invalid });
    }
  }
  const typeUrls = [...byType.keys()].sort();
  // Hashes and versions are computed on first use (issue 15): a snapshot set
  // while nobody watches its key is never encoded, and one that is served is
  // encoded once, when it is first needed. They are content hashes all the
  // same, so two replicas building the same content send the same versions.
  const typeHashes = new Map<string, string>();
  const typeContentHash = (t: string): string => {
    let hash = typeHashes.get(t);
    if (hash === undefined) {
      const parts = [...(byType.get(t) ?? emptyItems).values()].map((r) => `${r.name}\u0001${r.version}`).sort();
      typeHashes.set(t, (hash = contentHash(t, ...parts)));
    }
    return hash;
  };
  const typeVersion = (t: string): string => options.version ?? typeContentHash(t);
  let version = options.version;
  const typeResourcesCache = new Map<string, TypeResources>();
  const snapshot: Snapshot = {
    get version() {
      version ??= contentHash(...typeUrls.map((t) => `${t}=${typeVersion(t)}`));
      return version;
    },
    typeUrls,
    typeVersion,
    typeContentHash,
    resources: (t) => byType.get(t) ?? emptyItems,
    typeResources: (t) => {
      let tr = typeResourcesCache.get(t);
      // The version on first read, not here: it hashes every resource's
      // version, which encodes each of them, and the server's first request
      // of a type asks for this object before the resource warmer encodes
      // them in slices (a 10,000-resource type was one 150 ms stretch; issue 15 item 4).
      if (!tr) {
        const items = snapshot.resources(t);
        typeResourcesCache.set(
          t,
          (tr = {
            get version() {
              return typeVersion(t);
            },
            items,
          }),
        );
      }
      return tr;
    },
  };
  return snapshot;
}

/** Verdicts per message object: unchanged messages are not validated again. */
const violationsByMessage = new WeakMap<Message, string[]>();

function findRuleViolations(byType: ReadonlyMap<string, ReadonlyMap<string, EncodedResource>>): string[] {
  const problems: string[] = [];
  for (const [typeUrl, items] of byType) {
    const type = resourceType(typeUrl);
    if (!type) continue;
    for (const r of items.values()) {
      let found = violationsByMessage.get(r.message);
      if (!found) {
        found = validateMessage(type.schema, r.message).map((v) => `${type.shortName} resource '${r.name}': ${v.path}: ${v.message} [${v.rule}]`);
        violationsByMessage.set(r.message, found);
      }
      problems.push(...found);
    }
  }
  return problems;
}

/**
 * Encodes a message as {@link createSnapshot} does, sharing its encodings: a caller
 * with many new messages can encode them a few at a time between event-loop turns,
 * and the snapshot built from them afterwards finds each one already encoded.
 * Throws XdsError "invalid_resource" for a message that is not an xDS resource type.
 */
export function encodeSnapshotResource(message: Message): EncodedResource {
  const encoded = encodeMessage(message);
  encoded.bytes; // encodes now: the point of this function
  return encoded;
}

/**
 * The resource for a message: the one it was already encoded as, or a new
 * lazy one. Callers that keep unchanged messages across snapshots (an
 * incremental translator does) pay for encoding only what changed
 * (encoded-resource.ts keeps the encodings by message object). As in
 * go-control-plane, a message handed to a snapshot must not be mutated
 * afterwards.
 */
function encodeMessage(message: Message): EncodedResource {
  return encodedOf(message) ?? encodeNew(message);
}

function encodeNew(message: Message): EncodedResource {
  const type = resourceTypeByName(message.$typeName);
  if (!type) {
    throw new XdsError(XdsErrorCode.InvalidResource, `${message.$typeName} is not an xDS resource type this library serves`);
  }
  return lazyEncodedResource(type, message);
}
