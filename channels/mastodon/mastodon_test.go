package mastodon

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/channels/mastodon/mastodontest"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

const token = "tok-3f9a1c2e-do-not-log"

var clockStart = time.Date(2026, 11, 26, 21, 30, 0, 0, time.UTC)

// clock is a settable Config.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Sleep is a Config.sleep that advances the clock instead of waiting.
func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Add(d)
	return nil
}

// newChannel builds a channel on a clock of its own, which its waits
// (pacing, media polls) advance.
// testConfig is a channel of the default settings on server, with token,
// but without hashtags: most tests here look at the rest of the post.
func testConfig(id, server string) Config {
	c := Config{ID: id, Settings: DefaultSettings()}
	c.Server, c.AccessToken, c.MaxHashtags = server, token, 0
	return c
}

func newChannel(t *testing.T, server string, edit func(*Config)) *Channel {
	t.Helper()
	clk := &clock{now: clockStart}
	cfg := testConfig("mastodon-en", server)
	cfg.Visibility, cfg.Now, cfg.sleep = "unlisted", clk.Now, clk.Sleep
	if edit != nil {
		edit(&cfg)
	}
	ch, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return ch
}

// testContext bounds a test's calls. Waits that advance the channel's
// clock take no real time, but the pacing and the media polls keep part
// of the context's time for the call itself, so it is generous.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func kazakhstan() syndicate.Article {
	return syndicate.Article{
		FeedID:     "emancipation-en",
		Key:        "https://en.communia.blog/protests-in-kazakhstan-5-clues",
		Link:       "https://en.communia.blog/protests-in-kazakhstan-5-clues",
		Title:      "Protests in Kazakhstan 5 clues to understand what’s going on",
		Summary:    `The crackdown on protests in Kazakhstan has become internationalized: Russian paratroopers and Armenian, Tajik and Kyrgyz troops under CSTO mandate have entered the country to tackle demonstrators. Russian agencies speak of a joint action to confront "terrorists" and "bandits", American ones of an attempt by Putin to "expand his influence". Both render invisible the reality: from last Sunday to today, the Kazakh state has collapsed in the face of a mass strike that spread throughout the country, but which nevertheless is far from the level of workers' self-organization that we have seen in Iran.`,
		Categories: []string{"Kazakhstan", "Mass strike", "Central Asia"},
		Language:   "en",
		Author:     "Emancipation",
		Published:  time.Date(2022, 1, 7, 17, 0, 0, 0, time.UTC),
	}
}

func postOf(a syndicate.Article, key string) syndicate.Post {
	return syndicate.Post{DeliveryID: 1, Article: a, IdempotencyKey: key}
}

func TestSend(t *testing.T) {
	tests := []struct {
		name           string
		visibility     string
		language       string
		wantVisibility string
		wantLanguage   string
	}{
		{"defaults to public", "", "en", "public", "en"},
		{"unlisted", "unlisted", "en", "unlisted", "en"},
		{"private, region dropped from the language", "private", "es-ES", "private", "es"},
		{"no language", "public", "", "public", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mastodontest.NewServer(t, token)
			ch := newChannel(t, srv.URL(), func(c *Config) { c.Visibility = tt.visibility })
			a := kazakhstan()
			a.Language = tt.language
			post := postOf(a, "delivery-17-key")

			rendering, err := ch.Render(post)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			receipt, se := ch.Send(testContext(t), post)
			if se != nil {
				t.Fatalf("Send: %v", se)
			}
			statuses := srv.Statuses()
			if len(statuses) != 1 {
				t.Fatalf("published %d statuses, want 1", len(statuses))
			}
			st := statuses[0]
			if st.Text != rendering.Text {
				t.Errorf("posted text:\n%s\nwant the rendering:\n%s", st.Text, rendering.Text)
			}
			if st.Visibility != tt.wantVisibility || st.Language != tt.wantLanguage {
				t.Errorf("visibility %q language %q, want %q %q", st.Visibility, st.Language, tt.wantVisibility, tt.wantLanguage)
			}
			if st.IdempotencyKey != "delivery-17-key" {
				t.Errorf("Idempotency-Key %q", st.IdempotencyKey)
			}
			if want := (syndicate.Receipt{RemoteID: st.ID, URL: st.URL}); receipt != want {
				t.Errorf("receipt %+v, want %+v", receipt, want)
			}
			if !strings.Contains(st.Content, `href="`+a.Link+`"`) {
				t.Errorf("content does not link to the article: %s", st.Content)
			}
		})
	}
}

