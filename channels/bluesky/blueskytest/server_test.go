package blueskytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	handle   = "syndicate.example.com"
	password = "abcd-efgh-ijkl-mnop"
)

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// send makes one XRPC call and reads its answer, which must be a JSON
// object; an error is a call that got no answer.
func send(s *Server, verb, nsid, jwt, contentType string, body []byte) (answer, error) {
	req, err := http.NewRequest(verb, s.URL()+"/xrpc/"+nsid, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	if jwt != "" {
		req.Header.Set("Authorization", "Bearer "+jwt)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		return a, fmt.Errorf("%s %s: the answer is not a JSON object: %q", verb, nsid, raw)
	}
	return a, nil
}

func do(t *testing.T, s *Server, verb, nsid, jwt, contentType string, body []byte) answer {
	t.Helper()
	a, err := send(s, verb, nsid, jwt, contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// call calls a procedure with a JSON input.
func call(t *testing.T, s *Server, nsid, jwt string, input any) answer {
	t.Helper()
	body, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, s, "POST", nsid, jwt, "application/json", body)
}

// query calls a query with params.
func query(t *testing.T, s *Server, nsid string, params url.Values) answer {
	t.Helper()
	return do(t, s, "GET", nsid+"?"+params.Encode(), "", "", nil)
}

func login(t *testing.T, s *Server) (access, refresh string) {
	t.Helper()
	a := call(t, s, MethodCreateSession, "", map[string]string{"identifier": handle, "password": password})
	if a.status != 200 {
		t.Fatalf("createSession: %d %s", a.status, a.raw)
	}
	return a.body["accessJwt"].(string), a.body["refreshJwt"].(string)
}

func wantError(t *testing.T, a answer, status int, name, message string) {
	t.Helper()
	if a.status != status || a.body["error"] != name {
		t.Errorf("answer %d %s, want %d %s", a.status, a.raw, status, name)
	}
	if msg, _ := a.body["message"].(string); !strings.Contains(msg, message) || msg == "" {
		t.Errorf("message %q, want it to hold %q", msg, message)
	}
}

func wantOK(t *testing.T, a answer) {
	t.Helper()
	if a.status != 200 {
		t.Fatalf("answer %d %s, want 200", a.status, a.raw)
	}
}

// clock is a settable clock for the server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func setClock(s *Server) *clock {
	c := &clock{t: time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)}
	s.SetClock(c.now)
	return c
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func post(text string) map[string]any {
	return map[string]any{"$type": PostCollection, "text": text, "createdAt": "2026-03-14T15:09:26.000Z"}
}

func recordInput(s *Server, record map[string]any) map[string]any {
	return map[string]any{"repo": s.DID(), "collection": PostCollection, "record": record}
}

func create(t *testing.T, s *Server, jwt string, record map[string]any) answer {
	t.Helper()
	return call(t, s, MethodCreateRecord, jwt, recordInput(s, record))
}

func upload(t *testing.T, s *Server, jwt, contentType string, data []byte) answer {
	t.Helper()
	return do(t, s, "POST", MethodUploadBlob, jwt, contentType, data)
}

// image makes n bytes that sniff as the type of magic.
func image(magic string, n int) []byte {
	b := make([]byte, n)
	copy(b, magic)
	return b
}

const (
	jpegMagic = "\xff\xd8\xff\xe0"
	pngMagic  = "\x89PNG\r\n\x1a\n"
)

// uploadRef uploads data and returns the blob ref the answer gives.
func uploadRef(t *testing.T, s *Server, jwt string, data []byte) map[string]any {
	t.Helper()
	a := upload(t, s, jwt, "image/jpeg", data)
	wantOK(t, a)
	return a.body["blob"].(map[string]any)
}

func TestIdentity(t *testing.T) {
	s := NewServer(t, "Syndicate.Example.COM", password)
	if s.Handle() != handle {
		t.Errorf("Handle() = %q, want it in lower case", s.Handle())
	}
	if !regexp.MustCompile(`^did:plc:[a-z2-7]{24}$`).MatchString(s.DID()) {
		t.Errorf("DID() = %q, not a did:plc", s.DID())
	}
	if other := NewServer(t, handle, "x"); other.DID() != s.DID() {
		t.Errorf("the same handle gives %q and %q", other.DID(), s.DID())
	}
	if other := NewServer(t, "other.example.com", "x"); other.DID() == s.DID() {
		t.Errorf("two handles give the same DID %q", s.DID())
	}
	if u, err := url.Parse(s.URL()); err != nil || u.Hostname() != "127.0.0.1" {
		t.Errorf("URL() = %q, not on loopback", s.URL())
	}

	for _, h := range []string{handle, "SYNDICATE.example.com"} {
		if a := query(t, s, MethodResolveHandle, url.Values{"handle": {h}}); a.status != 200 || a.body["did"] != s.DID() {
			t.Errorf("resolveHandle %s: %d %s", h, a.status, a.raw)
		}
	}
	wantError(t, query(t, s, MethodResolveHandle, url.Values{"handle": {"other.example.com"}}), 400, "InvalidRequest", "Unable to resolve handle")
	wantError(t, query(t, s, MethodResolveHandle, nil), 400, "InvalidRequest", `"handle"`)

	for _, repo := range []string{handle, s.DID()} {
		a := query(t, s, MethodDescribeRepo, url.Values{"repo": {repo}})
		wantOK(t, a)
		if a.body["handle"] != handle || a.body["did"] != s.DID() || a.body["handleIsCorrect"] != true ||
			fmt.Sprint(a.body["collections"]) != "[]" || a.body["didDoc"] == nil {
			t.Errorf("describeRepo %s: %s", repo, a.raw)
		}
	}
	wantError(t, query(t, s, MethodDescribeRepo, url.Values{"repo": {"other.example.com"}}), 400, "InvalidRequest", "Could not find repo: other.example.com")
	access, _ := login(t, s)
	wantOK(t, create(t, s, access, post("one")))
	if a := query(t, s, MethodDescribeRepo, url.Values{"repo": {handle}}); fmt.Sprint(a.body["collections"]) != "["+PostCollection+"]" {
		t.Errorf("describeRepo after a post: %s", a.raw)
	}
}

func TestCreateSession(t *testing.T) {
	s := NewServer(t, handle, password)
	tests := []struct {
		name      string
		input     map[string]any
		wantError string // "" for a session
		status    int
	}{
		{"by handle", map[string]any{"identifier": handle, "password": password}, "", 200},
		{"by handle in another case", map[string]any{"identifier": "Syndicate.Example.Com", "password": password}, "", 200},
		{"by DID", map[string]any{"identifier": s.DID(), "password": password}, "", 200},
		{"wrong password", map[string]any{"identifier": handle, "password": "wrong"}, "AuthenticationRequired", 401},
		{"unknown identifier", map[string]any{"identifier": "other.example.com", "password": password}, "AuthenticationRequired", 401},
		{"DID in upper case", map[string]any{"identifier": strings.ToUpper(s.DID()), "password": password}, "AuthenticationRequired", 401},
		{"no password", map[string]any{"identifier": handle}, "InvalidRequest", 400},
		{"unknown field", map[string]any{"identifier": handle, "password": password, "remember": true}, "InvalidRequest", 400},
	}
	sessions := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, s, MethodCreateSession, "", tt.input)
			if tt.wantError != "" {
				msg := map[string]string{"AuthenticationRequired": "Invalid identifier or password", "InvalidRequest": ""}[tt.wantError]
				wantError(t, a, tt.status, tt.wantError, msg)
				return
			}
			sessions++
			wantOK(t, a)
			access, _ := a.body["accessJwt"].(string)
			refresh, _ := a.body["refreshJwt"].(string)
			if access == "" || refresh == "" || access == refresh || a.body["handle"] != handle || a.body["did"] != s.DID() || a.body["active"] != true {
				t.Errorf("session: %s", a.raw)
			}
		})
	}
	if s.Sessions() != sessions || s.Calls(MethodCreateSession) != len(tests) {
		t.Errorf("Sessions() = %d, want %d; Calls = %d, want %d", s.Sessions(), sessions, s.Calls(MethodCreateSession), len(tests))
	}
}

