package telegram

import (
	"context"
	"strings"
	"testing"

	"github.com/syndicate-daemon/syndicate/channels/telegram/telegramtest"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

func TestEdit(t *testing.T) {
	s := newSite(t)
	changed := func(a *syndicate.Article) { a.Title += " (updated)" }
	tests := []struct {
		name      string
		configure func(*Config)
		article   func(*syndicate.Article) // before the send
		change    func(*syndicate.Article) // before the edit
		check     func(t *testing.T, msgs []telegramtest.Message, r syndicate.Receipt)
	}{
		{
			name:      "message",
			configure: func(c *Config) { c.Mode = ModePreview },
			change:    changed,
			check: func(t *testing.T, msgs []telegramtest.Message, r syndicate.Receipt) {
				m := one(t, msgs)
				if m.Edits != 1 || !strings.HasPrefix(m.Text, "<b>The mass strike in Kazakhstan (updated)</b>") ||
					!strings.Contains(m.Options["reply_markup"], "Read the article") || !strings.Contains(m.Options["link_preview_options"], "prefer_large_media") {
					t.Errorf("message %+v", m)
				}
			},
		},
		{
			name:   "unchanged: Telegram's \"message is not modified\" is a success",
			change: func(*syndicate.Article) {},
			check: func(t *testing.T, msgs []telegramtest.Message, r syndicate.Receipt) {
				if m := one(t, msgs); m.Edits != 0 {
					t.Errorf("message %+v", m)
				}
			},
		},
		{
			name:    "photo caption",
			article: func(a *syndicate.Article) { a.ImageURL = s.URL + "/strike.jpg" },
			change:  changed,
			check: func(t *testing.T, msgs []telegramtest.Message, r syndicate.Receipt) {
				m := one(t, msgs)
				if m.Method != "sendPhoto" || m.Edits != 1 || !strings.HasPrefix(m.Text, "<b>The mass strike in Kazakhstan (updated)</b>") ||
					!strings.Contains(m.Options["reply_markup"], "Read the article") || r.Warning != "" {
					t.Errorf("message %+v, receipt %+v", m, r)
				}
			},
		},
		{
			name:    "photo caption now too long: cut, with a warning",
			article: func(a *syndicate.Article) { a.ImageURL = s.URL + "/strike.jpg" },
			change:  func(a *syndicate.Article) { a.Summary = strings.Repeat("Huelga en Kazajistán. ", 80) },
			check: func(t *testing.T, msgs []telegramtest.Message, r syndicate.Receipt) {
				m := one(t, msgs)
				if m.Edits != 1 || !strings.Contains(m.Text, "Kazajistán. Huelga…\n\n") || !strings.Contains(r.Warning, "cut to fit the photo's caption (1024)") {
					t.Errorf("message %q, receipt %+v", m.Text, r)
				}
			},
		},
		{
			name: "photo and reply",
			article: func(a *syndicate.Article) {
				a.ImageURL = s.URL + "/strike.jpg"
				a.Summary = strings.Repeat("Huelga en Kazajistán. ", 80)
			},
			change: func(a *syndicate.Article) { a.Summary = strings.Repeat("Strike in Kazakhstan. ", 80) },
			check: func(t *testing.T, msgs []telegramtest.Message, r syndicate.Receipt) {
				if len(msgs) != 2 || msgs[0].Edits != 0 || msgs[1].Edits != 1 || !strings.Contains(msgs[1].Text, "Strike in Kazakhstan. Strike") ||
					msgs[1].Options["link_preview_options"] != `{"is_disabled":true}` || !strings.Contains(msgs[1].Options["reply_markup"], "Read the article") {
					t.Errorf("messages %+v", msgs)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			c := newChannel(t, srv, tt.configure)
			a := article()
			if tt.article != nil {
				tt.article(&a)
			}
			sent, err := c.Send(context.Background(), post(a))
			if err != nil {
				t.Fatal(err)
			}
			tt.change(&a)
			r, eerr := c.Edit(context.Background(), post(a), sent)
			if eerr != nil {
				t.Fatal(eerr)
			}
			if r.RemoteID != sent.RemoteID || r.URL != sent.URL {
				t.Errorf("receipt %+v after %+v", r, sent)
			}
			tt.check(t, srv.Messages(), r)
		})
	}
}

func TestEditErrors(t *testing.T) {
	tests := []struct {
		name     string
		remoteID string
		setup    func(*telegramtest.Server)
		kind     syndicate.ErrorKind
		want     string
	}{
		{"not a remote id", "photo:x", nil, syndicate.Permanent, `cannot edit: remote id "photo:x"`},
		{"a reply without a photo", "1+2", nil, syndicate.Permanent, "cannot edit"},
		{"deleted", "-1001000000000/7", nil, syndicate.Permanent, "400 Bad Request: message to edit not found (the message was deleted)"},
		{"answer lost: retried, not uncertain", "-1001000000000/1", func(s *telegramtest.Server) { s.DropAfterAccept(1) }, syndicate.Retryable, "editMessageText 1 in -1001000000000"},
		{"flood", "-1001000000000/1", func(s *telegramtest.Server) { s.FloodWait(1, 30) }, syndicate.Retryable, "429 Too Many Requests: retry after 30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			c := newChannel(t, srv, nil)
			if _, err := c.Send(context.Background(), post(article())); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(srv)
			}
			a := article()
			a.Title = "Changed"
			_, err := c.Edit(context.Background(), post(a), syndicate.Receipt{RemoteID: tt.remoteID})
			if !isKind(err, tt.kind) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v (%v), want %v saying %q", err, classify(err), tt.kind, tt.want)
			}
		})
	}
}

func classify(err error) syndicate.ErrorKind {
	k, _ := syndicate.Classify(err)
	return k
}

// A remote id names its chat, so an edit reaches the message where it is
// even after chat changed; an older one without a chat means chat.
func TestEditChat(t *testing.T) {
	srv := newServer(t)
	srv.AddChat("@other_chat")
	c := newChannel(t, srv, nil)
	sent, err := c.Send(context.Background(), post(article()))
	if err != nil {
		t.Fatal(err)
	}
	moved := newChannel(t, srv, func(cfg *Config) { cfg.Chat = "@other_chat" })
	a := article()
	a.Title = "Changed"
	if _, err := moved.Edit(context.Background(), post(a), sent); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages()[0]; m.Chat != chat || m.Edits != 1 {
		t.Errorf("message %+v", m)
	}
	a.Title = "Changed again"
	if _, err := c.Edit(context.Background(), post(a), syndicate.Receipt{RemoteID: "1"}); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages()[0]; m.Edits != 2 {
		t.Errorf("message %+v", m)
	}
}

func TestRemoteID(t *testing.T) {
	for _, id := range []remoteID{
		{first: 1},
		{chat: "-1001234567890", first: 12},
		{chat: "@news", photo: true, first: 3},
		{chat: "-4001", photo: true, first: 3, reply: 4},
	} {
		got, err := parseRemoteID(id.String())
		if err != nil || got != id {
			t.Errorf("parseRemoteID(%q) = %+v, %v", id.String(), got, err)
		}
	}
	for _, bad := range []string{"", "x", "0", "-1", "photo:", "1+2", "photo:1+", "photo:1+0", "chat/1", "@a/b/1", "+1", "photo:+1"} {
		if got, err := parseRemoteID(bad); err == nil {
			t.Errorf("parseRemoteID(%q) = %+v", bad, got)
		}
	}
}
