package feed

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"html"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// maxFutureSkew is how far ahead of now a date may be before it is taken
// for a broken one and ignored.
const maxFutureSkew = 24 * time.Hour

// Normalise turns the items of a parsed feed into articles, in document
// order with Position set. feedURL is the URL the feed was read from (after
// redirects); relative links resolve against the feed's own link, else
// against it. fallbackLanguage applies when the feed declares none. now
// bounds dates: one more than a day ahead of it is treated as absent (a zero
// now disables the check).
//
// An item whose key repeats one already taken in the same document is
// dropped: it would otherwise be two articles with one identity.
func Normalise(feedID string, f *gofeed.Feed, feedURL, fallbackLanguage string, now time.Time) []syndicate.Article {
	if f == nil {
		return nil
	}
	base := feedBase(f, feedURL)
	language := firstNonEmpty(strings.TrimSpace(f.Language), strings.TrimSpace(fallbackLanguage))
	keys := newKeyAssigner()
	articles := make([]syndicate.Article, 0, len(f.Items))
	for position, item := range f.Items {
		if item == nil {
			continue
		}
		a := normaliseItem(item, base, now)
		a.FeedID = feedID
		a.Position = position
		a.Language = firstNonEmpty(itemLanguage(item), language)
		if f.FeedType == "atom" {
			// An Atom entry without an author has the feed's (RFC 4287 4.2.1).
			a.Author = firstNonEmpty(a.Author, firstAuthor(f.Authors))
		}
		key, ok := keys.assign(item, a)
		if !ok {
			continue
		}
		a.Key = key
		articles = append(articles, a)
	}
	return articles
}

// feedBase is what relative links resolve against: the feed's home page
// link (itself resolved against the feed URL), else the feed URL.
func feedBase(f *gofeed.Feed, feedURL string) string {
	if home := resolveURL(f.Link, feedURL); home != "" {
		return home
	}
	return feedURL
}

func normaliseItem(item *gofeed.Item, base string, now time.Time) syndicate.Article {
	link := itemLink(item, base)
	content := firstNonEmpty(item.Content, item.Description)
	img := featuredImage(item, content, base, firstNonEmpty(link, base))
	a := syndicate.Article{
		Link:         link,
		Title:        inlineText(item.Title),
		Summary:      summary(item.Description, item.Content),
		ContentHTML:  validUTF8(content),
		ImageURL:     img.URL,
		ImageCaption: validUTF8(img.Caption),
		Categories:   categories(item.Categories),
		Author:       firstAuthor(item.Authors),
		Published:    usableTime(item.PublishedParsed, now),
		Updated:      usableTime(item.UpdatedParsed, now),
	}
	if a.Author == "" && item.Author != nil {
		a.Author = inlineText(item.Author.Name)
	}
	a.Hash = contentHash(a.Title, a.Summary, a.ContentHTML, a.ImageURL)
	return a
}

// itemLink is the canonical link of the item; an item without one whose
// GUID is a web address (RSS isPermaLink, the default) links there.
func itemLink(item *gofeed.Item, base string) string {
	if link := CanonicalLink(item.Link, base); link != "" {
		return link
	}
	for _, l := range item.Links {
		if link := CanonicalLink(l, base); link != "" {
			return link
		}
	}
	guid := strings.TrimSpace(item.GUID)
	if strings.HasPrefix(guid, "http://") || strings.HasPrefix(guid, "https://") {
		return CanonicalLink(guid, "")
	}
	return ""
}

// summary is the plain text of the feed's own summary; when there is none,
// or when it is the whole article (several paragraphs and no separate
// content, or the same text as the content), the content's lead paragraph.
func summary(description, content string) string {
	own := plainText(description)
	switch {
	case own == "":
		return leadParagraph(content)
	case strings.TrimSpace(content) == "" && len(paragraphs(parseHTML(description), 2)) > 1:
		return leadParagraph(description)
	case own == plainText(content):
		return leadParagraph(content)
	}
	return own
}

func categories(raw []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range raw {
		c = validUTF8(strings.Join(strings.Fields(html.UnescapeString(c)), " "))
		folded := strings.ToLower(c)
		if c == "" || seen[folded] {
			continue
		}
		seen[folded] = true
		out = append(out, c)
	}
	return out
}

func itemLanguage(item *gofeed.Item) string {
	if dc := item.DublinCoreExt; dc != nil {
		for _, l := range dc.Language {
			if l = strings.TrimSpace(l); l != "" {
				return l
			}
		}
	}
	return ""
}

func firstAuthor(people []*gofeed.Person) string {
	for _, p := range people {
		if p == nil {
			continue
		}
		if name := inlineText(p.Name); name != "" {
			return name
		}
	}
	return ""
}

// usableTime returns t in UTC, or zero when absent or too far in the future.
func usableTime(t *time.Time, now time.Time) time.Time {
	if t == nil || t.IsZero() {
		return time.Time{}
	}
	if !now.IsZero() && t.After(now.Add(maxFutureSkew)) {
		return time.Time{}
	}
	return t.UTC()
}

// contentHash is a hex SHA-256 over fields, each prefixed by its length so
// that moving text from one field to the next changes it too.
func contentHash(fields ...string) string {
	h := sha256.New()
	for _, f := range fields {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, string(utf8.RuneError))
}

// keyAssigner gives each item of one document its key: the GUID as written,
// else the canonical link, else a hash of title, date and content. A GUID
// met again with another link becomes GUID|link.
type keyAssigner struct {
	linkOfGUID map[string]string // first link seen with each GUID
	taken      map[string]bool
}

func newKeyAssigner() *keyAssigner {
	return &keyAssigner{linkOfGUID: map[string]string{}, taken: map[string]bool{}}
}

// assign returns the item's key, or false when that key is already taken
// in this document.
func (k *keyAssigner) assign(item *gofeed.Item, a syndicate.Article) (string, bool) {
	key := k.key(item, a)
	if k.taken[key] {
		return "", false
	}
	k.taken[key] = true
	return key, true
}

func (k *keyAssigner) key(item *gofeed.Item, a syndicate.Article) string {
	guid := validUTF8(strings.TrimSpace(item.GUID))
	switch {
	case guid == "" && a.Link != "":
		return a.Link
	case guid == "":
		return hashKey(item)
	}
	firstLink, seen := k.linkOfGUID[guid]
	if !seen {
		k.linkOfGUID[guid] = a.Link
		return guid
	}
	if a.Link != firstLink {
		return guid + "|" + firstNonEmpty(a.Link, hashKey(item))
	}
	return guid
}

func hashKey(item *gofeed.Item) string {
	date := firstNonEmpty(item.Published, item.Updated)
	return "sha256:" + contentHash(item.Title, date, firstNonEmpty(item.Content, item.Description))
}
