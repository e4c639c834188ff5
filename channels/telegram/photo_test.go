package telegram

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/channels/telegram/telegramtest"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// site serves the featured images of the tests on loopback.
type site struct {
	*httptest.Server
	jpeg []byte
	hits atomic.Int32
}

func newSite(t *testing.T) *site {
	t.Helper()
	jpeg, err := os.ReadFile("testdata/site/kazakhstan-strike.jpg")
	if err != nil {
		t.Fatal(err)
	}
	s := &site{jpeg: jpeg}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		switch r.URL.Path {
		case "/strike.jpg":
			_, _ = w.Write(jpeg)
		case "/page.jpg":
			w.Header().Set("Content-Type", "image/jpeg") // a lie: the content decides
			_, _ = w.Write([]byte("<!doctype html><html><body>Not found</body></html>"))
		case "/huge.jpg":
			_, _ = w.Write(append(append([]byte(nil), jpeg...), make([]byte, 2<<20)...))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func photoArticle(s *site) syndicate.Article {
	a := article()
	a.ImageURL = s.URL + "/strike.jpg"
	a.ImageCaption = "Oil workers on wildcat strike"
	return a
}

func TestSendPhoto(t *testing.T) {
	s := newSite(t)
	long := strings.Repeat("The strike spread from Zhanaozen to Aktau, Almaty and Aktobe. ", 20)
	tests := []struct {
		name      string
		configure func(*Config)
		article   func(*syndicate.Article)
		check     func(t *testing.T, msgs []telegramtest.Message, r syndicate.Receipt)
	}{
		{
			name: "loopback image is uploaded, post as caption with the button",
			check: func(t *testing.T, msgs []telegramtest.Message, r syndicate.Receipt) {
				m := one(t, msgs)
				if m.Method != "sendPhoto" || !bytes.Equal(m.PhotoUpload, s.jpeg) || m.Photo != "" {
					t.Errorf("sent %s, photo %q, %d bytes uploaded", m.Method, m.Photo, len(m.PhotoUpload))
				}
				if !strings.HasPrefix(m.Text, "<b>The mass strike in Kazakhstan</b>\n\nWorkers") || m.ParseMode != "HTML" {
					t.Errorf("caption %q", m.Text)
				}
				if !strings.Contains(m.Options["reply_markup"], `"url":"https://en.communia.blog/mass-strike/"`) {
					t.Errorf("reply_markup %q", m.Options["reply_markup"])
				}
				if _, ok := m.Options["link_preview_options"]; ok {
					t.Errorf("link_preview_options sent with a photo")
				}
				if r.RemoteID != "-1001000000000/photo:1" || r.URL != "https://t.me/emancipation_en/1" || r.Warning != "" {
					t.Errorf("receipt %+v", r)
				}
			},
		},
		{
			name:      "photo: url gives the URL, which Telegram fetches",
			configure: func(c *Config) { c.Photo = PhotoURL },
			check: func(t *testing.T, msgs []telegramtest.Message, r syndicate.Receipt) {
				m := one(t, msgs)
				if m.Photo != s.URL+"/strike.jpg" || m.PhotoUpload != nil || !bytes.Equal(m.PhotoFetched, s.jpeg) {
					t.Errorf("photo %q, %d bytes uploaded", m.Photo, len(m.PhotoUpload))
				}
			},
		},
		{
			name: "too long for a caption: a short caption, the post as a reply",
			article: func(a *syndicate.Article) {
				a.Summary = long
			},
			check: func(t *testing.T, msgs []telegramtest.Message, r syndicate.Receipt) {
				if len(msgs) != 2 {
					t.Fatalf("%d messages, want 2", len(msgs))
				}
				photo, reply := msgs[0], msgs[1]
				if photo.Method != "sendPhoto" || photo.Text != `<b>The mass strike in Kazakhstan</b>`+"\n\n"+`<a href="https://en.communia.blog/mass-strike/">https://en.communia.blog/mass-strike/</a>` {
					t.Errorf("photo %s with caption %q", photo.Method, photo.Text)
				}
				if _, ok := photo.Options["reply_markup"]; ok {
					t.Errorf("the button is on the photo")
				}
				if reply.Method != "sendMessage" || reply.ReplyTo != photo.ID || !strings.Contains(reply.Text, long[:200]) {
					t.Errorf("reply %s to %d: %q", reply.Method, reply.ReplyTo, reply.Text)
				}
				if reply.Options["link_preview_options"] != `{"is_disabled":true}` || !strings.Contains(reply.Options["reply_markup"], "Read the article") {
					t.Errorf("reply options %v", reply.Options)
				}
				if r.RemoteID != "-1001000000000/photo:1+2" || r.URL != "https://t.me/emancipation_en/1" {
					t.Errorf("receipt %+v", r)
				}
			},
		},
		{
			name:    "image missing: posted without it, with a warning",
			article: func(a *syndicate.Article) { a.ImageURL = s.URL + "/missing.jpg" },
			check: func(t *testing.T, msgs []telegramtest.Message, r syndicate.Receipt) {
				m := one(t, msgs)
				if m.Method != "sendMessage" || !strings.Contains(m.Options["link_preview_options"], `"prefer_large_media":true`) {
					t.Errorf("sent %s %v", m.Method, m.Options)
				}
				if r.RemoteID != "-1001000000000/1" || !strings.Contains(r.Warning, "posted without its image "+s.URL+"/missing.jpg: HTTP 404 Not Found") {
					t.Errorf("receipt %+v", r)
				}
			},
		},
		{
			name:    "not an image: posted without it",
			article: func(a *syndicate.Article) { a.ImageURL = s.URL + "/page.jpg" },
			check: func(t *testing.T, msgs []telegramtest.Message, r syndicate.Receipt) {
				if m := one(t, msgs); m.Method != "sendMessage" || !strings.Contains(r.Warning, "posted without its image "+s.URL+"/page.jpg: not a JPEG, PNG, GIF or WebP image (text/html") {
					t.Errorf("sent %s, receipt %+v", m.Method, r)
				}
			},
		},
		{
			name:      "too big: posted without it",
			configure: func(c *Config) { c.MaxImageBytes = 1 << 20 },
			article:   func(a *syndicate.Article) { a.ImageURL = s.URL + "/huge.jpg" },
			check: func(t *testing.T, msgs []telegramtest.Message, r syndicate.Receipt) {
				if m := one(t, msgs); m.Method != "sendMessage" || !strings.Contains(r.Warning, "posted without its image "+s.URL+"/huge.jpg: over the limit of 1048576 bytes") {
					t.Errorf("sent %s, receipt %+v", m.Method, r)
				}
			},
		},
		{
			name:      "photo: url refused by Telegram: posted without it",
			configure: func(c *Config) { c.Photo = PhotoURL },
			article:   func(a *syndicate.Article) { a.ImageURL = s.URL + "/page.jpg" },
			check: func(t *testing.T, msgs []telegramtest.Message, r syndicate.Receipt) {
				if m := one(t, msgs); m.Method != "sendMessage" || !strings.Contains(r.Warning, "400 Bad Request: wrong type of the web page content") {
					t.Errorf("sent %s, receipt %+v", m.Method, r)
				}
			},
		},
		{
			name:      "mode preview: no photo, a large preview",
			configure: func(c *Config) { c.Mode = ModePreview },
			check: func(t *testing.T, msgs []telegramtest.Message, r syndicate.Receipt) {
				m := one(t, msgs)
				if got, want := decodeJSON(t, m.Options["link_preview_options"]), decodeJSON(t,
					`{"url":"https://en.communia.blog/mass-strike/","prefer_large_media":true}`); m.Method != "sendMessage" || !reflect.DeepEqual(got, want) {
					t.Errorf("sent %s with link_preview_options %v", m.Method, got)
				}
			},
		},
		{
			name:      "mode text: no preview",
			configure: func(c *Config) { c.Mode = ModeText },
			check: func(t *testing.T, msgs []telegramtest.Message, r syndicate.Receipt) {
				if m := one(t, msgs); m.Method != "sendMessage" || m.Options["link_preview_options"] != `{"is_disabled":true}` {
					t.Errorf("sent %s %v", m.Method, m.Options)
				}
			},
		},
		{
			name:      "button off, protected, silent",
			configure: func(c *Config) { c.Button, c.ProtectContent, c.Silent = "off", true, true },
			check: func(t *testing.T, msgs []telegramtest.Message, r syndicate.Receipt) {
				m := one(t, msgs)
				if _, ok := m.Options["reply_markup"]; ok || m.Options["protect_content"] != "true" || m.Options["disable_notification"] != "true" {
					t.Errorf("options %v", m.Options)
				}
			},
		},
		{
			name:      "button text, hashtags",
			configure: func(c *Config) { c.Button, c.MaxHashtags = "Más", 4 },
			check: func(t *testing.T, msgs []telegramtest.Message, r syndicate.Receipt) {
				m := one(t, msgs)
				if !strings.Contains(m.Options["reply_markup"], `"text":"Más"`) || !strings.Contains(m.Text, "\n\n#Kazakhstan #MassStrike\n\n<a href") {
					t.Errorf("text %q, options %v", m.Text, m.Options)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			c := newChannel(t, srv, tt.configure)
			a := photoArticle(s)
			if tt.article != nil {
				tt.article(&a)
			}
			rendering, err := c.Render(post(a))
			if err != nil {
				t.Fatal(err)
			}
			r, se := c.Send(context.Background(), post(a))
			if se != nil {
				t.Fatal(se)
			}
			msgs := srv.Messages()
			tt.check(t, msgs, r)
			if len(msgs) == 0 || r.Warning != "" {
				return
			}
			// Render shows what went out: the caption, or the message.
			last := msgs[len(msgs)-1]
			if last.Text != rendering.Text || rendering.Length != channels.UTF16Len(last.Plain) {
				t.Errorf("Render shows %q (%d), sent %q (%d)", rendering.Text, rendering.Length, last.Text, channels.UTF16Len(last.Plain))
			}
			wantLimit, wantImage := MaxTextLength, ""
			if last.Method == "sendPhoto" {
				wantLimit = MaxCaptionLength
			}
			if msgs[0].Method == "sendPhoto" {
				wantImage = a.ImageURL
			}
			if rendering.Limit != wantLimit || rendering.Image != wantImage {
				t.Errorf("rendering limit %d, image %q; want %d, %q", rendering.Limit, rendering.Image, wantLimit, wantImage)
			}
		})
	}
}

func one(t *testing.T, msgs []telegramtest.Message) telegramtest.Message {
	t.Helper()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	return msgs[0]
}

// With photo: auto, an image on a public host goes as a URL; when Telegram
// cannot fetch it, the channel uploads it.
func TestPhotoAutoPublicHost(t *testing.T) {
	s := newSite(t)
	srv := newServer(t)
	// images.example.com resolves, for the channel, to a public address,
	// and its requests reach the loopback site.
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.URL, "http://"))
	c := newChannel(t, srv, func(cfg *Config) {
		cfg.LookupIP = func(context.Context, string, string) ([]net.IP, error) {
			return []net.IP{net.ParseIP("93.184.216.34")}, nil
		}
		cfg.ImageTransport = &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
		}}
	})
	a := article()
	a.ImageURL = "http://images.example.com:" + port + "/strike.jpg"
	r, err := c.Send(context.Background(), post(a))
	if err != nil {
		t.Fatal(err)
	}
	m := one(t, srv.Messages())
	// The fake server could not resolve images.example.com: "failed to
	// get HTTP URL content", and the channel uploaded the bytes.
	if srv.Calls("sendPhoto") != 2 || m.Photo != "" || !bytes.Equal(m.PhotoUpload, s.jpeg) || r.Warning != "" {
		t.Errorf("%d sendPhoto calls, photo %q, %d bytes uploaded, receipt %+v", srv.Calls("sendPhoto"), m.Photo, len(m.PhotoUpload), r)
	}
}

