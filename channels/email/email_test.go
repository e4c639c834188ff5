package email_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/syndicate-daemon/syndicate/channels/email"
	"github.com/syndicate-daemon/syndicate/channels/email/mailpittest"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

var (
	madrid = mustZone("Europe/Madrid")
	now    = time.Date(2026, 11, 27, 8, 0, 0, 0, madrid)
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.FixedZone("CET", 3600)
	}
	return loc
}

// articles are three articles of the site, oldest first, as a digest
// holds them.
func articles() []syndicate.Article {
	return []syndicate.Article{
		{
			ID: 1, FeedID: "en", Key: "k1",
			Link:         "https://en.communia.blog/protests-in-kazakhstan-5-clues",
			Title:        "Protests in Kazakhstan 5 clues to understand what’s going on",
			Summary:      "The crackdown on protests in Kazakhstan has become internationalized: Russian paratroopers and Armenian, Tajik and Kyrgyz troops under CSTO mandate have entered the country to tackle demonstrators.",
			ImageURL:     "https://en.communia.blog/kazakhstan-strike.jpg",
			ImageCaption: "Oil workers on wildcat strike, start of protests in Kazakhstan.",
			Categories:   []string{"Kazakhstan", "Mass strike"},
			Related:      []syndicate.Link{{Title: "The mass strike & its lessons", URL: "https://en.communia.blog/mass-strike?a=1&b=2"}},
			Author:       "Emancipation",
			Published:    time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC),
		},
		{
			ID: 2, FeedID: "en", Key: "k2",
			Link:       "https://en.communia.blog/ai",
			Title:      "Who is afraid of Artificial Intelligence?",
			Summary:    `Chatbots that write essays & code, and a press that swings between awe and panic. What does the new wave of "AI" change? <script>alert(1)</script>`,
			Categories: []string{"Technology"},
			Published:  time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		},
		{
			ID: 3, FeedID: "en", Key: "k3",
			Link:       "https://en.communia.blog/a-new-era-in-south-america",
			Title:      "A new era in South America",
			Summary:    strings.Repeat("From Brasília to Lima, the region's governments change colour while the same pressure falls on wages. ", 8),
			Categories: []string{"Brazil", "South America"},
			Published:  time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC),
		},
	}
}

func unsubscribeURL(s syndicate.Subscriber) string {
	return "http://127.0.0.1:8080/unsubscribe/tok-" + strings.NewReplacer("@", ".", "+", "-").Replace(s.Email) + "&x=1"
}

func config(host string, port int) email.Config {
	return email.Config{
		ID:             "digest-en",
		List:           "en",
		From:           "Emancipation <news@example.org>",
		Subject:        "{{.Title}} — and {{.Count}} articles",
		PublicURL:      "https://news.example.org",
		UnsubscribeURL: unsubscribeURL,
		Host:           host,
		Port:           port,
		TLS:            email.TLSNone,
		Timeout:        5 * time.Second,
		Location:       madrid,
		Now:            func() time.Time { return now },
	}
}

func newChannel(t *testing.T, cfg email.Config) *email.Channel {
	t.Helper()
	c, err := email.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var digest = syndicate.Digest{ID: 7, ChannelID: "digest-en", Period: "2026-11-27T08:00", Articles: []int64{1, 2, 3}, CreatedAt: now}

func subscribers(n int) []syndicate.Subscriber {
	out := make([]syndicate.Subscriber, n)
	for i := range out {
		out[i] = syndicate.Subscriber{ID: int64(i + 1), List: "en", Email: fmt.Sprintf("reader%d@example.net", i+1), State: syndicate.SubscriberConfirmed}
	}
	return out
}

func send(t *testing.T, c *email.Channel, subs []syndicate.Subscriber) []syndicate.MailResult {
	t.Helper()
	m, err := c.Prepare(context.Background(), digest, articles())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	res, err := m.Send(context.Background(), subs, nil)
	if err != nil {
		t.Logf("Send: %v", err)
	}
	if len(res) != len(subs) {
		t.Fatalf("%d results for %d subscribers", len(res), len(subs))
	}
	return res
}

func states(res []syndicate.MailResult) []syndicate.RecipientState {
	out := make([]syndicate.RecipientState, len(res))
	for i, r := range res {
		out[i] = r.State
	}
	return out
}

// parts splits a raw message into its headers and its decoded text and
// HTML parts, checking the MIME structure on the way.
func parts(t *testing.T, raw string) (mail.Header, string, string) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatalf("not a message: %v", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var text, htm string
	for i := 0; ; i++ {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if cte := p.Header.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
			t.Errorf("part %d: Content-Transfer-Encoding %q", i, cte)
		}
		encoded, _ := io.ReadAll(p)
		for _, line := range strings.Split(string(encoded), "\r\n") {
			if len(line) > 76 {
				t.Errorf("part %d: encoded line of %d characters", i, len(line))
			}
		}
		body, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(encoded)))
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		switch p.Header.Get("Content-Type") {
		case "text/plain; charset=UTF-8":
			text = string(body)
		case "text/html; charset=UTF-8":
			htm = string(body)
		default:
			t.Errorf("part %d: Content-Type %q", i, p.Header.Get("Content-Type"))
		}
	}
	if text == "" || htm == "" {
		t.Fatalf("want a text and an HTML part")
	}
	return msg.Header, text, htm
}

