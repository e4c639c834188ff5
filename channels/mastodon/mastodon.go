// Package mastodon posts articles to a Mastodon account through
// github.com/mattn/go-mastodon, working around its gaps thinly: an
// Idempotency-Key header on every status post and 429s returned at once
// (a RoundTripper under its client), and its own requests where it falls
// short: /api/v2/instance for the limits, GET /api/v1/media/:id (whose 206
// it takes for an error) and PUT /api/v1/statuses/:id (where it cannot
// clear a content warning). It reads the server's software from its
// instance document or nodeinfo and counts a status as that software does
// (Mastodon, GoToSocial, Pleroma, Akkoma), and fits a status again, once,
// when the server refuses it as too long. Calls are paced by what the
// server says is left of the account's rate limits (its X-RateLimit
// headers and 429s); featured images are uploaded once per delivery and
// attached.
package mastodon

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// Channel is a Mastodon account. It is safe for concurrent use.
type Channel struct {
	cfg        Config
	client     *mastodon.Client
	images     channels.ImageFetcher // fetches featured images, without credentials
	renderer   *renderer
	pacer      *pacer // shared by the channels of one account
	mediaCache mediaCache

	mu        sync.Mutex
	limits    Limits    // the instance's, without Config.MaxCharacters
	limitsAt  time.Time // zero until the instance's limits are fetched
	learned   *learned  // what a refusal taught of the server's counting; nil for nothing
	accountID mastodon.ID
}

var (
	_ syndicate.Channel  = (*Channel)(nil)
	_ syndicate.Resolver = (*Channel)(nil)
	_ syndicate.Editor   = (*Channel)(nil)
)

// New checks cfg and parses the template. It makes no network call.
func New(cfg Config) (*Channel, error) {
	cfg = cfg.withDefaults()
	r, err := newRenderer(cfg.ID, cfg)
	if err != nil {
		return nil, fmt.Errorf("mastodon channel %q: template: %w", cfg.ID, err)
	}
	client := mastodon.NewClient(&mastodon.Config{Server: cfg.Server, AccessToken: cfg.AccessToken.Value()})
	client.Client = http.Client{Transport: &transport{base: cfg.Transport, now: cfg.Now}}
	client.UserAgent = cfg.UserAgent
	c := &Channel{cfg: cfg, client: client, images: channels.ImageFetcher{Client: &http.Client{Transport: cfg.ImageTransport}, UserAgent: cfg.UserAgent}, renderer: r}
	for _, peer := range cfg.Peers {
		if peer != nil && peer.cfg.Server == cfg.Server && peer.cfg.AccessToken == cfg.AccessToken && cfg.AccessToken != "" {
			c.pacer = peer.pacer
			break
		}
	}
	if c.pacer == nil {
		c.pacer = newPacer(cfg.RateLimits)
	}
	return c, nil
}

// Render returns the post as Send would post it, fitted to the limits known
// so far (Config.MaxCharacters, else the instance's once Send or Check has
// read them, else 500) as the instance's software counts (Mastodon's way
// until it is known), with its featured image's URL and its length as the
// instance counts it (a content warning included). A content warning is
// shown first, as "CW: …" on a line of its own. It makes no network call.
// When the post cannot be made to fit, or the template fails, the error
// comes with what was rendered.
func (c *Channel) Render(post syndicate.Post) (syndicate.Rendering, error) {
	lim, k := c.fitting(c.cachedLimits())
	st, err := c.renderPost(post, lim, k)
	return st.rendering(), err
}

// errNoToken refuses an API call of a channel built without a token.
var errNoToken = errors.New("mastodon: no access_token configured")

