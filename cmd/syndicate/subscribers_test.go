package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/config"
	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/subscribe"
)

const listSecret = "subscribers-test-link-secret-0123"

// listSite is a configuration with two email lists, en and es, and its
// own SQLite file.
type listSite struct {
	t      *testing.T
	dir    string
	config string
	now    time.Time
	sender func(*config.Config, *config.Channel, *slog.Logger) (subscribe.ConfirmationSender, error)
}

func newListSite(t *testing.T) *listSite {
	t.Helper()
	s := &listSite{t: t, dir: t.TempDir(), now: time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)}
	s.config = filepath.Join(s.dir, "syndicate.yaml")
	yaml := fmt.Sprintf(`
store: "sqlite:%s"
public_url: "http://127.0.0.1:8080/news/"
secret: "%s"
feeds:
  - {id: blog-en, url: "http://127.0.0.1:1/en.xml", language: en, to: [digest-en]}
  - {id: blog-es, url: "http://127.0.0.1:1/es.xml", language: es, to: [digest-es]}
channels:
  - id: digest-en
    type: email
    list: en
    schedule: "0 8 * * MON"
    from: "News <news@example.org>"
    smtp: {host: 127.0.0.1, port: 2525, tls: none, username: news, password: "${SMTP_PASSWORD}"}
  - id: digest-es
    type: email
    list: es
    schedule: "0 8 * * MON"
    from: "Noticias <noticias@example.org>"
    smtp: {host: 127.0.0.1, port: 2525, tls: none}
`, filepath.Join(s.dir, "syndicate.db"), listSecret)
	if err := os.WriteFile(s.config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *listSite) write(name, content string) string {
	s.t.Helper()
	p := filepath.Join(s.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		s.t.Fatal(err)
	}
	return p
}

// run runs `syndicate subscribers ARGS --config FILE` in-process, with
// stdin as standard input and SMTP_PASSWORD set.
func (s *listSite) run(stdin string, args ...string) result {
	s.t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	env := Env{
		Stdout: &out, Stderr: &errOut, Stdin: strings.NewReader(stdin), Now: func() time.Time { return s.now },
		ConfirmationSender: s.sender,
		LookupEnv: func(k string) (string, bool) {
			if k == "SMTP_PASSWORD" {
				return "smtp-password-0123", true
			}
			return "", false
		},
	}
	args = append([]string{"subscribers"}, args...)
	if !slices.Contains(args, "--config") {
		args = append(args, "--config", s.config)
	}
	code := Run(ctx, args, env)
	r := result{code, out.String(), errOut.String()}
	if strings.Contains(r.stdout+r.stderr, "smtp-password-0123") {
		s.t.Fatalf("the SMTP password reached the output of %v", args)
	}
	return r
}