// links returns the href of every <a> and the src and alt of every <img>.
func links(t *testing.T, doc string) (hrefs []string, imgs [][2]string) {
	t.Helper()
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attr := map[string]string{}
			for _, a := range n.Attr {
				attr[a.Key] = a.Val
			}
			switch n.Data {
			case "a":
				hrefs = append(hrefs, attr["href"])
			case "img":
				imgs = append(imgs, [2]string{attr["src"], attr["alt"]})
			case "script":
				t.Errorf("a <script> element in the digest")
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return hrefs, imgs
}

func TestDigestThroughMailpit(t *testing.T) {
	mp := mailpittest.Start(t)
	c := newChannel(t, config(mp.SMTPHost, mp.SMTPPort))
	subs := subscribers(3)
	subs[1].Name, subs[1].Email = "María Pérez", "maria+news@example.net"
	res := send(t, c, subs)
	if got := states(res); !slices.Equal(got, []syndicate.RecipientState{"sent", "sent", "sent"}) {
		t.Fatalf("results %v (%v)", got, res)
	}
	msgs := mp.WaitMessages(3)
	if len(msgs) != 3 {
		t.Fatalf("mailpit has %d messages, want 3", len(msgs))
	}
	seenIDs := map[string]bool{}
	for _, sum := range msgs {
		if len(sum.To) != 1 {
			t.Fatalf("To %v", sum.To)
		}
		var sub syndicate.Subscriber
		for _, s := range subs {
			if s.Email == sum.To[0].Address {
				sub = s
			}
		}
		if sub.ID == 0 {
			t.Fatalf("a message to %v", sum.To)
		}
		link := unsubscribeURL(sub)
		m := mp.Message(sum.ID)
		h := mp.Headers(sum.ID)
		one := func(name string) string {
			t.Helper()
			if len(h[name]) != 1 {
				t.Errorf("%s: header %s = %q, want one", sub.Email, name, h[name])
				return ""
			}
			return strings.Join(strings.Fields(h[name][0]), " ")
		}
		if got, want := one("List-Unsubscribe"), "<"+link+">, <mailto:unsubscribe@example.org?subject=unsubscribe>"; got != want {
			t.Errorf("List-Unsubscribe = %q, want %q", got, want)
		}
		if got := one("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
			t.Errorf("List-Unsubscribe-Post = %q", got)
		}
		if got := one("List-Id"); got != `"Emancipation" <en.news.example.org>` {
			t.Errorf("List-Id = %q", got)
		}
		id := one("Message-Id")
		if !regexp.MustCompile(`^<digest\.7\.[0-9a-f]{24}@example\.org>$`).MatchString(id) || seenIDs[id] {
			t.Errorf("Message-ID %q (unique, of the sender's domain)", id)
		}
		seenIDs[id] = true
		if d, err := mail.ParseDate(one("Date")); err != nil || !d.Equal(now) {
			t.Errorf("Date %q: %v", one("Date"), err)
		}
		if m.From.Address != "news@example.org" || m.From.Name != "Emancipation" {
			t.Errorf("From %+v", m.From)
		}
		if sub.Name != "" && m.To[0].Name != sub.Name {
			t.Errorf("To %+v, want the name %q", m.To[0], sub.Name)
		}
		if want := "A new era in South America — and 3 articles"; m.Subject != want && sum.Subject != want {
			t.Errorf("Subject %q, want %q", m.Subject, want)
		}
		if one("Content-Language") != "en" {
			t.Errorf("Content-Language %q", one("Content-Language"))
		}

		// Both parts, as mailpit decoded them, and as they were sent.
		_, text, htm := parts(t, mp.Raw(sum.ID))
		if strings.TrimSpace(m.Text) != strings.TrimSpace(text) {
			t.Errorf("mailpit's text part differs from the one sent")
		}
		for _, a := range articles() {
			if !strings.Contains(text, a.Link) || !strings.Contains(m.HTML, a.Link) {
				t.Errorf("%s: the link of %q is missing", sub.Email, a.Title)
			}
			if !strings.Contains(strings.Join(strings.Fields(text), " "), a.Title) {
				t.Errorf("%s: the text part lacks %q", sub.Email, a.Title)
			}
		}
		if !strings.Contains(text, link) {
			t.Errorf("%s: the text part lacks the personal unsubscribe link", sub.Email)
		}
		// Newest first, dates in English in Madrid's zone.
		if i, j := strings.Index(text, "A new era"), strings.Index(text, "Protests in"); i < 0 || j < 0 || i > j {
			t.Errorf("articles not newest first")
		}
		for _, want := range []string{"Friday, 27 November 2026", "26 November 2026", "KAZAKHSTAN · MASS STRIKE", "3 new articles",
			"Read also:", "- The mass strike & its lessons: https://en.communia.blog/mass-strike?a=1&b=2"} {
			if !strings.Contains(text, want) {
				t.Errorf("text part lacks %q", want)
			}
		}
		for line := range strings.Lines(text) {
			if l := len([]rune(strings.TrimRight(line, "\r\n"))); l > 72 && !strings.Contains(line, "http") {
				t.Errorf("text line of %d characters: %q", l, line)
			}
		}
		hrefs, imgs := links(t, htm)
		if !slices.Contains(hrefs, link) {
			t.Errorf("%s: HTML has no link %q (has %q)", sub.Email, link, hrefs)
		}
		for _, a := range articles() {
			if !slices.Contains(hrefs, a.Link) {
				t.Errorf("HTML: no link to %q", a.Title)
			}
		}
		if !slices.Contains(hrefs, "https://en.communia.blog/mass-strike?a=1&b=2") {
			t.Errorf("HTML: the Read also link is missing or mangled: %q", hrefs)
		}
		if len(imgs) != 1 || imgs[0] != [2]string{"https://en.communia.blog/kazakhstan-strike.jpg", "Oil workers on wildcat strike, start of protests in Kazakhstan."} {
			t.Errorf("images %q, want the featured image with its caption as alt text", imgs)
		}
		for _, want := range []string{`<meta name="viewport"`, "display:none", "3 new articles: A new era in South America · Who is afraid",
			"max-width:600px", "&lt;script&gt;", "Friday, 27 November 2026"} {
			if !strings.Contains(htm, want) {
				t.Errorf("HTML lacks %q", want)
			}
		}
	}
}

func TestSpanishDigest(t *testing.T) {
	cfg := config("127.0.0.1", 25)
	cfg.Language, cfg.Subject = "es", ""
	c := newChannel(t, cfg)
	r, err := c.Preview(digest, articles())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"viernes, 27 de noviembre de 2026", "26 de noviembre de 2026", "3 artículos nuevos",
		"Leer el artículo", "Lee también", "Darse de baja con un clic", "lista «en» de Emancipation",
		unsubscribeURL(syndicate.Subscriber{Email: "subscriber@example.org"})} {
		if !strings.Contains(strings.Join(strings.Fields(r.Text), " "), want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if !strings.Contains(r.HTML, `<html lang="es">`) || !strings.Contains(r.HTML, "Leer el artículo") {
		t.Errorf("HTML not in Spanish")
	}
	if r.Subject != "A new era in South America — digest" {
		t.Errorf("default subject %q", r.Subject)
	}
}

// The parts are encoded once; a recipient's copy is the encoded runs and
// the lines with its link encoded anew: the same bytes as encoding its
// whole rendering.
func TestEachCopyIsTheWholeEncodingWithItsOwnLink(t *testing.T) {
	f := newFakeSMTP(t)
	f.serve()
	c := newChannel(t, config("127.0.0.1", f.port()))
	subs := subscribers(2)
	subs[1].Email = "a-very-long-address-that-makes-a-long-line.in.the.quoted.printable.encoding@example.net"
	send(t, c, subs)
	_, _, msgs := f.snapshot()
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	slices.SortFunc(msgs, func(a, b fakeMessage) int { return strings.Compare(a.rcpt, b.rcpt) })
	slices.SortFunc(subs, func(a, b syndicate.Subscriber) int { return strings.Compare(a.Email, b.Email) })
	for i, m := range msgs {
		_, text, htm := parts(t, m.data)
		link := unsubscribeURL(subs[i])
		if !strings.Contains(text, link) || !strings.Contains(htm, strings.ReplaceAll(link, "&", "&amp;")) {
			t.Errorf("copy %d lacks its link", i)
		}
		other := unsubscribeURL(subs[1-i])
		if strings.Contains(text, other) || strings.Contains(htm, other) {
			t.Errorf("copy %d has the other's link", i)
		}
		// Re-encode the decoded part whole and compare with what was sent.
		msg, _ := mail.ReadMessage(strings.NewReader(m.data))
		_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		mr := multipart.NewReader(msg.Body, params["boundary"])
		for _, decoded := range []string{text, htm} {
			p, err := mr.NextRawPart()
			if err != nil {
				t.Fatal(err)
			}
			sent, _ := io.ReadAll(p)
			var whole bytes.Buffer
			qp := quotedprintable.NewWriter(&whole)
			qp.Write([]byte(decoded))
			qp.Close()
			if got, want := strings.TrimRight(string(sent), "\r\n"), strings.TrimRight(whole.String(), "\r\n"); got != want {
				t.Errorf("copy %d: the part differs from its whole encoding", i)
			}
		}
	}
}

// One connection carries many messages: no NOOP before each, no RSET after
// a success; Connections bounds the connections.
func TestConnectionsCarryManyMessages(t *testing.T) {
	f := newFakeSMTP(t)
	f.serve()
	cfg := config("127.0.0.1", f.port())
	cfg.Connections = 3
	c := newChannel(t, cfg)
	m, err := c.Prepare(context.Background(), digest, articles())
	if err != nil {
		t.Fatal(err)
	}
	for range 4 { // several batches over the same connections
		res, err := m.Send(context.Background(), subscribers(25), nil)
		if err != nil || slices.ContainsFunc(res, func(r syndicate.MailResult) bool { return r.State != syndicate.RecipientSent }) {
			t.Fatalf("Send: %v %v", err, res)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	conns, _, msgs := f.snapshot()
	if len(msgs) != 100 || conns < 1 || conns > 3 {
		t.Errorf("%d messages over %d connections; want 100 over at most 3", len(msgs), conns)
	}
	if n, r := f.count("NOOP"), f.count("RSET"); n != 0 || r != 0 {
		t.Errorf("%d NOOP and %d RSET for messages that all went through", n, r)
	}
	if q := f.count("QUIT"); q != conns {
		t.Errorf("%d QUIT for %d connections", q, conns)
	}
	if a := f.count("AUTH"); a != 0 {
		t.Errorf("AUTH without a user name")
	}
}

func TestRateCapsTheMessagesPerSecond(t *testing.T) {
	f := newFakeSMTP(t)
	f.serve()
	cfg := config("127.0.0.1", f.port())
	cfg.Rate, cfg.Connections = 50, 4
	cfg.Now = time.Now
	c := newChannel(t, cfg)
	start := time.Now()
	send(t, c, subscribers(30))
	// A burst of 4, then 50 a second: 26 more take at least 0.5 s.
	if took := time.Since(start); took < 450*time.Millisecond {
		t.Errorf("30 messages at 50/s took %v", took)
	}
}

// 4xx is deferred, 5xx failed; a connection lost before the end of the
// data deferred, after it uncertain: with the commands pipelined, one at a
// time, and to a server that takes DATA after refusing the recipient.
func TestSMTPErrorsAreClassified(t *testing.T) {
	for _, mode := range []string{"pipelining", "one command at a time", "lenient DATA"} {
		t.Run(mode, func(t *testing.T) {
			testSMTPErrorsAreClassified(t, mode)
		})
	}
}

func testSMTPErrorsAreClassified(t *testing.T, mode string) {
	f := newFakeSMTP(t)
	f.rcptReply = func(addr string) string {
		switch {
		case strings.HasPrefix(addr, "greylisted"):
			return "450 4.2.0 greylisted, try again later"
		case strings.HasPrefix(addr, "unknown"):
			return "550 5.1.1 no such user"
		case strings.HasPrefix(addr, "drop-rcpt"):
			return "DROP"
		}
		return ""
	}
	f.endReply = func(rcpt string) string {
		switch {
		case strings.HasPrefix(rcpt, "spam"):
			return "554 5.7.1 rejected as spam"
		case strings.HasPrefix(rcpt, "full"):
			return "452 4.2.2 mailbox full"
		case strings.HasPrefix(rcpt, "drop-data"):
			return "DROP"
		}
		return ""
	}
	f.noPipelining = mode == "one command at a time"
	f.lenientData = mode == "lenient DATA"
	f.serve()
	cfg := config("127.0.0.1", f.port())
	cfg.Connections = 1
	c := newChannel(t, cfg)
	names := []string{"ok1", "greylisted", "unknown", "spam", "full", "drop-rcpt", "ok2", "drop-data", "ok3", "bad\r\naddress"}
	var subs []syndicate.Subscriber
	for i, n := range names {
		subs = append(subs, syndicate.Subscriber{ID: int64(i + 1), List: "en", Email: n + "@example.net"})
	}
	res := send(t, c, subs)
	want := []syndicate.RecipientState{"sent", "deferred", "failed", "failed", "deferred", "deferred", "sent", "uncertain", "sent", "failed"}
	if got := states(res); !slices.Equal(got, want) {
		t.Errorf("states\n got %v\nwant %v", got, want)
	}
	for i, r := range res {
		if r.State != syndicate.RecipientSent && r.Err == nil {
			t.Errorf("%s: %s without an error", names[i], r.State)
		}
	}
	if e := res[1].Err.Error(); !strings.Contains(e, "450") || !strings.Contains(e, "4.2.0 greylisted") {
		t.Errorf("deferred error %q, want the server's words", res[1].Err)
	}
	if f.count("RSET") < 4 {
		t.Errorf("%d RSET after refused transactions", f.count("RSET"))
	}
	_, _, msgs := f.snapshot()
	if len(msgs) != 3 {
		t.Errorf("%d messages taken, want the 3 sent", len(msgs))
	}
}

// A sender the server refuses, or a server that cannot be reached, stops
// the batch: nothing more is tried, everything comes back deferred.
func TestServerThatTakesNothingStopsTheBatch(t *testing.T) {
	f := newFakeSMTP(t)
	f.mailReply = func() string { return "553 5.7.1 sender not allowed" }
	f.serve()
	c := newChannel(t, config("127.0.0.1", f.port()))
	m, _ := c.Prepare(context.Background(), digest, articles())
	res, err := m.Send(context.Background(), subscribers(20), nil)
	m.Close()
	if err == nil || !strings.Contains(err.Error(), "refused the sender") {
		t.Fatalf("Send error %v", err)
	}
	for _, r := range res {
		if r.State != syndicate.RecipientDeferred {
			t.Fatalf("results %v, want all deferred", states(res))
		}
	}
	if n := f.count("MAIL"); n > 4 {
		t.Errorf("%d MAIL FROM after the sender was refused", n)
	}

	f.ln.Close() // nobody listens now
	c = newChannel(t, config("127.0.0.1", f.port()))
	m, _ = c.Prepare(context.Background(), digest, articles())
	res, err = m.Send(context.Background(), subscribers(5), nil)
	m.Close()
	if err == nil || states(res)[4] != syndicate.RecipientDeferred {
		t.Fatalf("unreachable server: %v %v", err, states(res))
	}
}

func TestTLSPolicies(t *testing.T) {
	serverTLS, roots := selfSigned(t)

	// starttls: upgraded, then AUTH with the user name.
	f := newFakeSMTP(t)
	f.startTLS, f.authUser, f.authPass = serverTLS, "news", "s3cret pass"
	f.serve()
	cfg := config("127.0.0.1", f.port())
	cfg.TLS, cfg.Username, cfg.Password = email.TLSStartTLS, "news", "s3cret pass"
	cfg.TLSConfig = serverTLSClient(roots)
	cfg.Connections = 1
	c := newChannel(t, cfg)
	if res := send(t, c, subscribers(2)); !slices.Equal(states(res), []syndicate.RecipientState{"sent", "sent"}) {
		t.Fatalf("starttls: %v", res)
	}
	if f.count("STARTTLS") != 1 || f.authed != 1 {
		t.Errorf("STARTTLS %d, AUTH %d, want one each", f.count("STARTTLS"), f.authed)
	}
	msg, err := c.Check(context.Background())
	if err != nil || !strings.Contains(msg, "authenticated as news") {
		t.Errorf("Check: %q, %v", msg, err)
	}

	// starttls is mandatory: a server without it is refused.
	plain := newFakeSMTP(t)
	plain.serve()
	cfg.Port = plain.port()
	c = newChannel(t, cfg)
	if _, err := c.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("starttls against a server without it: %v", err)
	}
	if _, _, msgs := plain.snapshot(); len(msgs) != 0 || plain.count("MAIL") != 0 {
		t.Error("mail went out in clear text")
	}

	// tls: TLS from the first byte.
	implicit := newFakeSMTP(t)
	implicit.implicitTLS = serverTLS
	implicit.serve()
	cfg = config("127.0.0.1", implicit.port())
	cfg.TLS, cfg.TLSConfig = email.TLSImplicit, serverTLSClient(roots)
	c = newChannel(t, cfg)
	if res := send(t, c, subscribers(1)); res[0].State != syndicate.RecipientSent {
		t.Fatalf("implicit TLS: %v", res)
	}
	if implicit.count("STARTTLS") != 0 || implicit.count("AUTH") != 0 {
		t.Error("STARTTLS or AUTH on an implicit TLS connection without a user name")
	}

	// A wrong password fails the check, and the password is in no error.
	f.authPass = "other"
	cfg = config("127.0.0.1", f.port())
	cfg.TLS, cfg.Username, cfg.Password, cfg.TLSConfig = email.TLSStartTLS, "news", "s3cret pass", serverTLSClient(roots)
	c = newChannel(t, cfg)
	if _, err := c.Check(context.Background()); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Check with a wrong password: %v", err)
	}
}

func TestDKIMSignsTheListUnsubscribeHeaders(t *testing.T) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeSMTP(t)
	f.serve()
	cfg := config("127.0.0.1", f.port())
	cfg.DKIM = &email.DKIM{Domain: "example.org", Selector: "news", Key: key}
	c := newChannel(t, cfg)
	send(t, c, subscribers(2))
	_, _, msgs := f.snapshot()
	for _, m := range msgs {
		msg, err := mail.ReadMessage(strings.NewReader(m.data))
		if err != nil {
			t.Fatal(err)
		}
		sig := strings.Join(strings.Fields(msg.Header.Get("DKIM-Signature")), "")
		h := regexp.MustCompile(`(?:^|;)h=([^;]+)`).FindStringSubmatch(sig)
		if h == nil {
			t.Fatalf("DKIM-Signature %q", sig)
		}
		signed := strings.Split(strings.ToLower(h[1]), ":")
		for _, want := range []string{"from", "to", "subject", "date", "message-id", "list-unsubscribe", "list-unsubscribe-post", "list-id"} {
			if !slices.Contains(signed, want) {
				t.Errorf("DKIM h= %q lacks %s", h[1], want)
			}
		}
		if !strings.Contains(sig, "a=ed25519-sha256") || !strings.Contains(sig, "d=example.org") || !strings.Contains(sig, "s=news") {
			t.Errorf("DKIM-Signature %q", sig)
		}
		if err := verifyDKIM(m.data, pub); err != nil {
			t.Errorf("DKIM signature does not verify: %v", err)
		}
	}
}

// verifyDKIM checks an ed25519-sha256 signature with relaxed/relaxed
// canonicalization (RFC 6376 3.4.2, 3.4.4; RFC 8463), independently of
// go-mail.
func verifyDKIM(raw string, pub ed25519.PublicKey) error {
	head, body, ok := strings.Cut(raw, "\r\n\r\n")
	if !ok {
		return errors.New("no body")
	}
	var fields []string // unfolded header fields, in order
	for _, line := range strings.Split(head, "\r\n") {
		if (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) && len(fields) > 0 {
			fields[len(fields)-1] += line
			continue
		}
		fields = append(fields, line)
	}
	wsp := regexp.MustCompile(`[ \t]+`)
	relaxed := func(field string) string {
		name, value, _ := strings.Cut(field, ":")
		return strings.ToLower(strings.TrimSpace(name)) + ":" + strings.TrimSpace(wsp.ReplaceAllString(value, " "))
	}
	var sigField string
	for _, f := range fields {
		if strings.HasPrefix(strings.ToLower(f), "dkim-signature:") {
			sigField = f
		}
	}
	tags := map[string]string{}
	for _, tag := range strings.Split(strings.SplitN(sigField, ":", 2)[1], ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(tag), "=")
		tags[k] = strings.Join(strings.Fields(v), "")
	}
	// Body hash.
	lines := strings.Split(body, "\r\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(wsp.ReplaceAllString(l, " "), " ")
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	canonBody := ""
	if len(lines) > 0 {
		canonBody = strings.Join(lines, "\r\n") + "\r\n"
	}
	bh := sha256.Sum256([]byte(canonBody))
	if got := base64.StdEncoding.EncodeToString(bh[:]); got != tags["bh"] {
		return fmt.Errorf("body hash %s, signed %s", got, tags["bh"])
	}
	// Header hash: the signed fields, bottom-most first for repeats, then
	// the signature field with b= empty.
	used := map[int]bool{}
	var data strings.Builder
	for _, name := range strings.Split(tags["h"], ":") {
		for i := len(fields) - 1; i >= 0; i-- {
			n, _, _ := strings.Cut(fields[i], ":")
			if !used[i] && strings.EqualFold(strings.TrimSpace(n), name) {
				used[i] = true
				data.WriteString(relaxed(fields[i]) + "\r\n")
				break
			}
		}
	}
	unsigned := regexp.MustCompile(`(;\s*b=)[^;]*$`).ReplaceAllString(sigField, "$1")
	data.WriteString(relaxed(unsigned))
	sig, err := base64.StdEncoding.DecodeString(tags["b"])
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(data.String()))
	if !ed25519.Verify(pub, sum[:], sig) {
		return errors.New("bad signature")
	}
	return nil
}

