package feed

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// earliestYear is the year of the earliest usable publication date:
// anything before is a placeholder (the zero time, the Unix epoch), not a
// date.
const earliestYear = 1990

// parseDate is readDate without its warning.
func parseDate(s string) (time.Time, bool) {
	t, _, ok := readDate(s)
	return t, ok
}

// readDate reads a date as feeds write them:
//
//   - ISO 8601 and W3C-DTF: "2003-12-31T10:14:55.5+01:00", partial dates
//     ("2003-12", "2003"), ordinal dates ("2003-335"), the compact forms
//     ("20031231T101455Z"), a space instead of the "T";
//   - RFC 822, 1123 and 2822, with comments ("Mon, 03 Jan 2022 10:00:00
//     +0100 (CET)"), two-digit years, and the variants feeds invent: month
//     first, the ANSI C order, a 12-hour clock;
//   - month and day names in English, Spanish, French, German, Portuguese
//     and Italian ("lun, 03 ene 2022", "3 de enero de 2022", "Mi, 5.
//     Jänner 2022"); a leading weekday, in whatever language, is ignored.
//
// Zones are numeric offsets ("+0100", "+01:00", "-05"), "GMT+1" or
// "UTC+01:00", or the abbreviations of zoneByName. A time without a zone,
// or in a zone that is unknown or ambiguous, is a warning naming the raw
// string: unknown and absent zones are read as UTC, ambiguous ones with
// their most common meaning. A date alone (no time) is midnight UTC
// without a warning. ok is false when nothing fits.
func readDate(raw string) (t time.Time, warning string, ok bool) {
	s := strings.TrimSpace(stripComments(raw))
	if s == "" || len(s) > 100 {
		return time.Time{}, "", false
	}
	var r dateRead
	if r, ok = readISODate(s); !ok {
		r, ok = readTextDate(s)
	}
	if !ok {
		return time.Time{}, "", false
	}
	return r.t, r.warning(raw), true
}

// dateRead is a date read, with what is known of its zone.
type dateRead struct {
	t       time.Time
	hasTime bool
	zone    zoneRead
}

func (r dateRead) warning(raw string) string {
	switch {
	case r.zone.status == zoneUnknown:
		return fmt.Sprintf("date %q: unknown time zone %q, read as UTC", raw, r.zone.name)
	case r.zone.status == zoneAmbiguous:
		return fmt.Sprintf("date %q: ambiguous time zone %q, read as UTC%s", raw, r.zone.name, formatOffset(r.zone.offset))
	case r.zone.status == zoneAbsent && r.hasTime:
		return fmt.Sprintf("date %q: no time zone, read as UTC", raw)
	}
	return ""
}

// zoneStatus says how a date's zone was read.
type zoneStatus int

const (
	zoneAbsent    zoneStatus = iota // the date names none
	zoneKnown                       // an offset, or a name with one meaning
	zoneAmbiguous                   // a name with several meanings: the usual one taken
	zoneUnknown                     // a name not known: read as UTC
)

type zoneRead struct {
	status zoneStatus
	name   string // as written
	offset int    // seconds east of UTC
}

// location is the fixed zone of the offset.
func (z zoneRead) location() *time.Location {
	if z.offset == 0 {
		return time.UTC
	}
	return time.FixedZone(formatOffset(z.offset), z.offset)
}

func formatOffset(seconds int) string {
	sign := '+'
	if seconds < 0 {
		sign, seconds = '-', -seconds
	}
	return fmt.Sprintf("%c%02d:%02d", sign, seconds/3600, seconds%3600/60)
}

// readISODate reads ISO 8601 / W3C-DTF: a calendar date (full, year and
// month, or year), an ordinal date, or the compact forms, then optionally
// a time after "T" or a space, then optionally a zone ("Z", an offset, or
// after a space a zone name).
func readISODate(s string) (dateRead, bool) {
	var r dateRead
	date, rest := cutDigitsAndDashes(s)
	year, month, day, ok := isoCalendarDate(date)
	if !ok {
		return r, false
	}
	var hour, minute, sec, nsec int
	if rest != "" {
		sep := rest[0]
		if sep != 'T' && sep != 't' && sep != ' ' {
			return r, false
		}
		clock, zone := cutClock(strings.TrimLeft(rest[1:], " "))
		if clock == "" {
			return r, false
		}
		if hour, minute, sec, nsec, ok = isoClock(clock); !ok {
			return r, false
		}
		r.hasTime = true
		if zone = strings.TrimSpace(zone); zone != "" {
			if r.zone, ok = readZone(zone); !ok {
				return r, false
			}
		}
	}
	if !validDay(year, month, day) || hour > 23 || minute > 59 || sec > 60 {
		return r, false
	}
	sec = min(sec, 59) // a leap second
	r.t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, r.zone.location())
	return r, true
}

