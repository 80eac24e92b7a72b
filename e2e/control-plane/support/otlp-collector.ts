// A tiny OTLP/gRPC collector for tests: TraceService/Export and LogsService/Export
// on an ephemeral 127.0.0.1 port. The generated Envoy API holds only OTLP's common
// messages (KeyValue, AnyValue, InstrumentationScope), not the trace and logs
// collector protos, so the envelopes are walked here with protobuf-es's wire reader,
// field numbers from opentelemetry-proto (trace/v1/trace.proto, logs/v1/logs.proto),
// and only the fields the tests assert on are kept; the common messages are decoded
// with their generated schemas.
import { fromBinary } from "@bufbuild/protobuf";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import * as grpc from "@grpc/grpc-js";
import { AnyValueSchema, InstrumentationScopeSchema, KeyValueSchema, type AnyValue } from "@ts-control-plane/envoy-api/opentelemetry/proto/common/v1/common_pb";
import type { TestContext } from "node:test";

/** Attributes as name -> string form of the value (strings as they are, other kinds as JSON). */
export type Attributes = Readonly<Record<string, string>>;

export interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  /** SpanKind: 2 is SERVER. */
  readonly kind: number;
  readonly attributes: Attributes;
  /** Attributes of the resource the span came with (service.name, ...). */
  readonly resource: Attributes;
}

export interface OtlpLogRecord {
  readonly body: string | undefined;
  readonly attributes: Attributes;
  readonly traceId: string;
  readonly resource: Attributes;
  readonly scope: string;
}

export interface OtlpCollector {
  readonly port: number;
  /** Export calls received, by service. */
  readonly calls: { traces: number; logs: number };
  spans(): OtlpSpan[];
  logs(): OtlpLogRecord[];
}

const identity = (b: Buffer): Buffer => b;
const method = (path: string): grpc.MethodDefinition<Buffer, Buffer> => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});

/** Starts the collector; it is shut down after the test. Export answers an empty (default) response. */
export async function startOtlpCollector(options: { t: TestContext }): Promise<OtlpCollector> {
  const spans: OtlpSpan[] = [];
  const logs: OtlpLogRecord[] = [];
  const calls = { traces: 0, logs: 0 };
  const server = new grpc.Server();
  const answer = (cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.alloc(0));
  server.addService(
    { Export: method("/opentelemetry.proto.collector.trace.v1.TraceService/Export") },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        calls.traces++;
        spans.push(...decodeTraces(call.request));
        answer(cb);
      },
    },
  );
  server.addService(
    { Export: method("/opentelemetry.proto.collector.logs.v1.LogsService/Export") },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        calls.logs++;
        logs.push(...decodeLogs(call.request));
        answer(cb);
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
  );
  options.t.after(() => server.forceShutdown());
  return { port, calls, spans: () => [...spans], logs: () => [...logs] };
}

/** Reads each field of a message with the handler for its number; fields without one are skipped. */
function fields(bytes: Uint8Array, on: Readonly<Record<number, (r: BinaryReader) => void>>): void {
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [no, type] = r.tag();
    const read = on[no];
    if (read === undefined) r.skip(type, no);
    else read(r);
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

function anyValueText(v: AnyValue | undefined): string | undefined {
  if (v === undefined || v.value.case === undefined) return undefined;
  return v.value.case === "stringValue" ? v.value.value : JSON.stringify(v.value.value, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x));
}

function attribute(bytes: Uint8Array, into: Record<string, string>): void {
  const kv = fromBinary(KeyValueSchema, bytes);
  into[kv.key] = anyValueText(kv.value) ?? "";
}

/** Resource { repeated KeyValue attributes = 1 }. */
function resourceAttributes(bytes: Uint8Array): Attributes {
  const out: Record<string, string> = {};
  fields(bytes, { 1: (r) => attribute(r.bytes(), out) });
  return out;
}

/** ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1 }. */
function decodeTraces(request: Uint8Array): OtlpSpan[] {
  const out: OtlpSpan[] = [];
  fields(request, {
    1: (r) => {
      // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2 }
      let resource: Attributes = {};
      const scopes: Uint8Array[] = [];
      fields(r.bytes(), { 1: (rr) => void (resource = resourceAttributes(rr.bytes())), 2: (rr) => void scopes.push(rr.bytes()) });
      // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2 }
      for (const scope of scopes) fields(scope, { 2: (rr) => void out.push(decodeSpan(rr.bytes(), resource)) });
    },
  });
  return out;
}

/** Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; SpanKind kind = 6; repeated KeyValue attributes = 9 }. */
function decodeSpan(bytes: Uint8Array, resource: Attributes): OtlpSpan {
  const span = { traceId: "", spanId: "", parentSpanId: "", name: "", kind: 0, attributes: {} as Record<string, string>, resource };
  fields(bytes, {
    1: (r) => void (span.traceId = hex(r.bytes())),
    2: (r) => void (span.spanId = hex(r.bytes())),
    4: (r) => void (span.parentSpanId = hex(r.bytes())),
    5: (r) => void (span.name = r.string()),
    6: (r) => void (span.kind = r.int32()),
    9: (r) => attribute(r.bytes(), span.attributes),
  });
  return span;
}

/** ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1 }. */
function decodeLogs(request: Uint8Array): OtlpLogRecord[] {
  const out: OtlpLogRecord[] = [];
  fields(request, {
    1: (r) => {
      // ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2 }
      let resource: Attributes = {};
      const scopes: Uint8Array[] = [];
      fields(r.bytes(), { 1: (rr) => void (resource = resourceAttributes(rr.bytes())), 2: (rr) => void scopes.push(rr.bytes()) });
      for (const scopeLogs of scopes) {
        // ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2 }
        let scope = "";
        const records: Uint8Array[] = [];
        fields(scopeLogs, { 1: (rr) => void (scope = fromBinary(InstrumentationScopeSchema, rr.bytes()).name), 2: (rr) => void records.push(rr.bytes()) });
        for (const rec of records) out.push(decodeLogRecord(rec, resource, scope));
      }
    },
  });
  return out;
}

/** LogRecord { AnyValue body = 5; repeated KeyValue attributes = 6; bytes trace_id = 9 }. */
function decodeLogRecord(bytes: Uint8Array, resource: Attributes, scope: string): OtlpLogRecord {
  const record: { body: string | undefined; attributes: Record<string, string>; traceId: string; resource: Attributes; scope: string } = { body: undefined, attributes: {}, traceId: "", resource, scope };
  fields(bytes, {
    5: (r) => void (record.body = anyValueText(fromBinary(AnyValueSchema, r.bytes()))),
    6: (r) => attribute(r.bytes(), record.attributes),
    9: (r) => void (record.traceId = hex(r.bytes())),
  });
  return record;
}
