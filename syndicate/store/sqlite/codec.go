package sqlite

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// dbTime encodes t as microseconds since the Unix epoch. The zero time
// becomes its own value (year 1), the smallest a feed can give.
func dbTime(t time.Time) int64 { return t.UnixMicro() }

// goTime decodes dbTime, in UTC; the zero time comes back as time.Time{}.
func goTime(us int64) time.Time {
	t := time.UnixMicro(us).UTC()
	if t.IsZero() {
		return time.Time{}
	}
	return t
}

func encodeCategories(c []string) (string, error) {
	if len(c) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(c)
	return string(b), err
}

func decodeCategories(s string) ([]string, error) {
	var c []string
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return nil, err
	}
	if len(c) == 0 {
		return nil, nil
	}
	return c, nil
}

// link is the JSON form of a syndicate.Link in articles.related. The
// conversion from syndicate.Link stops compiling if Link gains a field.
type link struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

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
	if s == "[]" {
		return nil, nil // most articles: no need for the decoder
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

// placeholders returns "?, ?, ?" for n parameters.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// maxInList bounds the parameters of one IN (...) list, well under SQLite's
// limit on host parameters.
const maxInList = 500

// chunks splits s into slices of at most maxInList elements.
func chunks(s []string) [][]string {
	var out [][]string
	for len(s) > maxInList {
		out = append(out, s[:maxInList])
		s = s[maxInList:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}
