package feed

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTruncatedDocuments(t *testing.T) {
	tests := []struct {
		name, doc string
		titles    []string // of the articles kept; nil with wantErr
		wantErr   error
	}{
		{"RSS 1.0, namespaced root",
			`<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">` +
				`<channel rdf:about="https://example.org/"><title>T</title></channel>` +
				`<item rdf:about="https://example.org/a"><title>a</title><link>https://example.org/a</link></item>` +
				`<item rdf:about="https://example.org/b"><title>b</ti`,
			[]string{"a"}, nil},
		{"only the root's end tag missing",
			`<rss version="2.0"><channel><title>T</title><item><guid>a</guid><title>a</title></item></channel>`,
			[]string{"a"}, nil},
		{"cut in the first item",
			`<rss version="2.0"><channel><title>T</title><item><guid>a</guid><title>a`,
			[]string{}, nil},
		{"cut in a comment after the items",
			`<rss version="2.0"><channel><item><guid>a</guid><title>a</title></item><item><guid>b</guid><title>b</title></item><!-- end`,
			[]string{"a", "b"}, nil},
		{"cut before any item",
			`<?xml version="1.0"?><rss version="2.0"><chan`,
			nil, ErrCutShort},
		{"cut in the DOCTYPE",
			`<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "x">`,
			nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse([]byte(tc.doc), "", testFeedURL)
			if tc.titles == nil {
				if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !d.Truncated {
				t.Error("Truncated not set")
			}
			var titles []string
			for _, a := range Normalise("test", d, "en", testNow()) {
				titles = append(titles, a.Title)
			}
			if strings.Join(titles, "|") != strings.Join(tc.titles, "|") {
				t.Errorf("titles %q, want %q", titles, tc.titles)
			}
		})
	}
	t.Run("complete document", func(t *testing.T) {
		d, err := Parse([]byte(minimalRSS("x")), "", testFeedURL)
		if err != nil || d.Truncated {
			t.Fatalf("Truncated %v, err %v", d != nil && d.Truncated, err)
		}
	})
}

func TestExpandEntities(t *testing.T) {
	tests := []struct{ name, doc, want, wantErr string }{
		{"no DOCTYPE", `<rss>&a;</rss>`, `<rss>&a;</rss>`, ""},
		{"DOCTYPE without a subset is removed", `<?xml version="1.0"?><!DOCTYPE rss SYSTEM "http://example.org/rss.dtd"><rss>&a;</rss>`, `<?xml version="1.0"?><rss>&a;</rss>`, ""},
		{"first declaration wins, predefined ones stay",
			`<!DOCTYPE r [<!ENTITY a "1"><!ENTITY a "2"><!ENTITY lt "no">]><r>&a;&lt;&hellip;&#38;</r>`,
			`<r>1&lt;&hellip;&#38;</r>`, ""},
		{"quotes, comments and brackets inside the subset",
			`<!DOCTYPE r [<!-- ] > --><!ENTITY a 'say "]>"'><!ATTLIST r x CDATA "]">]><r>&a;</r>`,
			`<r>say "]>"</r>`, ""},
		{"markup in a value becomes markup", `<!DOCTYPE r [<!ENTITY b "<b>x</b>">]><r>&b;</r>`, `<r><b>x</b></r>`, ""},
		{"not in comments, CDATA nor attributes' neighbours",
			`<!DOCTYPE r [<!ENTITY a "A">]><r x="&a;"><!-- &a; --><![CDATA[&a;]]>&a;</r>`,
			`<r x="A"><!-- &a; --><![CDATA[&a;]]>A</r>`, ""},
		{"external entities become nothing",
			`<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd"><!ENTITY p PUBLIC "-//x" "http://x/">]><r>[&e;&p;]</r>`,
			`<r>[]</r>`, ""},
		{"parameter entities are ignored",
			`<!DOCTYPE r [<!ENTITY % p "<!ENTITY a 'hidden'>"> %p;]><r>&a;</r>`,
			`<r>&a;</r>`, ""},
		{"indirect cycle", `<!DOCTYPE r [<!ENTITY a "&b;"><!ENTITY b "&c;"><!ENTITY c "&a;">]><r>&a;</r>`, "",
			"refused the entity &a; declared in the DOCTYPE: it refers to itself"},
		{"too deep", `<!DOCTYPE r [` + chain(20) + `]><r>&e0;</r>`, "", "nested more than 16 deep"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := expandEntities([]byte(tc.doc))
			if tc.wantErr != "" {
				var entityErr *EntityError
				if !errors.As(err, &entityErr) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Errorf("got %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

// chain declares e0 … e(n-1), each referring to the next.
func chain(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(`<!ENTITY e` + strconv.Itoa(i) + ` "&e` + strconv.Itoa(i+1) + `;">`)
	}
	return b.String()
}

func TestParseDate(t *testing.T) {
	utc := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	tests := []struct {
		in   string
		want time.Time // zero: unreadable
	}{
		{"Mon, 03 Jan 2022 10:00:00 +0100 (CET)", utc("2022-01-03T09:00:00Z")},
		{"Mon, 03 Jan 2022 10:00:00 (a (nested) comment) GMT", utc("2022-01-03T10:00:00Z")},
		{"lun, 03 ene 2022 10:00:00 +0100", utc("2022-01-03T09:00:00Z")},
		{"mar, 04 ene. 2022 10:00 +01:00", utc("2022-01-04T09:00:00Z")},
		{"Mar 4 2022", utc("2022-03-04T00:00:00Z")},
		{"4 de enero de 2022", utc("2022-01-04T00:00:00Z")},
		{"sábado, 8 de enero de 2022 18:00:00 CET", utc("2022-01-08T17:00:00Z")},
		{"5 janvier 2022 08:15", utc("2022-01-05T08:15:00Z")},
		{"Mi, 5. Jänner 2022 08:15:00 +0100", utc("2022-01-05T07:15:00Z")},
		{"qua, 05 out 2022 08:15:00 -0300", utc("2022-10-05T11:15:00Z")},
		{"gio, 6 dic 2022 08:15:00 PST", utc("2022-12-06T16:15:00Z")},
		{"Tue, 4 Jan 22 10:00:00 +0000", utc("2022-01-04T10:00:00Z")},
		{"Tue, 04 Jan 2022 10:00:00 XYZT", utc("2022-01-04T10:00:00Z")},
		{"2022-01-04 10:00:00", utc("2022-01-04T10:00:00Z")},
		{"2022-01-04T10:00:00+0100", utc("2022-01-04T09:00:00Z")},
		{"", time.Time{}},
		{"yesterday", time.Time{}},
		{"32 Jan 2022", time.Time{}},
		{strings.Repeat("1 ", 100), time.Time{}},
	}
	for _, tc := range tests {
		got, ok := parseDate(tc.in)
		if ok != !tc.want.IsZero() || !got.Equal(tc.want) {
			t.Errorf("parseDate(%q) = %v, %v; want %v", tc.in, got, ok, tc.want)
		}
	}
}
