package mastodon

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	mastodon "github.com/mattn/go-mastodon"

	"github.com/syndicate-daemon/syndicate/channels/mastodon/mastodontest"
	"github.com/syndicate-daemon/syndicate/schema"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// site serves the fixtures' image at /kazakhstan-strike.jpg, a web page at
// /page.jpg, and 404 elsewhere. It fails the test when a request carries
// credentials: the image is not the instance's.
type site struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
}

func newSite(t *testing.T) *site {
	t.Helper()
	jpeg, err := os.ReadFile(filepath.Join("testdata", "site", "kazakhstan-strike.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	s := &site{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests++
		s.mu.Unlock()
		if r.Header.Get("Authorization") != "" {
			t.Errorf("the image request carries credentials: %q", r.Header.Get("Authorization"))
		}
		switch r.URL.Path {
		case "/kazakhstan-strike.jpg":
			w.Header().Set("Content-Type", "image/jpeg")
			_, _ = w.Write(jpeg)
		case "/page.jpg":
			w.Header().Set("Content-Type", "image/jpeg") // lies: the bytes decide
			_, _ = w.Write([]byte("<!doctype html><title>Not found</title>"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *site) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func withImage(a syndicate.Article, url, caption string) syndicate.Article {
	a.ImageURL, a.ImageCaption = url, caption
	return a
}

const caption = "Oil workers on wildcat strike, start of protests in Kazakhstan."

func TestSendWithImage(t *testing.T) {
	img := newSite(t)
	srv := mastodontest.NewServer(t, token)
	ch := newChannel(t, srv.URL(), nil)
	post := postOf(withImage(kazakhstan(), img.URL+"/kazakhstan-strike.jpg", caption), "delivery-5")

	r, err := ch.Render(post)
	if err != nil || r.Image != img.URL+"/kazakhstan-strike.jpg" {
		t.Fatalf("Render: image %q, %v", r.Image, err)
	}
	receipt, se := ch.Send(testContext(t), post)
	if se != nil {
		t.Fatal(se)
	}
	if receipt.Warning != "" {
		t.Errorf("warning %q", receipt.Warning)
	}
	media := srv.Media()
	if len(media) != 1 {
		t.Fatalf("%d media uploaded, want 1", len(media))
	}
	m := media[0]
	if m.ContentType != "image/jpeg" || m.Description != caption || m.Size != 31410 {
		t.Errorf("media %+v", m)
	}
	st := srv.Statuses()[0]
	if len(st.MediaIDs) != 1 || st.MediaIDs[0] != m.ID || m.StatusID != st.ID {
		t.Errorf("status media %v, media attached to %q", st.MediaIDs, m.StatusID)
	}
	if st.Text != r.Text {
		t.Errorf("posted text differs from the rendering")
	}
}

func TestImageDescriptionCutToTheInstanceLimit(t *testing.T) {
	img := newSite(t)
	srv := mastodontest.NewServer(t, token)
	srv.SetMediaLimits(100, 1<<20)
	ch := newChannel(t, srv.URL(), nil)
	long := strings.Repeat("Oil workers on wildcat strike in Zhanaozen. ", 10)
	if _, err := ch.Send(testContext(t), postOf(withImage(kazakhstan(), img.URL+"/kazakhstan-strike.jpg", long), "k")); err != nil {
		t.Fatal(err)
	}
	d := srv.Media()[0].Description
	if n := utf8.RuneCountInString(d); n > 100 || n < 80 || !strings.HasSuffix(d, " workers…") {
		t.Errorf("description of %d characters: %q", n, d)
	}
}

func TestMediaProcessing(t *testing.T) {
	t.Run("polled until processed, then attached", func(t *testing.T) {
		img := newSite(t)
		srv := mastodontest.NewServer(t, token)
		srv.SetMediaProcessing(3)
		ch := newChannel(t, srv.URL(), nil)
		receipt, err := ch.Send(testContext(t), postOf(withImage(kazakhstan(), img.URL+"/kazakhstan-strike.jpg", caption), "k"))
		if err != nil {
			t.Fatal(err)
		}
		m := srv.Media()[0]
		if n := srv.Requests("/api/v1/media/" + m.ID); n != 4 {
			t.Errorf("%d polls, want 3 answered 206 and 1 answered 200", n)
		}
		if st := srv.Statuses()[0]; len(st.MediaIDs) != 1 || receipt.Warning != "" {
			t.Errorf("media %v, warning %q", st.MediaIDs, receipt.Warning)
		}
	})
	t.Run("still processing at the deadline: posted without it", func(t *testing.T) {
		img := newSite(t)
		srv := mastodontest.NewServer(t, token)
		srv.SetMediaProcessing(1000)
		ch := newChannel(t, srv.URL(), func(c *Config) { c.MediaTimeout = schema.Duration(20 * time.Second) })
		receipt, err := ch.Send(testContext(t), postOf(withImage(kazakhstan(), img.URL+"/kazakhstan-strike.jpg", caption), "k"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(receipt.Warning, "still processing after 17s") {
			t.Errorf("warning %q", receipt.Warning)
		}
		if st := srv.Statuses()[0]; len(st.MediaIDs) != 0 {
			t.Errorf("media %v attached", st.MediaIDs)
		}
		if n := srv.Requests("/api/v1/media/" + srv.Media()[0].ID); n < 3 || n > 10 {
			t.Errorf("%d polls in 20s", n)
		}
	})
	t.Run("unprocessed media cannot be attached", func(t *testing.T) {
		// What the polling is for: the fake refuses it, as Mastodon does.
		img := newSite(t)
		srv := mastodontest.NewServer(t, token)
		srv.SetMediaProcessing(2)
		ch := newChannel(t, srv.URL(), nil)
		att, err := ch.upload(testContext(t), mustGet(t, img.URL+"/kazakhstan-strike.jpg"), "")
		if err != nil || att.URL != "" {
			t.Fatalf("upload: %+v, %v", att, err)
		}
		st := status{Text: "T https://example.org", Length: 25, Limit: 500}
		_, _, err = ch.postStatus(testContext(t), "k", st, []mastodon.ID{att.ID}, "en")
		if err == nil || !strings.Contains(err.Error(), "not finished processing") {
			t.Fatalf("posting with unprocessed media: %v", err)
		}
	})
}

func TestPostedWithoutItsImage(t *testing.T) {
	img := newSite(t)
	tests := []struct {
		name     string
		image    string
		edit     func(*Config)
		setup    func(*mastodontest.Server)
		wantWarn string
	}{
		{"not found", img.URL + "/missing.jpg", nil, nil, "HTTP 404 Not Found"},
		{"not an image", img.URL + "/page.jpg", nil, nil, "not a JPEG, PNG, GIF or WebP image (text/html; charset=utf-8)"},
		{"too large", img.URL + "/kazakhstan-strike.jpg", func(c *Config) { c.MaxImageBytes = 1000 }, nil, "over the limit of 1000 bytes"},
		{"larger than the instance takes", img.URL + "/kazakhstan-strike.jpg", nil, func(s *mastodontest.Server) { s.SetMediaLimits(1500, 2000) }, "over the limit of 2000 bytes"},
		{"unreachable", "http://127.0.0.1:1/x.jpg", nil, nil, "connection refused"},
		{"not http", "ftp://example.org/x.jpg", nil, nil, "not an http(s) URL"},
		{
			"a token without the media scope", img.URL + "/kazakhstan-strike.jpg", nil,
			func(s *mastodontest.Server) {
				s.FailNextOn("POST /api/v2/media", 1, 403, nil, `{"error":"This action is outside the authorized scopes"}`)
			},
			"the instance refused it: 403 This action is outside the authorized scopes",
		},
		{
			"refused by the instance", img.URL + "/kazakhstan-strike.jpg", nil,
			func(s *mastodontest.Server) {
				s.FailNextOn("POST /api/v2/media", 1, 422, nil, `{"error":"Validation failed: File content type is invalid"}`)
			},
			"the instance refused it: 422 Validation failed: File content type is invalid",
		},
		{
			"processing failed", img.URL + "/kazakhstan-strike.jpg", nil,
			func(s *mastodontest.Server) {
				s.SetMediaProcessing(1)
				s.FailNextOn("GET /api/v1/media/", 1, 422, nil, `{"error":"Error processing thumbnail for uploaded media"}`)
			},
			"the instance refused it: 422 Error processing thumbnail",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mastodontest.NewServer(t, token)
			if tt.setup != nil {
				tt.setup(srv)
			}
			ch := newChannel(t, srv.URL(), tt.edit)
			receipt, err := ch.Send(testContext(t), postOf(withImage(kazakhstan(), tt.image, caption), "k"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(receipt.Warning, "posted without its image "+tt.image+": ") || !strings.Contains(receipt.Warning, tt.wantWarn) {
				t.Errorf("warning %q, want one with %q", receipt.Warning, tt.wantWarn)
			}
			if st := srv.Statuses(); len(st) != 1 || len(st[0].MediaIDs) != 0 {
				t.Errorf("statuses %+v", st)
			}
		})
	}
}

func TestRetryReusesTheUploadedImage(t *testing.T) {
	t.Run("status refused by a 503", func(t *testing.T) {
		img := newSite(t)
		srv := mastodontest.NewServer(t, token)
		srv.FailNext(1, 503, nil, "")
		ch := newChannel(t, srv.URL(), nil)
		post := postOf(withImage(kazakhstan(), img.URL+"/kazakhstan-strike.jpg", caption), "delivery-8")
		if _, err := ch.Send(testContext(t), post); err == nil {
			t.Fatal("first attempt succeeded")
		}
		if _, err := ch.Send(testContext(t), post); err != nil {
			t.Fatal(err)
		}
		if n, m := img.Requests(), len(srv.Media()); n != 1 || m != 1 {
			t.Errorf("image downloaded %d times, uploaded %d times, want once", n, m)
		}
		if st := srv.Statuses()[0]; len(st.MediaIDs) != 1 || st.MediaIDs[0] != srv.Media()[0].ID {
			t.Errorf("status media %v", st.MediaIDs)
		}
	})
	t.Run("answer lost: the re-send names the same media", func(t *testing.T) {
		img := newSite(t)
		srv := mastodontest.NewServer(t, token)
		srv.DropAfterAccept(2) // net/http replays the POST once
		ch := newChannel(t, srv.URL(), nil)
		post := postOf(withImage(kazakhstan(), img.URL+"/kazakhstan-strike.jpg", caption), "delivery-9")
		if _, err := ch.Send(testContext(t), post); err == nil {
			t.Fatal("first attempt succeeded")
		}
		receipt, err := ch.Send(testContext(t), post)
		if err != nil {
			t.Fatal(err)
		}
		if len(srv.Media()) != 1 || len(srv.Statuses()) != 1 || receipt.RemoteID != srv.Statuses()[0].ID {
			t.Errorf("%d media, %d statuses, receipt %+v", len(srv.Media()), len(srv.Statuses()), receipt)
		}
	})
	t.Run("still processing: the retry polls the same media", func(t *testing.T) {
		img := newSite(t)
		srv := mastodontest.NewServer(t, token)
		srv.SetMediaProcessing(2)
		srv.FailNextOn("GET /api/v1/media/", 1, 502, nil, "")
		ch := newChannel(t, srv.URL(), nil)
		post := postOf(withImage(kazakhstan(), img.URL+"/kazakhstan-strike.jpg", caption), "delivery-10")
		if _, err := ch.Send(testContext(t), post); err == nil {
			t.Fatal("first attempt succeeded")
		}
		if _, err := ch.Send(testContext(t), post); err != nil {
			t.Fatal(err)
		}
		if n := len(srv.Media()); n != 1 {
			t.Errorf("%d uploads", n)
		}
		if st := srv.Statuses()[0]; len(st.MediaIDs) != 1 {
			t.Errorf("status media %v", st.MediaIDs)
		}
	})
	t.Run("a missing image is fetched again", func(t *testing.T) {
		img := newSite(t)
		srv := mastodontest.NewServer(t, token)
		srv.FailNext(1, 500, nil, "")
		ch := newChannel(t, srv.URL(), nil)
		post := postOf(withImage(kazakhstan(), img.URL+"/missing.jpg", caption), "delivery-12")
		_, _ = ch.Send(testContext(t), post)
		receipt, err := ch.Send(testContext(t), post)
		if err != nil || receipt.Warning == "" || img.Requests() != 2 {
			t.Errorf("receipt %+v (%v), %d downloads", receipt, err, img.Requests())
		}
	})
	t.Run("a refused image is not fetched again", func(t *testing.T) {
		img := newSite(t)
		srv := mastodontest.NewServer(t, token)
		srv.FailNext(1, 500, nil, "")
		ch := newChannel(t, srv.URL(), nil)
		post := postOf(withImage(kazakhstan(), img.URL+"/page.jpg", caption), "delivery-11")
		_, _ = ch.Send(testContext(t), post)
		receipt, err := ch.Send(testContext(t), post)
		if err != nil || receipt.Warning == "" || img.Requests() != 1 {
			t.Errorf("receipt %+v (%v), %d downloads", receipt, err, img.Requests())
		}
	})
}

func TestUploadRateLimitedIsRetryable(t *testing.T) {
	img := newSite(t)
	srv := mastodontest.NewServer(t, token)
	srv.FailNextOn("POST /api/v2/media", 1, 429, http.Header{"X-Ratelimit-Reset": {"2026-11-26T22:00:00.000Z"}}, `{"error":"Too many requests"}`)
	clk := &clock{now: clockStart}
	ch := newChannel(t, srv.URL(), func(c *Config) { c.Now, c.sleep = clk.Now, clk.Sleep })
	post := postOf(withImage(kazakhstan(), img.URL+"/kazakhstan-strike.jpg", caption), "k")
	_, err := ch.Send(testContext(t), post)
	kind, at := syndicate.Classify(err)
	if err == nil || kind != syndicate.Retryable || !at.Equal(time.Date(2026, 11, 26, 22, 0, 0, 0, time.UTC)) {
		t.Fatalf("got %v (%v, %v), want retryable until 22:00", err, kind, at)
	}
	if len(srv.Statuses()) != 0 {
		t.Error("posted without the image on a 429")
	}
	// The channel keeps to the 429 without asking again before its time.
	_, err = ch.Send(testContext(t), post)
	if kind, at := syndicate.Classify(err); err == nil || kind != syndicate.Retryable || !at.After(time.Date(2026, 11, 26, 22, 0, 0, 0, time.UTC)) {
		t.Fatalf("sent again before the reset: %v (%v, %v)", err, kind, at)
	}
	if n := srv.Requests("/api/v2/media"); n != 1 {
		t.Errorf("%d uploads, want the refused one only", n)
	}
	clk.Add(at.Sub(clk.Now()))
	if _, err := ch.Send(testContext(t), post); err != nil {
		t.Fatal(err)
	}
	if st := srv.Statuses()[0]; len(st.MediaIDs) != 1 {
		t.Errorf("media %v", st.MediaIDs)
	}
}

func TestNoImage(t *testing.T) {
	img := newSite(t)
	srv := mastodontest.NewServer(t, token)
	ch := newChannel(t, srv.URL(), func(c *Config) { c.Image = false })
	post := postOf(withImage(kazakhstan(), img.URL+"/kazakhstan-strike.jpg", caption), "k")
	if r, _ := ch.Render(post); r.Image != "" {
		t.Errorf("rendering shows image %q", r.Image)
	}
	if _, err := ch.Send(testContext(t), post); err != nil {
		t.Fatal(err)
	}
	if img.Requests() != 0 || len(srv.Media()) != 0 {
		t.Error("the image was fetched or uploaded")
	}
}

func mustGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, resp.Body); err != nil {
		t.Fatal(err)
	}
	return []byte(b.String())
}
