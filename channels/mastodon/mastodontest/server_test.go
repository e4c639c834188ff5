package mastodontest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
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

var jpeg = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01 a tiny fake jpeg")

func upload(t *testing.T, s *Server, file []byte, fields map[string]string) answer {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if file != nil {
		fw, err := mw.CreateFormFile("file", "upload")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(file)
	}
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	return call(t, s, "POST", "/api/v2/media", token, mw.FormDataContentType(), b.String(), nil)
}

func TestMediaUpload(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	gif := []byte("GIF89a\x01\x00\x01\x00")
	webp := []byte("RIFF\x24\x00\x00\x00WEBPVP8 ")
	tests := []struct {
		name       string
		file       []byte
		fields     map[string]string
		wantStatus int
		wantError  string
		wantType   string
	}{
		{"jpeg", jpeg, map[string]string{"description": "Oil workers"}, 200, "", "image/jpeg"},
		{"png", png, nil, 200, "", "image/png"},
		{"gif", gif, nil, 200, "", "image/gif"},
		{"webp", webp, nil, 200, "", "image/webp"},
		{"description of 1500 characters", jpeg, map[string]string{"description": strings.Repeat("é", 1500)}, 200, "", "image/jpeg"},
		{"description of 1501 characters", jpeg, map[string]string{"description": strings.Repeat("é", 1501)}, 422, "Description is too long (maximum is 1500 characters)", ""},
		{"a web page named .jpg", []byte("<!doctype html><p>404"), nil, 422, "File content type is invalid", ""},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), nil, 422, "File content type is invalid", ""},
		{"no file", nil, map[string]string{"description": "x"}, 422, "File can't be blank", ""},
		{"unsupported parameter", jpeg, map[string]string{"thumbnail_url": "x"}, 400, `unsupported parameter "thumbnail_url"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(t, token)
			got := upload(t, s, tt.file, tt.fields)
			if got.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %v", got.status, tt.wantStatus, got.body)
			}
			if msg, _ := got.body["error"].(string); !strings.Contains(msg, tt.wantError) || (tt.wantError == "") != (msg == "") {
				t.Errorf("error %q, want %q", msg, tt.wantError)
			}
			if tt.wantType != "" {
				m := s.Media()
				if len(m) != 1 || m[0].ContentType != tt.wantType || got.body["id"] != m[0].ID || got.body["url"] == nil {
					t.Errorf("media %+v, answer %v", m, got.body)
				}
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		s := NewServer(t, token)
		s.SetMediaLimits(1500, 20)
		if got := upload(t, s, jpeg, nil); got.status != 422 || !strings.Contains(got.body["error"].(string), "File file size must be less than 20 bytes") {
			t.Errorf("%d %v", got.status, got.body)
		}
	})
}

func TestMediaProcessingAndAttachment(t *testing.T) {
	s := NewServer(t, token)
	s.SetMediaProcessing(2)
	up := upload(t, s, jpeg, nil)
	id, _ := up.body["id"].(string)
	if up.status != 202 || up.body["url"] != nil || id == "" {
		t.Fatalf("upload: %d %v", up.status, up.body)
	}
	attach := func() answer {
		return postForm(t, s, url.Values{"status": {"with media"}, "media_ids[]": {id}}, nil)
	}
	if got := attach(); got.status != 422 || !strings.Contains(got.body["error"].(string), "not finished processing") {
		t.Fatalf("attaching unprocessed media: %d %v", got.status, got.body)
	}
	for i, want := range []int{206, 206, 200} {
		got := call(t, s, "GET", "/api/v1/media/"+id, token, "", "", nil)
		if got.status != want || (want == 200) != (got.body["url"] != nil) {
			t.Fatalf("poll %d: %d %v, want %d", i, got.status, got.body, want)
		}
	}
	st := attach()
	if st.status != 200 {
		t.Fatalf("attaching processed media: %d %v", st.status, st.body)
	}
	if media := st.body["media_attachments"].([]any); len(media) != 1 || media[0].(map[string]any)["id"] != id {
		t.Errorf("media_attachments %v", media)
	}
	if got := attach(); got.status != 422 || !strings.Contains(got.body["error"].(string), "media attachments not found: "+id) {
		t.Errorf("attaching media of another status: %d %v", got.status, got.body)
	}
	if got := call(t, s, "GET", "/api/v1/media/"+id, token, "", "", nil); got.status != 404 {
		t.Errorf("GET of attached media: %d (Mastodon answers 404)", got.status)
	}
	if got := postForm(t, s, url.Values{"status": {"x"}, "media_ids[]": {"1", "2", "3", "4", "5"}}, nil); got.status != 422 {
		t.Errorf("five media: %d %v", got.status, got.body)
	}
}

func TestEditStatus(t *testing.T) {
	s := NewServer(t, token)
	var ids []string
	for range 2 {
		ids = append(ids, upload(t, s, jpeg, nil).body["id"].(string))
	}
	st := postForm(t, s, url.Values{"status": {"first"}, "spoiler_text": {"cw"}, "language": {"en"}, "media_ids[]": {ids[0]}}, nil)
	sid := st.body["id"].(string)
	put := func(form url.Values) answer {
		return call(t, s, "PUT", "/api/v1/statuses/"+sid, token, "application/x-www-form-urlencoded", form.Encode(), nil)
	}

	if got := put(url.Values{"status": {"second"}, "media_ids[]": {ids[0]}}); got.status != 200 || got.body["edited_at"] == nil {
		t.Fatalf("edit keeping the media: %d %v", got.status, got.body)
	}
	if got := s.Statuses()[0]; got.Text != "second" || got.SpoilerText != "cw" || !got.Sensitive || len(got.MediaIDs) != 1 || got.Language != "en" {
		t.Errorf("after an edit keeping media and warning: %+v", got)
	}
	put(url.Values{"status": {"third"}, "spoiler_text": {""}, "sensitive": {"false"}, "media_ids[]": {ids[1]}})
	if got := s.Statuses()[0]; got.SpoilerText != "" || got.Sensitive || len(got.MediaIDs) != 1 || got.MediaIDs[0] != ids[1] || s.Media()[0].StatusID != "" {
		t.Errorf("after an edit replacing the media and clearing the warning: %+v, media %+v", got, s.Media())
	}
	put(url.Values{"status": {"fourth"}})
	if got := s.Statuses()[0]; len(got.MediaIDs) != 0 || got.Edits != 3 {
		t.Errorf("an edit without media_ids removes them (as go-mastodon's UpdateStatus does): %+v", got)
	}
	source := call(t, s, "GET", "/api/v1/statuses/"+sid+"/source", token, "", "", nil)
	if source.body["text"] != "fourth" || source.body["spoiler_text"] != "" {
		t.Errorf("source %v", source.body)
	}
	for name, form := range map[string]url.Values{
		"visibility":    {"status": {"x"}, "visibility": {"private"}},
		"too long":      {"status": {strings.Repeat("a", 501)}},
		"language":      {"status": {"x"}, "language": {"english"}},
		"blank":         {"status": {" "}},
		"unknown media": {"status": {"x"}, "media_ids[]": {"42"}},
	} {
		if got := put(form); got.status < 400 {
			t.Errorf("edit with %s: %d", name, got.status)
		}
	}
	if got := call(t, s, "PUT", "/api/v1/statuses/1", token, "application/x-www-form-urlencoded", "status=x", nil); got.status != 404 {
		t.Errorf("edit of an unknown status: %d", got.status)
	}
}

func TestLanguageValues(t *testing.T) {
	for lang, want := range map[string]int{"en": 200, "es": 200, "kab": 200, "pt-BR": 200, "en-US": 422, "english": 422, "EN": 422} {
		s := NewServer(t, token)
		if got := postForm(t, s, url.Values{"status": {"x"}, "language": {lang}}, nil); got.status != want {
			t.Errorf("language %q: %d, want %d", lang, got.status, want)
		}
	}
}

func TestRateLimits(t *testing.T) {
	s := NewServer(t, token)
	now := time.Date(2026, 11, 26, 21, 33, 20, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	s.SetRateLimits(RateLimits{Requests: 3, Media: 1, Statuses: 1})
	first := postForm(t, s, url.Values{"status": {"one"}}, nil)
	if first.status != 200 || first.header.Get("X-RateLimit-Remaining") != "0" || first.header.Get("X-RateLimit-Limit") != "1" {
		t.Fatalf("first: %d %v", first.status, first.header)
	}
	second := postForm(t, s, url.Values{"status": {"two"}}, nil)
	if second.status != 429 || second.header.Get("X-RateLimit-Reset") != "2026-11-27T00:00:00.000Z" || second.body["error"] != "Too many requests" {
		t.Errorf("second status: %d %v %v", second.status, second.header, second.body)
	}
	third := call(t, s, "GET", "/api/v1/accounts/verify_credentials", token, "", "", nil)
	if third.status != 200 || third.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("third request: %d %v", third.status, third.header)
	}
	fourth := call(t, s, "GET", "/api/v1/accounts/verify_credentials", token, "", "", nil)
	if fourth.status != 429 || fourth.header.Get("X-RateLimit-Reset") != "2026-11-26T21:35:00.000Z" {
		t.Errorf("fourth request: %d %v", fourth.status, fourth.header)
	}
	if s.Throttled() != 2 {
		t.Errorf("%d throttled", s.Throttled())
	}
	now = now.Add(5 * time.Minute) // a new 5-minute window
	if got := upload(t, s, jpeg, nil); got.status != 200 {
		t.Errorf("first upload: %d", got.status)
	}
	if got := upload(t, s, jpeg, nil); got.status != 429 || got.header.Get("X-RateLimit-Reset") != "2026-11-26T22:00:00.000Z" {
		t.Errorf("second upload: %d %v", got.status, got.header)
	}
}

func TestCountURLsInFull(t *testing.T) {
	s := NewServer(t, token)
	s.CountURLsInFull(25)
	link := "https://en.communia.blog/" + strings.Repeat("a", 100)
	if got := postForm(t, s, url.Values{"status": {strings.Repeat("a", 450) + " " + link}}, nil); got.status != 422 {
		t.Errorf("a post fitting only with 23 per URL: %d", got.status)
	}
	v2 := call(t, s, "GET", "/api/v2/instance", token, "", "", nil)
	if per := v2.body["configuration"].(map[string]any)["statuses"].(map[string]any)["characters_reserved_per_url"]; per != 25.0 {
		t.Errorf("reports %v per URL", per)
	}
}

func TestSoftware(t *testing.T) {
	link := "https://en.communia.blog/" + strings.Repeat("a", 100)
	tests := []struct {
		software    Software
		wantVersion string
		wantSource  string
		// A status of 480 characters and a URL of 125: Mastodon counts 504, GoToSocial and Pleroma 606.
		wantStatus int
		wantError  string
		fits       string // a status that fits as the software counts, and not as Mastodon does
	}{
		{Mastodon, "4.3.0", "https://github.com/mastodon/mastodon", 422, "Validation failed: Text character limit of 500 exceeded", ""},
		{GoToSocial, "0.18.3", "https://github.com/superseriousbusiness/gotosocial", 400, "Bad Request: text with spoiler exceed max chars (500)",
			strings.Repeat("🇰🇿", 250)}, // 250 graphemes, 500 code points
		{Pleroma, "2.7.2 (compatible; Pleroma 2.9.1)", "", 422, "The status is over the character limit",
			"  " + strings.Repeat("a", 500) + "\n"}, // trimmed
	}
	for _, tt := range tests {
		t.Run(string(tt.software), func(t *testing.T) {
			s := NewServer(t, token)
			s.SetSoftware(tt.software)
			got := postForm(t, s, url.Values{"status": {strings.Repeat("a", 480) + " " + link}}, nil)
			if got.status != tt.wantStatus || got.body["error"] != tt.wantError {
				t.Errorf("a post over the limit: %d %v, want %d %q", got.status, got.body, tt.wantStatus, tt.wantError)
			}
			if tt.fits != "" {
				if got := postForm(t, s, url.Values{"status": {tt.fits}}, nil); got.status != 200 {
					t.Errorf("a post that fits as %s counts: %d %v", tt.software, got.status, got.body)
				}
			}
			v2 := call(t, s, "GET", "/api/v2/instance", token, "", "", nil)
			if v2.body["version"] != tt.wantVersion || (v2.body["source_url"] != nil) != (tt.wantSource != "") ||
				(tt.wantSource != "" && v2.body["source_url"] != tt.wantSource) {
				t.Errorf("instance: version %v, source_url %v", v2.body["version"], v2.body["source_url"])
			}
			// nodeinfo is public.
			links := call(t, s, "GET", "/.well-known/nodeinfo", "", "", "", nil)
			href := links.body["links"].([]any)[0].(map[string]any)["href"].(string)
			doc := call(t, s, "GET", strings.TrimPrefix(href, s.URL()), "", "", "", nil)
			if sw := doc.body["software"].(map[string]any); doc.status != 200 || sw["name"] != string(tt.software) {
				t.Errorf("nodeinfo: %d %v", doc.status, doc.body)
			}
		})
	}
	t.Run("pleroma's limits in /api/v1/instance", func(t *testing.T) {
		s := NewServer(t, token)
		s.SetSoftware(Akkoma)
		s.SetMaxCharacters(5000)
		v1 := call(t, s, "GET", "/api/v1/instance", token, "", "", nil)
		if v1.body["max_toot_chars"] != 5000.0 || v1.body["version"] != "2.7.2 (compatible; Akkoma 3.15.2)" {
			t.Errorf("v1: %v", v1.body)
		}
	})
	t.Run("hidden", func(t *testing.T) {
		s := NewServer(t, token)
		s.SetSoftware(GoToSocial)
		s.HideSoftware(true)
		v2 := call(t, s, "GET", "/api/v2/instance", token, "", "", nil)
		if v2.body["source_url"] != nil || v2.body["version"] != "0.18.3" {
			t.Errorf("v2: %v", v2.body)
		}
		if got := call(t, s, "GET", "/.well-known/nodeinfo", "", "", "", nil); got.status != 404 {
			t.Errorf("nodeinfo: %d", got.status)
		}
	})
}

// Every answer names the most used of the limits it counts in, as
// Mastodon does; a server told to omit them still says when to retry.
func TestRateLimitHeadersNameTheMostUsed(t *testing.T) {
	s := NewServer(t, token)
	now := time.Date(2026, 11, 26, 21, 33, 20, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	jpeg := []byte("\xff\xd8\xff\xe0 a JPEG")
	got := upload(t, s, jpeg, nil)
	if h := got.header; got.status != 200 || h.Get("X-RateLimit-Limit") != "30" || h.Get("X-RateLimit-Remaining") != "29" || h.Get("X-RateLimit-Reset") != "2026-11-26T22:00:00.000Z" {
		t.Errorf("an upload names the media limit: %d %v", got.status, got.header)
	}
	got = postForm(t, s, url.Values{"status": {"one"}}, nil)
	if h := got.header; got.status != 200 || h.Get("X-RateLimit-Limit") != "300" || h.Get("X-RateLimit-Remaining") != "298" || h.Get("X-RateLimit-Reset") != "2026-11-26T21:35:00.000Z" {
		t.Errorf("a status names the requests' limit, the most used: %d %v", got.status, got.header)
	}

	s = NewServer(t, token)
	s.SetClock(func() time.Time { return now })
	s.SetRateLimits(RateLimits{Statuses: 1})
	s.OmitRateLimitHeaders()
	postForm(t, s, url.Values{"status": {"one"}}, nil)
	got = postForm(t, s, url.Values{"status": {"two"}}, nil)
	if got.status != 429 || got.header.Get("X-RateLimit-Remaining") != "" || got.header.Get("Retry-After") != "8800" {
		t.Errorf("without the headers: %d %v", got.status, got.header)
	}
}
