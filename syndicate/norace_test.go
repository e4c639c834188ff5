//go:build !race

package syndicate_test

const raceEnabled = false