// Send posts the article as a status, with its featured image. Its errors
// are *syndicate.SendError: 429 and 5xx are retryable (after
// X-RateLimit-Reset or Retry-After), other answers permanent, and a lost
// answer is retryable when the post carries an idempotency key (Mastodon
// then returns the first status instead of making a second one), uncertain
// otherwise. A post the server refuses as too long although it was fitted
// is fitted again once, with the counting and the limit the refusal
// implies, and posted with the image already uploaded. A post that goes
// out without its image says why in Receipt.Warning. Send waits for the
// account's rate budgets only briefly (maxPaceWait, and as ctx allows),
// and otherwise returns a retryable error naming the time they allow the
// post, before uploading its image.
func (c *Channel) Send(ctx context.Context, post syndicate.Post) (syndicate.Receipt, *syndicate.SendError) {
	if c.cfg.AccessToken.Value() == "" {
		return syndicate.Receipt{}, channels.Permanent(errNoToken)
	}
	lim, err := c.Limits(ctx)
	if err != nil {
		return syndicate.Receipt{}, channels.BeforeSend(err)
	}
	lim, k := c.fitting(lim)
	st, err := c.renderPost(post, lim, k)
	if err != nil {
		return syndicate.Receipt{}, channels.Permanent(fmt.Errorf("mastodon: rendering the post: %w", err))
	}
	kinds := []int{callStatus}
	if _, uploaded := c.mediaCache.get(post.IdempotencyKey, st.Image, c.cfg.Now()); st.Image != "" && !uploaded {
		kinds = append(kinds, callUpload)
	}
	if err := c.checkPace(ctx, kinds...); err != nil {
		return syndicate.Receipt{}, syndicate.Classified(err)
	}
	ids, warning, err := c.media(ctx, post.IdempotencyKey, st, lim)
	if err != nil {
		return syndicate.Receipt{}, channels.BeforeSend(err)
	}
	lang := channels.LanguageCode(post.Article.Language)
	posted, written, err := c.postStatus(ctx, post.IdempotencyKey, st, ids, lang)
	if r, ok := refusedAsTooLong(err, lim.MaxCharacters); ok {
		if again, k, ok := c.refit(post, lim, k, st, r); ok {
			var w bool
			posted, w, err = c.postStatus(ctx, post.IdempotencyKey, again, ids, lang)
			written = written || w
			if err == nil {
				c.learn(k, again.Limit)
			}
		}
	}
	if err != nil {
		return syndicate.Receipt{}, c.sendError("posting the status", err, written, post.IdempotencyKey != "")
	}
	if posted.ID == "" {
		return syndicate.Receipt{}, channels.TransportError(errors.New("mastodon: posting the status: the answer has no status id"), true, post.IdempotencyKey != "")
	}
	c.mediaCache.drop(post.IdempotencyKey)
	return syndicate.Receipt{RemoteID: string(posted.ID), URL: posted.URL, Warning: warning}, nil
}

// postStatus posts st with the idempotency key, and reports whether the
// request was written.
func (c *Channel) postStatus(ctx context.Context, key string, st status, ids []mastodon.ID, lang string) (*mastodon.Status, bool, error) {
	var tracker channels.WriteTracker
	var posted *mastodon.Status
	err := c.call(ctx, callStatus, func(ctx context.Context) error {
		var err error
		posted, err = c.client.PostStatus(tracker.Track(withIdempotencyKey(ctx, key)), &mastodon.Toot{
			Status:      st.Text,
			SpoilerText: st.Spoiler,
			Sensitive:   st.Spoiler != "",
			MediaIDs:    ids,
			Visibility:  c.cfg.Visibility,
			Language:    lang,
		})
		return err
	})
	return posted, tracker.Written(), err
}

// Edit changes a status already sent to the article as it now renders:
// PUT /api/v1/statuses/:id with the new text and content warning, and the
// media the status has now (fetched first: an edit that does not name
// them removes them). Visibility cannot be edited; the image is not
// replaced. When the status already reads so, nothing is sent. Errors are
// classified as Send's; an edit is safe to repeat, so a lost answer is
// retryable.
func (c *Channel) Edit(ctx context.Context, post syndicate.Post, sent syndicate.Receipt) (syndicate.Receipt, error) {
	if c.cfg.AccessToken.Value() == "" {
		return syndicate.Receipt{}, channels.Permanent(errNoToken)
	}
	if sent.RemoteID == "" {
		return syndicate.Receipt{}, channels.Permanent(errors.New("mastodon: editing the status: no status id was recorded for it"))
	}
	lim, err := c.Limits(ctx)
	if err != nil {
		return syndicate.Receipt{}, err
	}
	lim, k := c.fitting(lim)
	st, err := c.renderPost(post, lim, k)
	if err != nil {
		return syndicate.Receipt{}, channels.Permanent(fmt.Errorf("mastodon: rendering the post: %w", err))
	}
	id := mastodon.ID(sent.RemoteID)
	var (
		current *mastodon.Status
		source  *mastodon.Source
	)
	err = c.call(ctx, callRequest, func(ctx context.Context) error {
		var err error
		current, err = c.client.GetStatus(ctx, id)
		return err
	})
	if err == nil {
		err = c.call(ctx, callRequest, func(ctx context.Context) error {
			var err error
			source, err = c.client.GetStatusSource(ctx, id)
			return err
		})
		if refused(err) {
			source, err = nil, nil // a server without /source: edit anyway
		}
	}
	if err != nil {
		return syndicate.Receipt{}, c.sendError("reading the status to edit", err, false, true)
	}
	receipt := syndicate.Receipt{RemoteID: sent.RemoteID, URL: firstNonEmpty(current.URL, sent.URL)}
	if source != nil && source.Text == st.Text && source.SpoilerText == st.Spoiler {
		return receipt, nil
	}
	ids := mediaIDs(current)
	lang := channels.LanguageCode(post.Article.Language)
	edited, err := c.putStatus(ctx, id, st, ids, lang)
	if r, ok := refusedAsTooLong(err, lim.MaxCharacters); ok {
		if again, k, ok := c.refit(post, lim, k, st, r); ok {
			edited, err = c.putStatus(ctx, id, again, ids, lang)
			if err == nil {
				c.learn(k, again.Limit)
			}
		}
	}
	if err != nil {
		return syndicate.Receipt{}, c.sendError("editing the status", err, true, true)
	}
	receipt.URL = firstNonEmpty(edited.URL, receipt.URL)
	return receipt, nil
}