func TestSendSameKeyMakesOneStatus(t *testing.T) {
	srv := mastodontest.NewServer(t, token)
	ch := newChannel(t, srv.URL(), nil)
	ctx := testContext(t)
	post := postOf(kazakhstan(), "delivery-1")

	first, err := ch.Send(ctx, post)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ch.Send(ctx, post)
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Errorf("re-send returned %+v, want the first status %+v", again, first)
	}
	if n := len(srv.Statuses()); n != 1 {
		t.Errorf("%d statuses after a re-send with the same key, want 1", n)
	}
	if n := srv.Requests("/api/v1/statuses"); n != 2 {
		t.Errorf("%d status posts, want 2", n)
	}
	if _, err := ch.Send(ctx, postOf(kazakhstan(), "delivery-2")); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Statuses()); n != 2 {
		t.Errorf("%d statuses after a send with another key, want 2", n)
	}
}

func TestSendErrors(t *testing.T) {
	reset := time.Date(2026, 11, 26, 21, 35, 0, 0, time.UTC)
	rateLimited := http.Header{
		"X-Ratelimit-Limit":     {"300"},
		"X-Ratelimit-Remaining": {"0"},
		"X-Ratelimit-Reset":     {"2026-11-26T21:35:00.000Z"},
	}
	long := kazakhstan()
	long.Summary = strings.Repeat(long.Summary+" ", 3)

	tests := []struct {
		name           string
		setup          func(*mastodontest.Server)
		edit           func(*Config)
		article        syndicate.Article
		override       string // an editor's text, which is never cut
		wantKind       syndicate.ErrorKind
		wantRetryAfter time.Time
		wantText       string
	}{
		{
			name:     "500 is retryable",
			setup:    func(s *mastodontest.Server) { s.FailNext(1, 500, nil, "") },
			wantKind: syndicate.Retryable, wantText: "mastodon: posting the status: 500 Internal Server Error",
		},
		{
			name: "502 with an HTML body is retryable",
			setup: func(s *mastodontest.Server) {
				s.FailNext(1, 502, http.Header{"Content-Type": {"text/html"}}, "<html>Bad gateway</html>")
			},
			wantKind: syndicate.Retryable, wantText: "502 Bad Gateway",
		},
		{
			name:     "503 obeys Retry-After",
			setup:    func(s *mastodontest.Server) { s.FailNext(1, 503, http.Header{"Retry-After": {"120"}}, "") },
			wantKind: syndicate.Retryable, wantRetryAfter: clockStart.Add(2 * time.Minute), wantText: "503",
		},
		{
			// go-mastodon would retry this for up to an hour: the call must
			// come back at once with the reset time, well within the 5s context.
			name:     "429 returns at once with X-RateLimit-Reset",
			setup:    func(s *mastodontest.Server) { s.FailNext(1, 429, rateLimited, `{"error":"Too many requests"}`) },
			wantKind: syndicate.Retryable, wantRetryAfter: reset, wantText: "429 Too many requests (retry after 2026-11-26T21:35:00Z)",
		},
		{
			name:     "429 with Retry-After only",
			setup:    func(s *mastodontest.Server) { s.FailNext(1, 429, http.Header{"Retry-After": {"30"}}, "") },
			wantKind: syndicate.Retryable, wantRetryAfter: clockStart.Add(30 * time.Second), wantText: "429",
		},
		{
			name:     "wrong token is permanent",
			edit:     func(c *Config) { c.AccessToken = "wrong-" + token },
			wantKind: syndicate.Permanent, wantText: "401 The access token is invalid",
		},
		{
			name:     "token revoked before the post is permanent",
			setup:    func(s *mastodontest.Server) { s.FailNext(1, 401, nil, `{"error":"The access token was revoked"}`) },
			wantKind: syndicate.Permanent, wantText: "mastodon: posting the status: 401 The access token was revoked",
		},
		{
			name:     "an error echoing the token is redacted",
			setup:    func(s *mastodontest.Server) { s.FailNext(1, 403, nil, `{"error":"token `+token+` may not post"}`) },
			wantKind: syndicate.Permanent, wantText: "403 token [redacted] may not post",
		},
		{
			// A text of the template would be fitted again to 500; an
			// editor's is not cut.
			name:     "422 over the instance's limit is permanent for an editor's text",
			edit:     func(c *Config) { c.MaxCharacters = 1000 }, // the instance allows 500
			override: strings.Repeat("strike ", 100),
			wantKind: syndicate.Permanent, wantText: "mastodon: posting the status: 422 Validation failed: Text character limit of 500 exceeded",
		},
		{
			name: "a redirect is permanent and says where",
			setup: func(s *mastodontest.Server) {
				s.FailNext(1, 301, http.Header{"Location": {"https://social.example/api/v1/statuses"}}, "")
			},
			wantKind: syndicate.Permanent, wantText: "redirects to https://social.example/api/v1/statuses",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mastodontest.NewServer(t, token)
			if tt.setup != nil {
				tt.setup(srv)
			}
			ch := newChannel(t, srv.URL(), tt.edit)
			a := tt.article
			if a.Link == "" {
				a = kazakhstan()
			}
			post := postOf(a, "key-1")
			post.Override = tt.override
			_, err := ch.Send(testContext(t), post)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			kind, retryAfter := syndicate.Classify(err)
			if kind != tt.wantKind {
				t.Errorf("kind %v, want %v (%v)", kind, tt.wantKind, err)
			}
			if !retryAfter.Equal(tt.wantRetryAfter) {
				t.Errorf("retry after %v, want %v", retryAfter, tt.wantRetryAfter)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error leaks the token: %v", err)
			}
			if n := len(srv.Statuses()); n != 0 {
				t.Errorf("%d statuses published", n)
			}
		})
	}
}

