package mastodon

import (
	"strings"
	"testing"

	"github.com/syndicate-daemon/syndicate/channels/mastodon/mastodontest"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

func TestEdit(t *testing.T) {
	img := newSite(t)
	srv := mastodontest.NewServer(t, token)
	ch := newChannel(t, srv.URL(), func(c *Config) { c.ContentWarnings = map[string]string{"Violence": "police violence"} })
	ctx := testContext(t)
	a := withImage(kazakhstan(), img.URL+"/kazakhstan-strike.jpg", caption)
	a.Categories = append(a.Categories, "Violence")
	sent, err := ch.Send(ctx, postOf(a, "delivery-1"))
	if err != nil {
		t.Fatal(err)
	}
	before := srv.Statuses()[0]
	if before.SpoilerText != "police violence" || !before.Sensitive || len(before.MediaIDs) != 1 {
		t.Fatalf("sent %+v", before)
	}

	// The article changes: a new title, and it is no longer under Violence.
	a.Title = "Protests in Kazakhstan: 5 clues to understand what is going on"
	a.Categories = a.Categories[:3]
	post := postOf(a, "delivery-1")
	want, rerr := ch.Render(post)
	if rerr != nil {
		t.Fatal(rerr)
	}
	got, eerr := ch.Edit(ctx, post, sent)
	if eerr != nil {
		t.Fatal(eerr)
	}
	if got.RemoteID != sent.RemoteID || got.URL != sent.URL {
		t.Errorf("receipt %+v, want %+v", got, sent)
	}
	after := srv.Statuses()[0]
	switch {
	case len(srv.Statuses()) != 1:
		t.Errorf("%d statuses", len(srv.Statuses()))
	case after.Text != want.Text || !strings.HasPrefix(after.Text, a.Title+"\n\n"):
		t.Errorf("edited text:\n%s\nwant:\n%s", after.Text, want.Text)
	case after.SpoilerText != "" || after.Sensitive:
		t.Errorf("content warning %q, sensitive %v: want both cleared", after.SpoilerText, after.Sensitive)
	case len(after.MediaIDs) != 1 || after.MediaIDs[0] != before.MediaIDs[0]:
		t.Errorf("media %v, want the image kept (%v)", after.MediaIDs, before.MediaIDs)
	case after.Edits != 1 || after.Language != "en":
		t.Errorf("%d edits, language %q", after.Edits, after.Language)
	}
	if n := len(srv.Media()); n != 1 {
		t.Errorf("%d uploads: an edit uploads nothing", n)
	}

	// Edited again with nothing new: nothing is sent.
	if _, err := ch.Edit(ctx, post, sent); err != nil {
		t.Fatal(err)
	}
	if n := srv.Statuses()[0].Edits; n != 1 {
		t.Errorf("%d edits after an edit that changes nothing", n)
	}
}

func TestEditErrors(t *testing.T) {
	srv := mastodontest.NewServer(t, token)
	ch := newChannel(t, srv.URL(), nil)
	ctx := testContext(t)
	_, err := ch.Edit(ctx, postOf(kazakhstan(), "k"), syndicate.Receipt{RemoteID: "404404"})
	if kind, _ := syndicate.Classify(err); err == nil || kind != syndicate.Permanent || !strings.Contains(err.Error(), "404 Record not found") {
		t.Errorf("edit of a deleted status: %v (%v)", err, kind)
	}
	_, err = ch.Edit(ctx, postOf(kazakhstan(), "k"), syndicate.Receipt{})
	if kind, _ := syndicate.Classify(err); err == nil || kind != syndicate.Permanent {
		t.Errorf("edit without a status id: %v (%v)", err, kind)
	}
	sent, se := ch.Send(ctx, postOf(kazakhstan(), "k"))
	if se != nil {
		t.Fatal(se)
	}
	srv.FailNextOn("PUT /api/v1/statuses/", 1, 503, nil, "")
	a := kazakhstan()
	a.Title = "Changed"
	_, err = ch.Edit(ctx, postOf(a, "k"), sent)
	if kind, _ := syndicate.Classify(err); err == nil || kind != syndicate.Retryable {
		t.Errorf("edit answered 503: %v (%v)", err, kind)
	}
	if _, err := ch.Edit(ctx, postOf(a, "k"), sent); err != nil {
		t.Fatal(err)
	}
	if st := srv.Statuses()[0]; !strings.HasPrefix(st.Text, "Changed\n\n") {
		t.Errorf("text %q", st.Text)
	}
}

// A server that counts URLs at their full length (GoToSocial) refuses a
// post fitted with 23 per URL; the channel fits it again that way, once.
func TestTooLongRetriedCountingURLsInFull(t *testing.T) {
	srv := mastodontest.NewServer(t, token)
	srv.CountURLsInFull(25)
	ch := newChannel(t, srv.URL(), func(c *Config) { c.MaxSummary = -1 }) // no cap: the post fills the limit
	a := kazakhstan()
	a.Link = "https://en.communia.blog/protests-in-kazakhstan-5-clues-to-understand-whats-going-on-in-central-asia"
	receipt, err := ch.Send(testContext(t), postOf(a, "k"))
	if err != nil {
		t.Fatal(err)
	}
	st := srv.Statuses()
	if len(st) != 1 || receipt.RemoteID != st[0].ID {
		t.Fatalf("%d statuses, receipt %+v", len(st), receipt)
	}
	if n := mastodontest.Length(st[0].Text, -1); n > 500 || n < 300 {
		t.Errorf("posted %d characters counted in full", n)
	}
	if n := srv.Requests("/api/v1/statuses"); n != 2 {
		t.Errorf("%d status posts, want 2 (refused, then fitted again)", n)
	}
	// The channel now counts that way from the start.
	r, rerr := ch.Render(postOf(a, "k2"))
	if rerr != nil || r.Length != mastodontest.Length(r.Text, -1) {
		t.Errorf("rendering counts %d, the server %d (%v)", r.Length, mastodontest.Length(r.Text, -1), rerr)
	}
	if _, err := ch.Send(testContext(t), postOf(a, "k2")); err != nil {
		t.Fatal(err)
	}
	if n := srv.Requests("/api/v1/statuses"); n != 3 {
		t.Errorf("%d status posts, want 3", n)
	}
}

func TestSendContentWarningAndHashtags(t *testing.T) {
	srv := mastodontest.NewServer(t, token)
	ch := newChannel(t, srv.URL(), func(c *Config) {
		c.MaxHashtags = 4
		c.Hashtags = map[string]string{"mass strike": "General strike", "Central Asia": ""}
		c.ContentWarnings = map[string]string{"kazakhstan": "repression, deaths"}
	})
	a := kazakhstan()
	a.Summary = "Short."
	if _, err := ch.Send(testContext(t), postOf(a, "k")); err != nil {
		t.Fatal(err)
	}
	st := srv.Statuses()[0]
	if st.SpoilerText != "repression, deaths" || !st.Sensitive {
		t.Errorf("content warning %q, sensitive %v", st.SpoilerText, st.Sensitive)
	}
	if !strings.HasSuffix(st.Text, "\n\n#Kazakhstan #GeneralStrike") {
		t.Errorf("hashtags in:\n%s", st.Text)
	}
}

func TestEditWithoutSourceEndpoint(t *testing.T) {
	srv := mastodontest.NewServer(t, token)
	ch := newChannel(t, srv.URL(), nil)
	ctx := testContext(t)
	sent, err := ch.Send(ctx, postOf(kazakhstan(), "k"))
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNextOn("GET /api/v1/statuses/"+sent.RemoteID+"/source", 1, 404, nil, "")
	a := kazakhstan()
	a.Title = "Changed"
	if _, err := ch.Edit(ctx, postOf(a, "k"), sent); err != nil {
		t.Fatal(err)
	}
	if st := srv.Statuses()[0]; st.Edits != 1 || !strings.HasPrefix(st.Text, "Changed\n\n") {
		t.Errorf("%d edits, text %q", st.Edits, st.Text)
	}
}
