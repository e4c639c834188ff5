// Command footprint measures what the daemon costs a machine before it
// does anything: the size of its binary, the time from starting `syndicate
// run` to its first 200 on /readyz, and its resident memory once it has
// sat idle for a while after start.
//
//	go run ./cmd/footprint                   # SQLite, 5 runs
//	go run ./cmd/footprint -store postgres   # PostgreSQL (a throwaway cluster, see pgtest)
//	go run ./cmd/footprint -runs 9 -idle 10s
//
// It builds the daemon as the figures are taken (CGO_ENABLED=0 go
// build -trimpath), and as the Dockerfile ships it (with -ldflags "-s
// -w"), and prints both sizes; it runs the first. Each run starts the
// binary on a configuration of its own: three feeds that are local files
// (deploy/demo's), two Mastodon and Telegram channels and a weekly email
// digest, none of which it contacts (backfill 0, so nothing is due; no
// network is needed), the web server on a free loopback port, the
// defaults for everything else. A run measures
//
//   - first start: a new store (created and migrated) to /readyz;
//   - restart: the same store, after the first start stopped, to /readyz;
//   - idle RSS: VmRSS of the restarted process after -idle (and how much of
//     it is the binary's own pages, mapped from the file, and how much is
//     anonymous memory: the heap, the stacks), and the Go heap it reports
//     on /metrics.
//
// /readyz is asked every millisecond from the moment the process is
// started. The medians of -runs runs are printed, with the slowest.
// -inittrace prints the package initialisations that take longest
// (GODEBUG=inittrace=1): what a start spends before main.
//
// It is not a test: numbers depend on the machine.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate/store/postgres/pgtest"
)

type options struct {
	runs      int
	idle      time.Duration
	store     string
	demo      string
	binary    string
	inittrace bool
}

func main() {
	var o options
	flag.IntVar(&o.runs, "runs", 5, "runs; the medians are printed")
	flag.DurationVar(&o.idle, "idle", 5*time.Second, "how long the daemon sits idle before its memory is read")
	flag.StringVar(&o.store, "store", "sqlite", "the daemon's store: sqlite or postgres")
	flag.StringVar(&o.demo, "feeds", "deploy/demo", "the `directory` of the demo feeds (en.rss.xml, es.atom.xml, statements.json)")
	flag.StringVar(&o.binary, "binary", "", "measure this binary instead of building ./cmd/syndicate")
	flag.BoolVar(&o.inittrace, "inittrace", false, "print the slowest package initialisations of a start")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "footprint:", err)
		os.Exit(1)
	}
}

// sample is one run's figures.
type sample struct {
	firstStart, restart time.Duration
	rssKB, anonKB       int64 // VmRSS, RssAnon
	fileKB, hwmKB       int64 // RssFile, VmHWM
	heapInuse, goSys    float64
	startCPU            time.Duration // the restarted process's CPU time until ready
}

