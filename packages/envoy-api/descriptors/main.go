// Command descriptors writes the descriptors of Envoy's v3 API, as compiled into
// go-control-plane's Go module (pinned in go.mod, hashes in go.sum), to a
// google.protobuf.FileDescriptorSet. generate.sh feeds that set to buf and
// protoc-gen-es, and ships it as gen/envoy-api.binpb for run-time reflection.
//
// The Go module is the source because it is the only pinned, versioned
// artifact that carries Envoy's current API: Envoy publishes no .proto
// package, and the trees bundled elsewhere lag behind (see the README).
//
// imports.go, next to this file, blank-imports every v3/v3alpha package of the
// module so each registers its files in protoregistry.GlobalFiles. generate.sh
// writes it from `go list` at build time, so a pin bump picks up new packages
// without a hand-kept list.
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"sort"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Envoy's v3 API, as the generated package exposes it. The v2 and v2alpha
// files are frozen and out of scope; everything else (xds/udpa, validate,
// googleapis, opentelemetry, well-known types) comes in as a dependency.
var envoyV3 = regexp.MustCompile(`^envoy/.*/v3(alpha)?/[^/]+\.proto$`)

func main() {
	out := flag.String("o", "", "where to write the FileDescriptorSet (binary)")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: descriptors -o <file.binpb>")
		os.Exit(2)
	}
	var roots []string
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if envoyV3.MatchString(fd.Path()) {
			roots = append(roots, fd.Path())
		}
		return true
	})
	sort.Strings(roots)
	if len(roots) == 0 {
		fmt.Fprintln(os.Stderr, "no Envoy v3 file is registered: is imports.go missing?")
		os.Exit(1)
	}
	set := &descriptorpb.FileDescriptorSet{}
	done := map[string]bool{}
	// Depth-first, dependencies before dependents: the order protoc and buf
	// use, and the one a FileDescriptorSet reader may rely on.
	var visit func(fd protoreflect.FileDescriptor)
	visit = func(fd protoreflect.FileDescriptor) {
		if done[fd.Path()] {
			return
		}
		done[fd.Path()] = true
		imports := fd.Imports()
		for i := 0; i < imports.Len(); i++ {
			visit(imports.Get(i).FileDescriptor)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(fd))
	}
	for _, path := range roots {
		fd, err := protoregistry.GlobalFiles.FindFileByPath(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		visit(fd)
	}
	bytes, err := proto.MarshalOptions{Deterministic: true}.Marshal(set)
	if err == nil {
		err = os.WriteFile(*out, bytes, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "%d files (%d Envoy v3), %d bytes\n", len(set.File), len(roots), len(bytes))
}
