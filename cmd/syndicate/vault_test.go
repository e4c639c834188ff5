package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syndicate-daemon/syndicate/config"
	"github.com/syndicate-daemon/syndicate/syndicate/store/sqlite"
)

func TestStoreVault(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := &config.Config{Secret: "a-configured-secret-of-some-length"}
	v, err := newStoreVault(ctx, cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	const token = "refresh-jwt-that-must-stay-secret"
	if err := v.Save(ctx, "bluesky/b", token); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := v.Load(ctx, "bluesky/b"); err != nil || !ok || got != token {
		t.Fatalf("Load = %q, %v, %v", got, ok, err)
	}
	raw, ok, err := st.Meta(ctx, vaultPrefix+"bluesky/b")
	if err != nil || !ok || strings.Contains(raw, token) || strings.Contains(raw, "secret") {
		t.Fatalf("the store holds %q (%v, %v)", raw, ok, err)
	}
	// Moved to another key, or read with another secret: as if none.
	if err := st.SetMeta(ctx, vaultPrefix+"bluesky/c", raw); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := v.Load(ctx, "bluesky/c"); ok {
		t.Error("a value moved to another key was read back")
	}
	other, err := newStoreVault(ctx, &config.Config{Secret: "another-secret-of-some-length"}, st)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := other.Load(ctx, "bluesky/b"); ok || err != nil {
		t.Errorf("read with another secret: %v, %v", ok, err)
	}
	if _, ok, err := v.Load(ctx, "bluesky/none"); ok || err != nil {
		t.Errorf("a missing key: %v, %v", ok, err)
	}
}
