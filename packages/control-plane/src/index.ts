// Public API of the runnable control plane (the declarative model and its translation come from compile.ts).
export { compile, matchNodeGroup, type CompileResult, type NodeGroupConfig, type NodeSelector } from "./compile.ts";
export { objectKey, type Diagnostic, type ModelObject, type ObjectMeta, type SourceRef } from "./model/model-object.ts";
export { parseDocuments } from "./model/parse-documents.ts";
export { openObjectStore, type ObjectStore, type StoredObject, type RevisionInfo, type RevisionChange, type ChangeSet, type CommitResult, type StoreHealth } from "./store/object-store.ts";
export { openPostgresStore, type PostgresStoreOptions } from "./store/postgres-store.ts";
export { rollbackChange } from "./store/rollback-change.ts";
export { StoreError, StoreErrorCode } from "./store/store-error.ts";
export { createFileSources, fileSource, type FileSources, type FileSourcesOptions, type FileApplyResult } from "./sources/file-sources.ts";
export { parseConfigText, readConfigFile, type ParsedConfig } from "./sources/read-config-file.ts";
export { formatDiagnostic } from "./sources/format-diagnostic.ts";
export { buildStatusReport, typeState, type StatusReport, type NodeReport, type TypeReport, type ObjectReport, type SyncState } from "./status/status-report.ts";
export { createReconciler, UNMATCHED_GROUP, type Reconciler, type ReconcilerOptions, type ChangeOutcome, type ChangeRequest, type DiffOutcome } from "./reconciler/reconciler.ts";
export { diffSnapshots, type GroupDiff, type ResourceDiff } from "./reconciler/diff-snapshots.ts";
export { createAdminServer, type AdminServer, type AdminServerOptions } from "./admin/admin-server.ts";
export { ApiError, ApiErrorCode } from "./admin/api-error.ts";
export { envoyBootstrap, envoyBootstrapYaml, type BootstrapOptions } from "./admin/envoy-bootstrap.ts";
export { runCli, type CliIo } from "./cli/run-cli.ts";
export { serve, parseServeArgs, runServe, serveDefaults, UsageError, type ServeOptions, type RunningControlPlane } from "./main.ts";
