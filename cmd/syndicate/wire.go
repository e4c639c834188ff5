package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/config"
	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/feed"
	"github.com/syndicate-daemon/syndicate/syndicate/store/postgres"
	"github.com/syndicate-daemon/syndicate/syndicate/store/sqlite"
)

// loadConfig reads the configuration; dry-run and preview need no secrets.
func (c *cli) loadConfig(secretsOptional bool) (*config.Config, error) {
	cfg, err := config.Load(c.opts.config, config.Options{Channels: configTypes(), LookupEnv: c.env.LookupEnv, MissingSecretsOK: secretsOptional})
	if err != nil {
		return nil, configError{err}
	}
	for _, w := range cfg.Warnings {
		c.log.Warn("config: " + w)
	}
	return cfg, nil
}

// openStore opens the store named by the config's store: key. A dry run
// against a database that does not exist yet reads an empty one in a
// temporary directory, so it leaves no file behind.
func openStore(ctx context.Context, cfg *config.Config, dryRun bool) (syndicate.Store, error) {
	switch {
	case strings.HasPrefix(cfg.Store, "sqlite:"):
		path := strings.TrimPrefix(cfg.Store, "sqlite:")
		if _, err := os.Stat(path); dryRun && errors.Is(err, fs.ErrNotExist) {
			return openTempStore(ctx)
		}
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
		return s, nil
	case strings.HasPrefix(cfg.Store, "postgres://"), strings.HasPrefix(cfg.Store, "postgresql://"):
		if dryRun {
			// A dry run changes nothing: a database not yet at this
			// binary's schema is not migrated, the run rehearses instead.
			if _, schema, err := postgres.Probe(ctx, cfg.Store); err != nil {
				return nil, fmt.Errorf("open store: %w", err)
			} else if schema != postgres.SchemaVersion() {
				return openTempStore(ctx)
			}
		}
		s, err := postgres.Open(ctx, cfg.Store)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err) // the error shows the URL without its password
		}
		return s, nil
	}
	return nil, configError{fmt.Errorf("store: %q is neither sqlite:PATH nor postgres://", cfg.Store)}
}