// cutDigitsAndDashes splits s after its leading run of digits and dashes.
func cutDigitsAndDashes(s string) (string, string) {
	i := strings.IndexFunc(s, func(r rune) bool { return r != '-' && (r < '0' || r > '9') })
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// isoCalendarDate reads YYYY-MM-DD, YYYY-MM, YYYY, YYYY-DDD (ordinal),
// YYYYMMDD and YYYYDDD.
func isoCalendarDate(s string) (year, month, day int, ok bool) {
	parts := strings.Split(s, "-")
	if len(parts[0]) == 7 || len(parts[0]) == 8 {
		if len(parts) != 1 || !isDigits(s) {
			return 0, 0, 0, false
		}
		if len(s) == 8 {
			parts = []string{s[:4], s[4:6], s[6:]}
		} else {
			parts = []string{s[:4], s[4:]}
		}
	}
	if len(parts) > 3 || len(parts[0]) != 4 {
		return 0, 0, 0, false
	}
	nums := make([]int, len(parts))
	for i, p := range parts {
		if !isDigits(p) {
			return 0, 0, 0, false
		}
		nums[i], _ = strconv.Atoi(p)
	}
	switch {
	case len(nums) == 1:
		return nums[0], 1, 1, true
	case len(parts[1]) == 3 && len(nums) == 2:
		t := time.Date(nums[0], 1, nums[1], 0, 0, 0, 0, time.UTC)
		if nums[1] < 1 || t.Year() != nums[0] {
			return 0, 0, 0, false
		}
		return t.Year(), int(t.Month()), t.Day(), true
	case len(parts[1]) != 2:
		return 0, 0, 0, false
	case len(nums) == 2:
		return nums[0], nums[1], 1, true
	case len(parts[2]) != 2:
		return 0, 0, 0, false
	}
	return nums[0], nums[1], nums[2], true
}

// cutClock splits s after its time of day: digits, colons and a fraction.
func cutClock(s string) (string, string) {
	i := strings.IndexFunc(s, func(r rune) bool { return r != ':' && r != '.' && r != ',' && (r < '0' || r > '9') })
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// isoClock reads hh, hh:mm, hh:mm:ss, hhmm or hhmmss, with a fraction of
// a second after "." or ",".
func isoClock(s string) (hour, minute, sec, nsec int, ok bool) {
	whole, frac, hasFrac := strings.Cut(strings.ReplaceAll(s, ",", "."), ".")
	if hasFrac {
		if !isDigits(frac) {
			return 0, 0, 0, 0, false
		}
		frac = (frac + "000000000")[:9]
		nsec, _ = strconv.Atoi(frac)
	}
	var parts []string
	if strings.Contains(whole, ":") {
		parts = strings.Split(whole, ":")
	} else {
		for i := 0; i < len(whole); i += 2 {
			parts = append(parts, whole[i:min(i+2, len(whole))])
		}
	}
	if len(parts) == 0 || len(parts) > 3 || (hasFrac && len(parts) != 3) {
		return 0, 0, 0, 0, false
	}
	nums := [3]int{}
	for i, p := range parts {
		if len(p) != 2 || !isDigits(p) {
			return 0, 0, 0, 0, false
		}
		nums[i], _ = strconv.Atoi(p)
	}
	return nums[0], nums[1], nums[2], nsec, true
}

func validDay(year, month, day int) bool {
	if month < 1 || month > 12 || day < 1 {
		return false
	}
	return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC).Day() == day
}

// readTextDate reads the dates of RFC 822 and its relatives, in any of the
// site languages: the zone is taken out (the last word that is one, with
// a "GMT" before an offset), filler words dropped, month names made
// English, and what is left matched against textLayouts.
func readTextDate(s string) (dateRead, bool) {
	var r dateRead
	fields := strings.Fields(s)
	if len(fields) == 0 || len(fields) > 12 {
		return r, false
	}
	fields, r.zone = cutZone(fields)
	candidates := [][]string{fields}
	// A leading weekday: "Mon," "lun.," "Montag," or a known name ("mar"
	// is also March: both readings are tried).
	if first := strings.TrimRight(fields[0], ",."); len(fields) > 1 && isLetters(first) && (strings.HasSuffix(fields[0], ",") || isWeekday(first)) {
		candidates = [][]string{fields[1:], fields}
	}
	for _, c := range candidates {
		normalised, hasTime, ok := normaliseDateFields(c)
		if !ok {
			continue
		}
		for _, layout := range textLayouts {
			t, err := time.Parse(layout, normalised)
			if err != nil {
				continue
			}
			r.hasTime = hasTime
			r.t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), r.zone.location())
			return r, true
		}
	}
	return r, false
}

