package mastodon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mattn/go-mastodon"

	"github.com/syndicate-daemon/syndicate/channels"
)

// The media cache keeps, per idempotency key, the image uploaded for a
// post until the post goes out, so a retried post attaches it instead of
// uploading it again. Mastodon deletes media left unattached after a day.
const (
	mediaCacheSize = 256
	mediaCacheTTL  = 12 * time.Hour
)

// mediaEntry is what became of a post's image.
type mediaEntry struct {
	image   string      // the image's URL
	id      mastodon.ID // the uploaded media; "" when there is none
	ready   bool        // processed: it can be attached
	warning string      // why the post goes without it; "" when it goes with it
	at      time.Time
}

type mediaCache struct {
	mu      sync.Mutex
	entries map[string]*mediaEntry
	order   []string // keys, oldest first
}

func (m *mediaCache) get(key, image string, now time.Time) (mediaEntry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok || e.image != image || now.Sub(e.at) > mediaCacheTTL {
		return mediaEntry{}, false
	}
	return *e, true
}

func (m *mediaCache) put(key string, e mediaEntry) {
	if key == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil {
		m.entries = map[string]*mediaEntry{}
	}
	if _, ok := m.entries[key]; !ok {
		m.order = append(m.order, key)
	}
	m.entries[key] = &e
	for len(m.order) > mediaCacheSize {
		delete(m.entries, m.order[0])
		m.order = m.order[1:]
	}
}

func (m *mediaCache) drop(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.entries[key]; !ok {
		return
	}
	delete(m.entries, key)
	for i, k := range m.order {
		if k == key {
			m.order = append(m.order[:i], m.order[i+1:]...)
			break
		}
	}
}

// media returns the media ids to attach to the post's status: its image,
// downloaded, uploaded and processed, or, when the image cannot be
// fetched, is refused or is still processing at the deadline, none and a
// warning that says why. Errors are only those that would keep the status
// from going out too (a 429, a 5xx, a bad token): the post is retried,
// and reuses what was uploaded.
func (c *Channel) media(ctx context.Context, key string, st status, lim Limits) ([]mastodon.ID, string, error) {
	if st.Image == "" {
		return nil, "", nil
	}
	e, cached := c.mediaCache.get(key, st.Image, c.cfg.Now())
	if !cached {
		e = mediaEntry{image: st.Image, at: c.cfg.Now()}
		img, err := c.download(ctx, st.Image, lim)
		var bad *channels.ImageError
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, "", channels.TransportError(fmt.Errorf("mastodon: fetching the image: %w", ctx.Err()), false, true)
		case errors.As(err, &bad) && bad.Lasting:
			// It would be the same next time.
			e.warning = c.withoutImage(st.Image, err)
			c.mediaCache.put(key, e)
			return nil, e.warning, nil
		case err != nil:
			return nil, c.withoutImage(st.Image, err), nil
		}
		att, err := c.upload(ctx, img.Data, cutText(st.Caption, lim.DescriptionLimit, utf8.RuneCountInString))
		if refused(err) {
			e.warning = c.withoutImage(st.Image, err)
			c.mediaCache.put(key, e)
			return nil, e.warning, nil
		}
		if err != nil {
			return nil, "", err
		}
		// A 202 answers with no url: the media is still processing.
		e.id, e.ready = att.ID, att.URL != ""
		c.mediaCache.put(key, e)
	}
	switch {
	case e.warning != "":
		return nil, e.warning, nil
	case e.ready:
		return []mastodon.ID{e.id}, "", nil
	}
	ready, waited, err := c.awaitMedia(ctx, e.id)
	if refused(err) {
		e.warning = c.withoutImage(st.Image, err)
		c.mediaCache.put(key, e)
		return nil, e.warning, nil
	}
	if err != nil {
		return nil, "", err
	}
	if !ready {
		// Kept in the cache: a later post of the same delivery (an edit
		// is another matter) may still find it processed.
		return nil, c.withoutImage(st.Image, fmt.Errorf("still processing after %s", waited.Round(time.Second))), nil
	}
	e.ready = true
	c.mediaCache.put(key, e)
	return []mastodon.ID{e.id}, "", nil
}

