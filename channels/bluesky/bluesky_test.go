package bluesky

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/channels/bluesky/blueskytest"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

const (
	handle   = "emancipation.bsky.social"
	password = "app-pass-do-not-log"
)

var clockStart = time.Date(2026, 11, 26, 21, 30, 0, 0, time.UTC)

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

// memVault is a channels.Vault in memory.
type memVault struct {
	mu sync.Mutex
	m  map[string]string
}

func (v *memVault) Load(_ context.Context, key string) (string, bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, ok := v.m[key]
	return s, ok, nil
}

func (v *memVault) Save(_ context.Context, key, value string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = map[string]string{}
	}
	v.m[key] = value
	return nil
}

// fixture is a PDS and a channel posting to it, on one clock.
type fixture struct {
	pds   *blueskytest.Server
	clock *clock
	vault *memVault
	site  *httptest.Server
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{pds: blueskytest.NewServer(t, handle, password), clock: &clock{now: clockStart}, vault: &memVault{}}
	f.pds.SetClock(f.clock.Now)
	images := map[string][]byte{
		"/small.jpg":        jpegOf(t, 400, 300, 90),
		"/large.jpg":        noisyJPEG(t, 1600, 1200),
		"/not-an-image.jpg": []byte("<html>moved</html>"),
	}
	f.site = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := images[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(b)
	}))
	t.Cleanup(f.site.Close)
	return f
}

