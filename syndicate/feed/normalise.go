package feed

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"html"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/mmcdole/gofeed"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// maxFutureSkew is how far ahead of now a date may be before it is taken
// for a broken one and ignored.
const maxFutureSkew = 24 * time.Hour

// Normalise turns the items of a parsed feed document into articles, in
// document order with Position set. Relative links resolve against the
// item's xml:base, else the feed's own link (itself resolved against the
// document URL), else the document URL; links inside the content against
// its xml:base, else the article's link. fallbackLanguage applies when the
// feed declares none.
//
// Text fields are plain text and valid UTF-8, with Windows-1252 characters
// smuggled in as C1 controls (U+0093) turned into those meant (“). The
// content is sanitised (see newSanitiser), with absolute URLs. The summary
// and the related links leave out captions and "Read also" blocks; those
// blocks' links become Related.
//
// Dates the feed gives in forms gofeed does not read (RFC 822 with
// comments, month names in other languages) are parsed here. A date that
// is absent, unreadable, before 1990 (a placeholder such as year 1 or the
// Unix epoch) or more than a day ahead of now (a broken one; a zero now
// disables that check) leaves Published or Updated zero, never a made-up
// time: the pipeline orders by Published, then Updated, then the time it
// first saw the article (FirstSeen), so an undated item takes its place by
// when it was seen, and whatever shows a date must show FirstSeen (or no
// date) for a zero Published.
//
// An item whose key repeats one already taken in the same document is
// dropped: it would otherwise be two articles with one identity.
func Normalise(feedID string, d *Document, fallbackLanguage string, now time.Time) []syndicate.Article {
	if d == nil || d.Feed == nil {
		return nil
	}
	f := d.Feed
	base := feedBase(f, withoutUserinfo(d.URL))
	language := firstNonEmpty(strings.TrimSpace(f.Language), strings.TrimSpace(fallbackLanguage))
	keys := newKeyAssigner()
	sanitiser := newSanitiser()
	articles := make([]syndicate.Article, 0, len(f.Items))
	for position, item := range f.Items {
		if item == nil {
			continue
		}
		var scanned itemScan
		if position < len(d.items) {
			scanned = d.items[position]
		}
		a := normaliseItem(item, f.FeedType, itemBases{
			feed:    firstNonEmpty(scanned.Base, base),
			content: firstNonEmpty(scanned.ContentBase, scanned.Base),
		}, sanitiser, now)
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

// itemBases are what an item's relative URLs resolve against: those of its
// fields (link, enclosures, media) against feed, those of its content
// against content when set (an xml:base), else the article's link.
type itemBases struct {
	feed, content string
}

func normaliseItem(item *gofeed.Item, feedType string, bases itemBases, sanitiser *bluemonday.Policy, now time.Time) syndicate.Article {
	link := itemLink(item, bases.feed)
	contentBase := firstNonEmpty(bases.content, link, bases.feed)
	content := parseArticleHTML(fixC1(firstNonEmpty(item.Content, item.Description)), contentBase)
	description := content
	if item.Content != "" {
		description = parseArticleHTML(fixC1(item.Description), contentBase)
	}
	img := featuredImage(item, feedType, content, bases.feed)
	a := syndicate.Article{
		Link:         link,
		Title:        inlineText(fixC1(item.Title)),
		Summary:      summary(description, content, item.Content != ""),
		ContentHTML:  validUTF8(content.sanitisedHTML(sanitiser)),
		ImageURL:     img.URL,
		ImageCaption: validUTF8(fixC1(img.Caption)),
		Categories:   categories(item.Categories),
		Related:      relatedLinks(content, description),
		Author:       firstAuthor(item.Authors),
		Published:    itemTime(item.PublishedParsed, item.Published, now),
		Updated:      itemTime(item.UpdatedParsed, item.Updated, now),
	}
	if a.Author == "" && item.Author != nil {
		a.Author = inlineText(fixC1(item.Author.Name))
	}
	a.Hash = contentHash(a.Title, a.Summary, a.ContentHTML, a.ImageURL)
	return a
}

// relatedLinks are the links of the content's "Read also" blocks, then
// those of the description's that the content lacks, with valid UTF-8
// titles.
func relatedLinks(content, description *articleHTML) []syndicate.Link {
	var out []syndicate.Link
	for _, l := range appendLinks(slices.Clone(content.related), description.related...) {
		out = append(out, syndicate.Link{Title: validUTF8(fixC1(l.Title)), URL: l.URL})
	}
	return out
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

// summary is the plain text of the feed's own summary (the description)
// without its captions and "Read also" blocks; when there is none, or when
// it is the whole article (several paragraphs and no separate content, or
// the same text as the content), the content's lead paragraph.
func summary(description, content *articleHTML, hasContent bool) string {
	own := description.text()
	switch {
	case own == "":
		return content.leadParagraph()
	case !hasContent && len(description.paragraphs(2)) > 1:
		return description.leadParagraph()
	case hasContent && own == content.text():
		return content.leadParagraph()
	}
	return own
}

func categories(raw []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range raw {
		c = validUTF8(strings.Join(strings.Fields(html.UnescapeString(fixC1(c))), " "))
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
		if name := inlineText(fixC1(p.Name)); name != "" {
			return name
		}
	}
	return ""
}

// itemTime is the item's date: the one gofeed parsed, else the one
// parseDate reads in raw, if usable.
func itemTime(parsed *time.Time, raw string, now time.Time) time.Time {
	if parsed == nil || parsed.IsZero() {
		if t, ok := parseDate(raw); ok {
			parsed = &t
		}
	}
	return usableTime(parsed, now)
}

// usableTime returns t in UTC, or zero when absent, before 1990 or more
// than a day ahead of now.
func usableTime(t *time.Time, now time.Time) time.Time {
	if t == nil || t.IsZero() || t.Year() < earliestYear {
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
