// Command pollbench measures feed polling: N feeds of 50 items (about
// 50 KB each, realistic HTML, images, categories) served with ETags by a
// local HTTP server in a process of its own, read (a) when every feed
// answers 304 and (b) when every feed has changed (50 new items each, all
// deduped and stored), by syndicate's pipeline (once, and run) on a real
// store with the default settings, and by a bare Go client (HTTP
// keep-alive, 16 at once, gofeed parse) as the anchor, in the same run.
// Each measurement runs in a fresh child process, so its peak resident
// memory (VmHWM) and CPU time are its own.
//
//	go run ./cmd/pollbench                       # SQLite; 100, 1000 and 3000 feeds, 3 runs each
//	go run ./cmd/pollbench -store postgres       # PostgreSQL (a throwaway cluster, see pgtest)
//	go run ./cmd/pollbench -sizes 1000 -runs 5
//
// With -store postgres the benchmark starts a throwaway PostgreSQL
// cluster (syndicate/store/postgres/pgtest: PostgreSQL's server binaries
// must be installed) and gives each measurement a database of its own,
// created before it and dropped after it. The "db cpu" column is the
// processor time of the cluster's processes (the postmaster, the
// connections' backends, the writers) during the measured cycle, which
// the process's own CPU time does not include.
//
// The daemon polls with the defaults a user gets: MaxConcurrentPolls
// four a CPU (-concurrency changes it, for comparison), a flood
// limit of 10, the feed reader's default options.
//
// Each run makes every measurement once, one after the other. The table
// gives, for each number of feeds, the median of -runs runs of each
// measurement, the time a feed (to see whether the cycle grows linearly),
// and the ratios of syndicate's cycle to the bare client's: each run's
// ratio, of measurements made minutes apart at most, and their median.
// With PostgreSQL the CPU ratio counts the cluster's processor time too. -cpuprofile PREFIX writes, for each
// measurement, the CPU profile of its last run's measured cycle to
// PREFIX-<store>-<measure>-<feeds>.prof.
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
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mmcdole/gofeed"

	"github.com/syndicate-daemon/syndicate/cmd/internal/cpuprofile"
	"github.com/syndicate-daemon/syndicate/cmd/internal/pgcpu"
	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/feed"
	"github.com/syndicate-daemon/syndicate/syndicate/store/postgres"
	"github.com/syndicate-daemon/syndicate/syndicate/store/postgres/pgtest"
	"github.com/syndicate-daemon/syndicate/syndicate/store/sqlite"
)

// The measurements, in the order they are printed.
var measures = []string{"bare-304", "bare-changed", "once-304", "once-changed", "run-304", "run-changed"}

// result is what a measuring child prints, as one JSON line.
type result struct {
	Took   time.Duration `json:"took"`
	CPU    time.Duration `json:"cpu"`
	DBCPU  time.Duration `json:"db_cpu"` // PostgreSQL's processes, meanwhile
	PeakKB int64         `json:"peak_kb"`
	Failed int           `json:"failed"`
	Polls  int           `json:"polls"`
}

// child is what a measuring child is told.
type child struct {
	measure, server, store, db, profile string
	feeds, concurrency                  int
}

func main() {
	serve := flag.String("serve-feeds", "", "run as the feed server on this `address` (the benchmark starts it)")
	var c child
	flag.StringVar(&c.measure, "measure", "", "run one measurement (the benchmark starts it): "+strings.Join(measures, ", "))
	flag.StringVar(&c.server, "server", "", "the feed server's base `URL` (with -measure)")
	flag.StringVar(&c.db, "db", "", "with -measure and -store postgres: the database's `URL`")
	flag.IntVar(&c.feeds, "feeds", 0, "number of feeds (with -measure)")
	flag.StringVar(&c.store, "store", "sqlite", "the daemon's store: sqlite or postgres")
	flag.IntVar(&c.concurrency, "concurrency", 0, "the daemon's MaxConcurrentPolls (0: its default, four a CPU)")
	flag.StringVar(&c.profile, "cpuprofile", "", "write CPU profiles of the measured cycles: with -measure to this `file`, else to file-<store>-<measure>-<feeds>.prof")
	sizes := flag.String("sizes", "100,1000,3000", "numbers of feeds, comma-separated")
	items := flag.Int("items", 50, "items per feed")
	runs := flag.Int("runs", 3, "runs of each measurement; the median is printed")
	only := flag.String("measures", strings.Join(measures, ","), "the measurements to make, comma-separated")
	flag.Parse()
	var err error
	switch {
	case c.store != "sqlite" && c.store != "postgres":
		err = fmt.Errorf("-store %q: want sqlite or postgres", c.store)
	case *serve != "":
		err = serveFeeds(*serve, *items)
	case c.measure != "":
		var r result
		if r, err = measureOne(c); err == nil {
			err = json.NewEncoder(os.Stdout).Encode(r)
		}
	default:
		err = bench(c, *sizes, *only, *items, *runs)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pollbench:", err)
		os.Exit(1)
	}
}

