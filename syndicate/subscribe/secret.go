package subscribe

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
)

// SecretMetaKey is the store's meta key of the generated link secret.
const SecretMetaKey = "link_secret"

// MetaStore is the part of syndicate.Store that keeps a generated secret.
type MetaStore interface {
	EnsureMeta(ctx context.Context, key, value string) (string, error)
}

// LinkSecret returns the secret that signs the links in emails: the
// configured one when it is set, else one generated on first use and kept
// in the store under SecretMetaKey, so links stay valid across restarts
// and the daemon and the command line sign alike (the first to write it
// wins). random is the source of a new secret; nil means crypto/rand.
//
// Changing the configured secret (or setting one after running without)
// invalidates every link already sent.
func LinkSecret(ctx context.Context, configured string, store MetaStore, random io.Reader) ([]byte, error) {
	if configured != "" {
		return []byte(configured), nil
	}
	if random == nil {
		random = rand.Reader
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(random, b); err != nil {
		return nil, fmt.Errorf("generate the link secret: %w", err)
	}
	kept, err := store.EnsureMeta(ctx, SecretMetaKey, base64.RawURLEncoding.EncodeToString(b))
	if err != nil {
		return nil, fmt.Errorf("keep the link secret: %w", err)
	}
	if kept == "" {
		return nil, fmt.Errorf("the store holds an empty %s", SecretMetaKey)
	}
	return []byte(kept), nil
}
