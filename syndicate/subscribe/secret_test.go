package subscribe_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/syndicate-daemon/syndicate/syndicate/subscribe"
)

type meta struct {
	mu sync.Mutex
	kv map[string]string
}

func (m *meta) EnsureMeta(_ context.Context, key, value string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.kv[key]; ok {
		return v, nil
	}
	m.kv[key] = value
	return value, nil
}

func TestLinkSecret(t *testing.T) {
	ctx := t.Context()
	m := &meta{kv: map[string]string{}}
	got, err := subscribe.LinkSecret(ctx, "configured-secret-0123456789", m, nil)
	if err != nil || string(got) != "configured-secret-0123456789" || len(m.kv) != 0 {
		t.Fatalf("LinkSecret with a configured secret = %q, %v (stored %v)", got, err, m.kv)
	}

	first, err := subscribe.LinkSecret(ctx, "", m, bytes.NewReader(bytes.Repeat([]byte{1}, 32)))
	if err != nil || len(first) < 40 {
		t.Fatalf("LinkSecret generated = %q, %v", first, err)
	}
	if m.kv[subscribe.SecretMetaKey] != string(first) {
		t.Errorf("kept %q, returned %q", m.kv[subscribe.SecretMetaKey], first)
	}
	again, err := subscribe.LinkSecret(ctx, "", m, bytes.NewReader(bytes.Repeat([]byte{2}, 32)))
	if err != nil || !bytes.Equal(again, first) {
		t.Errorf("LinkSecret the second time = %q, %v; want the kept %q", again, err, first)
	}
	real1, err := subscribe.LinkSecret(ctx, "", &meta{kv: map[string]string{}}, nil)
	if err != nil || len(real1) < 40 {
		t.Errorf("LinkSecret from crypto/rand = %q, %v", real1, err)
	}

	_, err = subscribe.LinkSecret(ctx, "", m, iotest.ErrReader(errors.New("no entropy")))
	if err == nil || !strings.Contains(err.Error(), "no entropy") {
		t.Errorf("LinkSecret with a failing source: %v", err)
	}
}
