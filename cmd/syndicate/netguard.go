package main

import (
	"github.com/syndicate-daemon/syndicate/config"
	"github.com/syndicate-daemon/syndicate/syndicate/feed"
	"github.com/syndicate-daemon/syndicate/syndicate/netguard"
)

// netGuard is the guard of every fetch that feed content names (images,
// WebSub hubs, where a feed's redirects lead), allowing the origins of the
// configured feeds; nil, which allows everything, when
// allow_private_networks is set. Channel servers and SMTP hosts, which the
// operator names, are never guarded.
func netGuard(cfg *config.Config) *netguard.Guard {
	if cfg.AllowPrivateNetworks {
		return nil
	}
	var origins []string
	for _, f := range cfg.Feeds {
		if !feed.IsFileURL(f.URL) { // a file has no origin
			origins = append(origins, f.URL)
		}
	}
	return netguard.New(netguard.Options{Origins: origins})
}
