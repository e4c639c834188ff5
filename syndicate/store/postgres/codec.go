package postgres

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// goTime normalises a time read from the database: in UTC, and the zero
// time (stored as 0001-01-01 00:00:00 UTC) back as time.Time{}. Times are
// written as they are: pgx sends microseconds, truncating, as
// time.Time.UnixMicro does for the SQLite store.
func goTime(t time.Time) time.Time {
	t = t.UTC()
	if t.IsZero() {
		return time.Time{}
	}
	return t
}

// categories returns c for a text[] column: never nil, which pgx would
// send as NULL.
func categories(c []string) []string {
	if c == nil {
		return []string{}
	}
	return c
}

// link is the JSON form of a syndicate.Link in articles.related. The
// conversion from syndicate.Link stops compiling if Link gains a field.
type link struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// encodeRelated returns the JSON text of r; pgx sends a string to a
// jsonb parameter as JSON text.
func encodeRelated(r []syndicate.Link) (string, error) {
	if len(r) == 0 {
		return "[]", nil
	}
	ls := make([]link, len(r))
	for i, l := range r {
		ls[i] = link(l)
	}
	b, err := json.Marshal(ls)
	return string(b), err
}

func decodeRelated(s string) ([]syndicate.Link, error) {
	if s == "[]" || s == "" {
		return nil, nil
	}
	var ls []link
	if err := json.Unmarshal([]byte(s), &ls); err != nil {
		return nil, err
	}
	if len(ls) == 0 {
		return nil, nil
	}
	r := make([]syndicate.Link, len(ls))
	for i, l := range ls {
		r[i] = syndicate.Link(l)
	}
	return r, nil
}

// redact returns the connection URL without its password, for errors.
// A keyword/value connection string is not shown at all.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "(connection string)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// hasParam reports whether the connection string sets name, as a URL
// query parameter or a keyword.
func hasParam(raw, name string) bool {
	if u, err := url.Parse(raw); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		return u.Query().Has(name)
	}
	for _, f := range strings.Fields(raw) {
		if k, _, ok := strings.Cut(f, "="); ok && strings.TrimSpace(k) == name {
			return true
		}
	}
	return false
}
