package feed

import (
	"net/url"
	"strings"
)

// CanonicalLink returns raw as the link that identifies an article: resolved
// against base, scheme and host in lower case, default port, fragment and
// utm_* query parameters removed (the other parameters keep their order and
// spelling). It returns "" when raw is empty or is not an http(s) URL.
func CanonicalLink(raw, base string) string {
	u := resolveHTTPURL(raw, base)
	if u == nil {
		return ""
	}
	u.Host = strings.ToLower(u.Host)
	u.Host = strings.TrimSuffix(u.Host, defaultPort(u.Scheme))
	u.Fragment, u.RawFragment = "", ""
	u.RawQuery = withoutTrackingParams(u.RawQuery)
	u.ForceQuery = false
	if u.Path == "" && u.RawPath == "" {
		u.Path = "/"
	}
	return u.String()
}

// resolveURL returns raw resolved against base when it is an absolute
// http(s) URL afterwards, else "". Unlike CanonicalLink it keeps the URL as
// written, for images whose query may be significant.
func resolveURL(raw, base string) string {
	u := resolveHTTPURL(raw, base)
	if u == nil {
		return ""
	}
	return u.String()
}

func resolveHTTPURL(raw, base string) *url.URL {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil
	}
	ref, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	if b, err := url.Parse(strings.TrimSpace(base)); err == nil && b.IsAbs() {
		ref = b.ResolveReference(ref)
	}
	ref.Scheme = strings.ToLower(ref.Scheme)
	if (ref.Scheme != "http" && ref.Scheme != "https") || ref.Host == "" {
		return nil
	}
	return ref
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return ":443"
	}
	return ":80"
}

// withoutTrackingParams drops utm_* parameters from a raw query without
// decoding and re-encoding the others (url.Values would reorder them).
func withoutTrackingParams(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	var kept []string
	for _, param := range strings.Split(rawQuery, "&") {
		if param == "" || isTrackingParam(param) {
			continue
		}
		kept = append(kept, param)
	}
	return strings.Join(kept, "&")
}

func isTrackingParam(param string) bool {
	name, _, _ := strings.Cut(param, "=")
	if unescaped, err := url.QueryUnescape(name); err == nil {
		name = unescaped
	}
	return strings.HasPrefix(strings.ToLower(name), "utm_")
}
