// Command pollbench measures feed polling: N feeds of 50 items (about
// 50 KB each, realistic HTML, images, categories) served with ETags by a
// local HTTP server in a process of its own, read (a) when every feed
// answers 304 and (b) when every feed has changed (50 new items each, all
// deduped and stored), by syndicate's pipeline (once, and run) on a real
// SQLite store with the default settings, and by a bare Go client (HTTP
// keep-alive, 16 at once, gofeed parse) as the anchor, in the same run.
// Each measurement runs in a fresh child process, so its peak resident
// memory (VmHWM) and CPU time are its own.
//
//	go run ./cmd/pollbench                       # 100, 1000 and 3000 feeds, 3 runs each
//	go run ./cmd/pollbench -sizes 1000 -runs 5
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
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/feed"
	"github.com/syndicate-daemon/syndicate/syndicate/store/sqlite"
)

// The measurements, in the order they are printed.
var measures = []string{"bare-304", "bare-changed", "once-304", "once-changed", "run-changed"}

// result is what a measuring child prints, as one JSON line.
type result struct {
	Took   time.Duration `json:"took"`
	CPU    time.Duration `json:"cpu"`
	PeakKB int64         `json:"peak_kb"`
	Failed int           `json:"failed"`
	Polls  int           `json:"polls"`
}

func main() {
	serve := flag.String("serve-feeds", "", "run as the feed server on this `address` (the benchmark starts it)")
	measure := flag.String("measure", "", "run one measurement (the benchmark starts it): "+strings.Join(measures, ", "))
	server := flag.String("server", "", "the feed server's base `URL` (with -measure)")
	sizes := flag.String("sizes", "100,1000,3000", "numbers of feeds, comma-separated")
	feeds := flag.Int("feeds", 0, "number of feeds (with -measure)")
	items := flag.Int("items", 50, "items per feed")
	runs := flag.Int("runs", 3, "runs of each measurement; the median is printed")
	profile := flag.String("cpuprofile", "", "with -measure: write a CPU profile of the measured cycle to this `file`")
	flag.Parse()
	var err error
	switch {
	case *serve != "":
		err = serveFeeds(*serve, *items)
	case *measure != "":
		var r result
		if r, err = measureOne(*measure, *server, *feeds, *profile); err == nil {
			err = json.NewEncoder(os.Stdout).Encode(r)
		}
	default:
		err = bench(*sizes, *items, *runs)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pollbench:", err)
		os.Exit(1)
	}
}

func bench(sizes string, items, runs int) error {
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
	base := "http://" + strings.TrimSpace(strings.TrimPrefix(line, "listening "))

	fmt.Printf("%-6s %-13s %10s %10s %10s %7s   (median of %d runs; %d items a feed)\n", "feeds", "measure", "time", "cpu", "peak RSS", "failed", runs, items)
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-sizes: %q is not a number of feeds", s)
		}
		medians := map[string]result{}
		for _, m := range measures {
			var rs []result
			for range runs {
				r, err := runChild(self, m, base, n)
				if err != nil {
					return fmt.Errorf("%s with %d feeds: %w", m, n, err)
				}
				rs = append(rs, r)
			}
			slices.SortFunc(rs, func(a, b result) int { return int(a.Took - b.Took) })
			med := rs[len(rs)/2]
			medians[m] = med
			fmt.Printf("%-6d %-13s %10s %10s %8.1fMB %7d\n", n, m, med.Took.Round(time.Millisecond), med.CPU.Round(time.Millisecond), float64(med.PeakKB)/1024, med.Failed)
		}
		fmt.Printf("%-6d ratios: 304 %.2f× bare, changed %.2f× bare; run's peak RSS %.2f× once's\n\n", n,
			ratio(medians["once-304"].Took, medians["bare-304"].Took), ratio(medians["once-changed"].Took, medians["bare-changed"].Took),
			float64(medians["run-changed"].PeakKB)/float64(max(medians["once-changed"].PeakKB, 1)))
	}
	return nil
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(max(b, 1)) }

func runChild(self, measure, base string, feeds int) (result, error) {
	cmd := exec.Command(self, "-measure", measure, "-server", base, "-feeds", strconv.Itoa(feeds))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, err
	}
	var r result
	return r, json.Unmarshal(out, &r)
}

// measureOne primes what the measurement needs (the ETags, or a store
// that has seen every feed), then measures one cycle.
func measureOne(measure, base string, n int, profile string) (result, error) {
	ctx := context.Background()
	bump := func() error {
		resp, err := http.Post(base+"/generation", "text/plain", nil)
		if err != nil {
			return err
		}
		return resp.Body.Close()
	}
	urls := make([]string, n)
	for i := range urls {
		urls[i] = fmt.Sprintf("%s/feed/%d.xml", base, i)
	}
	switch measure {
	case "bare-304", "bare-changed":
		c := newBareClient()
		if _, err := c.cycle(urls, measure == "bare-changed"); err != nil { // learn the ETags
			return result{}, err
		}
		if measure == "bare-changed" {
			if err := bump(); err != nil {
				return result{}, err
			}
		}
		var r result
		err := measured(&r, profile, func() error {
			failed, err := c.cycle(urls, measure == "bare-changed")
			r.Failed, r.Polls = failed, n
			return err
		})
		return r, err
	case "once-304", "once-changed", "run-changed":
		dir, err := os.MkdirTemp("", "pollbench-")
		if err != nil {
			return result{}, err
		}
		defer os.RemoveAll(dir)
		store, err := sqlite.Open(ctx, filepath.Join(dir, "bench.db"))
		if err != nil {
			return result{}, err
		}
		defer store.Close()
		obs := &pollCounter{}
		e := &syndicate.Engine{Store: store, Reader: feed.New(feed.Options{}), Targets: map[string]syndicate.Target{}, Observer: obs}
		for i, u := range urls {
			// Routed nowhere: every item is still deduped and stored.
			e.Feeds = append(e.Feeds, syndicate.Feed{Source: syndicate.FeedSource{ID: "feed-" + strconv.Itoa(i), URL: u}, FloodLimit: 10})
		}
		if _, err := e.Once(ctx, 0); err != nil { // first sight of every feed
			return result{}, err
		}
		if measure != "once-304" {
			if err := bump(); err != nil {
				return result{}, err
			}
		}
		obs.reset()
		var r result
		err = measured(&r, profile, func() error {
			if measure == "run-changed" {
				return runUntilPolled(ctx, e, obs, n)
			}
			_, err := e.Once(ctx, 0)
			return err
		})
		r.Failed, r.Polls = obs.counts()
		return r, err
	}
	return result{}, fmt.Errorf("unknown measurement %q", measure)
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
// process meanwhile, and the process's peak resident memory; with a
// profile file, it writes fn's CPU profile there.
func measured(r *result, profile string, fn func() error) error {
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	before := cpuTime()
	start := time.Now()
	err := fn()
	r.Took, r.CPU = time.Since(start), cpuTime()-before
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

func (p *pollCounter) Attempted(string, syndicate.State, time.Duration) {}

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
