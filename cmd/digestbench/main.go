// Command digestbench measures the email digest: it sends one digest to
// a list of subscribers (100,000 by default) through an SMTP sink running
// as a separate process, the way the daemon sends it (SQLite store,
// per-recipient claims and records, signed unsubscribe links, the email
// channel over go-mail's SMTP client), and prints the messages per second
// and the peak resident memory of its own process (VmHWM).
//
//	go run ./cmd/digestbench                 # its own sink, in a child process
//	go run ./cmd/digestbench -smtp 127.0.0.1:2525   # an external sink (Postfix's smtp-sink)
//	go run ./cmd/digestbench -postfix -n 20000 -runs 3
//
// With -postfix it starts Postfix's smtp-sink on a loopback port and, in
// each of -runs rounds, times Postfix's smtp-source on it (8 sessions, as
// many messages, each with the digest's body size), once with a new
// connection for each message (its default) and once keeping them (-d),
// then the digest; it prints the rates, the digest's ratio to each, the
// processor time a message and how busy smtp-sink was, and the medians
// over the rounds. It fails when smtp-sink or smtp-source is not installed
// (Debian: the postfix package). -cpuprofile writes a profile of the
// rounds.
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
	"runtime/pprof"
	"slices"
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
	var o options
	flag.IntVar(&o.n, "n", 100_000, "subscribers")
	flag.IntVar(&o.conns, "connections", email.DefaultConnections, "SMTP connections")
	flag.Float64Var(&o.rate, "rate", 0, "messages per second (0: no cap)")
	flag.IntVar(&o.batch, "batch", syndicate.DefaultDigestBatch, "recipients claimed and recorded at a time")
	flag.IntVar(&o.articles, "articles", 10, "articles in the digest")
	flag.StringVar(&o.smtpAddr, "smtp", "", "use the SMTP sink at this `host:port` instead of starting one")
	flag.BoolVar(&o.postfix, "postfix", false, "start Postfix's smtp-sink on a loopback port and compare the digest with smtp-source on it")
	flag.IntVar(&o.sessions, "source-sessions", 8, "smtp-source's parallel sessions (with -postfix)")
	flag.IntVar(&o.runs, "runs", 1, "digests to send (each after smtp-source's runs, with -postfix); the medians are printed")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the digest runs to `file`")
	flag.StringVar(&o.dir, "dir", "", "keep the database in this directory (default: a temporary one, removed)")
	flag.BoolVar(&o.verbose, "v", false, "log what the digest run does")
	flag.Parse()
	if *sinkAddr != "" {
		fmt.Fprintln(os.Stderr, "sink:", serveSink(*sinkAddr))
		os.Exit(1)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "digestbench:", err)
		os.Exit(1)
	}
}

type options struct {
	n, conns, batch, articles int
	rate                      float64
	smtpAddr, dir             string
	postfix                   bool
	sessions, runs            int
	cpuProfile                string
	verbose                   bool
}

