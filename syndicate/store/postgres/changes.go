package postgres

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Timings of Changes.
const (
	// listenCheck is how long the listener waits for a notification
	// before it makes sure the connection still answers: a server gone
	// without a word (a network cut) is found within it.
	listenCheck = time.Minute
	// listenPing bounds that check.
	listenPing = 10 * time.Second
	// Waits between reconnections, doubling from the first to the last.
	reconnectFirst = 100 * time.Millisecond
	reconnectMax   = 10 * time.Second
)

// Changes reports writes made by other processes (the command line,
// other replicas) and by other Stores of this one: a recorded poll, a
// delivery moved, a channel paused or resumed, a digest made, a feed state
// or a WebSub subscription saved. Each such write notifies NotifyChannel
// in its transaction; Changes LISTENs on a connection of its own (outside
// the pool) and sends on the channel when one arrives. A burst of writes
// is one signal when the reader is slower than the burst: the channel
// holds one. Writes through this Store are not reported: the process that
// made them knows.
//
// When the connection is lost, Changes reconnects, waiting longer each
// time, and then signals once, for what it may have missed meanwhile. The
// channel closes when ctx ends. The first LISTEN is made before Changes
// returns (or fails, and is retried in the background), so a write that
// commits after Changes returns is reported.
func (s *Store) Changes(ctx context.Context) <-chan struct{} {
	out := make(chan struct{}, 1)
	conn, err := s.listen(ctx)
	if err != nil && ctx.Err() == nil {
		s.log.Warn("postgres store: cannot listen for changes; trying again", "channel", NotifyChannel, slog.Any("error", err))
	}
	go s.watch(ctx, conn, out)
	return out
}

// listen opens a connection with the pool's settings and LISTENs on it.
func (s *Store) listen(ctx context.Context) (*pgx.Conn, error) {
	cfg := s.pool.Config().ConnConfig.Copy()
	// Named apart, so an operator sees which connection waits on purpose.
	cfg.RuntimeParams["application_name"] += " listener"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{NotifyChannel}.Sanitize()); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return conn, nil
}

func (s *Store) watch(ctx context.Context, conn *pgx.Conn, out chan<- struct{}) {
	defer close(out)
	defer func() {
		if conn != nil {
			conn.Close(context.WithoutCancel(ctx))
		}
	}()
	signal := func() {
		select {
		case out <- struct{}{}:
		default: // one is waiting already
		}
	}
	wait := reconnectFirst
	for ctx.Err() == nil {
		if conn == nil {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return
			}
			var err error
			if conn, err = s.listen(ctx); err != nil {
				if ctx.Err() == nil {
					s.log.Warn("postgres store: reconnecting to listen for changes", "retry_in", min(2*wait, reconnectMax).String(), slog.Any("error", err))
				}
				wait = min(2*wait, reconnectMax)
				continue
			}
			s.log.Info("postgres store: listening for changes again")
			wait = reconnectFirst
			signal() // what was written while we were away
		}
		err := s.await(ctx, conn, signal)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("postgres store: lost the connection that listens for changes", slog.Any("error", err))
			conn.Close(context.WithoutCancel(ctx))
			conn = nil
		}
	}
}

// await passes on the notifications of conn until ctx ends or the
// connection fails, checking it after every s.listenCheck of silence.
func (s *Store) await(ctx context.Context, conn *pgx.Conn, signal func()) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, s.listenCheck)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, context.DeadlineExceeded) || wctx.Err() != nil && err != nil:
			// Silence: does the server still answer?
			pctx, cancel := context.WithTimeout(ctx, listenPing)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if from, _, _ := strings.Cut(n.Payload, " "); from != s.instance {
				signal()
			}
		}
	}
}