func TestSendConfirmationThroughMailpit(t *testing.T) {
	mp := mailpittest.Start(t)
	cfg := config(mp.SMTPHost, mp.SMTPPort)
	cfg.Language = "es"
	c := newChannel(t, cfg)
	sub := syndicate.Subscriber{List: "es", Email: "lector@example.net", Name: "Lector Ñandú"}
	link := "http://127.0.0.1:8080/confirm/abc.def"
	if err := c.SendConfirmation(context.Background(), sub, link); err != nil {
		t.Fatal(err)
	}
	msgs := mp.WaitMessages(1)
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := mp.Message(msgs[0].ID)
	if m.To[0].Address != sub.Email || m.To[0].Name != sub.Name || !strings.HasPrefix(m.Subject, "Confirma tu suscripción") {
		t.Errorf("To %+v, Subject %q", m.To, m.Subject)
	}
	for _, want := range []string{link, "Confirma tu suscripción", "Please confirm your subscription", "48"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("confirmation lacks %q:\n%s", want, m.Text)
		}
	}
	if h := mp.Headers(msgs[0].ID); len(h["Auto-Submitted"]) != 1 || len(h["Message-Id"]) != 1 {
		t.Errorf("headers %v", h)
	}
}

func TestCheckThroughMailpit(t *testing.T) {
	mp := mailpittest.Start(t)
	c := newChannel(t, config(mp.SMTPHost, mp.SMTPPort))
	if msg, err := c.Check(context.Background()); err != nil || !strings.Contains(msg, "tls none") {
		t.Errorf("Check = %q, %v", msg, err)
	}
}

