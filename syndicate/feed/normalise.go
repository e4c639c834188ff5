package feed

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"html"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"

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
// Dates are read from their raw text (see readDate: zone names, partial
// and ordinal ISO dates, month names in the site languages), RSS taking
// its pubDate, then dcterms:issued, then dc:date for Published, and
// dcterms:modified before dc:date for Updated; gofeed's own reading is the
// last resort. A date read in an unknown or ambiguous zone, or without
// one, or not read at all, is a warning of NormaliseDocument's result. A
// date that is absent, unreadable, before 1990 (a placeholder such as year 1 or the
// Unix epoch) or more than a day ahead of now (a broken one; a zero now
// disables that check) leaves Published or Updated zero, never a made-up
// time: the pipeline orders by Published, then Updated, then the time it
// first saw the article (FirstSeen), so an undated item takes its place by
// when it was seen, and whatever shows a date must show FirstSeen (or no
// date) for a zero Published.
//
// Categories are the Atom categories' terms (what filters match); their
// labels, when any, are CategoryLabels (what channels may show).
//
// The key is the GUID or Atom id as written (trimmed), else the canonical
// link, else a hash of title, date and content; see keyAssigner. An item
// whose key repeats one already taken in the same document is dropped: it
// would otherwise be two articles with one identity. LegacyKey is set
// when an earlier version of the reader keyed the item otherwise.
func Normalise(feedID string, d *Document, fallbackLanguage string, now time.Time) []syndicate.Article {
	return NormaliseDocument(feedID, d, fallbackLanguage, now).Articles
}

// Normalised is what NormaliseDocument makes of a document.
type Normalised struct {
	Articles []syndicate.Article
	// Warnings say what could not be read as written (a date in an
	// unknown zone), each naming the item and the raw text; at most
	// maxWarnings, the last saying how many more there were.
	Warnings []string
}

// maxWarnings bounds the warnings of one document.
const maxWarnings = 10

// NormaliseDocument is Normalise with the warnings it found, the first
// saying how many items were skipped when the document had more than
// Parse reads (Document.Omitted).
func NormaliseDocument(feedID string, d *Document, fallbackLanguage string, now time.Time) Normalised {
	n, _ := normaliseDocument(context.Background(), feedID, d, fallbackLanguage, now, false)
	return n
}