func TestSendWithoutAnAnswer(t *testing.T) {
	t.Run("server unreachable", func(t *testing.T) {
		down := httptest.NewServer(http.NotFoundHandler())
		down.Close()
		ch := newChannel(t, down.URL, func(c *Config) { c.MaxCharacters = 500 })
		_, err := ch.Send(testContext(t), postOf(kazakhstan(), "key"))
		if kind, _ := syndicate.Classify(err); err == nil || kind != syndicate.Retryable {
			t.Fatalf("got %v (%v), want a retryable error", err, kind)
		}
	})
	t.Run("context cancelled before the request", func(t *testing.T) {
		srv := mastodontest.NewServer(t, token)
		ch := newChannel(t, srv.URL(), nil)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := ch.Send(ctx, postOf(kazakhstan(), "key"))
		if kind, _ := syndicate.Classify(err); err == nil || kind != syndicate.Retryable {
			t.Fatalf("got %v (%v), want a retryable error", err, kind)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error does not unwrap to context.Canceled: %v", err)
		}
		if n := srv.Requests("/api/v1/statuses"); n != 0 {
			t.Errorf("%d status posts", n)
		}
	})
	t.Run("answer lost, no idempotency key: uncertain", func(t *testing.T) {
		srv := mastodontest.NewServer(t, token)
		srv.DropAfterAccept(1)
		ch := newChannel(t, srv.URL(), nil)
		_, err := ch.Send(testContext(t), postOf(kazakhstan(), ""))
		if kind, _ := syndicate.Classify(err); err == nil || kind != syndicate.Uncertain {
			t.Fatalf("got %v (%v), want an uncertain error", err, kind)
		}
		if n := len(srv.Statuses()); n != 1 {
			t.Errorf("%d statuses, want the 1 that was published", n)
		}
	})
}

