package mastodon

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mattn/go-mastodon"
	"github.com/rivo/uniseg"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// The servers whose counting the channel knows, as Limits.Software names
// them. Any other server is counted as Mastodon counts.
const (
	SoftwareMastodon   = "mastodon"
	SoftwareGoToSocial = "gotosocial"
	SoftwarePleroma    = "pleroma"
	SoftwareAkkoma     = "akkoma"
)

// softwareName is how a server's software is written for people.
func softwareName(sw string) string {
	switch sw {
	case SoftwareMastodon:
		return "Mastodon"
	case SoftwareGoToSocial:
		return "GoToSocial"
	case SoftwarePleroma:
		return "Pleroma"
	case SoftwareAkkoma:
		return "Akkoma"
	}
	return sw
}

// A counting is a way a server counts a status against its limit.
type counting int

const (
	// countMastodon: grapheme clusters of the content warning and the
	// text, every URL as characters_reserved_per_url, a mention
	// @user@domain as @user (internal/length).
	countMastodon counting = iota
	// countCodePoints: GoToSocial's, the code points of the text and of
	// the content warning exactly as sent, whitespace included, every URL
	// and mention at its full length. (It reports 25 characters per URL
	// and does not apply them.)
	countCodePoints
	// countPleroma: Pleroma's and Akkoma's, the grapheme clusters of the
	// trimmed text followed by the content warning, trimmed again, every
	// URL and mention at its full length.
	countPleroma
	// countStrictest: the most of the others, for a server whose refusal
	// none of them explains.
	countStrictest
)

// counter counts as a server does.
type counter struct {
	how    counting
	perURL int // for countMastodon and countStrictest
}

// counterFor is the counting of the software.
func counterFor(software string, perURL int) counter {
	switch software {
	case SoftwareGoToSocial:
		return counter{how: countCodePoints}
	case SoftwarePleroma, SoftwareAkkoma:
		return counter{how: countPleroma}
	}
	return counter{how: countMastodon, perURL: perURL}
}

// status counts a status: its content warning and its text.
func (k counter) status(spoiler, text string) int {
	switch k.how {
	case countCodePoints:
		return utf8.RuneCountInString(text) + utf8.RuneCountInString(spoiler)
	case countPleroma:
		return uniseg.GraphemeClusterCount(strings.TrimSpace(strings.TrimSpace(text) + spoiler))
	case countStrictest:
		return max(countStatus(spoiler, text, k.perURL), utf8.RuneCountInString(text)+utf8.RuneCountInString(spoiler))
	}
	return countStatus(spoiler, text, k.perURL)
}

// text counts a part of a status (a summary, a title) as it counts within
// the status.
func (k counter) text(s string) int {
	switch k.how {
	case countCodePoints:
		return utf8.RuneCountInString(s)
	case countPleroma:
		return uniseg.GraphemeClusterCount(s)
	case countStrictest:
		return max(countChars(s, k.perURL), utf8.RuneCountInString(s))
	}
	return countChars(s, k.perURL)
}

// describe says how it counts, for Check.
func (k counter) describe() string {
	switch k.how {
	case countCodePoints:
		return "counted in code points as sent, URLs and mentions in full"
	case countPleroma:
		return "counted in characters of the trimmed text, URLs and mentions in full"
	case countStrictest:
		return "counted the strictest way (code points, URLs and mentions in full, or URLs as " + strconv.Itoa(k.perURL) + ")"
	}
	return "URLs count " + strconv.Itoa(k.perURL)
}

// compatibleVersion is the version Pleroma, Akkoma and other servers give
// in their instance documents: "2.7.2 (compatible; Pleroma 2.9.1)".
var compatibleVersion = regexp.MustCompile(`\(compatible; ([A-Za-z][\w.-]*)[ /]*([^)]*)\)`)

// identify names the software from an instance document's version and
// source_url, and its own version; "" when they do not say.
func identify(version, sourceURL string) (software, ver string) {
	if m := compatibleVersion.FindStringSubmatch(version); m != nil {
		return strings.ToLower(m[1]), strings.TrimSpace(m[2])
	}
	version = strings.TrimSpace(version)
	src := strings.ToLower(sourceURL)
	switch {
	case strings.Contains(src, "gotosocial"):
		// "0.18.3", or "0.18.3 cb85f65" with the commit.
		if f := strings.Fields(version); len(f) > 0 {
			version = f[0]
		}
		return SoftwareGoToSocial, version
	case strings.Contains(src, "/mastodon"):
		return SoftwareMastodon, version
	}
	return "", version
}

// nodeInfoSchema is the prefix of the rel of nodeinfo 2.x documents.
const nodeInfoSchema = "http://nodeinfo.diaspora.software/ns/schema/2."

