// Command digestbench measures the email digest: it sends one digest to
// a list of subscribers (100,000 by default) through an SMTP sink running
// as a separate process, the way the daemon sends it (per-recipient
// claims and records in the store, signed unsubscribe links, the email
// channel over go-mail's SMTP client, the default connections and batch),
// and prints the messages per second and the peak resident memory of its
// own process (VmHWM).
//
//	go run ./cmd/digestbench                 # its own sink, in a child process
//	go run ./cmd/digestbench -smtp 127.0.0.1:2525   # an external sink (Postfix's smtp-sink)
//	go run ./cmd/digestbench -postfix -n 20000 -runs 3
//	go run ./cmd/digestbench -postfix -store postgres -replicas 3 -runs 3
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
// The store is SQLite (a file in a temporary directory) or, with -store
// postgres, a database in a throwaway PostgreSQL cluster
// (syndicate/store/postgres/pgtest: PostgreSQL's server binaries must be
// installed); the "db cpu" figures are then the processor time of the
// cluster's processes during the digest. With -replicas N (PostgreSQL
// only) each round also sends a second digest with N replicas: N child
// processes, each a daemon's engine of its own (its own owner name, pool
// and SMTP connections) whose schedule fires together, so that one of them
// makes the digest of the period and all of them send it, claiming the
// recipients in batches; it prints each replica's share and the aggregate
// rate (all messages over the time from the first replica's start to the
// last one's end), and checks that every subscriber got the digest once
// and that nothing is left claimed.
//
// It is not a test: numbers depend on the machine.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/syndicate-daemon/syndicate/channels/email"
	"github.com/syndicate-daemon/syndicate/cmd/internal/cpuprofile"
	"github.com/syndicate-daemon/syndicate/cmd/internal/pgcpu"
	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/store/postgres"
	"github.com/syndicate-daemon/syndicate/syndicate/store/postgres/pgtest"
	"github.com/syndicate-daemon/syndicate/syndicate/store/sqlite"
	"github.com/syndicate-daemon/syndicate/syndicate/subscribe"
)

