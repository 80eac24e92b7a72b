// Public API of the runnable control plane (the declarative model and its translation come from compile.ts).

export { type AdminServer, type AdminServerOptions, createAdminServer } from "./admin/admin-server.ts";
export { ApiError, ApiErrorCode } from "./admin/api-error.ts";
export { type BootstrapOptions, envoyBootstrap, envoyBootstrapYaml } from "./admin/envoy-bootstrap.ts";
export { type CliIo, runCli } from "./cli/run-cli.ts";
export { type CompileResult, compile, matchNodeGroup, type NodeGroupConfig, type NodeSelector } from "./compile.ts";
export { parseServeArgs, type RunningControlPlane, runServe, type ServeOptions, serve, serveDefaults, UsageError } from "./main.ts";
export { type Diagnostic, type ModelObject, type ObjectMeta, objectKey, type SourceRef } from "./model/model-object.ts";
export { parseDocuments } from "./model/parse-documents.ts";
export { diffSnapshots, type GroupDiff, type ResourceDiff } from "./reconciler/diff-snapshots.ts";
export { type ChangeOutcome, type ChangeRequest, createReconciler, type DiffOutcome, type Reconciler, type ReconcilerOptions, UNMATCHED_GROUP } from "./reconciler/reconciler.ts";
export { createFileSources, type FileApplyResult, type FileSources, type FileSourcesOptions, fileSource } from "./sources/file-sources.ts";
export { formatDiagnostic } from "./sources/format-diagnostic.ts";
export { type ParsedConfig, parseConfigText, readConfigFile } from "./sources/read-config-file.ts";
export { buildStatusReport, type NodeReport, type ObjectReport, type StatusReport, type SyncState, type TypeReport, typeState } from "./status/status-report.ts";
export { type ChangeSet, type CommitResult, type ObjectStore, openObjectStore, type RevisionChange, type RevisionInfo, type StoredObject } from "./store/object-store.ts";
export { rollbackChange } from "./store/rollback-change.ts";
export { StoreError, StoreErrorCode } from "./store/store-error.ts";
