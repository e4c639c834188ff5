package schema

import (
	"fmt"
	"net/url"
	"strings"
)

// Checker collects the problems validation finds, each under its key path.
// At gives a Checker for one part of the configuration (a channel, say)
// whose keys are named relative to it; all share one list.
type Checker struct {
	base  string
	probs *[]Problem
}

// NewChecker returns an empty Checker at the top of the configuration.
func NewChecker() *Checker { return &Checker{probs: new([]Problem)} }

// At returns a Checker whose keys lie under path ("channels[0]", or
// "smtp" under that).
func (v *Checker) At(path string) *Checker {
	return &Checker{base: ChildPath(v.base, path), probs: v.probs}
}

// Path is the key path of key under the Checker's base.
func (v *Checker) Path(key string) string {
	if key == "" {
		return v.base
	}
	return ChildPath(v.base, key)
}

// Problems returns what was found, in the order found.
func (v *Checker) Problems() []Problem { return *v.probs }

// Add records a problem with key.
func (v *Checker) Add(key, format string, args ...any) {
	*v.probs = append(*v.probs, Problem{Path: v.Path(key), Msg: fmt.Sprintf(format, args...)})
}

// Required reports s missing when it is empty, and whether it is set.
func (v *Checker) Required(key, s string) bool {
	if s == "" {
		v.Add(key, "required")
		return false
	}
	return true
}

// URL requires an absolute http(s) URL.
func (v *Checker) URL(key, s string) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.Add(key, "must be an absolute http or https URL (got %q)", s)
	}
}

// OneOf requires s to be one of allowed.
func (v *Checker) OneOf(key, s string, allowed ...string) {
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	v.Add(key, "must be one of %s (got %q)", strings.Join(allowed, ", "), s)
}

// AtLeast requires n ≥ least.
func (v *Checker) AtLeast(key string, n, least int64) {
	if n < least {
		v.Add(key, "must be at least %d (got %d)", least, n)
	}
}

// Positive requires a duration above zero.
func (v *Checker) Positive(key string, d Duration) {
	if d <= 0 {
		v.Add(key, "must be more than 0s (got %s)", d)
	}
}
