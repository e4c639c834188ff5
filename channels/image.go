package channels

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/syndicate-daemon/syndicate/syndicate/netguard"
)

// Image is a featured image downloaded to be uploaded to a platform.
type Image struct {
	Data []byte
	// ContentType is the type the content shows: image/jpeg, image/png,
	// image/gif or image/webp (whatever the server said).
	ContentType string
	// Name is a file name for the upload, with the extension of the type:
	// "image.jpg".
	Name string
}

// ImageError says why an image could not be had. Its text names the URL.
type ImageError struct {
	URL string
	// Lasting is true when fetching the image again would fail the same
	// way: the URL is not an http(s) one, or the image is too large, or
	// it is not an image. A network error or an HTTP error status is not
	// lasting.
	Lasting bool
	Err     error // the reason, without the URL
}

func (e *ImageError) Error() string { return "fetching the image " + e.URL + ": " + e.Err.Error() }

func (e *ImageError) Unwrap() error { return e.Err }

func lastingImageError(rawURL, format string, args ...any) *ImageError {
	return &ImageError{URL: rawURL, Lasting: true, Err: fmt.Errorf(format, args...)}
}

// DefaultImageUserAgent is the User-Agent of ImageFetcher when it has none.
const DefaultImageUserAgent = "syndicate"

// ImageFetcher downloads featured images. They are on the publisher's
// site, not on the platform: its client must not carry the platform's
// credentials. The feed names them, so the client should be one whose
// transport a netguard.Guard checks: a refused address is an
// *ImageError, lasting, that says so.
type ImageFetcher struct {
	// Client makes the requests; nil means http.DefaultClient. Its
	// Timeout, if any, bounds the whole download.
	Client    *http.Client
	UserAgent string // default DefaultImageUserAgent
}

// sniffLen is how much of the body is read to tell the type before the
// rest: what http.DetectContentType looks at.
const sniffLen = 512

// Fetch downloads the image at rawURL. It refuses, with an *ImageError, a
// URL that is not an absolute http(s) one, an answer other than 200, a body
// over maxBytes (by its Content-Length before reading it, else by reading at
// most one byte more), and a body that its first bytes do not show to be a
// JPEG, PNG, GIF or WebP image (the Content-Type header is not believed),
// without reading the rest. Errors that come from ctx wrap ctx's error.
func (f ImageFetcher) Fetch(ctx context.Context, rawURL string, maxBytes int64) (Image, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Image{}, lastingImageError(rawURL, "not an http(s) URL: %v", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Image{}, lastingImageError(rawURL, "not an http(s) URL")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return Image{}, lastingImageError(rawURL, "%v", err)
	}
	ua := f.UserAgent
	if ua == "" {
		ua = DefaultImageUserAgent
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Accept", "image/jpeg, image/png, image/gif, image/webp")
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if refused := (*netguard.RefusedError)(nil); errors.As(err, &refused) {
			// The feed named an address inside the network: it would be
			// refused again.
			return Image{}, lastingImageError(rawURL, "not fetched: %w", refused)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // it repeats the URL
		}
		return Image{}, &ImageError{URL: rawURL, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Image{}, &ImageError{URL: rawURL, Err: fmt.Errorf("HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))}
	}
	if resp.ContentLength > maxBytes {
		return Image{}, lastingImageError(rawURL, "%d bytes, over the limit of %d bytes", resp.ContentLength, maxBytes)
	}
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(resp.Body, head)
	head = head[:n]
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return Image{}, &ImageError{URL: rawURL, Err: fmt.Errorf("reading it: %w", err)}
	}
	kind := ImageType(head)
	if kind == "" {
		what := "empty"
		if len(head) > 0 {
			what = http.DetectContentType(head)
		}
		return Image{}, lastingImageError(rawURL, "not a JPEG, PNG, GIF or WebP image (%s)", what)
	}
	if int64(len(head)) > maxBytes {
		return Image{}, lastingImageError(rawURL, "over the limit of %d bytes", maxBytes)
	}
	rest, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes-int64(len(head))+1))
	if err != nil {
		return Image{}, &ImageError{URL: rawURL, Err: fmt.Errorf("reading it: %w", err)}
	}
	data := append(head, rest...)
	if int64(len(data)) > maxBytes {
		return Image{}, lastingImageError(rawURL, "over the limit of %d bytes", maxBytes)
	}
	return Image{Data: data, ContentType: kind, Name: "image." + imageExtensions[kind]}, nil
}

// ImageType names the image format of data by its magic number: image/jpeg,
// image/png, image/gif or image/webp, the formats every platform takes; or
// "" for anything else.
func ImageType(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return "image/jpeg"
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return "image/gif"
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return "image/webp"
	}
	return ""
}

var imageExtensions = map[string]string{
	"image/jpeg": "jpg",
	"image/png":  "png",
	"image/gif":  "gif",
	"image/webp": "webp",
}

// WithoutImage is the note of a post that went out without its image,
// and why: "posted without its image URL: HTTP 404 Not Found". err may be
// the platform's refusal as well as an *ImageError.
func WithoutImage(image string, err error) string {
	reason := err.Error()
	if ie, ok := err.(*ImageError); ok && ie.URL == image {
		reason = ie.Err.Error() // the note names the URL already
	}
	return fmt.Sprintf("posted without its image %s: %s", image, reason)
}
