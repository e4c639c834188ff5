package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/config"
	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/subscribe"
)

// Exit codes, a contract with scripts.
const (
	exitOK      = 0
	exitFailure = 1 // runtime failure
	exitUsage   = 2 // bad usage or invalid config
)

// Env is what the command takes from its process, replaceable in tests.
type Env struct {
	Stdout, Stderr io.Writer
	Stdin          io.Reader
	LookupEnv      func(string) (string, bool)
	Now            func() time.Time
	// ConfirmationSender builds what mails the confirmation links of one
	// email channel's list; nil means the email channel itself.
	ConfirmationSender func(cfg *config.Config, ch *config.Channel, log *slog.Logger) (subscribe.ConfirmationSender, error)
}

// usageError is a mistake on the command line (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// configError is an invalid configuration (exit 2).
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

// failedError is a command that ran and reports failure (exit 1) after it
// has printed its own account of what failed.
type failedError struct{ msg string }

func (e failedError) Error() string { return e.msg }

type command struct {
	name    string
	summary string
	args    string // positional arguments, for usage
	flags   func(fs *flag.FlagSet, o *options)
	run     func(ctx context.Context, c *cli) error
}

// options are every command's flags; each command registers those it takes.
type options struct {
	config    string
	logLevel  string
	logFormat string

	dryRun  bool
	maxWait time.Duration
	online  bool
	json    bool
	feed    string
	channel string
	limit   int
	states  string

	list      string // subscribers
	confirmed bool
	html      string // digest
	now       bool
	textFile  string // approve

	digest     int64  // status --digest, digest resend|mark-sent
	recipients string // status --recipients
}

// cli is one invocation.
type cli struct {
	env  Env
	opts options
	args []string
	log  *slog.Logger
}

func commands() []command {
	return []command{
		{name: "run", summary: "run the daemon: schedules, delivery workers, HTTP server",
			flags: func(fs *flag.FlagSet, o *options) { dryRunFlag(fs, o) }, run: cmdRun},
		{name: "once", summary: "poll every feed once, deliver what is due, and exit",
			flags: func(fs *flag.FlagSet, o *options) {
				dryRunFlag(fs, o)
				fs.DurationVar(&o.maxWait, "max-wait", 60*time.Second, "retry in this run failures whose next attempt falls within this `duration`")
			}, run: cmdOnce},
		{name: "check", summary: "validate the config; with --online, reach every feed and channel",
			flags: func(fs *flag.FlagSet, o *options) {
				fs.BoolVar(&o.online, "online", false, "also fetch each feed and reach each channel")
			}, run: cmdCheck},
		{name: "preview", summary: "render the newest articles for each channel, sending and writing nothing",
			flags: func(fs *flag.FlagSet, o *options) {
				fs.StringVar(&o.feed, "feed", "", "only this feed `id`")
				fs.StringVar(&o.channel, "channel", "", "only this channel `id`")
				fs.IntVar(&o.limit, "limit", 3, "newest `n` articles per feed")
			}, run: cmdPreview},
		{name: "status", summary: "articles × channels with delivery id and state",
			flags: func(fs *flag.FlagSet, o *options) {
				fs.BoolVar(&o.json, "json", false, "print JSON")
				fs.StringVar(&o.feed, "feed", "", "only this feed `id`")
				fs.StringVar(&o.channel, "channel", "", "only this channel `id`")
				fs.StringVar(&o.states, "state", "", "only these `states` (comma-separated)")
				fs.IntVar(&o.limit, "limit", 0, "at most `n` deliveries, newest (0: all)")
				fs.Int64Var(&o.digest, "digest", 0, "also list the messages of this digest `id`")
				fs.StringVar(&o.recipients, "recipients", "", "with --digest: only the messages in these `states`")
			}, run: cmdStatus},
		{name: "subscribers", args: "add|remove|list|import|export [ADDRESS…|FILE|-]", summary: "manage the subscribers of an email list",
			flags: func(fs *flag.FlagSet, o *options) {
				fs.StringVar(&o.list, "list", "", "the subscriber `list`")
				fs.BoolVar(&o.confirmed, "confirmed", false, "add or import as confirmed, sending no confirmation")
			}, run: cmdSubscribers},
		{name: "digest", args: "[resend|mark-sent [ADDRESS…]]", summary: "show the next digest of an email channel, or send it now; resend or mark sent its uncertain messages",
			flags: func(fs *flag.FlagSet, o *options) {
				fs.StringVar(&o.channel, "channel", "", "the email channel `id`")
				fs.StringVar(&o.html, "html", "", "also write the HTML part to this `file`")
				fs.BoolVar(&o.now, "now", false, "send it now, if it has articles")
				fs.Int64Var(&o.digest, "digest", 0, "resend, mark-sent: the digest `id`")
				fs.StringVar(&o.states, "state", "", "resend, mark-sent: the messages in these `states` (default uncertain)")
			}, run: cmdDigest},
		{name: "retry", args: "DELIVERY…", summary: "send again failed, held or uncertain deliveries", run: decide(syndicate.DecideRetry)},
		{name: "skip", args: "DELIVERY…", summary: "never send these deliveries", run: decide(syndicate.DecideSkip)},
		{name: "mark-sent", args: "DELIVERY…", summary: "record uncertain deliveries as sent", run: decide(syndicate.DecideMarkSent)},
		{name: "approve", args: "DELIVERY…", summary: "send deliveries waiting in review",
			flags: func(fs *flag.FlagSet, o *options) {
				fs.StringVar(&o.textFile, "text-file", "", "send the one delivery named with the text of this `file` (in the channel's markup)")
			}, run: cmdApprove},
		{name: "edit", args: "DELIVERY…", summary: "edit sent posts to show their article as it is now (on_update: edit)", run: cmdEdit},
		{name: "pause", args: "CHANNEL…", summary: "stop sending to channels; deliveries wait", run: pause(true)},
		{name: "resume", args: "CHANNEL…", summary: "send to paused channels again", run: pause(false)},
		{name: "healthcheck", summary: "exit 0 when the daemon of the configuration is ready (/readyz)", run: cmdHealthcheck},
	}
}