// withoutImage logs and returns the warning of a post that goes out
// without its image.
func (c *Channel) withoutImage(image string, err error) string {
	if api := (*mastodon.APIError)(nil); errors.As(err, &api) {
		err = fmt.Errorf("the instance refused it: %d %s", api.StatusCode, api.Message)
	}
	w := channels.Redact(channels.WithoutImage(image, err), c.cfg.AccessToken.Value())
	c.cfg.Logger.Warn("mastodon: "+w, "channel", c.cfg.ID)
	return w
}

// refused reports whether the instance refused the request itself (a 4xx
// other than 401 and 429; a 403 is a token without the media scope): a
// post then goes without its image.
func refused(err error) bool {
	var api *mastodon.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch code := api.StatusCode; {
	case code == http.StatusUnauthorized, code == http.StatusTooManyRequests:
		return false
	default:
		return code >= 400 && code < 500
	}
}

// download fetches the image, at most MaxImageBytes (and the instance's
// image_size_limit), checked by its content to be a JPEG, PNG, GIF or
// WebP image. It sends no credentials: the image is on the publisher's
// site, not on the instance.
func (c *Channel) download(ctx context.Context, image string, lim Limits) (channels.Image, error) {
	maxBytes := c.cfg.MaxImageBytes
	if lim.ImageSizeLimit > 0 {
		maxBytes = min(maxBytes, lim.ImageSizeLimit)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	return c.images.Fetch(ctx, image, maxBytes)
}

// upload posts the image to /api/v2/media with its description.
func (c *Channel) upload(ctx context.Context, data []byte, description string) (*mastodon.Attachment, error) {
	var att *mastodon.Attachment
	err := c.call(ctx, callUpload, func(ctx context.Context) error {
		var err error
		att, err = c.client.UploadMediaFromMedia(ctx, &mastodon.Media{File: bytes.NewReader(data), Description: description})
		return err
	})
	if err != nil {
		if refused(err) {
			return nil, err
		}
		return nil, c.sendError("uploading the image", err, false, true)
	}
	if att.ID == "" {
		return nil, channels.TransportError(errors.New("mastodon: uploading the image: the answer has no media id"), true, true)
	}
	return att, nil
}

// awaitMedia polls GET /api/v1/media/:id, which answers 206 while the
// media is processing and 200 once it is done, until it is done, or
// MediaTimeout has passed, or ctx would leave too little time for the
// post. go-mastodon takes the 206 for an error, so the channel asks
// itself. It returns how long it waited when the media is not ready.
func (c *Channel) awaitMedia(ctx context.Context, id mastodon.ID) (bool, time.Duration, error) {
	start := c.cfg.Now()
	wait := time.Second
	for {
		waited := c.cfg.Now().Sub(start)
		if waited+wait > c.cfg.MediaTimeout.Std() {
			return false, waited, nil
		}
		if d, ok := ctx.Deadline(); ok {
			// Leave time for the status post.
			if left := time.Until(d); wait > left-min(c.cfg.Timeout, left/2) {
				return false, waited, nil
			}
		}
		if err := c.cfg.sleep(ctx, wait); err != nil {
			return false, waited, channels.TransportError(fmt.Errorf("mastodon: waiting for the image to be processed: %w", err), false, true)
		}
		wait = min(2*wait, 5*time.Second)
		var att mastodon.Attachment
		var code int
		err := c.call(ctx, callRequest, func(ctx context.Context) error {
			var err error
			code, err = c.do(ctx, http.MethodGet, "/api/v1/media/"+url.PathEscape(string(id)), nil, &att)
			return err
		})
		if err != nil {
			if refused(err) {
				return false, 0, err
			}
			return false, 0, c.sendError("reading the image's processing state", err, false, true)
		}
		if code == http.StatusOK && att.URL != "" {
			return true, 0, nil
		}
	}
}

// mediaIDs returns the ids of a status's attachments.
func mediaIDs(st *mastodon.Status) []mastodon.ID {
	ids := make([]mastodon.ID, 0, len(st.MediaAttachments))
	for _, a := range st.MediaAttachments {
		ids = append(ids, a.ID)
	}
	return ids
}