func main() {
	sinkAddr := flag.String("serve-sink", "", "run as the SMTP sink on this `address` (the benchmark starts it)")
	var o options
	flag.IntVar(&o.n, "n", 100_000, "subscribers")
	flag.IntVar(&o.conns, "connections", email.DefaultConnections, "SMTP connections (of each replica)")
	flag.Float64Var(&o.rate, "rate", 0, "messages per second (0: no cap)")
	flag.IntVar(&o.batch, "batch", syndicate.DefaultDigestBatch, "recipients claimed and recorded at a time")
	flag.IntVar(&o.articles, "articles", 10, "articles in the digest")
	flag.StringVar(&o.smtpAddr, "smtp", "", "use the SMTP sink at this `host:port` instead of starting one")
	flag.BoolVar(&o.postfix, "postfix", false, "start Postfix's smtp-sink on a loopback port and compare the digest with smtp-source on it")
	flag.IntVar(&o.sessions, "source-sessions", 8, "smtp-source's parallel sessions (with -postfix)")
	flag.IntVar(&o.runs, "runs", 1, "digests to send (each after smtp-source's runs, with -postfix); the medians are printed")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the digest runs to `file` (of this process: with -replicas, each replica writes file.replica-N)")
	flag.StringVar(&o.dir, "dir", "", "keep the SQLite database in this directory (default: a temporary one, removed)")
	flag.StringVar(&o.store, "store", "sqlite", "the store: sqlite or postgres")
	flag.IntVar(&o.replicas, "replicas", 1, "with -store postgres: also send a digest with this many replica processes each round")
	flag.StringVar(&o.replicaDB, "replica", "", "run as a replica on the PostgreSQL database at this `URL` (the benchmark starts it)")
	flag.BoolVar(&o.verbose, "v", false, "log what the digest run does")
	flag.Parse()
	if *sinkAddr != "" {
		fmt.Fprintln(os.Stderr, "sink:", serveSink(*sinkAddr))
		os.Exit(1)
	}
	var err error
	if o.replicaDB != "" {
		err = replica(o)
	} else {
		err = run(o)
	}
	if err != nil {
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
	store, replicaDB          string
	replicas                  int
}

// benchStore is what the benchmark needs of a store.
type benchStore interface {
	syndicate.Store
	syndicate.DigestStore
	syndicate.SubscriberStore
	Close() error
}

const (
	channelID = "digest-bench"
	listName  = "bench"
)

// links and channelConfig are the same in the benchmark and its replicas.
func links() (*subscribe.Links, error) {
	return subscribe.NewLinks("https://news.example.org", []byte("benchmark secret 0123456789abcdef"), nil)
}

func channelConfig(o options, log *slog.Logger, l *subscribe.Links) (email.Config, error) {
	host, portText, err := net.SplitHostPort(o.smtpAddr)
	if err != nil {
		return email.Config{}, err
	}
	port, _ := strconv.Atoi(portText)
	return email.Config{
		ID: channelID, List: listName, From: "Emancipation <news@example.org>",
		PublicURL: "https://news.example.org", UnsubscribeURL: l.UnsubscribeURL,
		Host: host, Port: port, TLS: email.TLSNone, Connections: o.conns, Rate: o.rate, Log: log,
	}, nil
}

func run(o options) error {
	ctx := context.Background()
	if o.runs < 1 {
		return errors.New("-runs: want at least 1")
	}
	switch {
	case o.store != "sqlite" && o.store != "postgres":
		return fmt.Errorf("-store %q: want sqlite or postgres", o.store)
	case o.replicas < 1:
		return errors.New("-replicas: want at least 1")
	case o.replicas > 1 && o.store != "postgres":
		return errors.New("-replicas: replicas share a PostgreSQL store: add -store postgres")
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

	var store benchStore
	var dbURL string
	var dbCPU func() time.Duration // the cluster's processor time so far
	if o.store == "postgres" {
		cluster, err := pgtest.Start(ctx)
		if err != nil {
			return err
		}
		defer cluster.Stop()
		if dbURL, err = cluster.CreateDatabase(ctx, "digestbench"); err != nil {
			return err
		}
		pg, err := postgres.Open(ctx, dbURL)
		if err != nil {
			return err
		}
		store = pg
		postmaster, err := pgcpu.PostmasterPID(ctx, dbURL)
		if err != nil {
			pg.Close()
			return err
		}
		dbCPU = func() time.Duration { return pgcpu.ClusterCPU(postmaster) }
	} else {
		dir := o.dir
		if dir == "" {
			if dir, err = os.MkdirTemp("", "digestbench-"); err != nil {
				return err
			}
			defer os.RemoveAll(dir)
		}
		if store, err = sqlite.Open(ctx, filepath.Join(dir, "bench.db")); err != nil {
			return err
		}
	}
	defer store.Close()

	setup := time.Now()
	if err := seedSubscribers(ctx, store, o.n); err != nil {
		return err
	}
	l, err := links()
	if err != nil {
		return err
	}
	log := slog.New(slog.DiscardHandler)
	if o.verbose {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	cfg, err := channelConfig(o, log, l)
	if err != nil {
		return err
	}
	ch, err := email.New(cfg)
	if err != nil {
		return err
	}
	size, bodySize, err := probeSize(ctx, cfg, benchArticles("probe", o.articles))
	if err != nil {
		return fmt.Errorf("measuring a message: %w", err)
	}
	timed := &timedMailer{Mailer: ch}
	engine := &syndicate.Engine{
		Store: store,
		Digests: map[string]syndicate.DigestTarget{channelID: {
			ID: channelID, List: listName, Mailer: timed, BatchSize: o.batch, MaxArticles: o.articles,
		}},
		Log: log,
	}
	fmt.Printf("setup: store %s, %d subscribers, %d articles, %d bytes a message (body %d) in %v; RSS %s\n",
		o.store, o.n, o.articles, size, bodySize, time.Since(setup).Round(time.Millisecond), memory("VmRSS"))

	stopProfile, err := cpuprofile.Start(o.cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	// smtp-source runs as the command has it (a new connection for
	// each message, its default) and with -d (connections kept, as the
	// digest keeps them).
	modes := []struct {
		name  string
		reuse bool
	}{{"", false}, {" -d", true}}
	var digestRates, peaks, replicaRates []float64
	sourceRates := make([][]float64, len(modes))
	ratios := make([][]float64, len(modes))
	replicaRatios := make([][]float64, len(modes))
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
		if err := seedArticles(ctx, store, fmt.Sprintf("run-%d", r), o.articles); err != nil {
			return err
		}
		runtime.GC()
		resetPeak := resetPeakRSS()
		peakKnown = peakKnown || resetPeak
		var sinkBefore, dbBefore time.Duration
		if pf != nil {
			sinkBefore = pf.sinkCPU()
		}
		if dbCPU != nil {
			dbBefore = dbCPU()
		}
		cpuBefore := processCPU()
		timed.sending = 0
		start := time.Now()
		res, made, err := engine.SendDigestNow(ctx, channelID)
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
		if dbCPU != nil {
			fmt.Printf(", of PostgreSQL %.0f µs", float64((dbCPU()-dbBefore).Microseconds())/float64(max(sent, 1)))
		}
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

		if o.replicas > 1 {
			rate, err := replicaDigest(ctx, o, store, dbURL, pf, dbCPU, r)
			if err != nil {
				return fmt.Errorf("run %d: %d replicas: %w", r+1, o.replicas, err)
			}
			replicaRates = append(replicaRates, rate)
			for i, mode := range modes {
				if pf == nil {
					break
				}
				replicaRatios[i] = append(replicaRatios[i], rate/sourceRate[i])
				fmt.Printf("run %d: ratio %d replicas / smtp-source -s %d%s: %.2f\n", r+1, o.replicas, o.sessions, mode.name, rate/sourceRate[i])
			}
		}
	}
	fmt.Printf("digest: %.0f messages/s (median of %d)\n", median(digestRates), o.runs)
	if o.replicas > 1 {
		fmt.Printf("digest by %d replicas: %.0f messages/s in all (median of %d)\n", o.replicas, median(replicaRates), o.runs)
	}
	for i, mode := range modes {
		if pf == nil {
			break
		}
		fmt.Printf("smtp-source -s %d%s: %.0f messages/s; ratio digest / smtp-source: %.2f", o.sessions, mode.name,
			median(sourceRates[i]), median(ratios[i]))
		if o.replicas > 1 {
			fmt.Printf("; %d replicas / smtp-source: %.2f", o.replicas, median(replicaRatios[i]))
		}
		fmt.Printf(" (medians of %d)\n", o.runs)
	}
	fmt.Printf("peak RSS of this process (VmHWM): %s", memory("VmHWM"))
	if peakKnown {
		fmt.Printf("; during the digests at most %.1f MB", slices.Max(peaks)/1024)
	}
	fmt.Println()
	return nil
}

// replicaResult is what a replica prints when its pass is over.
type replicaResult struct {
	Owner  string                           `json:"owner"`
	Start  time.Time                        `json:"start"`
	End    time.Time                        `json:"end"`
	Counts map[syndicate.RecipientState]int `json:"counts"`
	CPU    time.Duration                    `json:"cpu"`
	PeakKB int                              `json:"peak_kb"`
	Made   bool                             `json:"made"` // this replica made the digest
	Error  string                           `json:"error,omitempty"`
}

// replicaDigest sends one digest with o.replicas replica processes and
// returns the aggregate rate.
func replicaDigest(ctx context.Context, o options, store benchStore, dbURL string, pf *postfix, dbCPU func() time.Duration, r int) (float64, error) {
	if err := seedArticles(ctx, store, fmt.Sprintf("replicas-%d", r), o.articles); err != nil {
		return 0, err
	}
	// The schedule (every hour) last fired an hour and a half ago: it is
	// due on every replica at once, as after a deploy of all of them.
	if err := store.SetDigestClock(ctx, channelID, time.Now().Add(-90*time.Minute), ""); err != nil {
		return 0, err
	}
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   *bufio.Reader
	}
	var children []child
	defer func() {
		for _, c := range children {
			c.stdin.Close()
			if c.cmd.ProcessState == nil {
				_ = c.cmd.Process.Kill()
				_ = c.cmd.Wait()
			}
		}
	}()
	for i := range o.replicas {
		args := []string{"-replica", dbURL, "-smtp", o.smtpAddr, "-connections", strconv.Itoa(o.conns),
			"-batch", strconv.Itoa(o.batch), "-articles", strconv.Itoa(o.articles), "-rate", strconv.FormatFloat(o.rate, 'g', -1, 64)}
		if o.cpuProfile != "" {
			args = append(args, "-cpuprofile", fmt.Sprintf("%s.replica-%d", o.cpuProfile, i+1))
		}
		if o.verbose {
			args = append(args, "-v")
		}
		cmd := exec.Command(self, args...)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return 0, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return 0, err
		}
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		c := child{cmd, stdin, bufio.NewReader(stdout)}
		children = append(children, c)
		if line, err := c.out.ReadString('\n'); err != nil || strings.TrimSpace(line) != "ready" {
			return 0, fmt.Errorf("replica %d did not start: %q %v", i+1, line, err)
		}
	}
	var sinkBefore, dbBefore time.Duration
	if pf != nil {
		sinkBefore = pf.sinkCPU()
	}
	if dbCPU != nil {
		dbBefore = dbCPU()
	}
	begin := time.Now()
	for _, c := range children {
		if _, err := io.WriteString(c.stdin, "go\n"); err != nil {
			return 0, err
		}
	}
	results := make([]replicaResult, len(children))
	errs := make([]error, len(children))
	var wg sync.WaitGroup
	for i, c := range children {
		wg.Go(func() {
			line, err := c.out.ReadString('\n')
			if err == nil {
				err = json.Unmarshal([]byte(line), &results[i])
			}
			errs[i] = errors.Join(err, c.cmd.Wait())
			if errs[i] == nil && results[i].Error != "" {
				errs[i] = errors.New(results[i].Error)
			}
		})
	}
	wg.Wait()
	wall := time.Since(begin)
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	var sinkBusy, dbPerMessage float64
	if pf != nil {
		sinkBusy = 100 * (pf.sinkCPU() - sinkBefore).Seconds() / wall.Seconds()
	}
	first, last := results[0].Start, results[0].End
	total := map[syndicate.RecipientState]int{}
	made := 0
	for i, res := range results {
		if res.Start.Before(first) {
			first = res.Start
		}
		if res.End.After(last) {
			last = res.End
		}
		for st, n := range res.Counts {
			total[st] += n
		}
		if res.Made {
			made++
		}
		sent := res.Counts[syndicate.RecipientSent]
		took := res.End.Sub(res.Start)
		fmt.Printf("run %d: replica %d: %d sent in %v: %.0f messages/s; processor time %.0f µs a message; peak RSS %.1f MB\n",
			r+1, i+1, sent, took.Round(time.Millisecond), float64(sent)/took.Seconds(),
			float64(res.CPU.Microseconds())/float64(max(sent, 1)), float64(res.PeakKB)/1024)
	}
	sent := total[syndicate.RecipientSent]
	if dbCPU != nil {
		dbPerMessage = float64((dbCPU() - dbBefore).Microseconds()) / float64(max(sent, 1))
	}
	took := last.Sub(first)
	rate := float64(sent) / took.Seconds()
	fmt.Printf("run %d: %d replicas: %d sent, %d deferred, %d failed, %d uncertain in %v: %.0f messages/s in all; PostgreSQL %.0f µs a message; smtp-sink busy %.0f%%\n",
		r+1, len(results), sent, total[syndicate.RecipientDeferred], total[syndicate.RecipientFailed], total[syndicate.RecipientUncertain],
		took.Round(time.Millisecond), rate, dbPerMessage, sinkBusy)

	// Every subscriber once, nothing left claimed, one digest made.
	open, err := store.OpenDigests(ctx, channelID)
	if err != nil {
		return 0, err
	}
	digests, err := store.Digests(ctx, channelID, 1)
	if err != nil || len(digests) == 0 {
		return 0, fmt.Errorf("the replicas' digest: %v", err)
	}
	counts, err := store.RecipientCounts(ctx, digests[0].ID)
	if err != nil {
		return 0, err
	}
	fmt.Printf("run %d: the digest's records: %v; made by %d replica; %d digests left open\n", r+1, counts, made, len(open))
	switch {
	case made != 1:
		return 0, fmt.Errorf("the digest was made by %d replicas, want 1", made)
	case counts[syndicate.RecipientSent] != o.n || sent != o.n:
		return 0, fmt.Errorf("%d of %d recorded sent (%d reported by the replicas)", counts[syndicate.RecipientSent], o.n, sent)
	case counts[syndicate.RecipientClaimed]+counts[syndicate.RecipientSending] > 0:
		return 0, fmt.Errorf("left claimed: %v", counts)
	case len(open) > 0:
		return 0, fmt.Errorf("%d digests left open", len(open))
	}
	return rate, nil
}

// replica is one replica of the daemon: it opens the store, says "ready",
// waits for "go", makes one pass over its digest channel, whose schedule
// is due, and prints what it did.
func replica(o options) error {
	ctx := context.Background()
	store, err := postgres.Open(ctx, o.replicaDB)
	if err != nil {
		return err
	}
	defer store.Close()
	l, err := links()
	if err != nil {
		return err
	}
	var inner slog.Handler = slog.DiscardHandler
	if o.verbose {
		inner = slog.NewTextHandler(os.Stderr, nil).WithAttrs([]slog.Attr{slog.Int("replica", os.Getpid())})
	}
	made := &atomic.Bool{}
	log := slog.New(madeHandler{inner, made})
	cfg, err := channelConfig(o, log, l)
	if err != nil {
		return err
	}
	ch, err := email.New(cfg)
	if err != nil {
		return err
	}
	obs := &digestCounter{counts: map[syndicate.RecipientState]int{}}
	engine := &syndicate.Engine{
		Store: store,
		Digests: map[string]syndicate.DigestTarget{channelID: {
			ID: channelID, List: listName, Mailer: ch, BatchSize: o.batch, MaxArticles: o.articles,
			Schedule: cron.Every(time.Hour),
		}},
		Observer: obs,
		Log:      log,
	}
	stopProfile, err := cpuprofile.Start(o.cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return err
	}
	cpuBefore := processCPU()
	res := replicaResult{Start: time.Now()}
	if err := engine.CheckDigests(ctx, true); err != nil {
		res.Error = err.Error()
	}
	res.End = time.Now()
	res.CPU = processCPU() - cpuBefore
	res.PeakKB = memoryKB("VmHWM")
	res.Counts = obs.snapshot()
	res.Owner, res.Made = engine.Owner, made.Load()
	return json.NewEncoder(os.Stdout).Encode(res)
}

// digestCounter counts a replica's digest messages by outcome.
type digestCounter struct {
	mu     sync.Mutex
	counts map[syndicate.RecipientState]int
}

func (c *digestCounter) Polled(string, string, time.Duration)             {}
func (c *digestCounter) Attempted(string, syndicate.State, time.Duration) {}
func (c *digestCounter) Digested(string, syndicate.DigestResult)          {}

func (c *digestCounter) DigestMessages(_ string, st syndicate.RecipientState, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[st] += n
}

func (c *digestCounter) snapshot() map[syndicate.RecipientState]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[syndicate.RecipientState]int, len(c.counts))
	for k, v := range c.counts {
		out[k] = v
	}
	return out
}

