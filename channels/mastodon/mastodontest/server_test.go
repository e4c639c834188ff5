package mastodontest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const token = "fake-token"

type answer struct {
	status int
	header http.Header
	body   map[string]any
	list   []map[string]any
}

func call(t *testing.T, s *Server, method, path, auth, contentType, body string, header http.Header) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header}
	if strings.HasPrefix(string(raw), "[") {
		err = json.Unmarshal(raw, &a.list)
	} else {
		err = json.Unmarshal(raw, &a.body)
	}
	if err != nil {
		t.Fatalf("%s %s: answer is not JSON: %q", method, path, raw)
	}
	return a
}

func postForm(t *testing.T, s *Server, form url.Values, header http.Header) answer {
	return call(t, s, "POST", "/api/v1/statuses", token, "application/x-www-form-urlencoded", form.Encode(), header)
}

func TestPostStatusRefusals(t *testing.T) {
	link := "https://en.communia.blog/protests-in-kazakhstan-5-clues-to-understand-whats-going-on"
	tests := []struct {
		name       string
		form       url.Values
		auth       string
		wantStatus int
		wantError  string
	}{
		{"accepted", url.Values{"status": {"Hello " + link}, "visibility": {"unlisted"}, "language": {"en"}}, token, 200, ""},
		{"no token", url.Values{"status": {"Hello"}}, "", 401, "The access token is invalid"},
		{"wrong token", url.Values{"status": {"Hello"}}, "other", 401, "The access token is invalid"},
		{"blank", url.Values{"status": {"  \n "}}, token, 422, "Validation failed: Text can't be blank"},
		{"500 characters", url.Values{"status": {strings.Repeat("é", 500)}}, token, 200, ""},
		{"501 characters", url.Values{"status": {strings.Repeat("é", 501)}}, token, 422, "Validation failed: Text character limit of 500 exceeded"},
		{"URLs count 23", url.Values{"status": {strings.Repeat("a", 500-24) + " " + link}}, token, 200, ""},
		{"spoiler text counts", url.Values{"status": {strings.Repeat("a", 490)}, "spoiler_text": {"CW: strikes"}}, token, 422, "character limit of 500 exceeded"},
		{"unknown visibility", url.Values{"status": {"Hello"}, "visibility": {"everyone"}}, token, 422, "Validation failed: Visibility"},
		{"unsupported parameter", url.Values{"status": {"Hello"}, "poll[options][]": {"a", "b"}}, token, 400, `unsupported parameter "poll[options][]"`},
		{"reply to an unknown status", url.Values{"status": {"Hello"}, "in_reply_to_id": {"42"}}, token, 404, "Record not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(t, token)
			got := call(t, s, "POST", "/api/v1/statuses", tt.auth, "application/x-www-form-urlencoded", tt.form.Encode(), nil)
			if got.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %v", got.status, tt.wantStatus, got.body)
			}
			if msg, _ := got.body["error"].(string); !strings.Contains(msg, tt.wantError) || (tt.wantError == "") != (msg == "") {
				t.Errorf("error %q, want %q", msg, tt.wantError)
			}
			if published := len(s.Statuses()); (tt.wantStatus == 200) != (published == 1) {
				t.Errorf("%d statuses published", published)
			}
		})
	}
}

func TestPostStatusAnswer(t *testing.T) {
	s := NewServer(t, token)
	got := call(t, s, "POST", "/api/v1/statuses", token, "application/json",
		`{"status":"Title\n\nRead https://en.communia.blog/ai & more","visibility":"private","language":"en"}`, nil)
	if got.status != 200 {
		t.Fatalf("status %d: %v", got.status, got.body)
	}
	st := s.Statuses()[0]
	want := map[string]any{"id": st.ID, "url": s.URL() + "/@syndicate/" + st.ID, "visibility": "private", "language": "en"}
	for k, v := range want {
		if got.body[k] != v {
			t.Errorf("%s = %v, want %v", k, got.body[k], v)
		}
	}
	wantContent := `<p>Title</p><p>Read <a href="https://en.communia.blog/ai" target="_blank" rel="nofollow noopener" translate="no">` +
		`<span class="invisible">https://</span><span class="">en.communia.blog/ai</span><span class="invisible"></span></a> &amp; more</p>`
	if got.body["content"] != wantContent {
		t.Errorf("content\n%v\nwant\n%v", got.body["content"], wantContent)
	}
}

