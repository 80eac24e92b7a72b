// A one-method gRPC service defined at runtime, no .proto needed: the request
// is ignored and the answer is the backend's name as UTF-8, so a test sees which
// backend a call reached.
import * as grpc from "@grpc/grpc-js";

const utf8 = (s: string): Buffer => Buffer.from(s, "utf8");
const text = (b: Buffer): string => b.toString("utf8");

export const whoamiMethod: grpc.MethodDefinition<string, string> = {
  path: "/tscp.test.Echo/Whoami",
  requestStream: false,
  responseStream: false,
  requestSerialize: utf8,
  requestDeserialize: text,
  responseSerialize: utf8,
  responseDeserialize: text,
};

export interface EchoBackend {
  readonly name: string;
  readonly port: number;
  /** Calls served so far. */
  readonly calls: () => number;
  stop(): Promise<void>;
}

/** A gRPC server on an ephemeral 127.0.0.1 port answering Whoami with `name`. */
export async function startEchoBackend(options: { name: string }): Promise<EchoBackend> {
  const server = new grpc.Server();
  let calls = 0;
  server.addService(
    { Whoami: whoamiMethod },
    {
      Whoami: (_call: grpc.ServerUnaryCall<string, string>, callback: grpc.sendUnaryData<string>) => {
        calls++;
        callback(null, options.name);
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
  );
  let stopped: Promise<void> | undefined;
  return {
    name: options.name,
    port,
    calls: () => calls,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 500);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return stopped;
    },
  };
}

/** One Whoami call on a client, bounded by a deadline. */
export function callWhoami(client: grpc.Client, options: { timeoutMs: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      whoamiMethod.path,
      whoamiMethod.requestSerialize,
      whoamiMethod.responseDeserialize,
      // Not empty: a grpc-js 1.14 server answers a zero-length unary request with UNIMPLEMENTED "Received no request message".
      "whoami",
      { deadline: Date.now() + options.timeoutMs },
      (error, reply) => (error ? reject(error) : resolve(reply ?? "")),
    );
  });
}
