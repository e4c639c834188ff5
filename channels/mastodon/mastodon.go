// Package mastodon posts articles to a Mastodon account through
// github.com/mattn/go-mastodon, working around its gaps: an Idempotency-Key
// header on every status post, 429s returned at once instead of retried for
// up to an hour, and the v2 instance endpoint for the character limit.
package mastodon

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// Channel is a Mastodon account. It is safe for concurrent use.
type Channel struct {
	cfg      Config
	client   *mastodon.Client
	renderer *renderer

	mu        sync.Mutex
	limits    Limits
	limitsAt  time.Time // zero until the instance's limits are fetched
	accountID mastodon.ID
}

var (
	_ syndicate.Channel  = (*Channel)(nil)
	_ syndicate.Resolver = (*Channel)(nil)
)

// New checks cfg and parses the template. It makes no network call.
func New(cfg Config) (*Channel, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("mastodon channel %q: %w", cfg.ID, err)
	}
	r, err := newRenderer(cfg.ID, cfg.Template, cfg.MaxHashtags)
	if err != nil {
		return nil, fmt.Errorf("mastodon channel %q: template: %w", cfg.ID, err)
	}
	client := mastodon.NewClient(&mastodon.Config{Server: cfg.Server, AccessToken: cfg.AccessToken})
	client.Client = http.Client{Transport: &transport{base: cfg.Transport, now: cfg.Now}}
	client.UserAgent = cfg.UserAgent
	return &Channel{cfg: cfg, client: client, renderer: r}, nil
}

// Render returns the post as Send would post it, fitted to the limits known
// so far (Config.MaxCharacters, else the instance's once Send or Check has
// read them, else 500). It makes no network call. When the post cannot be
// made to fit, or the template fails, the error comes with what was
// rendered.
func (c *Channel) Render(post syndicate.Post) (syndicate.Rendering, error) {
	return c.renderer.render(post.Article, c.cachedLimits())
}

// Send posts the article as a status. Its errors are *syndicate.SendError:
// 429 and 5xx are retryable (after X-RateLimit-Reset or Retry-After), other
// answers permanent, and a lost answer is retryable when the post carries
// an idempotency key (Mastodon then returns the first status instead of
// making a second one), uncertain otherwise.
// errNoToken refuses an API call of a channel built without a token.
var errNoToken = errors.New("mastodon: no access_token configured")