func TestIdempotencyKey(t *testing.T) {
	s := NewServer(t, token)
	key := http.Header{"Idempotency-Key": {"k1"}}
	first := postForm(t, s, url.Values{"status": {"one"}}, key)
	again := postForm(t, s, url.Values{"status": {"one, again"}}, key)
	other := postForm(t, s, url.Values{"status": {"two"}}, http.Header{"Idempotency-Key": {"k2"}})
	if first.body["id"] != again.body["id"] || first.body["id"] == other.body["id"] {
		t.Errorf("ids %v %v %v: want the same status for the same key only", first.body["id"], again.body["id"], other.body["id"])
	}
	if n := len(s.Statuses()); n != 2 {
		t.Errorf("%d statuses, want 2", n)
	}
	if n := s.Requests("/api/v1/statuses"); n != 3 {
		t.Errorf("%d requests counted, want 3", n)
	}
}

func TestFailNext(t *testing.T) {
	s := NewServer(t, token)
	s.FailNext(2, 429, http.Header{"X-Ratelimit-Reset": {"2026-11-26T21:35:00.000Z"}}, `{"error":"Too many requests"}`)
	for i := range 2 {
		got := postForm(t, s, url.Values{"status": {"x"}}, nil)
		if got.status != 429 || got.header.Get("X-RateLimit-Reset") != "2026-11-26T21:35:00.000Z" || got.body["error"] != "Too many requests" {
			t.Fatalf("attempt %d: %d %v %v", i, got.status, got.header, got.body)
		}
	}
	if got := postForm(t, s, url.Values{"status": {"x"}}, nil); got.status != 200 {
		t.Fatalf("after the failures: %d %v", got.status, got.body)
	}
}

func TestDropAfterAccept(t *testing.T) {
	s := NewServer(t, token)
	s.DropAfterAccept(1)
	req, _ := http.NewRequestWithContext(t.Context(), "POST", s.URL()+"/api/v1/statuses", strings.NewReader("status=lost+answer"))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer: %d", resp.StatusCode)
	}
	if st := s.Statuses(); len(st) != 1 || st[0].Text != "lost answer" {
		t.Fatalf("published %+v", st)
	}
}

func TestReadEndpoints(t *testing.T) {
	s := NewServer(t, token)
	s.SetMaxCharacters(1000)
	for _, text := range []string{"one", "two", "three"} {
		postForm(t, s, url.Values{"status": {text}}, nil)
	}
	me := call(t, s, "GET", "/api/v1/accounts/verify_credentials", token, "", "", nil)
	if me.body["acct"] != Username || me.body["id"] != AccountID {
		t.Errorf("verify_credentials: %v", me.body)
	}
	list := call(t, s, "GET", "/api/v1/accounts/"+AccountID+"/statuses?limit=2", token, "", "", nil)
	if len(list.list) != 2 || list.list[0]["content"] != "<p>three</p>" || list.list[1]["content"] != "<p>two</p>" {
		t.Errorf("statuses: %v", list.list)
	}
	if got := call(t, s, "GET", "/api/v1/accounts/1/statuses", token, "", "", nil); got.status != 404 {
		t.Errorf("another account's statuses: %d", got.status)
	}
	v2 := call(t, s, "GET", "/api/v2/instance", token, "", "", nil)
	statuses := v2.body["configuration"].(map[string]any)["statuses"].(map[string]any)
	if statuses["max_characters"] != 1000.0 || statuses["characters_reserved_per_url"] != 23.0 {
		t.Errorf("v2 instance: %v", statuses)
	}
	s.DisableInstanceV2()
	if got := call(t, s, "GET", "/api/v2/instance", token, "", "", nil); got.status != 404 {
		t.Errorf("disabled v2 instance: %d", got.status)
	}
	if got := call(t, s, "GET", "/api/v1/instance", token, "", "", nil); got.status != 200 {
		t.Errorf("v1 instance: %d", got.status)
	}
	if got := call(t, s, "GET", "/api/v1/timelines/home", token, "", "", nil); got.status != 404 || got.body["error"] == nil {
		t.Errorf("unknown endpoint: %d %v", got.status, got.body)
	}
}
