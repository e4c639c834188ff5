package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/channels/telegram/internal/tghtml"
	"github.com/syndicate-daemon/syndicate/channels/telegram/telegramtest"
	"github.com/syndicate-daemon/syndicate/schema"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	token = "123456:TEST-secret_token"
	chat  = "@emancipation_en"
)

// clock is an injected clock that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testConfig is a channel of the default settings posting to chat through
// the Bot API at apiURL, unpaced and without hashtags.
func testConfig(apiURL string) Config {
	cfg := Config{ID: "telegram-en", Settings: DefaultSettings()}
	cfg.APIURL, cfg.BotToken, cfg.Chat = apiURL, token, chat
	cfg.Pacing, cfg.MaxHashtags = Pacing{}, 0
	return cfg
}

// newChannel returns a channel posting to chat on srv, unpaced unless
// configure says otherwise.
func newChannel(t *testing.T, srv *telegramtest.Server, configure func(*Config)) *Channel {
	t.Helper()
	cfg := testConfig(srv.URL())
	if configure != nil {
		configure(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newServer(t *testing.T) *telegramtest.Server {
	srv := telegramtest.NewServer(t, token)
	srv.AddChat(chat)
	return srv
}

func article() syndicate.Article {
	return syndicate.Article{
		FeedID:     "emancipation-en",
		Key:        "https://en.communia.blog/?p=1",
		Link:       "https://en.communia.blog/mass-strike/",
		Title:      "The mass strike in Kazakhstan",
		Summary:    "Workers in the oil fields of Zhanaozen stopped work on the first day of the year.",
		Categories: []string{"Kazakhstan", "Mass strike"},
		Language:   "en",
		Published:  time.Date(2026, 1, 3, 9, 0, 0, 0, time.UTC),
	}
}

func post(a syndicate.Article) syndicate.Post { return syndicate.Post{DeliveryID: 1, Article: a} }

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("invalid JSON %q: %v", s, err)
	}
	return v
}

func TestSend(t *testing.T) {
	tests := []struct {
		name      string
		configure func(*Config)
		article   func(*syndicate.Article)
		check     func(t *testing.T, m telegramtest.Message, r syndicate.Receipt)
	}{
		{
			name: "message, button, preview and receipt",
			check: func(t *testing.T, m telegramtest.Message, r syndicate.Receipt) {
				want := "<b>The mass strike in Kazakhstan</b>\n\n" +
					"Workers in the oil fields of Zhanaozen stopped work on the first day of the year.\n\n" +
					`<a href="https://en.communia.blog/mass-strike/">https://en.communia.blog/mass-strike/</a>`
				if m.Text != want || m.ParseMode != "HTML" {
					t.Errorf("sent %q in %q, want %q in HTML", m.Text, m.ParseMode, want)
				}
				if got, want := decodeJSON(t, m.Options["reply_markup"]), decodeJSON(t,
					`{"inline_keyboard":[[{"text":"Read the article","url":"https://en.communia.blog/mass-strike/"}]]}`); !reflect.DeepEqual(got, want) {
					t.Errorf("reply_markup %v, want %v", got, want)
				}
				if got, want := decodeJSON(t, m.Options["link_preview_options"]), decodeJSON(t,
					`{"url":"https://en.communia.blog/mass-strike/","prefer_large_media":true}`); !reflect.DeepEqual(got, want) {
					t.Errorf("link_preview_options %v, want %v", got, want)
				}
				if _, ok := m.Options["disable_notification"]; ok {
					t.Errorf("disable_notification sent for a channel that is not silent")
				}
				if r != (syndicate.Receipt{RemoteID: "-1001000000000/1", URL: "https://t.me/emancipation_en/1"}) {
					t.Errorf("receipt %+v", r)
				}
			},
		},
		{
			name: "title escaped",
			article: func(a *syndicate.Article) {
				a.Title = `<script>alert("x")</script> Q&A: "strikes" & <b>lockouts</b>`
			},
			check: func(t *testing.T, m telegramtest.Message, _ syndicate.Receipt) {
				want := `<b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Q&amp;A: &quot;strikes&quot; &amp; &lt;b&gt;lockouts&lt;/b&gt;</b>`
				if !strings.HasPrefix(m.Text, want+"\n\n") {
					t.Errorf("text %q does not start with %q", m.Text, want)
				}
				if !strings.HasPrefix(m.Plain, `<script>alert("x")</script> Q&A: "strikes" & <b>lockouts</b>`) {
					t.Errorf("shown as %q", m.Plain)
				}
			},
		},
		{
			name:    "link with quotes and ampersand",
			article: func(a *syndicate.Article) { a.Link = `https://en.communia.blog/?p=1&lang="en"` },
			check: func(t *testing.T, m telegramtest.Message, _ syndicate.Receipt) {
				want := `<a href="https://en.communia.blog/?p=1&amp;lang=&quot;en&quot;">https://en.communia.blog/?p=1&amp;lang=&quot;en&quot;</a>`
				if !strings.HasSuffix(m.Text, want) {
					t.Errorf("text %q does not end with %q", m.Text, want)
				}
			},
		},
		{
			name:      "silent",
			configure: func(c *Config) { c.Silent = true },
			check: func(t *testing.T, m telegramtest.Message, _ syndicate.Receipt) {
				if m.Options["disable_notification"] != "true" {
					t.Errorf("disable_notification = %q", m.Options["disable_notification"])
				}
			},
		},
		{
			name:      "forum topic",
			configure: func(c *Config) { c.MessageThreadID = 42 },
			check: func(t *testing.T, m telegramtest.Message, _ syndicate.Receipt) {
				if m.Options["message_thread_id"] != "42" {
					t.Errorf("message_thread_id = %q", m.Options["message_thread_id"])
				}
			},
		},
		{
			name:    "Spanish button",
			article: func(a *syndicate.Article) { a.Language = "es-ES" },
			check: func(t *testing.T, m telegramtest.Message, _ syndicate.Receipt) {
				if !strings.Contains(m.Options["reply_markup"], `"text":"Leer el artículo"`) {
					t.Errorf("reply_markup = %s", m.Options["reply_markup"])
				}
			},
		},
		{
			name:    "no link: no button, no preview",
			article: func(a *syndicate.Article) { a.Link = "" },
			check: func(t *testing.T, m telegramtest.Message, _ syndicate.Receipt) {
				if _, ok := m.Options["reply_markup"]; ok {
					t.Errorf("reply_markup sent without a link")
				}
				if got := m.Options["link_preview_options"]; got != `{"is_disabled":true}` {
					t.Errorf("link_preview_options = %s", got)
				}
			},
		},
		{
			name:      "numeric chat id",
			configure: func(c *Config) { c.Chat = "-1001234567890" },
			check: func(t *testing.T, m telegramtest.Message, r syndicate.Receipt) {
				if m.Chat != "-1001234567890" || r != (syndicate.Receipt{RemoteID: "-1001234567890/1", URL: "https://t.me/c/1234567890/1"}) {
					t.Errorf("chat %q, receipt %+v", m.Chat, r)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			srv.AddChat("-1001234567890")
			c := newChannel(t, srv, tt.configure)
			a := article()
			if tt.article != nil {
				tt.article(&a)
			}
			r, err := c.Send(context.Background(), post(a))
			if err != nil {
				t.Fatal(err)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("server has %d messages, want 1", len(msgs))
			}
			rendering, rerr := c.Render(post(a))
			if rerr != nil {
				t.Fatal(rerr)
			}
			if msgs[0].Text != rendering.Text {
				t.Errorf("sent %q, Render shows %q", msgs[0].Text, rendering.Text)
			}
			if rendering.Length != channels.UTF16Len(msgs[0].Plain) || rendering.Format != "html" || rendering.Limit != 4096 {
				t.Errorf("rendering %+v; the server shows %d characters", rendering, channels.UTF16Len(msgs[0].Plain))
			}
			tt.check(t, msgs[0], r)
		})
	}
}

func TestSendErrors(t *testing.T) {
	const retry429 = `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}`
	clk := newClock()
	tests := []struct {
		name      string
		setup     func(srv *telegramtest.Server)
		configure func(*Config)
		kind      syndicate.ErrorKind
		retryAt   time.Time
		text      []string // the error contains each
		sent      int      // messages the server holds afterwards
	}{
		{
			name:    "429 retry_after",
			setup:   func(s *telegramtest.Server) { s.FailNext(1, 429, retry429) },
			kind:    syndicate.Retryable,
			retryAt: clk.Now().Add(7 * time.Second),
			text:    []string{"telegram: 429 Too Many Requests: retry after 7"},
		},
		{
			name:  "500 with a non-JSON body",
			setup: func(s *telegramtest.Server) { s.FailNext(1, 500, "<html><h1>500 Internal Server Error</h1></html>") },
			kind:  syndicate.Retryable,
			text:  []string{"HTTP 500"},
		},
		{
			name: "500 JSON",
			setup: func(s *telegramtest.Server) {
				s.FailNext(1, 500, `{"ok":false,"error_code":500,"description":"Internal Server Error"}`)
			},
			kind: syndicate.Retryable,
			text: []string{"telegram: 500 Internal Server Error"},
		},
		{
			name:      "chat not found",
			configure: func(c *Config) { c.Chat = "@nobody_here" },
			kind:      syndicate.Permanent,
			text:      []string{"telegram: 400 Bad Request: chat not found", "as an administrator with the right to post"},
		},
		{
			name:  "bot kicked",
			setup: func(s *telegramtest.Server) { s.SetBotStatus(chat, "kicked") },
			kind:  syndicate.Permanent,
			text:  []string{"telegram: 403 Forbidden: bot was kicked from the channel chat", "add the bot to @emancipation_en as an administrator"},
		},
		{
			name:      "bad token",
			configure: func(c *Config) { c.BotToken = "123456:WRONG-secret" },
			kind:      syndicate.Permanent,
			text:      []string{"telegram: 401 Unauthorized", "check bot_token"},
		},
		{
			name:  "answer lost after the message was accepted",
			setup: func(s *telegramtest.Server) { s.DropAfterAccept(1) },
			kind:  syndicate.Uncertain,
			text:  []string{"sendMessage to @emancipation_en: no answer after the request was sent"},
			sent:  1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			if tt.setup != nil {
				tt.setup(srv)
			}
			c := newChannel(t, srv, func(cfg *Config) {
				cfg.Now = clk.Now
				if tt.configure != nil {
					tt.configure(cfg)
				}
			})
			_, err := c.Send(context.Background(), post(article()))
			if err == nil {
				t.Fatal("no error")
			}
			var se *syndicate.SendError
			if !errors.As(err, &se) {
				t.Fatalf("%T is not a *syndicate.SendError: %v", err, err)
			}
			if kind, at := syndicate.Classify(err); kind != tt.kind || !at.Equal(tt.retryAt) {
				t.Errorf("classified %v, retry at %v; want %v, %v (%v)", kind, at, tt.kind, tt.retryAt, err)
			}
			for _, want := range tt.text {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("token in the error: %v", err)
			}
			if n := len(srv.Messages()); n != tt.sent {
				t.Errorf("server holds %d messages, want %d", n, tt.sent)
			}
		})
	}
}

func TestSendConnectionRefused(t *testing.T) {
	srv := newServer(t)
	c := newChannel(t, srv, nil)
	srv.Close()
	_, err := c.Send(context.Background(), post(article()))
	if kind, _ := syndicate.Classify(err); kind != syndicate.Retryable {
		t.Fatalf("classified %v: %v", kind, err)
	}
	if strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "/bot[redacted]/sendMessage") {
		t.Errorf("error text %q", err)
	}
}

