package telegram

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/channels/telegram/telegramtest"
	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/feed"
)

const baseURLMark = "{{BASE_URL}}"

// fixtures reads the fixture site's feeds (testdata/site, a copy of
// fixtures/site) as the daemon does, with {{BASE_URL}} standing for base.
func fixtures(t *testing.T, base string) []syndicate.Article {
	t.Helper()
	var out []syndicate.Article
	for _, f := range []struct{ id, file, contentType string }{
		{"emancipation-en", "en.rss.xml", "application/rss+xml"},
		{"nuevo-curso-es", "es.atom.xml", "application/atom+xml"},
		{"statements", "statements.json", "application/feed+json"},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", "site", f.file))
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.ReplaceAll(data, []byte(baseURLMark), []byte(base))
		docURL := base + "/" + f.file
		parsed, err := feed.Parse(data, f.contentType, docURL)
		if err != nil {
			t.Fatalf("%s: %v", f.file, err)
		}
		for _, a := range feed.Normalise(f.id, parsed, "en", time.Time{}) {
			if len(a.Related) == 0 {
				a.Related = relatedLinks(a.ContentHTML)
			}
			out = append(out, a)
		}
	}
	if len(out) < 7 {
		t.Fatalf("%d fixture articles", len(out))
	}
	return out
}

// relatedLinks finds the "Read also" links of the fixtures' articles, for as
// long as the feed reader does not fill Article.Related itself.
func relatedLinks(content string) []syndicate.Link {
	doc, err := html.Parse(strings.NewReader(content))
	if err != nil {
		return nil
	}
	var links []syndicate.Link
	var walk func(n *html.Node, inside bool)
	walk = func(n *html.Node, inside bool) {
		if n.Type == html.ElementNode && n.Data == "p" {
			for _, a := range n.Attr {
				inside = inside || (a.Key == "class" && a.Val == "read-also")
			}
		}
		if inside && n.Type == html.ElementNode && n.Data == "a" {
			var text strings.Builder
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.TextNode {
					text.WriteString(c.Data)
				}
			}
			for _, a := range n.Attr {
				if a.Key == "href" {
					links = append(links, syndicate.Link{Title: text.String(), URL: a.Val})
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inside)
		}
	}
	walk(doc, false)
	return links
}

func slug(a syndicate.Article) string {
	return a.FeedID + "-" + path.Base(strings.TrimSuffix(a.Link, "/"))
}

// describe writes a plan as the golden files hold it.
func describe(p plan, base string) string {
	var b strings.Builder
	switch p.shape {
	case shapeMessage:
		preview := "no preview"
		if p.preview {
			preview = "link preview"
		}
		fmt.Fprintf(&b, "== sendMessage, %s · %d/%d\n%s\n", preview, p.text.n, p.text.limit, p.text.text)
	case shapePhoto:
		fmt.Fprintf(&b, "== sendPhoto %s · caption %d/%d\n%s\n", p.image, p.caption.n, p.caption.limit, p.caption.text)
	case shapeSplit:
		fmt.Fprintf(&b, "== sendPhoto %s · caption %d/%d\n%s\n", p.image, p.caption.n, p.caption.limit, p.caption.text)
		fmt.Fprintf(&b, "== sendMessage replying to it, no preview · %d/%d\n%s\n", p.text.n, p.text.limit, p.text.text)
	}
	return strings.ReplaceAll(b.String(), base, baseURLMark)
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("rendering differs from %s:\n%s\nwant:\n%s", file, got, want)
	}
}

// The fixture site's articles, English and Spanish, rendered with the
// defaults of the configuration (max_hashtags: 4), then sent to the fake
// server, which must take exactly that.
func TestFixtureGolden(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "site"))
	if err != nil {
		t.Fatal(err)
	}
	site := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer site.Close()
	jpeg, err := os.ReadFile(filepath.Join(dir, "kazakhstan-strike.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range fixtures(t, site.URL) {
		t.Run(slug(a), func(t *testing.T) {
			srv := newServer(t)
			c := newChannel(t, srv, func(cfg *Config) { cfg.MaxHashtags = 4 })
			p, err := c.plan(a, true)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, slug(a), describe(p, site.URL))

			r, se := c.Send(context.Background(), post(a))
			if se != nil {
				t.Fatal(se)
			}
			if r.Warning != "" {
				t.Errorf("warning: %s", r.Warning)
			}
			msgs := srv.Messages()
			var want []string
			switch p.shape {
			case shapeMessage:
				want = []string{p.text.text}
			case shapePhoto:
				want = []string{p.caption.text}
			case shapeSplit:
				want = []string{p.caption.text, p.text.text}
			}
			if len(msgs) != len(want) {
				t.Fatalf("%d messages sent, want %d", len(msgs), len(want))
			}
			for i, m := range msgs {
				if m.Text != want[i] {
					t.Errorf("message %d: sent %q, want %q", i, m.Text, want[i])
				}
				if m.Method == "sendPhoto" && !bytes.Equal(m.PhotoUpload, jpeg) {
					t.Errorf("the photo was not uploaded: %q, %d bytes", m.Photo, len(m.PhotoUpload))
				}
				if plain, err := telegramtest.ParseHTML(m.Text); err != nil || strings.ContainsAny(plain, "<>") != strings.ContainsAny(a.Title+a.Summary, "<>") {
					t.Errorf("message %d shown as %q: %v", i, plain, err)
				}
			}
		})
	}
}

// The converter on real content: a template that shows the article's
// content instead of its summary, cut to fit a message.
func TestFixtureContentGolden(t *testing.T) {
	const base = "https://communia.example"
	srv := newServer(t)
	c := newChannel(t, srv, func(cfg *Config) {
		cfg.Mode = ModeText
		cfg.Template = `<b>{{escape .Title}}</b>

{{.Content}}

<a href="{{escape .Link}}">{{escape .Link}}</a>`
	})
	for _, a := range fixtures(t, base) {
		if !strings.Contains(a.Link, "kazakhstan") && !strings.Contains(a.Link, "kazajistan") {
			continue
		}
		t.Run(slug(a), func(t *testing.T) {
			p, err := c.plan(a, true)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, slug(a)+"-content", describe(p, base))
			if _, err := c.Send(context.Background(), post(a)); err != nil {
				t.Fatal(err)
			}
			if n := channels.UTF16Len(srv.Messages()[len(srv.Messages())-1].Plain); n > MaxTextLength {
				t.Errorf("%d characters sent", n)
			}
		})
	}
}
