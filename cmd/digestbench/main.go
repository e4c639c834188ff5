// Command digestbench measures the email digest: it sends one digest to
// a list of subscribers (100,000 by default) through an SMTP sink running
// as a separate process, the way the daemon sends it (SQLite store,
// per-recipient claims and records, signed unsubscribe links, the email
// channel over go-mail's SMTP client), and prints the messages per second
// and the peak resident memory of its own process (VmHWM).
//
//	go run ./cmd/digestbench                 # its own sink, in a child process
//	go run ./cmd/digestbench -smtp 127.0.0.1:2525   # an external sink (Postfix's smtp-sink)
//
// It is not a test: numbers depend on the machine.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/syndicate-daemon/syndicate/channels/email"
	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/store/sqlite"
	"github.com/syndicate-daemon/syndicate/syndicate/subscribe"
)

func main() {
	sinkAddr := flag.String("serve-sink", "", "run as the SMTP sink on this `address` (the benchmark starts it)")
	n := flag.Int("n", 100_000, "subscribers")
	conns := flag.Int("connections", email.DefaultConnections, "SMTP connections")
	rate := flag.Float64("rate", 0, "messages per second (0: no cap)")
	batch := flag.Int("batch", syndicate.DefaultDigestBatch, "recipients claimed and recorded at a time")
	articles := flag.Int("articles", 10, "articles in the digest")
	smtpAddr := flag.String("smtp", "", "use the SMTP sink at this `host:port` instead of starting one")
	dir := flag.String("dir", "", "keep the database in this directory (default: a temporary one, removed)")
	verbose := flag.Bool("v", false, "log what the digest run does")
	flag.Parse()
	if *sinkAddr != "" {
		fmt.Fprintln(os.Stderr, "sink:", serveSink(*sinkAddr))
		os.Exit(1)
	}
	if err := run(*n, *conns, *rate, *batch, *articles, *smtpAddr, *dir, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "digestbench:", err)
		os.Exit(1)
	}
}

func run(n, conns int, rate float64, batch, nArticles int, smtpAddr, dir string, verbose bool) error {
	ctx := context.Background()
	var sink *exec.Cmd
	if smtpAddr == "" {
		var err error
		if sink, smtpAddr, err = startSink(); err != nil {
			return err
		}
		defer sink.Process.Kill()
	}
	host, portText, err := net.SplitHostPort(smtpAddr)
	if err != nil {
		return err
	}
	port, _ := strconv.Atoi(portText)

	if dir == "" {
		if dir, err = os.MkdirTemp("", "digestbench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	store, err := sqlite.Open(ctx, filepath.Join(dir, "bench.db"))
	if err != nil {
		return err
	}
	defer store.Close()

	setup := time.Now()
	if err := seed(ctx, store, n, nArticles); err != nil {
		return err
	}
	links, err := subscribe.NewLinks("https://news.example.org", []byte("benchmark secret 0123456789abcdef"), nil)
	if err != nil {
		return err
	}
	log := slog.New(slog.DiscardHandler)
	if verbose {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	ch, err := email.New(email.Config{
		ID: "digest-bench", List: "bench", From: "Emancipation <news@example.org>",
		PublicURL: "https://news.example.org", UnsubscribeURL: links.UnsubscribeURL,
		Host: host, Port: port, TLS: email.TLSNone, Connections: conns, Rate: rate, Log: log,
	})
	if err != nil {
		return err
	}
	engine := &syndicate.Engine{
		Store: store,
		Digests: map[string]syndicate.DigestTarget{"digest-bench": {
			ID: "digest-bench", List: "bench", Mailer: ch, BatchSize: batch, MaxArticles: nArticles,
		}},
		Log: log,
	}
	fmt.Printf("setup: %d subscribers, %d articles in %v; RSS %s\n", n, nArticles, time.Since(setup).Round(time.Millisecond), memory("VmRSS"))
	runtime.GC()

	start := time.Now()
	res, made, err := engine.SendDigestNow(ctx, "digest-bench")
	took := time.Since(start)
	if err != nil {
		return err
	}
	if !made {
		return errors.New("no digest made")
	}
	sent := res.Counts[syndicate.RecipientSent]
	fmt.Printf("digest: %d sent, %d deferred, %d failed, %d uncertain in %v over %d connections (batch %d)\n",
		sent, res.Counts[syndicate.RecipientDeferred], res.Counts[syndicate.RecipientFailed],
		res.Counts[syndicate.RecipientUncertain], took.Round(time.Millisecond), conns, batch)
	fmt.Printf("throughput: %.0f messages/s\n", float64(sent)/took.Seconds())
	fmt.Printf("peak RSS of this process (VmHWM): %s\n", memory("VmHWM"))
	if sink != nil {
		sink.Process.Signal(syscall.SIGTERM)
	}
	if sent != n {
		return fmt.Errorf("%d of %d sent", sent, n)
	}
	return nil
}

// startSink runs this program as the sink, in a child process, and
// returns its address.
func startSink() (*exec.Cmd, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(self, "-serve-sink", "127.0.0.1:0")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		cmd.Process.Kill()
		return nil, "", errors.New("the sink did not start")
	}
	addr, ok := strings.CutPrefix(lines.Text(), "listening ")
	if !ok {
		cmd.Process.Kill()
		return nil, "", fmt.Errorf("the sink said %q", lines.Text())
	}
	go func() {
		for lines.Scan() {
			fmt.Println("sink:", lines.Text())
		}
	}()
	return cmd, addr, nil
}

// seed records the articles, pending for the digest, and n confirmed
// subscribers.
func seed(ctx context.Context, store *sqlite.Store, n, nArticles int) error {
	rec := syndicate.PollRecord{State: syndicate.FeedState{FeedID: "bench", LastPollAt: time.Now(), LastOKAt: time.Now()}}
	day := time.Now().Add(-time.Duration(nArticles) * 24 * time.Hour)
	for i := range nArticles {
		key := fmt.Sprintf("article-%d", i)
		rec.Articles = append(rec.Articles, syndicate.Article{
			FeedID: "bench", Key: key, Link: "https://news.example.org/" + key,
			Title:        fmt.Sprintf("Mass strike in Kazakhstan, part %d: what the oil workers won", i+1),
			Summary:      strings.Repeat("The crackdown on protests in Kazakhstan has become internationalized, while the strike spread through the country. ", 3),
			ImageURL:     "https://news.example.org/img/" + key + ".jpg",
			ImageCaption: "Oil workers on wildcat strike, start of protests in Kazakhstan.",
			Categories:   []string{"Kazakhstan", "Mass strike"},
			Language:     "en", Published: day.Add(time.Duration(i) * 24 * time.Hour), Hash: key,
		})
		rec.Deliveries = append(rec.Deliveries, syndicate.NewDelivery{ArticleKey: key, ChannelID: "digest-bench", State: syndicate.StatePending})
	}
	if err := store.RecordPoll(ctx, rec); err != nil {
		return err
	}
	for i := range n {
		_, _, err := store.AddSubscriber(ctx, syndicate.Subscriber{
			List: "bench", Email: fmt.Sprintf("reader%06d@example.net", i), State: syndicate.SubscriberConfirmed,
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// memory reads a line of /proc/self/status (VmRSS, VmHWM).
func memory(field string) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				return strings.TrimSpace(v)
			}
			return fmt.Sprintf("%.1f MB", float64(kb)/1024)
		}
	}
	return "unknown"
}