// putStatus edits a status. go-mastodon's UpdateStatus sends no
// spoiler_text when it is empty, which keeps the old one: this sends every
// field the edit sets.
func (c *Channel) putStatus(ctx context.Context, id mastodon.ID, st status, ids []mastodon.ID, lang string) (*mastodon.Status, error) {
	form := url.Values{
		"status":       {st.Text},
		"spoiler_text": {st.Spoiler},
		"sensitive":    {strconv.FormatBool(st.Spoiler != "")},
	}
	if lang != "" {
		form.Set("language", lang)
	}
	for _, m := range ids {
		form.Add("media_ids[]", string(m))
	}
	var edited mastodon.Status
	err := c.call(ctx, callRequest, func(ctx context.Context) error {
		_, err := c.do(ctx, http.MethodPut, "/api/v1/statuses/"+url.PathEscape(string(id)), form, &edited)
		return err
	})
	return &edited, err
}

// Check verifies the credentials and reads the instance's limits, for
// `syndicate check --online`.
func (c *Channel) Check(ctx context.Context) (string, error) {
	if c.cfg.AccessToken.Value() == "" {
		return "", errNoToken
	}
	acct, err := c.verifyCredentials(ctx)
	if err != nil {
		return "", err
	}
	if _, err := c.Limits(ctx); err != nil {
		return "", err
	}
	c.mu.Lock()
	inst := c.limits
	c.mu.Unlock()
	host := c.cfg.Server
	if u, err := url.Parse(c.cfg.Server); err == nil {
		host = u.Host
	}
	software := "software unknown, counted as Mastodon counts"
	if inst.Software != "" {
		software = strings.TrimSpace(softwareName(inst.Software) + " " + inst.Version)
	}
	_, k := c.fitting(inst)
	msg := fmt.Sprintf("authenticated as @%s on %s (%s); limits: %d characters a post, %s, image descriptions %d characters",
		acct.Acct, host, software, inst.MaxCharacters, k.describe(), inst.DescriptionLimit)
	if inst.ImageSizeLimit > 0 {
		msg += fmt.Sprintf(", images up to %d bytes", inst.ImageSizeLimit)
	}
	if c.cfg.MaxCharacters > 0 {
		msg += fmt.Sprintf(" (posts fitted to max_characters: %d)", c.cfg.MaxCharacters)
	}
	return msg, nil
}

// resolveWindow is how many of the account's latest statuses Resolve reads.
const resolveWindow = 40

// Resolve looks for the article among the account's latest statuses, after
// a send was interrupted: a status created at or after since (less a
// minute, for clock skew) that links to the article.
func (c *Channel) Resolve(ctx context.Context, post syndicate.Post, since time.Time) (syndicate.Receipt, bool, error) {
	if c.cfg.AccessToken.Value() == "" {
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
	var statuses []*mastodon.Status
	err = c.call(ctx, callRequest, func(ctx context.Context) error {
		var err error
		statuses, err = c.client.GetAccountStatusesParams(ctx, id, url.Values{"exclude_reblogs": {"true"}}, &mastodon.Pagination{Limit: resolveWindow})
		return err
	})
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
	var acct *mastodon.Account
	err := c.call(ctx, callRequest, func(ctx context.Context) error {
		var err error
		acct, err = c.client.GetAccountCurrentUser(ctx)
		return err
	})
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
func (c *Channel) sendError(doing string, err error, written, idempotent bool) *syndicate.SendError {
	var (
		sendErr  *syndicate.SendError
		answer   *responseError
		apiError *mastodon.APIError
	)
	switch {
	case errors.As(err, &sendErr):
		return sendErr
	case errors.As(err, &answer):
		e := fmt.Errorf("mastodon: %s: %s", doing, channels.Redact(answer.Error(), c.cfg.AccessToken.Value()))
		if answer.Status < 400 {
			return channels.Permanent(e)
		}
		return channels.StatusError(answer.Status, answer.RetryAfter, e)
	case errors.As(err, &apiError):
		msg := apiError.Message
		if msg == "" {
			msg = http.StatusText(apiError.StatusCode)
		}
		e := fmt.Errorf("mastodon: %s: %d %s", doing, apiError.StatusCode, channels.Redact(msg, c.cfg.AccessToken.Value()))
		return channels.StatusError(apiError.StatusCode, time.Time{}, e)
	default:
		e := fmt.Errorf("mastodon: %s: %w", doing, channels.RedactError(err, c.cfg.AccessToken.Value()))
		return channels.TransportError(e, written, idempotent)
	}
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
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