func TestSendCancelled(t *testing.T) {
	srv := newServer(t)
	c := newChannel(t, srv, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Send(ctx, post(article()))
	if kind, _ := syndicate.Classify(err); kind != syndicate.Retryable || !channels.IsContextError(err) {
		t.Fatalf("classified %v, context error %v: %v", kind, channels.IsContextError(err), err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("token in the error: %v", err)
	}
}

func TestLongTextIsCut(t *testing.T) {
	tests := []struct {
		name           string
		title, summary string
	}{
		{"long summary", "A title", strings.Repeat("Huelga en Kazajistán 😀 & <más> ", 600)},
		{"long title too", strings.Repeat("Título & <largo> ", 500), strings.Repeat("resumen ", 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			c := newChannel(t, srv, nil)
			a := article()
			a.Title, a.Summary = tt.title, tt.summary
			r, err := c.Render(post(a))
			if err != nil {
				t.Fatal(err)
			}
			if r.Length > MaxTextLength || r.Length < MaxTextLength-40 {
				t.Errorf("length %d: not cut close to %d", r.Length, MaxTextLength)
			}
			if !strings.Contains(r.Text, "…") || !strings.HasSuffix(r.Text, `<a href="https://en.communia.blog/mass-strike/">https://en.communia.blog/mass-strike/</a>`) {
				t.Errorf("no ellipsis or the link is not whole: …%q", r.Text[len(r.Text)-200:])
			}
			if _, err := c.Send(context.Background(), post(a)); err != nil {
				t.Fatalf("server refused it: %v", err)
			}
			if m := srv.Messages()[0]; m.Text != r.Text {
				t.Errorf("sent text differs from the rendering")
			}
		})
	}
}

func TestPacing(t *testing.T) {
	srv := newServer(t)
	clk := newClock()
	c := newChannel(t, srv, func(cfg *Config) {
		cfg.Now = clk.Now
		cfg.Pacing.MinInterval = schema.Duration(10 * time.Second)
	})
	var waits []time.Duration
	c.pacer.sleep = func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		clk.Advance(d)
		return nil
	}
	ctx := context.Background()
	for range 3 {
		if _, err := c.Send(ctx, post(article())); err != nil {
			t.Fatal(err)
		}
	}
	if want := []time.Duration{10 * time.Second, 10 * time.Second}; !reflect.DeepEqual(waits, want) {
		t.Errorf("waited %v, want %v", waits, want)
	}

	// A wait longer than the caller's deadline is not waited for.
	short, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	c.pacer.sleep = func(context.Context, time.Duration) error { t.Fatal("slept past the deadline"); return nil }
	c.pacer.block(clk.Now().Add(time.Hour))
	_, err := c.Send(short, post(article()))
	if kind, at := syndicate.Classify(err); kind != syndicate.Retryable || !at.Equal(clk.Now().Add(time.Hour)) {
		t.Errorf("classified %v, retry at %v: %v", kind, at, err)
	}
	if n := srv.Calls("sendMessage"); n != 3 {
		t.Errorf("%d calls to sendMessage, want 3", n)
	}
}

func TestPacingAfter429(t *testing.T) {
	srv := newServer(t)
	clk := newClock()
	c := newChannel(t, srv, func(cfg *Config) { cfg.Now = clk.Now })
	var waits []time.Duration
	c.pacer.sleep = func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		clk.Advance(d)
		return nil
	}
	srv.FailNext(1, 429, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}`)
	if _, err := c.Send(context.Background(), post(article())); err == nil {
		t.Fatal("429 not reported")
	}
	if _, err := c.Send(context.Background(), post(article())); err != nil {
		t.Fatal(err)
	}
	if want := []time.Duration{7 * time.Second}; !reflect.DeepEqual(waits, want) {
		t.Errorf("waited %v, want %v", waits, want)
	}
}

func TestInterval(t *testing.T) {
	tests := []struct {
		perMinute   int
		minInterval time.Duration
		want        spacing
	}{
		{120, time.Second, spacing{120, time.Second}},
		{6, 10 * time.Second, spacing{6, 10 * time.Second}},
		{0, 5 * time.Second, spacing{0, 5 * time.Second}},
		{0, 0, spacing{}},
	}
	if got := (Config{Settings: DefaultSettings()}).interval(); got != (spacing{20, time.Second}) {
		t.Errorf("default interval %v, want 20 a minute, 1s apart", got)
	}
	for _, tt := range tests {
		cfg := Config{Settings: Settings{Pacing: Pacing{PerMinute: tt.perMinute, MinInterval: schema.Duration(tt.minInterval)}}}
		if got := cfg.interval(); got != tt.want {
			t.Errorf("PerMinute %d, MinInterval %v: interval %v, want %v", tt.perMinute, tt.minInterval, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Settings)
		want string
	}{
		{"token with a slash", func(s *Settings) { s.BotToken = "12/34" }, "bot_token: holds characters a Telegram token never has"},
		{"no chat", func(s *Settings) { s.Chat = "" }, "chat: required"},
		{"chat without @", func(s *Settings) { s.Chat = "emancipation" }, `chat: must be @name (5 to 32 letters, digits or _) or a numeric chat id (got "emancipation")`},
		{"bad api_url", func(s *Settings) { s.APIURL = "ftp://example.org" }, `api_url: must be an absolute http or https URL (got "ftp://example.org")`},
		{"bad mode", func(s *Settings) { s.Mode = "album" }, `mode: must be one of photo, preview, text (got "album")`},
		{"bad photo", func(s *Settings) { s.Photo = "inline" }, `photo: must be one of auto, url, upload (got "inline")`},
		{"bad hashtag", func(s *Settings) { s.Hashtags = map[string]string{"Year": "2022"} }, `hashtags.Year: "2022" makes no hashtag: it must hold a letter (or be empty, for none)`},
		{"two-line button", func(s *Settings) { s.Button = "a\nb" }, "button: must be one line of text, or off"},
		{"negative thread", func(s *Settings) { s.MessageThreadID = -1 }, "message_thread_id: must be at least 0 (got -1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testConfig(DefaultAPIURL).Settings
			tt.edit(&s)
			v := schema.NewChecker()
			s.Validate(v)
			if got := schema.Problems(v.Problems()); len(got) != 1 || got.Error() != tt.want {
				t.Errorf("problems %q, want %q", got.Error(), tt.want)
			}
		})
	}
	v := schema.NewChecker()
	s := testConfig(DefaultAPIURL).Settings
	s.Validate(v)
	if len(v.Problems()) > 0 {
		t.Errorf("the test settings are refused: %v", schema.Problems(v.Problems()))
	}
}

func TestNewRefusesBadTemplate(t *testing.T) {
	for _, tt := range []struct{ template, want string }{
		{"{{.Nope", "template"},
		{"{{.Titel}}", "can't evaluate field Titel"},
	} {
		cfg := testConfig(DefaultAPIURL)
		cfg.Template = tt.template
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("template %q: error %v, want one naming %q", tt.template, err, tt.want)
		}
	}
}

func TestCustomTemplate(t *testing.T) {
	srv := newServer(t)
	c := newChannel(t, srv, func(cfg *Config) {
		cfg.Template = `<i>{{escape .Title}}</i>{{range .Categories}} #{{escape .}}{{end}}`
	})
	r, err := c.Render(post(article()))
	if err != nil {
		t.Fatal(err)
	}
	if want := "<i>The mass strike in Kazakhstan</i> #Kazakhstan #Mass strike"; r.Text != want {
		t.Errorf("got %q, want %q", r.Text, want)
	}
	// A template whose output Telegram refuses fails at start…
	cfg := testConfig(DefaultAPIURL)
	cfg.Template = `<p>{{escape .Title}}</p>`
	_, err = New(cfg)
	if err == nil || !strings.Contains(err.Error(), `Unsupported start tag "p"`) {
		t.Errorf("a template producing <p> was accepted: %v", err)
	}
	// … or, when only some articles trip it, at Render and Send.
	bad := newChannel(t, srv, func(cfg *Config) { cfg.Template = `{{if eq .Title "boom"}}<p>{{end}}{{escape .Title}}` })
	a := article()
	a.Title = "boom"
	if _, err := bad.Render(post(a)); err == nil || !strings.Contains(err.Error(), `Unsupported start tag "p"`) {
		t.Errorf("a template producing <p> rendered: %v", err)
	}
	if _, err := bad.Send(context.Background(), post(a)); !isKind(err, syndicate.Permanent) || srv.Calls("sendMessage") != 0 {
		t.Errorf("Send of an unrenderable post: %v, %d calls", err, srv.Calls("sendMessage"))
	}
}