func run(o options) error {
	if o.runs < 1 {
		return errors.New("-runs: want at least 1")
	}
	if o.store != "sqlite" && o.store != "postgres" {
		return fmt.Errorf("-store %q: want sqlite or postgres", o.store)
	}
	work, err := os.MkdirTemp("", "footprint-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	bin := o.binary
	if bin == "" {
		bin = filepath.Join(work, "syndicate")
		if err := build(bin); err != nil {
			return err
		}
		stripped := filepath.Join(work, "syndicate-stripped")
		if err := build(stripped, "-ldflags", "-s -w"); err != nil {
			return err
		}
		fmt.Printf("binary: CGO_ENABLED=0 go build -trimpath: %s; with -ldflags \"-s -w\" (the Dockerfile's): %s\n",
			fileSize(bin), fileSize(stripped))
	} else {
		fmt.Printf("binary: %s: %s\n", bin, fileSize(bin))
	}

	var cluster *pgtest.Cluster
	if o.store == "postgres" {
		if cluster, err = pgtest.Start(context.Background()); err != nil {
			return err
		}
		defer cluster.Stop()
	}

	fmt.Printf("%d runs, %s idle, store %s, GOMAXPROCS %d\n", o.runs, o.idle, o.store, runtime.GOMAXPROCS(0))
	fmt.Printf("%-4s %12s %12s %10s %10s %10s %10s %10s %10s\n", "run", "first start", "restart", "start cpu",
		"idle RSS", "anon", "file", "peak RSS", "Go heap")
	var samples []sample
	for i := range o.runs {
		dir := filepath.Join(work, "run-"+strconv.Itoa(i))
		s, err := measure(o, bin, dir, cluster, i)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		samples = append(samples, s)
		fmt.Printf("%-4d %12s %12s %10s %10s %10s %10s %10s %10s\n", i+1, ms(s.firstStart), ms(s.restart), ms(s.startCPU),
			mb(s.rssKB), mb(s.anonKB), mb(s.fileKB), mb(s.hwmKB), mb(int64(s.heapInuse/1024)))
	}
	med := func(f func(sample) float64) (float64, float64) {
		xs := make([]float64, len(samples))
		for i, s := range samples {
			xs[i] = f(s)
		}
		slices.Sort(xs)
		return xs[len(xs)/2], xs[len(xs)-1]
	}
	dur := func(f func(sample) time.Duration) string {
		m, worst := med(func(s sample) float64 { return float64(f(s)) })
		return fmt.Sprintf("%s (slowest %s)", ms(time.Duration(m)), ms(time.Duration(worst)))
	}
	kb := func(f func(sample) int64) string {
		m, worst := med(func(s sample) float64 { return float64(f(s)) })
		return fmt.Sprintf("%s (largest %s)", mb(int64(m)), mb(int64(worst)))
	}
	fmt.Printf("\nmedians of %d runs:\n", o.runs)
	fmt.Printf("  start to /readyz, new store:      %s\n", dur(func(s sample) time.Duration { return s.firstStart }))
	fmt.Printf("  start to /readyz, existing store: %s\n", dur(func(s sample) time.Duration { return s.restart }))
	fmt.Printf("  CPU time of a start:              %s\n", dur(func(s sample) time.Duration { return s.startCPU }))
	fmt.Printf("  idle RSS (VmRSS) after %s:       %s\n", o.idle, kb(func(s sample) int64 { return s.rssKB }))
	fmt.Printf("    of which anonymous (RssAnon):   %s\n", kb(func(s sample) int64 { return s.anonKB }))
	fmt.Printf("    of which the binary's (RssFile): %s\n", kb(func(s sample) int64 { return s.fileKB }))
	fmt.Printf("  peak RSS (VmHWM):                 %s\n", kb(func(s sample) int64 { return s.hwmKB }))
	fmt.Printf("  Go heap in use / all the runtime holds from the OS: %s / %s\n",
		kb(func(s sample) int64 { return int64(s.heapInuse / 1024) }), kb(func(s sample) int64 { return int64(s.goSys / 1024) }))

	if o.inittrace {
		return initTrace(o, bin, filepath.Join(work, "inittrace"), cluster)
	}
	return nil
}

func build(out string, args ...string) error {
	cmd := exec.Command("go", append(append([]string{"build", "-trimpath"}, args...), "-o", out, "./cmd/syndicate")...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build ./cmd/syndicate (run footprint from the repository's root): %w", err)
	}
	return nil
}

// measure starts the daemon on a new store, stops it, starts it again on
// the same store and reads its memory after the idle time.
func measure(o options, bin, dir string, cluster *pgtest.Cluster, i int) (sample, error) {
	var s sample
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return s, err
	}
	store := "sqlite:" + filepath.Join(dir, "syndicate.db")
	if cluster != nil {
		url, err := cluster.CreateDatabase(context.Background(), fmt.Sprintf("footprint_%d_%d", os.Getpid(), i))
		if err != nil {
			return s, err
		}
		store = url
	}
	config, base, err := writeConfig(o, dir, store)
	if err != nil {
		return s, err
	}
	d, err := start(bin, config, base, nil)
	if err != nil {
		return s, fmt.Errorf("first start: %w", err)
	}
	s.firstStart = d.ready
	if err := d.stop(); err != nil {
		return s, fmt.Errorf("first start: %w", err)
	}

	d, err = start(bin, config, base, nil)
	if err != nil {
		return s, fmt.Errorf("restart: %w", err)
	}
	defer d.stop()
	s.restart = d.ready
	s.startCPU = d.readyCPU
	time.Sleep(o.idle)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		return s, err
	}
	s.rssKB, s.anonKB = statusKB(status, "VmRSS"), statusKB(status, "RssAnon")
	s.fileKB, s.hwmKB = statusKB(status, "RssFile"), statusKB(status, "VmHWM")
	metrics, err := get(base + "/metrics")
	if err != nil {
		return s, err
	}
	s.heapInuse = metric(metrics, "go_memstats_heap_inuse_bytes")
	s.goSys = metric(metrics, "go_memstats_sys_bytes")
	return s, d.stop()
}