func TestIsPublic(t *testing.T) {
	cfg := testConfig(DefaultAPIURL)
	cfg.LookupIP = func(_ context.Context, _, host string) ([]net.IP, error) {
		switch host {
		case "public.example.org":
			return []net.IP{net.ParseIP("93.184.216.34"), net.ParseIP("2606:2800:220:1::1")}, nil
		case "intranet.example.org":
			return []net.IP{net.ParseIP("93.184.216.34"), net.ParseIP("10.1.2.3")}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for u, want := range map[string]bool{
		"https://public.example.org/a.jpg":   true,
		"https://intranet.example.org/a.jpg": false,
		"https://unknown.example.org/a.jpg":  false,
		"http://127.0.0.1:8080/a.jpg":        false,
		"http://[::1]/a.jpg":                 false,
		"http://10.0.0.1/a.jpg":              false,
		"http://192.168.1.2/a.jpg":           false,
		"http://169.254.1.1/a.jpg":           false,
		"http://100.64.0.1/a.jpg":            false,
		"http://[::ffff:127.0.0.1]/a.jpg":    false,
		"http://localhost/a.jpg":             false,
		"http://media.localhost/a.jpg":       false,
		"http://nas.local/a.jpg":             false,
		"http://fileserver/a.jpg":            false,
		"http://8.8.8.8/a.jpg":               true,
	} {
		if got := c.isPublic(context.Background(), u); got != want {
			t.Errorf("isPublic(%s) = %v", u, got)
		}
	}
}

func TestMigratedGroup(t *testing.T) {
	srv := newServer(t)
	srv.AddChat("-4001234")
	to := srv.MigrateChat("-4001234")
	var logs bytes.Buffer
	c := newChannel(t, srv, func(cfg *Config) {
		cfg.Chat = "-4001234"
		cfg.Log = slog.New(slog.NewTextHandler(&logs, nil))
	})
	r, err := c.Send(context.Background(), post(article()))
	if err != nil {
		t.Fatal(err)
	}
	want := "the group -4001234 became the supergroup -1009000000002, where this went: set chat to -1009000000002 in the configuration"
	if m := one(t, srv.Messages()); m.Chat != "-1009000000002" || to != -1009000000002 || r.RemoteID != "-1009000000002/1" || r.Warning != want {
		t.Errorf("posted to %s, receipt %+v", m.Chat, r)
	}
	if !strings.Contains(logs.String(), "became a supergroup") || !strings.Contains(logs.String(), "to=-1009000000002") {
		t.Errorf("log: %s", logs.String())
	}
	// The next post goes there at once, and says so too.
	r, err = c.Send(context.Background(), post(article()))
	if err != nil || r.Warning != want || srv.Calls("sendMessage") != 3 {
		t.Errorf("%d calls, receipt %+v, %v", srv.Calls("sendMessage"), r, err)
	}
}

func TestRefusalHints(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*telegramtest.Server)
		chat  string
		want  string
	}{
		{"chat not found", nil, "@nobody_here", "telegram: 400 Bad Request: chat not found (check chat: a public channel is @name, a private one its numeric id (-100…); add the bot to @nobody_here as an administrator with the right to post messages)"},
		{"no right to post", func(s *telegramtest.Server) { s.SetCanPost(chat, false) }, chat,
			"telegram: 400 Bad Request: not enough rights to send text messages to the chat (give the bot the right to post in @emancipation_en, or add the bot"},
		{"kicked", func(s *telegramtest.Server) { s.SetBotStatus(chat, "kicked") }, chat,
			"telegram: 403 Forbidden: bot was kicked from the channel chat (add the bot to @emancipation_en as an administrator with the right to post messages again)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			if tt.setup != nil {
				tt.setup(srv)
			}
			c := newChannel(t, srv, func(cfg *Config) { cfg.Chat, cfg.Mode = tt.chat, ModeText })
			_, err := c.Send(context.Background(), post(article()))
			if !isKind(err, syndicate.Permanent) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// After a photo, the reply that carries the post waits out a 429 once.
func TestSplitReplyFloodWait(t *testing.T) {
	s := newSite(t)
	srv := newServer(t)
	clk := newClock()
	var calls atomic.Int32
	c := newChannel(t, srv, func(cfg *Config) {
		cfg.Now = clk.Now
		cfg.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if strings.HasSuffix(r.URL.Path, "/sendMessage") && calls.Add(1) == 1 {
				srv.FloodWait(1, 2)
			}
			return http.DefaultTransport.RoundTrip(r)
		})
	})
	var waits []time.Duration
	c.pacer.sleep = func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		clk.Advance(d)
		return nil
	}
	a := photoArticle(s)
	a.Summary = strings.Repeat("word ", 400)
	r, err := c.Send(context.Background(), post(a))
	if err != nil {
		t.Fatal(err)
	}
	if msgs := srv.Messages(); len(msgs) != 2 || r.RemoteID != "-1001000000000/photo:1+2" || r.Warning != "" || !reflect.DeepEqual(waits, []time.Duration{2 * time.Second}) {
		t.Errorf("%d messages, receipt %+v, waits %v", len(msgs), r, waits)
	}
}

// When the reply cannot follow the photo, the photo stays and the receipt
// says what is missing: sending it all again would post the photo twice.
func TestSplitReplyFails(t *testing.T) {
	s := newSite(t)
	srv := newServer(t)
	c := newChannel(t, srv, func(cfg *Config) {
		cfg.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if strings.HasSuffix(r.URL.Path, "/sendMessage") {
				srv.FailNext(1, 400, `{"ok":false,"error_code":400,"description":"Bad Request: not enough rights to send text messages to the chat"}`)
			}
			return http.DefaultTransport.RoundTrip(r)
		})
	})
	a := photoArticle(s)
	a.Summary = strings.Repeat("word ", 400)
	r, err := c.Send(context.Background(), post(a))
	if err != nil {
		t.Fatal(err)
	}
	if r.RemoteID != "-1001000000000/photo:1" || !strings.Contains(r.Warning, "the photo went out with a short caption, but not the text that follows it as a reply (telegram: 400 Bad Request: not enough rights") {
		t.Errorf("receipt %+v", r)
	}
}
