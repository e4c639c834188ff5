package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// exitSecondSignal is the exit status after a second SIGTERM or SIGINT.
const exitSecondSignal = 1

// signalContext returns a context cancelled by the first SIGTERM or SIGINT:
// the daemon stops taking work, and a send in flight finishes and is
// recorded. A second signal exits at once with exitSecondSignal, saying so
// on stderr, without waiting for what is in flight: the next start
// resolves it (a Mastodon post is looked up among the account's statuses)
// or records it uncertain (Telegram, email), for an editor to decide.
// exit is os.Exit but in tests. stop releases the signals.
func signalContext(parent context.Context, stderr io.Writer, exit func(int)) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			fmt.Fprintf(stderr, "syndicate: second signal (%v): exiting now; what was being sent is resolved at the next start, or left uncertain\n", sig)
			exit(exitSecondSignal)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}
