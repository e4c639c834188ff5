package feed

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// maxRetryAfter bounds a server's Retry-After, so an absurd one neither
// overflows nor silences a feed for ever.
const maxRetryAfter = 365 * 24 * time.Hour

// TooLargeError is returned when a feed is larger than the size cap.
type TooLargeError struct {
	Limit int64 // bytes
}

func (e *TooLargeError) Error() string {
	return "feed is larger than the " + formatSize(e.Limit) + " limit"
}

func formatSize(n int64) string {
	const kib, mib = 1 << 10, 1 << 20
	switch {
	case n >= mib && n%mib == 0:
		return strconv.FormatInt(n/mib, 10) + " MiB"
	case n >= kib && n%kib == 0:
		return strconv.FormatInt(n/kib, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// networkError wraps a failure to get a complete answer with the feed URL,
// saying so when it is the fetch's own deadline that cut it (parent is the
// caller's context, whose cancellation is reported as such).
func networkError(parent context.Context, feedURL string, timeout time.Duration, err error) error {
	feedURL = redactURL(feedURL)
	prefix := "fetch " + feedURL
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		// net/http reports the URL with its password redacted, as here.
		if urlErr.URL != feedURL {
			prefix += " (redirected to " + urlErr.URL + ")"
		}
		err = urlErr.Err
	}
	if parent.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: no complete answer within %s: %w", prefix, timeout, err)
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// statusError describes a non-2xx answer other than 304.
func statusError(feedURL string, resp *http.Response, now time.Time) error {
	feedURL = redactURL(feedURL)
	e := &syndicate.FetchError{Status: resp.StatusCode}
	switch resp.StatusCode {
	case http.StatusGone:
		e.Err = fmt.Errorf("fetch %s: feed is gone (410)", feedURL)
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
		e.Err = fmt.Errorf("fetch %s: server answered %s%s", feedURL, statusText(resp.StatusCode), retryHint(e.RetryAfter))
	default:
		e.Err = fmt.Errorf("fetch %s: server answered %s", feedURL, statusText(resp.StatusCode))
	}
	return e
}

func statusText(code int) string {
	if text := http.StatusText(code); text != "" {
		return strconv.Itoa(code) + " " + text
	}
	return strconv.Itoa(code)
}

func retryHint(at time.Time) string {
	if at.IsZero() {
		return ""
	}
	return "; retry after " + at.UTC().Format(time.RFC3339)
}

// retryAfter reads a Retry-After header: delay seconds or an HTTP date.
// It returns zero when the header is absent or unreadable.
func retryAfter(value string, now time.Time) time.Time {
	value = strings.TrimSpace(value)
	if value == "" {
		return time.Time{}
	}
	if seconds, err := strconv.ParseInt(value, 10, 64); err == nil {
		if seconds < 0 {
			return time.Time{}
		}
		delay := time.Duration(min(seconds, int64(maxRetryAfter/time.Second))) * time.Second
		return now.Add(delay).UTC()
	}
	if t, err := http.ParseTime(value); err == nil {
		return t.UTC()
	}
	return time.Time{}
}

// redactURL is a feed URL fit for a message: a password in it (a private
// feed read with basic auth) shows as "***", as net/http shows it.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); !ok {
		return s
	}
	return strings.Replace(u.String(), u.User.String()+"@", u.User.Username()+":***@", 1)
}

// withoutUserinfo is a document URL fit to resolve public links against:
// the user name and password it was read with are not passed on to the
// articles' links.
func withoutUserinfo(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = nil
	return u.String()
}
