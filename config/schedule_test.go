package config

import (
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
)

func TestParseSchedule(t *testing.T) {
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2025, 3, 3, 7, 30, 0, 0, time.UTC) // a Monday
	tests := []struct {
		spec string
		loc  *time.Location
		next time.Time // the first run after from; zero when an error is expected
		err  string
	}{
		{spec: "*/10 * * * *", next: time.Date(2025, 3, 3, 7, 40, 0, 0, time.UTC)},
		{spec: "  */10 * * * *  ", next: time.Date(2025, 3, 3, 7, 40, 0, 0, time.UTC)},
		{spec: "0 8 * * MON", next: time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)},
		{spec: "0 8 * * MON", loc: madrid, next: time.Date(2025, 3, 10, 7, 0, 0, 0, time.UTC)},
		{spec: "0 8 * * *", loc: nil, next: time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)},
		{spec: "TZ=Europe/Madrid 0 9 * * *", next: time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)},
		{spec: "CRON_TZ=Europe/Madrid 0 9 * * *", loc: time.UTC, next: time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)},
		{spec: "CRON_TZ=UTC\t0 9 * * *", loc: madrid, next: time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)},
		{spec: "@hourly", next: time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)},
		{spec: "@daily", loc: madrid, next: time.Date(2025, 3, 3, 23, 0, 0, 0, time.UTC)},
		{spec: "@weekly", next: time.Date(2025, 3, 9, 0, 0, 0, 0, time.UTC)},
		{spec: "@monthly", next: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)},
		{spec: "@every 2m", next: from.Add(2 * time.Minute)},
		{spec: "@every 1s", next: from.Add(time.Second)},
		{spec: "@every 1h30m", next: from.Add(90 * time.Minute)},
		{spec: "CRON_TZ=Asia/Almaty @every 5m", next: from.Add(5 * time.Minute)},
		{spec: "0 0 29 2 *", next: time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)},

		{spec: "", err: `invalid cron spec "": empty`},
		{spec: "   ", err: `invalid cron spec "   ": empty`},
		{spec: "CRON_TZ=UTC", err: `invalid cron spec "CRON_TZ=UTC": a time zone prefix needs a schedule after it`},
		{spec: "TZ=UTC", err: `invalid cron spec "TZ=UTC": a time zone prefix needs a schedule after it`},
		{spec: "TZ=UTC   ", err: `invalid cron spec "TZ=UTC   ": a time zone prefix needs a schedule after it`},
		{spec: "CRON_TZ=Europe/Madrid", err: `invalid cron spec "CRON_TZ=Europe/Madrid": a time zone prefix needs a schedule after it`},
		{spec: "CRON_TZ= * * * * *", err: `invalid cron spec "CRON_TZ= * * * * *": empty time zone`},
		{spec: "CRON_TZ=Mars/Olympus * * * * *", err: `invalid cron spec "CRON_TZ=Mars/Olympus * * * * *": unknown time zone "Mars/Olympus"`},
		{spec: "@every 0s", err: `invalid cron spec "@every 0s": @every needs at least 1s (got 0s)`},
		{spec: "@every 0", err: `invalid cron spec "@every 0": @every needs at least 1s (got 0)`},
		{spec: "@every -5m", err: `invalid cron spec "@every -5m": @every needs at least 1s (got -5m)`},
		{spec: "@every 500ms", err: `invalid cron spec "@every 500ms": @every needs at least 1s (got 500ms)`},
		{spec: "TZ=UTC @every 0s", err: `invalid cron spec "TZ=UTC @every 0s": @every needs at least 1s (got 0s)`},
		{spec: "@every 1.5s", err: `invalid cron spec "@every 1.5s": @every takes whole seconds (got 1.5s)`},
		{spec: "@every soon", err: `invalid cron spec "@every soon": @every needs a duration such as 2m or 1h: time: invalid duration "soon"`},
		{spec: "@every", err: `invalid cron spec "@every": unrecognized descriptor: @every`},
		{spec: "@reboot", err: `invalid cron spec "@reboot": unrecognized descriptor: @reboot`},
		{spec: "*/5 * *", err: `invalid cron spec "*/5 * *": expected exactly 5 fields, found 3: [*/5 * *]`},
		{spec: "0 */5 * * * *", err: `invalid cron spec "0 */5 * * * *": expected exactly 5 fields, found 6: [0 */5 * * * *]`},
		{spec: "61 * * * *", err: `invalid cron spec "61 * * * *": end of range (61) above maximum (59): 61`},
		{spec: "*/0 * * * *", err: `invalid cron spec "*/0 * * * *": step of range should be a positive number: */0`},
		{spec: "0 8 * * FUNDAY", err: `invalid cron spec "0 8 * * FUNDAY": failed to parse int from FUNDAY: strconv.Atoi: parsing "FUNDAY": invalid syntax`},
		{spec: "0 0 30 2 *", err: `invalid cron spec "0 0 30 2 *": never fires (no such date)`},
		{spec: "0 0 31 4,6,9,11 *", err: `invalid cron spec "0 0 31 4,6,9,11 *": never fires (no such date)`},
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.spec, tt.loc)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseSchedule(%q): got error %v, want %s", tt.spec, err, tt.err)
			}
			if s != nil {
				t.Errorf("ParseSchedule(%q): a schedule came back with the error", tt.spec)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSchedule(%q): %v", tt.spec, err)
			continue
		}
		if got := s.Next(from); !got.Equal(tt.next) {
			t.Errorf("ParseSchedule(%q, %v).Next(%s) = %s, want %s", tt.spec, tt.loc, from, got.UTC(), tt.next)
		}
	}
}

