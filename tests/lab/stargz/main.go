// Minimal containerd-stargz-grpc: upstream's service and snapshot packages (Debian's
// golang-github-containerd-stargz-snapshotter-dev 0.12.0) served over containerd's snapshots gRPC API,
// the same wiring as upstream cmd/containerd-stargz-grpc/main.go without its metrics and keychain plugins.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"

	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/contrib/snapshotservice"
	"github.com/containerd/containerd/reference"
	"github.com/containerd/containerd/remotes/docker"
	"github.com/containerd/containerd/snapshots/overlay/overlayutils"
	stargzfs "github.com/containerd/stargz-snapshotter/fs"
	fsconfig "github.com/containerd/stargz-snapshotter/fs/config"
	"github.com/containerd/stargz-snapshotter/fs/layer"
	"github.com/containerd/stargz-snapshotter/fs/source"
	snbase "github.com/containerd/stargz-snapshotter/snapshot"
	"github.com/pelletier/go-toml"
	"github.com/sirupsen/logrus"
	"google.golang.org/grpc"
)

type snapshotterConfig struct {
	fsconfig.Config
	MetricsAddress string `toml:"metrics_address"`
	DebugAddress   string `toml:"debug_address"`
}

func main() {
	address := flag.String("address", "/run/containerd-stargz-grpc/containerd-stargz-grpc.sock", "socket")
	configPath := flag.String("config", "/etc/containerd-stargz-grpc/config.toml", "config file")
	rootDir := flag.String("root", "/var/lib/containerd-stargz-grpc", "state dir")
	logLevel := flag.String("log-level", "info", "log level: debug, info, warn, error")
	printVersion := flag.Bool("version", false, "print the version")
	flag.Parse()
	level, err := logrus.ParseLevel(*logLevel)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bad -log-level %q: %v\n", *logLevel, err)
		os.Exit(1)
	}
	logrus.SetLevel(level)
	if *printVersion {
		fmt.Println("containerd-stargz-grpc v0.12.0 (Debian library build, minimal main)")
		return
	}
	var config snapshotterConfig
	var tree *toml.Tree
	tree, err = toml.LoadFile(*configPath)
	if err != nil && !(os.IsNotExist(err) && *configPath == "/etc/containerd-stargz-grpc/config.toml") {
		fmt.Fprintf(os.Stderr, "failed to load config file %q: %v\n", *configPath, err)
		os.Exit(1)
	}
	if err == nil {
		if err := tree.Unmarshal(&config); err != nil {
			fmt.Fprintf(os.Stderr, "failed to unmarshal config file %q: %v\n", *configPath, err)
			os.Exit(1)
		}
	}
	ctx := context.Background()
	// Upstream's service package also reads CRI image labels and keychains; its resolver needs
	// k8s.io/cri-api, which Debian 12 does not package, so registries resolve with containerd's defaults.
	hosts := source.RegistryHosts(func(ref reference.Spec) ([]docker.RegistryHost, error) {
		return docker.ConfigureDefaultRegistries(docker.WithPlainHTTP(docker.MatchLocalhost))(ref.Hostname())
	})
	snRoot := filepath.Join(*rootDir, "snapshotter")
	if err := os.MkdirAll(snRoot, 0700); err != nil {
		fmt.Fprintf(os.Stderr, "failed to create root: %v\n", err)
		os.Exit(1)
	}
	opq := layer.OverlayOpaqueTrusted
	if userxattr, err := overlayutils.NeedsUserXAttr(snRoot); err == nil && userxattr {
		opq = layer.OverlayOpaqueUser
	}
	fs, err := stargzfs.NewFilesystem(filepath.Join(*rootDir, "stargz"), config.Config,
		stargzfs.WithGetSources(source.FromDefaultLabels(hosts)), stargzfs.WithOverlayOpaqueType(opq))
	if err != nil {
		fmt.Fprintf(os.Stderr, "failed to configure filesystem: %v\n", err)
		os.Exit(1)
	}
	rs, err := snbase.NewSnapshotter(ctx, snRoot, fs, snbase.AsynchronousRemove)
	if err != nil {
		fmt.Fprintf(os.Stderr, "failed to create snapshotter: %v\n", err)
		os.Exit(1)
	}
	rpc := grpc.NewServer()
	snapshotsapi.RegisterSnapshotsServer(rpc, snapshotservice.FromSnapshotter(rs))
	if err := os.MkdirAll(filepath.Dir(*address), 0700); err != nil {
		fmt.Fprintf(os.Stderr, "failed to create socket dir: %v\n", err)
		os.Exit(1)
	}
	_ = os.Remove(*address)
	l, err := net.Listen("unix", *address)
	if err != nil {
		fmt.Fprintf(os.Stderr, "failed to listen on %q: %v\n", *address, err)
		os.Exit(1)
	}
	if err := rpc.Serve(l); err != nil {
		fmt.Fprintf(os.Stderr, "failed to serve: %v\n", err)
		os.Exit(1)
	}
}