// cutZone takes the zone out of the words of a date: the last word that
// is one (after the time, or before a trailing year as in "Mon Jan 2
// 15:04:05 MST 2006"), joined to a "GMT" or "UTC" just before an offset.
// A trailing word of letters that is no month, weekday or filler is taken
// for a zone name, known or not.
func cutZone(fields []string) ([]string, zoneRead) {
	at := len(fields) - 1
	if at >= 2 && isDigits(fields[at]) && len(fields[at]) == 4 && (isLetters(fields[at-1]) || isOffset(fields[at-1])) {
		at-- // "… 15:04:05 MST 2006"
	}
	if at < 1 {
		return fields, zoneRead{}
	}
	word := strings.TrimRight(fields[at], ",.")
	if isLetters(word) && (monthNumber(strings.ToLower(word)) > 0 || isWeekday(word) || isDateFiller(strings.ToLower(word)) || isMeridiem(word)) {
		return fields, zoneRead{}
	}
	name := word
	start := at
	if isOffset(word) && at >= 2 && isUTCName(fields[at-1]) {
		name, start = fields[at-1]+word, at-1 // "GMT +0100"
	}
	z, ok := readZone(name)
	if !ok {
		if !isLetters(word) || at != len(fields)-1 || !hasClock(fields[:at]) {
			return fields, zoneRead{}
		}
		z = zoneRead{status: zoneUnknown, name: word}
	}
	out := append(append([]string(nil), fields[:start]...), fields[at+1:]...)
	return out, z
}

func hasClock(fields []string) bool {
	for _, f := range fields {
		if strings.Contains(f, ":") {
			return true
		}
	}
	return false
}

func isUTCName(s string) bool {
	switch strings.ToUpper(s) {
	case "GMT", "UTC", "UT":
		return true
	}
	return false
}

func isOffset(s string) bool {
	return len(s) > 1 && (s[0] == '+' || s[0] == '-') && isDigits(strings.Replace(s[1:], ":", "", 1))
}

// readZone reads a zone as written: "Z", a numeric offset ("+01:00",
// "+0100", "+01"), "GMT+1" or "UTC+05:30", or a name zoneByName knows.
// ok is false when s is none of these.
func readZone(s string) (zoneRead, bool) {
	z := zoneRead{status: zoneKnown, name: s}
	upper := strings.ToUpper(s)
	for _, prefix := range []string{"GMT", "UTC", "UT"} {
		if rest, found := strings.CutPrefix(upper, prefix); found && isOffset(rest) {
			upper = rest
			break
		}
	}
	if isOffset(upper) {
		offset, ok := parseOffset(upper)
		z.offset = offset
		return z, ok
	}
	offset, ambiguous, ok := zoneByName(upper)
	if !ok {
		return zoneRead{}, false
	}
	z.offset = offset
	if ambiguous {
		z.status = zoneAmbiguous
	}
	return z, true
}