func (f *fixture) channel(t *testing.T, edit func(*Config)) *Channel {
	t.Helper()
	cfg := Config{ID: "bluesky-en", Settings: DefaultSettings(), Now: f.clock.Now, Vault: f.vault}
	cfg.Handle, cfg.AppPassword, cfg.Service = handle, password, f.pds.URL()
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func jpegOf(t testing.TB, w, h, quality int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// noisyJPEG is a photo-like image that compresses badly: over 1 MB.
func noisyJPEG(t testing.TB, w, h int) []byte {
	rng := rand.New(rand.NewSource(1))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.Intn(256))
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	if b.Len() <= MaxImageBytes {
		t.Fatalf("the large image is only %d bytes", b.Len())
	}
	return b.Bytes()
}

// postOf is the post of delivery id. Its article's featured image, unless
// a test serves one on loopback, is left out: tests reach nothing else.
func postOf(a syndicate.Article, id int64) syndicate.Post {
	if !strings.HasPrefix(a.ImageURL, "http://127.0.0.1:") {
		a.ImageURL = ""
	}
	return syndicate.Post{DeliveryID: id, Article: a, IdempotencyKey: "k"}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestSendCard(t *testing.T) {
	f := newFixture(t)
	a := kazakhstan()
	a.ImageURL = f.site.URL + "/small.jpg"
	c := f.channel(t, nil)
	r, err := c.Send(ctx(t), postOf(a, 7))
	if err != nil {
		t.Fatal(err)
	}
	recs := f.pds.Records()
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	rec := recs[0]
	rkey := recordKey(postOf(a, 7))
	if rec.Rkey != rkey || r.RemoteID != "at://"+f.pds.DID()+"/app.bsky.feed.post/"+rkey ||
		r.URL != "https://bsky.app/profile/"+f.pds.DID()+"/post/"+rkey || r.Warning != "" {
		t.Errorf("record %s, receipt %+v", rec.Rkey, r)
	}
	want, _ := testRenderer(t, nil).render(a)
	if rec.Post.Text != want.Text || len(rec.Post.Facets) != len(want.Facets) || strings.Join(rec.Post.Langs, ",") != "en" {
		t.Errorf("posted %+v", rec.Post)
	}
	e := rec.Post.Embed
	if e == nil || e.Type != "app.bsky.embed.external" || e.External.URI != a.Link || e.External.Title != a.Title || e.External.Thumb == nil {
		t.Fatalf("embed %+v", e)
	}
	if got := rec.Post.Facets[0]; got.Features[0].URI != a.Link {
		t.Errorf("first facet %+v", got)
	}
	if f.pds.Sessions() != 1 || f.pds.Calls("com.atproto.repo.getRecord") != 1 {
		t.Errorf("%d sessions, %d getRecord", f.pds.Sessions(), f.pds.Calls("com.atproto.repo.getRecord"))
	}
}

func TestSendImageScaledToItsUse(t *testing.T) {
	for _, embed := range []string{EmbedCard, EmbedImage} {
		t.Run(embed, func(t *testing.T) {
			f := newFixture(t)
			a := kazakhstan()
			a.ImageURL = f.site.URL + "/large.jpg"
			r, err := f.channel(t, func(c *Config) { c.Embed = embed }).Send(ctx(t), postOf(a, 1))
			if err != nil || r.Warning != "" {
				t.Fatalf("Send: %v, warning %q", err, r.Warning)
			}
			e := f.pds.Records()[0].Post.Embed
			blobs := f.pds.Blobs()
			limit := int64(MaxThumbBytes)
			if embed == EmbedImage {
				limit = MaxImageBytes
				img := e.Images[0]
				if img.Alt != caption || img.AspectRatio == nil || math.Abs(float64(img.AspectRatio.Width)/float64(img.AspectRatio.Height)-4.0/3) > 0.01 {
					t.Errorf("image %+v", img)
				}
				if !strings.Contains(f.pds.Records()[0].Post.Text, "en.communia.blog/protests-in-kaz…") {
					t.Error("the link is not in the text")
				}
			}
			if len(blobs) != 1 || blobs[0].Size > limit || blobs[0].MimeType != "image/jpeg" {
				t.Errorf("blobs %d, size %d (limit %d)", len(blobs), blobs[0].Size, limit)
			}
		})
	}
}

func TestSendWithoutAnImageThatIsNot(t *testing.T) {
	f := newFixture(t)
	a := kazakhstan()
	a.ImageURL = f.site.URL + "/not-an-image.jpg"
	r, err := f.channel(t, nil).Send(ctx(t), postOf(a, 1))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Warning, "posted without its image") || len(f.pds.Blobs()) != 0 {
		t.Errorf("warning %q, %d blobs", r.Warning, len(f.pds.Blobs()))
	}
	if e := f.pds.Records()[0].Post.Embed; e == nil || e.External == nil || e.External.Thumb != nil {
		t.Errorf("embed %+v: want a card without a thumbnail", e)
	}
}

// A send whose answer is lost is retryable, and the retry finds the
// record instead of making a second post.
func TestLostAnswerIsNotPostedTwice(t *testing.T) {
	f := newFixture(t)
	c := f.channel(t, nil)
	f.pds.DropAfterProcessing("com.atproto.repo.createRecord", 1)
	p := postOf(kazakhstan(), 3)
	_, err := c.Send(ctx(t), p)
	if kind, _ := syndicate.Classify(err); kind != syndicate.Retryable {
		t.Fatalf("lost answer: %v (%v), want retryable", err, kind)
	}
	r, err := c.Send(ctx(t), p)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.pds.Records()); n != 1 || f.pds.Calls("com.atproto.repo.createRecord") != 1 || r.RemoteID != f.pds.Records()[0].URI {
		t.Errorf("%d records after the retry, %d creates, receipt %+v", n, f.pds.Calls("com.atproto.repo.createRecord"), r)
	}
}

// The reference PDS answers a create on an existing key with a bare 500:
// the channel never relies on it, for it looks first.
func TestAnotherProcessMadeTheRecord(t *testing.T) {
	f := newFixture(t)
	p := postOf(kazakhstan(), 5)
	if _, err := f.channel(t, nil).Send(ctx(t), p); err != nil {
		t.Fatal(err)
	}
	r, err := f.channel(t, nil).Send(ctx(t), p) // another process, same delivery
	if err != nil || r.RemoteID != f.pds.Records()[0].URI || len(f.pds.Records()) != 1 || f.pds.Calls("com.atproto.repo.createRecord") != 1 {
		t.Errorf("second send: %+v, %v; %d records", r, err, len(f.pds.Records()))
	}
}