func TestDroppedSendIsRetryableAndResolved(t *testing.T) {
	srv := mastodontest.NewServer(t, token)
	// net/http replays a POST carrying an Idempotency-Key once when a
	// reused connection closes unanswered; drop the replay too.
	srv.DropAfterAccept(2)
	ch := newChannel(t, srv.URL(), nil)
	ctx := testContext(t)
	post := postOf(kazakhstan(), "delivery-9")
	since := time.Now()

	_, err := ch.Send(ctx, post)
	if kind, _ := syndicate.Classify(err); err == nil || kind != syndicate.Retryable {
		t.Fatalf("got %v (%v), want a retryable error", err, kind)
	}
	statuses := srv.Statuses()
	if len(statuses) != 1 {
		t.Fatalf("%d statuses published, want 1", len(statuses))
	}
	want := syndicate.Receipt{RemoteID: statuses[0].ID, URL: statuses[0].URL}

	other := kazakhstan()
	other.Link = "https://en.communia.blog/protests-in-kazakhstan"
	tests := []struct {
		name      string
		post      syndicate.Post
		since     time.Time
		wantFound bool
	}{
		{"found by its link", post, since, true},
		{"clock skew of under a minute", post, since.Add(50 * time.Second), true},
		{"posted before the attempt", post, since.Add(2 * time.Minute), false},
		{"another article whose link is a prefix", postOf(other, "x"), since, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found, err := ch.Resolve(ctx, tt.post, tt.since)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if found != tt.wantFound {
				t.Fatalf("found = %v, want %v", found, tt.wantFound)
			}
			if found && got != want {
				t.Errorf("receipt %+v, want %+v", got, want)
			}
		})
	}

	// The pipeline's re-send with the same key makes no second status.
	got, err := ch.Send(ctx, post)
	if err != nil {
		t.Fatalf("re-send: %v", err)
	}
	if got != want || len(srv.Statuses()) != 1 {
		t.Errorf("re-send: %+v and %d statuses, want %+v and 1", got, len(srv.Statuses()), want)
	}
}

func TestDroppedOnceNeverDuplicates(t *testing.T) {
	srv := mastodontest.NewServer(t, token)
	srv.DropAfterAccept(1)
	ch := newChannel(t, srv.URL(), nil)
	ctx := testContext(t)
	post := postOf(kazakhstan(), "delivery-3")
	// Either net/http's replay got the answer, or the error is retryable.
	if _, err := ch.Send(ctx, post); err != nil {
		if kind, _ := syndicate.Classify(err); kind != syndicate.Retryable {
			t.Fatalf("got %v (%v), want success or a retryable error", err, kind)
		}
	}
	if _, err := ch.Send(ctx, post); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Statuses()); n != 1 {
		t.Errorf("%d statuses, want 1", n)
	}
}

func TestResolveWithoutLink(t *testing.T) {
	srv := mastodontest.NewServer(t, token)
	ch := newChannel(t, srv.URL(), nil)
	a := kazakhstan()
	a.Link = ""
	if _, _, err := ch.Resolve(testContext(t), postOf(a, "k"), time.Now()); err == nil {
		t.Fatal("Resolve of an article without a link did not fail")
	}
}

