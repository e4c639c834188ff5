package tghtml

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

// CheckLink returns the URL a link to link points to once Telegram has
// checked it (tdlib's LinkManager::check_link), or Telegram's reason to
// refuse it: a text link is then dropped, its text kept, and an inline
// button refused.
//
// Telegram keeps:
//   - an http or https URL, or one without a scheme (it becomes http), whose
//     host has a dot or is an IPv6 address in brackets: so not "localhost"
//     nor any other single-label host; the host is lowercased, a path "/"
//     added when there is none, characters up to the space and control
//     characters in the path, query and fragment percent-encoded, trailing
//     white space dropped;
//   - a tg:, ton: or tonsite: link to a host of letters, digits, "-" and "_"
//     (and "." for tonsite), without user, port or https.
//
// The host may hold letters, digits, "-._~!$&'()*+,;=", percent-encoded
// bytes and any non-ASCII character; the user name the same and ":".
func CheckLink(link string) (string, error) {
	scheme := ""
	for _, s := range []string{"tg", "ton", "tonsite"} {
		if hasPrefixFold(link, s+":") {
			scheme, link = s, link[len(s)+1:]
			break
		}
	}
	if scheme != "" {
		link = strings.TrimPrefix(link, "//")
	}
	u, err := parseURL(link)
	if err != nil {
		return "", err
	}
	if scheme != "" {
		if hasPrefixFold(link, "http://") || u.https || u.userinfo != "" || u.specifiedPort != 0 || u.ipv6 {
			if scheme == "tg" {
				return "", errors.New("Wrong tg URL")
			}
			return "", errors.New("Wrong ton URL")
		}
		query := u.query
		if len(query) > 1 && query[1] == '?' {
			query = query[1:]
		}
		for i := 0; i < len(u.host); i++ {
			if c := u.host[i]; !isAlnum(c) && c != '-' && c != '_' && !(scheme == "tonsite" && c == '.') {
				return "", errors.New("Unallowed characters in URL host")
			}
		}
		return scheme + "://" + u.host + query, nil
	}
	if !strings.Contains(u.host, ".") && !u.ipv6 {
		return "", errors.New("Wrong HTTP URL")
	}
	return u.String(), nil
}

// httpURL is a URL as tdlib's parse_url reads it.
type httpURL struct {
	https         bool
	userinfo      string
	host          string // lowercased
	ipv6          bool
	specifiedPort int
	query         string // path, query and fragment; begins with "/"
}

func (u httpURL) String() string {
	var b strings.Builder
	if u.https {
		b.WriteString("https://")
	} else {
		b.WriteString("http://")
	}
	if u.userinfo != "" {
		b.WriteString(u.userinfo + "@")
	}
	b.WriteString(u.host)
	if u.specifiedPort > 0 {
		b.WriteString(":" + strconv.Itoa(u.specifiedPort))
	}
	b.WriteString(u.query)
	return b.String()
}