func TestErrorsAreClassified(t *testing.T) {
	reset := clockStart.Add(20 * time.Minute).Truncate(time.Second)
	tests := []struct {
		name    string
		inject  func(*blueskytest.Server)
		kind    syndicate.ErrorKind
		at      time.Time
		message string
	}{
		{"429", func(s *blueskytest.Server) { s.ThrottleNext("com.atproto.repo.createRecord", 1, reset) }, syndicate.Retryable, reset, "RateLimitExceeded"},
		{"429 saying only Retry-After", func(s *blueskytest.Server) {
			s.ThrottleNextRetryAfter("com.atproto.repo.createRecord", 1, 90*time.Second)
		}, syndicate.Retryable, clockStart.Add(90 * time.Second), "RateLimitExceeded"},
		{"429 on getRecord", func(s *blueskytest.Server) {
			s.ThrottleNextRetryAfter("com.atproto.repo.getRecord", 1, 10*time.Minute)
		}, syndicate.Retryable, clockStart.Add(10 * time.Minute), "RateLimitExceeded"},
		{"500", func(s *blueskytest.Server) {
			s.FailNext("com.atproto.repo.createRecord", 1, 500, "InternalServerError", "Internal Server Error")
		}, syndicate.Retryable, time.Time{}, "InternalServerError"},
		{"400 refused", func(s *blueskytest.Server) {
			s.FailNext("com.atproto.repo.createRecord", 1, 400, "InvalidRecord", "Record/text must not be longer than 300 graphemes")
		}, syndicate.Permanent, time.Time{}, "InvalidRecord: Record/text must not be longer than 300 graphemes"},
		{"400 BlobNotFound", func(s *blueskytest.Server) {
			s.FailNext("com.atproto.repo.createRecord", 1, 400, "BlobNotFound", "Could not find blob: bafkreixyz")
		}, syndicate.Retryable, time.Time{}, "BlobNotFound"},
		{"bad password", func(s *blueskytest.Server) {
			s.FailNext("com.atproto.server.createSession", 1, 401, "AuthenticationRequired", "Invalid identifier or password")
		}, syndicate.Permanent, time.Time{}, "Invalid identifier or password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.inject(f.pds)
			_, err := f.channel(t, nil).Send(ctx(t), postOf(kazakhstan(), 1))
			kind, at := syndicate.Classify(err)
			if err == nil || kind != tt.kind || !at.Equal(tt.at) || !strings.Contains(err.Error(), tt.message) || strings.Contains(err.Error(), password) {
				t.Errorf("error %v (%v, at %v), want %v at %v naming %q", err, kind, at, tt.kind, tt.at, tt.message)
			}
		})
	}
}

// An expired access token is refreshed, a revoked refresh token replaced
// by a new session, and the session outlives the channel in its vault.
func TestSessions(t *testing.T) {
	f := newFixture(t)
	f.pds.SetAccessLifetime(time.Hour)
	c := f.channel(t, nil)
	for i := range 3 {
		if _, err := c.Send(ctx(t), postOf(kazakhstan(), int64(i+1))); err != nil {
			t.Fatal(err)
		}
		f.clock.Add(2 * time.Hour) // the access token expires between sends
	}
	if f.pds.Sessions() != 1 || f.pds.Calls("com.atproto.server.refreshSession") != 2 {
		t.Errorf("%d sessions, %d refreshes; want 1 and 2", f.pds.Sessions(), f.pds.Calls("com.atproto.server.refreshSession"))
	}
	// The next run starts from the kept session.
	if _, err := f.channel(t, nil).Send(ctx(t), postOf(kazakhstan(), 10)); err != nil {
		t.Fatal(err)
	}
	if f.pds.Sessions() != 1 {
		t.Errorf("a new run made a session (%d)", f.pds.Sessions())
	}
	f.pds.RevokeRefreshTokens()
	f.clock.Add(2 * time.Hour)
	if _, err := f.channel(t, nil).Send(ctx(t), postOf(kazakhstan(), 11)); err != nil {
		t.Fatal(err)
	}
	if f.pds.Sessions() != 2 {
		t.Errorf("%d sessions after the refresh token was revoked, want 2", f.pds.Sessions())
	}
	for k, v := range f.vault.m {
		if strings.Contains(v, password) || strings.Contains(k, password) {
			t.Errorf("the password is kept in the vault")
		}
	}
}