func isKind(err error, kind syndicate.ErrorKind) bool {
	k, _ := syndicate.Classify(err)
	return err != nil && k == kind
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(*telegramtest.Server)
		configure func(*Config)
		want      string // the result, or a part of the error
		ok        bool
	}{
		{name: "administrator", ok: true, want: "bot @syndicate_test_bot can post in @emancipation_en"},
		{name: "private channel", configure: func(c *Config) { c.Chat = "-1001234567890" }, ok: true,
			want: `bot @syndicate_test_bot can post in "Test -1001234567890" (-1001234567890)`},
		{name: "member only", setup: func(s *telegramtest.Server) { s.SetBotStatus(chat, "member") },
			want: "is a member of channel @emancipation_en but not an administrator"},
		{name: "administrator without the right to post", setup: func(s *telegramtest.Server) { s.SetCanPost(chat, false) },
			want: "is an administrator of @emancipation_en without the right to post messages"},
		{name: "group member", setup: func(s *telegramtest.Server) { s.AddChat("-4005") }, configure: func(c *Config) { c.Chat = "-4005" },
			ok: true, want: `bot @syndicate_test_bot can post in "Test -4005" (-4005)`},
		{name: "restricted group member", setup: func(s *telegramtest.Server) { s.AddChat("-4005"); s.SetCanPost("-4005", false) },
			configure: func(c *Config) { c.Chat = "-4005" }, want: `cannot post in "Test -4005" (-4005) (status "restricted")`},
		{name: "left", setup: func(s *telegramtest.Server) { s.SetBotStatus(chat, "left") },
			want: `cannot post in @emancipation_en (status "left")`},
		{name: "chat not found", configure: func(c *Config) { c.Chat = "@elsewhere" },
			want: "getChat @elsewhere: telegram: 400 Bad Request: chat not found"},
		{name: "bad token", configure: func(c *Config) { c.BotToken = "1:secret" }, want: "getMe: telegram: 401 Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			srv.AddChat("-1001234567890")
			if tt.setup != nil {
				tt.setup(srv)
			}
			c := newChannel(t, srv, tt.configure)
			got, err := c.Check(context.Background())
			switch {
			case tt.ok && (err != nil || got != tt.want):
				t.Errorf("Check() = %q, %v; want %q", got, err, tt.want)
			case !tt.ok && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Check() = %q, %v; want an error saying %q", got, err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("token in the error: %v", err)
			}
		})
	}
}

