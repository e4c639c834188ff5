package channels

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

func TestStatusError(t *testing.T) {
	tests := []struct {
		status int
		want   syndicate.ErrorKind
	}{
		{400, syndicate.Permanent}, {401, syndicate.Permanent}, {403, syndicate.Permanent},
		{404, syndicate.Permanent}, {422, syndicate.Permanent},
		{429, syndicate.Retryable}, {500, syndicate.Retryable}, {502, syndicate.Retryable}, {503, syndicate.Retryable},
	}
	for _, tt := range tests {
		kind, _ := syndicate.Classify(StatusError(tt.status, time.Time{}, errors.New("x")))
		if kind != tt.want {
			t.Errorf("status %d: kind %v, want %v", tt.status, kind, tt.want)
		}
	}
}

func TestTransportError(t *testing.T) {
	cause := errors.New("connection reset")
	if k, _ := syndicate.Classify(TransportError(cause, false, false)); k != syndicate.Retryable {
		t.Errorf("not written: %v", k)
	}
	if k, _ := syndicate.Classify(TransportError(cause, true, false)); k != syndicate.Uncertain {
		t.Errorf("written, no idempotency: %v", k)
	}
	if k, _ := syndicate.Classify(TransportError(cause, true, true)); k != syndicate.Retryable {
		t.Errorf("written, idempotent: %v", k)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if got := ParseRetryAfter("120", now); !got.Equal(now.Add(2 * time.Minute)) {
		t.Errorf("seconds: %v", got)
	}
	if got := ParseRetryAfter("Fri, 02 Jan 2026 03:10:00 GMT", now); !got.Equal(time.Date(2026, 1, 2, 3, 10, 0, 0, time.UTC)) {
		t.Errorf("date: %v", got)
	}
	for _, bad := range []string{"", "soon", "-5"} {
		if got := ParseRetryAfter(bad, now); !got.IsZero() {
			t.Errorf("%q: %v", bad, got)
		}
	}
}

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) || time.Since(start) > time.Minute {
		t.Errorf("Sleep in a cancelled context: %v after %v", err, time.Since(start))
	}
}
