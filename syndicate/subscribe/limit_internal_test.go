package subscribe

import (
	"fmt"
	"testing"
	"time"
)

func TestWindowForgetsWhatLeftIt(t *testing.T) {
	now := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	w := newWindow(2, time.Hour, 0)
	for i := range 1000 {
		if ok, _ := w.allow(fmt.Sprint(i%400), now.Add(time.Duration(i)*time.Second)); !ok && i < 800 {
			t.Fatalf("event %d refused", i)
		}
	}
	if len(w.byKey) != 400 || len(w.queue) != 800 {
		t.Fatalf("%d keys, %d events; want 400 and 800", len(w.byKey), len(w.queue))
	}
	// An hour after the last event, one new event is all that is left.
	if ok, _ := w.allow("x", now.Add(time.Hour+1000*time.Second)); !ok {
		t.Fatal("refused after the window")
	}
	if len(w.byKey) != 1 || len(w.queue) != 1 {
		t.Errorf("%d keys, queue %d; want 1, 1", len(w.byKey), len(w.queue))
	}
	var off *window
	if ok, _ := off.allow("x", now); !ok {
		t.Error("a nil window refused")
	}
	if ok, _ := newWindow(0, time.Hour, 0).allow("x", now); !ok {
		t.Error("a window of max 0 (off) refused")
	}
}

func TestIPKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":                 "192.0.2.1",
		"::ffff:192.0.2.1":          "192.0.2.1",
		"192.0.2.1:4321":            "192.0.2.1",
		"2001:db8:1:2:3:4:5:6":      "2001:db8:1:2::/64",
		"[2001:db8:1:2::9]:443":     "2001:db8:1:2::/64",
		"fe80::1%eth0":              "fe80::/64",
		"":                          "unknown",
		"not an address":            "unknown",
		"2001:db8:1:2:ffff:ffff::1": "2001:db8:1:2::/64",
	} {
		if got := ipKey(in); got != want {
			t.Errorf("ipKey(%q) = %q, want %q", in, got, want)
		}
	}
}
