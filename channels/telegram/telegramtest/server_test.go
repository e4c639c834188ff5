package telegramtest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

const token = "42:test-token"

type answer struct {
	OK          bool            `json:"ok"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Result      json.RawMessage `json:"result"`
}

func post(t *testing.T, u, contentType string, body io.Reader) (int, answer) {
	t.Helper()
	resp, err := http.Post(u, contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return resp.StatusCode, a
}

func form(t *testing.T, s *Server, method string, v url.Values) (int, answer) {
	t.Helper()
	return post(t, s.URL()+"/bot"+token+"/"+method, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
}

func TestRoutesAndErrors(t *testing.T) {
	s := NewServer(t, token)
	s.AddChat("@news")
	long := strings.Repeat("😀", 2049) // 4098 UTF-16 units
	tests := []struct {
		name   string
		path   string
		params url.Values
		status int
		desc   string
	}{
		{"wrong token", "/bot1:nope/getMe", nil, 401, "Unauthorized"},
		{"no method", "/bot" + token, nil, 404, "Not Found"},
		{"unknown method", "/bot" + token + "/sendCarrierPigeon", nil, 404, "Not Found"},
		{"chat not found", "/bot" + token + "/sendMessage", url.Values{"chat_id": {"@other"}, "text": {"hi"}}, 400, "Bad Request: chat not found"},
		{"no chat", "/bot" + token + "/sendMessage", url.Values{"text": {"hi"}}, 400, "Bad Request: chat_id is empty"},
		{"empty text", "/bot" + token + "/sendMessage", url.Values{"chat_id": {"@news"}, "text": {" <b> </b> "}, "parse_mode": {"HTML"}}, 400, "Bad Request: message text is empty"},
		{"too long", "/bot" + token + "/sendMessage", url.Values{"chat_id": {"@news"}, "text": {long}}, 400, "Bad Request: message is too long"},
		{"bad HTML", "/bot" + token + "/sendMessage", url.Values{"chat_id": {"@news"}, "text": {"a <p>b</p>"}, "parse_mode": {"HTML"}},
			400, `Bad Request: can't parse entities: Unsupported start tag "p" at byte offset 2`},
		{"bad preview options", "/bot" + token + "/sendMessage", url.Values{"chat_id": {"@news"}, "text": {"x"}, "link_preview_options": {"{url"}},
			400, "Bad Request: can't parse link preview options JSON object"},
		{"bad markup", "/bot" + token + "/sendMessage", url.Values{"chat_id": {"@news"}, "text": {"x"}, "reply_markup": {"[]"}},
			400, "Bad Request: can't parse reply keyboard markup JSON object"},
		{"bad button URL", "/bot" + token + "/sendMessage", url.Values{"chat_id": {"@news"}, "text": {"x"},
			"reply_markup": {`{"inline_keyboard":[[{"text":"go","url":"javascript:x"}]]}`}},
			400, "Bad Request: inline keyboard button URL 'javascript:x' is invalid: Wrong port number specified in the URL"},
		{"button to a host without a dot", "/bot" + token + "/sendMessage", url.Values{"chat_id": {"@news"}, "text": {"x"},
			"reply_markup": {`{"inline_keyboard":[[{"text":"go","url":"http://localhost/a"}]]}`}},
			400, "Bad Request: inline keyboard button URL 'http://localhost/a' is invalid: Wrong HTTP URL"},
		{"over 32 KiB", "/bot" + token + "/sendMessage", url.Values{"chat_id": {"@news"}, "text": {strings.Repeat("<b></b>", 5000)}, "parse_mode": {"HTML"}},
			400, "Bad Request: text is too long"},
		{"bad custom emoji", "/bot" + token + "/sendMessage", url.Values{"chat_id": {"@news"}, "text": {`<tg-emoji emoji-id="x">👍</tg-emoji>`}, "parse_mode": {"HTML"}},
			400, "Bad Request: can't parse entities: Invalid custom emoji identifier specified"},
		{"unknown parameter", "/bot" + token + "/sendMessage", url.Values{"chat_id": {"@news"}, "text": {"x"}, "disable_notifcation": {"true"}},
			400, `Bad Request: telegramtest: unknown parameter "disable_notifcation" for method sendMessage`},
		{"edit of an unknown message", "/bot" + token + "/editMessageText", url.Values{"chat_id": {"@news"}, "message_id": {"9"}, "text": {"x"}},
			400, "Bad Request: message to edit not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, a := post(t, s.URL()+tt.path, "application/x-www-form-urlencoded", strings.NewReader(tt.params.Encode()))
			if status != tt.status || a.OK || a.ErrorCode != tt.status || a.Description != tt.desc {
				t.Errorf("got %d %+v, want %d %q", status, a, tt.status, tt.desc)
			}
		})
	}
	if len(s.Messages()) != 0 {
		t.Errorf("refused messages were recorded: %+v", s.Messages())
	}
	if s.Calls("sendMessage") != 12 {
		t.Errorf("Calls(sendMessage) = %d", s.Calls("sendMessage"))
	}
}

