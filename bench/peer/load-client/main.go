// The peer benchmark's load client (bench/peer.ts): N ADS streams, SotW or
// Delta, each on its own gRPC connection like N Envoys, against either server
// (ours or go-control-plane). It is compiled so that, on a 2-core machine, the
// client is not what the benchmark measures: requests are pre-encoded and
// responses are only scanned (type, version, nonce, resource count, size),
// never decoded into resources.
//
// Every stream subscribes to CDS by wildcard and to EDS by the R cluster
// names, and ACKs every response. Commands on stdin, replies on stdout:
//
//	connect       ->  synced <ms> <bytes per stream>   every stream holds R clusters and R assignments
//	arm cds,eds   ->  armed; later  done <bytes per stream>   every stream got (and ACKed) a response of each type
//	quit
//
// Failures print "failed <reason>" and exit 1.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protowire"

	"ts-control-plane/bench/peer/resources"
)

const (
	clusterType  = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	endpointType = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
	sotwMethod   = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"
	deltaMethod  = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources"
)

// raw is a message already on the wire format: the codec passes it through.
type raw []byte

// scanned is what the client keeps of a response. SotW DiscoveryResponse and
// DeltaDiscoveryResponse share the field numbers read here: version_info /
// system_version_info (1), resources (2), type_url (4), nonce (5).
type scanned struct {
	version   string
	typeURL   string
	nonce     string
	resources int
	size      int
}

// leanCodec writes raw bytes and scans responses: a gRPC codec named "proto",
// so the wire content-type is what any xDS server expects.
type leanCodec struct{}

func (leanCodec) Name() string { return "proto" }

func (leanCodec) Marshal(v any) ([]byte, error) {
	if b, ok := v.(raw); ok {
		return b, nil
	}
	return nil, fmt.Errorf("leanCodec: cannot marshal %T", v)
}

func (leanCodec) Unmarshal(data []byte, v any) error {
	out, ok := v.(*scanned)
	if !ok {
		return fmt.Errorf("leanCodec: cannot unmarshal into %T", v)
	}
	*out = scanned{size: len(data)}
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return protowire.ParseError(n)
		}
		data = data[n:]
		if typ == protowire.BytesType {
			b, m := protowire.ConsumeBytes(data)
			if m < 0 {
				return protowire.ParseError(m)
			}
			switch num {
			case 1:
				out.version = string(b)
			case 2:
				out.resources++
			case 4:
				out.typeURL = string(b)
			case 5:
				out.nonce = string(b)
			}
			data = data[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, data)
		if m < 0 {
			return protowire.ParseError(m)
		}
		data = data[m:]
	}
	return nil
}