func dryRunFlag(fs *flag.FlagSet, o *options) {
	fs.BoolVar(&o.dryRun, "dry-run", false, "do everything but the final send; write nothing; print what would be sent")
}

// Run is the whole program, callable in-process by tests.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Now == nil {
		env.Now = time.Now
	}

	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(env.Stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "--version" || args[0] == "-version" || args[0] == "version" {
		fmt.Fprintln(env.Stdout, readBuildInfo())
		return exitOK
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == args[0] {
			cmd = &c
		}
	}
	if cmd == nil {
		fmt.Fprintf(env.Stderr, "syndicate: unknown command %q\n\n", args[0])
		printUsage(env.Stderr)
		return exitUsage
	}

	c := &cli{env: env}
	fs := flag.NewFlagSet("syndicate "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.StringVar(&c.opts.config, "config", "syndicate.yaml", "configuration `file`")
	fs.StringVar(&c.opts.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.opts.logFormat, "log-format", "text", "text or json")
	if cmd.flags != nil {
		cmd.flags(fs, &c.opts)
	}
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "usage: syndicate %s [flags] %s\n%s\n\nflags:\n", cmd.name, cmd.args, cmd.summary)
		fs.PrintDefaults()
	}
	positional, err := parseInterleaved(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage // flag has printed the problem and the usage
	}
	c.args = positional
	if cmd.args == "" && len(positional) > 0 {
		fmt.Fprintf(env.Stderr, "syndicate %s: unexpected argument %q\n", cmd.name, positional[0])
		return exitUsage
	}
	c.log, err = newLogger(env.Stderr, c.opts.logLevel, c.opts.logFormat)
	if err != nil {
		fmt.Fprintf(env.Stderr, "syndicate %s: %v\n", cmd.name, err)
		return exitUsage
	}

	err = cmd.run(ctx, c)
	var ue usageError
	var ce configError
	var fe failedError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "syndicate %s: %v\n", cmd.name, err)
		return exitUsage
	case errors.As(err, &ce):
		fmt.Fprintf(env.Stderr, "syndicate %s: invalid configuration %s:\n%s\n", cmd.name, c.opts.config, indent(ce.err.Error()))
		return exitUsage
	case errors.As(err, &fe):
		return exitFailure
	default:
		c.log.Error(cmd.name+" failed", slog.Any("error", err))
		return exitFailure
	}
}

// parseInterleaved lets flags follow positional arguments
// (syndicate retry 12 13 --config f.yaml).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %q is not debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: %q is not text or json", format)
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: syndicate COMMAND --config FILE [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nsyndicate --version prints the version; syndicate COMMAND -h lists its flags.")
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}
