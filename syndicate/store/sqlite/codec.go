package sqlite

import (
	"encoding/json"
	"strings"
	"time"
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