func TestRenderGolden(t *testing.T) {
	tests := []struct {
		name    string
		article func(*syndicate.Article)
	}{
		{"english", nil},
		{"spanish", func(a *syndicate.Article) {
			a.Language = "es"
			a.Link = "https://es.communia.blog/huelga-de-masas/?utm=x&ref=1"
			a.Title = `¿Qué es una "huelga de masas"? <1905 & 2022>`
			a.Summary = "En enero de 2022 los trabajadores de Zhanaozen pararon.\r\n\r\n\r\nLa huelga se extendió\ta todo el país en días."
		}},
		{"no summary or link", func(a *syndicate.Article) {
			a.Summary, a.Link = "", ""
			a.Title = "Statement   on\nthe  strike 😀"
		}},
	}
	srv := newServer(t)
	c := newChannel(t, srv, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := article()
			if tt.article != nil {
				tt.article(&a)
			}
			r, err := c.Render(post(a))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", strings.ReplaceAll(tt.name, " ", "-")+".golden.html")
			if *update {
				if err := os.WriteFile(path, []byte(r.Text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if r.Text != string(want) {
				t.Errorf("rendered\n%s\nwant (%s)\n%s", r.Text, path, want)
			}
			if _, err := telegramtest.ParseHTML(r.Text); err != nil {
				t.Errorf("the server would refuse it: %v", err)
			}
			if err := tghtml.CheckEscaped(r.Text); err != nil {
				t.Error(err)
			}
		})
	}
}

// A post short as Telegram counts it but over the 32 KiB of HTML the Bot
// API takes (its links' addresses do not count) is cut to fit them too.
func TestPostWithinTheBotAPIBytes(t *testing.T) {
	srv := newServer(t)
	c := newChannel(t, srv, func(cfg *Config) { cfg.Template = `{{escape .Title}} {{.Content}}` })
	a := article()
	var content strings.Builder
	for i := range 400 {
		fmt.Fprintf(&content, `<a href="https://en.communia.blog/%s/%d">%d</a> `, strings.Repeat("x", 100), i, i)
	}
	a.ContentHTML = content.String()
	if _, err := c.Send(context.Background(), post(a)); err != nil {
		t.Fatal(err)
	}
	m := one(t, srv.Messages())
	if len(m.Text) > maxTextBytes || len(m.Text) < maxTextBytes-200 || !strings.HasSuffix(m.Text, "…</a>") {
		t.Errorf("sent %d bytes ending %q", len(m.Text), m.Text[len(m.Text)-20:])
	}
}

// Links Telegram would drop, keeping their text, are not written (the
// content's, the "Read also" ones), and a button Telegram would refuse,
// with the whole post, is left out.
func TestLinksTelegramWouldDrop(t *testing.T) {
	srv := newServer(t)
	c := newChannel(t, srv, func(cfg *Config) {
		cfg.Template = `{{escape .Title}} {{.Content}}{{range .Related}} <a href="{{escape .URL}}">{{escape .Title}}</a>{{end}}`
	})
	a := article()
	a.Link = "http://localhost:8080/strike"
	a.ContentHTML = `<p><a href="http://intranet/x">intranet</a> <a href="/rel">relative</a> <a href="https://x.org/">public</a></p>`
	a.Related = []syndicate.Link{{Title: "Local", URL: "http://localhost/y"}, {Title: "Public", URL: "https://x.org/y"}}
	if _, err := c.Send(context.Background(), post(a)); err != nil {
		t.Fatal(err)
	}
	m := one(t, srv.Messages())
	want := `The mass strike in Kazakhstan intranet relative <a href="https://x.org/">public</a> <a href="https://x.org/y">Public</a>`
	if m.Text != want {
		t.Errorf("sent %q, want %q", m.Text, want)
	}
	if markup, ok := m.Options["reply_markup"]; ok {
		t.Errorf("a button to localhost: %s", markup)
	}
	_, entities, _ := tghtml.Parse(m.Text)
	if len(entities) != 2 {
		t.Errorf("entities %+v, want the two public links", entities)
	}
}

func FuzzRender(f *testing.F) {
	a := article()
	f.Add(a.Title, a.Summary, "<p>Content</p>", a.Link, "", "Kazakhstan", "https://x.org/related", true)
	f.Add(`<script>"&amp;"</script>`, "a & b < c > d \"e\" &#x41; &lt;", "<b>x<i>y</b>z", `https://x.org/?a=1&b="2"`, "https://x.org/i.jpg", "C++", "/rel", false)
	f.Add("😀😀😀", strings.Repeat("👨‍👩‍👧‍👦 ", 2000), "<pre><code class=\"language-go\">x</code></pre>", "javascript:alert(1)", "https://x.org/i.jpg", "2022", "javascript:x", true)
	f.Add(strings.Repeat("x", 5000), strings.Repeat("y ", 3000), strings.Repeat("<p>z</p>", 2000), "", "http://127.0.0.1/i.jpg", "", "", true)
	f.Add("\x00\xff\r\n\u2028", "\ud7ff\U0010FFFF\x7f", "<a href='//x.org'>\xff</a>", "https://exa mple.org/", "x", "Año nuevo", "https://x.org", false)
	f.Add("t", strings.Repeat("s ", 600), "", "https://x.org/"+strings.Repeat("a", 1100), "https://x.org/i.jpg", "", "", true)
	channelsFor := map[bool]*Channel{}
	for _, withContent := range []bool{false, true} {
		cfg := testConfig("http://127.0.0.1:1")
		cfg.MaxHashtags = 4
		if withContent {
			cfg.Template = `<b>{{escape .Title}}</b> {{escape .Summary}}
{{.Content}}{{range .Related}} <a href="{{escape .URL}}">{{escape .Title}}</a>{{end}}
{{escape (join .Hashtags " ")}} {{telegramHTML .Summary .Link}} {{escape .Link}}`
		}
		c, err := New(cfg)
		if err != nil {
			f.Fatal(err)
		}
		channelsFor[withContent] = c
	}
	f.Fuzz(func(t *testing.T, title, summary, content, link, image, category, related string, withContent bool) {
		c := channelsFor[withContent]
		a := syndicate.Article{Title: title, Summary: summary, ContentHTML: content, Link: link, ImageURL: image, Language: "en",
			Categories: []string{category}, Related: []syndicate.Link{{Title: category, URL: related}}}
		p, err := c.plan(a, true)
		if err != nil {
			// Only a link that alone is over the limit, or nothing to
			// say at all, may be refused.
			var long *tooLongError
			switch {
			case errors.As(err, &long) && channels.UTF16Len(link) > MaxTextLength-20:
			case err.Error() == "the post is empty" && strings.TrimSpace(oneLine(title)+paragraphs(summary)+clean(link)) == "":
			default:
				t.Fatalf("plan(%q, %q, %q, %q): %v", title, summary, content, link, err)
			}
			return
		}
		for _, m := range []message{p.caption, p.text} {
			if m.limit == 0 {
				continue
			}
			plain, err := telegramtest.ParseHTML(m.text)
			if err != nil {
				t.Fatalf("the server refuses %q: %v", m.text, err)
			}
			// Held to more than Telegram asks: every "&" escaped, no
			// entity Telegram would drop.
			if err := tghtml.CheckEscaped(m.text); err != nil {
				t.Fatalf("%q: %v", m.text, err)
			}
			if err := tghtml.CheckNesting(m.text); err != nil {
				t.Fatalf("%q: %v", m.text, err)
			}
			if len(m.text) > maxTextBytes {
				t.Fatalf("%d bytes, over the Bot API's %d", len(m.text), maxTextBytes)
			}
			if n := channels.UTF16Len(plain); n > m.limit || n != m.n {
				t.Fatalf("length %d (counted %d), limit %d: %q", n, m.n, m.limit, m.text)
			}
		}
		if r, err := c.Render(post(a)); err != nil || (r.Limit != MaxTextLength && r.Limit != MaxCaptionLength) || r.Length > r.Limit {
			t.Fatalf("Render: %+v, %v", r, err)
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestSendTransports(t *testing.T) {
	tests := []struct {
		name      string
		closed    bool // the server is closed first
		transport func(t *testing.T) http.RoundTripper
		kind      syndicate.ErrorKind
	}{
		{
			name:   "wrapper of http.Transport, refused",
			closed: true,
			transport: func(*testing.T) http.RoundTripper {
				return roundTripFunc(func(r *http.Request) (*http.Response, error) { return http.DefaultTransport.RoundTrip(r) })
			},
			kind: syndicate.Retryable,
		},
		{
			name: "opaque transport fails: it may have sent",
			transport: func(*testing.T) http.RoundTripper {
				return roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("boom") })
			},
			kind: syndicate.Uncertain,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			c := newChannel(t, srv, func(cfg *Config) {
				cfg.Transport = tt.transport(t)
			})
			if tt.closed {
				srv.Close()
			}
			_, err := c.Send(context.Background(), post(article()))
			if kind, _ := syndicate.Classify(err); err == nil || kind != tt.kind {
				t.Errorf("classified %v, want %v: %v", kind, tt.kind, err)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("token in the error: %v", err)
			}
		})
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "/elsewhere"+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c, err := New(testConfig(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(context.Background(), post(article()))
	if !isKind(err, syndicate.Permanent) || !strings.Contains(err.Error(), "HTTP 307") || hits.Load() != 1 {
		t.Errorf("%d requests, error %v", hits.Load(), err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("token in the error: %v", err)
	}
}

func TestSendCancelledAfterTheRequestLeft(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// A server that reads the request, then lets the caller give up.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		cancel()
		<-r.Context().Done()
	}))
	defer srv.Close()
	c, err := New(testConfig(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(ctx, post(article()))
	if !isKind(err, syndicate.Uncertain) || !channels.IsContextError(err) {
		t.Errorf("want uncertain after a context error: %v", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("token in the error: %v", err)
	}
}

// A channel built without a token (a dry run's) renders, but never calls
// the API: Send is refused as permanent and Check fails.
func TestWithoutTokenRendersButNeverSends(t *testing.T) {
	srv := newServer(t)
	c := newChannel(t, srv, func(cfg *Config) { cfg.BotToken = "" })
	if _, err := c.Render(syndicate.Post{Article: article()}); err != nil {
		t.Fatalf("render: %v", err)
	}
	_, err := c.Send(context.Background(), syndicate.Post{Article: article()})
	if kind, _ := syndicate.Classify(err); err == nil || kind != syndicate.Permanent || !strings.Contains(err.Error(), "no bot_token") {
		t.Fatalf("send: %v (%v)", err, kind)
	}
	if _, err := c.Check(context.Background()); err == nil {
		t.Fatal("check passed without a token")
	}
	if n := srv.Calls("sendMessage") + srv.Calls("getMe"); n != 0 {
		t.Fatalf("%d API calls without a token", n)
	}
}
