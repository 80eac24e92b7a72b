// The go-control-plane side of the peer benchmark (bench/peer.ts): an ADS
// server over go-control-plane's snapshot cache, serving the same resources
// as bench/peer/ours-server.ts and driven by the same stdin lines:
//
//	prepare initial R | prepare all | prepare one  ->  prepared
//	apply                                          ->  applied <ms>
//	gc                                             ->  gc
//	stats                                          ->  stats {}
//
// It prints "ready <port>" once listening on 127.0.0.1 (an ephemeral port).
// Every node shares one cache key, as a fleet of identical proxies does.
package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"

	"ts-control-plane/bench/peer/resources"
)

const groupKey = "bench"

type oneGroup struct{}

func (oneGroup) ID(*core.Node) string { return groupKey }

type state struct {
	names      []string
	generation int // all-changes so far
	moves      int // one-changes so far
	cdsVersion int
	edsVersion int
	prepared   *cachev3.Snapshot
}

func (s *state) build() *cachev3.Snapshot {
	clusters := make([]types.Resource, len(s.names))
	assignments := make([]types.Resource, len(s.names))
	for i, n := range s.names {
		clusters[i] = resources.Cluster(n, s.generation)
		addresses := resources.Addresses(i)
		if i == 0 && s.moves > 0 {
			addresses[0] = resources.MovedAddress(s.moves)
		}
		assignments[i] = resources.Assignment(n, addresses, s.generation)
	}
	snap := &cachev3.Snapshot{}
	// Per-type versions, so a change of endpoints only leaves CDS alone (as
	// our snapshot's content-hashed type versions do).
	snap.Resources[types.Cluster] = cachev3.NewResources("c"+strconv.Itoa(s.cdsVersion), clusters)
	snap.Resources[types.Endpoint] = cachev3.NewResources("e"+strconv.Itoa(s.edsVersion), assignments)
	return snap
}

func main() {
	ctx := context.Background()
	cache := cachev3.NewSnapshotCache(false, oneGroup{}, nil)
	srv := serverv3.NewServer(ctx, cache, nil)
	grpcServer := grpc.NewServer()
	discovery.RegisterAggregatedDiscoveryServiceServer(grpcServer, srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	go func() { _ = grpcServer.Serve(lis) }()
	out := bufio.NewWriter(os.Stdout)
	reply := func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
	}
	reply("ready %d", lis.Addr().(*net.TCPAddr).Port)

	s := &state{}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		words := strings.Fields(in.Text())
		if len(words) == 0 {
			continue
		}
		switch {
		case words[0] == "prepare" && len(words) == 3 && words[1] == "initial":
			count, _ := strconv.Atoi(words[2])
			s.names = resources.Names(count)
			s.prepared = s.build()
			reply("prepared")
		case words[0] == "prepare" && len(words) == 2 && words[1] == "all":
			s.generation++
			s.cdsVersion++
			s.edsVersion++
			s.prepared = s.build()
			reply("prepared")
		case words[0] == "prepare" && len(words) == 2 && words[1] == "one":
			s.moves++
			s.edsVersion++
			s.prepared = s.build()
			reply("prepared")
		case words[0] == "apply" && s.prepared != nil:
			t0 := time.Now()
			if err := cache.SetSnapshot(ctx, groupKey, s.prepared); err != nil {
				reply("error %s", err)
				continue
			}
			reply("applied %.3f", float64(time.Since(t0).Microseconds())/1000)
		case words[0] == "gc":
			runtime.GC()
			debug.FreeOSMemory()
			reply("gc")
		case words[0] == "stats":
			reply("stats {}")
		default:
			reply("error unknown command %q", in.Text())
		}
	}
	grpcServer.Stop()
}
