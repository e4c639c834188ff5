package telegram

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// photoSource is how a photo travels: its URL, for Telegram to fetch, or
// its bytes, uploaded.
type photoSource struct {
	url  string
	file *tgbotapi.RequestFile
}

// imageTypes are the types Telegram takes as a photo, by the extension
// given to the upload.
var imageTypes = map[string]string{
	"image/jpeg": "jpg",
	"image/png":  "png",
	"image/gif":  "gif",
	"image/webp": "webp",
}

// photoFor decides how the image at rawURL travels: PhotoURL gives the URL,
// PhotoUpload the bytes, PhotoAuto the URL when its host is public and the
// bytes otherwise.
func (c *Channel) photoFor(ctx context.Context, rawURL string) (photoSource, error) {
	if c.photo == PhotoURL || (c.photo == PhotoAuto && c.isPublic(ctx, rawURL)) {
		return photoSource{url: rawURL}, nil
	}
	return c.upload(ctx, rawURL)
}

// upload downloads the image, checks by its content that it is one, and
// makes it a file to upload.
func (c *Channel) upload(ctx context.Context, rawURL string) (photoSource, error) {
	data, ext, err := c.download(ctx, rawURL)
	if err != nil {
		return photoSource{}, err
	}
	return photoSource{file: &tgbotapi.RequestFile{Name: "photo", Data: tgbotapi.FileBytes{Name: "image." + ext, Bytes: data}}}, nil
}

func (c *Channel) download(ctx context.Context, rawURL string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, "", fmt.Errorf("downloading the image: %w", err)
	}
	req.Header.Set("Accept", "image/jpeg, image/png, image/webp, image/gif;q=0.8")
	req.Header.Set("User-Agent", "syndicate")
	resp, err := c.images.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("downloading the image: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("downloading the image: HTTP %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxImageBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("downloading the image: %w", err)
	}
	if int64(len(data)) > c.maxImageBytes {
		return nil, "", fmt.Errorf("the image is over %d bytes", c.maxImageBytes)
	}
	kind := http.DetectContentType(data)
	ext, ok := imageTypes[kind]
	if !ok {
		return nil, "", fmt.Errorf("%s is not a JPEG, PNG, WebP or GIF image (its content is %s)", rawURL, kind)
	}
	return data, ext, nil
}

// isPublic reports whether Telegram's servers can be expected to fetch
// rawURL: its host is neither a loopback, private, link-local or shared
// address nor a local name, and resolves only to public addresses.
func (c *Channel) isPublic(ctx context.Context, rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if addr, err := netip.ParseAddr(host); err == nil {
		return publicAddr(addr)
	}
	if !strings.Contains(host, ".") {
		return false // localhost, or a name on the local network
	}
	for _, local := range []string{".localhost", ".local", ".internal", ".lan", ".home.arpa", ".test", ".invalid", ".example"} {
		if strings.HasSuffix(host, local) {
			return false
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := c.lookupIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		addr, ok := netip.AddrFromSlice(ip)
		if !ok || !publicAddr(addr) {
			return false
		}
	}
	return true
}

// sharedSpace is 100.64.0.0/10, carrier-grade NAT.
var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsGlobalUnicast() && !a.IsPrivate() && !sharedSpace.Contains(a)
}