// parseOffset reads ±h, ±hh, ±hhmm, ±hh:mm or ±h:mm as seconds east of
// UTC; offsets beyond ±14:00, or with 60 minutes or more, are refused.
func parseOffset(s string) (int, bool) {
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	digits := s[1:]
	var h, m string
	switch hh, mm, colon := strings.Cut(digits, ":"); {
	case colon:
		h, m = hh, mm
	case len(digits) <= 2:
		h = digits
	case len(digits) == 4:
		h, m = digits[:2], digits[2:]
	case len(digits) == 3:
		h, m = digits[:1], digits[1:]
	default:
		return 0, false
	}
	if h == "" || len(h) > 2 || (m != "" && len(m) != 2) || !isDigits(h) || (m != "" && !isDigits(m)) {
		return 0, false
	}
	hours, _ := strconv.Atoi(h)
	minutes := 0
	if m != "" {
		minutes, _ = strconv.Atoi(m)
	}
	if hours > 14 || minutes > 59 || (hours == 14 && minutes > 0) {
		return 0, false
	}
	return sign * (hours*3600 + minutes*60), true
}

// zoneByName returns the offset (seconds east of UTC) of a zone
// abbreviation in upper case: those of RFC 822 (UT, GMT, Z and the US
// zones) and those common in feeds. IST is India's, CST the US Central
// zone. ambiguous marks a name with another meaning as common (BST is
// also Bangladesh's, AST Arabia's): it is read with the meaning given, with
// a warning. ok is false for a name not known.
func zoneByName(name string) (offset int, ambiguous, ok bool) {
	const h, m = 3600, 60
	switch name {
	case "UT", "UTC", "GMT", "Z", "WET", "WEZ":
		return 0, false, true
	case "EST":
		return -5 * h, false, true
	case "EDT":
		return -4 * h, false, true
	case "CST":
		return -6 * h, false, true
	case "CDT":
		return -5 * h, false, true
	case "MST":
		return -7 * h, false, true
	case "MDT":
		return -6 * h, false, true
	case "PST":
		return -8 * h, false, true
	case "PDT":
		return -7 * h, false, true
	case "AKST":
		return -9 * h, false, true
	case "AKDT":
		return -8 * h, false, true
	case "HST":
		return -10 * h, false, true
	case "HDT":
		return -9 * h, false, true
	case "AST":
		return -4 * h, true, true // Atlantic; also Arabia (+03:00)
	case "ADT":
		return -3 * h, false, true
	case "NST":
		return -(3*h + 30*m), false, true
	case "NDT":
		return -(2*h + 30*m), false, true
	case "BRT", "ART":
		return -3 * h, false, true
	case "CET", "MET", "MEZ", "WEST", "WESZ", "WAT":
		return h, false, true
	case "BST":
		return h, true, true // British Summer Time; also Bangladesh (+06:00)
	case "CEST", "MEST", "MESZ", "EET", "SAST", "CAT":
		return 2 * h, false, true
	case "EEST", "MSK", "EAT":
		return 3 * h, false, true
	case "GST":
		return 4 * h, true, true // Gulf; also South Georgia (-02:00)
	case "PKT":
		return 5 * h, false, true
	case "IST":
		return 5*h + 30*m, false, true
	case "NPT":
		return 5*h + 45*m, false, true
	case "ICT", "WIB":
		return 7 * h, false, true
	case "HKT", "SGT", "AWST", "PHT":
		return 8 * h, false, true
	case "JST", "KST":
		return 9 * h, false, true
	case "ACST":
		return 9*h + 30*m, false, true
	case "ACDT":
		return 10*h + 30*m, false, true
	case "AEST":
		return 10 * h, false, true
	case "AEDT":
		return 11 * h, false, true
	case "NZST":
		return 12 * h, false, true
	case "NZDT":
		return 13 * h, false, true
	}
	return 0, false, false
}

