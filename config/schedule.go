package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ParseSchedule parses a cron spec: five fields, a descriptor (@hourly,
// @daily, @every 2m…), optionally after a "CRON_TZ=Zone " or "TZ=Zone "
// prefix. Without a prefix the schedule runs in loc (UTC when nil). It checks
// what robfig/cron v3.0.1 gets wrong: a prefix with no fields panics in it,
// and it accepts "@every" durations under one second.
func ParseSchedule(spec string, loc *time.Location) (cron.Schedule, error) {
	s, err := parseSchedule(spec, loc)
	if err != nil {
		return nil, fmt.Errorf("invalid cron spec %q: %w", spec, err)
	}
	return s, nil
}

func parseSchedule(spec string, loc *time.Location) (cron.Schedule, error) {
	if loc == nil {
		loc = time.UTC
	}
	body := strings.TrimSpace(spec)
	if body == "" {
		return nil, errors.New("empty")
	}
	if strings.HasPrefix(body, "CRON_TZ=") || strings.HasPrefix(body, "TZ=") {
		eq := strings.IndexByte(body, '=')
		end := strings.IndexAny(body, " \t")
		if end < 0 {
			return nil, errors.New("a time zone prefix needs a schedule after it")
		}
		zone := body[eq+1 : end]
		if zone == "" {
			return nil, errors.New("empty time zone")
		}
		z, err := time.LoadLocation(zone)
		if err != nil {
			return nil, fmt.Errorf("unknown time zone %q", zone)
		}
		loc = z
		// The prefix is not passed on: the location is set below.
		body = strings.TrimSpace(body[end:])
	}
	if every, ok := strings.CutPrefix(body, "@every "); ok {
		d, err := time.ParseDuration(every)
		if err != nil {
			return nil, fmt.Errorf("@every needs a duration such as 2m or 1h: %w", err)
		}
		if d < time.Second {
			return nil, fmt.Errorf("@every needs at least 1s (got %s)", every)
		}
		if d%time.Second != 0 {
			return nil, fmt.Errorf("@every takes whole seconds (got %s)", every)
		}
	}
	s, err := parseCron(body)
	if err != nil {
		return nil, err
	}
	if ss, ok := s.(*cron.SpecSchedule); ok {
		ss.Location = loc
		// robfig/cron searches five years ahead; from a leap year's first
		// day that finds every date that exists.
		if ss.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, loc)).IsZero() {
			return nil, errors.New("never fires (no such date)")
		}
	}
	return s, nil
}

func parseCron(spec string) (s cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("the cron parser failed: %v", r)
		}
	}()
	p := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	return p.Parse(spec)
}