func bench(c child, sizes, only string, items, runs int) error {
	var ns []int
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-sizes: %q is not a number of feeds", s)
		}
		ns = append(ns, n)
	}
	var todo []string
	for _, m := range strings.Split(only, ",") {
		if m = strings.TrimSpace(m); !slices.Contains(measures, m) {
			return fmt.Errorf("-measures: %q is not one of %s", m, strings.Join(measures, ", "))
		}
		todo = append(todo, m)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	srv := exec.Command(self, "-serve-feeds", "127.0.0.1:0", "-items", strconv.Itoa(items))
	out, err := srv.StdoutPipe()
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("feed server: %w", err)
	}
	c.server = "http://" + strings.TrimSpace(strings.TrimPrefix(line, "listening "))

	var cluster *pgtest.Cluster
	if c.store == "postgres" {
		if cluster, err = pgtest.Start(context.Background()); err != nil {
			return err
		}
		defer cluster.Stop()
	}

	concurrency := fmt.Sprintf("the default (%d)", syndicate.DefaultPollConcurrency())
	if c.concurrency > 0 {
		concurrency = strconv.Itoa(c.concurrency)
	}
	fmt.Printf("store %s; %d items a feed; the daemon's concurrent polls: %s; median of %d runs\n\n",
		c.store, items, concurrency, runs)
	fmt.Printf("%-6s %-13s %10s %10s %10s %10s %7s %10s\n", "feeds", "measure", "time", "cpu", "db cpu", "peak RSS", "failed", "time/feed")
	all := map[int]map[string]result{}
	profile := c.profile
	for _, n := range ns {
		// Each run measures every measurement once, one after the other,
		// so that a run's ratios compare measurements made minutes apart
		// at most, whatever else the machine does meanwhile.
		byMeasure := map[string][]result{}
		for run := range runs {
			for _, m := range todo {
				c.measure, c.feeds, c.profile = m, n, ""
				if profile != "" && run == runs-1 {
					c.profile = fmt.Sprintf("%s-%s-%s-%d.prof", profile, c.store, m, n)
				}
				r, err := runChild(self, c, cluster)
				if err != nil {
					return fmt.Errorf("%s with %d feeds: %w", m, n, err)
				}
				if r.Polls != n && !strings.HasPrefix(m, "bare") {
					return fmt.Errorf("%s with %d feeds: %d polls", m, n, r.Polls)
				}
				byMeasure[m] = append(byMeasure[m], r)
			}
		}
		medians := map[string]result{}
		all[n] = medians
		for _, m := range todo {
			rs := slices.Clone(byMeasure[m])
			slices.SortFunc(rs, func(a, b result) int { return int(a.Took - b.Took) })
			med := rs[len(rs)/2]
			medians[m] = med
			dbCPU := "-"
			if c.store == "postgres" && !strings.HasPrefix(m, "bare") {
				dbCPU = med.DBCPU.Round(time.Millisecond).String()
			}
			fmt.Printf("%-6d %-13s %10s %10s %10s %8.1fMB %7d %8.2fms\n", n, m, med.Took.Round(time.Millisecond),
				med.CPU.Round(time.Millisecond), dbCPU, float64(med.PeakKB)/1024, med.Failed,
				float64(med.Took.Microseconds())/1000/float64(n))
		}
		fmt.Printf("%-6d ratios to the bare client of the same run, time (cpu%s), median of %d:", n, dbNote(c.store), runs)
		for _, p := range [][2]string{{"once-304", "bare-304"}, {"run-304", "bare-304"}, {"once-changed", "bare-changed"}, {"run-changed", "bare-changed"}} {
			a, b := byMeasure[p[0]], byMeasure[p[1]]
			if len(a) == 0 || len(b) == 0 {
				continue
			}
			var took, cpu []float64
			for i := range a {
				took = append(took, ratio(a[i].Took, b[i].Took))
				cpu = append(cpu, ratio(a[i].CPU+a[i].DBCPU, b[i].CPU))
			}
			fmt.Printf(" %s %.2f× (%.2f×);", p[0], median(took), median(cpu))
		}
		fmt.Println()
		fmt.Println()
	}
	if len(ns) > 1 {
		// Linear growth: the time a feed stays the same as the feeds grow.
		// The processor time a feed is the steadier sign on a machine
		// shared with other work, whose load changes from one size to the
		// next.
		for _, what := range []string{"time", "cpu"} {
			fmt.Printf("%s a feed, relative to %d feeds%s:\n", what, ns[0], map[string]string{"time": "", "cpu": dbNote(c.store)}[what])
			for _, m := range todo {
				fmt.Printf("  %-13s", m)
				per := func(r result, n int) float64 {
					if what == "time" {
						return float64(r.Took) / float64(n)
					}
					return float64(r.CPU+r.DBCPU) / float64(n)
				}
				base := per(all[ns[0]][m], ns[0])
				for _, n := range ns {
					p := per(all[n][m], n)
					fmt.Printf(" %d: %.2fms (%.2f×)", n, p/1e6, p/max(base, 1))
				}
				fmt.Println()
			}
		}
	}
	return nil
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(max(b, 1)) }

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// dbNote says what the CPU ratio counts.
func dbNote(store string) string {
	if store == "postgres" {
		return ", PostgreSQL's included"
	}
	return ""
}

