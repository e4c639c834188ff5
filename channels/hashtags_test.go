package channels

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestHashtags(t *testing.T) {
	tests := []struct {
		categories []string
		renames    map[string]string
		n          int
		want       []string
	}{
		{[]string{"Kazakhstan", "Mass strike", "Central Asia"}, nil, 4, []string{"#Kazakhstan", "#MassStrike", "#CentralAsia"}},
		{[]string{"Kazajistán", "Huelga de masas", "Asia Central"}, nil, 2, []string{"#Kazajistán", "#HuelgaDeMasas"}},
		{[]string{"self-organization", "C++", "Year 2022", "2022", "mass strike", "Mass Strike"}, nil, 9, []string{"#SelfOrganization", "#C", "#Year2022", "#MassStrike"}},
		{[]string{"Технологии", "日本", "…", "", "١٢٣", "Col·lectiu", "½"}, nil, 9, []string{"#Технологии", "#日本", "#Col·lectiu"}},
		{[]string{"Kazajista\u0301n", "Ǆungla"}, nil, 9, []string{"#Kazajista\u0301n", "#ǅungla"}},
		{[]string{"Technology"}, nil, 0, nil},
		{[]string{"Technology"}, nil, -1, nil},
		// Joiners stay between letters, never at an end; other characters
		// Mastodon would not link break words.
		{[]string{"·Col·lectiu·", "\u200cmi\u200cxwaham\u200c", "a · b", "x²", "ジョン・スミス", "Louis Ⅻ"}, nil, 9,
			[]string{"#Col·lectiu", "#Mi\u200cxwaham", "#AB", "#X", "#ジョンスミス", "#LouisⅫ"}},
		// Repeats are found without regard to case, in any script.
		{[]string{"Λόγος", "ΛΌΓΟΣ", "ǆungla", "Ǆungla", "straße", "Straße"}, nil, 9, []string{"#Λόγος", "#ǅungla", "#Straße"}},
		{
			[]string{"Statements", "Mass strike", "Central Asia", "Kazakhstan"},
			map[string]string{"statements": "", "mass  STRIKE": "General strike", "Central Asia": "#Kazakhstan"}, 9,
			[]string{"#GeneralStrike", "#Kazakhstan"},
		},
		{
			[]string{"Statements", "mass strike", "Kazakhstan", "Brazil"},
			map[string]string{"statements": "", "Mass Strike": "General strike", "Kazakhstan": "#Qazaqstan", "Brazil": "2022"}, 4,
			[]string{"#GeneralStrike", "#Qazaqstan"},
		},
		// A dropped or repeated category does not count toward the most.
		{[]string{" Statements ", "Kazakhstan", "kazakhstan", "Brazil"}, map[string]string{"Statements": "  "}, 2, []string{"#Kazakhstan", "#Brazil"}},
	}
	for _, tt := range tests {
		got := Hashtags(tt.categories, tt.renames, tt.n)
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("Hashtags(%q, %v, %d) = %q, want %q", tt.categories, tt.renames, tt.n, got, tt.want)
		}
	}
}

// Of two rename keys that fold alike, the same one wins every time.
func TestHashtagsRenamesDeterministic(t *testing.T) {
	renames := map[string]string{"Strike": "General strike", "strike": "Walkout", "STRIKE": ""}
	want := Hashtags([]string{"strike"}, renames, 4)
	for range 50 {
		if got := Hashtags([]string{"strike"}, renames, 4); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("got %q, then %q", want, got)
		}
	}
}

// Mastodon's hashtag syntax (app/models/concerns/tag/naming.rb), in the
// classes that every version of it and its Ruby take: [[:word:]] holds at
// least letters, marks, decimal digits, letter numbers and connectors, and
// [[:alpha:]] at least letters and letter numbers. The separators are
// those of every version (recent ones add the katakana middle dot).
var (
	mastodonWord  = `\p{L}\p{M}\p{Nd}\p{Nl}\p{Pc}`
	mastodonAlpha = `\p{L}\p{Nl}`
	mastodonSep   = "_\u00b7\u200c"
	mastodonName  = `([` + mastodonWord + `_][` + mastodonWord + mastodonSep + `]*[` + mastodonAlpha + mastodonSep + `][` + mastodonWord + mastodonSep + `]*[` + mastodonWord + `_])` +
		`|([` + mastodonWord + `_]*[` + mastodonAlpha + `][` + mastodonWord + `_]*)`
	// mastodonNameRE is Tag::HASHTAG_NAME_RE, which a tag's name must match.
	mastodonNameRE = regexp.MustCompile(`^(?:` + mastodonName + `)$`)
	// mastodonLinkRE is Tag::HASHTAG_RE, which finds the tags in a post.
	mastodonLinkRE = regexp.MustCompile(`(?:^|\s)#(` + mastodonName + `)`)
)