func run(o options) error {
	ctx := context.Background()
	if o.runs < 1 {
		return errors.New("-runs: want at least 1")
	}
	var err error
	var pf *postfix
	switch {
	case o.postfix && o.smtpAddr != "":
		return errors.New("-postfix starts its own sink: leave out -smtp")
	case o.postfix:
		if pf, err = startPostfixSink(); err != nil {
			return err
		}
		defer pf.stop()
		o.smtpAddr = pf.addr
		fmt.Printf("smtp-sink %s listening on %s\n", pf.sinkPath, pf.addr)
	case o.smtpAddr == "":
		sink, addr, err := startSink()
		if err != nil {
			return err
		}
		defer func() {
			sink.Process.Signal(syscall.SIGTERM)
			sink.Wait()
		}()
		o.smtpAddr = addr
	}
	host, portText, err := net.SplitHostPort(o.smtpAddr)
	if err != nil {
		return err
	}
	port, _ := strconv.Atoi(portText)

	dir := o.dir
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
	if err := seedSubscribers(ctx, store, o.n); err != nil {
		return err
	}
	links, err := subscribe.NewLinks("https://news.example.org", []byte("benchmark secret 0123456789abcdef"), nil)
	if err != nil {
		return err
	}
	log := slog.New(slog.DiscardHandler)
	if o.verbose {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	cfg := email.Config{
		ID: "digest-bench", List: "bench", From: "Emancipation <news@example.org>",
		PublicURL: "https://news.example.org", UnsubscribeURL: links.UnsubscribeURL,
		Host: host, Port: port, TLS: email.TLSNone, Connections: o.conns, Rate: o.rate, Log: log,
	}
	ch, err := email.New(cfg)
	if err != nil {
		return err
	}
	size, bodySize, err := probeSize(ctx, cfg, benchArticles(0, o.articles))
	if err != nil {
		return fmt.Errorf("measuring a message: %w", err)
	}
	timed := &timedMailer{Mailer: ch}
	engine := &syndicate.Engine{
		Store: store,
		Digests: map[string]syndicate.DigestTarget{"digest-bench": {
			ID: "digest-bench", List: "bench", Mailer: timed, BatchSize: o.batch, MaxArticles: o.articles,
		}},
		Log: log,
	}
	fmt.Printf("setup: %d subscribers, %d articles, %d bytes a message (body %d) in %v; RSS %s\n",
		o.n, o.articles, size, bodySize, time.Since(setup).Round(time.Millisecond), memory("VmRSS"))

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// smtp-source runs as the command has it (a new connection for
	// each message, its default) and with -d (connections kept, as the
	// digest keeps them).
	modes := []struct {
		name  string
		reuse bool
	}{{"", false}, {" -d", true}}
	var digestRates, peaks []float64
	sourceRates := make([][]float64, len(modes))
	ratios := make([][]float64, len(modes))
	peakKnown := false
	for r := range o.runs {
		var sourceRate []float64
		for i, mode := range modes {
			if pf == nil {
				break
			}
			sinkBefore := pf.sinkCPU()
			took, err := pf.source(o.sessions, o.n, bodySize, mode.reuse)
			if err != nil {
				return err
			}
			rate := float64(o.n) / took.Seconds()
			fmt.Printf("run %d: smtp-source -s %d%s: %d messages in %v: %.0f messages/s (smtp-sink busy %.0f%%)\n",
				r+1, o.sessions, mode.name, o.n, took.Round(time.Millisecond), rate,
				100*(pf.sinkCPU()-sinkBefore).Seconds()/took.Seconds())
			sourceRate = append(sourceRate, rate)
			sourceRates[i] = append(sourceRates[i], rate)
		}
		if err := seedArticles(ctx, store, r, o.articles); err != nil {
			return err
		}
		runtime.GC()
		resetPeak := resetPeakRSS()
		peakKnown = peakKnown || resetPeak
		var sinkBefore time.Duration
		if pf != nil {
			sinkBefore = pf.sinkCPU()
		}
		cpuBefore := processCPU()
		timed.sending = 0
		start := time.Now()
		res, made, err := engine.SendDigestNow(ctx, "digest-bench")
		took := time.Since(start)
		cpu := processCPU() - cpuBefore
		if err != nil {
			return err
		}
		if !made {
			return errors.New("no digest made")
		}
		sent := res.Counts[syndicate.RecipientSent]
		rate := float64(sent) / took.Seconds()
		digestRates = append(digestRates, rate)
		fmt.Printf("run %d: digest: %d sent, %d deferred, %d failed, %d uncertain in %v over %d connections (batch %d): %.0f messages/s\n",
			r+1, sent, res.Counts[syndicate.RecipientDeferred], res.Counts[syndicate.RecipientFailed],
			res.Counts[syndicate.RecipientUncertain], took.Round(time.Millisecond), o.conns, o.batch, rate)
		fmt.Printf("run %d: %.0f%% of the time in the mailer's Send, the rest in the store between batches\n",
			r+1, 100*timed.sending.Seconds()/took.Seconds())
		fmt.Printf("run %d: processor time of the digest: %.0f µs a message", r+1, float64(cpu.Microseconds())/float64(max(sent, 1)))
		if pf != nil {
			fmt.Printf(" (smtp-sink busy %.0f%%)", 100*(pf.sinkCPU()-sinkBefore).Seconds()/took.Seconds())
		}
		fmt.Println()
		peak := memoryKB("VmHWM")
		peaks = append(peaks, float64(peak))
		if resetPeak {
			fmt.Printf("run %d: peak RSS during the digest (VmHWM): %.1f MB\n", r+1, float64(peak)/1024)
		}
		for i, mode := range modes {
			if pf == nil {
				break
			}
			ratios[i] = append(ratios[i], rate/sourceRate[i])
			fmt.Printf("run %d: ratio digest / smtp-source -s %d%s: %.2f\n", r+1, o.sessions, mode.name, rate/sourceRate[i])
		}
		if sent != o.n {
			return fmt.Errorf("%d of %d sent", sent, o.n)
		}
	}
	fmt.Printf("digest: %.0f messages/s (median of %d)\n", median(digestRates), o.runs)
	for i, mode := range modes {
		if pf == nil {
			break
		}
		fmt.Printf("smtp-source -s %d%s: %.0f messages/s; ratio digest / smtp-source: %.2f (medians of %d)\n",
			o.sessions, mode.name, median(sourceRates[i]), median(ratios[i]), o.runs)
	}
	fmt.Printf("peak RSS of this process (VmHWM): %s", memory("VmHWM"))
	if peakKnown {
		fmt.Printf("; during the digests at most %.1f MB", slices.Max(peaks)/1024)
	}
	fmt.Println()
	return nil
}

// timedMailer adds up the time the digest run spends in Mailing.Send,
// which is all but the store's work between batches.
type timedMailer struct {
	syndicate.Mailer
	sending time.Duration
}

func (t *timedMailer) Prepare(ctx context.Context, d syndicate.Digest, articles []syndicate.Article) (syndicate.Mailing, error) {
	m, err := t.Mailer.Prepare(ctx, d, articles)
	if err != nil {
		return nil, err
	}
	return timedMailing{m, t}, nil
}

type timedMailing struct {
	syndicate.Mailing
	t *timedMailer
}

func (m timedMailing) Send(ctx context.Context, subs []syndicate.Subscriber, log syndicate.MessageLog) ([]syndicate.MailResult, error) {
	start := time.Now()
	res, err := m.Mailing.Send(ctx, subs, log)
	m.t.sending += time.Since(start)
	return res, err
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
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

// benchArticles are the articles of run r's digest.
func benchArticles(r, n int) []syndicate.Article {
	var out []syndicate.Article
	day := time.Now().Add(-time.Duration(n) * 24 * time.Hour)
	for i := range n {
		key := fmt.Sprintf("run-%d-article-%d", r, i)
		out = append(out, syndicate.Article{
			FeedID: "bench", Key: key, Link: "https://news.example.org/" + key,
			Title:        fmt.Sprintf("Mass strike in Kazakhstan, part %d: what the oil workers won", i+1),
			Summary:      strings.Repeat("The crackdown on protests in Kazakhstan has become internationalized, while the strike spread through the country. ", 3),
			ImageURL:     "https://news.example.org/img/" + key + ".jpg",
			ImageCaption: "Oil workers on wildcat strike, start of protests in Kazakhstan.",
			Categories:   []string{"Kazakhstan", "Mass strike"},
			Language:     "en", Published: day.Add(time.Duration(i) * 24 * time.Hour), Hash: key,
		})
	}
	return out
}

// seedArticles records the articles of run r, pending for the digest.
func seedArticles(ctx context.Context, store *sqlite.Store, r, n int) error {
	rec := syndicate.PollRecord{State: syndicate.FeedState{FeedID: "bench", LastPollAt: time.Now(), LastOKAt: time.Now()}}
	rec.Articles = benchArticles(r, n)
	for _, a := range rec.Articles {
		rec.Deliveries = append(rec.Deliveries, syndicate.NewDelivery{ArticleKey: a.Key, ChannelID: "digest-bench", State: syndicate.StatePending})
	}
	return store.RecordPoll(ctx, rec)
}

// seedSubscribers records n confirmed subscribers.
func seedSubscribers(ctx context.Context, store *sqlite.Store, n int) error {
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
	kb := memoryKB(field)
	if kb < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f MB", float64(kb)/1024)
}

// memoryKB reads a line of /proc/self/status in kB; -1 when it cannot.
func memoryKB(field string) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				return -1
			}
			return kb
		}
	}
	return -1
}

// processCPU is the processor time this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS sets VmHWM back to the current RSS (Linux 4.0 and later),
// so that the next reading is the peak of what follows.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}
