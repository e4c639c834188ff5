package main

import (
	"fmt"
	"runtime/debug"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

type buildInfo struct{ Version, Commit, Go string }

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Commit: "unknown", Go: "unknown"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.Go = info.GoVersion
	if b.Version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		b.Version = info.Main.Version
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			b.Commit = s.Value
		}
	}
	return b
}

func (b buildInfo) String() string {
	return fmt.Sprintf("syndicate %s (commit %s, %s)", b.Version, b.Commit, b.Go)
}

func (b buildInfo) UserAgent() string {
	return "syndicate/" + b.Version + " (+https://github.com/syndicate-daemon/syndicate)"
}
