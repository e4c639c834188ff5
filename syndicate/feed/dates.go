package feed

import (
	"strings"
	"time"
	"unicode"
)

// earliestYear is the year of the earliest usable publication date:
// anything before is a placeholder (the zero time, the Unix epoch), not a
// date.
const earliestYear = 1990

// parseDate reads a date gofeed could not: RFC 822 with comments ("Mon, 03
// Jan 2022 10:00:00 +0100 (CET)"), month names in Spanish, French, German,
// Portuguese or Italian ("lun, 03 ene 2022", "3 de enero de 2022"), zone
// names time.Parse does not know ("CEST"), and a few ISO 8601 variants. A
// leading weekday, in whatever language, is ignored. ok is false when
// nothing fits.
func parseDate(s string) (time.Time, bool) {
	fields := strings.Fields(stripComments(s))
	if len(fields) == 0 || len(fields) > 12 {
		return time.Time{}, false
	}
	candidates := [][]string{fields}
	// A leading weekday: "Mon," "lun.," "Montag," or a known name.
	if first := strings.TrimRight(fields[0], ",."); isLetters(first) && (strings.HasSuffix(fields[0], ",") || isWeekday(first)) {
		candidates = [][]string{fields[1:], fields}
	}
	for _, c := range candidates {
		normalised := normaliseDateFields(c)
		for _, layout := range dateLayouts {
			if t, err := time.Parse(layout, normalised); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// normaliseDateFields rewrites the words of a date into what time.Parse
// reads: English month abbreviations, numeric zones, no filler words.
func normaliseDateFields(fields []string) string {
	kept := make([]string, 0, len(fields))
	for i, f := range fields {
		lower := strings.ToLower(strings.TrimRight(f, ",."))
		switch {
		case isDateFiller(lower):
			continue
		case monthNumber(lower) > 0:
			f = time.Month(monthNumber(lower)).String()[:3]
		case i == len(fields)-1 && i > 0 && isLetters(f):
			// A trailing zone name: numeric when known, else UTC.
			offset := zoneOffset(strings.ToUpper(f))
			if offset == "" {
				continue
			}
			f = offset
		default:
			f = strings.TrimSuffix(f, ",")
			// "3." in German dates.
			if day := strings.TrimSuffix(f, "."); day != f && isDigits(day) {
				f = day
			}
		}
		kept = append(kept, f)
	}
	return strings.Join(kept, " ")
}

func isDateFiller(word string) bool {
	switch word {
	case "de", "del", "a", "las", "à", "le", "às", "um", "at", "the", "of":
		return true
	}
	return false
}

var dateLayouts = []string{
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 -07:00",
	"2 Jan 2006 15:04 -0700",
	"2 Jan 2006 15:04 -07:00",
	"2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04",
	"2 Jan 06 15:04:05 -0700",
	"2 Jan 06 15:04 -0700",
	"2 Jan 06 15:04:05",
	"2 Jan 2006",
	"Jan 2 2006 15:04:05 -0700",
	"Jan 2 2006 15:04:05",
	"Jan 2 2006 15:04",
	"Jan 2 2006",
	"Jan 2 15:04:05 2006",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05-0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 -07:00",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006/01/02 15:04:05",
	"2006/01/02",
}

// monthNumber returns 1–12 for a month name or abbreviation (lower case)
// in English, Spanish, French, German, Portuguese or Italian, else 0.
func monthNumber(name string) int {
	switch name {
	case "jan", "january", "ene", "enero", "janv", "janvier", "januar", "jän", "jänner", "janeiro", "gen", "gennaio":
		return 1
	case "feb", "february", "febrero", "févr", "fevr", "février", "fevrier", "februar", "fev", "fevereiro", "febbraio":
		return 2
	case "mar", "march", "marzo", "mars", "mär", "mrz", "märz", "marz", "março", "marco":
		return 3
	case "apr", "april", "abr", "abril", "avr", "avril", "aprile":
		return 4
	case "may", "mayo", "mai", "maio", "mag", "maggio":
		return 5
	case "jun", "june", "junio", "juin", "juni", "junho", "giu", "giugno":
		return 6
	case "jul", "july", "julio", "juil", "juillet", "juli", "julho", "lug", "luglio":
		return 7
	case "aug", "august", "ago", "agosto", "août", "aout", "aoû":
		return 8
	case "sep", "sept", "september", "septiembre", "setiembre", "septembre", "set", "setembro", "settembre":
		return 9
	case "oct", "october", "octubre", "octobre", "okt", "oktober", "out", "outubro", "ott", "ottobre":
		return 10
	case "nov", "november", "noviembre", "novembre", "novembro":
		return 11
	case "dec", "december", "dic", "diciembre", "déc", "decembre", "décembre", "dez", "dezember", "dezembro", "dicembre":
		return 12
	}
	return 0
}

func isWeekday(name string) bool {
	switch strings.ToLower(name) {
	case "mon", "tue", "wed", "thu", "fri", "sat", "sun",
		"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
		"lun", "mar", "mié", "mie", "jue", "vie", "sáb", "sab", "dom",
		"lunes", "martes", "miércoles", "miercoles", "jueves", "viernes", "sábado", "sabado", "domingo":
		return true
	}
	return false
}

// zoneOffset returns the offset of a zone name of RFC 822 or one common
// in feeds, "" for another.
func zoneOffset(name string) string {
	switch name {
	case "UT", "UTC", "GMT", "Z", "WET":
		return "+0000"
	case "EST":
		return "-0500"
	case "EDT", "AST":
		return "-0400"
	case "CST":
		return "-0600"
	case "CDT":
		return "-0500"
	case "MST":
		return "-0700"
	case "MDT":
		return "-0600"
	case "PST":
		return "-0800"
	case "PDT":
		return "-0700"
	case "CET", "MET", "WEST", "BST":
		return "+0100"
	case "CEST", "MEST", "EET":
		return "+0200"
	case "EEST", "MSK":
		return "+0300"
	case "JST", "KST":
		return "+0900"
	case "AEST":
		return "+1000"
	case "AEDT":
		return "+1100"
	}
	return ""
}

// stripComments removes RFC 822 comments: parenthesised text, nested.
func stripComments(s string) string {
	if !strings.ContainsRune(s, '(') {
		return s
	}
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isLetters(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
