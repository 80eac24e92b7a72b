/** Per-command usage for `tcp <command> --help`: what it does, its flags and examples. */
export const commandHelp: Readonly<Record<string, string>> = {
  serve: `usage: tcp serve [--xds-host 127.0.0.1] [--xds-port 18000] [--admin-host 127.0.0.1] [--admin-port 9000]
                 [--data-dir ./.data] [--config FILE|DIR]... [--debounce-ms 50] [--no-example]
                 [--allow-empty-store] [--store-key-file FILE]
                 [--store postgres://USER@HOST:PORT/DB [--replica-id ID] [--replica-lease-ms 15000] [--replica-renew-ms 5000]]
                 [--xds-max-node-bytes N] [--xds-max-disconnected N] [--xds-forget-disconnected-ms N]
                 [--csds-max-nodes N] [--csds-max-response-bytes N]
                 [--xds-max-streams N] [--xds-max-initial-syncs N] [--xds-initial-sync-timeout-ms N]
                 [--xds-max-buffered-bytes N] [--xds-stuck-stream-timeout-ms N] [--xds-transport http2|grpc-js]
                 [--log-level info] [--log-format json|text] [--metrics-sink-port N]

Runs the control plane: store, xDS server and admin API (see docs/cli/serve.md).

examples:
  tcp serve --config conf/
  CONTROL_PLANE_XDS_PORT=18001 tcp serve --no-example`,
  apply: `usage: tcp apply -f FILE|DIR|- [-f ...] [--dry-run] [--wait [--timeout 30s]]
                 [--canary 10%|--canary-group NAME [--bake 60s] [--ack-timeout 30s] [--manual-promote]
                  [--max-5xx-increase 5%] [--max-connect-fail-increase 5%] [--min-requests 20]]

Creates or updates every object in the files as one revision. --wait returns
once every affected Envoy acknowledged it: exit 4 when one NACKed it, 5 when
one did not answer in time (each named, with Envoy's message). Changing an
object that a file watched by \`tcp serve --config\` defines warns: the file
takes it back when it changes again (edit that file instead).

examples:
  tcp apply -f conf/
  tcp apply -f conf/ --wait --timeout 1m
  tcp apply -f service.yaml --dry-run
  cat service.yaml | tcp apply -f -
  tcp apply -f service.yaml --canary 10% --bake 60s
  tcp apply -f service.yaml --canary 10%,50% --bake 2m

With --canary or --canary-group the change is stored as a new revision but
rolled out in stages (docs/rollouts.md): the canary proxies get it first and
every other proxy keeps the previous revision; a NACK, or no ACK within
--ack-timeout (30s), puts the canary back and stores a rollback revision;
otherwise every proxy gets it after --bake (60s), or on \`tcp rollout promote\`
with --manual-promote. --canary 10%,50% runs stages: 10%, then 50% (holding
the 10%), then all, each judged and baked alike. With serve --metrics-sink-port
the bake also fails when the canary's 5xx share exceeds the others' by more
than --max-5xx-increase (5%), or its share of failed upstream connection
attempts by more than --max-connect-fail-increase (5%); each share is judged
once the canary made --min-requests (20) requests, or connection attempts.`,
  get: `usage: tcp get [KIND [NAME...] | KIND/NAME...] [-o table|wide|name|yaml|json]

Lists objects, or shows some. KIND is case-insensitive, singular, plural or short
(svc, rt, lis, ng, al, trace, raw).

examples:
  tcp get
  tcp get services
  tcp get svc backend -o yaml
  tcp get Service/backend Route/main -o json
  tcp get -o name`,
  delete: `usage: tcp delete KIND NAME... | KIND/NAME... | -f FILE|DIR|- [--expected-revision N] [--dry-run] [--wait [--timeout 30s]]

Deletes the objects, all in one revision; refused as a whole (exit 1) when
another object still references one of them.

examples:
  tcp delete Service/backend
  tcp delete svc backend --expected-revision 7
  tcp delete -f conf/old-services.yaml --dry-run`,
  validate: `usage: tcp validate -f FILE|DIR|-

Checks files offline (no server needed); exit 1 on errors.

examples:
  tcp validate -f conf/`,
  diff: `usage: tcp diff -f FILE|DIR|- [-o json]

What applying the files would change: each object's changed fields, then the
Envoy resources per node group. Exit 0 when nothing would change, 1 when
something would (as kubectl diff), 2 or more on error.

examples:
  tcp diff -f conf/ && echo "nothing to apply"`,
  bootstrap: `usage: tcp bootstrap --node ID [--cluster C] [--admin-port 9901] [--delta]
                     [--xds-address HOST:PORT ...] [--xds-retry-base D] [--xds-retry-max D] [--xds-connect-timeout D]

Prints an Envoy bootstrap for this control plane. Repeat --xds-address for each
control-plane replica (or give one DNS name that resolves to all of them):
Envoy reconnects to another replica when the one it uses goes away. With
several addresses the reconnect backoff is 100ms up to 5s and the connect
timeout 500ms unless given; with one, Envoy's defaults (500ms up to 30s) and 1s.

examples:
  tcp bootstrap --node edge-1 > envoy.yaml && envoy -c envoy.yaml
  tcp bootstrap --node edge-1 --delta --xds-address cp-0.cp:18000 --xds-address cp-1.cp:18000`,
  "proxy-config": `usage: tcp proxy-config NODE [clusters|listeners|routes|endpoints|secrets|all] [-o table|yaml|json]

What the control plane sent one Envoy (by node id): each resource's name, type, version and
ACKED / NACKED / SENT (not acknowledged yet); -o yaml|json add each resource as Envoy's JSON,
with private keys and other inline secrets shown as <redacted sha256:...>.

examples:
  tcp proxy-config edge-1
  tcp proxy-config edge-1 listeners
  tcp proxy-config edge-1 clusters -o yaml`,
  status: `usage: tcp status [-o table|json|yaml] [--check] [--watch [--interval 2s]]

What every Envoy acknowledged or rejected. --check exits 1 while any connected
Envoy is NACKED or STALE (disconnected ones are listed, not counted), 0 when all
are SYNCED. --watch prints again whenever the report changes, until Ctrl-C.

examples:
  tcp status
  tcp status --check || echo "not every Envoy runs the current configuration"
  tcp status --watch --interval 1s`,
  history: `usage: tcp history [KIND/NAME...] [--limit N] [-o json]
       tcp history N [-o json]
       tcp history purge --before N | --keep N

Accepted changes, newest first (of the last --limit, 50 by default), only those
that changed the objects named; the ROLLOUT column says how a revision rolled
out with --canary went (running, promoted, rolled back and why). Or every
object as it was at revision N (private keys shown as <redacted sha256:...>). purge deletes older revisions
for good (a rotated key) and compacts the store file; needs role write.

examples:
  tcp history --limit 5
  tcp history Service/backend
  tcp history 3 > at-3.yaml
  tcp history purge --keep 10`,
  rollback: `usage: tcp rollback --to N [--dry-run] [--wait [--timeout 30s]]

Makes the configuration equal to revision N again, as a new revision.

examples:
  tcp rollback --to 3 --dry-run`,
  rollout: `usage: tcp rollout [status|list|promote|abort] [-o json]

status (the default) shows the running rollout, or the latest one, and which
revision each connected proxy is served, and the stage of a staged rollout.
promote gives the change to every proxy now, or to the next stage's proxies
(--canary 10%,50%); abort puts every stage's proxies back on the previous
revision and stores a rollback revision. list shows past rollouts, newest first (docs/rollouts.md).

examples:
  tcp apply -f service.yaml --canary-group canary --bake 5m --manual-promote
  tcp rollout status
  tcp rollout promote`,
  backup: `usage: tcp backup FILE [--data-dir ./.data]

Writes a consistent copy of the store (every revision) to FILE, also while the
control plane runs, and checks the copy (see docs/cli/backup.md).

examples:
  tcp backup /backups/cp-$(date +%F).db --data-dir /var/lib/tcp`,
  restore: `usage: tcp restore FILE [--data-dir ./.data]

Replaces the store of a stopped control plane with a backup, after checking it;
the previous store is kept beside it (see docs/cli/restore.md).

examples:
  tcp restore /backups/cp-2026-12-01.db --data-dir /var/lib/tcp`,
  token: `usage: tcp token create --name NAME --role read|write|admin [-o json]
       tcp token list [-o json]
       tcp token revoke NAME

Manages the admin API's bearer tokens (needs a control plane started with
--admin-auth token, and a token with role admin). read: get, status, diff,
validate, history, bootstrap, proxy-config; write: also apply, delete,
rollback, history purge; admin: also tokens. create prints the value once, on stdout; only its
hash is kept. The CLI sends --token, else TCP_TOKEN, else
<data-dir>/admin-token.

examples:
  TCP_TOKEN=$(tcp token create --name ci --role write)
  tcp token list
  tcp token revoke ci`,
  version: `usage: tcp version [-o json]

The CLI's version and, when the control plane answers, the server's version and
store revision.`,
  completion: `usage: tcp completion bash|zsh

Prints a shell completion script (commands, kinds, flags).

examples:
  source <(tcp completion bash)
  tcp completion zsh > "\${fpath[1]}/_tcp"`,
};

export const commands: readonly string[] = Object.keys(commandHelp);
