package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// The editor's commands beyond retry, skip and mark-sent, each with the
// same effect as its dashboard button: approve, edit, pause, resume. A
// running daemon sees what they write within a second (the store tells it).

// deliveryIDs parses the positional delivery ids.
func (c *cli) deliveryIDs() ([]int64, error) {
	if len(c.args) == 0 {
		return nil, usagef("name at least one delivery id (see `syndicate status`)")
	}
	var ids []int64
	for _, a := range c.args {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 {
			return nil, usagef("%q is not a delivery id", a)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// withEngine opens the store and builds the engine over it for one
// editor's command; secrets are needed only by commands that reach a
// platform.
func (c *cli) withEngine(ctx context.Context, needSecrets bool, do func(*syndicate.Engine) error) error {
	cfg, err := c.loadConfig(!needSecrets)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer store.Close()
	engine, err := c.engineFor(ctx, cfg, store, false, c.env.Stdout, nil)
	if err != nil {
		return err
	}
	return do(engine)
}

// forEach applies act to each delivery named, printing the new state, and
// fails (exit 1) if any was not changed.
func (c *cli) forEach(ids []int64, act func(id int64) (syndicate.Delivery, error)) error {
	failed := 0
	for _, id := range ids {
		d, err := act(id)
		if err != nil {
			failed++
			fmt.Fprintf(c.env.Stderr, "%v\n", err)
			continue
		}
		fmt.Fprintf(c.env.Stdout, "delivery %d: %s\n", id, d.State)
	}
	if failed > 0 {
		return failedError{"some deliveries were not changed"}
	}
	return nil
}

// cmdApprove sends deliveries waiting in review; with --text-file, the one
// delivery named goes out with that text instead of the channel's own.
func cmdApprove(ctx context.Context, c *cli) error {
	ids, err := c.deliveryIDs()
	if err != nil {
		return err
	}
	var text *string
	if c.opts.textFile != "" {
		if len(ids) != 1 {
			return usagef("--text-file takes exactly one delivery (got %d)", len(ids))
		}
		raw, err := os.ReadFile(c.opts.textFile)
		if err != nil {
			return usagef("--text-file: %v", err)
		}
		s := string(raw)
		text = &s
	}
	return c.withEngine(ctx, false, func(e *syndicate.Engine) error {
		return c.forEach(ids, func(id int64) (syndicate.Delivery, error) { return e.Approve(ctx, id, text) })
	})
}

// cmdEdit pushes the article as it is now to sent posts (on_update: edit).
func cmdEdit(ctx context.Context, c *cli) error {
	ids, err := c.deliveryIDs()
	if err != nil {
		return err
	}
	return c.withEngine(ctx, true, func(e *syndicate.Engine) error {
		return c.forEach(ids, func(id int64) (syndicate.Delivery, error) { return e.PushEdit(ctx, id) })
	})
}

// pause returns the command that pauses or resumes the named channels.
func pause(paused bool) func(context.Context, *cli) error {
	verb := map[bool]string{true: "paused", false: "resumed"}[paused]
	return func(ctx context.Context, c *cli) error {
		if len(c.args) == 0 {
			return usagef("name at least one channel id")
		}
		return c.withEngine(ctx, false, func(e *syndicate.Engine) error {
			for _, id := range c.args {
				if err := e.SetPaused(ctx, id, paused); err != nil {
					return usagef("%v", err)
				}
				fmt.Fprintf(c.env.Stdout, "channel %s: %s\n", id, verb)
			}
			return nil
		})
	}
}

// cmdHealthcheck exits 0 when the daemon of the configuration answers
// /readyz with 200: the container's HEALTHCHECK, where there is no curl.
func cmdHealthcheck(ctx context.Context, c *cli) error {
	cfg, err := c.loadConfig(true)
	if err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return configError{fmt.Errorf("listen: %w", err)}
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1" // listening on every interface: loopback is one
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + "/readyz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(c.env.Stderr, "not ready: %v\n", err)
		return failedError{"not ready"}
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(c.env.Stderr, "not ready: %s answered %s\n", url, resp.Status)
		return failedError{"not ready"}
	}
	fmt.Fprintln(c.env.Stdout, "ready")
	return nil
}