func str(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func node(num protowire.Number, id string) []byte {
	inner := str(str(nil, 1, id), 2, "bench")
	b := protowire.AppendTag(nil, num, protowire.BytesType)
	return protowire.AppendBytes(b, inner)
}

// names is resource_names (SotW, field 3) or resource_names_subscribe (Delta,
// also field 3), encoded once for every stream.
func names(count int) []byte {
	var b []byte
	for _, n := range resources.Names(count) {
		b = str(b, 3, n)
	}
	return b
}

type fleet struct {
	delta     bool
	resources int
	namesWire []byte

	mu       sync.Mutex
	streams  int
	synced   int // streams holding R clusters and R assignments
	syncedCh chan struct{}
	armed    map[string]bool // types a stream must receive after "arm"
	armGen   int             // "arm" commands so far
	pending  int             // streams still missing one of them
	doneCh   chan struct{}
	bytes    atomic.Int64
	failOnce sync.Once
}

func (f *fleet) fail(format string, args ...any) {
	f.failOnce.Do(func() {
		fmt.Printf("failed "+format+"\n", args...)
		os.Exit(1)
	})
}

func (f *fleet) sotwRequest(typeURL, version, nonce string, first bool, id string) raw {
	var b []byte
	b = str(b, 1, version)
	if first {
		b = append(b, node(2, id)...)
	}
	if typeURL == endpointType {
		b = append(b, f.namesWire...)
	}
	b = str(b, 4, typeURL)
	return raw(str(b, 5, nonce))
}

func (f *fleet) deltaRequest(typeURL, nonce string, first bool, id string) raw {
	var b []byte
	if first && typeURL == clusterType {
		b = append(b, node(1, id)...)
	}
	b = str(b, 2, typeURL)
	if first && typeURL == endpointType {
		b = append(b, f.namesWire...)
	}
	return raw(str(b, 6, nonce))
}

// run is one stream: its own connection, CDS then EDS, an ACK for every response.
func (f *fleet) run(ctx context.Context, addr string, i int) {
	// A server busy with the initial sync of thousands of streams may take
	// longer than gRPC's default 20 s to finish a new connection's handshake;
	// like Envoy, which retries, the client waits for the connection (both
	// servers get the same patience) rather than failing the stream.
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.DefaultConfig, MinConnectTimeout: 10 * time.Minute}),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(leanCodec{}), grpc.MaxCallRecvMsgSize(1<<30), grpc.WaitForReady(true)))
	if err != nil {
		f.fail("client %d: %v", i, err)
	}
	method := sotwMethod
	if f.delta {
		method = deltaMethod
	}
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method)
	if err != nil {
		f.fail("stream %d: %v", i, err)
	}
	id := fmt.Sprintf("node-%d", i)
	send := func(m raw) {
		if err := stream.SendMsg(m); err != nil {
			f.fail("stream %d send: %v", i, err)
		}
	}
	if f.delta {
		send(f.deltaRequest(clusterType, "", true, id))
		send(f.deltaRequest(endpointType, "", true, id))
	} else {
		send(f.sotwRequest(clusterType, "", "", true, id))
		send(f.sotwRequest(endpointType, "", "", false, id))
	}
	held := map[string]int{}
	isSynced := false
	var got map[string]bool
	gotGen := 0 // the "arm" command this stream is counting against
	for {
		var r scanned
		if err := stream.RecvMsg(&r); err != nil {
			if ctx.Err() != nil {
				return
			}
			f.fail("stream %d ended: %v", i, err)
		}
		if f.delta {
			send(f.deltaRequest(r.typeURL, r.nonce, false, id))
			held[r.typeURL] += r.resources
		} else {
			send(f.sotwRequest(r.typeURL, r.version, r.nonce, false, id))
			held[r.typeURL] = r.resources
		}
		f.mu.Lock()
		if !isSynced && held[clusterType] >= f.resources && held[endpointType] >= f.resources {
			isSynced = true
			f.bytes.Add(int64(r.size))
			f.synced++
			if f.synced == f.streams {
				close(f.syncedCh)
			}
		} else if !isSynced {
			f.bytes.Add(int64(r.size))
		} else if f.armed != nil {
			if gotGen != f.armGen {
				gotGen, got = f.armGen, map[string]bool{}
			}
			if f.armed[r.typeURL] && !got[r.typeURL] {
				got[r.typeURL] = true
				f.bytes.Add(int64(r.size))
				if len(got) == len(f.armed) {
					f.pending--
					if f.pending == 0 {
						close(f.doneCh)
					}
				}
			}
		}
		f.mu.Unlock()
	}
}

func main() {
	addr := flag.String("addr", "", "server address host:port")
	clients := flag.Int("clients", 0, "N: streams, each on its own connection")
	count := flag.Int("resources", 0, "R: clusters (and load assignments) every stream must hold")
	protocol := flag.String("protocol", "sotw", "sotw or delta")
	flag.Parse()
	if *addr == "" || *clients <= 0 || *count <= 0 || (*protocol != "sotw" && *protocol != "delta") {
		fmt.Fprintln(os.Stderr, "usage: load-client -addr HOST:PORT -clients N -resources R [-protocol sotw|delta]")
		os.Exit(2)
	}
	f := &fleet{delta: *protocol == "delta", resources: *count, namesWire: names(*count), streams: *clients, syncedCh: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		words := strings.Fields(in.Text())
		if len(words) == 0 {
			continue
		}
		switch words[0] {
		case "connect":
			t0 := time.Now()
			for i := range *clients {
				go f.run(ctx, *addr, i)
			}
			<-f.syncedCh
			fmt.Printf("synced %.1f %d\n", float64(time.Since(t0).Microseconds())/1000, f.bytes.Swap(0)/int64(*clients))
		case "arm":
			if len(words) != 2 {
				f.fail("usage: arm cds,eds")
			}
			want := map[string]bool{}
			for _, t := range strings.Split(words[1], ",") {
				switch t {
				case "cds":
					want[clusterType] = true
				case "eds":
					want[endpointType] = true
				default:
					f.fail("arm: unknown type %q", t)
				}
			}
			done := make(chan struct{})
			f.mu.Lock()
			f.bytes.Store(0)
			f.armed, f.pending, f.doneCh = want, *clients, done
			f.armGen++
			f.mu.Unlock()
			fmt.Println("armed")
			go func() {
				<-done
				fmt.Printf("done %d\n", f.bytes.Load()/int64(*clients))
			}()
		case "quit":
			return
		default:
			f.fail("unknown command %q", in.Text())
		}
	}
}