// writeConfig writes the run's configuration and feeds, and returns the
// configuration's path and the daemon's base URL.
func writeConfig(o options, dir, store string) (string, string, error) {
	for _, name := range []string{"en.rss.xml", "es.atom.xml", "statements.json"} {
		b, err := os.ReadFile(filepath.Join(o.demo, name))
		if err != nil {
			return "", "", fmt.Errorf("the demo feeds (-feeds): %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return "", "", err
		}
	}
	addr, err := freePort()
	if err != nil {
		return "", "", err
	}
	// Channels on a loopback port where nothing listens: with backfill 0
	// nothing is due, so nothing is sent and no network is needed.
	config := fmt.Sprintf(`store: %q
listen: %q
public_url: "http://%s"
timezone: "Europe/Madrid"
admin_token: "footprint-admin-token-0123456789"
secret: "footprint-secret-0123456789abcdef"
feeds:
  - id: emancipation-en
    url: en.rss.xml
    language: en
    to: [mastodon-en, telegram-en, digest-en]
  - id: communia-es
    url: es.atom.xml
    language: es
    to: [telegram-es]
  - id: statements
    url: statements.json
    language: en
    to: [mastodon-en, telegram-en]
channels:
  - id: mastodon-en
    type: mastodon
    server: "http://127.0.0.1:9"
    access_token: "footprint-placeholder"
  - id: telegram-en
    type: telegram
    api_url: "http://127.0.0.1:9"
    bot_token: "123:footprint-placeholder"
    chat: "@emancipation_en"
  - id: telegram-es
    type: telegram
    api_url: "http://127.0.0.1:9"
    bot_token: "123:footprint-placeholder"
    chat: "@communia_es"
  - id: digest-en
    type: email
    list: en
    language: en
    schedule: "0 8 * * MON"
    from: "Emancipation <news@example.org>"
    subject: "Emancipation, this week"
    smtp: { host: "127.0.0.1", port: 9, tls: none }
`, store, addr, addr)
	path := filepath.Join(dir, "syndicate.yaml")
	return path, "http://" + addr, os.WriteFile(path, []byte(config), 0o600)
}

// daemon is a started `syndicate run`.
type daemon struct {
	cmd      *exec.Cmd
	exited   chan error
	stderr   *bytes.Buffer
	ready    time.Duration // from Start to the first 200 on /readyz
	readyCPU time.Duration // its CPU time then
}

func start(bin, config, base string, env []string) (*daemon, error) {
	d := &daemon{stderr: &bytes.Buffer{}, exited: make(chan error, 1)}
	d.cmd = exec.Command(bin, "run", "--config", config)
	d.cmd.Dir = filepath.Dir(config)
	d.cmd.Env = append(os.Environ(), env...)
	d.cmd.Stdout, d.cmd.Stderr = d.stderr, d.stderr
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	t0 := time.Now()
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { d.exited <- d.cmd.Wait() }()
	for {
		resp, err := client.Get(base + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				d.ready = time.Since(t0)
				d.readyCPU = processCPU(d.cmd.Process.Pid)
				return d, nil
			}
		}
		select {
		case err := <-d.exited:
			d.exited <- err
			return nil, fmt.Errorf("the daemon exited before it was ready (%v):\n%s", err, d.stderr)
		case <-time.After(time.Millisecond):
		}
		if time.Since(t0) > 30*time.Second {
			d.stop()
			return nil, fmt.Errorf("not ready in 30 s:\n%s", d.stderr)
		}
	}
}

