package config

import (
	"gopkg.in/yaml.v3"

	"github.com/syndicate-daemon/syndicate/schema"
)

// ChannelType is one type: of channel that posts article by article, as
// the package that implements it decodes and checks its own keys. The
// command builds the list (Options.Channels); config knows none of them.
type ChannelType struct {
	Name string // the value of type:, such as "mastodon"
	// Decode reads the type's own keys from the channel's mapping o; the
	// keys common to all channels are read already.
	Decode func(d *schema.Decoder, o *schema.Object) ChannelSettings
}

// ChannelSettings are the decoded keys of one channel's type.
type ChannelSettings interface {
	// Validate checks them; v names keys relative to the channel.
	Validate(v *schema.Checker)
	// Edits reports whether the channel can edit a post it sent, which
	// on_update: edit asks of it.
	Edits() bool
}

// NewChannelType makes the ChannelType name from its package's decoder,
// which returns that package's own settings type.
func NewChannelType[S ChannelSettings](name string, decode func(*schema.Decoder, *schema.Object) S) ChannelType {
	return ChannelType{Name: name, Decode: func(d *schema.Decoder, o *schema.Object) ChannelSettings { return decode(d, o) }}
}

// keys lists the keys a channel of type t reads, found by decoding an
// empty mapping: what a channel of another type is told it may not have.
func (t ChannelType) keys() []string {
	d := &schema.Decoder{MissingSecretsOK: true}
	o := d.Object("", &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"})
	t.Decode(d, o)
	return o.Asked()
}