func TestLimits(t *testing.T) {
	long := kazakhstan()
	long.Summary = strings.Repeat(long.Summary+" ", 4) // about 2400 characters

	t.Run("read from /api/v2/instance and fitted to", func(t *testing.T) {
		srv := mastodontest.NewServer(t, token)
		srv.SetMaxCharacters(1000)
		ch := newChannel(t, srv.URL(), func(c *Config) { c.MaxSummary = -1 }) // no cap: the post fills the limit
		if _, err := ch.Send(testContext(t), postOf(long, "k1")); err != nil {
			t.Fatal(err)
		}
		text := srv.Statuses()[0].Text
		if n := Length(text); n > 1000 || n < 800 {
			t.Errorf("posted %d characters, want close to and within 1000:\n%s", n, text)
		}
		if n := mastodontest.Length(text, 23); n > 1000 {
			t.Errorf("the fake counts %d characters", n)
		}
		if !strings.HasSuffix(text, "demonstrators.\n\n"+long.Link) {
			t.Errorf("summary not cut at a sentence end before the link:\n%s", text)
		}
		r, err := ch.Render(postOf(long, "k1"))
		if err != nil || r.Limit != 1000 || r.Text != text {
			t.Errorf("Render after Send: limit %d, error %v, same text %v", r.Limit, err, r.Text == text)
		}
		if v2, v1 := srv.Requests("/api/v2/instance"), srv.Requests("/api/v1/instance"); v2 != 1 || v1 != 0 {
			t.Errorf("instance requests: v2 %d, v1 %d", v2, v1)
		}
	})
	t.Run("falls back to /api/v1/instance", func(t *testing.T) {
		srv := mastodontest.NewServer(t, token)
		srv.DisableInstanceV2()
		srv.SetMaxCharacters(700)
		ch := newChannel(t, srv.URL(), nil)
		got, err := ch.Limits(testContext(t))
		if err != nil {
			t.Fatal(err)
		}
		// Mastodon's v1 document does not name the software: nodeinfo does.
		if want := (Limits{MaxCharacters: 700, CharactersPerURL: 23, DescriptionLimit: 1500, ImageSizeLimit: 16 << 20, Software: "mastodon", Version: "3.5.3"}); got != want {
			t.Errorf("limits %+v, want %+v", got, want)
		}
		if v2, v1, ni := srv.Requests("/api/v2/instance"), srv.Requests("/api/v1/instance"), srv.Requests("/.well-known/nodeinfo"); v2 != 1 || v1 != 1 || ni != 1 {
			t.Errorf("instance requests: v2 %d, v1 %d, nodeinfo %d", v2, v1, ni)
		}
	})
	t.Run("cached, refreshed after a day", func(t *testing.T) {
		srv := mastodontest.NewServer(t, token)
		clk := &clock{now: clockStart}
		ch := newChannel(t, srv.URL(), func(c *Config) { c.Now, c.sleep = clk.Now, clk.Sleep })
		ctx := testContext(t)
		for i, step := range []time.Duration{0, time.Hour, 24 * time.Hour} {
			clk.Add(step)
			if _, err := ch.Send(ctx, postOf(kazakhstan(), "k"+string(rune('a'+i)))); err != nil {
				t.Fatal(err)
			}
		}
		if n := srv.Requests("/api/v2/instance"); n != 2 {
			t.Errorf("%d requests to /api/v2/instance, want 2", n)
		}
	})
	t.Run("configured limit overrides the instance's", func(t *testing.T) {
		srv := mastodontest.NewServer(t, token)
		srv.SetMediaLimits(700, 1<<20)
		ch := newChannel(t, srv.URL(), func(c *Config) { c.MaxCharacters, c.MaxSummary = 450, -1 })
		if _, err := ch.Send(testContext(t), postOf(long, "k")); err != nil {
			t.Fatal(err)
		}
		if n := Length(srv.Statuses()[0].Text); n > 450 || n < 400 {
			t.Errorf("posted %d characters", n)
		}
		got, err := ch.Limits(testContext(t))
		if want := (Limits{MaxCharacters: 450, CharactersPerURL: 23, DescriptionLimit: 700, ImageSizeLimit: 1 << 20, Software: "mastodon", Version: mastodontest.MastodonVersion}); err != nil || got != want {
			t.Errorf("limits %+v (%v), want %+v", got, err, want)
		}
	})
	t.Run("configured limit, instance unreadable: defaults for the rest", func(t *testing.T) {
		srv := mastodontest.NewServer(t, token)
		srv.FailNextOn("GET /api/v2/instance", 1, 500, nil, "")
		ch := newChannel(t, srv.URL(), func(c *Config) { c.MaxCharacters = 450 })
		got, err := ch.Limits(testContext(t))
		if want := (Limits{MaxCharacters: 450, CharactersPerURL: 23, DescriptionLimit: 1500}); err != nil || got != want {
			t.Errorf("limits %+v (%v), want %+v", got, err, want)
		}
	})
	t.Run("instance unreadable: retryable", func(t *testing.T) {
		srv := mastodontest.NewServer(t, token)
		srv.FailNextOn("GET /api/v2/instance", 1, 503, http.Header{"Retry-After": {"60"}}, "")
		ch := newChannel(t, srv.URL(), nil)
		_, err := ch.Send(testContext(t), postOf(kazakhstan(), "k"))
		if kind, at := syndicate.Classify(err); err == nil || kind != syndicate.Retryable || !at.Equal(clockStart.Add(time.Minute)) {
			t.Fatalf("got %v (%v, %v), want a retryable error after a minute", err, kind, at)
		}
		if len(srv.Statuses()) != 0 {
			t.Error("posted without knowing the limits")
		}
	})
}