// linked returns the hashtags Mastodon links in text, without their #.
func linked(text string) []string {
	var tags []string
	for _, m := range mastodonLinkRE.FindAllStringSubmatch(text, -1) {
		tags = append(tags, m[1])
	}
	return tags
}

// names returns the tags without their #.
func names(tags []string) []string {
	out := make([]string, len(tags))
	for i, tag := range tags {
		out[i] = strings.TrimPrefix(tag, "#")
	}
	return out
}

func TestMastodonSyntax(t *testing.T) {
	// The oracle itself, on what Mastodon links and does not.
	for name, want := range map[string]bool{
		"MassStrike": true, "Kazajistán": true, "Col·lectiu": true, "_tag": true, "Year2022": true,
		"2022": false, "·Col": false, "Col·": false, "C++": false, "": false, "١٢٣": false,
	} {
		if got := mastodonNameRE.MatchString(name); got != want {
			t.Errorf("oracle: %q matches %v", name, got)
		}
	}
	if got := linked("Read: #MassStrike #Col·lectiu #2022 x#no #C++"); strings.Join(got, " ") != "MassStrike Col·lectiu C" {
		t.Errorf("oracle links %q", got)
	}
}

// FuzzHashtags: whatever the categories and renames, every tag starts with
// #, holds a letter, is one Mastodon takes as a tag's name and links whole
// when the tags are posted one after another; there are at most max, none
// twice (without regard to case), and a tag made again is itself.
func FuzzHashtags(f *testing.F) {
	for _, s := range []string{
		"Kazakhstan\nMass strike\nCentral Asia", "Kazajistán\nHuelga de masas", "self-organization\nC++\nYear 2022\n2022",
		"Технологии\n日本\n…\n\n١٢٣\nCol·lectiu\n½", "Kazajista\u0301n\nǄungla", "·Col·lectiu·\n\u200cmi\u200cxwaham\u200c\na · b",
		"Λόγος\nΛΌΓΟΣ", "#_\n__a__\n1·2a\n\u0301a", "ᾳ ǆ ß ﬁ İ", "a\xffb\n\xc3",
	} {
		f.Add(s, "Mass strike", "General strike", uint8(4))
	}
	f.Fuzz(func(t *testing.T, categories, from, to string, max uint8) {
		n := int(max % 10)
		tags := Hashtags(strings.Split(categories, "\n"), map[string]string{from: to}, n)
		if len(tags) > n {
			t.Fatalf("%d tags, at most %d wanted: %q", len(tags), n, tags)
		}
		seen := map[string]bool{}
		for _, tag := range tags {
			name, ok := strings.CutPrefix(tag, "#")
			if !ok || !utf8.ValidString(tag) || !strings.ContainsFunc(name, unicode.IsLetter) {
				t.Fatalf("tag %q: want # and a name with a letter, in UTF-8", tag)
			}
			if !mastodonNameRE.MatchString(name) {
				t.Fatalf("tag %q: Mastodon does not take %q as a tag's name", tag, name)
			}
			if key := strings.ToLower(strings.ToUpper(name)); seen[key] {
				t.Fatalf("tag %q twice in %q", tag, tags)
			} else {
				seen[key] = true
			}
			if again := Hashtag(tag); again != tag {
				t.Fatalf("Hashtag(%q) = %q", tag, again)
			}
		}
		// Posted as the channels post them, each is linked whole.
		text := "Read: " + strings.Join(tags, " ")
		if got := linked(text); len(got) != len(tags) || !slices.Equal(got, names(tags)) {
			t.Fatalf("Mastodon links %q in %q", got, text)
		}
	})
}
