package feed

import (
	"encoding/json"
	"net/http"
	"strings"
)

// linkHeaderHubSelf returns the first hub and the first self URL of the
// answer's Link headers (RFC 8288: `Link: <https://hub.example/>;
// rel="hub", </feed>; rel="self"`), resolved against base; "" for each one
// missing.
func linkHeaderHubSelf(h http.Header, base string) (hub, self string) {
	for _, value := range h.Values("Link") {
		for _, l := range parseLinkHeader(value) {
			for _, rel := range strings.Fields(strings.ToLower(l.rel)) {
				switch {
				case rel == "hub" && hub == "":
					hub = resolveURL(l.target, base)
				case rel == "self" && self == "":
					self = resolveURL(l.target, base)
				}
			}
		}
	}
	return hub, self
}

type headerLink struct {
	target, rel string
}

// parseLinkHeader reads the links of one Link header value. It skips what
// it cannot read rather than failing: the header is advisory.
func parseLinkHeader(value string) []headerLink {
	var links []headerLink
	s := value
	for {
		start := strings.IndexByte(s, '<')
		if start < 0 {
			return links
		}
		end := strings.IndexByte(s[start:], '>')
		if end < 0 {
			return links
		}
		l := headerLink{target: strings.TrimSpace(s[start+1 : start+end])}
		s = s[start+end+1:]
		// Parameters run to the next comma outside a quoted string.
		params, rest := splitParams(s)
		for _, p := range params {
			name, val, ok := strings.Cut(p, "=")
			if ok && strings.EqualFold(strings.TrimSpace(name), "rel") && l.rel == "" {
				l.rel = strings.Trim(strings.TrimSpace(val), `"`)
			}
		}
		links = append(links, l)
		s = rest
	}
}

// splitParams splits the ";"-separated parameters at the start of s up to
// the "," that ends the link, and returns them with what follows it.
func splitParams(s string) (params []string, rest string) {
	inQuote := false
	last := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			inQuote = !inQuote
		case c == '\\' && inQuote:
			i++
		case c == ';' && !inQuote:
			params = append(params, s[last:i])
			last = i + 1
		case c == ',' && !inQuote:
			return append(params, s[last:i]), s[i+1:]
		}
	}
	return append(params, s[last:]), ""
}

// jsonHubSelf reads the WebSub hub (the first of "hubs" whose type is
// WebSub, or has none) and the feed_url of a JSON Feed, resolved against
// base.
func jsonHubSelf(doc []byte, base string) (hub, self string) {
	var f struct {
		FeedURL string `json:"feed_url"`
		Hubs    []struct {
			Type string `json:"type"`
			URL  string `json:"url"`
		} `json:"hubs"`
	}
	if json.Unmarshal(doc, &f) != nil {
		return "", ""
	}
	for _, h := range f.Hubs {
		t := strings.ToLower(strings.TrimSpace(h.Type))
		if t == "websub" || t == "pubsubhubbub" || t == "" {
			if hub = resolveURL(h.URL, base); hub != "" {
				break
			}
		}
	}
	return hub, resolveURL(f.FeedURL, base)
}