func TestCreateSessionRateLimit(t *testing.T) {
	s := NewServer(t, handle, password)
	c := setClock(s)
	start := c.now()
	for i := range SessionLimit {
		pw := password
		if i%2 == 1 {
			pw = "wrong" // refusals count too
		}
		a := call(t, s, MethodCreateSession, "", map[string]string{"identifier": handle, "password": pw})
		if a.status == 429 || a.header.Get("ratelimit-remaining") != strconv.Itoa(SessionLimit-1-i) {
			t.Fatalf("call %d: %d %v", i+1, a.status, a.header)
		}
		c.advance(time.Second)
	}
	a := call(t, s, MethodCreateSession, "", map[string]string{"identifier": handle, "password": password})
	wantError(t, a, 429, "RateLimitExceeded", "Rate Limit Exceeded")
	reset := start.Add(5 * time.Minute)
	want := map[string]string{
		"ratelimit-limit": "30", "ratelimit-remaining": "0", "ratelimit-policy": "30;w=300",
		"ratelimit-reset": strconv.FormatInt(reset.Unix(), 10), "Retry-After": strconv.Itoa(300 - SessionLimit),
	}
	for k, v := range want {
		if got := a.header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if s.Sessions() != SessionLimit/2 {
		t.Errorf("Sessions() = %d, want %d", s.Sessions(), SessionLimit/2)
	}
	c.set(reset)
	wantOK(t, call(t, s, MethodCreateSession, "", map[string]string{"identifier": handle, "password": password}))
}

func TestRefreshSession(t *testing.T) {
	s := NewServer(t, handle, password)
	c := setClock(s)
	access, refresh := login(t, s)
	refreshWith := func(jwt string) answer { return do(t, s, "POST", MethodRefreshSession, jwt, "", nil) }

	a := refreshWith(refresh)
	wantOK(t, a)
	access2, refresh2 := a.body["accessJwt"].(string), a.body["refreshJwt"].(string)
	if access2 == access || refresh2 == refresh || access2 == refresh2 || a.body["did"] != s.DID() || a.body["handle"] != handle || a.body["active"] != true {
		t.Errorf("refreshed session: %s", a.raw)
	}
	wantError(t, refreshWith(refresh), 400, "ExpiredToken", "Token has been revoked") // rotated
	wantError(t, refreshWith(access2), 400, "InvalidToken", "Token could not be verified")
	wantError(t, refreshWith("garbage"), 400, "InvalidToken", "Token could not be verified")
	wantError(t, refreshWith(""), 401, "AuthMissing", "Authentication Required")
	wantError(t, do(t, s, "POST", MethodRefreshSession, refresh2, "application/json", []byte("{}")), 400, "InvalidRequest", "body")
	// The old access token lives on until it expires.
	wantOK(t, create(t, s, access, post("with the first token")))

	a = refreshWith(refresh2)
	wantOK(t, a)
	refresh3 := a.body["refreshJwt"].(string)
	s.RevokeRefreshTokens()
	wantError(t, refreshWith(refresh3), 400, "ExpiredToken", "Token has been revoked")
	_, refresh4 := login(t, s) // a new session after a revocation works
	c.advance(RefreshLifetime - time.Second)
	wantOK(t, refreshWith(refresh4))

	_, refresh5 := login(t, s)
	c.advance(RefreshLifetime)
	wantError(t, refreshWith(refresh5), 400, "ExpiredToken", "Token has been revoked")
	if s.Sessions() != 3 {
		t.Errorf("Sessions() = %d, want 3: refreshes are no sessions", s.Sessions())
	}
}

func TestAuthErrors(t *testing.T) {
	methods := map[string]func(s *Server, jwt string) (answer, error){
		MethodUploadBlob: func(s *Server, jwt string) (answer, error) {
			return send(s, "POST", MethodUploadBlob, jwt, "image/png", image(pngMagic, 100))
		},
		MethodCreateRecord: func(s *Server, jwt string) (answer, error) {
			body, _ := json.Marshal(recordInput(s, post("hello")))
			return send(s, "POST", MethodCreateRecord, jwt, "application/json", body)
		},
		MethodDeleteRecord: func(s *Server, jwt string) (answer, error) {
			body, _ := json.Marshal(map[string]string{"repo": s.DID(), "collection": PostCollection, "rkey": "3jzfcijpj2z2a"})
			return send(s, "POST", MethodDeleteRecord, jwt, "application/json", body)
		},
	}
	tests := []struct {
		name    string
		jwt     func(t *testing.T, s *Server, c *clock) string // the token to send, after moving the clock
		status  int
		errName string
		message string
	}{
		{"valid", func(t *testing.T, s *Server, c *clock) string { a, _ := login(t, s); return a }, 200, "", ""},
		{"no header", func(t *testing.T, s *Server, c *clock) string { return "" }, 401, "AuthMissing", "Authentication Required"},
		{"garbage", func(t *testing.T, s *Server, c *clock) string { return "not-a-token" }, 400, "InvalidToken", "Token could not be verified"},
		{"refresh token", func(t *testing.T, s *Server, c *clock) string { _, r := login(t, s); return r }, 400, "InvalidToken", "Token could not be verified"},
		{"almost expired", func(t *testing.T, s *Server, c *clock) string {
			a, _ := login(t, s)
			c.advance(DefaultAccessLifetime - time.Second)
			return a
		}, 200, "", ""},
		{"expired", func(t *testing.T, s *Server, c *clock) string {
			a, _ := login(t, s)
			c.advance(DefaultAccessLifetime)
			return a
		}, 400, "ExpiredToken", "Token has expired"},
		{"shorter lifetime", func(t *testing.T, s *Server, c *clock) string {
			s.SetAccessLifetime(10 * time.Minute)
			a, _ := login(t, s)
			c.advance(10 * time.Minute)
			return a
		}, 400, "ExpiredToken", "Token has expired"},
		{"after revoking refresh tokens", func(t *testing.T, s *Server, c *clock) string {
			a, _ := login(t, s)
			s.RevokeRefreshTokens()
			return a
		}, 200, "", ""},
	}
	for method, send := range methods {
		for _, tt := range tests {
			t.Run(method+"/"+tt.name, func(t *testing.T) {
				s := NewServer(t, handle, password)
				c := setClock(s)
				a, err := send(s, tt.jwt(t, s, c))
				if err != nil {
					t.Fatal(err)
				}
				if tt.status == 200 {
					wantOK(t, a)
				} else {
					wantError(t, a, tt.status, tt.errName, tt.message)
				}
				if stored := len(s.Records()) + len(s.Blobs()); (tt.status == 200) != (stored > 0) && method != MethodDeleteRecord {
					t.Errorf("%d records and blobs stored", stored)
				}
			})
		}
	}
}

func TestUploadBlob(t *testing.T) {
	tests := []struct {
		name        string
		maxSize     int64 // 0: the default
		contentType string
		data        []byte
		status      int
		wantMime    string
	}{
		{"jpeg", 0, "image/jpeg", image(jpegMagic, 1000), 200, "image/jpeg"},
		{"png sent as octet-stream", 0, "application/octet-stream", image(pngMagic, 1000), 200, "image/png"},
		{"gif87a", 0, "image/gif", image("GIF87a", 100), 200, "image/gif"},
		{"gif89a named jpeg", 0, "image/jpeg", image("GIF89a", 100), 200, "image/gif"},
		{"webp named png", 0, "image/png", append([]byte("RIFF\x00\x10\x00\x00WEBPVP8 "), make([]byte, 100)...), 200, "image/webp"},
		{"riff that is not webp", 0, "audio/wav", append([]byte("RIFF\x00\x10\x00\x00WAVEfmt "), make([]byte, 100)...), 200, "audio/wav"},
		{"text keeps its content type", 0, "text/plain; charset=utf-8", []byte("hello"), 200, "text/plain"},
		{"at the default limit", 0, "image/jpeg", image(jpegMagic, 5_000_000), 200, "image/jpeg"},
		{"over the default limit", 0, "image/jpeg", image(jpegMagic, 5_000_001), 413, ""},
		{"at a set limit", 1000, "image/jpeg", image(jpegMagic, 1000), 200, "image/jpeg"},
		{"over a set limit", 1000, "image/jpeg", image(jpegMagic, 1001), 413, ""},
		{"no content type", 0, "", image(jpegMagic, 100), 400, ""},
	}
	cidPattern := regexp.MustCompile(`^bafkrei[a-z2-7]{52}$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(t, handle, password)
			if tt.maxSize > 0 {
				s.SetMaxBlobSize(tt.maxSize)
			}
			access, _ := login(t, s)
			a := upload(t, s, access, tt.contentType, tt.data)
			switch tt.status {
			case 413:
				wantError(t, a, 413, "PayloadTooLarge", "request entity too large")
			case 400:
				wantError(t, a, 400, "InvalidRequest", "Content-Type")
			default:
				wantOK(t, a)
				ref, _ := a.body["blob"].(map[string]any)
				link, _ := ref["ref"].(map[string]any)
				cid, _ := link["$link"].(string)
				if ref["$type"] != "blob" || ref["mimeType"] != tt.wantMime || ref["size"] != float64(len(tt.data)) || !cidPattern.MatchString(cid) {
					t.Errorf("blob %s, want %s of %d bytes", a.raw, tt.wantMime, len(tt.data))
				}
				blobs := s.Blobs()
				if len(blobs) != 1 || blobs[0].CID != cid || blobs[0].MimeType != tt.wantMime || blobs[0].Size != int64(len(tt.data)) || !bytes.Equal(blobs[0].Data, tt.data) {
					t.Errorf("Blobs() does not hold what was uploaded")
				}
				return
			}
			if n := len(s.Blobs()); n != 0 {
				t.Errorf("%d blobs stored", n)
			}
		})
	}

	t.Run("CIDs", func(t *testing.T) {
		s := NewServer(t, handle, password)
		access, _ := login(t, s)
		one := uploadRef(t, s, access, image(jpegMagic, 100))
		again := uploadRef(t, s, access, image(jpegMagic, 100))
		other := uploadRef(t, s, access, image(jpegMagic, 101))
		if fmt.Sprint(one["ref"]) != fmt.Sprint(again["ref"]) || fmt.Sprint(one["ref"]) == fmt.Sprint(other["ref"]) {
			t.Errorf("CIDs are not of the content: %v %v %v", one["ref"], again["ref"], other["ref"])
		}
		if len(s.Blobs()) != 3 {
			t.Errorf("%d blobs listed, want every upload", len(s.Blobs()))
		}
	})
}

func TestCreateRecordAnswer(t *testing.T) {
	s := NewServer(t, handle, password)
	c := setClock(s)
	access, _ := login(t, s)
	record := post("Hello, Bluesky")
	record["langs"] = []string{"en"}
	a := create(t, s, access, record)
	wantOK(t, a)

	recs := s.Records()
	if len(recs) != 1 {
		t.Fatalf("%d records stored", len(recs))
	}
	r := recs[0]
	if !validTID(r.Rkey) || r.Rkey[:11] != tidPrefix(c.now()) {
		t.Errorf("rkey %q is not a TID of the clock (want it to start %s)", r.Rkey, tidPrefix(c.now()))
	}
	commit, _ := a.body["commit"].(map[string]any)
	rev, _ := commit["rev"].(string)
	if a.body["uri"] != "at://"+s.DID()+"/app.bsky.feed.post/"+r.Rkey || a.body["cid"] != r.CID || r.URI != a.body["uri"] ||
		!strings.HasPrefix(r.CID, "bafyrei") || commit["cid"] == nil || !validTID(rev) || a.body["validationStatus"] != "valid" {
		t.Errorf("answer %s, record %+v", a.raw, r)
	}
	if !r.CreatedAt.Equal(c.now()) || r.Post.Text != "Hello, Bluesky" || r.Post.Type != PostCollection || fmt.Sprint(r.Post.Langs) != "[en]" {
		t.Errorf("record %+v", r)
	}
	var value map[string]any
	if err := json.Unmarshal(r.Value, &value); err != nil || fmt.Sprint(value) != fmt.Sprint(map[string]any{"$type": PostCollection, "text": "Hello, Bluesky", "createdAt": "2026-03-14T15:09:26.000Z", "langs": []any{"en"}}) {
		t.Errorf("Value %s", r.Value)
	}
	reset := strconv.FormatInt(c.now().Add(time.Hour).Unix(), 10)
	for k, v := range map[string]string{"ratelimit-limit": "5000", "ratelimit-remaining": "4997", "ratelimit-reset": reset, "ratelimit-policy": "5000;w=3600"} {
		if got := a.header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}

	// A second post at the same instant still gets a later key.
	second := create(t, s, access, post("again"))
	wantOK(t, second)
	if recs := s.Records(); len(recs) != 2 || recs[1].Rkey <= recs[0].Rkey {
		t.Errorf("rkeys do not increase: %+v", recs)
	}
	// swapCommit must name the latest commit.
	latest := second.body["commit"].(map[string]any)["cid"]
	in := recordInput(s, post("swapped"))
	in["swapCommit"] = commit["cid"]
	wantError(t, call(t, s, MethodCreateRecord, access, in), 400, "InvalidSwap", "Commit was at")
	in["swapCommit"] = latest
	wantOK(t, call(t, s, MethodCreateRecord, access, in))
}

// tidPrefix is the 11 characters of a TID that the time gives (the last
// two are the clock id).
func tidPrefix(t time.Time) string {
	const alphabet = "234567abcdefghijklmnopqrstuvwxyz"
	v := uint64(t.UnixMicro()) << 10
	out := make([]byte, 13)
	for i := 12; i >= 0; i-- {
		out[i] = alphabet[v%32]
		v /= 32
	}
	return string(out[:11])
}

func TestCreateRecordValidation(t *testing.T) {
	const text = "Strike at the café! #general https://example.com/a @alice.example"
	at := func(sub string) (int, int) {
		i := strings.Index(text, sub)
		if i < 0 {
			panic(sub)
		}
		return i, i + len(sub)
	}
	facet := func(start, end any, features ...map[string]any) map[string]any {
		return map[string]any{"index": map[string]any{"byteStart": start, "byteEnd": end}, "features": append([]map[string]any{}, features...)}
	}
	link := func(uri string) map[string]any { return map[string]any{"$type": FacetLink, "uri": uri} }
	tag := func(tag string) map[string]any { return map[string]any{"$type": FacetTag, "tag": tag} }
	mention := func(did string) map[string]any { return map[string]any{"$type": FacetMention, "did": did} }
	tagStart, tagEnd := at("#general")
	linkStart, linkEnd := at("https://example.com/a")
	mentionStart, mentionEnd := at("@alice.example")
	eStart, _ := at("é")
	family := "👨‍👩‍👧" // one grapheme of 18 bytes

	type edit func(in, rec map[string]any)
	set := func(key string, v any) edit { return func(_, rec map[string]any) { rec[key] = v } }
	setInput := func(key string, v any) edit { return func(in, _ map[string]any) { in[key] = v } }
	del := func(key string) edit { return func(_, rec map[string]any) { delete(rec, key) } }
	facets := func(fs ...map[string]any) edit { return set("facets", fs) }
	tests := []struct {
		name    string
		edit    edit
		errName string // "" for accepted
		message string
	}{
		{"plain", func(in, rec map[string]any) {}, "", ""},
		{"repo by handle", setInput("repo", "SYNDICATE.example.com"), "", ""},
		{"another repo", setInput("repo", "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"), "InvalidRequest", "Invalid repo"},
		{"validate true", setInput("validate", true), "", ""},
		{"validate false", setInput("validate", false), "InvalidRequest", "this test PDS refuses unvalidated records"},
		{"another collection", setInput("collection", "app.bsky.feed.like"), "InvalidRequest", "app.bsky.feed.like"},
		{"no record", func(in, _ map[string]any) { delete(in, "record") }, "InvalidRequest", `"record"`},
		{"unknown input field", setInput("swapRecord", "x"), "InvalidRequest", "swapRecord"},
		{"record not an object", setInput("record", "text"), "InvalidRecord", "Record must be an object"},
		{"wrong $type", set("$type", "app.bsky.feed.like"), "InvalidRecord", "Invalid $type: expected app.bsky.feed.post, got app.bsky.feed.like"},
		{"no $type", del("$type"), "InvalidRecord", "Invalid $type"},
		{"rkey a TID", setInput("rkey", "3jzfcijpj2z2a"), "", ""},
		{"rkey too short", setInput("rkey", "3jzfcijpj2z2"), "InvalidRequest", "Invalid record key"},
		{"rkey first char out of range", setInput("rkey", "kjzfcijpj2z2a"), "InvalidRequest", "Invalid record key"},
		{"rkey outside the alphabet", setInput("rkey", "3jzfcijpj2z1a"), "InvalidRequest", "Invalid record key"},
		{"rkey in upper case", setInput("rkey", "3JZFCIJPJ2Z2A"), "InvalidRequest", "Invalid record key"},
		{"rkey not a TID", setInput("rkey", "self"), "InvalidRequest", "Invalid record key"},

		{"no text", del("text"), "InvalidRecord", `Record must have the property "text"`},
		{"text not a string", set("text", 42), "InvalidRecord", "Record/text must be a string"},
		{"empty text", set("text", ""), "", ""},
		{"300 graphemes of 2 bytes", set("text", strings.Repeat("é", 300)), "", ""},
		{"301 graphemes", set("text", strings.Repeat("a", 301)), "InvalidRecord", "Record/text must not be longer than 300 graphemes"},
		{"300 family emoji: 300 graphemes, 5400 bytes", set("text", strings.Repeat(family, 300)), "InvalidRecord", "Record/text must not be longer than 3000 characters"},
		{"166 family emoji and 12 letters: 3000 bytes", set("text", strings.Repeat(family, 166)+strings.Repeat("a", 12)), "", ""},
		{"3001 bytes in 179 graphemes", set("text", strings.Repeat(family, 166)+strings.Repeat("a", 13)), "InvalidRecord", "Record/text must not be longer than 3000 characters"},

		{"no createdAt", del("createdAt"), "InvalidRecord", `Record must have the property "createdAt"`},
		{"createdAt with an offset", set("createdAt", "2026-03-14T17:09:26+02:00"), "", ""},
		{"createdAt without timezone", set("createdAt", "2026-03-14T15:09:26"), "InvalidRecord", "Record/createdAt"},
		{"createdAt a date", set("createdAt", "2026-03-14"), "InvalidRecord", "Record/createdAt"},
		{"createdAt lower case", set("createdAt", "2026-03-14t15:09:26z"), "InvalidRecord", "Record/createdAt"},
		{"createdAt -00:00", set("createdAt", "2026-03-14T15:09:26-00:00"), "InvalidRecord", "Record/createdAt"},
		{"createdAt out of range", set("createdAt", "2026-02-30T15:09:26Z"), "InvalidRecord", "Record/createdAt"},

		{"three langs", set("langs", []string{"pt-BR", "es", "en"}), "", ""},
		{"four langs", set("langs", []string{"pt", "es", "en", "fr"}), "InvalidRecord", "Record/langs must not have more than 3 elements"},
		{"lang with underscore", set("langs", []string{"en_US"}), "InvalidRecord", "Record/langs/0 must be a well-formed BCP-47 language tag"},
		{"langs not a list", set("langs", "en"), "InvalidRecord", "Record/langs must be an array"},

		{"link, tag and mention", facets(
			facet(tagStart, tagEnd, tag("general")),
			facet(linkStart, linkEnd, link("https://example.com/a")),
			facet(mentionStart, mentionEnd, mention("did:plc:bbbbbbbbbbbbbbbbbbbbbbbb"))), "", ""},
		{"facet past the text", facets(facet(linkStart, len(text)+1, link("https://example.com/a"))), "InvalidRecord", "Record/facets/0/index"},
		{"empty facet", facets(facet(linkStart, linkStart, link("https://example.com/a"))), "InvalidRecord", "Record/facets/0/index"},
		{"negative start", facets(facet(-1, 3, link("https://example.com/a"))), "InvalidRecord", "Record/facets/0/index"},
		{"facet inside a multi-byte character", facets(facet(eStart+1, eStart+2, link("https://example.com/a"))), "InvalidRecord", "UTF-8 character boundaries"},
		{"facet ending inside a multi-byte character", facets(facet(0, eStart+1, link("https://example.com/a"))), "InvalidRecord", "UTF-8 character boundaries"},
		{"overlapping facets", facets(
			facet(linkStart, linkEnd, link("https://example.com/a")),
			facet(linkStart+8, linkEnd, link("https://example.com/a"))), "InvalidRecord", "overlaps"},
		{"byteStart not an integer", facets(facet(1.5, 3, link("https://example.com/a"))), "InvalidRecord", "Record/facets/0/index/byteStart must be an integer"},
		{"no features", facets(facet(linkStart, linkEnd)), "InvalidRecord", "Record/facets/0/features must not be empty"},
		{"unknown feature", facets(facet(linkStart, linkEnd, map[string]any{"$type": "app.bsky.richtext.facet#bold"})), "InvalidRecord", "Record/facets/0/features/0"},
		{"link without a scheme", facets(facet(linkStart, linkEnd, link("example.com/a"))), "InvalidRecord", "Record/facets/0/features/0/uri must be a uri"},
		{"tag over other text", facets(facet(tagStart, tagEnd, tag("strike"))), "InvalidRecord", `covers "#general", not "#strike"`},
		{"tag with its #", facets(facet(tagStart, tagEnd, tag("#general"))), "InvalidRecord", "must not start with '#'"},
		{"tag with a space", facets(facet(tagStart, tagEnd, tag("gen eral"))), "InvalidRecord", "whitespace"},
		{"empty tag", facets(facet(tagStart, tagEnd, tag(""))), "InvalidRecord", "must not be empty"},
		{"tag of 65 graphemes", func(_, rec map[string]any) {
			long := strings.Repeat("a", 65)
			rec["text"] = "#" + long
			rec["facets"] = []map[string]any{facet(0, 66, tag(long))}
		}, "InvalidRecord", "must not be longer than 64 graphemes"},
		{"mention without a DID", facets(facet(mentionStart, mentionEnd, mention("alice.example"))), "InvalidRecord", "did must be a did"},
		{"unknown record field", set("reply", map[string]any{}), "InvalidRecord", "Record/reply"},

		{"link card", set("embed", map[string]any{"$type": EmbedExternal, "external": map[string]any{"uri": "https://example.com/a", "title": "", "description": ""}}), "", ""},
		{"link card without title", set("embed", map[string]any{"$type": EmbedExternal, "external": map[string]any{"uri": "https://example.com/a", "description": ""}}), "InvalidRecord", `Record/embed/external must have the property "title"`},
		{"link card to a relative URI", set("embed", map[string]any{"$type": EmbedExternal, "external": map[string]any{"uri": "/a", "title": "", "description": ""}}), "InvalidRecord", "Record/embed/external/uri must be a uri"},
		{"quote embed", set("embed", map[string]any{"$type": "app.bsky.embed.record", "record": map[string]any{}}), "InvalidRecord", "Record/embed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(t, handle, password)
			access, _ := login(t, s)
			rec := post(text)
			in := recordInput(s, rec)
			tt.edit(in, rec)
			a := call(t, s, MethodCreateRecord, access, in)
			if tt.errName == "" {
				wantOK(t, a)
			} else {
				wantError(t, a, 400, tt.errName, tt.message)
			}
			if n := len(s.Records()); (tt.errName == "") != (n == 1) {
				t.Errorf("%d records stored", n)
			}
		})
	}

	t.Run("facets decoded", func(t *testing.T) {
		s := NewServer(t, handle, password)
		access, _ := login(t, s)
		rec := post(text)
		rec["facets"] = []map[string]any{facet(tagStart, tagEnd, tag("general")), facet(linkStart, linkEnd, link("https://example.com/a"))}
		wantOK(t, create(t, s, access, rec))
		got := s.Records()[0].Post.Facets
		if len(got) != 2 || got[0].Index.ByteStart != tagStart || got[0].Index.ByteEnd != tagEnd || got[0].Features[0].Tag != "general" ||
			got[1].Features[0].Type != FacetLink || got[1].Features[0].URI != "https://example.com/a" {
			t.Errorf("facets %+v", got)
		}
	})
}

func TestExistingRkey(t *testing.T) {
	s := NewServer(t, handle, password)
	access, _ := login(t, s)
	in := recordInput(s, post("first"))
	in["rkey"] = "3jzfcijpj2z2a"
	wantOK(t, call(t, s, MethodCreateRecord, access, in))
	in["record"] = post("second")
	a := call(t, s, MethodCreateRecord, access, in)
	if a.status != 500 || a.raw != `{"error":"InternalServerError","message":"Internal Server Error"}`+"\n" {
		t.Errorf("a create on an existing key: %d %s", a.status, a.raw)
	}
	if recs := s.Records(); len(recs) != 1 || recs[0].Post.Text != "first" {
		t.Errorf("records %+v", recs)
	}
}

func TestEmbedBlobs(t *testing.T) {
	card := func(thumb any) map[string]any {
		ext := map[string]any{"uri": "https://example.com/a", "title": "A title", "description": "What it says"}
		if thumb != nil {
			ext["thumb"] = thumb
		}
		return map[string]any{"$type": EmbedExternal, "external": ext}
	}
	images := func(imgs ...map[string]any) map[string]any {
		return map[string]any{"$type": EmbedImages, "images": append([]map[string]any{}, imgs...)}
	}
	img := func(ref map[string]any) map[string]any {
		return map[string]any{"image": ref, "alt": "A picket line", "aspectRatio": map[string]any{"width": 4, "height": 3}}
	}
	jpeg := func(t *testing.T, s *Server, jwt string, n int) map[string]any {
		return uploadRef(t, s, jwt, image(jpegMagic, n))
	}
	with := func(ref map[string]any, key string, v any) map[string]any {
		out := maps.Clone(ref)
		out[key] = v
		return out
	}
	tests := []struct {
		name    string
		embed   func(t *testing.T, s *Server, jwt string) map[string]any
		errName string
		message string
	}{
		{"card with a thumb", func(t *testing.T, s *Server, jwt string) map[string]any { return card(jpeg(t, s, jwt, 1000)) }, "", ""},
		{"thumb of 1,000,000 bytes", func(t *testing.T, s *Server, jwt string) map[string]any { return card(jpeg(t, s, jwt, 1_000_000)) }, "", ""},
		{"thumb of 1,000,001 bytes", func(t *testing.T, s *Server, jwt string) map[string]any { return card(jpeg(t, s, jwt, 1_000_001)) }, "BlobTooLarge", "blob too big"},
		{"thumb never uploaded", func(t *testing.T, s *Server, jwt string) map[string]any {
			ref := jpeg(t, s, jwt, 1000)
			return card(with(ref, "ref", map[string]any{"$link": "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"}))
		}, "BlobNotFound", "Could not find blob: bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"},
		{"thumb not an image", func(t *testing.T, s *Server, jwt string) map[string]any {
			a := upload(t, s, jwt, "text/plain", []byte("not an image"))
			return card(with(a.body["blob"].(map[string]any), "mimeType", "image/png"))
		}, "InvalidMimeType", "Wrong type of file"},
		{"thumb referenced as another type", func(t *testing.T, s *Server, jwt string) map[string]any {
			return card(with(uploadRef(t, s, jwt, image(pngMagic, 100)), "mimeType", "image/jpeg"))
		}, "InvalidMimeType", "Expected: image/png, Got: image/jpeg"},
		{"thumb referenced with another size", func(t *testing.T, s *Server, jwt string) map[string]any {
			return card(with(jpeg(t, s, jwt, 1000), "size", 999))
		}, "InvalidRecord", "size"},
		{"thumb as a legacy ref", func(t *testing.T, s *Server, jwt string) map[string]any {
			ref := jpeg(t, s, jwt, 1000)
			return card(map[string]any{"cid": ref["ref"].(map[string]any)["$link"], "mimeType": "image/jpeg"})
		}, "InvalidRecord", "Record/embed/external/thumb should be a blob ref"},
		{"image of 2,000,000 bytes", func(t *testing.T, s *Server, jwt string) map[string]any {
			return images(img(jpeg(t, s, jwt, 2_000_000)))
		}, "", ""},
		{"image of 2,000,001 bytes", func(t *testing.T, s *Server, jwt string) map[string]any {
			return images(img(jpeg(t, s, jwt, 2_000_001)))
		}, "BlobTooLarge", "blob too big"},
		{"four images", func(t *testing.T, s *Server, jwt string) map[string]any {
			ref := jpeg(t, s, jwt, 100)
			return images(img(ref), img(ref), img(ref), img(ref))
		}, "", ""},
		{"five images", func(t *testing.T, s *Server, jwt string) map[string]any {
			ref := jpeg(t, s, jwt, 100)
			return images(img(ref), img(ref), img(ref), img(ref), img(ref))
		}, "InvalidRecord", "Record/embed/images must not have more than 4 elements"},
		{"no images", func(t *testing.T, s *Server, jwt string) map[string]any { return images() }, "InvalidRecord", "Record/embed/images must not be empty"},
		{"empty alt", func(t *testing.T, s *Server, jwt string) map[string]any {
			return images(with(img(jpeg(t, s, jwt, 100)), "alt", ""))
		}, "", ""},
		{"no alt", func(t *testing.T, s *Server, jwt string) map[string]any {
			i := img(jpeg(t, s, jwt, 100))
			delete(i, "alt")
			return images(i)
		}, "InvalidRecord", `Record/embed/images/0 must have the property "alt"`},
		{"no aspect ratio", func(t *testing.T, s *Server, jwt string) map[string]any {
			i := img(jpeg(t, s, jwt, 100))
			delete(i, "aspectRatio")
			return images(i)
		}, "", ""},
		{"aspect ratio of width 0", func(t *testing.T, s *Server, jwt string) map[string]any {
			return images(with(img(jpeg(t, s, jwt, 100)), "aspectRatio", map[string]any{"width": 0, "height": 3}))
		}, "InvalidRecord", "Record/embed/images/0/aspectRatio/width can not be less than 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(t, handle, password)
			access, _ := login(t, s)
			rec := post("Read this")
			rec["embed"] = tt.embed(t, s, access)
			a := create(t, s, access, rec)
			if tt.errName == "" {
				wantOK(t, a)
			} else {
				wantError(t, a, 400, tt.errName, tt.message)
			}
			if n := len(s.Records()); (tt.errName == "") != (n == 1) {
				t.Errorf("%d records stored", n)
			}
		})
	}

	t.Run("decoded", func(t *testing.T) {
		s := NewServer(t, handle, password)
		access, _ := login(t, s)
		thumb := jpeg(t, s, access, 1000)
		rec := post("Read this")
		rec["embed"] = card(thumb)
		wantOK(t, create(t, s, access, rec))
		rec["embed"] = images(img(thumb))
		wantOK(t, create(t, s, access, rec))
		recs := s.Records()
		cid := s.Blobs()[0].CID
		ext, imgs := recs[0].Post.Embed.External, recs[1].Post.Embed.Images
		if ext == nil || ext.URI != "https://example.com/a" || ext.Title != "A title" || ext.Description != "What it says" ||
			ext.Thumb == nil || ext.Thumb.Ref.Link != cid || ext.Thumb.Size != 1000 || ext.Thumb.MimeType != "image/jpeg" || ext.Thumb.Type != "blob" {
			t.Errorf("card %+v", ext)
		}
		if len(imgs) != 1 || imgs[0].Image.Ref.Link != cid || imgs[0].Alt != "A picket line" || imgs[0].AspectRatio == nil ||
			imgs[0].AspectRatio.Width != 4 || imgs[0].AspectRatio.Height != 3 {
			t.Errorf("images %+v", imgs)
		}
	})
}

func TestBlobLifetime(t *testing.T) {
	s := NewServer(t, handle, password)
	c := setClock(s)
	access, _ := login(t, s)
	withThumb := func(ref map[string]any) map[string]any {
		rec := post("Read this")
		rec["embed"] = map[string]any{"$type": EmbedExternal, "external": map[string]any{"uri": "https://example.com/a", "title": "", "description": "", "thumb": ref}}
		return rec
	}
	cidOf := func(ref map[string]any) string { return ref["ref"].(map[string]any)["$link"].(string) }
	used := uploadRef(t, s, access, image(jpegMagic, 100))
	unused := uploadRef(t, s, access, image(jpegMagic, 200))

	c.advance(DefaultBlobLifetime - time.Minute)
	first := create(t, s, access, withThumb(used))
	wantOK(t, first)
	c.advance(2 * time.Minute)
	wantError(t, create(t, s, access, withThumb(unused)), 400, "BlobNotFound", "Could not find blob: "+cidOf(unused))
	if s.HasBlob(cidOf(unused)) || !s.HasBlob(cidOf(used)) {
		t.Errorf("after the lifetime: unused exists %v, used exists %v", s.HasBlob(cidOf(unused)), s.HasBlob(cidOf(used)))
	}
	c.advance(24 * time.Hour)
	access, _ = login(t, s)
	second := create(t, s, access, withThumb(used)) // a referenced blob stays
	wantOK(t, second)
	if n := len(s.Blobs()); n != 2 {
		t.Errorf("Blobs() lists %d, want every upload", n)
	}

	s.SetBlobLifetime(10 * time.Minute)
	short := uploadRef(t, s, access, image(jpegMagic, 300))
	c.advance(10 * time.Minute)
	if !s.HasBlob(cidOf(short)) {
		t.Errorf("a blob is gone at its lifetime, not after it")
	}
	c.advance(time.Second)
	wantError(t, create(t, s, access, withThumb(short)), 400, "BlobNotFound", cidOf(short))

	// Deleting the records that use a blob deletes it.
	rkey := func(a answer) string { u := a.body["uri"].(string); return u[strings.LastIndexByte(u, '/')+1:] }
	for i, a := range []answer{first, second} {
		wantOK(t, call(t, s, MethodDeleteRecord, access, map[string]string{"repo": s.DID(), "collection": PostCollection, "rkey": rkey(a)}))
		if still := s.HasBlob(cidOf(used)); still != (i == 0) {
			t.Errorf("after %d deletions, the blob exists: %v", i+1, still)
		}
	}
}

func TestGetListDeleteRecords(t *testing.T) {
	s := NewServer(t, handle, password)
	c := setClock(s)
	access, _ := login(t, s)
	var rkeys []string // oldest first
	for i := range 5 {
		a := create(t, s, access, post(fmt.Sprint("post ", i)))
		wantOK(t, a)
		rkeys = append(rkeys, s.Records()[i].Rkey)
		c.advance(time.Minute)
	}
	get := func(repo, rkey string) answer {
		return query(t, s, MethodGetRecord, url.Values{"repo": {repo}, "collection": {PostCollection}, "rkey": {rkey}})
	}
	for _, repo := range []string{s.DID(), handle} {
		a := get(repo, rkeys[2])
		wantOK(t, a)
		value, _ := a.body["value"].(map[string]any)
		if a.body["uri"] != s.Records()[2].URI || a.body["cid"] != s.Records()[2].CID || value["text"] != "post 2" {
			t.Errorf("getRecord: %s", a.raw)
		}
	}
	wantError(t, get(s.DID(), "3jzfcijpj2z2a"), 400, "RecordNotFound", "Could not locate record: at://"+s.DID()+"/app.bsky.feed.post/3jzfcijpj2z2a")
	wantError(t, get("other.example.com", rkeys[0]), 400, "InvalidRequest", "Could not find repo: other.example.com")

	list := func(params url.Values) ([]string, any) {
		t.Helper()
		params.Set("repo", s.DID())
		params.Set("collection", PostCollection)
		a := query(t, s, MethodListRecords, params)
		wantOK(t, a)
		var got []string
		for _, r := range a.body["records"].([]any) {
			m := r.(map[string]any)
			u := m["uri"].(string)
			if m["cid"] == nil || m["value"] == nil {
				t.Errorf("listRecords record %v", m)
			}
			got = append(got, u[strings.LastIndexByte(u, '/')+1:])
		}
		return got, a.body["cursor"]
	}
	newest := []string{rkeys[4], rkeys[3], rkeys[2], rkeys[1], rkeys[0]}
	if got, cursor := list(url.Values{}); fmt.Sprint(got) != fmt.Sprint(newest) || cursor != rkeys[0] {
		t.Errorf("listRecords: %v, cursor %v; want %v", got, cursor, newest)
	}
	var pages []string
	cursor := ""
	for range 4 {
		params := url.Values{"limit": {"2"}}
		if cursor != "" {
			params.Set("cursor", cursor)
		}
		got, next := list(params)
		pages = append(pages, fmt.Sprint(got))
		cursor, _ = next.(string)
		if cursor == "" {
			break
		}
	}
	wantPages := []string{fmt.Sprint(newest[:2]), fmt.Sprint(newest[2:4]), fmt.Sprint(newest[4:]), "[]"}
	if fmt.Sprint(pages) != fmt.Sprint(wantPages) {
		t.Errorf("pages %v, want %v", pages, wantPages)
	}
	if got, _ := list(url.Values{"reverse": {"true"}, "limit": {"3"}}); fmt.Sprint(got) != fmt.Sprint(rkeys[:3]) {
		t.Errorf("reverse: %v, want %v", got, rkeys[:3])
	}
	if got, _ := list(url.Values{"reverse": {"true"}, "cursor": {rkeys[2]}}); fmt.Sprint(got) != fmt.Sprint(rkeys[3:]) {
		t.Errorf("reverse from a cursor: %v, want %v", got, rkeys[3:])
	}
	for _, limit := range []string{"0", "101", "ten"} {
		a := query(t, s, MethodListRecords, url.Values{"repo": {s.DID()}, "collection": {PostCollection}, "limit": {limit}})
		wantError(t, a, 400, "InvalidRequest", "limit")
	}

	del := func(rkey string) answer {
		return call(t, s, MethodDeleteRecord, access, map[string]string{"repo": s.DID(), "collection": PostCollection, "rkey": rkey})
	}
	a := del(rkeys[2])
	wantOK(t, a)
	if commit, _ := a.body["commit"].(map[string]any); commit["cid"] == nil || !validTID(fmt.Sprint(commit["rev"])) {
		t.Errorf("deleteRecord: %s", a.raw)
	}
	for _, r := range s.Records() {
		if r.Rkey == rkeys[2] {
			t.Errorf("Records() holds the deleted record")
		}
	}
	if n := len(s.Records()); n != 4 {
		t.Errorf("%d records after a deletion", n)
	}
	wantError(t, get(s.DID(), rkeys[2]), 400, "RecordNotFound", "Could not locate record")
	if a := del(rkeys[2]); a.status != 200 || a.body["commit"] != nil {
		t.Errorf("deleting a missing record: %d %s", a.status, a.raw)
	}
	if got, _ := list(url.Values{}); len(got) != 4 {
		t.Errorf("listRecords after a deletion: %v", got)
	}
}

func TestXRPCErrors(t *testing.T) {
	s := NewServer(t, handle, password)
	access, _ := login(t, s)
	tests := []struct {
		name, verb, nsid, contentType, body string
		status                              int
		errName                             string
	}{
		{"unknown method", "GET", "app.bsky.feed.getTimeline", "", "", 501, "MethodNotImplemented"},
		{"unknown procedure", "POST", "com.atproto.repo.putRecord", "application/json", "{}", 501, "MethodNotImplemented"},
		{"GET of a procedure", "GET", MethodCreateRecord, "", "", 405, "InvalidRequest"},
		{"POST of a query", "POST", MethodGetRecord, "application/json", "{}", 405, "InvalidRequest"},
		{"body not JSON", "POST", MethodCreateRecord, "application/json", "{repo:", 400, "InvalidRequest"},
		{"body not an object", "POST", MethodCreateRecord, "application/json", `"text"`, 400, "InvalidRequest"},
		{"two JSON values", "POST", MethodCreateRecord, "application/json", `{} {}`, 400, "InvalidRequest"},
		{"JSON as text/plain", "POST", MethodCreateRecord, "text/plain", `{}`, 400, "InvalidRequest"},
		{"session body not JSON", "POST", MethodCreateSession, "application/json", "identifier=x", 400, "InvalidRequest"},
		{"unknown query parameter", "GET", MethodGetRecord + "?repo=x&collection=y&rkey=z&rkeyStart=a", "", "", 400, "InvalidRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, s, tt.verb, tt.nsid, access, tt.contentType, []byte(tt.body))
			if a.status != tt.status || a.body["error"] != tt.errName || a.body["message"] == "" || a.body["message"] == nil {
				t.Errorf("answer %d %s, want %d %s with a message", a.status, a.raw, tt.status, tt.errName)
			}
		})
	}
	if got := s.Calls("app.bsky.feed.getTimeline"); got != 1 {
		t.Errorf("Calls of an unknown method: %d", got)
	}
	if got := s.Calls(MethodCreateRecord); got != 5 {
		t.Errorf("Calls(createRecord) = %d, want 5", got)
	}
	resp, err := http.Get(s.URL() + "/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 404 || !json.Valid(raw) {
		t.Errorf("a path outside /xrpc/: %d %s", resp.StatusCode, raw)
	}
}

func TestThrottleNext(t *testing.T) {
	tests := []struct {
		method string
		call   func(t *testing.T, s *Server, jwt string) answer
		policy string
	}{
		{MethodCreateRecord, func(t *testing.T, s *Server, jwt string) answer { return create(t, s, jwt, post("hello")) }, "5000;w=3600"},
		{MethodCreateSession, func(t *testing.T, s *Server, jwt string) answer {
			return call(t, s, MethodCreateSession, "", map[string]string{"identifier": handle, "password": password})
		}, "30;w=300"},
		{MethodUploadBlob, func(t *testing.T, s *Server, jwt string) answer {
			return upload(t, s, jwt, "image/png", image(pngMagic, 10))
		}, "1000;w=86400"},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			s := NewServer(t, handle, password)
			c := setClock(s)
			access, _ := login(t, s)
			sessions := s.Sessions()
			reset := c.now().Add(90*time.Second + 500*time.Millisecond)
			s.ThrottleNext(tt.method, 2, reset)
			for i := range 2 {
				a := tt.call(t, s, access)
				wantError(t, a, 429, "RateLimitExceeded", "Rate Limit Exceeded")
				want := map[string]string{
					"ratelimit-limit": strings.Split(tt.policy, ";")[0], "ratelimit-remaining": "0", "ratelimit-policy": tt.policy,
					"ratelimit-reset": strconv.FormatInt(reset.Unix(), 10), "Retry-After": "91",
				}
				for k, v := range want {
					if got := a.header.Get(k); got != v {
						t.Errorf("call %d: %s %q, want %q", i+1, k, got, v)
					}
				}
			}
			if len(s.Records())+len(s.Blobs()) != 0 || s.Sessions() != sessions {
				t.Errorf("a throttled call had an effect")
			}
			wantOK(t, tt.call(t, s, access))
			if want := 3 + map[bool]int{true: 1}[tt.method == MethodCreateSession]; s.Calls(tt.method) != want {
				t.Errorf("Calls = %d, want %d", s.Calls(tt.method), want)
			}
		})
	}
}

func TestFailNext(t *testing.T) {
	s := NewServer(t, handle, password)
	access, _ := login(t, s)
	s.FailNext(MethodUploadBlob, 2, 502, "UpstreamFailure", "the blob store is down")
	s.FailNext(MethodCreateRecord, 1, 503, "NotEnoughResources", "try later")
	for range 2 {
		if a := upload(t, s, access, "image/png", image(pngMagic, 10)); a.status != 502 || a.raw != `{"error":"UpstreamFailure","message":"the blob store is down"}`+"\n" {
			t.Errorf("an injected failure: %d %s", a.status, a.raw)
		}
	}
	wantError(t, create(t, s, access, post("hello")), 503, "NotEnoughResources", "try later")
	if len(s.Blobs())+len(s.Records()) != 0 {
		t.Errorf("a failed call had an effect")
	}
	wantOK(t, upload(t, s, access, "image/png", image(pngMagic, 10)))
	a := create(t, s, access, post("hello"))
	wantOK(t, a)
	if a.header.Get("ratelimit-remaining") != "4997" {
		t.Errorf("a failed create spent write points: %s left", a.header.Get("ratelimit-remaining"))
	}
}

func TestUploadBudget(t *testing.T) {
	s := NewServer(t, handle, password)
	c := setClock(s)
	access, _ := login(t, s)
	start := c.now()
	for i := range UploadLimit {
		a := upload(t, s, access, "image/png", image(pngMagic, 10+i%7))
		if a.status != 200 || a.header.Get("ratelimit-remaining") != strconv.Itoa(UploadLimit-1-i) || a.header.Get("ratelimit-policy") != "1000;w=86400" {
			t.Fatalf("upload %d: %d %s, %v", i+1, a.status, a.raw, a.header)
		}
	}
	c.advance(time.Hour)
	a := upload(t, s, access, "image/png", image(pngMagic, 10))
	wantError(t, a, 429, "RateLimitExceeded", "Rate Limit Exceeded")
	if got, want := a.header.Get("Retry-After"), strconv.Itoa(23*3600); got != want {
		t.Errorf("Retry-After %q, want %q", got, want)
	}
	if n := len(s.Blobs()); n != UploadLimit {
		t.Errorf("%d uploads stored, want %d", n, UploadLimit)
	}
	c.set(start.Add(UploadWindow))
	access, _ = login(t, s) // the access token has expired meanwhile
	wantOK(t, upload(t, s, access, "image/png", image(pngMagic, 10)))
}

func TestThrottleNextRetryAfter(t *testing.T) {
	s := NewServer(t, handle, password)
	setClock(s)
	access, _ := login(t, s)
	s.ThrottleNextRetryAfter(MethodCreateRecord, 1, 90*time.Second+time.Millisecond)
	a := create(t, s, access, post("hello"))
	wantError(t, a, 429, "RateLimitExceeded", "Rate Limit Exceeded")
	if a.header.Get("Retry-After") != "91" || a.header.Get("ratelimit-reset") != "" || a.header.Get("ratelimit-limit") != "" {
		t.Errorf("headers %v, want only Retry-After: 91", a.header)
	}
	if len(s.Records()) != 0 {
		t.Errorf("a throttled create stored a record")
	}
	wantOK(t, create(t, s, access, post("hello")))
}

func TestWriteBudget(t *testing.T) {
	s := NewServer(t, handle, password)
	c := setClock(s)
	access, _ := login(t, s)
	start := c.now()
	creates := WriteLimit / CreateCost
	for i := range creates {
		a := create(t, s, access, post("hello"))
		if a.status != 200 || a.header.Get("ratelimit-remaining") != strconv.Itoa(WriteLimit-CreateCost*(i+1)) {
			t.Fatalf("create %d: %d %s, remaining %s", i+1, a.status, a.raw, a.header.Get("ratelimit-remaining"))
		}
	}
	c.advance(10 * time.Minute)
	a := create(t, s, access, post("one too many"))
	wantError(t, a, 429, "RateLimitExceeded", "Rate Limit Exceeded")
	want := map[string]string{
		"ratelimit-limit": "5000", "ratelimit-remaining": "0", "ratelimit-policy": "5000;w=3600",
		"ratelimit-reset": strconv.FormatInt(start.Add(time.Hour).Unix(), 10), "Retry-After": "3000",
	}
	for k, v := range want {
		if got := a.header.Get(k); got != v {
			t.Errorf("%s %q, want %q", k, got, v)
		}
	}
	if n := len(s.Records()); n != creates {
		t.Errorf("%d records, want %d", n, creates)
	}
	c.set(start.Add(time.Hour))
	wantOK(t, create(t, s, access, post("next hour")))
}

func TestDropAfterProcessing(t *testing.T) {
	s := NewServer(t, handle, password)
	access, _ := login(t, s)
	s.DropAfterProcessing(MethodCreateRecord, 1)
	body, _ := json.Marshal(recordInput(s, post("lost answer")))
	if a, err := send(s, "POST", MethodCreateRecord, access, "application/json", body); err == nil {
		t.Fatalf("the client got an answer: %d %s", a.status, a.raw)
	}
	recs := s.Records()
	if len(recs) != 1 || recs[0].Post.Text != "lost answer" {
		t.Fatalf("the record was not stored: %+v", recs)
	}
	a := create(t, s, access, post("answered"))
	wantOK(t, a)
	if len(s.Records()) != 2 || s.Calls(MethodCreateRecord) != 2 {
		t.Errorf("%d records, %d calls", len(s.Records()), s.Calls(MethodCreateRecord))
	}
}

func TestHoldAnswers(t *testing.T) {
	s := NewServer(t, handle, password)
	access, _ := login(t, s)
	body, _ := json.Marshal(recordInput(s, post("held")))
	createAsync := func() chan answer {
		done := make(chan answer, 1)
		go func() {
			a, err := send(s, "POST", MethodCreateRecord, access, "application/json", body)
			if err != nil {
				a = answer{raw: err.Error()}
			}
			done <- a
		}()
		return done
	}

	stored, release := s.HoldAnswers(MethodCreateRecord)
	done := createAsync()
	var rkey string
	select {
	case rkey = <-stored:
	case <-time.After(10 * time.Second):
		t.Fatal("no record stored")
	}
	if recs := s.Records(); len(recs) != 1 || recs[0].Rkey != rkey {
		t.Errorf("stored sent %q, Records() holds %+v", rkey, recs)
	}
	select {
	case a := <-done:
		t.Fatalf("answered before release: %d %s", a.status, a.raw)
	case <-time.After(100 * time.Millisecond):
	}
	release()
	release()
	select {
	case a := <-done:
		if a.status != 200 || !strings.HasSuffix(fmt.Sprint(a.body["uri"]), "/"+rkey) {
			t.Errorf("held answer: %d %s", a.status, a.raw)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("release did not let the answer through")
	}
	wantOK(t, create(t, s, access, post("not held"))) // released for good

	var late chan answer
	t.Run("released at cleanup", func(t *testing.T) {
		s := NewServer(t, handle, password)
		access, _ := login(t, s)
		stored, _ := s.HoldAnswers(MethodCreateRecord)
		body, _ := json.Marshal(recordInput(s, post("held until cleanup")))
		late = make(chan answer, 1)
		go func() {
			a, _ := send(s, "POST", MethodCreateRecord, access, "application/json", body)
			late <- a
		}()
		select {
		case <-stored:
		case <-time.After(10 * time.Second):
			t.Fatal("no record stored")
		}
	})
	select {
	case a := <-late:
		if a.status != 200 {
			t.Errorf("answer at cleanup: %d %s", a.status, a.raw)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the held answer was never released")
	}
}
