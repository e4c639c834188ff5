package telegramtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/syndicate-daemon/syndicate/channels/telegram/internal/tghtml"
)

const (
	textLimit    = 4096
	captionLimit = 1024
)

type method struct {
	name   string
	params []string
	// changes is set for the methods that send or edit a message:
	// DropAfterAccept applies to them.
	changes bool
	// takesAttachments allows file parts under any name, for attach://name.
	takesAttachments bool
	handle           func(*Server, *request) (any, *apiError)
}

func (m method) takes(param string) bool {
	for _, p := range m.params {
		if p == param {
			return true
		}
	}
	return false
}

// lookupMethod finds a method by name, case-insensitively like Telegram.
func lookupMethod(name string) (method, bool) {
	sendCommon := []string{"business_connection_id", "chat_id", "message_thread_id", "direct_messages_topic_id",
		"parse_mode", "disable_notification", "protect_content", "allow_paid_broadcast", "message_effect_id",
		"suggested_post_parameters", "reply_parameters", "reply_to_message_id", "allow_sending_without_reply", "reply_markup"}
	switch strings.ToLower(name) {
	case "getme":
		return method{name: "getMe", handle: (*Server).getMe}, true
	case "getchat":
		return method{name: "getChat", params: []string{"chat_id"}, handle: (*Server).getChat}, true
	case "getchatmember":
		return method{name: "getChatMember", params: []string{"chat_id", "user_id"}, handle: (*Server).getChatMember}, true
	case "sendmessage":
		return method{name: "sendMessage", changes: true, handle: (*Server).sendMessage,
			params: append(sendCommon, "text", "entities", "link_preview_options", "disable_web_page_preview")}, true
	case "sendphoto":
		return method{name: "sendPhoto", changes: true, takesAttachments: true, handle: (*Server).sendPhoto,
			params: append(sendCommon, "photo", "caption", "caption_entities", "show_caption_above_media", "has_spoiler")}, true
	case "editmessagetext":
		return method{name: "editMessageText", changes: true, handle: (*Server).editMessageText,
			params: []string{"business_connection_id", "chat_id", "message_id", "inline_message_id", "text", "parse_mode",
				"entities", "link_preview_options", "disable_web_page_preview", "reply_markup"}}, true
	case "editmessagecaption":
		return method{name: "editMessageCaption", changes: true, handle: (*Server).editMessageCaption,
			params: []string{"business_connection_id", "chat_id", "message_id", "inline_message_id", "caption", "parse_mode",
				"caption_entities", "show_caption_above_media", "reply_markup"}}, true
	}
	return method{}, false
}

func (s *Server) botJSON() map[string]any {
	return map[string]any{"id": s.botID, "is_bot": true, "first_name": "Syndicate Test", "username": BotUsername}
}

func (s *Server) getMe(*request) (any, *apiError) {
	me := s.botJSON()
	me["can_join_groups"] = true
	me["can_read_all_group_messages"] = false
	me["supports_inline_queries"] = false
	return me, nil
}

func (c *chat) json() map[string]any {
	out := map[string]any{"id": c.id, "type": c.kind}
	if c.kind == "private" {
		out["first_name"] = "User " + c.name
	} else {
		out["title"] = "Test " + c.name
	}
	if c.username != "" {
		out["username"] = c.username
	}
	return out
}

func (s *Server) findChat(r *request) (*chat, *apiError) {
	id := strings.TrimSpace(r.params["chat_id"])
	if id == "" {
		return nil, badRequest("chat_id is empty")
	}
	for _, c := range s.chats {
		if name, ok := strings.CutPrefix(id, "@"); ok {
			if c.username != "" && strings.EqualFold(c.username, name) {
				return c, nil
			}
		} else if n, err := strconv.ParseInt(id, 10, 64); err == nil && n == c.id {
			return c, nil
		}
	}
	return nil, badRequest("chat not found")
}

