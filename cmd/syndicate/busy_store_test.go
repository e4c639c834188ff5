package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// busyHold is how long TestBusyStoreKeepsTheAnswerAndThePoll holds the
// database: past the SQLite store's busy timeout (10 s), so that the
// daemon's own wait gives up and its retry has to carry the write.
const busyHold = 15 * time.Second

// heldAnswers passes every request on to target; for the first request
// to a posting method it takes the platform's answer, says so on arrived,
// and writes it only once release is closed: the post is made, and its
// answer comes back when the test chooses.
type heldAnswers struct {
	arrived chan struct{}
	release chan struct{}
	once    sync.Once

	mu     sync.Mutex
	answer []byte // the answer held, as the platform gave it
}

func holdAnswers(t testing.TB, target string, methods ...string) (*heldAnswers, string) {
	t.Helper()
	h := &heldAnswers{arrived: make(chan struct{}), release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := forward(r, target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		answer, err := io.ReadAll(resp.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		held := false
		for _, m := range methods {
			if strings.HasSuffix(r.URL.Path, "/"+m) {
				h.once.Do(func() {
					held = true
					h.mu.Lock()
					h.answer = answer
					h.mu.Unlock()
					close(h.arrived)
				})
			}
		}
		if held {
			select {
			case <-h.release:
			case <-r.Context().Done():
				return
			}
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(answer)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(h.let) // never leave a handler waiting
	return h, srv.URL
}

func (h *heldAnswers) let() {
	select {
	case <-h.release:
	default:
		close(h.release)
	}
}

// telegramRemoteID is the remote id the Telegram channel records for the
// sendMessage answer held: CHAT/MESSAGE.
func (h *heldAnswers) telegramRemoteID(t testing.TB) string {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	var a struct {
		OK     bool `json:"ok"`
		Result struct {
			MessageID int64 `json:"message_id"`
			Chat      struct {
				ID int64 `json:"id"`
			} `json:"chat"`
		} `json:"result"`
	}
	if err := json.Unmarshal(h.answer, &a); err != nil || !a.OK || a.Result.MessageID == 0 || a.Result.Chat.ID == 0 {
		t.Fatalf("the Telegram answer held is not a message (%v): %s", err, h.answer)
	}
	return fmt.Sprintf("%d/%d", a.Result.Chat.ID, a.Result.MessageID)
}

// lockedLog collects a subprocess's output for reading while it runs.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// eventually polls ok until it holds, failing after within with the
// daemon's logs.
func eventually(t testing.TB, logs *lockedLog, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so after %s; the daemon's log:\n%s", what, within, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// statusOf runs `status --json` as a process of its own, as an operator
// would beside the daemon.
func statusOf(t testing.TB, bin, config string) statusJSON {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "status", "--config", config, "--json")
	cmd.Env = append(os.Environ(), "MASTODON_TOKEN="+mastodonToken, "ADMIN_TOKEN="+adminToken)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("status --json: %v\n%s", err, errOut.String())
	}
	var st statusJSON
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out.String())
	}
	return st
}

// metricValue reads one sample of the daemon's /metrics; 0 when absent.
func metricValue(t testing.TB, base, sample string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\S+)$`).FindStringSubmatch(body(base + "/metrics"))
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s: %v", sample, err)
	}
	return v
}

// TestBusyStoreKeepsTheAnswerAndThePoll runs the built binary's `run`
// against local Mastodon and Telegram servers and locks its SQLite file
// from another connection (BEGIN EXCLUSIVE, as a backup or a VACUUM
// would) twice, each time for 15 s, past the store's busy timeout. First
// while the Telegram post is made and its answer held on the wire, then
// let back: once the lock goes, the delivery is sent with the remote id
// Telegram gave, at its first attempt. Then while a ping asks for a poll:
// the feed is fetched once the lock goes, and no poll counts as failed.
// Each platform has one post, nothing is uncertain, and SIGTERM stops the
// daemon cleanly.
func TestBusyStoreKeepsTheAnswerAndThePoll(t *testing.T) {
	if testing.Short() {
		t.Skip("holds the database locked for 15 s, past the store's 10 s busy timeout")
	}
	t.Parallel()
	bin := syndicateBinary(t)
	s := newSite(t, siteOptions{})
	s.mustOnce() // first sight: the routes are baselined, nothing posted
	s.feeds.publish("lock", "Written through a lock", "Mon, 23 Nov 2026 10:00:00 +0100")

	held, telegramURL := holdAnswers(t, s.telegram.URL(), "sendMessage", "sendPhoto")
	addr := freeAddr(t)
	raw, _ := os.ReadFile(s.config)
	config := s.writeFile("busy.yaml", strings.NewReplacer(
		`api_url: "`+s.telegram.URL()+`"`, `api_url: "`+telegramURL+`"`,
		`listen: "127.0.0.1:0"`, fmt.Sprintf("listen: %q", addr),
	).Replace(string(raw)))
	base := "http://" + addr

	logs := &lockedLog{}
	daemon, exited := startRunProcess(t, bin, config, logs)

	select {
	case <-held.arrived:
	case <-exited:
		t.Fatalf("run exited before posting to Telegram:\n%s", logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("run did not post to Telegram:\n%s", logs.String())
	}
	eventually(t, logs, 20*time.Second, "the daemon serves", func() bool { return get(base+"/readyz") == http.StatusOK })
	const title = "Written through a lock"
	telegramID := deliveryOf(t, statusOf(t, bin, config), "telegram-en", title).ID
	errorPolls := `syndicate_feed_polls_total{feed="emancipation-en",result="error"}`
	if n := metricValue(t, base, errorPolls); n != 0 {
		t.Fatalf("%v failed polls before the lock", n)
	}
	locker, err := sql.Open("sqlite", "file:"+filepath.Join(s.dir, "syndicate.db")+"?_pragma=busy_timeout(30000)")
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	alive := func() {
		t.Helper()
		select {
		case <-exited:
			t.Fatalf("run exited during the lock:\n%s", logs.String())
		default:
		}
	}

	// 1. The post is on Telegram, its answer on hold: lock the store, then
	// let the answer come back. Recording it waits out the busy timeout,
	// fails, and is tried again, with the answer kept.
	lock := lockStore(t, locker)
	held.let()
	eventually(t, logs, time.Minute, "the daemon met the lock recording the Telegram post", func() bool {
		return logged(logs, "the store is busy", fmt.Sprintf("delivery %d: ", telegramID))
	})
	// A second process reads the ledger meanwhile (WAL readers are not
	// locked out): the post is not recorded yet.
	if d := deliveryOf(t, statusOf(t, bin, config), "telegram-en", title); d.State != "sending" {
		t.Fatalf("telegram during the lock: %+v, want still sending", d)
	}
	alive()
	sendLock := lock.release()

	wantID := held.telegramRemoteID(t)
	eventually(t, logs, 30*time.Second, "the Telegram post recorded sent after the lock", func() bool {
		return deliveryOf(t, statusOf(t, bin, config), "telegram-en", title).State == "sent"
	})
	if d := deliveryOf(t, statusOf(t, bin, config), "telegram-en", title); d.RemoteID != wantID || d.Attempts != 1 {
		t.Fatalf("telegram: %+v, want sent at the first attempt with remote id %s", d, wantID)
	}

	// 2. A poll asked for (a ping) while the store is locked: its start
	// waits out the busy timeout, fails, and is tried again; the feed is
	// fetched once the lock goes, and nothing counts as a failed poll.
	fetches := s.feeds.count(s.feeds.requests, "en.rss.xml")
	lock = lockStore(t, locker)
	req, _ := http.NewRequest(http.MethodPost, base+"/hooks/ping?feed=emancipation-en", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ping during the lock: %d", resp.StatusCode)
	}
	eventually(t, logs, time.Minute, "the poll met the lock", func() bool {
		return logged(logs, "the store is busy", "start poll") || logged(logs, "poll failed")
	})
	if n := s.feeds.count(s.feeds.requests, "en.rss.xml"); n != fetches {
		t.Fatalf("the feed fetched %d times during the lock, before its poll could start", n-fetches)
	}
	alive()
	pollLock := lock.release()
	notModified := `syndicate_feed_polls_total{feed="emancipation-en",result="not_modified"}`
	eventually(t, logs, 30*time.Second, "the poll asked for during the lock made and recorded", func() bool {
		return s.feeds.count(s.feeds.requests, "en.rss.xml") > fetches && metricValue(t, base, notModified) >= 1
	})

	st := statusOf(t, bin, config)
	if d := deliveryOf(t, st, "mastodon-en", title); d.State != "sent" || d.RemoteID == "" {
		t.Errorf("mastodon: %+v, want sent with a remote id", d)
	}
	uncertain := 0
	for _, d := range st.Deliveries {
		if d.State == "uncertain" {
			uncertain++
			t.Errorf("uncertain: %+v", d)
		}
	}
	if len(st.Feeds) != 1 || st.Feeds[0].Failures != 0 || st.Feeds[0].LastError != "" {
		t.Errorf("the feed after the locks: %+v, want no failure", st.Feeds)
	}
	failed := metricValue(t, base, errorPolls)
	if failed != 0 {
		t.Errorf("%v polls counted failed for a busy store", failed)
	}
	if logged(logs, "poll failed") {
		t.Errorf("a poll failed for a busy store:\n%s", logs.String())
	}
	messages, statuses := len(s.telegram.Messages()), len(s.mastodon.Statuses())
	sends := s.telegram.Calls("sendMessage") + s.telegram.Calls("sendPhoto")
	if messages != 1 || sends != 1 || statuses != 1 {
		t.Errorf("%d Telegram messages (%d sends), %d Mastodon statuses; want one each", messages, sends, statuses)
	}

	if err := syscall.Kill(daemon.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("run still running 30 s after SIGTERM:\n%s", logs.String())
	}
	if code := daemon.ProcessState.ExitCode(); code != 0 || !logged(logs, "daemon stopped") {
		t.Fatalf("run exited %d after SIGTERM:\n%s", code, logs.String())
	}
	t.Logf("lock held %s with the Telegram answer in flight: sent, remote id %s, %d Telegram post (%d sends), %d Mastodon post, %d uncertain; "+
		"lock held %s with a poll asked for: made after it (%d feed requests), %v failed polls, feed failures %d",
		sendLock, wantID, messages, sends, statuses, uncertain,
		pollLock, s.feeds.count(s.feeds.requests, "en.rss.xml")-fetches, failed, st.Feeds[0].Failures)
}

// storeLock is a lock on the whole database, taken from a connection of
// its own as a backup or a VACUUM takes it.
type storeLock struct {
	t    testing.TB
	conn *sql.Conn
	at   time.Time
	done bool
}

func lockStore(t testing.TB, db *sql.DB) *storeLock {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
		conn.Close()
		t.Fatal(err)
	}
	l := &storeLock{t: t, conn: conn, at: time.Now()}
	t.Cleanup(func() { l.end() })
	return l
}

// release lets the lock go once it has been held busyHold, and says how
// long it was held.
func (l *storeLock) release() time.Duration {
	l.t.Helper()
	time.Sleep(time.Until(l.at.Add(busyHold)))
	if err := l.end(); err != nil {
		l.t.Fatal(err)
	}
	return time.Since(l.at).Round(100 * time.Millisecond)
}

func (l *storeLock) end() error {
	if l.done {
		return nil
	}
	l.done = true
	_, err := l.conn.ExecContext(context.Background(), "ROLLBACK")
	return errors.Join(err, l.conn.Close())
}

// logged reports whether a line of the log holds every part.
func logged(logs *lockedLog, parts ...string) bool {
	for line := range strings.Lines(logs.String()) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// deliveryOf finds the delivery of title to channel in st.
func deliveryOf(t testing.TB, st statusJSON, channel, title string) deliveryJSON {
	t.Helper()
	for _, d := range st.Deliveries {
		if d.Channel == channel && d.Title == title {
			return d
		}
	}
	t.Fatalf("no delivery of %q to %s in %+v", title, channel, st.Deliveries)
	return deliveryJSON{}
}