// dbCounter names the databases the measurements are given.
var dbCounter atomic.Int64

func runChild(self string, c child, cluster *pgtest.Cluster) (result, error) {
	args := []string{"-measure", c.measure, "-server", c.server, "-feeds", strconv.Itoa(c.feeds),
		"-store", c.store, "-concurrency", strconv.Itoa(c.concurrency)}
	if c.profile != "" {
		args = append(args, "-cpuprofile", c.profile)
	}
	if cluster != nil && !strings.HasPrefix(c.measure, "bare") {
		ctx := context.Background()
		name := fmt.Sprintf("pollbench_%d_%d", os.Getpid(), dbCounter.Add(1))
		url, err := cluster.CreateDatabase(ctx, name)
		if err != nil {
			return result{}, err
		}
		defer dropDatabase(ctx, cluster, name)
		args = append(args, "-db", url)
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, err
	}
	var r result
	return r, json.Unmarshal(out, &r)
}

func dropDatabase(ctx context.Context, cluster *pgtest.Cluster, name string) {
	conn, err := pgx.Connect(ctx, cluster.URL("postgres"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "pollbench: drop database:", err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		fmt.Fprintln(os.Stderr, "pollbench: drop database:", err)
	}
}

// measureOne primes what the measurement needs (the ETags, or a store
// that has seen every feed), then measures one cycle.
func measureOne(c child) (result, error) {
	ctx := context.Background()
	bump := func() error {
		resp, err := http.Post(c.server+"/generation", "text/plain", nil)
		if err != nil {
			return err
		}
		return resp.Body.Close()
	}
	urls := make([]string, c.feeds)
	for i := range urls {
		urls[i] = fmt.Sprintf("%s/feed/%d.xml", c.server, i)
	}
	changed := strings.HasSuffix(c.measure, "-changed")
	switch c.measure {
	case "bare-304", "bare-changed":
		bc := newBareClient()
		if _, err := bc.cycle(urls, changed); err != nil { // learn the ETags
			return result{}, err
		}
		if changed {
			if err := bump(); err != nil {
				return result{}, err
			}
		}
		var r result
		err := measured(&r, c.profile, nil, func() error {
			failed, err := bc.cycle(urls, changed)
			r.Failed, r.Polls = failed, c.feeds
			return err
		})
		return r, err
	case "once-304", "once-changed", "run-304", "run-changed":
		store, dbCPU, closeStore, err := openStore(ctx, c)
		if err != nil {
			return result{}, err
		}
		defer closeStore()
		obs := &pollCounter{}
		e := &syndicate.Engine{Store: store, Reader: feed.New(feed.Options{}), Targets: map[string]syndicate.Target{},
			Observer: obs, MaxConcurrentPolls: c.concurrency}
		for i, u := range urls {
			// Routed nowhere: every item is still deduped and stored.
			e.Feeds = append(e.Feeds, syndicate.Feed{Source: syndicate.FeedSource{ID: "feed-" + strconv.Itoa(i), URL: u}, FloodLimit: 10})
		}
		if _, err := e.Once(ctx, 0); err != nil { // first sight of every feed
			return result{}, err
		}
		if changed {
			if err := bump(); err != nil {
				return result{}, err
			}
		}
		obs.reset()
		var r result
		err = measured(&r, c.profile, dbCPU, func() error {
			if strings.HasPrefix(c.measure, "run-") {
				return runUntilPolled(ctx, e, obs, c.feeds)
			}
			_, err := e.Once(ctx, 0)
			return err
		})
		r.Failed, r.Polls = obs.counts()
		return r, err
	}
	return result{}, fmt.Errorf("unknown measurement %q", c.measure)
}

// openStore opens the measurement's store: SQLite in a temporary
// directory, or the PostgreSQL database it was given, with a function
// that reads the processor time of PostgreSQL's processes.
func openStore(ctx context.Context, c child) (syndicate.Store, func() time.Duration, func(), error) {
	if c.store == "sqlite" {
		dir, err := os.MkdirTemp("", "pollbench-")
		if err != nil {
			return nil, nil, nil, err
		}
		store, err := sqlite.Open(ctx, filepath.Join(dir, "bench.db"))
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, nil, err
		}
		return store, nil, func() { store.Close(); os.RemoveAll(dir) }, nil
	}
	if c.db == "" {
		return nil, nil, nil, errors.New("-store postgres -measure: want -db")
	}
	store, err := postgres.Open(ctx, c.db)
	if err != nil {
		return nil, nil, nil, err
	}
	postmaster, err := pgcpu.PostmasterPID(ctx, c.db)
	if err != nil {
		store.Close()
		return nil, nil, nil, err
	}
	return store, func() time.Duration { return pgcpu.ClusterCPU(postmaster) }, func() { store.Close() }, nil
}

