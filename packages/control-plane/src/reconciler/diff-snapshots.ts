import { type Snapshot, TypeUrl } from "@ts-control-plane/xds";

export interface ResourceDiff {
  readonly typeUrl: string;
  readonly name: string;
  readonly action: "added" | "changed" | "removed";
}

export interface GroupDiff {
  readonly group: string;
  readonly resources: readonly ResourceDiff[];
}

const typeUrls: readonly string[] = Object.values(TypeUrl);

/** Which Envoy resources differ between two sets of per-group snapshots, by content version. */
export function diffSnapshots(before: ReadonlyMap<string, Snapshot>, after: ReadonlyMap<string, Snapshot>): GroupDiff[] {
  const groups = [...new Set([...before.keys(), ...after.keys()])].sort();
  const out: GroupDiff[] = [];
  for (const group of groups) {
    const resources: ResourceDiff[] = [];
    const a = before.get(group);
    const b = after.get(group);
    for (const typeUrl of typeUrls) {
      const old = a?.resources(typeUrl) ?? new Map();
      const neu = b?.resources(typeUrl) ?? new Map();
      for (const name of [...new Set([...old.keys(), ...neu.keys()])].sort()) {
        const x = old.get(name);
        const y = neu.get(name);
        if (x === undefined && y !== undefined) resources.push({ typeUrl, name, action: "added" });
        else if (x !== undefined && y === undefined) resources.push({ typeUrl, name, action: "removed" });
        else if (x !== undefined && y !== undefined && x.version !== y.version) resources.push({ typeUrl, name, action: "changed" });
      }
    }
    if (resources.length > 0) out.push({ group, resources });
  }
  return out;
}
