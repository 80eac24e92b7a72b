// Package resources builds the peer benchmark's configuration for the Go
// side: R EDS clusters over ADS and R ClusterLoadAssignments of two endpoints
// each. The names, counts and fields match bench/peer/peer-resources.ts, so
// both servers send the same resources (the load client checks the counts).
package resources

import (
	"fmt"
	"time"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Names are cluster-0..cluster-(R-1), zero-padded to one width, as
// clusterNames in bench/support/fanout-resources.ts.
func Names(count int) []string {
	width := len(fmt.Sprint(max(count-1, 0)))
	out := make([]string, count)
	for i := range out {
		out[i] = fmt.Sprintf("cluster-%0*d", width, i)
	}
	return out
}

// Addresses are two distinct private addresses for cluster i.
func Addresses(i int) []string {
	base := fmt.Sprintf("10.%d.%d", (i>>8)&255, i&255)
	return []string{base + ".1", base + ".2"}
}

// Cluster is an EDS cluster over ADS; generation moves its connect timeout
// (an all-change changes every cluster).
func Cluster(name string, generation int) *cluster.Cluster {
	return &cluster.Cluster{
		Name:                 name,
		ConnectTimeout:       durationpb.New(time.Duration(1+generation) * time.Second),
		ClusterDiscoveryType: &cluster.Cluster_Type{Type: cluster.Cluster_EDS},
		EdsClusterConfig: &cluster.Cluster_EdsClusterConfig{
			EdsConfig: &core.ConfigSource{ConfigSourceSpecifier: &core.ConfigSource_Ads{Ads: &core.AggregatedConfigSource{}}},
		},
	}
}

// Assignment is a load assignment of the given addresses on port 8080+generation.
func Assignment(name string, addresses []string, generation int) *endpoint.ClusterLoadAssignment {
	lbs := make([]*endpoint.LbEndpoint, len(addresses))
	for i, a := range addresses {
		lbs[i] = &endpoint.LbEndpoint{HostIdentifier: &endpoint.LbEndpoint_Endpoint{Endpoint: &endpoint.Endpoint{
			Address: &core.Address{Address: &core.Address_SocketAddress{SocketAddress: &core.SocketAddress{
				Address:       a,
				PortSpecifier: &core.SocketAddress_PortValue{PortValue: uint32(8080 + generation)},
			}}},
		}}}
	}
	return &endpoint.ClusterLoadAssignment{
		ClusterName: name,
		Endpoints: []*endpoint.LocalityLbEndpoints{{
			Locality:            &core.Locality{Region: "bench", Zone: "a"},
			LoadBalancingWeight: wrapperspb.UInt32(1),
			LbEndpoints:         lbs,
		}},
	}
}

// MovedAddress is the first endpoint of cluster 0 after one-change number n.
func MovedAddress(n int) string {
	return fmt.Sprintf("10.255.255.%d", 1+n%250)
}
