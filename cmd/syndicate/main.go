// Command syndicate watches a site's feeds and delivers each new article,
// exactly once, to Mastodon, Telegram and email. See README.md.
package main

import (
	"context"
	"os"
	_ "time/tzdata" // schedules in any time zone, even without a zoneinfo database
)

func main() {
	ctx, stop := signalContext(context.Background(), os.Stderr, os.Exit)
	code := Run(ctx, os.Args[1:], Env{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, LookupEnv: os.LookupEnv})
	stop()
	os.Exit(code)
}