func TestCheck(t *testing.T) {
	f := newFixture(t)
	got, err := f.channel(t, nil).Check(ctx(t))
	if want := "authenticated as @" + handle + " (" + f.pds.DID() + ") on " + f.pds.URL(); err != nil || got != want {
		t.Errorf("Check = %q, %v; want %q", got, err, want)
	}
	// Without the session kept by the first.
	_, err = f.channel(t, func(c *Config) { c.AppPassword, c.Vault = "wrong", nil }).Check(ctx(t))
	if err == nil || strings.Contains(err.Error(), "wrong") || !strings.Contains(err.Error(), "Invalid identifier or password") {
		t.Errorf("Check with a wrong password: %v", err)
	}
}

func TestOverrideIsPostedWithItsFacets(t *testing.T) {
	f := newFixture(t)
	c := f.channel(t, nil)
	p := postOf(kazakhstan(), 1)
	p.Override = "Read this: https://en.communia.blog/protests-in-kazakhstan-5-clues #Kazakhstan"
	if r, err := c.CheckText(p); err != nil || r.Length != Length(p.Override) || r.Counting != syndicate.CountGraphemes ||
		len(r.Links) != 2 || r.Links[1].URL != "https://bsky.app/hashtag/Kazakhstan" || p.Override[r.Links[1].Start:r.Links[1].End] != "#Kazakhstan" {
		t.Fatalf("CheckText: %+v, %v", r, err)
	}
	if _, err := c.Send(ctx(t), p); err != nil {
		t.Fatal(err)
	}
	got := f.pds.Records()[0].Post
	if got.Text != p.Override || len(got.Facets) != 2 || got.Facets[1].Features[0].Tag != "Kazakhstan" {
		t.Errorf("posted %+v", got)
	}
	p.Override = strings.Repeat("long ", 70)
	if _, err := c.CheckText(p); err == nil || !strings.Contains(err.Error(), "over the limit of 300") {
		t.Errorf("an override over the limit: %v", err)
	}
}

// A burst keeps off the last tenth of the account's write points: the
// create that would eat into it waits for the window's end.
func TestBurstKeepsWithinTheWriteBudget(t *testing.T) {
	f := newFixture(t)
	c := f.channel(t, nil)
	var refused error
	n := 0
	for i := range 2000 {
		if _, err := c.Send(ctx(t), postOf(kazakhstan(), int64(i+1))); err != nil {
			refused = err
			break
		}
		n++
	}
	kind, at := syndicate.Classify(refused)
	if refused == nil || kind != syndicate.Retryable || at.Before(f.clock.Now()) || !strings.Contains(refused.Error(), "kept for other uses") {
		t.Fatalf("after %d posts: %v (%v at %v)", n, refused, kind, at)
	}
	// 5,000 points, 3 a create, 500 kept: the last create leaves at most 500.
	if want := (5000 - 500) / 3; n < want-1 || n > want+1 || f.pds.Calls("com.atproto.repo.createRecord") != n {
		t.Errorf("%d posts went out (%d creates), want about %d", n, f.pds.Calls("com.atproto.repo.createRecord"), want)
	}
	if f.pds.Records() == nil || len(f.pds.Records()) != n {
		t.Errorf("%d records", len(f.pds.Records()))
	}
}