// mayPost answers what Telegram answers when the bot may not send (or
// edit) what in c: "text messages" or "photos".
func (c *chat) mayPost(what string) *apiError {
	if c.migratedTo != 0 {
		return &apiError{code: 400, desc: "Bad Request: group chat was upgraded to a supergroup chat", migrateTo: c.migratedTo}
	}
	kind := "group"
	if c.kind == "channel" {
		kind = "channel"
	}
	notEnough := badRequest("not enough rights to send " + what + " to the chat")
	switch c.botStatus {
	case "creator":
		return nil
	case "administrator":
		if !c.canPost {
			return notEnough
		}
		return nil
	case "member":
		if c.kind == "channel" {
			return badRequest("need administrator rights in the channel chat")
		}
		return nil
	case "restricted":
		if !c.canPost {
			return notEnough
		}
		return nil
	case "kicked":
		if c.kind == "private" {
			return &apiError{code: 403, desc: "Forbidden: bot was blocked by the user"}
		}
		return &apiError{code: 403, desc: "Forbidden: bot was kicked from the " + kind + " chat"}
	}
	return &apiError{code: 403, desc: "Forbidden: bot is not a member of the " + kind + " chat"}
}

func (s *Server) getChat(r *request) (any, *apiError) {
	c, err := s.findChat(r)
	if err != nil {
		return nil, err
	}
	return c.json(), nil
}

func (s *Server) getChatMember(r *request) (any, *apiError) {
	c, err := s.findChat(r)
	if err != nil {
		return nil, err
	}
	uid, ok := r.int64Param("user_id")
	if !ok {
		return nil, badRequest("invalid user_id specified")
	}
	if uid != s.botID {
		return nil, badRequest("user not found")
	}
	m := map[string]any{"status": c.botStatus, "user": s.botJSON()}
	switch c.botStatus {
	case "administrator":
		m["can_be_edited"] = false
		m["is_anonymous"] = false
		m["can_manage_chat"] = true
		m["can_delete_messages"] = true
		if c.kind == "channel" {
			m["can_post_messages"] = c.canPost
			m["can_edit_messages"] = true
		}
	case "restricted":
		m["is_member"] = true
		m["can_send_messages"] = c.canPost
		m["can_send_photos"] = c.canPost
		m["until_date"] = 0
	}
	return m, nil
}

// maxTextBytes is the most bytes of a text or caption the Bot API takes
// before it parses it.
const maxTextBytes = 1 << 15

// parseText parses a text or caption in the request's parse mode with
// Telegram's own rules (tghtml.Parse), trims it as Telegram does, and
// checks its length.
func parseText(r *request, text string, limit int, tooLong string) (string, []tghtml.Entity, *apiError) {
	if len(text) > maxTextBytes {
		return "", nil, badRequest("text is too long")
	}
	plain, entities := text, []tghtml.Entity(nil)
	switch mode := r.params["parse_mode"]; strings.ToLower(mode) {
	case "":
	case "html":
		var err error
		plain, entities, err = tghtml.Parse(text)
		if errors.Is(err, tghtml.ErrNotUTF8) {
			return "", nil, badRequest("text must be encoded in UTF-8")
		}
		if err != nil {
			return "", nil, badRequest("can't parse entities: " + err.Error())
		}
	case "markdown", "markdownv2":
		return "", nil, badRequest("telegramtest: parse_mode " + mode + " is not implemented by the fake server")
	default:
		return "", nil, badRequest("unsupported parse_mode")
	}
	plain, entities = trim(plain, entities)
	if utf16Len(plain) > limit {
		return "", nil, badRequest(tooLong)
	}
	return plain, entities, nil
}