// madeHandler passes the log on and notes the engine's "digest made",
// which only the replica that made the digest logs.
type madeHandler struct {
	inner slog.Handler
	made  *atomic.Bool
}

func (h madeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.inner.Enabled(ctx, l)
}

func (h madeHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "digest made" {
		h.made.Store(true)
	}
	if h.inner.Enabled(ctx, r.Level) {
		return h.inner.Handle(ctx, r)
	}
	return nil
}

func (h madeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return madeHandler{h.inner.WithAttrs(as), h.made}
}

func (h madeHandler) WithGroup(name string) slog.Handler {
	return madeHandler{h.inner.WithGroup(name), h.made}
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

// benchArticles are the articles of a digest of the run named r.
func benchArticles(r string, n int) []syndicate.Article {
	var out []syndicate.Article
	day := time.Now().Add(-time.Duration(n) * 24 * time.Hour)
	for i := range n {
		key := fmt.Sprintf("%s-article-%d", r, i)
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
func seedArticles(ctx context.Context, store benchStore, r string, n int) error {
	rec := syndicate.PollRecord{State: syndicate.FeedState{FeedID: "bench", LastPollAt: time.Now(), LastOKAt: time.Now()}}
	rec.Articles = benchArticles(r, n)
	for _, a := range rec.Articles {
		rec.Deliveries = append(rec.Deliveries, syndicate.NewDelivery{ArticleKey: a.Key, ChannelID: channelID, State: syndicate.StatePending})
	}
	return store.RecordPoll(ctx, rec)
}

// seedSubscribers records n confirmed subscribers, four at a time.
func seedSubscribers(ctx context.Context, store benchStore, n int) error {
	const workers = 4
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n && errs[w] == nil; i += workers {
				_, _, errs[w] = store.AddSubscriber(ctx, syndicate.Subscriber{
					List: listName, Email: fmt.Sprintf("reader%06d@example.net", i), State: syndicate.SubscriberConfirmed,
				})
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
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