// normaliseDocument is NormaliseDocument, failing with ctx's error once
// ctx is done. With release, it lets go of each item of d once it is
// normalised (d is not to be read again), so that a document's items and
// its articles are not all held at once.
func normaliseDocument(ctx context.Context, feedID string, d *Document, fallbackLanguage string, now time.Time, release bool) (Normalised, error) {
	if d == nil || d.Feed == nil {
		return Normalised{}, nil
	}
	f := d.Feed
	base := feedBase(f, withoutUserinfo(d.URL))
	language := firstNonEmpty(strings.TrimSpace(f.Language), strings.TrimSpace(fallbackLanguage))
	keys, legacy := newKeyAssigner(), newLegacyKeyAssigner()
	sanitiser := newSanitiser()
	out := Normalised{Articles: make([]syndicate.Article, 0, len(f.Items))}
	warnings := slices.Clone(d.notes)
	warnings = append(warnings, d.Skipped...) // items that could not be read
	for i, item := range f.Items {
		if item == nil {
			continue
		}
		if release {
			f.Items[i] = nil
		}
		if err := ctx.Err(); err != nil {
			return Normalised{}, stopped(err)
		}
		position := d.position(i)
		var scanned itemScan
		if i < len(d.items) {
			scanned = d.items[i]
			if release {
				d.items[i] = itemScan{}
			}
		}
		bases := itemBases{
			feed:    firstNonEmpty(scanned.Base, base),
			content: firstNonEmpty(scanned.ContentBase, scanned.Base),
		}
		a, itemWarnings := normaliseItem(item, f.FeedType, scanned, bases, sanitiser, now)
		a.FeedID = feedID
		a.Position = position
		a.Language = firstNonEmpty(itemLanguage(item), language)
		keyed := keyedAs(a, item, bases.feed)
		if f.FeedType == "atom" {
			// An Atom entry without an author has the feed's (RFC 4287 4.2.1).
			a.Author = firstNonEmpty(a.Author, firstAuthor(f.Authors))
			keyed.Author = firstNonEmpty(keyed.Author, firstNamed(f.Authors))
		}
		legacyKey, legacyOK := legacy.assign(item, keyed)
		key, ok := keys.assign(item, scanned, keyed)
		if !ok {
			continue
		}
		a.Key = key
		if legacyOK && legacyKey != key {
			a.LegacyKey = legacyKey
		}
		for _, w := range itemWarnings {
			warnings = append(warnings, fmt.Sprintf("item %d (%s): %s", position, a.Key, w))
		}
		out.Articles = append(out.Articles, a)
	}
	if len(warnings) > maxWarnings {
		more := len(warnings) - (maxWarnings - 1)
		warnings = append(warnings[:maxWarnings-1], fmt.Sprintf("and %d more warnings", more))
	}
	out.Warnings = warnings
	return out, nil
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

func normaliseItem(item *gofeed.Item, feedType string, scanned itemScan, bases itemBases, sanitiser *bluemonday.Policy, now time.Time) (syndicate.Article, []string) {
	link := itemLink(item, bases.feed, textLink(scanned, bases.feed))
	src := itemContent(item, feedType, scanned)
	var warnings []string
	for _, name := range scanned.Cut {
		if name == "elements" {
			warnings = append(warnings, fmt.Sprintf("elements past its first %d left out", maxItemElements))
		} else {
			warnings = append(warnings, fmt.Sprintf("<%s> cut to its first %s of text", name, formatSize(maxContentBytes)))
		}
	}
	for _, f := range []struct {
		name string
		html *string
	}{{"content", &src.content}, {"summary", &src.description}} {
		if capped, cut := capHTML(*f.html); cut {
			warnings = append(warnings, fmt.Sprintf("%s of %d bytes cut to its first %s", f.name, len(*f.html), formatSize(int64(len(capped)))))
			*f.html = capped
		}
	}
	contentBase := firstNonEmpty(src.base, bases.content, link, bases.feed)
	content := parseArticleHTML(fixC1(firstNonEmpty(src.content, src.description)), contentBase)
	description := content
	if src.content != "" {
		description = parseArticleHTML(fixC1(src.description), firstNonEmpty(bases.content, link, bases.feed))
	}
	img := featuredImage(item, feedType, content, bases.feed)
	dates := readItemDates(item, feedType, now)
	terms, labels := itemCategories(item, feedType, scanned)
	a := syndicate.Article{
		Link:           link,
		Title:          itemTitle(item, feedType, scanned),
		Summary:        summary(description, content, src.content != ""),
		ContentHTML:    validUTF8(content.sanitisedHTML(sanitiser)),
		ImageURL:       img.URL,
		ImageCaption:   validUTF8(fixC1(img.Caption)),
		Categories:     terms,
		CategoryLabels: labels,
		Related:        relatedLinks(content, description),
		Author:         firstAuthor(item.Authors),
		Published:      dates.published,
		Updated:        dates.updated,
	}
	if a.Author == "" {
		a.Author = personName(item.Author)
	}
	if d := mediaElement(item.Extensions, "description"); a.Summary == "" && d != nil {
		// A media:description that is not the image's caption (read as
		// mediaImage reads it) describes the item.
		if inlineText(fixC1(d.Value)) != a.ImageCaption {
			a.Summary = plainText(fixC1(mediaHTML(d)))
		}
	}
	a.Hash = contentHash(a.Title, a.Summary, a.ContentHTML, a.ImageURL)
	return a, append(warnings, dates.warnings...)
}

// itemSource is the HTML an item's article is made of: its content (""
// when it has none apart from the description) and its description, and
// the xml:base of the content when it is not where gofeed found it.
type itemSource struct {
	content, description, base string
}

// itemContent is the item's content as published: for RSS, the
// content:encoded (or atom:content) gofeed read, else the item's
// xhtml:body (or <body>), else its <fullitem>; for Atom, the content and
// summary gofeed read, except where it misreads them (an xhtml construct
// whose elements carry a prefix, a base64 one it left encoded: see
// textConstruct.value).
func itemContent(item *gofeed.Item, feedType string, scanned itemScan) itemSource {
	src := itemSource{content: item.Content, description: item.Description}
	switch f := scanned.forms; {
	case f == nil:
	case feedType == "rss" && src.content == "":
		if body, base := scanned.body(); body != "" {
			src.content, src.base = body, base
		}
	case feedType == "atom":
		if v, ok := f.content.value(item.Content); ok {
			src.content = v
		}
		if v, ok := f.summary.value(item.Description); ok {
			src.description = v
		}
	}
	return src
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

// keyedAs is the article a as its key is made of it: with the link and
// the author read as they were when keys were first made, not the
// fallbacks read since (textLink, nameBeforeAddress), so that no key
// changes.
func keyedAs(a syndicate.Article, item *gofeed.Item, base string) syndicate.Article {
	a.Link = itemLink(item, base, "")
	a.Author = authorForKeys(item)
	return a
}

// textLink is the canonical link of an Atom entry's <link> that holds its
// URL as text instead of in href (see itemScan.TextLink), "" when there is
// none.
func textLink(scanned itemScan, base string) string {
	if scanned.TextLink == "" {
		return ""
	}
	return CanonicalLink(scanned.TextLink, firstNonEmpty(scanned.TextLinkBase, base))
}

// itemTitle is the item's title as plain text: an Atom 0.3 one in
// mode="base64" decoded (gofeed leaves it encoded but for no type or a
// binary one); when there is none, the media:title.
func itemTitle(item *gofeed.Item, feedType string, scanned itemScan) string {
	title := item.Title
	if f := scanned.forms; f != nil && feedType == "atom" {
		if v, ok := f.title.value(item.Title); ok {
			title = v
		}
	}
	if t := inlineText(fixC1(title)); t != "" {
		return t
	}
	if t := mediaElement(item.Extensions, "title"); t != nil {
		return inlineText(fixC1(mediaHTML(t)))
	}
	return ""
}

// mediaElement is the first Media RSS element name of the item, else of
// its media:group, that holds text; nil when there is none.
func mediaElement(exts ext.Extensions, name string) *ext.Extension {
	media := exts["media"]
	scopes := []map[string][]ext.Extension{media}
	for _, g := range media["group"] {
		scopes = append(scopes, g.Children)
	}
	for _, scope := range scopes {
		for i, e := range scope[name] {
			if strings.TrimSpace(e.Value) != "" {
				return &scope[name][i]
			}
		}
	}
	return nil
}

// mediaHTML is the text of a Media RSS title or description as HTML:
// escaped, unless its type says it is HTML (the default is plain).
func mediaHTML(e *ext.Extension) string {
	if strings.EqualFold(strings.TrimSpace(e.Attrs["type"]), "html") {
		return e.Value
	}
	return html.EscapeString(e.Value)
}

// itemLink is the canonical link of the item, else textLink (see
// textLink); an item without either whose GUID is a web address (RSS
// isPermaLink, the default) links there.
func itemLink(item *gofeed.Item, base, textLink string) string {
	if link := CanonicalLink(item.Link, base); link != "" {
		return link
	}
	for _, l := range item.Links {
		if link := CanonicalLink(l, base); link != "" {
			return link
		}
	}
	if textLink != "" {
		return textLink
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

// itemCategories are the item's categories, without repeats (compared
// without regard to case): for an Atom entry the terms of its categories
// (a category without a term is its label), for RSS what gofeed read (the
// text of <category>, atom:category terms, dc:subject); then, in either,
// those of its itunes:category and media:category (see
// extensionCategories). labels is aligned with terms, "" where a category
// has no label other than its term, and nil when none has one.
func itemCategories(item *gofeed.Item, feedType string, scanned itemScan) (terms, labels []string) {
	raw := slices.Clone(item.Categories)
	labelOf := map[string]string{}
	if feedType == "atom" && len(scanned.Categories) > 0 {
		raw = make([]string, 0, len(scanned.Categories))
		for _, c := range scanned.Categories {
			raw = append(raw, firstNonEmpty(c.Term, c.Label))
		}
	}
	withLabels := slices.Clone(scanned.Categories)
	own := map[string]bool{}
	for _, c := range raw {
		own[strings.ToLower(cleanCategory(c))] = true
	}
	for _, c := range extensionCategories(item.Extensions) {
		raw = append(raw, c.Term)
		if !own[strings.ToLower(cleanCategory(c.Term))] {
			// The repeat of one of the item's own is left out, its
			// label too.
			withLabels = append(withLabels, c)
		}
	}
	for _, c := range withLabels {
		// The label of the first category with that term, as only the
		// first is kept.
		term := strings.ToLower(cleanCategory(firstNonEmpty(c.Term, c.Label)))
		if _, ok := labelOf[term]; !ok && term != "" {
			labelOf[term] = cleanCategory(c.Label)
		}
	}
	seen := map[string]bool{}
	hasLabel := false
	for _, c := range raw {
		c = cleanCategory(c)
		folded := strings.ToLower(c)
		if c == "" || seen[folded] {
			continue
		}
		seen[folded] = true
		label := labelOf[folded]
		if label == c {
			label = ""
		}
		hasLabel = hasLabel || label != ""
		terms = append(terms, c)
		labels = append(labels, label)
	}
	if !hasLabel {
		labels = nil
	}
	return terms, labels
}

// maxSubcategoryDepth bounds how deeply nested itunes:category elements
// are read (Apple's categories have one level of subcategories).
const maxSubcategoryDepth = 3

// extensionCategories are the categories of a podcast's or a media
// item's extensions, in order: each itunes:category's text (then those of
// the subcategories in it), each media:category's text with its label
// (also in a media:group).
func extensionCategories(exts ext.Extensions) []scannedCategory {
	var out []scannedCategory
	var itunes func(cs []ext.Extension, depth int)
	itunes = func(cs []ext.Extension, depth int) {
		for _, c := range cs {
			out = append(out, scannedCategory{Term: c.Attrs["text"]})
			if depth < maxSubcategoryDepth {
				itunes(c.Children["category"], depth+1)
			}
		}
	}
	itunes(exts["itunes"]["category"], 1)
	media := func(cs []ext.Extension) {
		for _, c := range cs {
			out = append(out, scannedCategory{Term: c.Value, Label: c.Attrs["label"]})
		}
	}
	media(exts["media"]["category"])
	for _, g := range exts["media"]["group"] {
		media(g.Children["category"])
	}
	return out
}

// cleanCategory is a category as plain text on one line.
func cleanCategory(c string) string {
	return validUTF8(strings.Join(strings.Fields(html.UnescapeString(fixC1(c))), " "))
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
		if name := personName(p); name != "" {
			return name
		}
	}
	return ""
}

// personName is the name of p as plain text. An RSS author written
// "Name <address>" is read by gofeed as an address alone: its name is the
// part before the address.
func personName(p *gofeed.Person) string {
	if p == nil {
		return ""
	}
	if name := inlineText(fixC1(p.Name)); name != "" {
		return name
	}
	return inlineText(fixC1(nameBeforeAddress(p.Email)))
}

// nameBeforeAddress is the name of "Name <address>", "" for any other
// form; like a name gofeed read, it is then read as HTML.
func nameBeforeAddress(s string) string {
	s = strings.TrimSpace(s)
	open := strings.LastIndexByte(s, '<')
	if open <= 0 || !strings.HasSuffix(s, ">") || !strings.Contains(s[open:], "@") {
		return ""
	}
	return strings.Trim(strings.TrimSpace(s[:open]), `"`)
}

// firstNamed is the first name of people, their addresses not read: the
// author that the keys of items told apart by their author (see
// keyAssigner.assign) were made with before nameBeforeAddress was read,
// and still are, so that no key changes.
func firstNamed(people []*gofeed.Person) string {
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

// authorForKeys is the item's author as its key is made with: see
// firstNamed.
func authorForKeys(item *gofeed.Item) string {
	if name := firstNamed(item.Authors); name != "" || item.Author == nil {
		return name
	}
	return inlineText(fixC1(item.Author.Name))
}

// itemDates are an item's dates, with the warnings reading them gave.
type itemDates struct {
	published, updated time.Time
	warnings           []string
}

// readItemDates reads the item's dates from their raw text (see
// readDate), the first that reads of each list winning; gofeed's reading
// is the last resort. A date absent or unusable (see usableTime) is zero.
func readItemDates(item *gofeed.Item, feedType string, now time.Time) itemDates {
	dcDate := ""
	if item.DublinCoreExt != nil && len(item.DublinCoreExt.Date) > 0 {
		dcDate = strings.TrimSpace(item.DublinCoreExt.Date[0])
	}
	issued, created, modified := itemExtension(item, "dcterms", "issued"), itemExtension(item, "dcterms", "created"), itemExtension(item, "dcterms", "modified")
	published := strings.TrimSpace(item.Published)
	var publishedRaw, updatedRaw []string
	if feedType == "rss" && published == dcDate {
		// gofeed's Published is dc:date when there is no pubDate:
		// dcterms:issued says more precisely when it was published.
		publishedRaw = []string{issued, created, published}
	} else {
		publishedRaw = []string{published, issued, created}
	}
	if feedType == "rss" {
		updatedRaw = []string{modified, item.Updated}
	} else {
		updatedRaw = []string{item.Updated, modified}
	}
	var d itemDates
	var warning string
	d.published, warning = itemTime(publishedRaw, item.PublishedParsed, now)
	if warning != "" {
		d.warnings = append(d.warnings, "published "+warning)
	}
	d.updated, warning = itemTime(updatedRaw, item.UpdatedParsed, now)
	if warning != "" {
		d.warnings = append(d.warnings, "updated "+warning)
	}
	return d
}

// itemExtension is the trimmed text of the item's first prefix:name
// extension element (gofeed files them under the canonical prefix of their
// namespace), "" when there is none.
func itemExtension(item *gofeed.Item, prefix, name string) string {
	for _, e := range item.Extensions[prefix][name] {
		if v := strings.TrimSpace(e.Value); v != "" {
			return v
		}
	}
	return ""
}

// itemTime is the first usable date of raws that readDate reads, else the
// one gofeed parsed, if usable, with a warning when the reading had one (a
// zone unknown, ambiguous or absent) or when a date was given and none
// could be used.
func itemTime(raws []string, parsed *time.Time, now time.Time) (time.Time, string) {
	given, read := "", false
	for _, raw := range raws {
		if strings.TrimSpace(raw) == "" {
			continue
		}
		given = firstNonEmpty(given, raw)
		t, warning, ok := readDate(raw)
		read = read || ok
		if u := usableTime(&t, now); ok && !u.IsZero() {
			return u, warning
		}
	}
	if parsed != nil && !parsed.IsZero() {
		read = true
		if u := usableTime(parsed, now); !u.IsZero() {
			if name, offset := parsed.Zone(); offset == 0 && name != "" && !isUTCName(name) && name != "Z" {
				return u, fmt.Sprintf("date %q: unknown time zone %q, read as UTC", given, name)
			}
			return u, ""
		}
	}
	if given != "" && !read {
		return time.Time{}, fmt.Sprintf("date %q: unreadable, left out", given)
	}
	return time.Time{}, ""
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

// keyAssigner gives each item of one document its key: the GUID or Atom
// id as written (trimmed, byte for byte), else the canonical link, else a
// hash of title, date and content. A GUID met again with another link
// becomes GUID|link; an item without GUID or link whose hash is taken
// becomes hash|author, so that items differing only in their author stay
// apart while the first keeps the key it always had.
type keyAssigner struct {
	linkOfGUID   map[string]string // first link seen with each GUID
	authorOfHash map[string]string // author of the first item with each hash key
	taken        map[string]bool
}

func newKeyAssigner() *keyAssigner {
	return &keyAssigner{linkOfGUID: map[string]string{}, authorOfHash: map[string]string{}, taken: map[string]bool{}}
}

// assign returns the item's key, or false when that key is already taken
// in this document.
func (k *keyAssigner) assign(item *gofeed.Item, scanned itemScan, a syndicate.Article) (string, bool) {
	guid := itemGUID(item, scanned)
	key := k.key(item, guid, a)
	if guid == "" && a.Link == "" {
		first, seen := k.authorOfHash[key]
		if !seen {
			k.authorOfHash[key] = a.Author
		} else if first != a.Author {
			key += "|" + a.Author
		}
	}
	if k.taken[key] {
		return "", false
	}
	k.taken[key] = true
	return key, true
}

func (k *keyAssigner) key(item *gofeed.Item, guid string, a syndicate.Article) string {
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

// itemGUID is the item's GUID as written, trimmed: for an Atom entry the
// text of its <id> (gofeed resolves it as a URL: "HTTP://x/#" would become
// "http://x/"), else the one gofeed read.
func itemGUID(item *gofeed.Item, scanned itemScan) string {
	if scanned.HasID {
		return validUTF8(strings.TrimSpace(scanned.ID))
	}
	return validUTF8(strings.TrimSpace(item.GUID))
}

func hashKey(item *gofeed.Item) string {
	date := firstNonEmpty(item.Published, item.Updated)
	return "sha256:" + contentHash(item.Title, date, firstNonEmpty(item.Content, item.Description))
}

// legacyKeyAssigner keys items as the reader did before ids were read as
// written: from gofeed's GUID (an Atom id resolved as a URL), with no
// author to tell id-less items apart. Stores written then hold these keys;
// Normalise gives each article its legacy key (LegacyKey) when it differs,
// so that the planner finds those articles. It must not change.
type legacyKeyAssigner struct {
	linkOfGUID map[string]string // first link seen with each GUID
	taken      map[string]bool
}

func newLegacyKeyAssigner() *legacyKeyAssigner {
	return &legacyKeyAssigner{linkOfGUID: map[string]string{}, taken: map[string]bool{}}
}

// assign returns the item's legacy key, or false when the legacy reader
// dropped the item (its key was taken in the document).
func (k *legacyKeyAssigner) assign(item *gofeed.Item, a syndicate.Article) (string, bool) {
	key := k.key(item, a)
	if k.taken[key] {
		return "", false
	}
	k.taken[key] = true
	return key, true
}

func (k *legacyKeyAssigner) key(item *gofeed.Item, a syndicate.Article) string {
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
