// The self-contained-docs rule on small temporary trees: a clean tree passes,
// and each kind of reference that leaves the repository is reported with its
// file, line and a fix; code outside comments is left alone.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test, type TestContext } from "node:test";
import { checkRepoPaths, commentText, headingsOf, slugOf, type PathReport } from "./repo-paths.ts";

const cleanTree: Record<string, string> = {
  "README.md": "# Project\n\nThe rules are in [docs/xds-protocol.md](docs/xds-protocol.md); see [the guide](docs/guide.md#guide).\n",
  "docs/xds-protocol.md": "# Rules\n\n## Stream state\n\n### ACK and NACK\n\n## Cost\n\n```sh\n# not a heading\n```\n",
  "docs/guide.md": "# Guide\n\nBack to the [rules](xds-protocol.md#ack-and-nack), [top](#guide), the [README](../README.md) and https://example.com/x/../../y.md.\nWrite scratch files to /tmp/envoy.yaml.\n",
  "packages/xds/src/cache/snapshot.ts": [
    "// Encoded once (docs/xds-protocol.md § Cost: per node).",
    "/**",
    " * A NACK is data (docs/xds-protocol.md § Stream",
    " * state): it echoes the accepted version.",
    " */",
    'const here = new URL("../../..", import.meta.url); // the package root',
    'const scratch = "/home/user/x.md"; const rel = "../../../../outside.md";',
    "export { here, scratch, rel };",
  ].join("\n"),
  "examples/scenario.yaml": "# Scenario 2 (docs/xds-protocol.md § ACK and NACK).\nkind: Service # see README.md\n",
  "scripts/run.sh": "#!/usr/bin/env bash\ncd \"$(dirname \"$0\")/..\" # the root\n",
};