// parseURL reads [http[s]://][userinfo@]host[:port][/path…] as tdlib's
// parse_url does, http when no scheme is given.
func parseURL(url string) (httpURL, error) {
	var u httpURL
	rest := url
	if i := strings.IndexAny(url, ":/?#@[]"); i >= 0 && strings.HasPrefix(url[i:], "://") {
		switch lower(url[:i]) {
		case "http":
		case "https":
			u.https = true
		default:
			return u, errors.New("Unsupported URL protocol")
		}
		rest = url[i+3:]
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	hostPort, query := rest[:end], rest[end:]

	// A port follows the last ':' that comes after any ']' or '@', and is
	// not the first character.
	userHost := hostPort
	port := 0
	if i := strings.LastIndexAny(hostPort, ":]@"); i > 0 && hostPort[i] == ':' {
		digits := hostPort[i+1:]
		for len(digits) > 1 && digits[0] == '0' {
			digits = digits[1:]
		}
		n, err := strconv.ParseInt(digits, 10, 32)
		if err != nil || n == 0 || strconv.FormatInt(n, 10) != digits {
			port = -1
		} else {
			port = int(n)
		}
		userHost = hostPort[:i]
	}
	if port < 0 || port > 65535 {
		return u, errors.New("Wrong port number specified in the URL")
	}
	host := userHost
	if at := strings.LastIndexByte(userHost, '@'); at >= 0 {
		u.userinfo, host = userHost[:at], userHost[at+1:]
	}
	if host != "" && host[0] == '[' && host[len(host)-1] == ']' {
		if !isIPv6(host) {
			return u, errors.New("Wrong IPv6 address specified in the URL")
		}
		u.ipv6 = true
	}
	if host == "" {
		return u, errors.New("URL host is empty")
	}
	if host == "." {
		return u, errors.New("Host is invalid")
	}
	u.specifiedPort = port

	for query != "" && isSpace(query[len(query)-1]) {
		query = query[:len(query)-1]
	}
	if query == "" {
		query = "/"
	}
	var q strings.Builder
	if query[0] != '/' {
		q.WriteByte('/')
	}
	for i := 0; i < len(query); i++ {
		if c := query[i]; c <= 0x20 {
			q.WriteByte('%')
			q.WriteByte("0123456789ABCDEF"[c/16])
			q.WriteByte("0123456789ABCDEF"[c%16])
		} else {
			q.WriteByte(c)
		}
	}
	u.query = q.String()

	u.host = lower(host)
	if u.ipv6 {
		for i := 1; i+1 < len(u.host); i++ {
			if c := u.host[i]; c != ':' && c != '.' && !isDigit(c) && (c < 'a' || c > 'f') {
				return u, errors.New("Wrong IPv6 URL host")
			}
		}
	} else {
		if err := urlPart(u.host, "host", false); err != nil {
			return u, err
		}
		if err := urlPart(u.userinfo, "userinfo", true); err != nil {
			return u, err
		}
	}
	return u, nil
}

// isIPv6 reports whether "[addr]" holds an IPv6 address inet_pton accepts.
func isIPv6(bracketed string) bool {
	if len(bracketed) <= 2 || strings.Contains(bracketed, "%") {
		return false
	}
	a, err := netip.ParseAddr(bracketed[1 : len(bracketed)-1])
	return err == nil && a.Is6()
}

// urlPart checks that a host (or, with colon, a user name) holds only what
// RFC 3986 allows there, percent-encoded bytes, and non-ASCII bytes.
func urlPart(s, name string, colon bool) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlnum(c) || strings.IndexByte(".-_!$,~*'();&+=", c) >= 0 || colon && c == ':':
		case c == '%':
			if i+2 >= len(s) || !isHexDigit(s[i+1]) || !isHexDigit(s[i+2]) {
				return errors.New("Wrong percent-encoded symbol in URL " + name)
			}
			i += 2
		case c >= 0x80:
		default:
			return errors.New("Disallowed character in URL " + name)
		}
	}
	return nil
}

// linkUserID returns the user a tg://user?id=N link names (tdlib's
// LinkManager::get_link_user_id), when it is a valid one.
func linkUserID(url string) (int64, bool) {
	url = lower(url)
	rest, ok := strings.CutPrefix(url, "tg:")
	if !ok {
		return 0, false
	}
	rest = strings.TrimPrefix(rest, "//")
	rest, ok = strings.CutPrefix(rest, "user")
	if !ok || rest != "" && strings.IndexByte("/?#", rest[0]) < 0 {
		return 0, false
	}
	rest = strings.TrimPrefix(rest, "/")
	if rest, ok = strings.CutPrefix(rest, "?"); !ok {
		return 0, false
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	if rest == "" {
		return 0, false
	}
	for _, param := range strings.Split(rest, "&") {
		key, value, _ := strings.Cut(param, "=")
		if key != "id" {
			continue
		}
		id, err := strconv.ParseInt(value, 10, 64)
		if err != nil || strconv.FormatInt(id, 10) != value || id <= 0 || id > 1<<40-1 {
			return 0, false
		}
		return id, true
	}
	return 0, false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && lower(s[:len(prefix)]) == prefix
}