func TestConfigIsChecked(t *testing.T) {
	good := config("127.0.0.1", 25)
	for name, change := range map[string]func(c *email.Config){
		"no list":        func(c *email.Config) { c.List = "" },
		"bad from":       func(c *email.Config) { c.From = "not an address" },
		"no tls policy":  func(c *email.Config) { c.TLS = "" },
		"bad port":       func(c *email.Config) { c.Port = 0 },
		"bad subject":    func(c *email.Config) { c.Subject = "{{.Title" },
		"unknown field":  func(c *email.Config) { c.Subject = "{{.Nope}}" },
		"negative rate":  func(c *email.Config) { c.Rate = -1 },
		"password alone": func(c *email.Config) { c.Password = "x" },
	} {
		cfg := good
		change(&cfg)
		if _, err := email.New(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := email.New(good); err != nil {
		t.Errorf("good config: %v", err)
	}
}

func TestSendStopsWaitingWhenTheContextEnds(t *testing.T) {
	f := newFakeSMTP(t)
	f.serve()
	cfg := config("127.0.0.1", f.port())
	cfg.Rate, cfg.Connections = 1, 1
	c := newChannel(t, cfg)
	m, _ := c.Prepare(context.Background(), digest, articles())
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	res, _ := m.Send(ctx, subscribers(5), nil)
	if res[0].State != syndicate.RecipientSent || res[4].State != syndicate.RecipientDeferred || res[4].Err == nil {
		t.Errorf("results %v", res)
	}
}

// messageLog is what the pipeline gives a mailing: it checks that each
// message begins just before its SMTP transaction, and ends (with its
// outcome) before its connection begins another.
type messageLog struct {
	t      *testing.T
	f      *fakeSMTP
	refuse string

	mu    sync.Mutex
	begun map[string]int
	ended map[string]syndicate.MailResult
}

func (l *messageLog) Begin(s syndicate.Subscriber) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.begun[s.Email]++
	if mails := l.f.count("MAIL"); mails >= len(l.begun) {
		l.t.Errorf("%s begun after the server saw %d MAIL FROM for %d messages begun", s.Email, mails, len(l.begun))
	}
	if inFlight := len(l.begun) - len(l.ended); inFlight > email.DefaultConnections {
		l.t.Errorf("%d messages begun and not ended, on %d connections", inFlight, email.DefaultConnections)
	}
	if s.Email == l.refuse {
		return errors.New("the store is gone")
	}
	return nil
}

func (l *messageLog) Ended(s syndicate.Subscriber, res syndicate.MailResult) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, twice := l.ended[s.Email]; twice {
		l.t.Errorf("%s ended twice", s.Email)
	}
	l.ended[s.Email] = res
}

// TestBeginBeforeEachTransaction: the pipeline hears of each message just
// before its SMTP transaction begins, and of its outcome before its
// connection begins another, so a crash leaves at most one message per
// connection uncertain; a message whose start cannot be recorded is not
// sent.
func TestBeginBeforeEachTransaction(t *testing.T) {
	f := newFakeSMTP(t)
	f.serve()
	c := newChannel(t, config("127.0.0.1", f.port()))
	m, _ := c.Prepare(context.Background(), digest, articles())
	subs := subscribers(12)
	refuse := subs[3].Email
	log := &messageLog{t: t, f: f, refuse: refuse, begun: map[string]int{}, ended: map[string]syndicate.MailResult{}}
	res, err := m.Send(context.Background(), subs, log)
	begun := log.begun
	for i, s := range subs {
		if got := log.ended[s.Email]; got.State != res[i].State {
			t.Errorf("%s ended %s, but Send says %s", s.Email, got.State, res[i].State)
		}
	}
	m.Close()
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	for i, s := range subs {
		if begun[s.Email] != 1 {
			t.Errorf("%s begun %d times, want once", s.Email, begun[s.Email])
		}
		want := syndicate.RecipientSent
		if s.Email == refuse {
			want = syndicate.RecipientDeferred
		}
		if res[i].State != want {
			t.Errorf("%s: %s, want %s", s.Email, res[i].State, want)
		}
	}
	if _, _, msgs := f.snapshot(); len(msgs) != len(subs)-1 {
		t.Errorf("the server took %d messages, want %d (not the one whose start was not recorded)", len(msgs), len(subs)-1)
	}
}