// robfig/cron v3.0.1 panics on a bare zone prefix; ParseSchedule must
// refuse such specs itself, with an error, before cron sees them. The first
// half fails if the pinned cron stops panicking (then the guard may be
// revisited); the second if the guard is lost.
func TestCronStillPanicsOnBareZone(t *testing.T) {
	for _, spec := range []string{"CRON_TZ=UTC", "TZ=UTC", "CRON_TZ=Europe/Madrid"} {
		panicked := func() (p bool) {
			defer func() { p = recover() != nil }()
			_, _ = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor).Parse(spec)
			return false
		}()
		if !panicked {
			t.Errorf("robfig/cron no longer panics on %q", spec)
		}
		if _, err := ParseSchedule(spec, time.UTC); err == nil {
			t.Errorf("ParseSchedule(%q): no error", spec)
		}
	}
}

func TestDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"30s": 30 * time.Second, "1h30m": 90 * time.Minute, "0s": 0, "250ms": 250 * time.Millisecond} {
		d, err := ParseDuration(in)
		if err != nil || d.Std() != want {
			t.Errorf("ParseDuration(%q) = %v, %v", in, d, err)
		}
	}
	for in, want := range map[string]string{
		"-1s": "must not be negative (got -1s)",
		"30":  `must be a duration like "30s" or "1h30m" (got "30")`,
		"":    `must be a duration like "30s" or "1h30m" (got "")`,
	} {
		if _, err := ParseDuration(in); err == nil || err.Error() != want {
			t.Errorf("ParseDuration(%q): got %v, want %s", in, err, want)
		}
	}
	var v struct{ D Duration }
	if err := yaml.Unmarshal([]byte("d: 1h30m"), &v); err != nil || v.D.Std() != 90*time.Minute {
		t.Errorf("yaml: %v, %v", v.D, err)
	}
	if err := yaml.Unmarshal([]byte("d: -1h"), &v); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("yaml accepted a negative duration: %v", err)
	}
	out, err := yaml.Marshal(struct{ D Duration }{Duration(90 * time.Minute)})
	if err != nil || string(out) != "d: 1h30m0s\n" {
		t.Errorf("yaml.Marshal = %q, %v", out, err)
	}
}
