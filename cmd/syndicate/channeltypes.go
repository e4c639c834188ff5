package main

import (
	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/channels/bluesky"
	"github.com/syndicate-daemon/syndicate/channels/mastodon"
	"github.com/syndicate-daemon/syndicate/channels/telegram"
	"github.com/syndicate-daemon/syndicate/config"
	"github.com/syndicate-daemon/syndicate/schema"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// postTypes are the types of channel that post article by article, one
// line each: what type: names, what it sends (for the printouts), how its
// keys are read and how it is built. Email digests are config's own.
func postTypes() []postType {
	return []postType{
		newPostType("mastodon", "Mastodon post", mastodon.Decode, mastodon.Build),
		newPostType("telegram", "Telegram message", telegram.Decode, telegram.Build),
		newPostType("bluesky", "Bluesky post", bluesky.Decode, bluesky.Build),
	}
}

// postType is one entry of postTypes.
type postType struct {
	config.ChannelType
	kind  string
	build func(channels.Deps, config.ChannelSettings) (syndicate.Built, error)
}

// newPostType ties a channel package's decoder to its builder, which
// takes the settings the decoder returns.
func newPostType[S config.ChannelSettings](name, kind string, decode func(*schema.Decoder, *schema.Object) S,
	build func(channels.Deps, S) (syndicate.Built, error)) postType {
	return postType{
		ChannelType: config.NewChannelType(name, decode),
		kind:        kind,
		build: func(d channels.Deps, s config.ChannelSettings) (syndicate.Built, error) {
			return build(d, s.(S)) // config decoded s with decode
		},
	}
}

// configTypes are the types config.Options.Channels takes.
func configTypes() []config.ChannelType {
	var out []config.ChannelType
	for _, t := range postTypes() {
		out = append(out, t.ChannelType)
	}
	return out
}

// postTypeOf returns the entry of a channel's type.
func postTypeOf(typ string) (postType, bool) {
	for _, t := range postTypes() {
		if t.Name == typ {
			return t, true
		}
	}
	return postType{}, false
}