func (c *Channel) Send(ctx context.Context, post syndicate.Post) (syndicate.Receipt, error) {
	if c.cfg.AccessToken == "" {
		return syndicate.Receipt{}, channels.Permanent(errNoToken)
	}
	lim, err := c.Limits(ctx)
	if err != nil {
		return syndicate.Receipt{}, err
	}
	r, err := c.renderer.render(post.Article, lim)
	if err != nil {
		return syndicate.Receipt{}, channels.Permanent(fmt.Errorf("mastodon: rendering the post: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var tracker channels.WriteTracker
	ctx = tracker.Track(withIdempotencyKey(ctx, post.IdempotencyKey))
	idempotent := post.IdempotencyKey != ""
	st, err := c.client.PostStatus(ctx, &mastodon.Toot{
		Status:     r.Text,
		Visibility: c.cfg.Visibility,
		Language:   language(post.Article.Language),
	})
	if err != nil {
		return syndicate.Receipt{}, c.sendError("posting the status", err, tracker.Written(), idempotent)
	}
	if st.ID == "" {
		return syndicate.Receipt{}, channels.TransportError(errors.New("mastodon: posting the status: the answer has no status id"), true, idempotent)
	}
	return syndicate.Receipt{RemoteID: string(st.ID), URL: st.URL}, nil
}

// Check verifies the credentials and reads the instance's limits, for
// `syndicate check --online`.
func (c *Channel) Check(ctx context.Context) (string, error) {
	if c.cfg.AccessToken == "" {
		return "", errNoToken
	}
	acct, err := c.verifyCredentials(ctx)
	if err != nil {
		return "", err
	}
	lim, err := c.Limits(ctx)
	if err != nil {
		return "", err
	}
	host := c.cfg.Server
	if u, err := url.Parse(c.cfg.Server); err == nil {
		host = u.Host
	}
	return fmt.Sprintf("authenticated as @%s on %s (limit %d characters)", acct.Acct, host, lim.MaxCharacters), nil
}

// resolveWindow is how many of the account's latest statuses Resolve reads.
const resolveWindow = 40

// Resolve looks for the article among the account's latest statuses, after
// a send was interrupted: a status created at or after since (less a
// minute, for clock skew) that links to the article.
func (c *Channel) Resolve(ctx context.Context, post syndicate.Post, since time.Time) (syndicate.Receipt, bool, error) {
	if c.cfg.AccessToken == "" {
		return syndicate.Receipt{}, false, errNoToken
	}
	link := strings.TrimSpace(post.Article.Link)
	if link == "" {
		return syndicate.Receipt{}, false, channels.Permanent(errors.New("mastodon: the article has no link to look for among the statuses"))
	}
	id, err := c.ownAccountID(ctx)
	if err != nil {
		return syndicate.Receipt{}, false, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	statuses, err := c.client.GetAccountStatusesParams(ctx, id, url.Values{"exclude_reblogs": {"true"}}, &mastodon.Pagination{Limit: resolveWindow})
	if err != nil {
		return syndicate.Receipt{}, false, c.sendError("listing the account's statuses", err, false, true)
	}
	after := since.Add(-time.Minute)
	for _, st := range statuses {
		if st.Reblog == nil && !st.CreatedAt.Before(after) && linksTo(st.Content, link) {
			return syndicate.Receipt{RemoteID: string(st.ID), URL: st.URL}, true, nil
		}
	}
	return syndicate.Receipt{}, false, nil
}

func (c *Channel) verifyCredentials(ctx context.Context) (*mastodon.Account, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	acct, err := c.client.GetAccountCurrentUser(ctx)
	if err != nil {
		return nil, c.sendError("verifying the credentials", err, false, true)
	}
	c.mu.Lock()
	c.accountID = acct.ID
	c.mu.Unlock()
	return acct, nil
}

func (c *Channel) ownAccountID(ctx context.Context) (mastodon.ID, error) {
	c.mu.Lock()
	id := c.accountID
	c.mu.Unlock()
	if id != "" {
		return id, nil
	}
	acct, err := c.verifyCredentials(ctx)
	if err != nil {
		return "", err
	}
	return acct.ID, nil
}

// sendError classifies an error of go-mastodon or of the transport, naming
// what was being done. The access token never reaches the text.
func (c *Channel) sendError(doing string, err error, written, idempotent bool) error {
	var (
		sendErr  *syndicate.SendError
		answer   *responseError
		apiError *mastodon.APIError
	)
	switch {
	case errors.As(err, &sendErr):
		return sendErr
	case errors.As(err, &answer):
		e := fmt.Errorf("mastodon: %s: %s", doing, channels.Redact(answer.Error(), c.cfg.AccessToken))
		if answer.Status < 400 {
			return channels.Permanent(e)
		}
		return channels.StatusError(answer.Status, answer.RetryAfter, e)
	case errors.As(err, &apiError):
		msg := apiError.Message
		if msg == "" {
			msg = http.StatusText(apiError.StatusCode)
		}
		e := fmt.Errorf("mastodon: %s: %d %s", doing, apiError.StatusCode, channels.Redact(msg, c.cfg.AccessToken))
		return channels.StatusError(apiError.StatusCode, time.Time{}, e)
	default:
		e := fmt.Errorf("mastodon: %s: %w", doing, channels.RedactError(err, c.cfg.AccessToken))
		return channels.TransportError(e, written, idempotent)
	}
}

// language reduces a language tag to the ISO 639 code Mastodon expects
// ("en-US" → "en").
func language(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return tag
}

var (
	hrefAttr = regexp.MustCompile(`href="([^"]*)"`)
	htmlTag  = regexp.MustCompile(`<[^>]*>`)
	htmlGap  = regexp.MustCompile(`(?i)<br\s*/?>|</p>`)
)

// linksTo reports whether a status's HTML content links to link, by an
// <a href> or as a word of its text (Mastodon splits a displayed URL into
// spans).
func linksTo(content, link string) bool {
	for _, m := range hrefAttr.FindAllStringSubmatch(content, -1) {
		if html.UnescapeString(m[1]) == link {
			return true
		}
	}
	text := html.UnescapeString(htmlTag.ReplaceAllString(htmlGap.ReplaceAllString(content, " "), ""))
	for _, word := range strings.Fields(text) {
		if word == link {
			return true
		}
	}
	return false
}
