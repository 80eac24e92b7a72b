/**
 * What the reconciler tells metrics (admin/control-plane-metrics.ts), as
 * plain numbers, so the reconciler knows nothing of Prometheus.
 */
export interface ReconcileMetrics {
  /** One compile of an object set (a change judged, or the stored set built for a push), in milliseconds. */
  compiled(ms: number): void;
  /**
   * One store write transaction, in milliseconds, without the compile that
   * judges the change inside it (that is `compiled`); `changed` is false when
   * nothing new was stored (a refused change, or one equal to what is stored).
   */
  committed(ms: number, outcome: { readonly changed: boolean }): void;
  /** A revision's snapshots were set on the cache and every watch notified, in milliseconds from the push's start. */
  pushed(ms: number): void;
}
