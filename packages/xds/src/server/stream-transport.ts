/** gRPC status codes the server uses (subset of grpc's Status). */
export const StatusCode = {
  InvalidArgument: 3,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  Unauthenticated: 16,
} as const;

export interface StreamError {
  readonly code: number;
  readonly details: string;
}

/**
 * The few things a stream handler needs from the transport, so that a raw
 * node:http2 transport can replace @grpc/grpc-js if profiling asks for it
 * (docs/architecture.md).
 */
export interface StreamTransport {
  /** Writes one pre-encoded message; false means "wait for drain before more". */
  write(message: Buffer): boolean;
  /** Calls back once when the transport can take more. */
  onceDrained(callback: () => void): void;
  /** Ends the stream: OK without an error, else with the error's status. */
  end(error?: StreamError): void;
}
