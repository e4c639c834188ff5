package telegram

import (
	"context"
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

// photoFor decides how the image at rawURL travels: PhotoURL gives the URL,
// PhotoUpload the bytes, PhotoAuto the URL when its host is public and the
// bytes otherwise.
func (c *Channel) photoFor(ctx context.Context, rawURL string) (photoSource, error) {
	if c.photo == PhotoURL || (c.photo == PhotoAuto && c.isPublic(ctx, rawURL)) {
		return photoSource{url: rawURL}, nil
	}
	return c.upload(ctx, rawURL)
}

// upload downloads the image (at most maxImageBytes, checked by its content
// to be a JPEG, PNG, GIF or WebP image) and makes it a file to upload.
func (c *Channel) upload(ctx context.Context, rawURL string) (photoSource, error) {
	img, err := c.images.Fetch(ctx, rawURL, c.maxImageBytes)
	if err != nil {
		return photoSource{}, err
	}
	return photoSource{file: &tgbotapi.RequestFile{Name: "photo", Data: tgbotapi.FileBytes{Name: img.Name, Bytes: img.Data}}}, nil
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