// probeStore checks, without changing it, that the store can be reached:
// the SQLite file or the directory it will be made in, the PostgreSQL
// server and the schema found there.
func probeStore(ctx context.Context, cfg *config.Config) (string, error) {
	switch {
	case strings.HasPrefix(cfg.Store, "sqlite:"):
		path := strings.TrimPrefix(cfg.Store, "sqlite:")
		if _, err := os.Stat(path); err == nil {
			return "sqlite " + path, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		probe, err := os.CreateTemp(filepath.Dir(path), ".syndicate-check-*")
		if err != nil {
			return "", fmt.Errorf("sqlite %s does not exist, and it cannot be made: %w", path, err)
		}
		probe.Close()
		os.Remove(probe.Name())
		return fmt.Sprintf("sqlite %s does not exist yet: the first run makes it", path), nil
	case strings.HasPrefix(cfg.Store, "postgres://"), strings.HasPrefix(cfg.Store, "postgresql://"):
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		server, schema, err := postgres.Probe(ctx, cfg.Store)
		if err != nil {
			return "", err
		}
		msg := fmt.Sprintf("PostgreSQL %s, schema version %d", server, schema)
		switch want := postgres.SchemaVersion(); {
		case schema == 0:
			msg += " (not migrated yet: the first run migrates it)"
		case schema < want:
			msg += fmt.Sprintf(" (the next run migrates it to %d)", want)
		case schema > want:
			return "", fmt.Errorf("%s: newer than this binary's %d", msg, want)
		}
		return msg, nil
	}
	return "", configError{fmt.Errorf("store: %q is neither sqlite:PATH nor postgres://", cfg.Store)}
}

func openTempStore(ctx context.Context) (syndicate.Store, error) {
	dir, err := os.MkdirTemp("", "syndicate-dry-run-")
	if err != nil {
		return nil, fmt.Errorf("dry run: temporary store: %w", err)
	}
	s, err := sqlite.Open(ctx, filepath.Join(dir, "syndicate.db"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("dry run: temporary store: %w", err)
	}
	return tempStore{Store: s, dir: dir}, nil
}

// tempStore is a store removed when closed. It embeds the SQLite store
// itself, so it keeps everything the store can do (digests, subscribers).
type tempStore struct {
	*sqlite.Store
	dir string
}

func (t tempStore) Close() error {
	return errors.Join(t.Store.Close(), os.RemoveAll(t.dir))
}

// newReader builds the feed reader shared by every feed, with each feed's
// own timeout and size cap.
func newReader(cfg *config.Config, c *cli) feedReader {
	ua := readBuildInfo().UserAgent()
	if cfg.UserAgent != "" {
		ua += " " + cfg.UserAgent
	}
	r := feedReader{reader: feed.New(feed.Options{UserAgent: ua, Now: c.env.Now, Guard: netGuard(cfg)}), limits: map[string]feed.Limits{}}
	for _, f := range cfg.Feeds {
		r.limits[f.ID] = feed.Limits{Timeout: f.Timeout.Std(), MaxBytes: f.MaxBytes, MaxItems: f.MaxItems}
	}
	return r
}

// feedReader applies per-feed limits to the shared reader.
type feedReader struct {
	reader *feed.Reader
	limits map[string]feed.Limits
}

func (r feedReader) Read(ctx context.Context, src syndicate.FeedSource, v syndicate.Validators) (syndicate.FetchResult, error) {
	return r.reader.ReadWith(ctx, src, v, r.limits[src.ID])
}

// buildFeeds turns the config's feeds into the pipeline's, routed to the
// channels that deliver article by article and to the email digests.
func buildFeeds(cfg *config.Config, targets map[string]syndicate.Target) ([]syndicate.Feed, error) {
	loc := cfg.Location()
	var feeds []syndicate.Feed
	for i, f := range cfg.Feeds {
		sched, err := config.ParseSchedule(f.Schedule, loc)
		if err != nil {
			return nil, configError{fmt.Errorf("feeds[%d].schedule: %w", i, err)}
		}
		var to []string
		for _, ch := range f.To {
			if _, ok := targets[ch]; ok || isEmailChannel(cfg, ch) {
				to = append(to, ch)
			}
		}
		feeds = append(feeds, syndicate.Feed{
			Source:     syndicate.FeedSource{ID: f.ID, URL: f.URL, Language: f.Language},
			Schedule:   sched,
			Backfill:   f.Backfill,
			FloodLimit: f.FloodLimit,
			To:         to,
			Review:     f.Review,
			Filter: syndicate.Filter{
				IncludeCategories: f.Filter.IncludeCategories,
				ExcludeCategories: f.Filter.ExcludeCategories,
				Match:             f.Filter.MatchRegexp(),
			},
		})
	}
	return feeds, nil
}

// buildTargets builds one channel per configured channel that posts
// article by article: the one place where a type: becomes a channel.
func buildTargets(cfg *config.Config, c *cli, vault channels.Vault) (map[string]syndicate.Target, error) {
	ua := readBuildInfo().UserAgent()
	images := netGuard(cfg).Transport(nil, nil) // the feed names them
	targets := map[string]syndicate.Target{}
	var built []syndicate.Channel
	for i, ch := range cfg.Channels {
		if ch.Type == config.TypeEmail {
			continue // a digest, not a delivery target: see buildDigests
		}
		t, ok := postTypeOf(ch.Type)
		if !ok || ch.Settings == nil {
			return nil, configError{fmt.Errorf("channels[%d].type: unknown type %q", i, ch.Type)}
		}
		b, err := t.build(channels.Deps{
			ID:             ch.ID,
			Template:       ch.Template,
			Timeout:        ch.Timeout.Std(),
			UserAgent:      ua,
			ImageTransport: images,
			Now:            c.env.Now,
			Logger:         c.log,
			Built:          built,
			Vault:          vault,
		}, ch.Settings)
		if err != nil {
			return nil, configError{fmt.Errorf("channels[%d] (%s): %w", i, ch.ID, err)}
		}
		if ch.OnUpdate == config.OnUpdateEdit && b.Editor == nil {
			// config refuses it already, from the type's settings.
			return nil, configError{fmt.Errorf("channels[%d].on_update: a %s channel cannot edit its posts", i, ch.Type)}
		}
		built = append(built, b.Channel)
		targets[ch.ID] = syndicate.Target{
			ID:           ch.ID,
			Channel:      b.Channel,
			Capabilities: b.Capabilities,
			EditOnUpdate: ch.OnUpdate == config.OnUpdateEdit,
			Review:       ch.Review,
			Retry: syndicate.RetryPolicy{
				MaxAttempts: ch.Retry.MaxAttempts,
				MinBackoff:  ch.Retry.MinBackoff.Std(),
				MaxBackoff:  ch.Retry.MaxBackoff.Std(),
			},
		}
	}
	return targets, nil
}

// engineFor wires a pipeline over an open store.
func (c *cli) engineFor(ctx context.Context, cfg *config.Config, store syndicate.Store, dryRun bool, out io.Writer, obs syndicate.Observer) (*syndicate.Engine, error) {
	vault, err := newStoreVault(ctx, cfg, store)
	if err != nil {
		return nil, err
	}
	targets, err := buildTargets(cfg, c, vault)
	if err != nil {
		return nil, err
	}
	feeds, err := buildFeeds(cfg, targets)
	if err != nil {
		return nil, err
	}
	digests, err := c.buildDigests(ctx, cfg, store, dryRun)
	if err != nil {
		return nil, err
	}
	return &syndicate.Engine{
		Store:     store,
		Reader:    newReader(cfg, c),
		Feeds:     feeds,
		Targets:   targets,
		Digests:   digests,
		Log:       c.log,
		Observer:  obs,
		Now:       c.env.Now,
		Jitter:    rand.Float64,
		DryRun:    dryRun,
		DryRunOut: out,
		// 0: the engine's default, syndicate.DefaultPollConcurrency.
		MaxConcurrentPolls: cfg.MaxConcurrentPolls,
		DryRunPrint: func(channelID string, a syndicate.Article, r syndicate.Rendering) {
			fmt.Fprintf(out, "%s\n", renderingBlock(channelID, channelKind(typeOf(cfg, channelID)), a, r))
		},
	}, nil
}

// typeOf is the type: of a configured channel.
func typeOf(cfg *config.Config, id string) string {
	if ch, ok := cfg.Channel(id); ok {
		return ch.Type
	}
	return ""
}