func (s *listSite) mustRun(stdin string, args ...string) result {
	s.t.Helper()
	r := s.run(stdin, args...)
	if r.code != 0 {
		s.t.Fatalf("%v exited %d:\n%s\n%s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// export returns the list's rows, without the header.
func (s *listSite) export(list string) [][]string {
	s.t.Helper()
	r := s.mustRun("", "export", "--list", list)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		s.t.Fatalf("export is not CSV: %v\n%s", err, r.stdout)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != "email,name,list,state,subscribed_at" {
		s.t.Fatalf("export header: %q", rows)
	}
	return rows[1:]
}

// states returns email → state of the list's export.
func (s *listSite) states(list string) map[string]string {
	s.t.Helper()
	m := map[string]string{}
	for _, row := range s.export(list) {
		m[row[0]] = row[3]
	}
	return m
}

// fakeMailer stands in for the email channel's confirmation sender.
type fakeMailer struct {
	mu    sync.Mutex
	sent  []string // channel id, address, URL
	fail  error
	built []string
}

// install makes the site's commands mail confirmations through f.
func (f *fakeMailer) install(s *listSite) {
	s.sender = func(cfg *config.Config, ch *config.Channel, _ *slog.Logger) (subscribe.ConfirmationSender, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.built = append(f.built, ch.ID+":"+ch.Email.SMTP.Password.Value())
		return channelMailer{f, ch.ID}, nil
	}
}

type channelMailer struct {
	f  *fakeMailer
	id string
}

func (m channelMailer) SendConfirmation(_ context.Context, s syndicate.Subscriber, u string) error {
	m.f.mu.Lock()
	defer m.f.mu.Unlock()
	if m.f.fail != nil {
		return m.f.fail
	}
	m.f.sent = append(m.f.sent, m.id+" "+s.Email+" "+u)
	return nil
}

func TestSubscribersUsage(t *testing.T) {
	s := newListSite(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"list"}, "--list is required"},
		{[]string{"list", "--list", "fr"}, `--list "fr": no email channel has list: "fr" (lists: en, es)`},
		{[]string{}, "name an action"},
		{[]string{"purge", "--list", "en"}, `unknown action "purge"`},
		{[]string{"add", "--list", "en"}, "name at least one address"},
		{[]string{"remove", "--list", "en"}, "name at least one address"},
		{[]string{"import", "--list", "en"}, "name one CSV file"},
		{[]string{"import", "a.csv", "b.csv", "--list", "en"}, "name one CSV file"},
		{[]string{"export", "extra", "--list", "en"}, `unexpected argument "extra"`},
		{[]string{"add", "--confirmed", "--list", "en", "good@example.org", "bad@", "x@example.org\r\nBcc: y@example.org"}, "2 invalid addresses; nothing was changed"},
	} {
		r := s.run("", tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%q: exit %d, want 2 saying %q\n%s", tt.args, r.code, tt.want, r.stderr)
		}
	}
	if got := s.states("en"); len(got) != 0 {
		t.Errorf("refused commands changed the list: %v", got)
	}

	// A config without an email channel has no list.
	other := s.write("no-email.yaml", `
store: "sqlite:`+filepath.Join(s.dir, "other.db")+`"
feeds: [{id: f, url: "https://example.org/feed", to: [tg]}]
channels: [{id: tg, type: telegram, bot_token: t, chat: "@channel"}]
`)
	r := s.run("", "list", "--list", "en", "--config", other)
	if r.code != 2 || !strings.Contains(r.stderr, "the configuration has no email channel") {
		t.Errorf("no email channel: exit %d\n%s", r.code, r.stderr)
	}
}

func TestSubscribersAddRemoveList(t *testing.T) {
	s := newListSite(t)
	r := s.mustRun("", "add", "--list", "en", "--confirmed", "Jane.Doe@EXAMPLE.org", "Juan Pérez <juan@example.org>")
	if !strings.Contains(r.stdout, "Jane.Doe@example.org: added, confirmed") || !strings.Contains(r.stdout, "juan@example.org: added, confirmed") {
		t.Errorf("add output:\n%s", r.stdout)
	}
	r = s.mustRun("", "add", "--list", "en", "--confirmed", "jane.doe@example.org")
	if !strings.Contains(r.stdout, "already on the list, confirmed; unchanged") {
		t.Errorf("second add:\n%s", r.stdout)
	}

	r = s.mustRun("", "list", "--list", "en")
	for _, want := range []string{"EMAIL", "Jane.Doe@example.org", "juan@example.org", "Juan Pérez", "confirmed", "2026-03-14T09:26:53Z",
		"list en: 2 addresses: 2 confirmed, 0 pending, 0 unsubscribed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("list lacks %q:\n%s", want, r.stdout)
		}
	}
	if got := s.states("es"); len(got) != 0 {
		t.Errorf("list es = %v, want empty", got)
	}

	r = s.mustRun("", "remove", "--list", "en", "JANE.DOE@example.org")
	if !strings.Contains(r.stdout, "Jane.Doe@example.org: unsubscribed") {
		t.Errorf("remove output:\n%s", r.stdout)
	}
	s.mustRun("", "remove", "--list", "en", "jane.doe@example.org") // again: fine
	r = s.run("", "remove", "--list", "en", "nobody@example.org", "juan@example.org")
	if r.code != 1 || !strings.Contains(r.stderr, "nobody@example.org: not on list en") || !strings.Contains(r.stdout, "juan@example.org: unsubscribed") {
		t.Errorf("remove of an unknown address: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// Adding never revives an unsubscribed address.
	r = s.mustRun("", "add", "--list", "en", "--confirmed", "jane.doe@example.org")
	if !strings.Contains(r.stdout, "unsubscribed: left so") {
		t.Errorf("add of an unsubscribed address:\n%s", r.stdout)
	}
	if got := s.states("en"); got["Jane.Doe@example.org"] != "unsubscribed" || got["juan@example.org"] != "unsubscribed" {
		t.Errorf("states %v", got)
	}
}

func TestSubscribersAddSendsConfirmation(t *testing.T) {
	s := newListSite(t)

	// When the email channel's sender cannot be built, add changes nothing.
	s.sender = func(*config.Config, *config.Channel, *slog.Logger) (subscribe.ConfirmationSender, error) {
		return nil, errors.New("no SMTP server here")
	}
	r := s.run("", "add", "--list", "en", "pending@example.org")
	if r.code != 2 || !strings.Contains(r.stderr, "no SMTP server here") {
		t.Fatalf("add without a sender: exit %d\n%s", r.code, r.stderr)
	}
	if got := s.states("en"); len(got) != 0 {
		t.Fatalf("add without a sender stored %v", got)
	}

	mailer := &fakeMailer{}
	mailer.install(s)
	r = s.mustRun("", "add", "--list", "es", "lectora@example.org")
	if !strings.Contains(r.stdout, "lectora@example.org: added, pending; confirmation link sent") {
		t.Errorf("add output:\n%s", r.stdout)
	}
	if len(mailer.sent) != 1 || !strings.HasPrefix(mailer.sent[0], "digest-es lectora@example.org http://127.0.0.1:8080/news/confirm/") {
		t.Fatalf("mails %q", mailer.sent)
	}
	// The secret from the configuration signs it, and the SMTP password
	// was read for the sender.
	links, err := subscribe.NewLinks("http://127.0.0.1:8080/news", []byte(listSecret), func() time.Time { return s.now })
	if err != nil {
		t.Fatal(err)
	}
	token := mailer.sent[0][strings.LastIndex(mailer.sent[0], "/")+1:]
	if l, err := links.Parse(token); err != nil || l.List != "es" || l.Email != "lectora@example.org" || l.Kind != subscribe.LinkConfirm {
		t.Errorf("confirmation token: %+v, %v", l, err)
	}
	if strings.Join(mailer.built, ",") != "digest-en:smtp-password-0123,digest-es:" {
		t.Errorf("senders built %q", mailer.built)
	}

	// Again: a new link; with --confirmed: confirmed.
	r = s.mustRun("", "add", "--list", "es", "lectora@example.org")
	if !strings.Contains(r.stdout, "confirmation link sent again") || len(mailer.sent) != 2 {
		t.Errorf("add of a pending address:\n%s\n%q", r.stdout, mailer.sent)
	}
	r = s.mustRun("", "add", "--list", "es", "--confirmed", "lectora@example.org")
	if !strings.Contains(r.stdout, "now confirmed") || s.states("es")["lectora@example.org"] != "confirmed" {
		t.Errorf("add --confirmed of a pending address:\n%s", r.stdout)
	}

	// A mail that cannot go leaves the address pending, and says so.
	mailer.fail = fmt.Errorf("421 try later")
	r = s.run("", "add", "--list", "en", "later@example.org")
	if r.code != 1 || !strings.Contains(r.stderr, "421 try later") || !strings.Contains(r.stdout, "the confirmation link was not sent") {
		t.Errorf("add with a failing mailer: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if s.states("en")["later@example.org"] != "pending" {
		t.Errorf("states %v", s.states("en"))
	}
}

func TestSubscribersImport(t *testing.T) {
	s := newListSite(t)
	s.mustRun("", "add", "--list", "en", "--confirmed", "gone@example.org")
	s.mustRun("", "remove", "--list", "en", "gone@example.org")

	file := s.write("list.csv", "\uFEFFName,EMAIL,city\r\n"+
		"Ana,ana@example.org,Madrid\r\n"+
		"\"Doe, Jane\",Jane@Example.ORG,\"Almaty\"\r\n"+
		"Bad,not-an-address,x\r\n"+
		"\"Evil\",\"evil@example.org\r\nBcc: victim@example.net\",x\r\n"+
		"Gone,GONE@example.org,x\r\n"+
		"Ana again,ANA@example.org,x\r\n"+
		"Short\r\n"+
		"\"Name\r\nInjected\",inj@example.org,x\r\n"+
		"Last,last@example.org,\"unterminated\r\n")
	r := s.run("", "import", "--list", "en", file)
	if r.code != 1 {
		t.Fatalf("import with bad rows: exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"list.csv: line 4: \"not-an-address\": invalid email address",
		"list.csv: line 5: \"evil@example.org\\nBcc: victim@example.net\": invalid email address: it holds a line break",
		"list.csv: line 9: no email field",
		"list.csv: line 10: invalid email address: the name holds a line break",
		"list.csv: line 12: extraneous or missing \" in quoted-field",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if !strings.Contains(r.stdout, "list en: 2 addresses added (pending), 2 already on the list and left as they were, 5 bad rows") {
		t.Errorf("summary:\n%s", r.stdout)
	}
	want := map[string]string{"ana@example.org": "pending", "Jane@example.org": "pending", "gone@example.org": "unsubscribed"}
	if got := s.states("en"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("list en = %v, want %v", got, want)
	}
	names := map[string]string{}
	for _, row := range s.export("en") {
		names[row[0]] = row[1]
	}
	if names["Jane@example.org"] != "Doe, Jane" || names["ana@example.org"] != "Ana" {
		t.Errorf("names %v", names)
	}

	// Importing again changes nothing; --confirmed does not revive or
	// confirm what is there.
	before := s.export("en")
	r = s.run("", "import", "--list", "en", "--confirmed", file)
	if r.code != 1 || !strings.Contains(r.stdout, "0 addresses added (confirmed), 4 already on the list") {
		t.Errorf("re-import: exit %d\n%s", r.code, r.stdout)
	}
	if after := s.export("en"); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("re-import changed the list:\n%v\n%v", before, after)
	}

	// From standard input, confirmed, all good: exit 0.
	r = s.mustRun("email\nnuevo@example.org\notro@example.org\n", "import", "--list", "es", "--confirmed", "-")
	if !strings.Contains(r.stdout, "list es: 2 addresses added (confirmed), 0 already on the list and left as they were, 0 bad rows") {
		t.Errorf("stdin import:\n%s", r.stdout)
	}
	if got := s.states("es"); got["nuevo@example.org"] != "confirmed" || got["otro@example.org"] != "confirmed" {
		t.Errorf("list es = %v", got)
	}

	// No email column: nothing imported.
	r = s.run("name,mail\nA,a@example.org\n", "import", "--list", "es", "-")
	if r.code != 1 || !strings.Contains(r.stderr, "line 1: the header has no email column") {
		t.Errorf("without an email column: exit %d\n%s", r.code, r.stderr)
	}
	r = s.run("", "import", "--list", "es", "-")
	if r.code != 1 || !strings.Contains(r.stderr, "empty file") {
		t.Errorf("empty input: exit %d\n%s", r.code, r.stderr)
	}
	r = s.run("", "import", "--list", "es", filepath.Join(s.dir, "missing.csv"))
	if r.code != 1 || !strings.Contains(r.stderr, "missing.csv") {
		t.Errorf("missing file: exit %d\n%s", r.code, r.stderr)
	}
	if got := s.states("es"); len(got) != 2 {
		t.Errorf("list es = %v", got)
	}
}

// An export imported into another store gives the same export: names,
// times and opt-outs survive a move.
func TestSubscribersExportImportRoundTrip(t *testing.T) {
	s := newListSite(t)
	s.mustRun("", "add", "--list", "en", "--confirmed", `"Doe, \"JD\" Jane" <jane@example.org>`, "ana@example.org")
	s.now = s.now.Add(90*time.Minute + 123456*time.Microsecond)
	s.mustRun("", "add", "--list", "en", "--confirmed", "gone@example.org")
	s.mustRun("", "remove", "--list", "en", "gone@example.org")
	exported := s.mustRun("", "export", "--list", "en").stdout
	want := "email,name,list,state,subscribed_at\n" +
		`jane@example.org,"Doe, ""JD"" Jane",en,confirmed,2026-03-14T09:26:53Z` + "\n" +
		"ana@example.org,,en,confirmed,2026-03-14T09:26:53Z\n" +
		"gone@example.org,,en,unsubscribed,2026-03-14T10:56:53.123456Z\n"
	if exported != want {
		t.Fatalf("export:\n%s\nwant:\n%s", exported, want)
	}

	moved := newListSite(t)
	moved.now = s.now.Add(24 * time.Hour)
	moved.mustRun(exported, "import", "--list", "en", "--confirmed", "-")
	if got := moved.mustRun("", "export", "--list", "en").stdout; got != exported {
		t.Errorf("export after the move:\n%s\nwant:\n%s", got, exported)
	}
}
