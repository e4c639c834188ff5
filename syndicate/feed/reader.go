// Package feed reads feeds over HTTP (conditional GET, size cap, total
// timeout, redirects, Retry-After, WebSub Link headers), parses them with
// gofeed and normalises their items into syndicate.Article values with a
// stable dedupe key.
//
// Around gofeed it mends what real feeds do to it: encodings it cannot
// read (UTF-16 and UTF-32, a charset given only by HTTP, undeclared legacy
// bytes, C1 controls meant as Windows-1252), documents cut short (the
// complete items are kept), entities declared in a DOCTYPE (expanded, with
// bombs refused and external ones never fetched), xml:base and relative
// URLs, HTML that is not safe to pass on (sanitised once, here), images
// from Media RSS groups and thumbnails, dates in broken or localised
// forms, "Read also" links mixed into the text, and content in the forms
// gofeed does not read (RSS xhtml:body and <fullitem>, Atom xhtml written
// with a prefix, base64).
//
// The work per document is bounded whatever its shape: at most MaxItems
// items are read (the newest), nesting deeper than feeds need is refused
// before any tree is built, an item's text and elements past their
// budgets are left out before gofeed sees them, and the fetch's deadline
// holds while parsing.
package feed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/netguard"
)

const (
	// DefaultMaxBytes caps a feed body (after gzip is inflated).
	DefaultMaxBytes int64 = 10 << 20
	// DefaultTimeout bounds a whole fetch, body included.
	DefaultTimeout = 30 * time.Second

	maxRedirects     = 5
	defaultUserAgent = "syndicate (+https://github.com/syndicate-daemon/syndicate)"
	acceptFeeds      = "application/rss+xml, application/atom+xml, application/feed+json, application/json, " +
		"application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)

// Options configures a Reader. Zero fields take the documented defaults.
type Options struct {
	// Client sends the requests; nil means a client with dial and TLS
	// handshake timeouts. Unless it has its own CheckRedirect, at most 5
	// redirects are followed.
	Client *http.Client
	// UserAgent should be "syndicate/VERSION (+https://…)"; a generic one is
	// sent when empty.
	UserAgent string
	// MaxBytes caps the body, counted after gzip is inflated (default 10 MiB).
	MaxBytes int64
	// Timeout bounds the whole fetch, from dial to the last byte of the body
	// (default 30 s).
	Timeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Guard, when set, checks every connection of the default client (it
	// is not applied to Client): a redirect away from the feed's origin to
	// an address inside the network is refused. Nil allows everything.
	Guard *netguard.Guard
	// MaxItems is how many items of a document are read at most (default
	// DefaultMaxItems, 500): of a document with more, the newest by date
	// (else the first in document order); the others are skipped with a
	// warning (FetchResult.Warnings).
	MaxItems int
}

// Limits override the Reader's timeout, size cap and items read for one
// read; zero fields keep the Reader's.
type Limits struct {
	Timeout  time.Duration
	MaxBytes int64
	MaxItems int
}

// Reader fetches, parses and normalises feeds. It is safe for concurrent use.
type Reader struct {
	client    *http.Client
	userAgent string
	limits    Limits
	now       func() time.Time
}

var _ syndicate.FeedReader = (*Reader)(nil)

// New returns a Reader configured by opt.
func New(opt Options) *Reader {
	r := &Reader{
		client:    opt.Client,
		userAgent: opt.UserAgent,
		limits: Limits{Timeout: DefaultTimeout, MaxBytes: DefaultMaxBytes, MaxItems: DefaultMaxItems}.override(
			Limits{Timeout: opt.Timeout, MaxBytes: opt.MaxBytes, MaxItems: opt.MaxItems}),
		now: opt.Now,
	}
	if r.client == nil {
		r.client = defaultClient(opt.Guard)
	}
	if r.client.CheckRedirect == nil {
		c := *r.client
		c.CheckRedirect = limitRedirects
		r.client = &c
	}
	if r.userAgent == "" {
		r.userAgent = defaultUserAgent
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

func (l Limits) override(with Limits) Limits {
	if with.Timeout > 0 {
		l.Timeout = with.Timeout
	}
	if with.MaxBytes > 0 {
		l.MaxBytes = with.MaxBytes
	}
	if with.MaxItems > 0 {
		l.MaxItems = with.MaxItems
	}
	return l
}

// maxIdleConnsPerHost is how many connections to one host are kept for
// the next polls.
const maxIdleConnsPerHost = 16

func defaultClient(guard *netguard.Guard) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: guard.Transport(&http.Transport{
		Proxy:             http.ProxyFromEnvironment,
		DialContext:       dialer.DialContext,
		ForceAttemptHTTP2: true,
		MaxIdleConns:      100,
		// Many feeds of one site (a network of blogs, a multisite) are
		// polled side by side: net/http's default of 2 kept connections
		// a host made every further poll dial again.
		MaxIdleConnsPerHost:    maxIdleConnsPerHost,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 1 << 20,
	}, dialer)}
}

func limitRedirects(_ *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	return nil
}

// Read fetches the feed with the Reader's limits.
func (r *Reader) Read(ctx context.Context, src syndicate.FeedSource, v syndicate.Validators) (syndicate.FetchResult, error) {
	return r.ReadWith(ctx, src, v, Limits{})
}

// ReadWith fetches the feed src with a conditional GET (v), and parses and
// normalises it (see Parse and Normalise) unless the server answers 304
// Not Modified. Errors name the feed URL; answers that say when to come
// back (429, 503) or that the feed is gone (410), and any other non-2xx
// status, are *syndicate.FetchError.
//
// The result also says where permanent redirects led (PermanentURL, only
// when every redirect followed was a 301 or 308), the WebSub hub and topic
// (from the answer's Link headers, else the document), and whether the
// document was cut short (Truncated: the articles are its complete items,
// and the caller should log it).
func (r *Reader) ReadWith(ctx context.Context, src syndicate.FeedSource, v syndicate.Validators, lim Limits) (syndicate.FetchResult, error) {
	lim = r.limits.override(lim)
	fetchCtx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	if IsFileURL(src.URL) {
		return r.readFile(ctx, fetchCtx, src, v, lim)
	}

	resp, err := r.get(fetchCtx, src.URL, v)
	if err != nil {
		return syndicate.FetchResult{}, networkError(ctx, src.URL, lim.Timeout, err)
	}
	// Closed unread on errors: draining a slow server would outlast the refusal.
	defer resp.Body.Close()

	docURL := withoutUserinfo(resp.Request.URL.String())
	hub, self := linkHeaderHubSelf(resp.Header, docURL)
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return syndicate.FetchResult{
			NotModified:  true,
			Validators:   validators(resp.Header, v),
			PermanentURL: permanentURL(resp),
			Hub:          hub,
			Self:         self,
		}, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return syndicate.FetchResult{}, statusError(src.URL, resp, r.now())
	}

	body, err := readCapped(resp, lim.MaxBytes)
	if err != nil {
		return syndicate.FetchResult{}, networkError(ctx, src.URL, lim.Timeout, err)
	}
	n, doc, err := r.parse(fetchCtx, body, resp.Header.Get("Content-Type"), docURL, src, lim)
	if err != nil {
		return syndicate.FetchResult{}, parseError(ctx, "fetch "+redactURL(src.URL), lim.Timeout, err)
	}
	return syndicate.FetchResult{
		Validators:   validators(resp.Header, syndicate.Validators{}),
		Articles:     n.Articles,
		PermanentURL: permanentURL(resp),
		Hub:          firstNonEmpty(hub, doc.Hub),
		Self:         firstNonEmpty(self, doc.Self),
		Truncated:    doc.Truncated,
		Warnings:     n.Warnings,
	}, nil
}

// parse reads and normalises a fetched document within ctx, at most
// lim.MaxItems of its items.
func (r *Reader) parse(ctx context.Context, body []byte, contentType, docURL string, src syndicate.FeedSource, lim Limits) (Normalised, *Document, error) {
	doc, err := ParseContext(ctx, body, contentType, docURL, ParseOptions{MaxItems: lim.MaxItems})
	if err != nil {
		return Normalised{}, nil, err
	}
	n, err := normaliseDocument(ctx, src.ID, doc, src.Language, r.now(), true)
	if err != nil {
		return Normalised{}, nil, err
	}
	return n, doc, nil
}

// parseError wraps a failure to read a document with what was being read
// (prefix), saying so when it is the fetch's deadline that stopped it
// (parent is the caller's context, whose cancellation is reported as
// such).
func parseError(parent context.Context, prefix string, timeout time.Duration, err error) error {
	if parent.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: not read within %s, the fetch's deadline: %w", prefix, timeout, err)
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// permanentURL returns the final URL when the request was redirected and
// every redirect was permanent (301, 308), else "".
func permanentURL(resp *http.Response) string {
	req := resp.Request
	if req.Response == nil {
		return ""
	}
	for r := req; r != nil && r.Response != nil; r = r.Response.Request {
		switch r.Response.StatusCode {
		case http.StatusMovedPermanently, http.StatusPermanentRedirect:
		default:
			return ""
		}
	}
	return req.URL.String()
}

func (r *Reader) get(ctx context.Context, rawURL string, v syndicate.Validators) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", r.userAgent)
	req.Header.Set("Accept", acceptFeeds)
	if v.ETag != "" {
		req.Header.Set("If-None-Match", v.ETag)
	}
	if v.LastModified != "" {
		req.Header.Set("If-Modified-Since", v.LastModified)
	}
	return r.client.Do(req)
}

// validators returns those of the answer, each defaulting to the one in
// previous (a 304 need not repeat them).
func validators(h http.Header, previous syndicate.Validators) syndicate.Validators {
	return syndicate.Validators{
		ETag:         firstNonEmpty(h.Get("ETag"), previous.ETag),
		LastModified: firstNonEmpty(h.Get("Last-Modified"), previous.LastModified),
	}
}

// readAll reads at most limit+1 bytes of r, into a buffer of the size
// announced (size, when known and within the limit), so that a large body
// is not copied over and over as the buffer grows.
func readAll(r io.Reader, size, limit int64) ([]byte, error) {
	if size < 0 || size > limit {
		return io.ReadAll(io.LimitReader(r, limit+1))
	}
	r = io.LimitReader(r, limit+1)
	buf := make([]byte, 0, size+1) // one more, to see the end (or a body longer than said)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// readCapped reads the body, refusing it as soon as it is known to be over
// limit: from Content-Length before reading, else after limit+1 bytes.
func readCapped(resp *http.Response, limit int64) ([]byte, error) {
	if resp.ContentLength > limit {
		return nil, &TooLargeError{Limit: limit}
	}
	body, err := readAll(resp.Body, resp.ContentLength, limit)
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, &TooLargeError{Limit: limit}
	}
	return body, nil
}