func TestSendMessageAndEdit(t *testing.T) {
	s := NewServer(t, token)
	s.AddChat("@news")
	status, a := form(t, s, "sendMessage", url.Values{
		"chat_id": {"@news"}, "parse_mode": {"HTML"}, "text": {"  <b>Hi</b> &amp; <a href=\"https://x.org/?a=1&amp;b=2\">x</a>\n"},
		"disable_notification": {"true"},
	})
	if status != 200 || !a.OK {
		t.Fatalf("%d %+v", status, a)
	}
	var m struct {
		MessageID int `json:"message_id"`
		Chat      struct {
			ID       int64  `json:"id"`
			Username string `json:"username"`
		} `json:"chat"`
		Text     string `json:"text"`
		Entities []struct {
			Type   string `json:"type"`
			Offset int    `json:"offset"`
			Length int    `json:"length"`
			URL    string `json:"url"`
		} `json:"entities"`
	}
	if err := json.Unmarshal(a.Result, &m); err != nil {
		t.Fatal(err)
	}
	if m.MessageID != 1 || m.Chat.Username != "news" || m.Text != "Hi & x" || len(m.Entities) != 2 ||
		m.Entities[1].Type != "text_link" || m.Entities[1].Offset != 5 || m.Entities[1].URL != "https://x.org/?a=1&b=2" {
		t.Errorf("message %+v", m)
	}

	// The same request as JSON, with the chat's numeric id.
	body := `{"chat_id":` + itoa(m.Chat.ID) + `,"text":"second","reply_markup":{"inline_keyboard":[[{"text":"Read","url":"https://x.org"}]]}}`
	if status, a := post(t, s.URL()+"/bot"+token+"/sendMessage", "application/json", strings.NewReader(body)); status != 200 {
		t.Fatalf("%d %+v", status, a)
	}
	if status, a := form(t, s, "editMessageText", url.Values{"chat_id": {"@news"}, "message_id": {"1"}, "text": {"edited"}}); status != 200 {
		t.Fatalf("%d %+v", status, a)
	}
	if _, a := form(t, s, "editMessageText", url.Values{"chat_id": {"@news"}, "message_id": {"1"}, "text": {"edited"}}); !strings.HasPrefix(a.Description, "Bad Request: message is not modified") {
		t.Errorf("same edit: %+v", a)
	}
	msgs := s.Messages()
	if len(msgs) != 2 || msgs[0].Text != "edited" || msgs[0].Edits != 1 || msgs[1].ID != 2 ||
		msgs[1].Options["reply_markup"] != `{"inline_keyboard":[[{"text":"Read","url":"https://x.org"}]]}` {
		t.Errorf("messages %+v", msgs)
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestSendPhoto(t *testing.T) {
	s := NewServer(t, token)
	s.AddChat("@news")
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	send := func(caption string, photo []byte) (int, answer) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		_ = w.WriteField("chat_id", "@news")
		_ = w.WriteField("caption", caption)
		_ = w.WriteField("parse_mode", "HTML")
		part, _ := w.CreateFormFile("photo", "a.png")
		_, _ = part.Write(photo)
		_ = w.Close()
		return post(t, s.URL()+"/bot"+token+"/sendPhoto", w.FormDataContentType(), &b)
	}
	if status, a := send("<i>caption</i>", png); status != 200 {
		t.Fatalf("%d %+v", status, a)
	}
	if _, a := send(strings.Repeat("x", 1025), png); a.Description != "Bad Request: message caption is too long" {
		t.Errorf("long caption: %+v", a)
	}
	if _, a := send("x", []byte("not an image")); a.Description != "Bad Request: IMAGE_PROCESS_FAILED" {
		t.Errorf("not an image: %+v", a)
	}
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a.png":
			_, _ = w.Write(png)
		case "/page.html":
			_, _ = w.Write([]byte("<!doctype html><title>not an image</title>"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer site.Close()
	if status, a := form(t, s, "sendPhoto", url.Values{"chat_id": {"@news"}, "photo": {site.URL + "/a.png"}}); status != 200 {
		t.Errorf("photo by URL: %d %+v", status, a)
	}
	for path, want := range map[string]string{
		"/page.html": "Bad Request: wrong type of the web page content",
		"/missing":   "Bad Request: failed to get HTTP URL content",
	} {
		if _, a := form(t, s, "sendPhoto", url.Values{"chat_id": {"@news"}, "photo": {site.URL + path}}); a.Description != want {
			t.Errorf("photo %s: %+v, want %q", path, a, want)
		}
	}
	if status, a := form(t, s, "editMessageCaption", url.Values{"chat_id": {"@news"}, "message_id": {"1"}, "caption": {"new"}}); status != 200 {
		t.Errorf("editMessageCaption: %d %+v", status, a)
	}
	if _, a := form(t, s, "editMessageCaption", url.Values{"chat_id": {"@news"}, "message_id": {"1"}, "caption": {"new"}}); !strings.HasPrefix(a.Description, "Bad Request: message is not modified") {
		t.Errorf("same caption: %+v", a)
	}
	if _, a := form(t, s, "editMessageCaption", url.Values{"chat_id": {"@news"}, "message_id": {"1"}, "caption": {strings.Repeat("é", 1025)}}); a.Description != "Bad Request: message caption is too long" {
		t.Errorf("long caption edit: %+v", a)
	}
	if _, a := form(t, s, "editMessageText", url.Values{"chat_id": {"@news"}, "message_id": {"1"}, "text": {"x"}}); a.Description != "Bad Request: there is no text in the message to edit" {
		t.Errorf("editMessageText of a photo: %+v", a)
	}
	msgs := s.Messages()
	if len(msgs) != 2 || !bytes.Equal(msgs[0].PhotoUpload, png) || msgs[0].Plain != "new" || msgs[1].Photo != site.URL+"/a.png" ||
		!bytes.Equal(msgs[1].PhotoFetched, png) {
		t.Errorf("messages %+v", msgs)
	}
}

func TestReplies(t *testing.T) {
	s := NewServer(t, token)
	s.AddChat("@news")
	if status, a := form(t, s, "sendMessage", url.Values{"chat_id": {"@news"}, "text": {"first"}}); status != 200 {
		t.Fatalf("%d %+v", status, a)
	}
	if status, a := form(t, s, "sendMessage", url.Values{"chat_id": {"@news"}, "text": {"reply"}, "reply_parameters": {`{"message_id":1}`}}); status != 200 ||
		!strings.Contains(string(a.Result), `"reply_to_message":{`) {
		t.Fatalf("%d %+v", status, a)
	}
	if status, a := form(t, s, "sendMessage", url.Values{"chat_id": {"@news"}, "text": {"old style"}, "reply_to_message_id": {"2"}}); status != 200 {
		t.Fatalf("%d %+v", status, a)
	}
	if _, a := form(t, s, "sendMessage", url.Values{"chat_id": {"@news"}, "text": {"x"}, "reply_parameters": {`{"message_id":99}`}}); a.Description != "Bad Request: message to be replied not found" {
		t.Errorf("reply to a missing message: %+v", a)
	}
	if status, a := form(t, s, "sendMessage", url.Values{"chat_id": {"@news"}, "text": {"x"}, "reply_parameters": {`{"message_id":99,"allow_sending_without_reply":true}`}}); status != 200 {
		t.Errorf("allowed without reply: %d %+v", status, a)
	}
	if _, a := form(t, s, "sendMessage", url.Values{"chat_id": {"@news"}, "text": {"x"}, "reply_parameters": {`[1]`}}); a.Description != "Bad Request: can't parse reply parameters JSON object" {
		t.Errorf("bad reply_parameters: %+v", a)
	}
	msgs := s.Messages()
	if len(msgs) != 4 || msgs[1].ReplyTo != 1 || msgs[2].ReplyTo != 2 || msgs[3].ReplyTo != 0 {
		t.Errorf("messages %+v", msgs)
	}
}

func TestMigrateChat(t *testing.T) {
	s := NewServer(t, token)
	s.AddChat("-4001234")
	to := s.MigrateChat("-4001234")
	resp, err := http.PostForm(s.URL()+"/bot"+token+"/sendMessage", url.Values{"chat_id": {"-4001234"}, "text": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	var a struct {
		Description string `json:"description"`
		Parameters  struct {
			MigrateToChatID int64 `json:"migrate_to_chat_id"`
		} `json:"parameters"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&a)
	resp.Body.Close()
	if resp.StatusCode != 400 || a.Description != "Bad Request: group chat was upgraded to a supergroup chat" || a.Parameters.MigrateToChatID != to {
		t.Errorf("%d %+v", resp.StatusCode, a)
	}
	if status, a := form(t, s, "sendMessage", url.Values{"chat_id": {itoa(to)}, "text": {"x"}}); status != 200 {
		t.Errorf("new chat: %d %+v", status, a)
	}
}

func TestFloodWait(t *testing.T) {
	s := NewServer(t, token)
	s.AddChat("@news")
	s.FloodWait(1, 7)
	resp, err := http.PostForm(s.URL()+"/bot"+token+"/sendMessage", url.Values{"chat_id": {"@news"}, "text": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || string(b) != `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}` {
		t.Errorf("%d %s", resp.StatusCode, b)
	}
}

func TestFailureInjection(t *testing.T) {
	s := NewServer(t, token)
	s.AddChat("@news")
	s.FailNext(1, 502, "<html>Bad Gateway</html>")
	resp, err := http.PostForm(s.URL()+"/bot"+token+"/getMe", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 502 || string(b) != "<html>Bad Gateway</html>" {
		t.Errorf("got %d %q", resp.StatusCode, b)
	}

	s.DropAfterAccept(1)
	if _, err := http.PostForm(s.URL()+"/bot"+token+"/sendMessage", url.Values{"chat_id": {"@news"}, "text": {"x"}}); err == nil {
		t.Fatal("an answer came back")
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages recorded, want the dropped one", n)
	}
	if status, _ := form(t, s, "getMe", nil); status != 200 {
		t.Errorf("server still failing: %d", status)
	}
}

func TestBotRights(t *testing.T) {
	s := NewServer(t, token)
	s.AddChat("@news")
	tests := []struct {
		status string
		code   int
		desc   string
	}{
		{"member", 400, "Bad Request: need administrator rights in the channel chat"},
		{"left", 403, "Forbidden: bot is not a member of the channel chat"},
		{"kicked", 403, "Forbidden: bot was kicked from the channel chat"},
	}
	for _, tt := range tests {
		s.SetBotStatus("@news", tt.status)
		if code, a := form(t, s, "sendMessage", url.Values{"chat_id": {"@news"}, "text": {"x"}}); code != tt.code || a.Description != tt.desc {
			t.Errorf("%s: %d %q", tt.status, code, a.Description)
		}
	}
	s.SetBotStatus("@news", "administrator")
	s.SetCanPost("@news", false)
	if code, a := form(t, s, "sendMessage", url.Values{"chat_id": {"@news"}, "text": {"x"}}); code != 400 || a.Description != "Bad Request: not enough rights to send text messages to the chat" {
		t.Errorf("administrator without the right to post: %d %q", code, a.Description)
	}
	if _, a := form(t, s, "getChatMember", url.Values{"chat_id": {"@news"}, "user_id": {"42"}}); !strings.Contains(string(a.Result), `"can_post_messages":false`) {
		t.Errorf("getChatMember: %s", a.Result)
	}
	s.AddChat("-4001")
	s.SetCanPost("-4001", false)
	if code, a := form(t, s, "sendPhoto", url.Values{"chat_id": {"-4001"}, "photo": {"x"}}); code != 400 || a.Description != "Bad Request: not enough rights to send photos to the chat" {
		t.Errorf("restricted member: %d %q", code, a.Description)
	}
	if _, a := form(t, s, "getChatMember", url.Values{"chat_id": {"-4001"}, "user_id": {"42"}}); !strings.Contains(string(a.Result), `"status":"restricted"`) {
		t.Errorf("getChatMember: %s", a.Result)
	}
}

// The server parses as Telegram does (tdlib's rules): it keeps what
// Telegram keeps and refuses what it refuses.
func TestParseHTML(t *testing.T) {
	tests := []struct {
		in, plain, err string
	}{
		{in: "plain text", plain: "plain text"},
		{in: "<b>bold</b> <i>it</i> <u>u</u> <s>s</s> <tg-spoiler>x</tg-spoiler> <span class=\"tg-spoiler\">y</span>", plain: "bold it u s x y"},
		{in: `<a href="https://x.org/?a=1&amp;b=&quot;2&quot;">link</a>`, plain: "link"},
		{in: "<pre><code class=\"language-go\">x &lt; y</code></pre>", plain: "x < y"},
		{in: "<blockquote expandable>q</blockquote>", plain: "q"},
		{in: `<blockquote cite="" x>q</blockquote>`, plain: "q"},
		{in: `<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> <tg-time unix="1700000000" format="wDT">then</tg-time>`, plain: "👍 then"},
		{in: "&lt;&gt;&amp;&quot;&#65;&#x42;", plain: `<>&"AB`},
		{in: "a > b", plain: "a > b"},
		{in: "<B>caps</B>", plain: "caps"},
		{in: "<b>x</>", plain: "x"},
		{in: "<b foo>x</b>", plain: "x"},
		// Telegram keeps a "&" that starts no reference, and reads one
		// without ";".
		{in: "Q&A", plain: "Q&A"},
		{in: "&nbsp; &#0;", plain: "&nbsp; &#0;"},
		{in: "&lt", plain: "<"},
		{in: "a < b", err: `Unsupported start tag "" at byte offset 2`},
		{in: "&#xD800;", err: "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units"},
		{in: "<script>x</script>", err: `Unsupported start tag "script" at byte offset 0`},
		{in: "<b>x", err: `Can't find end tag corresponding to start tag "b"`},
		{in: "<b><i>x</b></i>", err: `Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`},
		{in: "x</b>", err: "Unexpected end tag at byte offset 1"},
		{in: "<b", err: "Unclosed start tag at byte offset 0"},
		{in: "<b>x</b", err: "Unclosed end tag at byte offset 4"},
		{in: `<a href="x>y</a>`, err: "Unclosed start tag at byte offset 0"},
		{in: "<span>x</span>", err: `Tag "span" must have class "tg-spoiler" at byte offset 0`},
		{in: `<tg-time unix="1" format="x">t</tg-time>`, err: "Invalid date format used"},
		{in: "\xff", err: "Text must be encoded in UTF-8"},
	}
	for _, tt := range tests {
		plain, err := ParseHTML(tt.in)
		switch {
		case tt.err == "" && (err != nil || plain != tt.plain):
			t.Errorf("ParseHTML(%q) = %q, %v; want %q", tt.in, plain, err, tt.plain)
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("ParseHTML(%q) = %q, %v; want error %q", tt.in, plain, err, tt.err)
		}
	}
}

// What the server answers for a text with the entities Telegram makes.
func TestEntitiesAsTelegramMakesThem(t *testing.T) {
	s := NewServer(t, token)
	s.AddChat("@news")
	_, a := form(t, s, "sendMessage", url.Values{"chat_id": {"@news"}, "parse_mode": {"HTML"},
		"text": {`<a href="HTTPS://X.org">x</a> <a href="http://localhost/">l</a> <a>y.org</a> <a href="tg://user?id=7">u</a> ` +
			`<pre><code class="language-go">g</code></pre> <tg-emoji emoji-id="12">e</tg-emoji> <tg-time unix="9" format="tD">d</tg-time>`}})
	var m struct {
		Text     string           `json:"text"`
		Entities []map[string]any `json:"entities"`
	}
	if err := json.Unmarshal(a.Result, &m); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(m.Entities)
	want := `[{"length":1,"offset":0,"type":"text_link","url":"https://x.org/"},` +
		`{"length":5,"offset":4,"type":"text_link","url":"http://y.org/"},` +
		`{"length":1,"offset":10,"type":"text_mention","user":{"id":7}},` +
		`{"language":"go","length":1,"offset":12,"type":"pre"},` +
		`{"custom_emoji_id":"12","length":1,"offset":14,"type":"custom_emoji"},` +
		`{"date_time_format":"Dt","length":1,"offset":16,"type":"date_time","unix_time":9}]`
	if m.Text != "x l y.org u g e d" || string(got) != want {
		t.Errorf("text %q, entities\n%s\nwant\n%s", m.Text, got, want)
	}
}

func FuzzParseHTML(f *testing.F) {
	for _, s := range []string{"<b>x</b>", `<a href="h&amp;">l</a>`, "<pre><code class=\"language-go\">x</code></pre>",
		"&#x1F600;&#128512;", "<b><i>x</b>", "<blockquote expandable>q</blockquote>", "<span class=tg-spoiler>s</span>", "\xff<"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		plain, err := ParseHTML(s)
		if err != nil {
			return
		}
		if !utf8.ValidString(plain) || len(plain) > len(s) {
			t.Fatalf("ParseHTML(%q) = %q", s, plain)
		}
		if !strings.ContainsAny(s, "<&") && plain != s {
			t.Fatalf("text without markup changed: %q → %q", s, plain)
		}
	})
}