// normaliseDateFields rewrites the words of a date (its zone taken out)
// into what textLayouts read: English month abbreviations, no filler
// words, a 24-hour clock, "3." and "10h30" as "3" and "10:30". hasTime
// reports a time of day; ok is false for a meridiem without a time.
func normaliseDateFields(fields []string) (s string, hasTime, ok bool) {
	kept := make([]string, 0, len(fields))
	for _, f := range fields {
		lower := strings.ToLower(strings.TrimRight(f, ",."))
		switch {
		case isMeridiem(lower) && len(kept) > 0 && strings.Contains(kept[len(kept)-1], ":"):
			clock, ok := to24Hour(kept[len(kept)-1], lower)
			if !ok {
				return "", false, false
			}
			kept[len(kept)-1] = clock
			continue
		case isDateFiller(lower):
			continue
		case monthNumber(lower) > 0:
			f = time.Month(monthNumber(lower)).String()[:3]
		default:
			f = strings.TrimSuffix(f, ",")
			// "3." in German dates.
			if day := strings.TrimSuffix(f, "."); day != f && isDigits(day) {
				f = day
			}
			// "10h30" in French and Portuguese ones.
			if hh, mm, found := strings.Cut(lower, "h"); found && isDigits(hh) && len(hh) <= 2 && (mm == "" || (isDigits(mm) && len(mm) == 2)) {
				f = hh + ":" + firstNonEmpty(mm, "00")
			}
		}
		if strings.Contains(f, ":") {
			hasTime = true
		}
		kept = append(kept, f)
	}
	return strings.Join(kept, " "), hasTime, true
}

// to24Hour turns "h:mm[:ss]" and "am"/"pm" into a 24-hour time.
func to24Hour(clock, meridiem string) (string, bool) {
	h, rest, _ := strings.Cut(clock, ":")
	hour, err := strconv.Atoi(h)
	if err != nil || hour < 1 || hour > 12 {
		return "", false
	}
	hour %= 12
	if strings.HasPrefix(meridiem, "p") {
		hour += 12
	}
	return fmt.Sprintf("%02d:%s", hour, rest), true
}

func isMeridiem(word string) bool {
	switch strings.ToLower(word) {
	case "am", "pm", "a.m", "p.m":
		return true
	}
	return false
}

func isDateFiller(word string) bool {
	switch word {
	case "de", "del", "el", "a", "las", "à", "le", "às", "as", "o", "um", "am", "den", "uhr",
		"alle", "ore", "at", "the", "of", "on":
		return true
	}
	return false
}

// textLayouts are the orders of the words of a date once
// normaliseDateFields has rewritten them, without a zone.
var textLayouts = []string{
	"2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04:05.999999999",
	"2 Jan 2006 15:04",
	"2 Jan 06 15:04:05",
	"2 Jan 06 15:04",
	"2 Jan 2006",
	"Jan 2 2006 15:04:05",
	"Jan 2 2006 15:04",
	"Jan 2 2006",
	"Jan 2 15:04:05 2006",
	"2006 Jan 2 15:04:05",
	"2006 Jan 2",
	"15:04:05 2 Jan 2006",
	"15:04 2 Jan 2006",
	"Jan 2006",
	"2006/01/02 15:04:05",
	"2006/01/02 15:04",
	"2006/01/02",
	"02.01.2006 15:04:05",
	"02.01.2006 15:04",
	"02.01.2006",
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

// isWeekday reports a day name or abbreviation in English, Spanish,
// French, German, Portuguese or Italian.
func isWeekday(name string) bool {
	switch strings.ToLower(name) {
	case "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
		"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
		// Spanish
		"lun", "mar", "mié", "mie", "jue", "vie", "sáb", "sab", "dom",
		"lunes", "martes", "miércoles", "miercoles", "jueves", "viernes", "sábado", "sabado", "domingo",
		// French
		"mer", "jeu", "ven", "sam", "dim",
		"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
		// German
		"mo", "di", "mi", "do", "fr", "sa", "so",
		"montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonnabend", "sonntag",
		// Portuguese
		"seg", "ter", "qua", "qui", "sex",
		"segunda", "terça", "terca", "quarta", "quinta", "sexta",
		"segunda-feira", "terça-feira", "terca-feira", "quarta-feira", "quinta-feira", "sexta-feira",
		// Italian
		"gio",
		"lunedì", "lunedi", "martedì", "martedi", "mercoledì", "mercoledi", "giovedì", "giovedi",
		"venerdì", "venerdi", "sabato", "domenica":
		return true
	}
	return false
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
		if !unicode.IsLetter(r) && r != '-' {
			return false
		}
	}
	return unicode.IsLetter([]rune(s)[0])
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
