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

func (e *SendError) Error() string {
	if e.Err == nil {
		return e.Kind.String() + " send error"
	}
	return e.Err.Error()
}
func (e *SendError) Unwrap() error { return e.Err }

// Classified returns err as a *SendError: nil for nil, the *SendError it
// wraps, or else an Uncertain one, since a channel that does not say
// whether its request left may have posted, and re-sending it could post
// twice; an editor decides.
func Classified(err error) *SendError {
	if err == nil {
		return nil
	}
	var se *SendError
	if errors.As(err, &se) && se != nil {
		return se
	}
	return &SendError{Kind: Uncertain, Err: err}
}

// Classify returns the kind and retry time of err, as Classified sees it.
func Classify(err error) (ErrorKind, time.Time) {
	if se := Classified(err); se != nil {
		return se.Kind, se.RetryAfter
	}
	return Uncertain, time.Time{}
}
