package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/channels/email/mailpittest"
	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/web"
)

// Double opt-in with the real parts: the pages as the daemon builds them
// (subscriptionPages), the email channel mailing the confirmation to a
// real SMTP server (mailpit), the link followed back, and `subscribers
// add` mailing through the same server.
func TestDoubleOptInThroughMailpit(t *testing.T) {
	mp := mailpittest.Start(t)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "syndicate.yaml")
	yaml := `
store: "sqlite:` + filepath.Join(dir, "syndicate.db") + `"
public_url: "` + srv.URL + `"
feeds:
  - {id: blog-es, url: "http://127.0.0.1:1/es.xml", language: es, to: [digest-es]}
channels:
  - id: digest-es
    type: email
    list: es
    schedule: "0 8 * * MON"
    from: "Noticias <noticias@example.org>"
    smtp: {host: ` + mp.SMTPHost + `, port: ` + strconv.Itoa(mp.SMTPPort) + `, tls: none}
`
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	c := &cli{env: Env{Stdout: io.Discard, Stderr: io.Discard, Now: time.Now}, opts: options{config: cfgPath},
		log: slog.New(slog.DiscardHandler)}
	cfg, err := c.loadConfig(false)
	if err != nil {
		t.Fatal(err)
	}
	store, err := openStore(ctx, cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if pages, _, err := c.subscriptionPages(ctx, cfg, store, true, nil); pages != nil || err != nil {
		t.Errorf("subscriptionPages in a dry run = %v, %v; want none", pages, err)
	}
	pages, svc, err := c.subscriptionPages(ctx, cfg, store, false, nil)
	if err != nil || pages == nil || svc == nil {
		t.Fatalf("subscriptionPages = %v, %v, %v", pages, svc, err)
	}
	if pages.Lists["es"] != "es" {
		t.Errorf("Lists = %v, want es: es", pages.Lists)
	}
	mux.Handle("/", web.Handler(web.Options{Subscribe: pages}))

	resp, err := http.PostForm(srv.URL+"/subscribe", url.Values{"email": {"lectora@example.org"}, "list": {"es"}, "website": {""}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Revisa tu correo") {
		t.Fatalf("POST /subscribe: %d\n%s", resp.StatusCode, body)
	}
	msgs := mp.WaitMessages(1)
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0].Address != "lectora@example.org" {
		t.Fatalf("mailpit received %+v", msgs)
	}
	text := mp.Message(msgs[0].ID).Text
	link := regexp.MustCompile(regexp.QuoteMeta(srv.URL) + `/confirm/[A-Za-z0-9_.-]+`).FindString(text)
	if link == "" {
		t.Fatalf("no confirmation link in:\n%s", text)
	}
	resp, err = http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Suscripción confirmada") {
		t.Fatalf("GET %s: %d\n%s", link, resp.StatusCode, body)
	}
	subs := store
	if s, err := subs.Subscriber(ctx, "es", "lectora@example.org"); err != nil || s.State != syndicate.SubscriberConfirmed {
		t.Errorf("subscriber %+v, %v; want confirmed", s, err)
	}

	// The command line mails through the same server, with links signed
	// by the same (generated, kept) secret.
	var out, errOut bytes.Buffer
	code := Run(context.Background(), []string{"subscribers", "add", "--list", "es", "--config", cfgPath, "otra@example.org"},
		Env{Stdout: &out, Stderr: &errOut})
	if code != 0 || !strings.Contains(out.String(), "confirmation link sent") {
		t.Fatalf("subscribers add: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	msgs = mp.WaitMessages(2)
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	link = regexp.MustCompile(regexp.QuoteMeta(srv.URL) + `/confirm/[A-Za-z0-9_.-]+`).FindString(mp.Message(msgs[0].ID).Text)
	if _, err := svc.Confirm(ctx, link[strings.LastIndexByte(link, '/')+1:]); err != nil {
		t.Errorf("the daemon refuses the link the command line mailed: %v", err)
	}
}
