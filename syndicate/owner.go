package syndicate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Work shared by several processes on one store (replicas on PostgreSQL,
// or the daemon and the command line on SQLite) is claimed, never
// assumed: a delivery being sent, a digest message being mailed, a
// channel's queue, a feed's poll each name the process that holds them
// (its owner) and until when. Another process takes the work over only
// once that process has certainly stopped: its lease ended, or it ran on
// this host and its process is gone.

// NewOwner names this process in the claims it makes: its host, its
// process id and a random part, so a later process that reuses the id
// (a restarted container is pid 1 again) is never taken for it.
func NewOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	var nonce [6]byte
	_, _ = rand.Read(nonce[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(nonce[:]))
}

// ownerStopped reports whether the process named owner has certainly
// stopped, as seen from the process named self: a row written before
// owners were recorded (empty owner), a process of this host whose id is
// not running, or an earlier process with this process's id. Anything
// else may still be running and waits for its lease.
func ownerStopped(owner, self string) bool {
	if owner == "" {
		return true
	}
	if owner == self {
		return false
	}
	host, pid, ok := splitOwner(owner)
	selfHost, selfPID, selfOK := splitOwner(self)
	if !ok || !selfOK || host != selfHost {
		return false
	}
	if pid == selfPID {
		return true // this id is ours now: its earlier holder is gone
	}
	err := syscall.Kill(pid, 0)
	return errors.Is(err, syscall.ESRCH)
}

func splitOwner(owner string) (host string, pid int, ok bool) {
	parts := strings.Split(owner, "/")
	if len(parts) != 3 {
		return "", 0, false
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid <= 0 {
		return "", 0, false
	}
	return parts[0], pid, true
}

// stoppedOwner reports whether the process named owner has stopped.
func (e *Engine) stoppedOwner(owner string) bool { return ownerStopped(owner, e.owner()) }

// Lease names.
func channelLease(channelID string) string { return "channel:" + channelID }
func feedLease(feedID string) string       { return "feed:" + feedID }

// owner is the name of this engine's process in its claims.
func (e *Engine) owner() string {
	e.ownerOnce.Do(func() {
		if e.Owner == "" {
			e.Owner = NewOwner()
		}
	})
	return e.Owner
}

// takeLease takes or renews the named lease for d, also from a holder
// that has stopped; it reports whether this process holds it, and who
// does.
func (e *Engine) takeLease(ctx context.Context, name string, d time.Duration) (held bool, holder string, err error) {
	now := e.now()
	holder, err = e.Store.TakeLease(ctx, name, e.owner(), now, now.Add(d), "")
	if err == nil && holder != e.owner() && ownerStopped(holder, e.owner()) {
		holder, err = e.Store.TakeLease(ctx, name, e.owner(), now, now.Add(d), holder)
	}
	if err != nil {
		return false, "", fmt.Errorf("take lease %q: %w", name, err)
	}
	return holder == e.owner(), holder, nil
}

// releaseLease gives up a lease this process holds, so another process
// need not wait for it to end; a failure only delays that.
func (e *Engine) releaseLease(ctx context.Context, name string) {
	ctx, cancel := detached(ctx, 5*time.Second)
	defer cancel()
	if err := e.Store.ReleaseLease(ctx, name, e.owner()); err != nil {
		e.log().Warn("release lease", "lease", name, "error", err)
	}
}

// leaseRenewal is how much of a held lease may run out before it is
// renewed: a channel's queue writes its lease at most this often.
const leaseRenewal = 30 * time.Second

// leaseAskAgain is how long a process that found a channel's queue held
// by another does not ask again.
const leaseAskAgain = 5 * time.Second

// holdChannel takes or keeps the lease on a channel's queue, so one
// process at a time delivers it, in order and paced as one; it reports
// whether this process holds it. A dry run writes nothing and holds all.
func (e *Engine) holdChannel(ctx context.Context, channelID string) (bool, error) {
	if e.DryRun {
		return true, nil
	}
	term := e.deliveryLease()
	now := e.now()
	if v, ok := e.heldChannels.Load(channelID); ok && v.(time.Time).Sub(now) > term-leaseRenewal {
		return true, nil
	}
	if v, ok := e.channelsElsewhere.Load(channelID); ok && now.Before(v.(time.Time)) {
		return false, nil // asked a moment ago: every write of the holder wakes this process
	}
	held, holder, err := e.takeLease(ctx, channelLease(channelID), term)
	if err != nil {
		return false, fmt.Errorf("channel %q: %w", channelID, err)
	}
	if !held {
		e.channelsElsewhere.Store(channelID, now.Add(leaseAskAgain))
		if _, had := e.heldChannels.LoadAndDelete(channelID); had {
			e.log().Info("channel taken over by another process", "channel", channelID, "holder", holder)
		}
		return false, nil
	}
	e.heldChannels.Store(channelID, now.Add(term))
	return true, nil
}

// releaseChannel gives up the channel's queue, if held, as a process
// stops: another takes it over at once instead of after the lease.
func (e *Engine) releaseChannel(ctx context.Context, channelID string) {
	if _, had := e.heldChannels.LoadAndDelete(channelID); had {
		e.releaseLease(ctx, channelLease(channelID))
	}
}