// nodeInfo reads the software's name and version from the server's
// nodeinfo (/.well-known/nodeinfo, then the 2.x document it points to, on
// the same server), without the account's credentials. It returns "" when
// there is none or it cannot be read: the instance is then counted as
// Mastodon counts.
func (c *Channel) nodeInfo(ctx context.Context) (software, version string) {
	base, err := url.Parse(c.cfg.Server)
	if err != nil {
		return "", ""
	}
	var links struct {
		Links []struct {
			Rel  string `json:"rel"`
			Href string `json:"href"`
		} `json:"links"`
	}
	if err := c.public(ctx, c.cfg.Server+"/.well-known/nodeinfo", &links); err != nil {
		return "", ""
	}
	href, best := "", ""
	for _, l := range links.Links {
		u, err := url.Parse(l.Href)
		if err != nil || u.Scheme != base.Scheme || u.Host != base.Host || !strings.HasPrefix(l.Rel, nodeInfoSchema) {
			continue // never elsewhere
		}
		if l.Rel > best {
			href, best = l.Href, l.Rel
		}
	}
	if href == "" {
		return "", ""
	}
	var doc struct {
		Software struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"software"`
	}
	if err := c.public(ctx, href, &doc); err != nil {
		return "", ""
	}
	return strings.ToLower(strings.TrimSpace(doc.Software.Name)), strings.TrimSpace(doc.Software.Version)
}

// public GETs a document of the server that needs no credentials.
func (c *Channel) public(ctx context.Context, u string, out any) error {
	return c.call(ctx, callRequest, func(ctx context.Context) error {
		_, err := c.request(ctx, http.MethodGet, u, nil, out, false)
		return err
	})
}

// A lengthRefusal is a server's refusal of a status as over its limit, and
// what it says of how the server counts.
type lengthRefusal struct {
	software string // whose refusal it is; "" when the text does not say
	limit    int    // the limit it names; 0 when it names none
}

var (
	// Mastodon: 422 "Validation failed: Text character limit of 500 exceeded".
	mastodonTooLong = regexp.MustCompile(`(?i)character limit of (\d+) exceeded`)
	// GoToSocial: 400 "Bad Request: text with spoiler exceed max chars (500)".
	goToSocialTooLong = regexp.MustCompile(`(?i)exceeds? max chars \((\d+)\)`)
	// Pleroma, Akkoma: 422 "The status is over the character limit".
	pleromaTooLong = regexp.MustCompile(`(?i)over the character limit`)
	// Others.
	otherTooLong = regexp.MustCompile(`(?i)character limit|too long|too many characters`)
	digits       = regexp.MustCompile(`\d+`)
)

// refusedAsTooLong reports whether the server refused a status as over its
// limit, known being the limit the status was fitted to: Mastodon's,
// GoToSocial's, Pleroma's and Akkoma's refusals, any other that says so in
// English, and a 422 that names the known limit (Mastodon writes its
// message in the account's language).
func refusedAsTooLong(err error, known int) (lengthRefusal, bool) {
	var api *mastodon.APIError
	if !errors.As(err, &api) || (api.StatusCode != http.StatusUnprocessableEntity && api.StatusCode != http.StatusBadRequest) {
		return lengthRefusal{}, false
	}
	msg := api.Message
	if m := mastodonTooLong.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return lengthRefusal{software: SoftwareMastodon, limit: n}, true
	}
	if m := goToSocialTooLong.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return lengthRefusal{software: SoftwareGoToSocial, limit: n}, true
	}
	if pleromaTooLong.MatchString(msg) {
		return lengthRefusal{software: SoftwarePleroma}, true
	}
	if otherTooLong.MatchString(msg) {
		return lengthRefusal{}, true
	}
	if api.StatusCode == http.StatusUnprocessableEntity {
		for _, n := range digits.FindAllString(msg, -1) {
			if n == strconv.Itoa(known) {
				return lengthRefusal{limit: known}, true
			}
		}
	}
	return lengthRefusal{}, false
}

// learned is what a refusal taught of how the server counts: how, and the
// most a status may count (0: the instance's limit). It holds while the
// instance's limits read as they did then.
type learned struct {
	count counter
	limit int
	basis Limits
}

// fitting returns the limits and the counting a post is fitted to: the
// instance's software's counting, or what a refusal taught.
func (c *Channel) fitting(lim Limits) (Limits, counter) {
	k := counterFor(lim.Software, lim.CharactersPerURL)
	c.mu.Lock()
	l := c.learned
	c.mu.Unlock()
	if l != nil {
		k = l.count
		if l.limit > 0 && l.limit < lim.MaxCharacters {
			lim.MaxCharacters = l.limit
		}
	}
	return lim, k
}

// refit fits the post again after the server refused st as too long: with
// the counting the refusal implies (its software's, else the one used)
// and the limit it names, or, when they do not explain the refusal (st
// fits them), counted the strictest way, and below the limit when st
// counts just that (a server that wants fewer than its limit). It reports
// false when nothing explains the refusal (st is under the limit even
// counted the strictest way), or the post cannot change.
func (c *Channel) refit(post syndicate.Post, lim Limits, used counter, st status, r lengthRefusal) (status, counter, bool) {
	k := used
	if r.software != "" {
		k = counterFor(r.software, lim.CharactersPerURL)
	}
	limit := lim.MaxCharacters
	if r.limit > 0 {
		limit = min(limit, r.limit)
	}
	if k.status(st.Spoiler, st.Text) <= limit {
		k = counter{how: countStrictest, perURL: lim.CharactersPerURL}
		switch n := k.status(st.Spoiler, st.Text); {
		case n < limit:
			return status{}, k, false
		case n == limit:
			limit--
		}
	}
	if limit <= 0 {
		return status{}, k, false
	}
	lim.MaxCharacters = limit
	again, err := c.renderPost(post, lim, k)
	if err != nil || (again.Text == st.Text && again.Spoiler == st.Spoiler) {
		return status{}, k, false
	}
	return again, k, true
}

// learn keeps the counting and the limit a refit was accepted with.
func (c *Channel) learn(k counter, limit int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.learned = &learned{count: k, limit: limit, basis: c.limits}
}
