package email

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"fmt"
	htmltemplate "html/template"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

var (
	//go:embed templates/digest.html.tmpl
	htmlSource string
	//go:embed templates/digest.txt.tmpl
	textSource string
)

// unsubscribeMarker stands for the recipient's unsubscribe link while the
// digest is rendered; it survives html/template's URL normalising and
// escaping unchanged, and never occurs in an article.
const unsubscribeMarker = "https://unsubscribe.invalid/SYNDICATE-UNSUBSCRIBE-LINK-7f3a9c"

// Limits of what a digest shows of an article.
const (
	summaryLimit = 400 // grapheme clusters
	maxRelated   = 3
	wrapWidth    = 72
)

// SubjectData is what the subject template is given.
type SubjectData struct {
	Title  string // the digest's title: the title of its newest article
	Count  int    // how many articles it lists
	Date   string // the digest's date, in its language
	List   string
	Sender string // the sender's display name, else its address
}

// digestData is what the HTML and text templates are given.
type digestData struct {
	Lang           string
	Subject        string
	Sender         string
	Heading        string
	Date           string
	CountText      string
	Preheader      string
	Articles       []articleData // newest first
	ReadMore       string
	ReadAlso       string
	Footer         string
	Unsubscribe    string
	UnsubscribeURL string
}

type articleData struct {
	Title    string
	Link     string // empty when the article has no web link
	Summary  string
	Image    string
	ImageAlt string
	Sections []string
	Date     string
	Author   string
	Related  []syndicate.Link
}

// words are the digest's own words in one language.
type words struct {
	heading     string
	readMore    string
	readAlso    string
	unsubscribe string
	footer      string // %[1]s the list, %[2]s the sender
	count       func(n int) string
	date        func(t time.Time) string // a day, long form
}

var languages = map[string]words{
	"en": {
		heading:     "What's new",
		readMore:    "Read the article",
		readAlso:    "Read also",
		unsubscribe: "Unsubscribe with one click",
		footer:      "You receive this digest because you subscribed to the “%[1]s” list of %[2]s.",
		count: func(n int) string {
			if n == 1 {
				return "1 new article"
			}
			return strconv.Itoa(n) + " new articles"
		},
		date: func(t time.Time) string { return t.Format("Monday, 2 January 2006") },
	},
	"es": {
		heading:     "Novedades",
		readMore:    "Leer el artículo",
		readAlso:    "Lee también",
		unsubscribe: "Darse de baja con un clic",
		footer:      "Recibes este resumen porque te suscribiste a la lista «%[1]s» de %[2]s.",
		count: func(n int) string {
			if n == 1 {
				return "1 artículo nuevo"
			}
			return strconv.Itoa(n) + " artículos nuevos"
		},
		date: func(t time.Time) string {
			return fmt.Sprintf("%s, %d de %s de %d", esDays[t.Weekday()], t.Day(), esMonths[t.Month()-1], t.Year())
		},
	},
}

var (
	esDays   = [...]string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"}
	esMonths = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
		"septiembre", "octubre", "noviembre", "diciembre"}
)

// wordsFor returns the words of lang ("es", "es-AR"…), English when it
// has none.
func wordsFor(lang string) (string, words) {
	base, _, _ := strings.Cut(strings.ToLower(lang), "-")
	if w, ok := languages[base]; ok {
		return base, w
	}
	return DefaultLanguage, languages[DefaultLanguage]
}

// shortDate is an article's date: "27 November 2026", "27 de noviembre de 2026".
func shortDate(lang string, t time.Time) string {
	if lang == "es" {
		return fmt.Sprintf("%d de %s de %d", t.Day(), esMonths[t.Month()-1], t.Year())
	}
	return t.Format("2 January 2006")
}

// renderer holds the parsed templates of a channel.
type renderer struct {
	html    *htmltemplate.Template
	text    *template.Template
	subject *template.Template
}

func newRenderer(subject string) (*renderer, error) {
	funcs := template.FuncMap{
		"join":  strings.Join,
		"upper": strings.ToUpper,
		"wrap":  func(s string) string { return wrap(s, wrapWidth) },
	}
	h, err := htmltemplate.New("digest.html").Funcs(htmltemplate.FuncMap(funcs)).Parse(htmlSource)
	if err != nil {
		return nil, fmt.Errorf("html template: %w", err)
	}
	t, err := template.New("digest.txt").Funcs(funcs).Parse(textSource)
	if err != nil {
		return nil, fmt.Errorf("text template: %w", err)
	}
	s, err := template.New("subject").Option("missingkey=error").Parse(subject)
	if err != nil {
		return nil, fmt.Errorf("subject template: %w", err)
	}
	return &renderer{html: h, text: t, subject: s}, nil
}

// Rendered is a digest as its recipients see it, but for their own
// unsubscribe link: UnsubscribeMarker in Text and HTML.
type Rendered struct {
	Subject string
	Text    string
	HTML    string
}

// render executes the templates for the digest's articles (oldest first,
// as the digest holds them; the email lists them newest first).
func (c *Channel) render(d syndicate.Digest, articles []syndicate.Article) (Rendered, error) {
	lang, w := wordsFor(c.cfg.Language)
	when := d.CreatedAt
	if when.IsZero() {
		when = c.cfg.Now()
	}
	when = when.In(c.cfg.Location)
	data := digestData{
		Lang:           lang,
		Sender:         c.senderName,
		Heading:        w.heading,
		Date:           w.date(when),
		CountText:      w.count(len(articles)),
		ReadMore:       w.readMore,
		ReadAlso:       w.readAlso,
		Footer:         fmt.Sprintf(w.footer, c.cfg.List, c.senderName),
		Unsubscribe:    w.unsubscribe,
		UnsubscribeURL: unsubscribeMarker,
	}
	for i := len(articles) - 1; i >= 0; i-- {
		data.Articles = append(data.Articles, c.articleData(lang, articles[i]))
	}
	sd := SubjectData{Count: len(articles), Date: data.Date, List: c.cfg.List, Sender: c.senderName}
	if len(data.Articles) > 0 {
		sd.Title = data.Articles[0].Title
	}
	var b strings.Builder
	if err := c.r.subject.Execute(&b, sd); err != nil {
		return Rendered{}, fmt.Errorf("subject: %w", err)
	}
	data.Subject = oneLine(b.String())
	if data.Subject == "" {
		return Rendered{}, fmt.Errorf("subject: the template %q gives an empty subject", c.cfg.Subject)
	}
	data.Preheader = preheader(w.count(len(articles)), data.Articles)

	var text, html strings.Builder
	if err := c.r.text.Execute(&text, data); err != nil {
		return Rendered{}, fmt.Errorf("text part: %w", err)
	}
	if err := c.r.html.Execute(&html, data); err != nil {
		return Rendered{}, fmt.Errorf("html part: %w", err)
	}
	return Rendered{Subject: data.Subject, Text: text.String(), HTML: html.String()}, nil
}

func (c *Channel) articleData(lang string, a syndicate.Article) articleData {
	ad := articleData{
		Title:    oneLine(a.Title),
		Summary:  channels.CutAtWord(strings.TrimSpace(a.Summary), summaryLimit, channels.Graphemes),
		Sections: a.CategoryNames(), // the labels, where the feed gives them
		Author:   oneLine(a.Author),
	}
	if ad.Title == "" {
		ad.Title = "—"
	}
	if isWebURL(a.Link) {
		ad.Link = a.Link
	}
	if isWebURL(a.ImageURL) {
		ad.Image = a.ImageURL
		ad.ImageAlt = oneLine(a.ImageCaption)
		if ad.ImageAlt == "" {
			ad.ImageAlt = ad.Title
		}
	}
	if t := a.SortTime(); !t.IsZero() {
		ad.Date = shortDate(lang, t.In(c.cfg.Location))
	}
	for _, r := range a.Related {
		if isWebURL(r.URL) && len(ad.Related) < maxRelated {
			ad.Related = append(ad.Related, syndicate.Link{Title: oneLine(r.Title), URL: r.URL})
		}
	}
	return ad
}

// preheader is the text a mail client shows after the subject: the count
// and the first titles.
func preheader(count string, articles []articleData) string {
	s := count + ":"
	for i, a := range articles {
		if i > 0 {
			s += " ·"
		}
		s += " " + a.Title
	}
	return channels.CutAtWord(s, 140, channels.Graphemes)
}

func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// oneLine folds every run of white space, line breaks included, into one
// space: headers and titles are one line.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}

// wrap breaks a paragraph at spaces so that lines are at most width
// characters, where a word allows; a word longer than that (a URL) stands
// alone on its line.
func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for _, word := range strings.Fields(s) {
		l := len([]rune(word))
		switch {
		case n == 0:
		case n+1+l > width:
			b.WriteByte('\n')
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += l
	}
	return b.String()
}

// frame is a rendered digest ready to be sent: the headers all messages
// share and the body already encoded, but for the lines that carry the
// unsubscribe link. Each message is built from it while it is sent.
type frame struct {
	subject  string // as rendered, for logs
	head     []byte // shared headers, after the recipient's own
	body     []chunk
	size     int // bytes of a message, roughly
	domain   string
	channel  string
	digestID int64
}

// chunk is a run of encoded lines, or one line with the link in it.
type chunk struct {
	static []byte
	parts  []string // the raw line (without its line break) split at the marker
	html   bool     // the link goes into HTML: escape it
}

