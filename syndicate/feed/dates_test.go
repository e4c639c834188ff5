package feed

import (
	"strings"
	"testing"
	"time"
)

// TestReadDate reads every form of date and every zone readDate knows,
// and says which readings warn.
func TestReadDate(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 in UTC; "" for unreadable
		warn string // a piece of the warning; "" for none
	}{
		// RFC 822 / 1123 / 2822 with numeric offsets.
		{"Mon, 10 Jan 2022 13:00:00 +0000", "2022-01-10T13:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 +0900", "2022-01-10T04:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 -0500", "2022-01-10T18:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 +05:30", "2022-01-10T07:30:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 -03", "2022-01-10T16:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00 +0100", "2022-01-10T12:00:00Z", ""},
		{"10 Jan 2022 13:00:00 +0100", "2022-01-10T12:00:00Z", ""},
		{"Mon, 10 Jan 22 13:00:00 +0100", "2022-01-10T12:00:00Z", ""},
		{"Mon, 3 Jan 2022 9:05:00 +0100", "2022-01-03T08:05:00Z", ""},
		{"Mon, 03 Jan 2022 10:00:00 +0100 (CET)", "2022-01-03T09:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 GMT+1", "2022-01-10T12:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 GMT+01:00", "2022-01-10T12:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 UTC+01:00", "2022-01-10T12:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 UTC-5", "2022-01-10T18:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 GMT +0200", "2022-01-10T11:00:00Z", ""},
		{"Mon Jan 10 13:00:00 JST 2022", "2022-01-10T04:00:00Z", ""},
		{"Mon Jan 10 13:00:00 2022", "2022-01-10T13:00:00Z", "no time zone"},
		{"January 10, 2022 1:00 pm EST", "2022-01-10T18:00:00Z", ""},
		{"January 10, 2022 12:30 AM +0000", "2022-01-10T00:30:00Z", ""},

		// Zone names.
		{"Mon, 10 Jan 2022 13:00:00 UT", "2022-01-10T13:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 UTC", "2022-01-10T13:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 GMT", "2022-01-10T13:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 Z", "2022-01-10T13:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 JST", "2022-01-10T04:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 KST", "2022-01-10T04:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 MSK", "2022-01-10T10:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 AEST", "2022-01-10T03:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 AEDT", "2022-01-10T02:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 NZST", "2022-01-10T01:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 NZDT", "2022-01-10T00:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 HKT", "2022-01-10T05:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 SGT", "2022-01-10T05:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 HST", "2022-01-10T23:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 AKST", "2022-01-10T22:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 AKDT", "2022-01-10T21:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 MET", "2022-01-10T12:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 MEST", "2022-01-10T11:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 CET", "2022-01-10T12:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 CEST", "2022-01-10T11:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 EET", "2022-01-10T11:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 EEST", "2022-01-10T10:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 IST", "2022-01-10T07:30:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 EST", "2022-01-10T18:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 EDT", "2022-01-10T17:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 CST", "2022-01-10T19:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 CDT", "2022-01-10T18:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 MST", "2022-01-10T20:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 MDT", "2022-01-10T19:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 PST", "2022-01-10T21:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 PDT", "2022-01-10T20:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 pst", "2022-01-10T21:00:00Z", ""},
		{"Mon, 10 Jan 2022 13:00:00 NST", "2022-01-10T16:30:00Z", ""},
		// Ambiguous and unknown zones are read, with a warning.
		{"Mon, 10 Jul 2022 13:00:00 BST", "2022-07-10T12:00:00Z", `ambiguous time zone "BST", read as UTC+01:00`},
		{"Mon, 10 Jan 2022 13:00:00 AST", "2022-01-10T17:00:00Z", `ambiguous time zone "AST"`},
		{"Mon, 10 Jan 2022 13:00:00 XYZ", "2022-01-10T13:00:00Z", `unknown time zone "XYZ", read as UTC`},
		{"Mon, 10 Jan 2022 13:00:00 Q", "2022-01-10T13:00:00Z", `unknown time zone "Q"`},
		{"Mon, 10 Jan 2022 13:00:00", "2022-01-10T13:00:00Z", "no time zone, read as UTC"},
		{"Mon, 10 Jan 2022 13:00:00 +2500", "", ""},

		// ISO 8601 / W3C-DTF.
		{"2003-12-31T10:14:55Z", "2003-12-31T10:14:55Z", ""},
		{"2003-12-31T10:14:55z", "2003-12-31T10:14:55Z", ""},
		{"2003-12-31t10:14:55+01:00", "2003-12-31T09:14:55Z", ""},
		{"2003-12-31T10:14:55.25-05:00", "2003-12-31T15:14:55.25Z", ""},
		{"2003-12-31T10:14:55,5Z", "2003-12-31T10:14:55.5Z", ""},
		{"2003-12-31T10:14:55+0100", "2003-12-31T09:14:55Z", ""},
		{"2003-12-31T10:14:55+01", "2003-12-31T09:14:55Z", ""},
		{"2003-12-31T10:14Z", "2003-12-31T10:14:00Z", ""},
		{"2003-12-31T10Z", "2003-12-31T10:00:00Z", ""},
		{"2003-12-31 10:14:55 +09:00", "2003-12-31T01:14:55Z", ""},
		{"2003-12-31 10:14:55 JST", "2003-12-31T01:14:55Z", ""},
		{"2003-12-31 10:14:55", "2003-12-31T10:14:55Z", "no time zone"},
		{"2003-12-31T10:14:55", "2003-12-31T10:14:55Z", "no time zone"},
		{"2003-12-31T23:59:60Z", "2003-12-31T23:59:59Z", ""},
		{"2003-12-31", "2003-12-31T00:00:00Z", ""},
		{"2003-12", "2003-12-01T00:00:00Z", ""},
		{"2003", "2003-01-01T00:00:00Z", ""},
		// Ordinal and compact forms.
		{"2003-335", "2003-12-01T00:00:00Z", ""},
		{"2004-366", "2004-12-31T00:00:00Z", ""},
		{"2003-335T12:00:00Z", "2003-12-01T12:00:00Z", ""},
		{"2003335", "2003-12-01T00:00:00Z", ""},
		{"20031201", "2003-12-01T00:00:00Z", ""},
		{"20031201T120000Z", "2003-12-01T12:00:00Z", ""},
		{"20031201T1200+0100", "2003-12-01T11:00:00Z", ""},
		{"20031201T120000", "2003-12-01T12:00:00Z", "no time zone"},
		// Not dates.
		{"2003-366", "", ""},
		{"2003-13", "", ""},
		{"2003-02-30", "", ""},
		{"2003-12-31T25:00:00Z", "", ""},
		{"2003-12-31T10:61Z", "", ""},
		{"2003-12-31T10:14:55+15:00", "", ""},
		{"20031", "", ""},

		// Month and day names of the site languages.
		{"lun, 10 ene 2022 13:00:00 +0100", "2022-01-10T12:00:00Z", ""},
		{"lunes, 10 de enero de 2022 13:00", "2022-01-10T13:00:00Z", "no time zone"},
		{"martes, 4 de enero de 2022 a las 09:30 CET", "2022-01-04T08:30:00Z", ""},
		{"mié, 12 dic 2022 10:00:00 +0100", "2022-12-12T09:00:00Z", ""},
		{"4 de enero de 2022", "2022-01-04T00:00:00Z", ""},
		{"lun., 10 janv. 2022 13:00:00 +0100", "2022-01-10T12:00:00Z", ""},
		{"mercredi 5 janvier 2022 à 08h15 CET", "2022-01-05T07:15:00Z", ""},
		{"jeu, 10 févr 2022 13:00:00 +0100", "2022-02-10T12:00:00Z", ""},
		{"dim. 21 août 2022 13:00:00 +0200", "2022-08-21T11:00:00Z", ""},
		{"Mo, 10 Jan 2022 13:00:00 +0100", "2022-01-10T12:00:00Z", ""},
		{"Montag, 10. Januar 2022 13:00 MEZ", "2022-01-10T12:00:00Z", ""},
		{"Do, 6. Mär 2022 12:00:00 +0100", "2022-03-06T11:00:00Z", ""},
		{"Sonntag, 3. Juli 2022 um 10:00 Uhr MESZ", "2022-07-03T08:00:00Z", ""},
		{"10.01.2022 13:00 +0100", "2022-01-10T12:00:00Z", ""},
		{"seg, 10 jan 2022 13:00:00 -0300", "2022-01-10T16:00:00Z", ""},
		{"segunda-feira, 10 de janeiro de 2022 às 13:00 -0300", "2022-01-10T16:00:00Z", ""},
		{"qua, 05 out 2022 08:15:00 -0300", "2022-10-05T11:15:00Z", ""},
		{"sáb, 10 dez 2022 13:00:00 +0000", "2022-12-10T13:00:00Z", ""},
		{"lun, 10 gen 2022 13:00:00 +0100", "2022-01-10T12:00:00Z", ""},
		{"giovedì 10 febbraio 2022 alle ore 13:00 CET", "2022-02-10T12:00:00Z", ""},
		{"gio, 6 dic 2022 08:15:00 PST", "2022-12-06T16:15:00Z", ""},
		{"ven, 10 giu 2022 13:00:00 +0200", "2022-06-10T11:00:00Z", ""},
		{"Mar 4 2022", "2022-03-04T00:00:00Z", ""},

		// Not dates at all.
		{"", "", ""},
		{"yesterday", "", ""},
		{"the day after tomorrow", "", ""},
		{"32 Jan 2022", "", ""},
		{"Mon, 10 Jan 2022 13:00:00 XYZ (a zone) extra", "", ""},
		{strings.Repeat("1 ", 100), "", ""},
	}
	for _, tc := range tests {
		got, warning, ok := readDate(tc.in)
		if tc.want == "" {
			if ok {
				t.Errorf("readDate(%q) = %v, want unreadable", tc.in, got)
			}
			continue
		}
		want, err := time.Parse(time.RFC3339Nano, tc.want)
		if err != nil {
			t.Fatal(err)
		}
		if !ok || !got.Equal(want) {
			t.Errorf("readDate(%q) = %v, %v; want %v", tc.in, got.UTC(), ok, want)
		}
		switch {
		case tc.warn == "" && warning != "":
			t.Errorf("readDate(%q) warns %q, want no warning", tc.in, warning)
		case tc.warn != "" && (!strings.Contains(warning, tc.warn) || !strings.Contains(warning, tc.in)):
			t.Errorf("readDate(%q) warns %q, want it to name the date and say %q", tc.in, warning, tc.warn)
		}
	}
}

