package channels

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var (
	jpegData = append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), bytes.Repeat([]byte{0x42}, 2000)...)
	pngData  = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{1}, 100)...)
	gifData  = []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	webpData = []byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00")
)

// imageSite serves test images on loopback. Paths:
//
//	/a.jpg, /a.png, /a.gif, /a.webp  the images (each with a lying
//	                                 Content-Type: the content decides)
//	/page.jpg                        a web page
//	/empty.jpg                       nothing
//	/endless.html                    a web page that never ends
//	/endless.jpg                     a JPEG that never ends, chunked
//	/declared.jpg                    a JPEG whose Content-Length is 1 GiB
//
// and 404 elsewhere. written counts the bytes of the endless bodies that
// reached the connection.
type imageSite struct {
	*httptest.Server
	written atomic.Int64
	headers atomic.Pointer[http.Header]
}

func newImageSite(t *testing.T) *imageSite {
	t.Helper()
	s := &imageSite{}
	endless := func(w http.ResponseWriter, head []byte) {
		chunk := bytes.Repeat([]byte("<p>more</p>"), 10000)
		n, err := w.Write(head)
		s.written.Add(int64(n))
		for i := 0; err == nil && i < 10000; i++ { // at most about 1 GB
			n, err = w.Write(chunk)
			s.written.Add(int64(n))
		}
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		s.headers.Store(&h)
		w.Header().Set("Content-Type", "text/plain") // a lie
		switch r.URL.Path {
		case "/a.jpg":
			_, _ = w.Write(jpegData)
		case "/a.png":
			_, _ = w.Write(pngData)
		case "/a.gif":
			_, _ = w.Write(gifData)
		case "/a.webp":
			_, _ = w.Write(webpData)
		case "/page.jpg":
			w.Header().Set("Content-Type", "image/jpeg")
			_, _ = w.Write([]byte("<!doctype html><title>Not found</title>"))
		case "/empty.jpg":
		case "/endless.html":
			w.Header().Set("Content-Type", "image/jpeg")
			endless(w, []byte("<!doctype html>"))
		case "/endless.jpg":
			endless(w, jpegData)
		case "/declared.jpg":
			w.Header().Set("Content-Length", strconv.Itoa(1<<30))
			endless(w, jpegData)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func testFetcher() ImageFetcher {
	return ImageFetcher{Client: &http.Client{Timeout: 10 * time.Second}}
}

func TestFetchImage(t *testing.T) {
	s := newImageSite(t)
	for path, want := range map[string]struct {
		data []byte
		typ  string
		name string
	}{
		"/a.jpg":  {jpegData, "image/jpeg", "image.jpg"},
		"/a.png":  {pngData, "image/png", "image.png"},
		"/a.gif":  {gifData, "image/gif", "image.gif"},
		"/a.webp": {webpData, "image/webp", "image.webp"},
	} {
		img, err := testFetcher().Fetch(context.Background(), s.URL+path, int64(len(want.data)))
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if !bytes.Equal(img.Data, want.data) || img.ContentType != want.typ || img.Name != want.name {
			t.Errorf("%s: %d bytes, %q, %q; want %d bytes, %q, %q", path, len(img.Data), img.ContentType, img.Name, len(want.data), want.typ, want.name)
		}
	}
	h := *s.headers.Load()
	if h.Get("User-Agent") != "syndicate" || !strings.Contains(h.Get("Accept"), "image/webp") || h.Get("Authorization") != "" {
		t.Errorf("request headers %v", h)
	}
	f := testFetcher()
	f.UserAgent = "syndicate/1.2 (+https://news.example.org)"
	if _, err := f.Fetch(context.Background(), s.URL+"/a.gif", 100); err != nil || s.headers.Load().Get("User-Agent") != f.UserAgent {
		t.Errorf("User-Agent %q (%v)", s.headers.Load().Get("User-Agent"), err)
	}
}

func TestFetchImageRefused(t *testing.T) {
	s := newImageSite(t)
	tests := []struct {
		url      string
		max      int64
		lasting  bool
		want     string
		sentinel error
	}{
		{s.URL + "/missing.jpg", 1 << 20, false, "HTTP 404 Not Found", nil},
		{s.URL + "/page.jpg", 1 << 20, true, "not a JPEG, PNG, GIF or WebP image (text/html; charset=utf-8)", nil},
		{s.URL + "/empty.jpg", 1 << 20, true, "not a JPEG, PNG, GIF or WebP image (empty)", nil},
		{s.URL + "/a.jpg", int64(len(jpegData)) - 1, true, fmt.Sprintf("over the limit of %d bytes", len(jpegData)-1), nil},
		{s.URL + "/a.jpg", 100, true, "over the limit of 100 bytes", nil},
		{s.URL + "/declared.jpg", 1 << 20, true, fmt.Sprintf("%d bytes, over the limit of %d bytes", 1<<30, 1<<20), nil},
		{"http://127.0.0.1:1/a.jpg", 1 << 20, false, "connection refused", syscall.ECONNREFUSED},
		{"ftp://example.org/a.jpg", 1 << 20, true, "not an http(s) URL", nil},
		{"/a.jpg", 1 << 20, true, "not an http(s) URL", nil},
		{"http:///a.jpg", 1 << 20, true, "not an http(s) URL", nil},
		{"http://exa\x7fmple.org/a.jpg", 1 << 20, true, "not an http(s) URL: net/url: invalid control character in URL", nil},
	}
	for _, tt := range tests {
		_, err := testFetcher().Fetch(context.Background(), tt.url, tt.max)
		var ie *ImageError
		if !errors.As(err, &ie) {
			t.Errorf("%s: error %v, want an *ImageError", tt.url, err)
			continue
		}
		if ie.URL != tt.url || ie.Lasting != tt.lasting || !strings.Contains(ie.Err.Error(), tt.want) ||
			!strings.HasPrefix(err.Error(), "fetching the image "+tt.url+": ") {
			t.Errorf("%s: %q (lasting %v), want %q (lasting %v)", tt.url, err, ie.Lasting, tt.want, tt.lasting)
		}
		if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
			t.Errorf("%s: %v is not %v", tt.url, err, tt.sentinel)
		}
	}
}

// A body that is not an image, or too large, is refused without reading
// it all.
func TestFetchImageReadsLittle(t *testing.T) {
	for _, tt := range []struct {
		path string
		max  int64
		want string
	}{
		// The type is known from the first bytes, whatever the limit.
		{"/endless.html", 1 << 40, "not a JPEG"},
		{"/endless.jpg", 1 << 20, "over the limit of 1048576 bytes"},
		{"/declared.jpg", 1 << 20, "bytes, over the limit of 1048576 bytes"},
	} {
		s := newImageSite(t)
		_, err := testFetcher().Fetch(context.Background(), s.URL+tt.path, tt.max)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.path, err, tt.want)
		}
		s.Close() // waits for the handler, which stops when the client has gone
		// What the connection's buffers take, beyond what was read.
		t.Logf("%s: %d bytes written", tt.path, s.written.Load())
		if n := s.written.Load(); n > 16<<20 {
			t.Errorf("%s: %d bytes written before the client left", tt.path, n)
		}
	}
}