// stop sends SIGTERM and waits for the daemon to exit.
func (d *daemon) stop() error {
	select {
	case err := <-d.exited:
		d.exited <- err
		return nil // stopped already
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.exited:
		d.exited <- err
		if err != nil {
			return fmt.Errorf("the daemon exited with %v:\n%s", err, d.stderr)
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		err := <-d.exited
		d.exited <- err
		return fmt.Errorf("the daemon did not stop in 30 s after SIGTERM:\n%s", d.stderr)
	}
}

// initTrace starts the daemon once with GODEBUG=inittrace=1 and prints the
// slowest package initialisations.
func initTrace(o options, bin, dir string, cluster *pgtest.Cluster) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	store := "sqlite:" + filepath.Join(dir, "syndicate.db")
	if cluster != nil {
		url, err := cluster.CreateDatabase(context.Background(), fmt.Sprintf("footprint_%d_trace", os.Getpid()))
		if err != nil {
			return err
		}
		store = url
	}
	config, base, err := writeConfig(o, dir, store)
	if err != nil {
		return err
	}
	d, err := start(bin, config, base, []string{"GODEBUG=inittrace=1"})
	if err != nil {
		return err
	}
	if err := d.stop(); err != nil {
		return err
	}
	type pkgInit struct {
		name  string
		clock float64 // ms
		bytes int64
	}
	re := regexp.MustCompile(`^init (\S+) @\S+ ms, (\S+) ms clock, (\d+) bytes`)
	var inits []pkgInit
	var total float64
	var totalBytes int64
	lines := bufio.NewScanner(bytes.NewReader(d.stderr.Bytes()))
	for lines.Scan() {
		m := re.FindStringSubmatch(lines.Text())
		if m == nil {
			continue
		}
		clock, _ := strconv.ParseFloat(m[2], 64)
		n, _ := strconv.ParseInt(m[3], 10, 64)
		inits = append(inits, pkgInit{m[1], clock, n})
		total += clock
		totalBytes += n
	}
	slices.SortFunc(inits, func(a, b pkgInit) int { return int((b.clock - a.clock) * 1e6) })
	fmt.Printf("\npackage initialisation (GODEBUG=inittrace=1, a start on a new store): %d packages, %.1f ms, %s allocated; the slowest:\n",
		len(inits), total, mb(totalBytes/1024))
	for _, p := range inits[:min(8, len(inits))] {
		fmt.Printf("  %6.2f ms %8d bytes  %s\n", p.clock, p.bytes, p.name)
	}
	fmt.Printf("that start took %s to /readyz (tracing included)\n", ms(d.ready))
	return nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func get(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// metric reads a gauge of a Prometheus text exposition.
func metric(text, name string) float64 {
	for line := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return 0
}

// statusKB reads a "Name: N kB" line of /proc/PID/status.
func statusKB(status []byte, field string) int64 {
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

// processCPU is the user and system time of a process so far (clock
// ticks of 10 ms).
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

func fileSize(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%.1f MB (%d bytes)", float64(st.Size())/(1<<20), st.Size())
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}

func mb(kb int64) string { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }
