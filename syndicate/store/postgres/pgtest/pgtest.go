// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb
// in a temporary directory, a postmaster listening on a free loopback port
// only, trust authentication (nothing but this machine can reach it), and
// everything removed by Stop.
//
// The binaries are found on PATH (initdb, pg_ctl) or, as Debian and Ubuntu
// install them, under /usr/lib/postgresql/<version>/bin (the newest
// version). PostgreSQL refuses to run as root: when the tests run as root,
// the cluster runs as the "postgres" user if there is one, else "nobody",
// through runuser, and its directory is handed to that user.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNotInstalled is returned by Start when PostgreSQL's server binaries
// cannot be found. Its message says what to install.
var ErrNotInstalled = errors.New("PostgreSQL's initdb and pg_ctl were not found on PATH or under /usr/lib/postgresql/*/bin: " +
	"install the PostgreSQL server (Debian and Ubuntu: apt-get install postgresql) to run the PostgreSQL tests")

// Cluster is a running throwaway cluster.
type Cluster struct {
	bin   string // the directory of initdb and pg_ctl
	dir   string // removed by Stop
	data  string
	runAs string // "" when not root
	port  int
}

// FindBinaries returns the directory that holds initdb and pg_ctl, or
// ErrNotInstalled.
func FindBinaries() (string, error) {
	if initdb, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(initdb)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	// The newest major version first: "17" sorts after "9" as a number.
	sort.Slice(matches, func(i, j int) bool { return version(matches[i]) > version(matches[j]) })
	for _, m := range matches {
		dir := filepath.Dir(m)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	return "", ErrNotInstalled
}

// version reads the major version out of …/postgresql/<version>/bin/initdb.
func version(initdb string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(filepath.Dir(initdb))), 64)
	return v
}

// Start creates and starts a cluster. It returns ErrNotInstalled when
// the binaries are missing; the caller skips its tests then.
func Start(ctx context.Context) (*Cluster, error) {
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		if c.runAs, err = unprivilegedUser(); err != nil {
			return nil, err
		}
	}
	if c.dir, err = os.MkdirTemp("", "syndicate-pgtest-*"); err != nil {
		return nil, fmt.Errorf("pgtest: temporary directory: %w", err)
	}
	if err := c.start(ctx); err != nil {
		os.RemoveAll(c.dir)
		return nil, err
	}
	return c, nil
}

// unprivilegedUser picks the user a cluster started by root runs as.
func unprivilegedUser() (string, error) {
	if _, err := exec.LookPath("runuser"); err != nil {
		return "", errors.New("pgtest: running as root and runuser is not installed (util-linux): PostgreSQL refuses to run as root")
	}
	for _, name := range []string{"postgres", "nobody"} {
		if _, err := user.Lookup(name); err == nil {
			return name, nil
		}
	}
	return "", errors.New("pgtest: running as root, and neither a postgres nor a nobody user exists to run the cluster as")
}

func (c *Cluster) start(ctx context.Context) error {
	c.data = filepath.Join(c.dir, "data")
	if c.runAs != "" {
		u, err := user.Lookup(c.runAs)
		if err != nil {
			return fmt.Errorf("pgtest: look up user %s: %w", c.runAs, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(c.dir, uid, gid); err != nil {
			return fmt.Errorf("pgtest: hand %s to user %s: %w", c.dir, c.runAs, err)
		}
	}
	if out, err := c.run(ctx, "initdb", "-D", c.data, "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync"); err != nil {
		return fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	// A free port can be taken by someone else between the probe and the
	// start: try a few.
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return fmt.Errorf("pgtest: find a free port: %w", err)
		}
		opts := strings.Join([]string{
			"-c listen_addresses=127.0.0.1",
			"-p " + strconv.Itoa(port),
			"-c unix_socket_directories=''",
			"-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
			"-c max_connections=200",
		}, " ")
		out, err := c.run(ctx, "pg_ctl", "-D", c.data, "-l", filepath.Join(c.dir, "server.log"),
			"-o", opts, "-w", "-t", "60", "start")
		if err == nil {
			c.port = port
			return c.waitReady(ctx)
		}
		log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
		lastErr = fmt.Errorf("pgtest: pg_ctl start on port %d: %w\n%s\n%s", port, err, out, log)
		if !bytes.Contains(log, []byte("could not bind")) && !bytes.Contains(log, []byte("in use")) {
			break
		}
	}
	return lastErr
}

// waitReady connects once, so the first test does not race the startup.
func (c *Cluster) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		if err == nil {
			return conn.Close(ctx)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			c.Stop()
			return fmt.Errorf("pgtest: connect to the new cluster: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// run runs one of the cluster's binaries, as the unprivileged user when
// root, and returns its combined output.
func (c *Cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if c.runAs != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = c.dir
	// Only the C locale is asked for; the environment's LANG must not make
	// initdb fail on a locale this machine lacks.
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	return cmd.CombinedOutput()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Port is the loopback port the cluster listens on.
func (c *Cluster) Port() int { return c.port }

// URL is a connection URL of the superuser "postgres" to database db.
func (c *Cluster) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)), Path: "/" + db,
		RawQuery: "sslmode=disable"}
	return u.String()
}

// CreateDatabase creates an empty database and returns its URL.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return c.URL(name), nil
}

// Stop stops the cluster (pg_ctl stop, which signals the postmaster by
// the pid in its data directory) and removes its directory.
func (c *Cluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	if _, err := os.Stat(filepath.Join(c.data, "postmaster.pid")); err == nil {
		if out, err := c.run(ctx, "pg_ctl", "-D", c.data, "-m", "fast", "-w", "stop"); err != nil {
			errs = append(errs, fmt.Errorf("pgtest: pg_ctl stop: %w\n%s", err, out))
		}
	}
	if err := os.RemoveAll(c.dir); err != nil {
		errs = append(errs, fmt.Errorf("pgtest: remove %s: %w", c.dir, err))
	}
	return errors.Join(errs...)
}
