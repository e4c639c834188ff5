package syndicate_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/store/sqlite"
)

// lockingChannel locks the database from another connection (as a backup
// or a VACUUM would) while its post is on the wire, past the store's busy
// timeout, and then answers.
type lockingChannel struct {
	*channel
	db   *sql.DB
	hold time.Duration
	t    *testing.T
}

func (c lockingChannel) Send(ctx context.Context, p syndicate.Post) (syndicate.Receipt, *syndicate.SendError) {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		c.t.Error(err)
		return c.channel.Send(ctx, p)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		c.t.Error(err)
	}
	go func() {
		time.Sleep(c.hold)
		_, _ = conn.ExecContext(context.Background(), "COMMIT")
		conn.Close()
	}()
	return c.channel.Send(ctx, p)
}

// TestSentIsRecordedThroughABusyStore: with the database locked past the
// busy timeout while the post's answer comes back, the answer is kept and
// written once the lock goes: the delivery ends sent with its remote id.
func TestSentIsRecordedThroughABusyStore(t *testing.T) {
	if testing.Short() {
		t.Skip("holds a lock for longer than the store's 10 s busy timeout")
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "s.db")
	store, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	locker, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(1000)")
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()

	feed := &reader{}
	ch := &channel{}
	engine := &syndicate.Engine{
		Store:  store,
		Reader: feed,
		Feeds:  []syndicate.Feed{{Source: syndicate.FeedSource{ID: "blog"}, To: []string{"a"}}},
		Targets: map[string]syndicate.Target{"a": {ID: "a", Retry: syndicate.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Second, MaxBackoff: time.Minute},
			Channel: lockingChannel{channel: ch, db: locker, hold: 12 * time.Second, t: t}}},
	}
	feed.set()
	if _, err := engine.Once(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	feed.set(article(1, 1))
	r, err := engine.Once(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	views, err := store.ListDeliveries(t.Context(), syndicate.DeliveryFilter{ChannelID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(views) != 1 || views[0].State != syndicate.StateSent || views[0].RemoteID != "1" || !r.OK() {
		t.Fatalf("after a busy store: %+v, report %+v; want sent with remote id 1", views, r)
	}
	if n := len(ch.titles()); n != 1 {
		t.Fatalf("%d posts, want 1", n)
	}
}
