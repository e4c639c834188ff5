//go:build race

package syndicate_test

// raceEnabled: the race detector makes the large tests slow; they run
// smaller under it.
const raceEnabled = true