// TestItemDates: the raw dates win over gofeed's reading, RSS takes
// dcterms dates, and what could not be read as written is a warning of
// the document naming the item and the raw text.
func TestItemDates(t *testing.T) {
	doc := `<?xml version="1.0"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/">
<channel><title>x</title><link>https://example.org/</link>
<item><guid>jst</guid><pubDate>Mon, 10 Jan 2022 13:00:00 JST</pubDate></item>
<item><guid>issued</guid><dcterms:issued>2022-01-10T13:00:00+09:00</dcterms:issued><dcterms:modified>2022-01-11T13:00:00+09:00</dcterms:modified></item>
<item><guid>issued-over-dc-date</guid><dc:date>2022-01-12T00:00:00Z</dc:date><dcterms:issued>2022-01-10T00:00:00Z</dcterms:issued></item>
<item><guid>dc-date</guid><dc:date>2022-01-12T00:00:00+01:00</dc:date></item>
<item><guid>unknown-zone</guid><pubDate>Mon, 10 Jan 2022 13:00:00 XYZ</pubDate></item>
<item><guid>unreadable</guid><pubDate>the day after tomorrow</pubDate></item>
<item><guid>placeholder-then-good</guid><pubDate>0001-01-01T00:00:00Z</pubDate><dcterms:issued>2022-01-10T00:00:00Z</dcterms:issued></item>
</channel></rss>`
	d, err := Parse([]byte(doc), "", testFeedURL)
	if err != nil {
		t.Fatal(err)
	}
	n := NormaliseDocument("test", d, "en", testNow())
	want := []struct{ key, published, updated string }{
		{"jst", "2022-01-10T04:00:00Z", ""},
		{"issued", "2022-01-10T04:00:00Z", "2022-01-11T04:00:00Z"},
		{"issued-over-dc-date", "2022-01-10T00:00:00Z", "2022-01-12T00:00:00Z"},
		{"dc-date", "2022-01-11T23:00:00Z", "2022-01-11T23:00:00Z"},
		{"unknown-zone", "2022-01-10T13:00:00Z", ""},
		{"unreadable", "", ""},
		{"placeholder-then-good", "2022-01-10T00:00:00Z", ""},
	}
	if len(n.Articles) != len(want) {
		t.Fatalf("got %d articles, want %d", len(n.Articles), len(want))
	}
	format := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format(time.RFC3339)
	}
	for i, w := range want {
		a := n.Articles[i]
		if a.Key != w.key || format(a.Published) != w.published || format(a.Updated) != w.updated {
			t.Errorf("article %d = %q published %q updated %q; want %q, %q, %q", i, a.Key, format(a.Published), format(a.Updated), w.key, w.published, w.updated)
		}
	}
	wantWarnings := []string{
		`item 4 (unknown-zone): published date "Mon, 10 Jan 2022 13:00:00 XYZ": unknown time zone "XYZ", read as UTC`,
		`item 5 (unreadable): published date "the day after tomorrow": unreadable, left out`,
	}
	if strings.Join(n.Warnings, "\n") != strings.Join(wantWarnings, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(n.Warnings, "\n"), strings.Join(wantWarnings, "\n"))
	}
}

// TestWarningsAreBounded: a document full of bad dates gives maxWarnings
// warnings, the last counting the rest.
func TestWarningsAreBounded(t *testing.T) {
	var items []string
	for i := range 25 {
		items = append(items, `<item><guid>g`+string(rune('a'+i))+`</guid><pubDate>Mon, 10 Jan 2022 13:00:00 XYZ</pubDate></item>`)
	}
	d, err := Parse([]byte(rssDoc(items...)), "", testFeedURL)
	if err != nil {
		t.Fatal(err)
	}
	n := NormaliseDocument("test", d, "en", testNow())
	if len(n.Warnings) != maxWarnings || n.Warnings[maxWarnings-1] != "and 16 more warnings" {
		t.Errorf("warnings: %q", n.Warnings)
	}
}
