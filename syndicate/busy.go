package syndicate

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// A busy store (another process holding it locked: a backup, a VACUUM) is
// a reason to wait, not to fail: a write the pipeline must not lose — a
// post's outcome with its remote id, a poll's record — is made again until
// it goes through.

const (
	busyFirstWait = 100 * time.Millisecond
	busyMaxWait   = 5 * time.Second
	// busyGrace is how long a write still waits for the store once ctx
	// has ended (the daemon stopping): the answer of a post made is worth
	// a short wait at shutdown.
	busyGrace = time.Minute
)

// writeThroughBusy calls write until it succeeds or fails for another
// reason than ErrBusy, waiting between tries: as long as ctx lives, then
// busyGrace more.
func (e *Engine) writeThroughBusy(ctx context.Context, what string, write func(context.Context) error) error {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(busyGrace, cancel)
		context.AfterFunc(wctx, func() { t.Stop() })
	})
	defer stop()

	wait, warned := busyFirstWait, false
	for {
		err := write(wctx)
		if !errors.Is(err, ErrBusy) {
			if warned && err == nil {
				e.log().Info("the store took the write after waiting", "what", what)
			}
			return err
		}
		if !warned {
			e.log().Warn("the store is busy: keeping the result and writing it again", "what", what, slog.Any("error", err))
			warned = true
		}
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-wctx.Done():
			timer.Stop()
			return err
		}
		wait = min(2*wait, busyMaxWait)
	}
}