function check(t: TestContext, extra: Record<string, string> = {}, untracked: readonly string[] = []): PathReport {
  const root = mkdtempSync(join(tmpdir(), "repo-paths-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const files = { ...cleanTree, ...extra };
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return checkRepoPaths(root, Object.keys(files).filter((f) => !untracked.includes(f)));
}

function problemsOf(r: PathReport): string[] {
  return r.problems.map((p) => `${p.file}:${p.line}: ${p.message}`);
}

test("a clean tree passes, and the report says what it read", (t) => {
  const r = check(t);
  assert.deepEqual(problemsOf(r), []);
  assert.equal(r.files, 6);
  assert.equal(r.markdownFiles, 3);
  assert.equal(r.sections, 3, "Cost, the wrapped Stream state, ACK and NACK");
  assert.ok(r.citations >= 7, `citations: ${r.citations}`);
});

test("a link climbing out of the root is reported with the file, line and a fix", (t) => {
  const r = check(t, { "README.md": "# P\n\nRules: [xds](../shared/design/xds-protocol.md).\n" });
  assert.deepEqual(problemsOf(r), [
    "README.md:3: ../shared/design/xds-protocol.md points outside the repository",
  ], "one problem per reference");
  assert.match(r.problems[0]?.fix ?? "", /docs\//);
});

test("a relative path is resolved from the citing file: inside the repository it is fine, beyond the root it is not", (t) => {
  const inside = check(t, { "docs/deep/page.md": "# Page\n\nSee [the guide](../guide.md) and ../../README.md.\n" });
  assert.deepEqual(problemsOf(inside), []);
  const outside = check(t, { "docs/deep/page.md": "# Page\n\nSee ../../../notes/plan.txt.\n" });
  assert.deepEqual(problemsOf(outside), ["docs/deep/page.md:3: ../../../notes/plan.txt points outside the repository"]);
});

test("absolute paths of a machine in Markdown and in comments are reported; in code and under /tmp they are not", (t) => {
  const r = check(t, {
    "examples/demo.ts": "// The resources of scenario 1 (docs: /work/shared/design/scenarios.md).\nconst home = \"/home/me\";\nexport { home };\n",
    "docs/setup.md": "# Setup\n\nRun `cd /root/project` then write /tmp/out.yaml.\n",
  });
  assert.deepEqual(problemsOf(r), [
    "examples/demo.ts:1: absolute path of a machine: /work/shared/design/scenarios.md",
    "docs/setup.md:3: absolute path of a machine: /root/project",
  ]);
});

test("a cited design file that is not tracked is reported, wherever it is cited from", (t) => {
  const r = check(t, {
    "e2e/restart.test.ts": "// Scenario 6 (scenarios.md): the control plane restarts.\n",
    "examples/s2.yaml": "# Scenario 2 (shared/design/scenarios.md): live switch.\nkind: Service\n",
    "packages/xds/src/cache/notes.md": "# Notes\n",
  }, ["packages/xds/src/cache/notes.md"]);
  assert.deepEqual(problemsOf(r), [
    "e2e/restart.test.ts:1: cites scenarios.md, which is not a file of this repository",
    "examples/s2.yaml:1: cites shared/design/scenarios.md, which is not a file of this repository",
  ]);
  const untracked = check(t, { "packages/xds/src/cache/a.ts": "// see notes.md\n", "packages/xds/src/cache/notes.md": "# N\n" }, ["packages/xds/src/cache/notes.md"]);
  assert.deepEqual(problemsOf(untracked), ["packages/xds/src/cache/a.ts:1: cites notes.md, which is not a file of this repository"], "on disk but not tracked");
});

test("a § citation must name a heading of the cited file; the fix lists them", (t) => {
  const r = check(t, { "packages/xds/src/server/stream.ts": "// Stale (docs/xds-protocol.md § nonces).\nexport const x = 1; // docs/xds-protocol.md § cost: fine\n" });
  assert.deepEqual(problemsOf(r), ["packages/xds/src/server/stream.ts:1: cites docs/xds-protocol.md § nonces)., which is no heading of docs/xds-protocol.md"]);
  assert.equal(r.problems[0]?.fix, 'name one of its headings: "Rules", "Stream state", "ACK and NACK", "Cost"');
});

test("a heading must match whole words: a longer word is no match", (t) => {
  const r = check(t, { "bench/b.ts": "// docs/xds-protocol.md § Costs of encoding\n" });
  assert.equal(r.problems.length, 1);
});

test("comment text: whole comment lines, trailing comments, never URLs or strings", () => {
  assert.equal(commentText("  // why", "ts"), "// why");
  assert.equal(commentText(" * continued", "ts"), "* continued");
  assert.equal(commentText("const a = 1; // because", "ts"), "because");
  assert.equal(commentText('const u = "https://x.test/a"; ', "ts"), undefined);
  assert.equal(commentText('const u = "//not a comment";', "ts"), undefined);
  assert.equal(commentText("# a comment", "yaml"), "# a comment");
  assert.equal(commentText("kind: Service # trailing", "yaml"), "trailing");
  assert.equal(commentText('echo "#not"', "sh"), undefined);
});

test("headings outside fenced code blocks", () => {
  assert.deepEqual(headingsOf("# A\n```sh\n# not\n```\n## B ##\ntext # not\n"), ["A", "B"]);
});

test("a link to a heading that does not exist is reported, in another page or the same one", (t) => {
  const r = check(t, { "docs/page.md": "# Page\n\nSee [cost](xds-protocol.md#costs) and [below](#missing), [fine](#page).\n" });
  assert.deepEqual(problemsOf(r), [
    "docs/page.md:3: links docs/page.md#missing, which is no heading of docs/page.md",
    "docs/page.md:3: links docs/xds-protocol.md#costs, which is no heading of docs/xds-protocol.md",
  ]);
  assert.match(r.problems[1]?.fix ?? "", /#cost\b/);
});

test("anchors are GitHub's: lower case, punctuation dropped, spaces to hyphens", () => {
  assert.equal(slugOf("Envoy 1.40, measured"), "envoy-140-measured");
  assert.equal(slugOf('An ACK is not "live"'), "an-ack-is-not-live");
  assert.equal(slugOf("1. The embedded library, the go-control-plane way"), "1-the-embedded-library-the-go-control-plane-way");
  assert.equal(slugOf("Envoy's REST client sends no nonce and no error_detail"), "envoys-rest-client-sends-no-nonce-and-no-error_detail");
});
