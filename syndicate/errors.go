package syndicate

import (
	"errors"
	"fmt"
	"time"
)

// ErrorKind tells the pipeline what to do after a failed send.
type ErrorKind int

const (
	// Retryable: the post did not go out and may be tried again
	// (network error before the request left, 5xx, 429).
	Retryable ErrorKind = iota
	// Permanent: trying again cannot help (bad token, chat not found,
	// message refused).
	Permanent
	// Uncertain: the request left and no answer came back; the post may
	// or may not be on the platform. Never re-sent without an editor.
	Uncertain
)

func (k ErrorKind) String() string {
	switch k {
	case Retryable:
		return "retryable"
	case Permanent:
		return "permanent"
	case Uncertain:
		return "uncertain"
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

// SendError is the error a Channel returns.
type SendError struct {
	Kind ErrorKind
	// RetryAfter, when not zero, is the earliest time the platform allows
	// another attempt (Retry-After, retry_after, X-RateLimit-Reset).
	RetryAfter time.Time
	Err        error
}

func (e *SendError) Error() string { return e.Err.Error() }
func (e *SendError) Unwrap() error { return e.Err }

// Classify returns the kind and retry time of err. An error that is not a
// *SendError counts as uncertain: a channel that does not say whether its
// request left may have posted, and re-sending it could post twice; an
// editor decides.
func Classify(err error) (ErrorKind, time.Time) {
	var se *SendError
	if errors.As(err, &se) {
		return se.Kind, se.RetryAfter
	}
	return Uncertain, time.Time{}
}