// newFrame encodes r once.
func (c *Channel) newFrame(d syndicate.Digest, r Rendered) (*frame, error) {
	boundary, err := newBoundary()
	if err != nil {
		return nil, err
	}
	f := &frame{subject: r.Subject, domain: c.domain, channel: c.cfg.ID, digestID: d.ID}
	var head bytes.Buffer
	writeHeader(&head, "From", c.fromHeader)
	writeHeader(&head, "Subject", encodeHeader(r.Subject))
	writeHeader(&head, "List-Id", c.listID)
	writeHeader(&head, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	writeHeader(&head, "Content-Language", c.lang)
	writeHeader(&head, "MIME-Version", "1.0")
	writeHeader(&head, "Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	head.WriteString("\r\n")
	f.head = head.Bytes()

	var pre bytes.Buffer
	pre.WriteString("This is a multi-part message in MIME format.\r\n")
	for _, p := range []struct {
		mediaType, content string
		html               bool
	}{
		{"text/plain", r.Text, false},
		{"text/html", r.HTML, true},
	} {
		pre.WriteString("--" + boundary + "\r\n")
		pre.WriteString("Content-Type: " + p.mediaType + "; charset=UTF-8\r\n")
		pre.WriteString("Content-Transfer-Encoding: quoted-printable\r\n\r\n")
		f.body = append(f.body, chunk{static: bytes.Clone(pre.Bytes())})
		pre.Reset()
		f.body = append(f.body, encodeLines(p.content, p.html)...)
	}
	f.body = append(f.body, chunk{static: []byte("--" + boundary + "--\r\n")})
	f.size = len(f.head) + 512
	for _, ch := range f.body {
		f.size += len(ch.static)
		for _, p := range ch.parts {
			f.size += len(p) + 100
		}
	}
	return f, nil
}

// encodeLines encodes content as quoted-printable, once: the lines without
// the marker in runs, each line with it kept apart for each recipient.
// Quoted-printable encodes each line on its own (soft breaks never cross
// a hard one), so the runs put together are the encoding of the whole.
func encodeLines(content string, html bool) []chunk {
	content = strings.ReplaceAll(content, "\r\n", "\n")
	if !strings.HasSuffix(content, "\n") {
		content += "\n"
	}
	var out []chunk
	var run bytes.Buffer
	flush := func() {
		if run.Len() > 0 {
			out = append(out, chunk{static: bytes.Clone(run.Bytes())})
			run.Reset()
		}
	}
	qp := quotedprintable.NewWriter(&run)
	for line := range strings.Lines(content) {
		if strings.Contains(line, unsubscribeMarker) {
			qp.Close()
			flush()
			out = append(out, chunk{parts: strings.Split(strings.TrimSuffix(line, "\n"), unsubscribeMarker), html: html})
			qp = quotedprintable.NewWriter(&run)
			continue
		}
		qp.Write([]byte(line))
	}
	qp.Close()
	flush()
	return out
}

// writeMessage writes the message for one recipient to buf, which is
// reset first.
func (f *frame) writeMessage(buf *bytes.Buffer, to, messageID, date, unsubscribeURL, mailto string) {
	buf.Reset()
	buf.Grow(f.size)
	writeHeader(buf, "Date", date)
	writeHeader(buf, "To", to)
	writeHeader(buf, "Message-ID", messageID)
	buf.WriteString("List-Unsubscribe: <" + unsubscribeURL + ">,\r\n <mailto:" + mailto + "?subject=unsubscribe>\r\n")
	buf.Write(f.head)
	escaped := htmltemplate.HTMLEscapeString(unsubscribeURL)
	for _, ch := range f.body {
		if ch.parts == nil {
			buf.Write(ch.static)
			continue
		}
		link := unsubscribeURL
		if ch.html {
			link = escaped
		}
		qp := quotedprintable.NewWriter(buf)
		qp.Write([]byte(strings.Join(ch.parts, link) + "\n"))
		qp.Close()
	}
}

// writeHeader writes one header line; value must already be encoded.
func writeHeader(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(": ")
	b.WriteString(value)
	b.WriteString("\r\n")
}

// encodeHeader encodes a text header (RFC 2047) when it is not plain
// ASCII, folding between encoded words.
func encodeHeader(s string) string {
	enc := mime.QEncoding.Encode("UTF-8", s)
	if enc == s {
		return s
	}
	return strings.ReplaceAll(enc, "?= =?", "?=\r\n =?")
}

// addressHeader formats an address for From or To.
func addressHeader(name, addr string) string {
	return (&mail.Address{Name: oneLine(name), Address: addr}).String()
}

// newBoundary returns a multipart boundary that quoted-printable text
// cannot contain: "=_" is never part of its output.
func newBoundary() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "=_syndicate_" + hex.EncodeToString(b), nil
}