func TestFetchImageContext(t *testing.T) {
	s := newImageSite(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := testFetcher().Fetch(ctx, s.URL+"/a.jpg", 1<<20)
	var ie *ImageError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &ie) || ie.Lasting {
		t.Errorf("got %v, want a passing error that is context.Canceled", err)
	}
}

func TestImageType(t *testing.T) {
	for data, want := range map[string]string{
		"\xff\xd8\xff\xe0\x00\x10JFIF":              "image/jpeg",
		"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR":       "image/png",
		"GIF89a\x01\x00":                            "image/gif",
		"GIF87a\x01\x00":                            "image/gif",
		"RIFF\x24\x00\x00\x00WEBPVP8 ":              "image/webp",
		"RIFF\x24\x00\x00\x00WAVEfmt ":              "",
		"<svg xmlns='http://www.w3.org/2000/svg'/>": "",
		"": "",
	} {
		if got := ImageType([]byte(data)); got != want {
			t.Errorf("ImageType(%q) = %q, want %q", data, got, want)
		}
	}
}

func TestWithoutImage(t *testing.T) {
	const u = "https://example.org/a.jpg"
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&ImageError{URL: u, Err: errors.New("HTTP 404 Not Found")}, "posted without its image " + u + ": HTTP 404 Not Found"},
		{&ImageError{URL: "https://example.org/b.jpg", Err: errors.New("HTTP 404 Not Found")},
			"posted without its image " + u + ": fetching the image https://example.org/b.jpg: HTTP 404 Not Found"},
		{errors.New("the instance refused it: 422 Validation failed"), "posted without its image " + u + ": the instance refused it: 422 Validation failed"},
	} {
		if got := WithoutImage(u, tt.err); got != tt.want {
			t.Errorf("WithoutImage(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
