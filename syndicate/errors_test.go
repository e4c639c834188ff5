package syndicate_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

func TestClassified(t *testing.T) {
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	refused := &syndicate.SendError{Kind: syndicate.Retryable, RetryAfter: at, Err: errors.New("429")}
	plain := errors.New("connection reset")
	tests := []struct {
		name    string
		err     error
		want    *syndicate.SendError // nil: Classified returns nil
		kind    syndicate.ErrorKind
		message string
	}{
		{name: "nil", err: nil},
		{name: "classified", err: refused, want: refused, kind: syndicate.Retryable, message: "429"},
		{name: "wrapped", err: fmt.Errorf("posting: %w", refused), want: refused, kind: syndicate.Retryable, message: "429"},
		{name: "plain is uncertain", err: plain, kind: syndicate.Uncertain, message: "connection reset"},
		{name: "without a cause", err: &syndicate.SendError{Kind: syndicate.Permanent}, kind: syndicate.Permanent, message: "permanent send error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := syndicate.Classified(tt.err)
			if tt.err == nil {
				if got != nil {
					t.Fatalf("Classified(nil) = %v, want nil", got)
				}
				return
			}
			if got == nil || got.Kind != tt.kind || got.Error() != tt.message {
				t.Fatalf("Classified(%v) = %+v, want kind %v, message %q", tt.err, got, tt.kind, tt.message)
			}
			if tt.want != nil && got != tt.want {
				t.Errorf("Classified did not return the *SendError it wraps")
			}
			if !errors.Is(got, tt.err) && tt.want == nil {
				t.Errorf("the cause is lost: %v", got)
			}
			if kind, retryAfter := syndicate.Classify(tt.err); kind != tt.kind || (tt.want != nil && !retryAfter.Equal(at)) {
				t.Errorf("Classify = %v, %v", kind, retryAfter)
			}
		})
	}
}
