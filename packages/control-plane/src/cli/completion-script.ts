import { UsageError } from "../main.ts";
import { commands } from "./command-help.ts";
import { kindWords } from "./kind-names.ts";

/** Flags per command, for completion (the global --server and --help go everywhere). */
const commandFlags: Readonly<Record<string, readonly string[]>> = {
  serve: ["--xds-host", "--xds-port", "--admin-host", "--admin-port", "--data-dir", "--config", "--debounce-ms", "--no-example", "--allow-empty-store", "--admin-auth", "--admin-allowed-host", "--allow-raw-filename", "--xds-tls-cert", "--xds-tls-key", "--xds-client-ca", "--csds-identity", "--store-key-file", "--store", "--replica-id", "--replica-lease-ms", "--replica-renew-ms", "--xds-max-node-bytes", "--xds-max-disconnected", "--xds-forget-disconnected-ms", "--csds-max-nodes", "--csds-max-response-bytes", "--xds-max-streams", "--xds-max-initial-syncs", "--xds-initial-sync-timeout-ms", "--xds-max-buffered-bytes", "--xds-stuck-stream-timeout-ms", "--xds-transport", "--metrics-sink-port"],
  apply: ["-f", "--dry-run", "--canary", "--canary-group", "--bake", "--ack-timeout", "--manual-promote", "--max-5xx-increase", "--max-connect-fail-increase", "--min-requests"],
  get: ["-o"],
  delete: ["-f", "--expected-revision", "--dry-run"],
  validate: ["-f"],
  diff: ["-f", "-o"],
  bootstrap: ["--node", "--cluster", "--admin-port", "--delta", "--xds-address", "--xds-retry-base", "--xds-retry-max", "--xds-connect-timeout"],
  status: ["-o", "--check", "--watch", "--interval"],
  "proxy-config": ["-o"],
  history: ["--limit", "--before", "--keep", "-o"],
  rollback: ["--to", "--dry-run"],
  rollout: ["-o"],
  backup: ["--data-dir"],
  restore: ["--data-dir"],
  token: ["--name", "--role", "-o"],
  version: ["-o"],
  completion: [],
};

const outputs: Readonly<Record<string, string>> = {
  get: "table wide name yaml json",
  status: "table json yaml",
  diff: "json",
  "proxy-config": "table yaml json",
  history: "json",
  rollout: "json",
  token: "json",
  version: "json",
};

/** A completion script for `tcp` in bash or zsh: commands, kinds, flags and -o values. */
export function completionScript(shell: string | undefined): string {
  if (shell === "bash") return bashScript();
  if (shell === "zsh") return `#compdef tcp\n# zsh completion for tcp: tcp completion zsh > "\${fpath[1]}/_tcp", or source <(tcp completion zsh)\nautoload -U +X bashcompinit && bashcompinit\n${bashScript()}`;
  throw new UsageError(`completion takes bash or zsh${shell === undefined ? "" : `, not ${JSON.stringify(shell)}`}`);
}

function bashScript(): string {
  const flagCases = Object.entries(commandFlags)
    .map(([c, f]) => `    ${c}) flags="${[...f, "--server", "--help"].join(" ")}" ;;`)
    .join("\n");
  const outputCases = Object.entries(outputs)
    .map(([c, o]) => `      ${c}) COMPREPLY=($(compgen -W "${o}" -- "$cur")); return ;;`)
    .join("\n");
  return `# bash completion for tcp: source <(tcp completion bash)
_tcp() {
  local cur prev cmd flags
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd="\${COMP_WORDS[1]}"
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W "${commands.join(" ")} help" -- "$cur")); return
  fi
  case "$prev" in
    -f|--file|--filename|--config|--data-dir) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    -o|--output)
      case "$cmd" in
${outputCases}
      esac
      return ;;
    completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")); return ;;
  esac
  case "$cmd" in
${flagCases}
    *) flags="--help" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [[ "$cmd" == get || "$cmd" == delete || "$cmd" == history ]] && [[ $COMP_CWORD -eq 2 ]]; then
    COMPREPLY=($(compgen -W "${kindWords.join(" ")}" -- "$cur"))
  fi
}
complete -F _tcp tcp
`;
}