// After a 429 the channel makes no call until the PDS said it may, for
// any delivery, and then posts.
func TestThrottledAccountWaits(t *testing.T) {
	f := newFixture(t)
	c := f.channel(t, nil)
	f.pds.ThrottleNextRetryAfter("com.atproto.repo.createRecord", 1, 5*time.Minute)
	if _, err := c.Send(ctx(t), postOf(kazakhstan(), 1)); err == nil {
		t.Fatal("a throttled create went through")
	}
	calls := f.pds.Calls("com.atproto.repo.createRecord")
	f.clock.Add(4 * time.Minute)
	_, err := c.Send(ctx(t), postOf(kazakhstan(), 2))
	kind, at := syndicate.Classify(err)
	if kind != syndicate.Retryable || !at.Equal(clockStart.Add(5*time.Minute)) || f.pds.Calls("com.atproto.repo.createRecord") != calls {
		t.Fatalf("within the throttle: %v (%v at %v), %d creates (want %d)", err, kind, at, f.pds.Calls("com.atproto.repo.createRecord"), calls)
	}
	f.clock.Add(time.Minute)
	for id := int64(1); id <= 2; id++ {
		if _, err := c.Send(ctx(t), postOf(kazakhstan(), id)); err != nil {
			t.Fatalf("after the throttle, delivery %d: %v", id, err)
		}
	}
	if n := len(f.pds.Records()); n != 2 {
		t.Errorf("%d records, want 2", n)
	}
}

// A burst of posts with images keeps off the last tenth of the account's
// daily uploads: the post that would eat into it waits for the day's end,
// uploading nothing and posting nothing, rather than going without.
func TestBurstKeepsWithinTheUploadBudget(t *testing.T) {
	f := newFixture(t)
	c := f.channel(t, nil)
	a := kazakhstan()
	a.ImageURL = f.site.URL + "/small.jpg"
	var refused error
	n := 0
	for i := range 1200 {
		if i > 0 && i%250 == 0 {
			f.clock.Add(time.Hour) // a new window of write points
		}
		if _, err := c.Send(ctx(t), postOf(a, int64(i+1))); err != nil {
			refused = err
			break
		}
		n++
	}
	kind, at := syndicate.Classify(refused)
	if refused == nil || kind != syndicate.Retryable || !at.Equal(clockStart.Add(24*time.Hour)) || !strings.Contains(refused.Error(), "image uploads") {
		t.Fatalf("after %d posts: %v (%v at %v)", n, refused, kind, at)
	}
	// 1,000 uploads a day, 100 kept: the last post leaves 100.
	if uploads := len(f.pds.Blobs()); n != 900 || uploads != 900 || len(f.pds.Records()) != 900 {
		t.Errorf("%d posts, %d uploads, %d records; want 900 of each", n, uploads, len(f.pds.Records()))
	}
	for _, r := range f.pds.Records() {
		if r.Post.Embed == nil || r.Post.Embed.External == nil || r.Post.Embed.External.Thumb == nil {
			t.Fatalf("record %s went without its thumbnail", r.Rkey)
		}
	}
}

// An attempt made after the PDS deleted the image of an earlier one (no
// record used it) uploads it again rather than refer to the lost blob.
func TestRetryLongAfterUploadsAnew(t *testing.T) {
	f := newFixture(t)
	c := f.channel(t, nil)
	a := kazakhstan()
	a.ImageURL = f.site.URL + "/small.jpg"
	f.pds.FailNext("com.atproto.repo.createRecord", 1, 500, "InternalServerError", "Internal Server Error")
	if _, err := c.Send(ctx(t), postOf(a, 1)); err == nil {
		t.Fatal("the failed create went through")
	}
	first := f.pds.Blobs()
	f.clock.Add(3 * time.Hour) // past the blob's lifetime
	if len(first) != 1 || f.pds.HasBlob(first[0].CID) {
		t.Fatalf("%d blobs; the first still exists: %v", len(first), len(first) == 1 && f.pds.HasBlob(first[0].CID))
	}
	if _, err := c.Send(ctx(t), postOf(a, 1)); err != nil {
		t.Fatal(err)
	}
	recs := f.pds.Records()
	if len(recs) != 1 || len(f.pds.Blobs()) != 2 || recs[0].Post.Embed.External.Thumb == nil || !f.pds.HasBlob(recs[0].Post.Embed.External.Thumb.Ref.Link) {
		t.Fatalf("%d records, %d uploads", len(recs), len(f.pds.Blobs()))
	}
}
