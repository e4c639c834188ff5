package main

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/config"
	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/subscribe"
)

// vaultPrefix names the store's meta keys that hold channel secrets.
const vaultPrefix = "vault:"

// storeVault is a channels.Vault in the store's meta table: each value
// sealed with AES-256-GCM, under a key derived from the daemon's secret
// (the configured one, else the one generated and kept in the store), its
// meta key bound in as additional data so a value cannot be moved.
type storeVault struct {
	store syndicate.Store
	aead  cipher.AEAD
}

var _ channels.Vault = (*storeVault)(nil)

func newStoreVault(ctx context.Context, cfg *config.Config, store syndicate.Store) (*storeVault, error) {
	secret, err := subscribe.LinkSecret(ctx, cfg.Secret.Value(), store, nil)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("syndicate channel vault v1"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("vault key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("vault key: %w", err)
	}
	return &storeVault{store: store, aead: aead}, nil
}

func (v *storeVault) Load(ctx context.Context, key string) (string, bool, error) {
	sealed, ok, err := v.store.Meta(ctx, vaultPrefix+key)
	if err != nil || !ok {
		return "", false, err
	}
	b, err := base64.RawStdEncoding.DecodeString(sealed)
	n := v.aead.NonceSize()
	if err != nil || len(b) < n {
		return "", false, nil
	}
	plain, err := v.aead.Open(nil, b[:n], b[n:], []byte(key))
	if err != nil {
		return "", false, nil // sealed under another secret: as if none
	}
	return string(plain), true, nil
}

func (v *storeVault) Save(ctx context.Context, key, value string) error {
	nonce := make([]byte, v.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	sealed := v.aead.Seal(nonce, nonce, []byte(value), []byte(key))
	if err := v.store.SetMeta(ctx, vaultPrefix+key, base64.RawStdEncoding.EncodeToString(sealed)); err != nil {
		return fmt.Errorf("vault: keeping %s: %w", key, err)
	}
	return nil
}