// trim removes surrounding white space and moves the entities with it.
func trim(plain string, entities []tghtml.Entity) (string, []tghtml.Entity) {
	left := strings.TrimLeftFunc(plain, unicode.IsSpace)
	shift := utf16Len(plain) - utf16Len(left)
	out := strings.TrimRightFunc(left, unicode.IsSpace)
	n := utf16Len(out)
	var kept []tghtml.Entity
	for _, e := range entities {
		start, end := max(e.Offset-shift, 0), min(e.Offset+e.Length-shift, n)
		if end > start {
			e.Offset, e.Length = start, end-start
			kept = append(kept, e)
		}
	}
	return out, kept
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func checkLinkPreview(r *request) *apiError {
	v, ok := r.params["link_preview_options"]
	if !ok {
		return nil
	}
	var o struct {
		IsDisabled       *bool   `json:"is_disabled"`
		URL              *string `json:"url"`
		PreferSmallMedia *bool   `json:"prefer_small_media"`
		PreferLargeMedia *bool   `json:"prefer_large_media"`
		ShowAboveText    *bool   `json:"show_above_text"`
	}
	if err := strictObject(v, &o); err != nil {
		return badRequest("can't parse link preview options JSON object")
	}
	return nil
}

func checkReplyMarkup(r *request) *apiError {
	v, ok := r.params["reply_markup"]
	if !ok {
		return nil
	}
	var m map[string]json.RawMessage
	if err := strictObject(v, &m); err != nil {
		return badRequest("can't parse reply keyboard markup JSON object")
	}
	raw, ok := m["inline_keyboard"]
	if !ok {
		for _, k := range []string{"keyboard", "remove_keyboard", "force_reply"} {
			if _, ok := m[k]; ok {
				return nil
			}
		}
		return badRequest("can't parse reply keyboard markup JSON object")
	}
	var rows [][]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &rows); err != nil {
		return badRequest("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
	}
	for _, row := range rows {
		for _, b := range row {
			var text string
			if err := json.Unmarshal(b["text"], &text); err != nil {
				return badRequest(`can't parse inline keyboard button: Field "text" must be of type String`)
			}
			if len(b) == 1 {
				return badRequest("text buttons are unallowed in the inline keyboard")
			}
			if rawURL, ok := b["url"]; ok {
				var u string
				if err := json.Unmarshal(rawURL, &u); err != nil {
					return badRequest(`can't parse inline keyboard button: Field "url" must be of type String`)
				}
				if _, err := tghtml.CheckLink(u); err != nil {
					return badRequest(fmt.Sprintf("inline keyboard button URL '%s' is invalid: %v", u, err))
				}
			}
		}
	}
	return nil
}

// strictObject decodes a JSON object, refusing anything else.
func strictObject(v string, dst any) error {
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(v, "{") {
		return fmt.Errorf("not an object")
	}
	return json.Unmarshal([]byte(v), dst)
}

func (s *Server) newMessage(c *chat, methodName string, r *request) *stored {
	c.nextID++
	m := &stored{chat: c, markup: r.params["reply_markup"]}
	m.ID = c.nextID
	m.Method = methodName
	m.Chat = c.name
	m.ParseMode = r.params["parse_mode"]
	m.Date = time.Now().Truncate(time.Second)
	return m
}

func (s *Server) messageJSON(m *stored) map[string]any {
	out := map[string]any{"message_id": m.ID, "chat": m.chat.json(), "date": m.Date.Unix()}
	if m.chat.kind == "channel" {
		out["sender_chat"] = m.chat.json()
	} else {
		out["from"] = s.botJSON()
	}
	if !m.edited.IsZero() {
		out["edit_date"] = m.edited.Unix()
	}
	if m.Method == "sendPhoto" {
		out["photo"] = []map[string]any{{"file_id": photoFileID(m), "file_unique_id": fmt.Sprintf("u%d", m.ID), "width": 90, "height": 90}}
		if m.Plain != "" {
			out["caption"] = m.Plain
		}
		if len(m.entities) > 0 {
			out["caption_entities"] = m.entities
		}
	} else {
		out["text"] = m.Plain
		if len(m.entities) > 0 {
			out["entities"] = m.entities
		}
		if lpo, ok := m.Options["link_preview_options"]; ok {
			out["link_preview_options"] = json.RawMessage(lpo)
		}
	}
	if m.markup != "" {
		out["reply_markup"] = json.RawMessage(m.markup)
	}
	if m.ReplyTo != 0 {
		for _, o := range s.messages {
			if o.chat == m.chat && o.ID == m.ReplyTo {
				out["reply_to_message"] = map[string]any{"message_id": o.ID, "chat": o.chat.json(), "date": o.Date.Unix()}
			}
		}
	}
	if t, ok := m.Options["message_thread_id"]; ok {
		out["message_thread_id"], _ = strconv.Atoi(t)
		out["is_topic_message"] = true
	}
	return out
}

func photoFileID(m *stored) string { return fmt.Sprintf("photo-%d-%d", m.chat.id, m.ID) }

// checkSendOptions validates what sendMessage and sendPhoto share.
func checkSendOptions(r *request) *apiError {
	if _, ok := r.params["message_thread_id"]; ok {
		if n, ok := r.int64Param("message_thread_id"); !ok || n <= 0 {
			return badRequest("message thread not found")
		}
	}
	for _, b := range []string{"disable_notification", "protect_content", "disable_web_page_preview", "has_spoiler", "show_caption_above_media"} {
		if _, err := r.boolParam(b); err != nil {
			return err
		}
	}
	if err := checkLinkPreview(r); err != nil {
		return err
	}
	return checkReplyMarkup(r)
}

// startSend does what every send checks first: the chat, the bot's right
// to post what, the options, and the message replied to.
func (s *Server) startSend(r *request, what string) (*chat, int, *apiError) {
	c, err := s.findChat(r)
	if err != nil {
		return nil, 0, err
	}
	if err := c.mayPost(what); err != nil {
		return nil, 0, err
	}
	if err := checkSendOptions(r); err != nil {
		return nil, 0, err
	}
	replyTo, err := s.replyTo(c, r)
	if err != nil {
		return nil, 0, err
	}
	return c, replyTo, nil
}

func (s *Server) sendMessage(r *request) (any, *apiError) {
	c, replyTo, err := s.startSend(r, "text messages")
	if err != nil {
		return nil, err
	}
	plain, entities, err := parseText(r, r.params["text"], textLimit, "message is too long")
	if err != nil {
		return nil, err
	}
	if plain == "" {
		return nil, badRequest("message text is empty")
	}
	m := s.newMessage(c, "sendMessage", r)
	m.Text, m.Plain, m.entities = r.params["text"], plain, entities
	m.ReplyTo = replyTo
	m.Options = r.options("text")
	s.messages = append(s.messages, m)
	return s.messageJSON(m), nil
}

func (s *Server) sendPhoto(r *request) (any, *apiError) {
	c, replyTo, err := s.startSend(r, "photos")
	if err != nil {
		return nil, err
	}
	plain, entities, err := parseText(r, r.params["caption"], captionLimit, "message caption is too long")
	if err != nil {
		return nil, err
	}
	photo, upload, err := s.photo(r)
	if err != nil {
		return nil, err
	}
	m := s.newMessage(c, "sendPhoto", r)
	m.Text, m.Plain, m.entities = r.params["caption"], plain, entities
	m.ReplyTo = replyTo
	m.Photo, m.PhotoUpload, m.PhotoFetched = photo, upload, r.fetched
	m.Options = r.options("caption", "photo")
	s.messages = append(s.messages, m)
	return s.messageJSON(m), nil
}

// photo finds the photo of a sendPhoto: an uploaded file (as the "photo"
// part or attach://name), an HTTP URL (fetched, and refused unless it is
// an image), or a known file id.
func (s *Server) photo(r *request) (string, []byte, *apiError) {
	data, uploaded := r.files["photo"]
	v, given := r.params["photo"]
	if name, ok := strings.CutPrefix(v, "attach://"); ok {
		data, uploaded = r.files[name]
		v, given = "", false
	}
	switch {
	case uploaded:
		if !strings.HasPrefix(http.DetectContentType(data), "image/") {
			return "", nil, badRequest("IMAGE_PROCESS_FAILED")
		}
		return "", data, nil
	case !given || v == "":
		return "", nil, badRequest("there is no photo in the request")
	case strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://"):
		if r.fetchErr != nil {
			return "", nil, r.fetchErr
		}
		return v, nil, nil
	}
	for _, m := range s.messages {
		if m.Method == "sendPhoto" && photoFileID(m) == v {
			return v, nil, nil
		}
	}
	return "", nil, badRequest("wrong file identifier/HTTP URL specified")
}

// replyTo finds the message a send answers, from reply_parameters or
// reply_to_message_id: 0 when none, or when it is not found and sending
// without it is allowed.
func (s *Server) replyTo(c *chat, r *request) (int, *apiError) {
	var id int64
	allow, err := r.boolParam("allow_sending_without_reply")
	if err != nil {
		return 0, err
	}
	if v, ok := r.params["reply_parameters"]; ok {
		var p struct {
			MessageID                *int64          `json:"message_id"`
			ChatID                   json.RawMessage `json:"chat_id"`
			AllowSendingWithoutReply bool            `json:"allow_sending_without_reply"`
			Quote                    *string         `json:"quote"`
		}
		if strictObject(v, &p) != nil || p.MessageID == nil {
			return 0, badRequest("can't parse reply parameters JSON object")
		}
		if p.ChatID != nil {
			return 0, badRequest("telegramtest: reply_parameters.chat_id is not implemented by the fake server")
		}
		id, allow = *p.MessageID, allow || p.AllowSendingWithoutReply
	} else if _, ok := r.params["reply_to_message_id"]; ok {
		n, ok := r.int64Param("reply_to_message_id")
		if !ok {
			return 0, badRequest("can't parse reply_to_message_id")
		}
		id = n
	} else {
		return 0, nil
	}
	for _, m := range s.messages {
		if m.chat == c && int64(m.ID) == id {
			return m.ID, nil
		}
	}
	if allow {
		return 0, nil
	}
	return 0, badRequest("message to be replied not found")
}

func (s *Server) findMessage(r *request) (*stored, *apiError) {
	if _, ok := r.params["inline_message_id"]; ok {
		return nil, badRequest("telegramtest: inline messages are not implemented by the fake server")
	}
	c, err := s.findChat(r)
	if err != nil {
		return nil, err
	}
	if err := c.mayPost("text messages"); err != nil {
		return nil, err
	}
	id, ok := r.int64Param("message_id")
	if !ok {
		return nil, badRequest("message identifier is not specified")
	}
	for _, m := range s.messages {
		if m.chat == c && int64(m.ID) == id {
			return m, nil
		}
	}
	return nil, badRequest("message to edit not found")
}

func (s *Server) editMessageText(r *request) (any, *apiError) {
	m, err := s.findMessage(r)
	if err != nil {
		return nil, err
	}
	if m.Method != "sendMessage" {
		return nil, badRequest("there is no text in the message to edit")
	}
	if err := checkLinkPreview(r); err != nil {
		return nil, err
	}
	if err := checkReplyMarkup(r); err != nil {
		return nil, err
	}
	plain, entities, err := parseText(r, r.params["text"], textLimit, "message is too long")
	if err != nil {
		return nil, err
	}
	if plain == "" {
		return nil, badRequest("message text is empty")
	}
	return s.applyEdit(m, r, "text", plain, entities)
}

func (s *Server) editMessageCaption(r *request) (any, *apiError) {
	m, err := s.findMessage(r)
	if err != nil {
		return nil, err
	}
	if m.Method != "sendPhoto" {
		return nil, badRequest("there is no caption in the message to edit")
	}
	if err := checkReplyMarkup(r); err != nil {
		return nil, err
	}
	plain, entities, err := parseText(r, r.params["caption"], captionLimit, "message caption is too long")
	if err != nil {
		return nil, err
	}
	return s.applyEdit(m, r, "caption", plain, entities)
}

// applyEdit replaces the message's content. As in Telegram, an edit without
// reply_markup removes the inline keyboard, and an edit that changes nothing
// is refused.
func (s *Server) applyEdit(m *stored, r *request, field, plain string, entities []tghtml.Entity) (any, *apiError) {
	markup := r.params["reply_markup"]
	before, _ := json.Marshal(m.entities)
	after, _ := json.Marshal(entities)
	if plain == m.Plain && bytes.Equal(before, after) && markup == m.markup {
		return nil, badRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
	}
	m.Text, m.Plain, m.entities, m.markup = r.params[field], plain, entities, markup
	m.ParseMode = r.params["parse_mode"]
	m.Options = r.options(field, "message_id")
	m.Edits++
	m.edited = time.Now().Truncate(time.Second)
	return s.messageJSON(m), nil
}