func TestCheck(t *testing.T) {
	srv := mastodontest.NewServer(t, token)
	srv.SetMaxCharacters(5000)
	got, err := newChannel(t, srv.URL(), nil).Check(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	want := "authenticated as @syndicate on " + strings.TrimPrefix(srv.URL(), "http://") +
		" (Mastodon 4.3.0); limits: 5000 characters a post, URLs count 23, image descriptions 1500 characters, images up to 16777216 bytes"
	if got != want {
		t.Errorf("Check = %q, want %q", got, want)
	}

	got, err = newChannel(t, srv.URL(), func(c *Config) { c.MaxCharacters = 480 }).Check(testContext(t))
	if err != nil || !strings.HasSuffix(got, " (posts fitted to max_characters: 480)") || !strings.Contains(got, "5000 characters a post") {
		t.Errorf("Check with max_characters = %q (%v)", got, err)
	}

	_, err = newChannel(t, srv.URL(), func(c *Config) { c.AccessToken = "bad-" + token }).Check(testContext(t))
	if err == nil || !strings.Contains(err.Error(), "401 The access token is invalid") || strings.Contains(err.Error(), token) {
		t.Errorf("Check with a bad token: %v", err)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{"valid", nil, ""},
		{"template syntax", func(c *Config) { c.Template = "{{.Title" }, "template: parsing template"},
		{"template unknown field", func(c *Config) { c.Template = "{{.Headline}}" }, "can't evaluate field Headline"},
		{"template with cut", func(c *Config) { c.Template = "{{cut 100 .Title}} {{.Link}}" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("m", "https://mastodon.social")
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			_, err := New(cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("New error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestOverrideTemplateOverLimit(t *testing.T) {
	srv := mastodontest.NewServer(t, token)
	ch := newChannel(t, srv.URL(), func(c *Config) {
		c.Template = strings.Repeat("Read this! ", 50) + "{{.Title}} {{.Link}}"
	})
	post := postOf(kazakhstan(), "k")
	r, err := ch.Render(post)
	if err == nil || r.Length <= r.Limit {
		t.Fatalf("Render: length %d, limit %d, error %v", r.Length, r.Limit, err)
	}
	_, se := ch.Send(testContext(t), post)
	if se == nil || se.Kind != syndicate.Permanent || !strings.Contains(se.Error(), "over the limit of 500") {
		t.Fatalf("Send: %v, want a permanent error naming the limit", se)
	}
	if n := srv.Requests("/api/v1/statuses"); n != 0 {
		t.Errorf("%d status posts", n)
	}
}

// A channel built without a token (a dry run's) renders, but never calls
// the API.
func TestWithoutTokenRendersButNeverSends(t *testing.T) {
	srv := mastodontest.NewServer(t, token)
	ch := newChannel(t, srv.URL(), func(c *Config) { c.AccessToken = "" })
	if _, err := ch.Render(postOf(kazakhstan(), "k")); err != nil {
		t.Fatalf("render: %v", err)
	}
	_, err := ch.Send(testContext(t), postOf(kazakhstan(), "k"))
	if kind, _ := syndicate.Classify(err); err == nil || kind != syndicate.Permanent {
		t.Fatalf("send: %v (%v)", err, kind)
	}
	if _, err := ch.Check(testContext(t)); err == nil {
		t.Fatal("check passed without a token")
	}
	if _, _, err := ch.Resolve(testContext(t), postOf(kazakhstan(), "k"), clockStart); err == nil {
		t.Fatal("resolve ran without a token")
	}
	if len(srv.Statuses()) != 0 || srv.Requests("/api/v1/accounts/verify_credentials") != 0 {
		t.Fatal("the API was called without a token")
	}
}