// runUntilPolled runs the daemon until it has polled every feed once.
func runUntilPolled(ctx context.Context, e *syndicate.Engine, obs *pollCounter, n int) error {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	for {
		if _, polls := obs.counts(); polls >= n {
			cancel()
			return <-done
		}
		select {
		case err := <-done:
			cancel()
			return errors.Join(err, errors.New("the daemon stopped before polling every feed"))
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// measured runs fn and records its wall time, the CPU time of the
// process meanwhile (and, with dbCPU, of the database's), and the
// process's peak resident memory; with a profile file, it writes fn's CPU
// profile there.
func measured(r *result, profile string, dbCPU func() time.Duration, fn func() error) error {
	stopProfile, err := cpuprofile.Start(profile)
	if err != nil {
		return err
	}
	defer stopProfile()
	var dbBefore time.Duration
	if dbCPU != nil {
		dbBefore = dbCPU()
	}
	before := cpuTime()
	start := time.Now()
	err = fn()
	r.Took, r.CPU = time.Since(start), cpuTime()-before
	if dbCPU != nil {
		r.DBCPU = dbCPU() - dbBefore
	}
	r.PeakKB = peakRSS()
	return err
}
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

// pollCounter counts polls and failed polls (the Observer the daemon
// reports to).
type pollCounter struct {
	mu            sync.Mutex
	polls, failed int
}

func (p *pollCounter) Polled(_, result string, _ time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.polls++
	if result == "error" {
		p.failed++
	}
}

func (p *pollCounter) Attempted(string, syndicate.State, time.Duration)     {}
func (p *pollCounter) DigestMessages(string, syndicate.RecipientState, int) {}
func (p *pollCounter) Digested(string, syndicate.DigestResult)              {}

func (p *pollCounter) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.polls, p.failed = 0, 0
}

func (p *pollCounter) counts() (failed, polls int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed, p.polls
}

// bareClient is the anchor: what any Go program that polls feeds does at
// least, keep-alive connections, 16 requests at once, If-None-Match, and
// gofeed's parse of what changed.
type bareClient struct {
	http  *http.Client
	etags sync.Map // url → ETag
}

func newBareClient() *bareClient {
	return &bareClient{http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
}

// cycle fetches every URL once, parsing what changed when parse is set;
// it returns how many fetches failed.
func (c *bareClient) cycle(urls []string, parse bool) (int, error) {
	var failed atomic.Int64
	work := make(chan string)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			parser := gofeed.NewParser()
			for u := range work {
				if err := c.fetch(parser, u, parse); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	for _, u := range urls {
		work <- u
	}
	close(work)
	wg.Wait()
	return int(failed.Load()), nil
}

func (c *bareClient) fetch(parser *gofeed.Parser, u string, parse bool) error {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if etag, ok := c.etags.Load(u); ok {
		req.Header.Set("If-None-Match", etag.(string))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	c.etags.Store(u, resp.Header.Get("ETag"))
	if resp.StatusCode == http.StatusNotModified {
		return nil
	}
	if !parse {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	_, err = parser.Parse(resp.Body)
	return err
}
